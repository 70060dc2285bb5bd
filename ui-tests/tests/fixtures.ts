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
  workspace: { pipeline: string; invalid_pipeline: string; invalid_node: string; missing_file: string };
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

/** Save a screenshot of the page to ui-tests/screenshots/NAME.png and attach it to the test's report. */
export async function saveScreenshot(page: Page, testInfo: TestInfo, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  await testInfo.attach(name, { path: file, contentType: 'image/png' });
}

/** A file browser entry by its exact name, in the folder shown. */
function browserItem(page: Page, name: string): Locator {
  return page.locator('.jp-DirListing-item').filter({
    has: page.locator('.jp-DirListing-itemText', { hasText: new RegExp(`^${escapeRegExp(name)}$`) })
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Open a `.pipeline` file as a person would: the file browser, folder by folder, then a double click. */
export async function openPipeline(page: Page, filePath: string): Promise<Locator> {
  if (!(await page.locator('.jp-DirListing-content').isVisible())) {
    await page.locator('.jp-SideBar [data-id="filebrowser"]').click();
  }
  const parts = filePath.split('/');
  for (const folder of parts.slice(0, -1)) {
    await browserItem(page, folder).dblclick();
    await expect(page.locator('.jp-BreadCrumbs')).toContainText(folder);
  }
  await browserItem(page, parts[parts.length - 1]).dblclick();
  const document = page.locator('.elyra-proc-document:visible');
  await expect(document).toHaveCount(1);
  await expect(document.getByTestId('elyra-proc-graph')).toBeVisible();
  return document;
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
