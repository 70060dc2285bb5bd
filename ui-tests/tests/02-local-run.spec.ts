/**
 * Run the example pipeline on the local runtime from its editor and watch it in the Pipeline Runs panel until
 * every node has succeeded; the canvas shows the same states. Takes the README's screenshots of the editor after
 * the run, in the light and the dark theme.
 */
import { canvasNode, chooseTheme, dialog, expect, openPipeline, runFromView, saveScreenshot, test } from './fixtures';

const NODES = ['generate', 'summarize', 'per-station', 'report'];

test('a local run of the example pipeline succeeds node by node in the Runs panel', async ({
  lab: page,
  servers
}, testInfo) => {
  const view = await openPipeline(page, servers.workspace.pipeline);
  await runFromView(page, view, /^Local\b/, async form => {
    // The experiment is for runtime configurations (Kubeflow Pipelines) only.
    await expect(form.getByTestId('elyra-proc-run-experiment')).toHaveCount(0);
  });

  const started = dialog(page, 'Pipeline run started');
  await expect(started).toBeVisible();
  const runId = (await started.getByTestId('elyra-proc-result-run-id').textContent())!.trim();
  expect(runId).not.toBe('');
  await started.getByRole('button', { name: 'Show the run in the Pipeline Runs panel' }).click();
  await expect(started).toBeHidden();

  const sidebar = page.getByTestId('elyra-proc-sidebar');
  await expect(sidebar).toBeVisible();
  const run = sidebar.getByTestId(`elyra-proc-run-${runId}`);
  await expect(run).toBeVisible();
  await expect(run.getByTestId(`elyra-proc-run-toggle-${runId}`)).toHaveAttribute('aria-expanded', 'true');
  const nodes = run.locator('[data-testid^="elyra-proc-run-node-"]');
  await expect(nodes).toHaveCount(NODES.length);

  // Every node reaches success (notebooks take seconds each), and so does the run.
  for (const node of NODES) {
    await expect(run.getByTestId(`elyra-proc-run-node-${runId}-${node}`)).toHaveAttribute('data-status', 'succeeded', {
      timeout: 180_000
    });
  }
  await expect(run).toHaveAttribute('data-status', 'succeeded');
  await expect(run.getByTestId(`elyra-proc-run-toggle-${runId}`)).toContainText('succeeded');
  for (const node of NODES) {
    await expect(run.getByTestId(`elyra-proc-run-node-${runId}-${node}`)).toContainText('succeeded');
  }
  // Artifacts of a notebook node: its executed notebook and its log.
  const summarize = run.getByTestId(`elyra-proc-run-node-${runId}-summarize`);
  await expect(summarize.getByRole('button', { name: 'Open the notebook of Summarize' })).toBeVisible();
  await expect(summarize.getByRole('button', { name: 'Open the log of Summarize' })).toBeVisible();

  // The canvas follows the same run.
  const status = view.getByTestId('elyra-proc-view-run-status');
  await expect(status).toHaveAttribute('data-run-id', runId);
  await expect(status).toHaveAttribute('data-status', 'succeeded');
  for (const node of NODES) {
    const element = view.locator(`.react-flow__node[data-id="${node}"]`);
    await expect(element.getByTestId('elyra-proc-node-status')).toHaveText('succeeded');
    await expect(element).toHaveAttribute('aria-label', /, succeeded$/);
  }

  await saveScreenshot(page, testInfo, '02-local-run-succeeded');

  // The README's pictures: a node chosen, so that its run details show beside the canvas, in both themes.
  await canvasNode(view, 'Summarize').click();
  const properties = view.getByTestId('elyra-proc-properties');
  await expect(properties.getByTestId('elyra-proc-details-status')).toContainText('succeeded');
  await expect(properties.getByTestId('elyra-proc-details-artifact-notebook')).toBeVisible();
  await saveScreenshot(page, testInfo, 'editor');
  await chooseTheme(page, 'JupyterLab Dark');
  try {
    await saveScreenshot(page, testInfo, 'editor-dark');
  } finally {
    await chooseTheme(page, 'JupyterLab Light'); // the theme is a user setting: the next tests want the default
  }
});
