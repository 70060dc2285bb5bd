/**
 * The pipeline editor: draw a pipeline from files and run it, undo and redo every kind of change, copy nodes
 * into a pipeline in another folder, keep an Elyra pipeline with a supernode and comments intact through an edit,
 * see an invalid pipeline's issues without running it, and work with the keyboard alone.
 *
 * Every test works on files of its own (`freshFolder`), and reads what was saved through the contents API.
 */
import { Locator, Page } from '@playwright/test';

import {
  browserItem,
  browseTo,
  canvasNode,
  contentsUrl,
  dialog,
  editorDocument,
  expect,
  freshFolder,
  IServers,
  openPipeline,
  readPipeline,
  readText,
  runFromView,
  saveDocument,
  saveScreenshot,
  test,
  writeText
} from './fixtures';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const EXAMPLE_FILES = [
  'hello_pipeline.pipeline',
  'generate_data.py',
  'summarize.ipynb',
  'per_station.ipynb',
  'report.py'
];

/** The example's files, copied into a new folder of the workspace; that folder. */
async function exampleCopy(page: Page, servers: IServers, prefix: string): Promise<string> {
  const folder = servers.workspace.pipeline.split('/')[0];
  return freshFolder(
    page,
    servers,
    prefix,
    EXAMPLE_FILES.map(name => `${folder}/${name}`)
  );
}

function center(box: { x: number; y: number; width: number; height: number }): { x: number; y: number } {
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** Press the mouse at `from`, move to `to` in steps (drags start after a few pixels), release there. */
async function dragMouse(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + 8, from.y + 8, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 12 });
  await page.mouse.up();
}

/** A point of the canvas's empty background, `fx`/`fy` of the way across it. */
async function canvasPoint(view: Locator, fx: number, fy: number): Promise<{ x: number; y: number }> {
  const box = (await view.locator('.react-flow__pane').boundingBox())!;
  return { x: box.x + box.width * fx, y: box.y + box.height * fy };
}

/** Draw a link from one node's output port to another's input port. */
async function drawLink(page: Page, from: Locator, to: Locator): Promise<void> {
  const source = center((await from.locator('.react-flow__handle.source').boundingBox())!);
  const target = center((await to.locator('.react-flow__handle.target').boundingBox())!);
  await dragMouse(page, source, target);
}

/** A node's position in flow coordinates (React Flow places each node with a CSS translate). */
async function positionOf(node: Locator): Promise<{ x: number; y: number }> {
  const transform = await node.evaluate(element => (element as HTMLElement).style.transform);
  const match = /translate\(([-\d.]+)px, ([-\d.]+)px\)/.exec(transform);
  expect(match, `transform of a node: ${transform}`).not.toBeNull();
  return { x: Number(match![1]), y: Number(match![2]) };
}

interface ICanvasState {
  nodes: string[];
  links: string[];
}

/** What the canvas shows: each node's label and position, each link's accessible name (sorted). */
async function canvasState(view: Locator): Promise<ICanvasState> {
  const nodes = await view.locator('.react-flow__node').evaluateAll(elements =>
    elements.map(element => {
      const label = element.querySelector('[data-label]')?.getAttribute('data-label') ?? 'comment';
      return `${label} @ ${(element as HTMLElement).style.transform}`;
    })
  );
  const links = await view
    .locator('.react-flow__edge.elyra-proc-link')
    .evaluateAll(elements => elements.map(element => element.getAttribute('aria-label') ?? ''));
  return { nodes: nodes.sort(), links: links.sort() };
}

/** The primary pipeline of a document. */
function primary(document: Json): Json {
  return document.pipelines.find((pipeline: Json) => pipeline.id === document.primary_pipeline);
}

function nodeByLabel(pipeline: Json, label: string): Json {
  const node = pipeline.nodes.find((candidate: Json) => candidate.app_data?.label === label);
  expect(node, `a node labelled ${label}`).toBeDefined();
  return node;
}

/** The ids of the nodes a node's input ports link from. */
function parentIds(node: Json): string[] {
  return (node.inputs ?? []).flatMap((input: Json) => (input.links ?? []).map((link: Json) => link.node_id_ref));
}

/** The field of the properties panel for a node property (`env_vars_0_value`...) or pipeline property. */
function nodeField(view: Locator, key: string): Locator {
  return view.getByTestId('elyra-proc-properties').locator(`[id$="-node_component_parameters_${key}"]`);
}

/** The "Add item" button of a list property of the node form. */
function addItemButton(view: Locator, key: string): Locator {
  return view
    .getByTestId('elyra-proc-properties')
    .locator('.field-array')
    .filter({ has: view.page().locator(`[id$="-node_component_parameters_${key}__title"]`) })
    .locator('button[title="Add item"]')
    .last();
}

/** Give the keyboard focus to the canvas (a node in it), where the editor's shortcuts apply. */
async function focusCanvas(view: Locator): Promise<void> {
  await view.locator('.react-flow__node').first().focus();
}

test('draw a pipeline from files, set properties, save it and run it locally', async ({
  lab: page,
  servers
}, testInfo) => {
  const { editor_dir: editorDir, editor_files: files } = servers.workspace;
  const folder = await freshFolder(page, servers, 'drawn', []);
  const steps = `${folder}/steps`;
  expect((await page.request.put(contentsUrl(servers, steps), { data: { type: 'directory' } })).ok()).toBe(true);
  for (const file of files) {
    const copied = await page.request.post(contentsUrl(servers, steps), {
      data: { copy_from: `${editorDir}/${file}` }
    });
    expect(copied.status()).toBe(201);
  }

  // A new pipeline from the launcher opened in the folder.
  await browseTo(page, folder);
  await page.locator('.jp-FileBrowser-toolbar [data-command="launcher:create"]').click();
  await page.locator('.jp-Launcher:visible .jp-LauncherCard', { hasText: 'Pipeline Editor' }).click();
  const view = await editorDocument(page);
  const path = `${folder}/untitled.pipeline`;
  await expect(browserItem(page, 'untitled.pipeline')).toHaveCount(1);
  await expect(view.getByTestId('elyra-proc-view-name')).toHaveText('untitled');
  await expect(view.getByTestId('elyra-proc-canvas-hint')).toBeVisible();
  const created = primary(await readPipeline(page, servers, path));
  expect(created.app_data.properties.pipeline_defaults.runtime_image).toMatch(/\S/);

  // Two notebooks and a script, dragged together from the file browser onto the canvas.
  await browseTo(page, steps);
  await browserItem(page, 'generate_data.py').click();
  await browserItem(page, 'summarize.ipynb').click({ modifiers: ['Control'] });
  await browserItem(page, 'per_station.ipynb').click({ modifiers: ['Control'] });
  const grab = center((await browserItem(page, 'generate_data.py').boundingBox())!);
  await dragMouse(page, grab, await canvasPoint(view, 0.2, 0.2));
  const canvas = view.getByTestId('elyra-proc-canvas');
  await expect(canvas.locator('.react-flow__node')).toHaveCount(3);
  const generate = canvasNode(view, 'generate_data.py');
  const summarize = canvasNode(view, 'summarize.ipynb');
  const perStation = canvasNode(view, 'per_station.ipynb');
  for (const node of [generate, summarize, perStation]) {
    await expect(node).toBeVisible();
  }
  await expect(view.getByTestId('elyra-proc-canvas-hint')).toHaveCount(0);

  // Link the script to both notebooks (they land stacked), then let the editor arrange them.
  await drawLink(page, generate, summarize);
  await drawLink(page, generate, perStation);
  const links = canvas.locator('.react-flow__edge.elyra-proc-link');
  await expect(links).toHaveCount(2);
  await expect(canvas.getByRole('group', { name: 'Link from generate_data.py to summarize.ipynb' })).toHaveCount(1);
  await expect(canvas.getByRole('group', { name: 'Link from generate_data.py to per_station.ipynb' })).toHaveCount(1);

  // A link back would close a cycle, and a node cannot feed itself: both refused at once, with a message.
  await drawLink(page, perStation, generate);
  await expect(page.locator('.Toastify__toast', { hasText: 'cycle' })).toBeVisible();
  await drawLink(page, summarize, summarize);
  await expect(page.locator('.Toastify__toast', { hasText: 'itself' })).toBeVisible();
  await expect(links).toHaveCount(2);
  await view.getByTestId('elyra-proc-layout-button').click();
  await expect.poll(async () => (await positionOf(generate)).x).toBeLessThan((await positionOf(summarize)).x);

  // Properties of the second notebook: an env var and a runtime image of its own. (The dropped nodes are all
  // chosen; clicking one of several chosen nodes keeps them all, so choose none first.)
  await page.mouse.click(...(Object.values(await canvasPoint(view, 0.95, 0.05)) as [number, number]));
  await expect(canvas.locator('.react-flow__node.selected')).toHaveCount(0);
  await perStation.click();
  await expect(view.getByTestId('elyra-proc-details-title')).toHaveText('per_station.ipynb');
  await expect(nodeField(view, 'filename')).toHaveValue('steps/per_station.ipynb');
  await expect(nodeField(view, 'runtime_image')).toHaveAttribute('placeholder', /\S/);
  await expect(view.getByTestId('elyra-proc-properties')).toContainText('Inherited from the pipeline defaults: ');
  // Each field is named by its label (screen readers, getByLabel).
  const properties = view.getByTestId('elyra-proc-properties');
  expect
    .soft(await properties.getByLabel('Runtime image', { exact: true }).count(), 'field named "Runtime image"')
    .toBe(1);
  await addItemButton(view, 'env_vars').click();
  await nodeField(view, 'env_vars_0_env_var').fill('UNIT');
  await nodeField(view, 'env_vars_0_value').fill('kelvin');
  expect.soft(await properties.getByLabel('Variable', { exact: true }).count(), 'field named "Variable"').toBe(1);
  const IMAGE = 'quay.io/jupyter/minimal-notebook:2024-05-27';
  await nodeField(view, 'runtime_image').fill(IMAGE);
  await expect(view.getByTestId('elyra-proc-problems-summary')).toHaveText('No problems');
  // Unsaved changes show on the tab.
  await expect
    .soft(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current'), 'the tab shows unsaved changes')
    .toHaveClass(/jp-mod-dirty/, { timeout: 5000 });
  await saveScreenshot(page, testInfo, '05-editor-drawn');

  await saveDocument(page, view);
  const saved = primary(await readPipeline(page, servers, path));
  expect(saved.nodes).toHaveLength(3);
  const byFile = (file: string): Json =>
    saved.nodes.find((node: Json) => node.app_data.component_parameters.filename === file);
  // Filenames relative to the pipeline file, as Elyra writes them.
  const [savedGenerate, savedSummarize, savedPerStation] = files.map(file => byFile(`steps/${file}`));
  for (const node of [savedGenerate, savedSummarize, savedPerStation]) {
    expect(node, JSON.stringify(saved.nodes.map((n: Json) => n.app_data.component_parameters))).toBeDefined();
  }
  expect(savedGenerate.op).toBe('execute-python-node');
  expect(savedSummarize.op).toBe('execute-notebook-node');
  expect(parentIds(savedGenerate)).toEqual([]);
  expect(parentIds(savedSummarize)).toEqual([savedGenerate.id]);
  expect(parentIds(savedPerStation)).toEqual([savedGenerate.id]);
  expect(savedPerStation.app_data.component_parameters.env_vars).toEqual([{ env_var: 'UNIT', value: 'kelvin' }]);
  expect(savedPerStation.app_data.component_parameters.runtime_image).toBe(IMAGE);
  expect(savedSummarize.app_data.component_parameters.runtime_image ?? '').toBe('');

  // Run it locally: every node succeeds on the canvas, and the env var reached the notebook.
  await runFromView(page, view, /^Local\b/);
  const started = dialog(page, 'Pipeline run started');
  await expect(started).toBeVisible();
  const runId = (await started.getByTestId('elyra-proc-result-run-id').textContent())!.trim();
  await started.getByRole('button', { name: 'Show the run in the Pipeline Runs panel' }).click();
  await expect(started).toBeHidden();
  for (const node of [generate, summarize, perStation]) {
    await expect(node.getByTestId('elyra-proc-node-status')).toHaveText('succeeded', { timeout: 180_000 });
  }
  const status = view.getByTestId('elyra-proc-view-run-status');
  await expect(status).toHaveAttribute('data-run-id', runId);
  await expect(status).toHaveAttribute('data-status', 'succeeded');
  const executed = await page.request.get(
    `${servers.jupyter.url}/pipeline/runs/${runId}/nodes/${savedPerStation.id}/notebook?token=${servers.jupyter.token}`
  );
  expect(executed.status()).toBe(200);
  expect(await executed.text()).toContain('unit: kelvin');
  await saveScreenshot(page, testInfo, '05-editor-drawn-run');
});

test('undo and redo every kind of change', async ({ lab: page, servers }) => {
  test.setTimeout(420_000); // each kind that fails waits out its expectations before the next is tried
  const folder = await exampleCopy(page, servers, 'undo');
  const path = `${folder}/hello_pipeline.pipeline`;
  const original = await readPipeline(page, servers, path);
  const view = await openPipeline(page, path);
  const canvas = view.getByTestId('elyra-proc-canvas');
  const nodes = canvas.locator('.react-flow__node');
  const links = canvas.locator('.react-flow__edge.elyra-proc-link');
  const undoButton = view.getByTestId('elyra-proc-undo-button');
  const redoButton = view.getByTestId('elyra-proc-redo-button');
  const saved = async (): Promise<Json> => {
    await saveDocument(page, view);
    return readPipeline(page, servers, path);
  };

  // Opening the pipeline and looking at each node's properties changes nothing: nothing to undo, nothing to save.
  for (const label of ['Generate data', 'Summarize', 'Per station', 'Report']) {
    await canvasNode(view, label).click();
    await expect(view.getByTestId('elyra-proc-details-title')).toHaveText(label);
  }
  await page.waitForTimeout(1000); // past the time within which property edits join one undo step
  await expect
    .soft(undoButton, 'nothing to undo after opening and choosing nodes')
    .toHaveAttribute('aria-disabled', 'true');
  expect.soft(await saved(), 'opening and choosing nodes leave the document as it was').toEqual(original);

  const failedKinds: string[] = [];
  let useToolbar = false;
  /**
   * Make a change and check it, then undo it (the canvas and the saved document are exactly as before) and redo
   * it (exactly as after). Undo and redo alternate between the keyboard and the toolbar.
   */
  /** A step that may fail without ending the test: its failure is listed at the end. */
  const attempt = async (name: string, body: () => Promise<void>): Promise<void> => {
    await test.step(name, body).catch((error: Error) => {
      // The message's first lines and, for a comparison, the lines that differ.
      const lines = error.message.replace(/\u001b\[[0-9;]*m/g, '').split('\n');
      const differing = lines.filter(line => /^\s*[-+] /.test(line)).slice(0, 12);
      failedKinds.push(`${name}: ${[...lines.slice(0, 3), ...differing].join(' ').replace(/\s+/g, ' ')}`);
    });
  };
  const roundTrip = async (name: string, change: () => Promise<void>, check: () => Promise<void>): Promise<void> => {
    // Every kind is tried (each from the state the one before left), and those that fail are listed at the end.
    await attempt(name, async () => {
      const before = { canvas: await canvasState(view), document: await saved() };
      await change();
      await check();
      const after = { canvas: await canvasState(view), document: await saved() };
      expect(after.document, `${name} changed the document`).not.toEqual(before.document);
      if (useToolbar) {
        await undoButton.click();
      } else {
        await focusCanvas(view);
        await page.keyboard.press('Control+z');
      }
      await expect.poll(() => canvasState(view), { message: `${name} undone on the canvas` }).toEqual(before.canvas);
      expect(await saved(), `${name} undone in the document`).toEqual(before.document);
      if (useToolbar) {
        await redoButton.click();
      } else {
        await focusCanvas(view);
        await page.keyboard.press('Control+Shift+z');
      }
      await expect.poll(() => canvasState(view), { message: `${name} redone on the canvas` }).toEqual(after.canvas);
      expect(await saved(), `${name} redone in the document`).toEqual(after.document);
      useToolbar = !useToolbar;
    });
  };

  await roundTrip(
    'move',
    async () => {
      const from = center((await canvasNode(view, 'Report').boundingBox())!);
      await dragMouse(page, from, { x: from.x + 60, y: from.y + 90 });
    },
    async () => {
      await expect.poll(async () => (await positionOf(canvasNode(view, 'Report'))).y).toBeGreaterThan(160);
    }
  );

  await roundTrip(
    'link',
    async () => drawLink(page, canvasNode(view, 'Summarize'), canvasNode(view, 'Per station')),
    async () => {
      await expect(links).toHaveCount(5);
      await expect(canvas.getByRole('group', { name: 'Link from Summarize to Per station' })).toHaveCount(1);
    }
  );

  await roundTrip(
    'delete (a node and its links)',
    async () => {
      await canvasNode(view, 'Per station').click();
      await page.keyboard.press('Delete');
    },
    async () => {
      await expect(nodes).toHaveCount(3);
      await expect(canvasNode(view, 'Per station')).toHaveCount(0);
      // Its three links are gone; Generate data to Summarize and Summarize to Report stay.
      await expect(links).toHaveCount(2);
    }
  );

  const label = view.getByTestId('elyra-proc-properties').locator('[id$="-node_label"]');
  await roundTrip(
    'property edit (a label)',
    async () => {
      await canvasNode(view, 'Report').click();
      await expect(label).toHaveValue('Report');
      await label.fill('Final report');
    },
    async () => {
      await expect(canvasNode(view, 'Final report')).toHaveCount(1);
      await expect(canvasNode(view, 'Report')).toHaveCount(0);
    }
  );
  await attempt('the open form follows undo and redo', async () => {
    await canvasNode(view, 'Final report').click();
    await expect(label).toHaveValue('Final report');
    await focusCanvas(view);
    await page.keyboard.press('Control+z');
    await expect(label).toHaveValue('Report');
    await expect(canvasNode(view, 'Report')).toHaveCount(1);
    await focusCanvas(view);
    await page.keyboard.press('Control+Shift+z');
    await expect(label).toHaveValue('Final report');
  });

  await roundTrip(
    'auto-layout (Arrange)',
    async () => view.getByTestId('elyra-proc-layout-button').click(),
    async () => {
      // Left to right by links: the generator, then the notebook, then the report.
      await expect
        .poll(async () => (await positionOf(canvasNode(view, 'Generate data'))).x)
        .toBeLessThan((await positionOf(canvasNode(view, 'Summarize'))).x);
      const report = canvas.locator('.react-flow__node[data-id="report"]'); // by id: its label was edited above
      expect((await positionOf(canvasNode(view, 'Summarize'))).x).toBeLessThan((await positionOf(report)).x);
    }
  );

  await roundTrip(
    'paste (a copied node)',
    async () => {
      await canvasNode(view, 'Summarize').click();
      await page.keyboard.press('Control+c');
      await page.keyboard.press('Control+v');
    },
    async () => {
      await expect(nodes).toHaveCount(4);
      await expect(canvasNode(view, 'Summarize')).toHaveCount(2);
    }
  );

  await roundTrip(
    'add (a palette entry dropped on the canvas)',
    async () => {
      await view
        .getByTestId('elyra-proc-palette-execute-python-node')
        .dragTo(view.locator('.react-flow__pane'), { targetPosition: { x: 120, y: 60 } });
    },
    async () => {
      await expect(nodes).toHaveCount(5);
      await expect(canvasNode(view, 'Python script')).toBeVisible();
    }
  );

  await roundTrip(
    'unlink (a link chosen and deleted)',
    async () => {
      const link = canvas.locator('.react-flow__edge[data-id^="summarize->report"]');
      const point = await link.locator('path.react-flow__edge-path').evaluate(element => {
        const path = element as SVGPathElement;
        const middle = path.getPointAtLength(path.getTotalLength() / 2);
        const matrix = path.getScreenCTM()!;
        return { x: middle.x * matrix.a + matrix.e, y: middle.y * matrix.d + matrix.f };
      });
      await page.mouse.click(point.x, point.y);
      await expect(link).toHaveClass(/\bselected\b/);
      await page.keyboard.press('Delete');
    },
    async () => {
      await expect(canvas.locator('.react-flow__edge[data-id^="summarize->report"]')).toHaveCount(0);
    }
  );

  expect(failedKinds, 'kinds of change whose undo or redo failed').toEqual([]);
});

test('nodes copied in one pipeline paste into a pipeline in another folder', async ({ lab: page, servers }) => {
  const source = await exampleCopy(page, servers, 'copy-from');
  const target = await freshFolder(page, servers, 'copy-to', []);
  const nested = `${target}/nested`;
  expect((await page.request.put(contentsUrl(servers, nested), { data: { type: 'directory' } })).ok()).toBe(true);
  // An empty pipeline, as File > New > Pipeline writes one.
  const empty = await readPipeline(page, servers, `${source}/hello_pipeline.pipeline`);
  const pipeline = primary(empty);
  pipeline.nodes = [];
  pipeline.app_data.properties = {
    name: 'receiver',
    runtime: 'Generic',
    pipeline_defaults: { runtime_image: 'quay.io/jupyter/scipy-notebook:2024-05-27' }
  };
  const targetPath = `${nested}/receiver.pipeline`;
  await writeText(page, servers, targetPath, JSON.stringify(empty, null, 2));

  const from = await openPipeline(page, `${source}/hello_pipeline.pipeline`);
  await canvasNode(from, 'Generate data').click();
  await canvasNode(from, 'Summarize').click({ modifiers: ['Shift'] });
  await expect(from.locator('.react-flow__node.selected')).toHaveCount(2);
  await page.keyboard.press('Control+c');

  const to = await openPipeline(page, targetPath, true);
  await expect(to.getByTestId('elyra-proc-canvas-hint')).toBeVisible();
  // Click the empty canvas and paste with the keyboard; the context menu's Paste is the other way.
  await to.locator('.react-flow__pane').click();
  await page.keyboard.press('Control+v');
  await expect.soft(to.locator('.react-flow__node'), 'Ctrl+V on the clicked canvas pastes').toHaveCount(2, {
    timeout: 5000
  });
  if ((await to.locator('.react-flow__node').count()) === 0) {
    await to.locator('.react-flow__pane').click({ button: 'right' });
    await page.locator('.lm-Menu-item', { hasText: 'Paste Nodes' }).click();
  }
  await expect(to.locator('.react-flow__node')).toHaveCount(2);
  await expect(to.getByRole('group', { name: 'Link from Generate data to Summarize' })).toHaveCount(1);
  await saveDocument(page, to);

  const pasted = primary(await readPipeline(page, servers, targetPath));
  const generate = nodeByLabel(pasted, 'Generate data');
  const summarize = nodeByLabel(pasted, 'Summarize');
  // The same files, named from the new pipeline's folder; new ids, linked to each other.
  expect(generate.app_data.component_parameters.filename).toBe(`../../${source}/generate_data.py`);
  expect(summarize.app_data.component_parameters.filename).toBe(`../../${source}/summarize.ipynb`);
  expect(parentIds(summarize)).toEqual([generate.id]);
  expect(generate.id).not.toBe('generate');
  // Their other properties came along.
  expect(generate.app_data.component_parameters.outputs).toEqual(['output/measurements.csv']);
  // The source pipeline is unchanged.
  expect(primary(await readPipeline(page, servers, `${source}/hello_pipeline.pipeline`)).nodes).toHaveLength(4);
  // Their files are found from here (the only problem: the pipeline parameter the script uses is not defined).
  await expect(to.getByTestId('elyra-proc-problem')).toHaveCount(1);
  await expect(to.getByTestId('elyra-proc-problem')).toContainText("uses pipeline parameter 'ROWS'");
});

test('an Elyra pipeline with a supernode and comments keeps its structure through an edit', async ({
  lab: page,
  servers
}, testInfo) => {
  const { editor_dir: editorDir, editor_files: files } = servers.workspace;
  const folder = await freshFolder(page, servers, 'supernode', [
    servers.workspace.supernode_pipeline,
    ...files.map(file => `${editorDir}/${file}`)
  ]);
  const path = `${folder}/supernode.pipeline`;
  const original = await readPipeline(page, servers, path);
  const view = await openPipeline(page, path);

  // The primary level: the script, the supernode and a comment attached to the script.
  await expect(view.getByTestId('elyra-proc-view-name')).toHaveText('supernode_pipeline');
  await expect(view.getByTestId('elyra-proc-node')).toHaveCount(2);
  await expect(view.getByTestId('elyra-proc-comment')).toHaveText('Generates the data the analysis reads');
  const supernode = canvasNode(view, 'Analysis');
  await expect(supernode).toHaveAttribute('aria-label', /^Analysis, Supernode/);
  await expect(view.getByRole('group', { name: 'Link from Generate data to Analysis' })).toHaveCount(1);
  await saveScreenshot(page, testInfo, '05-editor-supernode');

  // A comment's line to the node it describes is drawn.
  await expect
    .soft(view.locator('.react-flow__edge.elyra-proc-comment-edge'), 'the comment is joined to its node')
    .toHaveCount(1, { timeout: 5000 });

  // Double-clicking the supernode expands it (its properties' "Expand supernode" is the other way): its subflow
  // and its own comment show, and the breadcrumbs lead back.
  const name = view.getByTestId('elyra-proc-view-name');
  await supernode.dblclick();
  await expect.soft(name, 'a double click expands the supernode').toHaveText('Analysis', { timeout: 5000 });
  if ((await name.textContent()) !== 'Analysis') {
    await supernode.click();
    await view.getByRole('button', { name: 'Expand supernode' }).click();
  }
  const breadcrumbs = view.getByTestId('elyra-proc-breadcrumbs');
  await expect(breadcrumbs).toContainText('supernode_pipeline');
  await expect(name).toHaveText('Analysis');
  await expect(canvasNode(view, 'Summarize')).toBeVisible();
  await expect(canvasNode(view, 'Per station')).toBeVisible();
  await expect(view.getByTestId('elyra-proc-comment')).toHaveText('Both notebooks read output/measurements.csv');
  await breadcrumbs.getByRole('button', { name: 'Back to supernode_pipeline' }).click();
  await expect(view.getByTestId('elyra-proc-view-name')).toHaveText('supernode_pipeline');

  // Move one node and save.
  const generate = canvasNode(view, 'Generate data');
  const from = center((await generate.boundingBox())!);
  await dragMouse(page, from, { x: from.x + 30, y: from.y + 140 });
  await saveDocument(page, view);

  const saved = await readPipeline(page, servers, path);
  const movedBefore = primary(original).nodes.find((node: Json) => node.id === 'generate').app_data.ui_data;
  const movedAfter = primary(saved).nodes.find((node: Json) => node.id === 'generate').app_data.ui_data;
  expect(typeof movedAfter.x_pos).toBe('number');
  expect(movedAfter.y_pos).toBeGreaterThan(movedBefore.y_pos);
  // Everything else is as it was: other tools' fields, the subflow, the bindings, the comments, the order.
  for (const document of [original, saved]) {
    const uiData = primary(document).nodes.find((node: Json) => node.id === 'generate').app_data.ui_data;
    delete uiData.x_pos;
    delete uiData.y_pos;
  }
  expect(saved).toEqual(original);
});

test('an invalid pipeline shows its issues on opening, without a run', async ({ lab: page, servers }, testInfo) => {
  const { invalid_pipeline: file, invalid_node: nodeId, missing_file: missing } = servers.workspace;
  const view = await openPipeline(page, file);

  const summary = view.getByTestId('elyra-proc-problems-summary');
  await expect(summary).toHaveText('1 problem (1 error)');
  await expect(summary).toHaveAttribute('data-count', '1');
  const problem = view.getByTestId('elyra-proc-problem');
  await expect(problem).toHaveCount(1);
  await expect(problem).toContainText('Per station');
  await expect(problem).toContainText('filename');
  await expect(problem).toContainText(missing);
  const node = view.locator(`.react-flow__node[data-id="${nodeId}"]`);
  await expect(node.getByTestId('elyra-proc-node-issues')).toHaveText('1 issue');
  await expect(view.getByTestId('elyra-proc-node-issues')).toHaveCount(1);
  await saveScreenshot(page, testInfo, '05-editor-problems');

  // Choosing the problem selects the node and puts the cursor in the faulty field.
  await problem.click();
  await expect(node).toHaveClass(/\bselected\b/);
  await expect(view.getByTestId('elyra-proc-details-title')).toHaveText('Per station');
  await expect(nodeField(view, 'filename')).toBeFocused();
  await expect(nodeField(view, 'filename')).toHaveValue(missing);
  // Fixing the field clears the problem (validation follows edits).
  await nodeField(view, 'filename').fill('summarize.ipynb');
  await expect(summary).toHaveText('No problems');
  await expect(view.getByTestId('elyra-proc-node-issues')).toHaveCount(0);
  // Nothing ran.
  await expect(view.getByTestId('elyra-proc-view-run-status')).toHaveAttribute('data-status', 'none');
});

test('a file that is not a pipeline says so, offers the text editor and cannot run', async ({ lab: page, servers }) => {
  const path = servers.workspace.broken_pipeline;
  const parts = path.split('/');
  await browseTo(page, parts[0]);
  await browserItem(page, parts[1]).dblclick();
  const view = page.locator('.elyra-proc-document:visible');
  const error = view.getByTestId('elyra-proc-view-error');
  await expect(error).toBeVisible();
  await expect(error).toContainText('JSON');
  await expect(view.getByTestId('elyra-proc-run-button')).toHaveAttribute('aria-disabled', 'true');
  await expect(view.getByTestId('elyra-proc-export-button')).toHaveAttribute('aria-disabled', 'true');
  await view.getByTestId('elyra-proc-open-text-editor').click();
  const text = page.locator('.jp-FileEditor:visible');
  await expect(text).toBeVisible();
  await expect(text.locator('.cm-content')).toContainText('"doc_type": "pipeline"');
  expect(await readText(page, servers, path)).toBe('{"doc_type": "pipeline", "pipelines": [');
});

test('the keyboard alone reaches nodes, follows links, opens properties and deletes', async ({
  lab: page,
  servers
}) => {
  const folder = await exampleCopy(page, servers, 'keyboard');
  const view = await openPipeline(page, `${folder}/hello_pipeline.pipeline`);
  const canvas = view.getByTestId('elyra-proc-canvas');
  const focusedNode = canvas.locator('.react-flow__node:focus');

  // Tab from the palette into the canvas until a node has the focus.
  await view.getByTestId('elyra-proc-palette-execute-r-node').focus();
  for (let presses = 0; presses < 12 && !(await focusedNode.count()); presses++) {
    await page.keyboard.press('Tab');
  }
  await expect(focusedNode).toHaveAttribute('aria-label', /^Generate data, Python script · generate_data\.py/);

  // Arrow keys follow the links: right to a child, down to its sibling, right again, left back to a parent.
  const expectFocus = async (label: string): Promise<void> => {
    const node = canvasNode(view, label);
    await expect(node).toHaveClass(/\bselected\b/);
    await expect(canvas.locator('.react-flow__node.selected')).toHaveCount(1);
    // Where the focus is, named (the node's accessible name, else the element), so that a failure says it.
    const focused = (): Promise<string> =>
      page.evaluate(() => {
        const active = document.activeElement;
        const inNode = active?.closest('.react-flow__node');
        return inNode?.getAttribute('aria-label') ?? `${active?.tagName}.${active?.className}`;
      });
    await expect
      .soft(node, `the focus follows to ${label} (it is on: ${await focused()})`)
      .toBeFocused({ timeout: 5000 });
    if (!(await node.evaluate(element => element === document.activeElement))) {
      await node.focus(); // recorded above; go on from where the focus should be
    }
  };
  await page.keyboard.press('ArrowRight');
  await expectFocus('Summarize');
  await page.keyboard.press('ArrowDown');
  await expectFocus('Per station');
  await page.keyboard.press('ArrowRight');
  await expectFocus('Report');
  await page.keyboard.press('ArrowLeft');
  await expectFocus('Summarize');

  // Enter opens its properties, with the focus in the form.
  await page.keyboard.press('Enter');
  await expect(view.getByTestId('elyra-proc-properties-tab-node')).toHaveAttribute('aria-selected', 'true');
  await expect(view.getByTestId('elyra-proc-details-title')).toHaveText('Summarize');
  await expect(view.getByTestId('elyra-proc-properties').locator(':focus')).toHaveCount(1);

  // Delete removes it and its links; undo brings them back.
  await canvasNode(view, 'Summarize').focus();
  await page.keyboard.press('Delete');
  await expect(canvas.locator('.react-flow__node')).toHaveCount(3);
  await expect(canvasNode(view, 'Summarize')).toHaveCount(0);
  await expect(canvas.locator('.react-flow__edge.elyra-proc-link')).toHaveCount(2);
  await focusCanvas(view);
  await page.keyboard.press('Control+z');
  await expect(canvasNode(view, 'Summarize')).toHaveCount(1);
  await expect(canvas.locator('.react-flow__edge.elyra-proc-link')).toHaveCount(4);
});
