/**
 * Run a pipeline whose "Per station" node names a notebook that does not exist: the run is refused, the issue
 * names that node, its property and the file, and choosing the issue selects the node in the graph.
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
  // The faulty node is marked in the graph, and only that one.
  await expect(view.getByTestId(`elyra-proc-node-${nodeId}`)).toHaveAttribute('data-issue-count', '1');
  await expect(view.locator('[data-issue-count]')).toHaveCount(1);

  // Choosing the issue closes the dialog and selects (and focuses) that node in the graph.
  await button.click();
  await expect(refused).toBeHidden();
  const node = view.getByTestId(`elyra-proc-node-${nodeId}`);
  await expect(node).toHaveAttribute('data-selected', 'true');
  await expect(node).toBeFocused();
  await expect(view.locator('[data-selected="true"]')).toHaveCount(1);
  await expect(view.getByTestId('elyra-proc-details-title')).toHaveText('Per station');
  await expect(view.getByTestId('elyra-proc-details-open-file')).toHaveText(missing);
  // The mark stays after the dialog closed.
  await expect(node).toHaveAttribute('data-issue-count', '1');
  await expect(node).toHaveClass(/elyra-proc-node-has-issues/);
  await expect(view.getByTestId('elyra-proc-details-issues')).toContainText(missing);
  // Nothing ran.
  await expect(view.getByTestId('elyra-proc-view-run-status')).toHaveAttribute('data-status', 'none');

  await saveScreenshot(page, testInfo, '04-invalid-pipeline-node-selected');
});
