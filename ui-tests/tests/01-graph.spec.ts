/**
 * Open the example pipeline from the file browser and see it in the editor: four nodes, the fan-out and fan-in
 * links, and a node's properties (its own and those inherited from the pipeline defaults) when it is chosen.
 */
import { canvasNode, expect, openPipeline, saveScreenshot, test } from './fixtures';

const NODES = {
  generate: 'Generate data',
  summarize: 'Summarize',
  'per-station': 'Per station',
  report: 'Report'
};
const LINKS = [
  ['Generate data', 'Summarize'],
  ['Generate data', 'Per station'],
  ['Summarize', 'Report'],
  ['Per station', 'Report']
];

test('the example pipeline opens in the editor as a graph of its nodes', async ({ lab: page, servers }, testInfo) => {
  const view = await openPipeline(page, servers.workspace.pipeline);

  await expect(view.getByTestId('elyra-proc-view-name')).toHaveText('hello_pipeline');
  const canvas = view.getByTestId('elyra-proc-canvas');
  await expect(canvas.locator('.react-flow__node')).toHaveCount(4);
  for (const [id, label] of Object.entries(NODES)) {
    const node = canvas.locator(`.react-flow__node[data-id="${id}"]`);
    await expect(node).toBeVisible();
    await expect(node).toHaveAttribute('aria-label', new RegExp(`^${label}, `));
    await expect(node.getByTestId('elyra-proc-node')).toHaveAttribute('data-label', label);
  }
  await expect(canvas.locator('.react-flow__edge')).toHaveCount(LINKS.length);
  for (const [from, to] of LINKS) {
    await expect(canvas.getByRole('group', { name: `Link from ${from} to ${to}`, exact: true })).toHaveCount(1);
  }
  // Validation ran on open and found nothing.
  await expect(view.getByTestId('elyra-proc-problems-summary')).toHaveText('No problems');

  // Left to right, as saved in the file: the generator first, the report last, the two notebooks between them.
  const x = async (label: string): Promise<number> => (await canvasNode(view, label).boundingBox())!.x;
  expect(await x('Generate data')).toBeLessThan(await x('Summarize'));
  expect(await x('Summarize')).toBe(await x('Per station'));
  expect(await x('Per station')).toBeLessThan(await x('Report'));

  // Choosing a node with the keyboard (Tab reaches it, Enter opens its properties) shows its properties.
  const perStation = canvasNode(view, 'Per station');
  await perStation.focus();
  await page.keyboard.press('Enter');
  await expect(perStation).toHaveClass(/\bselected\b/);
  const properties = view.getByTestId('elyra-proc-properties');
  await expect(view.getByTestId('elyra-proc-properties-tab-node')).toHaveAttribute('aria-selected', 'true');
  await expect(properties.getByTestId('elyra-proc-details-title')).toHaveText('Per station');
  const field = (key: string) => properties.locator(`[id$="-node_component_parameters_${key}"]`);
  await expect(field('filename')).toHaveValue('per_station.ipynb');
  await expect(field('outputs_0')).toHaveValue('output/stations.json');
  await expect(field('env_vars_0_env_var')).toHaveValue('UNIT');
  await expect(field('env_vars_0_value')).toHaveValue('celsius');
  // The pipeline defaults apply, shown as inherited: the image and the env var (merged with the node's own).
  await expect(field('runtime_image')).toHaveValue('');
  await expect(field('runtime_image')).toHaveAttribute('placeholder', 'quay.io/jupyter/scipy-notebook:2024-05-27');
  await expect(properties).toContainText(
    'Inherited from the pipeline defaults: quay.io/jupyter/scipy-notebook:2024-05-27.'
  );
  // A node without env vars of its own shows the pipeline's (SEED=7) as inherited.
  await canvasNode(view, 'Summarize').click();
  await expect(properties.getByTestId('elyra-proc-details-title')).toHaveText('Summarize');
  await expect.soft(properties, 'the inherited env var is shown').toContainText('SEED=7', { timeout: 5000 });
  await perStation.click();
  await expect(properties.getByTestId('elyra-proc-details-title')).toHaveText('Per station');

  // The pipeline's own properties are on the other tab.
  await view.getByTestId('elyra-proc-properties-tab-pipeline').click();
  await expect(properties.locator('[id$="-pipeline_name"]')).toHaveValue('hello_pipeline');
  await expect(properties.locator('[id$="-pipeline_pipeline_defaults_runtime_image"]')).toHaveValue(
    'quay.io/jupyter/scipy-notebook:2024-05-27'
  );
  await view.getByTestId('elyra-proc-properties-tab-node').click();

  await saveScreenshot(page, testInfo, '01-pipeline-graph');
});
