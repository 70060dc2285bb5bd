/**
 * "Validate Pipeline" from the editor's toolbar checks the pipeline on the server and says what it found; opening
 * a node's file that no longer exists says so instead of opening an empty editor.
 */
import { canvasNode, contentsUrl, expect, freshFolder, openPipeline, test } from './fixtures';

const FILES = ['hello_pipeline.pipeline', 'generate_data.py', 'summarize.ipynb', 'per_station.ipynb', 'report.py'];

test('Validate reports the problems; a node whose file is gone says so when opened', async ({ lab: page, servers }) => {
  const source = servers.workspace.pipeline.split('/')[0];
  const folder = await freshFolder(
    page,
    servers,
    'validate',
    FILES.map(name => `${source}/${name}`)
  );
  const view = await openPipeline(page, `${folder}/hello_pipeline.pipeline`);
  const toast = (text: string) => page.locator('.jp-toast-message').filter({ hasText: text });

  await view.getByTestId('elyra-proc-validate-button').click();
  await expect(toast('No problems found.')).toBeVisible();

  // The file of "Report" is deleted behind the editor's back.
  expect((await page.request.delete(contentsUrl(servers, `${folder}/report.py`))).ok()).toBe(true);
  await view.getByTestId('elyra-proc-validate-button').click();
  await expect(toast('1 error')).toBeVisible();
  await expect(canvasNode(view, 'Report').getByTestId('elyra-proc-node-issues')).toBeVisible();

  await canvasNode(view, 'Report').dblclick();
  await expect(toast(`${folder}/report.py does not exist`)).toBeVisible();
  await expect(page.locator('.jp-FileEditor')).toHaveCount(0);
});
