/**
 * Open the example pipeline from the file browser and see its graph: four nodes, the fan-out and fan-in links,
 * and a node's details when it is selected.
 */
import { expect, openPipeline, saveScreenshot, test } from './fixtures';

const NODES = {
  generate: 'Generate data',
  summarize: 'Summarize',
  'per-station': 'Per station',
  report: 'Report'
};
const EDGES = ['generate-summarize', 'generate-per-station', 'summarize-report', 'per-station-report'];

test('the example pipeline opens as a graph of its nodes', async ({ lab: page, servers }, testInfo) => {
  const view = await openPipeline(page, servers.workspace.pipeline);

  await expect(view.getByTestId('elyra-proc-view-name')).toHaveText('hello_pipeline');
  const graph = view.getByTestId('elyra-proc-graph');
  await expect(graph).toHaveAttribute('aria-label', 'Pipeline graph: 4 nodes, 4 links');
  for (const [id, label] of Object.entries(NODES)) {
    const node = graph.getByTestId(`elyra-proc-node-${id}`);
    await expect(node).toBeVisible();
    await expect(node).toHaveAttribute('aria-label', new RegExp(`^${label}, `));
  }
  await expect(graph.locator('[data-node-id]')).toHaveCount(4);
  for (const edge of EDGES) {
    await expect(graph.getByTestId(`elyra-proc-edge-${edge}`)).toHaveCount(1);
  }
  await expect(graph.locator('.elyra-proc-edge')).toHaveCount(EDGES.length);

  // Left to right: the generator first, the report last, the two notebooks between them.
  const x = async (id: string): Promise<number> => (await graph.getByTestId(`elyra-proc-node-${id}`).boundingBox())!.x;
  expect(await x('generate')).toBeLessThan(await x('summarize'));
  expect(await x('summarize')).toBe(await x('per-station'));
  expect(await x('per-station')).toBeLessThan(await x('report'));

  // Selecting a node (keyboard, as the view invites) shows its details.
  await graph.getByTestId('elyra-proc-node-per-station').focus();
  await page.keyboard.press('Enter');
  await expect(graph.getByTestId('elyra-proc-node-per-station')).toHaveAttribute('data-selected', 'true');
  const details = view.getByTestId('elyra-proc-node-details');
  await expect(details.getByTestId('elyra-proc-details-title')).toHaveText('Per station');
  await expect(details.getByTestId('elyra-proc-details-open-file')).toHaveText('per_station.ipynb');
  await expect(details).toContainText('output/stations.json');
  await expect(details).toContainText('UNIT');
  // The pipeline defaults apply: their image and env var (merged with the node's own).
  await expect(details).toContainText('quay.io/jupyter/scipy-notebook:2024-05-27');
  await expect(details).toContainText('SEED');

  await saveScreenshot(page, testInfo, '01-pipeline-graph');
});
