/**
 * The Pipeline Runs panel at JupyterLab's default sidebar width: a failed run of a pipeline named longer than the
 * sidebar is wide, read without mid-word breaks; its failure (node, last error line, Log); the filters (status,
 * runtime, this pipeline only, none matching); the executed notebook of a node that succeeded; screenshots of the
 * panel in the light and the dark theme.
 */
import { Locator } from '@playwright/test';

import {
  chooseTheme,
  dialog,
  expect,
  openPipeline,
  runFromView,
  saveScreenshot,
  scheduleExample,
  showSidebar,
  test
} from './fixtures';

/** The failing pipeline's name (servers.py), longer than the sidebar is wide. */
const PIPELINE_NAME = 'nightly_feature_engineering_and_model_training';

/** Whether an element is drawn on one line: a single box, less than one and a half lines tall. */
function onOneLine(element: Locator): Promise<boolean> {
  return element.evaluate(node => {
    const boxes = node.getClientRects();
    const style = getComputedStyle(node);
    const line = parseFloat(style.lineHeight) || parseFloat(style.fontSize) * 1.2;
    return boxes.length === 1 && boxes[0].height < line * 1.5;
  });
}

/** Whether an element shows all its text (nothing cut by its box). */
function showsAll(element: Locator): Promise<boolean> {
  return element.evaluate(node => node.scrollWidth <= node.clientWidth);
}

test('the Runs panel shows a failed run readably at the default sidebar width, and filters runs', async ({
  lab: page,
  servers
}, testInfo) => {
  const { failing_pipeline: failingPath, failing_nodes: nodes, failing_error: failingError } = servers.workspace;

  // A run of another pipeline, which succeeds, started through the REST API: the filters have two runs to tell apart.
  const helloRunId = await scheduleExample(page, servers);

  const view = await openPipeline(page, failingPath);
  await runFromView(page, view, /^Local\b/);
  const started = dialog(page, 'Pipeline run started');
  const runId = (await started.getByTestId('elyra-proc-result-run-id').textContent())!.trim();
  await started.getByRole('button', { name: 'Show the run in the Pipeline Runs panel' }).click();

  const sidebar = await showSidebar(page);
  // The sidebar as JupyterLab opens it (not widened by the test).
  const sidebarBox = (await sidebar.boundingBox())!;
  testInfo.annotations.push({ type: 'sidebar', description: `${sidebarBox.width} × ${sidebarBox.height} px` });
  expect(sidebarBox.width).toBeLessThanOrEqual(320);

  const panel = sidebar.getByTestId('elyra-proc-runs-panel');
  const run = panel.getByTestId(`elyra-proc-run-${runId}`);
  await expect(run).toHaveAttribute('data-status', 'failed', { timeout: 180_000 });
  const item = (id: string): Locator => run.getByTestId(`elyra-proc-run-node-${runId}-${id}`);
  await expect(item(nodes.succeeds)).toHaveAttribute('data-status', 'succeeded');
  await expect(item(nodes.skipped)).toHaveAttribute('data-status', 'skipped');

  // The runs take most of the sidebar's height; the list scrolls inside them.
  const panelBox = (await panel.boundingBox())!;
  expect(panelBox.height).toBeGreaterThan(sidebarBox.height * 0.55);

  // The failure: which node, its last error line, a button to its log; no server path, said once.
  const summary = run.getByTestId(`elyra-proc-run-toggle-${runId}`);
  await expect(summary).toContainText('Failed: Train the model');
  const failure = run.getByTestId(`elyra-proc-node-error-${runId}-${nodes.fails}`);
  await expect(failure).toContainText(`Error in cell 2: ${failingError}`);
  await expect(run.getByTestId(`elyra-proc-run-error-${runId}`)).toHaveCount(0); // the node's error says it
  const panelText = await panel.innerText();
  for (const serverPath of [servers.jupyter.root, 'log.txt', '/pipeline/runs/']) {
    expect(panelText).not.toContain(serverPath);
  }
  expect(panelText.split(failingError).length - 1, 'the error is shown once').toBe(1);

  // Readable at this width: names on one line, cut with an ellipsis only when longer than the sidebar (full text
  // on hover); node names whole; durations never wrap; the run id on one line with its copy button.
  const runName = run.locator('.elyra-proc-run-name');
  expect(await onOneLine(runName)).toBe(true);
  await expect(runName).toHaveCSS('text-overflow', 'ellipsis');
  await expect(runName).toHaveText(PIPELINE_NAME);
  await expect(runName).toHaveAttribute('title', PIPELINE_NAME);
  for (const id of Object.values(nodes)) {
    const name = item(id).locator('.elyra-proc-node-name');
    expect(await onOneLine(name), `${id}: name on one line`).toBe(true);
    expect(await showsAll(name), `${id}: whole name`).toBe(true);
    const duration = item(id).locator('.elyra-proc-duration');
    expect(await onOneLine(duration), `${id}: duration on one line`).toBe(true);
  }
  expect(await onOneLine(run.locator('.elyra-proc-run-meta .elyra-proc-duration'))).toBe(true);
  const runIdText = run.getByTestId(`elyra-proc-run-id-${runId}`);
  expect(await onOneLine(runIdText)).toBe(true);
  await expect(runIdText).toHaveAttribute('title', runId);
  await expect(run.getByRole('button', { name: 'Copy the run id' })).toBeVisible();

  await saveScreenshot(page, testInfo, '08-runs-panel', sidebar);
  await chooseTheme(page, 'JupyterLab Dark');
  try {
    await saveScreenshot(page, testInfo, '08-runs-panel-dark', sidebar);
  } finally {
    await chooseTheme(page, 'JupyterLab Light'); // the theme is a user setting: the next tests want the default
  }

  // Filters, answered by the server. The other pipeline's run ends first, so that both are listed as they end.
  const helloRun = panel.getByTestId(`elyra-proc-run-${helloRunId}`);
  await expect(helloRun).toHaveAttribute('data-status', 'succeeded', { timeout: 180_000 });
  const listed = panel.getByTestId('elyra-proc-runs-list').locator(':scope > li');
  const status = panel.getByLabel('Status');
  const runtime = panel.getByLabel('Runtime');
  const thisPipeline = panel.getByRole('checkbox', { name: /This pipeline only/ });

  await status.selectOption({ label: 'Failed' });
  await expect(helloRun).toHaveCount(0);
  await expect(run).toBeVisible();
  for (const state of await listed.evaluateAll(items => items.map(li => li.getAttribute('data-status')))) {
    expect(state).toBe('failed');
  }
  await status.selectOption({ label: 'Any status' });
  await expect(helloRun).toBeVisible();

  await expect(runtime.locator('option', { hasText: /^local$/ })).toHaveCount(1);
  await runtime.selectOption('local');
  await expect(run).toBeVisible();
  await expect(helloRun).toBeVisible();

  // "This pipeline only": the pipeline of the editor in the main area.
  await expect(panel.locator('.elyra-proc-runs-this-pipeline')).toContainText('failing.pipeline');
  await thisPipeline.check();
  await expect(helloRun).toHaveCount(0);
  await expect(run).toBeVisible();

  await status.selectOption({ label: 'Succeeded' });
  const empty = panel.getByTestId('elyra-proc-runs-empty');
  await expect(empty).toContainText('No runs match these filters');
  await expect(listed).toHaveCount(0);
  await empty.getByRole('button', { name: 'Clear the filters' }).click();
  await expect(status).toHaveValue('');
  await expect(runtime).toHaveValue('');
  await expect(thisPipeline).not.toBeChecked();
  await expect(run).toBeVisible();
  await expect(helloRun).toBeVisible();

  // The failed node's log, from the button beside its error.
  await item(nodes.fails).getByRole('button', { name: 'Open the log of Train the model' }).click();
  const log = page.getByTestId('elyra-proc-log-view');
  await expect(log).toBeVisible();
  await expect(log).toContainText(failingError);

  // The executed notebook of the node that succeeded, in JupyterLab's notebook rendering.
  await item(nodes.succeeds).getByRole('button', { name: 'Open the notebook of Prepare the features' }).click();
  const notebook = page.getByTestId('elyra-proc-notebook-view');
  await expect(notebook.locator('.jp-Notebook .jp-Cell').first()).toBeVisible();
  await expect(notebook.locator('.jp-OutputArea-output', { hasText: '3 rows prepared' })).toBeVisible();
});
