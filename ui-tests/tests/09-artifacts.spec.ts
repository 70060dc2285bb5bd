/**
 * A run's artifacts, opened from the Pipeline Runs panel: one main-area tab per kind, which the next artifact of
 * that kind replaces (never more tabs or columns); the executed notebook in JupyterLab's read-only notebook
 * rendering (prompts, outputs, Markdown rendered); the log unwrapped, scrolling sideways. Screenshots of both in
 * the light and the dark theme.
 */
import { Locator, Page } from '@playwright/test';

import { expect, openPipeline, saveScreenshotsInBothThemes, scheduleExample, showSidebar, test } from './fixtures';

/** The main area's tabs whose label starts with `label`. */
function mainTabs(page: Page, label: string): Locator {
  return page.locator('#jp-main-dock-panel .lm-TabBar-tab').filter({
    has: page.locator('.lm-TabBar-tabLabel', { hasText: new RegExp(`^${label}`) })
  });
}

test('artifacts open in one tab per kind, the notebook rendered as JupyterLab does and the log unwrapped', async ({
  lab: page,
  servers
}, testInfo) => {
  // A run of the example pipeline, started through the REST API.
  const runId = await scheduleExample(page, servers);

  // The pipeline's editor open, as when a person follows its run.
  await openPipeline(page, servers.workspace.pipeline);
  const sidebar = await showSidebar(page);
  const run = sidebar.getByTestId(`elyra-proc-run-${runId}`);
  await expect(run).toHaveAttribute('data-status', 'succeeded', { timeout: 180_000 });
  const toggle = run.getByTestId(`elyra-proc-run-toggle-${runId}`);
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') {
    await toggle.click();
  }
  const item = (id: string): Locator => run.getByTestId(`elyra-proc-run-node-${runId}-${id}`);
  const tabBars = page.locator('#jp-main-dock-panel .lm-DockPanel-tabBar');
  const columnsBefore = await tabBars.count();

  // Two nodes' notebooks, one after the other: one tab, showing the last.
  await item('summarize').getByRole('button', { name: 'Open the notebook of Summarize' }).click();
  const notebookTab = mainTabs(page, 'Notebook: ');
  await expect(notebookTab).toHaveCount(1);
  await expect(notebookTab).toContainText('Summarize');
  await item('per-station').getByRole('button', { name: 'Open the notebook of Per station' }).click();
  await expect(notebookTab).toContainText('Per station');
  await expect(notebookTab).toHaveCount(1);
  await expect(notebookTab).toHaveClass(/lm-mod-current/);
  expect(await tabBars.count(), 'the artifacts open in one column beside the editor').toBe(columnsBefore + 1);

  const view = page.getByTestId('elyra-proc-notebook-view');
  const artifact = page.locator('.elyra-proc-artifact').filter({ has: view });
  await expect(artifact.getByTestId('elyra-proc-artifact-source')).toContainText('Per station');
  await expect(artifact.getByTestId('elyra-proc-artifact-source')).toContainText(runId.slice(0, 8));
  await expect(artifact.getByTestId('elyra-proc-artifact-refresh')).toBeVisible();
  const cells = view.locator('.jp-Notebook .jp-Cell');
  await expect(cells).toHaveCount(3);
  // The Markdown cell rendered, the code cells with their execution counts and outputs.
  await expect(view.locator('.jp-MarkdownCell .jp-RenderedMarkdown h2')).toHaveText(/mean temperature per station/);
  await expect(view.locator('.jp-CodeCell .jp-InputPrompt').first()).toHaveText(/^\[\d+\]:$/);
  await expect(view.locator('.jp-OutputArea-output', { hasText: 'unit:' })).toBeVisible();
  // A result that nbformat stores as a list of lines reads as Python printed it (lines joined, not comma-separated).
  const result = view.locator('.jp-OutputArea-executeResult');
  await expect(result).toContainText("{'station-0'");
  expect(await result.innerText()).not.toMatch(/^,/m);
  // Read-only: the editors take no input.
  const editor = view.locator('.jp-CodeCell .cm-content').first();
  await expect(editor).toHaveAttribute('aria-readonly', 'true');
  const source = (await editor.textContent())!;
  await editor.click();
  await page.keyboard.type('typed');
  await expect(editor).toHaveText(source);

  // A log opens in its own tab, in the same column as the notebook's.
  await item('summarize').getByRole('button', { name: 'Open the log of Summarize' }).click();
  const logTab = mainTabs(page, 'Log: ');
  await expect(logTab).toHaveCount(1);
  await expect(logTab).toContainText('Summarize');
  const log = page.getByTestId('elyra-proc-log-view');
  await expect(log).toContainText('Input Notebook:');
  expect(await tabBars.count()).toBe(columnsBefore + 1);
  await expect(log).toHaveAttribute('tabindex', '0');
  await expect(log).toHaveCSS('white-space', 'pre');
  // Its long lines (the kernel's warning) are not wrapped: the view scrolls sideways.
  expect(await log.evaluate(node => node.scrollWidth > node.clientWidth)).toBe(true);
  // JupyterLab's search (Ctrl+F) finds text in it.
  await log.focus();
  await page.keyboard.press('Control+f');
  await page.keyboard.type('Executing Cell');
  await expect(log.locator('mark').first()).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(log.locator('mark')).toHaveCount(0);

  await saveScreenshotsInBothThemes(page, testInfo, '09-artifacts-log');
  await notebookTab.click();
  await expect(view.locator('.jp-Notebook')).toBeFocused(); // the keyboard scrolls it at once
  await saveScreenshotsInBothThemes(page, testInfo, '09-artifacts-notebook');
});
