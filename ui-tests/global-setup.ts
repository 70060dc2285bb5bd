/**
 * Starts `servers.py` (JupyterLab, the KFP API test server, moto_server, a temporary workspace), waits until it
 * has written the servers' URLs, and hands that file to the tests in `UI_TESTS_SERVERS`. The returned function
 * stops everything after the last test.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const START_TIMEOUT_MS = 180_000;

function pythonCommand(): string {
  return process.env.UI_TESTS_PYTHON || (process.platform === 'win32' ? 'python' : 'python3');
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elyra-proc-ui-'));
  const info = path.join(dir, 'servers.json');
  const child = spawn(pythonCommand(), [path.join(__dirname, 'servers.py'), '--info', info], {
    stdio: ['ignore', 'pipe', 'pipe']
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output += chunk.toString();
    if (process.env.UI_TESTS_VERBOSE) {
      process.stderr.write(chunk);
    }
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)));

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!fs.existsSync(info)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`servers.py did not start (exit ${child.exitCode}):\n${output}`);
    }
    await new Promise(resolve => setTimeout(resolve, 250));
  }
  process.env.UI_TESTS_SERVERS = info;

  return async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
