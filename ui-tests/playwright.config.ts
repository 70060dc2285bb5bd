/**
 * Browser tests of the JupyterLab extension, in Debian's Chromium (`/usr/bin/chromium`, see README: "Browser
 * tests"). `global-setup.ts` starts JupyterLab, the KFP API test server and moto_server through `servers.py`.
 */
import { defineConfig } from '@playwright/test';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalSetup: require.resolve('./global-setup'),
  // One JupyterLab for all tests, and notebooks take seconds each on 2 cores: one test at a time, generous limits.
  workers: 1,
  fullyParallel: false,
  timeout: 240_000,
  expect: { timeout: 30_000 },
  retries: 0,
  // A hang anywhere still ends the run (CI's budget), with the report of what got stuck.
  globalTimeout: 15 * 60_000,
  forbidOnly: !!process.env.CI,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    headless: true,
    viewport: { width: 1440, height: 900 },
    screenshot: 'on',
    trace: 'retain-on-failure',
    actionTimeout: 30_000,
    navigationTimeout: 90_000
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: CHROMIUM,
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--no-first-run'
          ]
        }
      }
    }
  ]
});
