/**
 * Run a pipeline whose "Per station" node names a notebook that does not exist: the run is refused, the issue
 * names that node, its property and the file, and choosing the issue selects the node in the editor.
 */
import { dialog, expect, openPipeline, runFromView, saveScreenshot, test } from './fixtures';

test('an invalid pipeline is refused with an issue that selects the faulty node', async ({
  lab: page,
  servers
}, testInfo) => {
  const { invalid_pipeline: file, invalid_node: nodeId, missing_file: missing } = servers.workspace;
  const view = await openPipeline(page, file);
  await expect(view.getByTestId('elyra-proc-view-name')).toHaveText('invalid_pipeline');
  await runFromView(page, view, /^Local\b/);

  const refused = dialog(page, 'The pipeline cannot run');
  await expect(refused).toBeVisible();
  const issues = refused.getByTestId('elyra-proc-issues');
  await expect(issues.locator('li')).toHaveCount(1);
  const issue = issues.locator('.elyra-proc-issue').first();
  await expect(issue).toHaveAttribute('data-issue-type', 'invalidFilePath');
  const button = issue.getByTestId('elyra-proc-issue-0');
  await expect(button).toHaveAttribute('data-node-id', nodeId);
  await expect(button).toHaveAccessibleName(/^Select node Per station: /);
  await expect(button.locator('.elyra-proc-issue-severity')).toHaveText('Error');
  await expect(button.locator('.elyra-proc-issue-node')).toHaveText('Per station');
  await expect(button.locator('.elyra-proc-issue-property')).toHaveText('filename');
  await expect(button.locator('.elyra-proc-issue-message')).toContainText(missing);
  await saveScreenshot(page, testInfo, '03-invalid-pipeline-issue');
  // The faulty node is marked on the canvas, and only that one.
  const node = view.locator(`.react-flow__node[data-id="${nodeId}"]`);
  await expect(node.getByTestId('elyra-proc-node-issues')).toHaveText('1 issue');
  await expect(view.getByTestId('elyra-proc-node-issues')).toHaveCount(1);

  // Choosing the issue closes the dialog and selects (and focuses) that node on the canvas.
  await button.click();
  await expect(refused).toBeHidden();
  await expect(node).toHaveClass(/\bselected\b/);
  await expect.soft(node, 'the chosen node has the focus').toBeFocused({ timeout: 5000 });
  await expect(view.locator('.react-flow__node.selected')).toHaveCount(1);
  const properties = view.getByTestId('elyra-proc-properties');
  await expect(properties.getByTestId('elyra-proc-details-title')).toHaveText('Per station');
  await expect(properties.locator('[id$="-node_component_parameters_filename"]')).toHaveValue(missing);
  // The mark stays after the dialog closed.
  await expect(node.getByTestId('elyra-proc-node-issues')).toHaveText('1 issue');
  await expect(node).toHaveAttribute('aria-label', /, 1 issue$/);
  await expect(properties.getByTestId('elyra-proc-details-issues')).toContainText(missing);
  // Nothing ran.
  await expect(view.getByTestId('elyra-proc-view-run-status')).toHaveAttribute('data-status', 'none');

  await saveScreenshot(page, testInfo, '04-invalid-pipeline-node-selected');
});
