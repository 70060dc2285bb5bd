/**
 * Create a Kubeflow Pipelines runtime configuration in the sidebar (pointing at the KFP API test server and
 * moto_server), test its connection, see the result marked stale once its form changes, submit the example pipeline
 * to it, and see the run URL and experiment id. The form, the panel and the Run and Export dialogs are taken in the
 * light and the dark theme.
 */
import {
  dialog,
  expandSection,
  expect,
  openPipeline,
  runFromView,
  saveScreenshot,
  saveScreenshotsInBothThemes,
  showSidebar,
  test
} from './fixtures';

test('a new KFP configuration takes a submission to the KFP test server', async ({ lab: page, servers }, testInfo) => {
  const { kfp, s3 } = servers;
  // Unique, so that the test can be repeated on the same server (`--repeat-each`).
  const DISPLAY_NAME = `UI tests KFP ${Date.now().toString(36)}`;

  // Create the configuration.
  const sidebar = await showSidebar(page);
  await expandSection(sidebar, 'Runtime Configurations');
  const configs = sidebar.getByTestId('elyra-proc-configs-panel');
  await configs.getByRole('button', { name: 'New runtime configuration' }).click();
  const editor = page.getByTestId('elyra-proc-config-editor');
  await expect(editor).toBeVisible();
  await expect(editor.getByRole('form', { name: 'New Kubeflow Pipelines configuration' })).toBeVisible();
  const field = (label: string) => editor.getByLabel(label, { exact: true });
  await field('Display name').fill(DISPLAY_NAME);
  await field('Kubeflow Pipelines API endpoint').fill(kfp.endpoint);
  // Choices are shown with the schema's titles, never as the stored identifiers (DEX_STATIC_PASSWORDS).
  const authTypes = await field('Authentication').locator('option').allTextContents();
  expect(authTypes).toEqual(expect.arrayContaining(['No authentication', 'Dex static passwords', 'Dex LDAP']));
  expect(authTypes.filter(text => /^[A-Z_]+$/.test(text))).toEqual([]);
  await expect(field('Authentication').locator('option:checked')).toHaveText('No authentication');
  // Credentials appear only for the authentication types that use them.
  await expect(field('Password or token')).toHaveCount(0);
  await field('Authentication').selectOption({ label: 'Dex static passwords' });
  await expect(field('Authentication').locator('option:checked')).toHaveText('Dex static passwords');
  await expect(field('Username')).toBeVisible();
  await field('Authentication').selectOption({ label: 'Existing bearer token' });
  await expect(field('Username')).toHaveCount(0);
  await expect(editor.getByText('Password or token', { exact: true })).toBeVisible();
  await field('Password or token').fill(kfp.token);
  await field('Time-out (seconds)').fill('30');
  await field('Object storage endpoint').fill(s3.endpoint);
  await field('Object storage bucket').fill(s3.bucket);
  await field('Object storage credentials').selectOption({ label: 'User credentials' });
  await expect(field('Kubernetes secret')).toHaveCount(0);
  await field('Access key').fill(s3.access_key);
  await field('Secret key').fill(s3.secret_key);
  await field('Display name').scrollIntoViewIfNeeded();
  await saveScreenshotsInBothThemes(page, testInfo, '05-kfp-configuration-form');
  await editor.getByTestId('elyra-proc-config-save').click();
  await expect(editor).toBeHidden();

  const config = configs.locator('[data-config-name]').filter({ hasText: DISPLAY_NAME });
  await expect(config).toHaveCount(1);
  const name = (await config.getAttribute('data-config-name'))!;
  await expect(config).toContainText(kfp.endpoint);
  // Saved with the stored identifiers, as Elyra writes them.
  const stored = await page.request.get(
    `${servers.jupyter.url}/pipeline/runtime-configs/${name}?token=${servers.jupyter.token}`
  );
  expect((await stored.json()).metadata).toMatchObject({
    auth_type: 'EXISTING_BEARER_TOKEN',
    cos_auth_type: 'USER_CREDENTIALS',
    engine: 'Argo'
  });
  const testButton = config.getByRole('button', { name: `Test the connection of ${DISPLAY_NAME}` });
  await testButton.click();
  const tested = config.getByTestId(`elyra-proc-config-test-result-${name}`);
  await expect(tested).toHaveAttribute('data-ok', 'true', { timeout: 60_000 });
  await expect(tested).toHaveAttribute('data-stale', 'false');

  // Editing the configuration makes that result stale (it tested the stored settings); a new test is current again.
  await config.getByRole('button', { name: `Edit ${DISPLAY_NAME}` }).click();
  await expect(editor).toBeVisible();
  await expect(tested).toHaveAttribute('data-stale', 'false'); // opening the form (rjsf filling defaults) is no edit
  await field('Description').fill('Edited after the test');
  await expect(tested).toHaveAttribute('data-stale', 'true');
  await expect(tested).toContainText('Stale');
  await expect(tested).toHaveAttribute('data-ok', 'true');
  await saveScreenshotsInBothThemes(page, testInfo, '05-kfp-connection-test-stale');
  await editor.getByTestId('elyra-proc-config-cancel').click();
  await expect(editor).toBeHidden();
  await testButton.click();
  await expect(tested).toHaveAttribute('data-stale', 'false', { timeout: 60_000 });
  await expect(tested).toHaveAttribute('data-ok', 'true', { timeout: 60_000 });
  await expect(tested).not.toContainText('Stale');

  // Submit the example pipeline to it; first the Run and Export dialogs' pictures.
  const view = await openPipeline(page, servers.workspace.pipeline);
  for (const [button, form, picture] of [
    ['elyra-proc-run-button', 'elyra-proc-run-dialog', '05-kfp-run-dialog'],
    ['elyra-proc-export-button', 'elyra-proc-export-dialog', '05-kfp-export-dialog']
  ]) {
    await saveScreenshotsInBothThemes(
      page,
      testInfo,
      picture,
      async () => {
        await view.getByTestId(button).click();
        await expect(page.getByTestId(form)).toBeVisible();
      },
      async () => {
        await page.locator('.jp-Dialog').getByRole('button', { name: 'Cancel' }).click();
        await expect(page.getByTestId(form)).toHaveCount(0);
      }
    );
  }
  // A runtime configuration offers the experiment, by default the pipeline's name; run in another one.
  const EXPERIMENT = `ui-tests-experiment-${Date.now().toString(36)}`;
  await runFromView(page, view, `${DISPLAY_NAME} (Kubeflow Pipelines)`, async form => {
    const experimentField = form.getByLabel('Experiment');
    await expect(experimentField).toHaveAttribute('data-testid', 'elyra-proc-run-experiment');
    await expect(experimentField).toHaveValue('hello_pipeline');
    await experimentField.fill(EXPERIMENT);
  });
  const submitted = dialog(page, 'Pipeline submitted');
  await expect(submitted).toBeVisible({ timeout: 120_000 });
  await expect(submitted.getByTestId('elyra-proc-result-status')).toContainText('submitted');
  const runUrl = submitted.getByTestId('elyra-proc-result-run-url');
  await expect(runUrl).toHaveAttribute('href', new RegExp(`^${kfp.endpoint}/#/runs/details/[-0-9a-f]+$`));
  const href = (await runUrl.getAttribute('href'))!;
  await expect(runUrl).toHaveText(href);
  const experimentId = (await submitted.getByTestId('elyra-proc-result-experiment-id').textContent())!.trim();
  const kfpRunId = (await submitted.getByTestId('elyra-proc-result-kfp-run-id').textContent())!.trim();
  expect(href.endsWith(`/#/runs/details/${kfpRunId}`)).toBe(true);
  await expect(submitted.getByTestId('elyra-proc-result-experiment-name')).toHaveText(EXPERIMENT);

  // They are the KFP test server's: the run exists there, in that experiment.
  const headers = { Authorization: `Bearer ${kfp.token}` };
  const experiment = await page.request.get(`${kfp.endpoint}/apis/v2beta1/experiments/${experimentId}`, { headers });
  expect(experiment.status()).toBe(200);
  expect((await experiment.json()).display_name).toBe(EXPERIMENT);
  const kfpRun = await page.request.get(`${kfp.endpoint}/apis/v2beta1/runs/${kfpRunId}`, { headers });
  expect(kfpRun.status()).toBe(200);
  expect((await kfpRun.json()).experiment_id).toBe(experimentId);

  await saveScreenshot(page, testInfo, '06-kfp-submitted');

  // In the Runs panel: the run on that configuration, with its link to KFP.
  const runId = (await submitted.getByTestId('elyra-proc-result-run-id').textContent())!.trim();
  await submitted.getByRole('button', { name: 'Show the run in the Pipeline Runs panel' }).click();
  await expect(submitted).toBeHidden();
  const run = sidebar.getByTestId(`elyra-proc-run-${runId}`);
  await expect(run).toBeVisible();
  await expect(run).toContainText(`${name} (kfp)`);
  await expect(run.getByTestId(`elyra-proc-run-kfp-link-${runId}`)).toHaveAttribute('href', href);
  await expect(run.getByTestId(`elyra-proc-run-details-${runId}`)).toContainText('hello_pipeline');
  // The test server runs it for real: it ends succeeded, as KFP reports it.
  await expect(run).toHaveAttribute('data-status', 'succeeded', { timeout: 180_000 });
  await saveScreenshot(page, testInfo, '07-kfp-run-in-runs-panel');
});
