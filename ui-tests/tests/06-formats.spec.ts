/**
 * A pipeline saved by an older Elyra (format version 4) opens in the editor migrated as the server migrates it,
 * the user is told, and saving writes format version 8 with the same nodes and links.
 */
import * as fs from 'fs';
import * as path from 'path';

import { canvasNode, expect, freshFolder, openPipeline, readPipeline, saveDocument, test, writeText } from './fixtures';

const V4 = path.join(__dirname, '..', '..', 'tests', 'fixtures', 'formats', 'v4');

test('an Elyra pipeline of format version 4 opens migrated and is saved as version 8', async ({
  lab: page,
  servers
}) => {
  const folder = await freshFolder(page, servers, 'formats', []);
  for (const name of ['hello.pipeline', 'hello.py', 'world.py']) {
    await writeText(page, servers, `${folder}/${name}`, fs.readFileSync(path.join(V4, name), 'utf-8'));
  }
  const original = JSON.parse(fs.readFileSync(path.join(V4, 'hello.pipeline'), 'utf-8'));
  expect(original.pipelines[0].app_data.version).toBe(4);

  const view = await openPipeline(page, `${folder}/hello.pipeline`);
  await expect(page.locator('.jp-toast-message').filter({ hasText: 'format version 4' })).toBeVisible();
  await expect(canvasNode(view, 'hello.py')).toBeVisible();
  await expect(canvasNode(view, 'Say world')).toBeVisible();
  await expect(view.locator('.react-flow__edge')).toHaveCount(1);
  await expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')).toHaveClass(/jp-mod-dirty/);
  await expect(view.getByTestId('elyra-proc-problems-summary')).toHaveText('No problems');

  await saveDocument(page, view);
  const saved = await readPipeline(page, servers, `${folder}/hello.pipeline`);
  const pipeline = saved.pipelines[0];
  expect(pipeline.app_data.version).toBe(8);
  expect(pipeline.nodes.map((node: { id: string }) => node.id)).toEqual(
    original.pipelines[0].nodes.map((node: { id: string }) => node.id)
  );
  const links = pipeline.nodes.flatMap((node: any) =>
    (node.inputs ?? []).flatMap((port: any) => (port.links ?? []).map((link: any) => `${link.node_id_ref}->${node.id}`))
  );
  expect(links).toHaveLength(1);
});
