/**
 * Shared fixtures and steps: the servers started by `global-setup.ts`, a fresh JupyterLab page per test, and the
 * few things a person does in every test (open a pipeline from the file browser, run it, show the sidebar).
 *
 * Selectors are the extension's `data-testid`s and accessible names (see `src/`), and JupyterLab's own classes
 * only where JupyterLab gives nothing else (file browser items, dialogs, sidebar tabs).
 */
import { expect, Locator, Page, test as base, TestInfo } from '@playwright/test';
import * as fs from 'fs';
import * as path from 'path';

export interface IServers {
  jupyter: { url: string; token: string; root: string; log: string };
  kfp: { endpoint: string; token: string };
  s3: { endpoint: string; access_key: string; secret_key: string; bucket: string };
  workspace: {
    pipeline: string;
    invalid_pipeline: string;
    invalid_node: string;
    missing_file: string;
    /** The editor's tests: a folder with the example's script and two notebooks, and pipelines to open. */
    editor_dir: string;
    editor_files: string[];
    supernode_pipeline: string;
    broken_pipeline: string;
    /** The Runs panel's tests: a pipeline whose `fails` node raises `failing_error`, after `succeeds`. */
    failing_pipeline: string;
    failing_nodes: { succeeds: string; fails: string; skipped: string };
    failing_error: string;
  };
}

export const SCREENSHOTS = path.join(__dirname, '..', 'screenshots');

function readServers(): IServers {
  const file = process.env.UI_TESTS_SERVERS;
  if (!file) {
    throw new Error('UI_TESTS_SERVERS is not set: run the tests with `npx playwright test` (global-setup.ts)');
  }
  return JSON.parse(fs.readFileSync(file, 'utf-8')) as IServers;
}

export const test = base.extend<{ servers: IServers; lab: Page }>({
  servers: async ({}, use) => {
    await use(readServers());
  },
  /** JupyterLab, loaded with a reset workspace (no layout left over from an earlier test). */
  lab: async ({ page, servers }, use, testInfo) => {
    const problems: string[] = [];
    const consoleErrors: string[] = [];
    page.on('pageerror', error => problems.push(`page error: ${error.message}`));
    page.on('console', message => {
      if (message.type() === 'error') {
        consoleErrors.push(`${message.text()} (${message.location().url})`);
      }
    });
    await page.goto(`${servers.jupyter.url}/lab?reset&token=${servers.jupyter.token}`);
    await expect(page.locator('#jupyterlab-splash')).toHaveCount(0, { timeout: 90_000 });
    await expect(page.locator('.jp-DirListing-content')).toBeVisible();
    await use(page);
    if (consoleErrors.length) {
      // Kept for the report, not failed on: JupyterLab itself logs some (a missing optional resource, ...).
      await testInfo.attach('console-errors', { body: consoleErrors.join('\n'), contentType: 'text/plain' });
    }
    expect(problems, 'uncaught errors in the page').toEqual([]);
  }
});

export { expect };

/** Save a screenshot of the page (or of one element) to ui-tests/screenshots/NAME.png and attach it to the report. */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string, element?: Locator): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await (element ?? page).screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** Choose a JupyterLab theme from the Settings menu and wait until it applies. */
export async function chooseTheme(page: Page, theme: 'JupyterLab Light' | 'JupyterLab Dark'): Promise<void> {
  await page.locator('.lm-MenuBar-item', { hasText: 'Settings' }).click();
  await page.locator('.lm-Menu-item', { hasText: /^Theme$/ }).hover();
  await page.locator('.lm-Menu-item', { hasText: new RegExp(`^${theme}$`) }).click();
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-name', theme);
  await expect(page.locator('body')).toHaveAttribute('data-jp-theme-light', theme.endsWith('Light') ? 'true' : 'false');
}

/**
 * Screenshots NAME (light theme) and NAME-dark of what `show` shows. A dialog is modal (the Settings menu cannot be
 * reached while it is open), so `hide` closes it before the theme changes and `show` opens it again; for views that
 * stay, both do nothing. Ends in the light theme: the theme is a user setting, and the next steps want the default.
 */
export async function saveScreenshotsInBothThemes(
  page: Page,
  testInfo: TestInfo,
  name: string,
  show: () => Promise<void> = async () => undefined,
  hide: () => Promise<void> = async () => undefined
): Promise<void> {
  await show();
  await saveScreenshot(page, testInfo, name);
  await hide();
  await chooseTheme(page, 'JupyterLab Dark');
  try {
    await show();
    await saveScreenshot(page, testInfo, `${name}-dark`);
    await hide();
  } finally {
    await chooseTheme(page, 'JupyterLab Light');
  }
}

/** A file browser entry by its exact name, in the folder shown. */
export function browserItem(page: Page, name: string): Locator {
  return page.locator('.jp-DirListing-item').filter({
    has: page.locator('.jp-DirListing-itemText', { hasText: new RegExp(`^${escapeRegExp(name)}$`) })
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Show a folder (relative to the server root) in the file browser, as a person would: home, then folder by folder. */
export async function browseTo(page: Page, folder: string): Promise<void> {
  if (!(await page.locator('.jp-DirListing-content').isVisible())) {
    await page.locator('.jp-SideBar [data-id="filebrowser"]').click();
  }
  await page.locator('.jp-BreadCrumbs-home').click();
  for (const part of folder.split('/').filter(Boolean)) {
    await browserItem(page, part).dblclick();
    await expect(page.locator('.jp-BreadCrumbs')).toContainText(part);
  }
}

/**
 * Open a `.pipeline` file from the file browser (a double click) and wait until the editor has drawn its nodes
 * (`empty`: a pipeline without nodes, where there are none to wait for).
 */
export async function openPipeline(page: Page, filePath: string, empty = false): Promise<Locator> {
  const parts = filePath.split('/');
  await browseTo(page, parts.slice(0, -1).join('/'));
  await browserItem(page, parts[parts.length - 1]).dblclick();
  return editorDocument(page, !empty);
}

/**
 * The pipeline editor's document widget shown in the main area; with `drawn`, once its canvas shows nodes (for
 * pipelines that have some).
 */
export async function editorDocument(page: Page, drawn = false): Promise<Locator> {
  const document = page.locator('.elyra-proc-document:visible');
  await expect(document).toHaveCount(1);
  await expect(document.getByTestId('elyra-proc-editor')).toBeVisible();
  if (drawn) {
    await expect(document.locator('.react-flow__node').first()).toBeVisible();
  }
  return document;
}

/** A node on the canvas by its label (the React Flow node element: focusable, `data-id`, accessible name). */
export function canvasNode(view: Locator, label: string): Locator {
  return view.locator('.react-flow__node').filter({
    has: view.page().locator(`[data-testid="elyra-proc-node"][data-label="${label}"]`)
  });
}

/** The URL of a Jupyter contents API entry (a path relative to the server root). */
export function contentsUrl(servers: IServers, filePath: string): string {
  const encoded = filePath.split('/').map(encodeURIComponent).join('/');
  return `${servers.jupyter.url}/api/contents/${encoded}?token=${servers.jupyter.token}`;
}

/** A file's text as saved on the server. */
export async function readText(page: Page, servers: IServers, filePath: string): Promise<string> {
  const answer = await page.request.get(`${contentsUrl(servers, filePath)}&content=1&type=file&format=text`);
  expect(answer.status(), `GET ${filePath}`).toBe(200);
  return (await answer.json()).content as string;
}

/** A saved pipeline file, parsed. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function readPipeline(page: Page, servers: IServers, filePath: string): Promise<any> {
  return JSON.parse(await readText(page, servers, filePath));
}

/** Run the example pipeline locally through the REST API, as a notebook or script would; its run id. */
export async function scheduleExample(page: Page, servers: IServers): Promise<string> {
  const pipeline = await readPipeline(page, servers, servers.workspace.pipeline);
  pipeline.pipelines[0].app_data.source = servers.workspace.pipeline;
  const scheduled = await page.request.post(`${servers.jupyter.url}/pipeline/schedule?runtime=local&paths=pipeline`, {
    headers: { Authorization: `token ${servers.jupyter.token}` },
    data: pipeline
  });
  expect(scheduled.ok(), `schedule: ${scheduled.status()}`).toBe(true);
  return (await scheduled.json()).run_id as string;
}

/** Write a text file on the server (the folder must exist). */
export async function writeText(page: Page, servers: IServers, filePath: string, content: string): Promise<void> {
  const answer = await page.request.put(contentsUrl(servers, filePath), {
    data: { type: 'file', format: 'text', content }
  });
  expect(answer.ok(), `PUT ${filePath}: ${answer.status()}`).toBe(true);
}

/**
 * A new folder of the workspace, named from `prefix` and unique (so that tests stay independent and can be
 * repeated), holding copies of the given workspace files; its path.
 */
export async function freshFolder(page: Page, servers: IServers, prefix: string, files: string[]): Promise<string> {
  const folder = `${prefix}-${Date.now().toString(36)}${Math.floor(Math.random() * 1296).toString(36)}`;
  const made = await page.request.put(contentsUrl(servers, folder), { data: { type: 'directory' } });
  expect(made.ok(), `mkdir ${folder}: ${made.status()}`).toBe(true);
  for (const file of files) {
    const copied = await page.request.post(contentsUrl(servers, folder), { data: { copy_from: file } });
    expect(copied.status(), `copy ${file} to ${folder}`).toBe(201);
  }
  return folder;
}

/**
 * Save the document open in `view` as a person does (Ctrl+S with the focus in it); returns once the server has
 * stored it and the tab no longer shows unsaved changes.
 */
export async function saveDocument(page: Page, view: Locator): Promise<void> {
  await view.getByTestId('elyra-proc-view-name').click();
  const stored = page.waitForResponse(
    answer => answer.request().method() === 'PUT' && answer.url().includes('/api/contents/')
  );
  await page.keyboard.press('Control+s');
  expect((await stored).ok(), 'the save was stored').toBe(true);
  await expect(page.locator('.lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current')).not.toHaveClass(/jp-mod-dirty/);
}

/** The sidebar with the Pipeline Runs and Runtime Configurations sections, shown. */
export async function showSidebar(page: Page): Promise<Locator> {
  const sidebar = page.getByTestId('elyra-proc-sidebar');
  if (!(await sidebar.isVisible())) {
    await page.locator('.jp-SideBar [data-id="elyra-proc-sidebar"]').click();
  }
  await expect(sidebar).toBeVisible();
  return sidebar;
}

/** Expand a section of the sidebar (its accordion title) when it is collapsed. */
export async function expandSection(sidebar: Locator, title: string): Promise<void> {
  const heading = sidebar.locator('.lm-AccordionPanel-title', { hasText: title });
  if ((await heading.getAttribute('aria-expanded')) !== 'true') {
    await heading.click();
  }
  await expect(heading).toHaveAttribute('aria-expanded', 'true');
}

/** The dialog JupyterLab shows on top, with the given title. */
export function dialog(page: Page, title: string | RegExp): Locator {
  return page.locator('.jp-Dialog').filter({ has: page.locator('.jp-Dialog-header', { hasText: title }) });
}

/** Click Run in the pipeline view's toolbar, choose the runtime (an option's label) and start the run. */
export async function runFromView(
  page: Page,
  view: Locator,
  runtimeLabel?: string | RegExp,
  fill?: (form: Locator) => Promise<void>
): Promise<void> {
  await view.getByTestId('elyra-proc-run-button').click();
  const form = page.getByTestId('elyra-proc-run-dialog');
  await expect(form).toBeVisible();
  if (runtimeLabel) {
    const select = form.getByLabel('Runtime');
    const options = await select.locator('option').allTextContents();
    const label = options.find(text =>
      typeof runtimeLabel === 'string' ? text === runtimeLabel : runtimeLabel.test(text)
    );
    expect(label, `runtime options: ${options.join(', ')}`).toBeDefined();
    await select.selectOption({ label: label! });
  }
  if (fill) {
    await fill(form);
  }
  await page.getByRole('button', { name: 'Run pipeline' }).click();
}
