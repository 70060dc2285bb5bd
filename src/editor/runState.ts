/**
 * The run an editor shows on its canvas: the newest run of its file, followed while it is in progress (about
 * every second for local runs; submitted remote runs are asked of their cluster, so less often).
 */
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, IRunRecord, isFinal, PipelineApi } from '../api';

const POLL_MS = 1000;
const REMOTE_POLL_MS = 3000;

/** Whether a run record's source names this file (runs from the API carry the path as posted). */
export function sameSource(source: string | null, path: string): boolean {
  if (!source) {
    return false;
  }
  const clean = (p: string): string => p.replace(/^\.?\/+/, '');
  const a = clean(source);
  const b = clean(path);
  return a === b || a.endsWith(`/${b}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

export class RunState {
  constructor(private readonly api: PipelineApi) {}

  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The run being shown (followed live while not final). */
  get run(): IRunRecord | null {
    return this._run;
  }

  /** Why the run could not be read, while that lasts. */
  get error(): string | null {
    return this._error;
  }

  /** Each node's status in the run, by node id. */
  get statuses(): ReadonlyMap<string, string> {
    return new Map((this._run?.nodes ?? []).map(node => [node.id, node.status]));
  }

  /** Follow a run until it is final. */
  async follow(runId: string): Promise<void> {
    const token = ++this._token;
    this._error = null;
    while (!this._disposed && token === this._token) {
      let run: IRunRecord;
      try {
        run = await this.api.run(runId);
      } catch (error) {
        if (token !== this._token) {
          return;
        }
        this._error = error instanceof ApiError ? error.message : String(error);
        this._changed.emit();
        if (error instanceof ApiError && error.status === 404) {
          return;
        }
        await sleep(REMOTE_POLL_MS);
        continue;
      }
      if (token !== this._token || this._disposed) {
        return;
      }
      this._run = run;
      this._error = null;
      this._changed.emit();
      if (isFinal(run.status)) {
        return;
      }
      await sleep(run.status === 'submitted' ? REMOTE_POLL_MS : POLL_MS);
    }
  }

  /** Show the newest run of this file: followed when in progress, its final states otherwise. */
  async findLatest(path: string): Promise<void> {
    try {
      const runs = await this.api.runs(25);
      const latest = runs.find(run => sameSource(run.source, path));
      if (latest && !this._run && !this._disposed) {
        if (isFinal(latest.status)) {
          this._run = latest;
          this._changed.emit();
        } else {
          await this.follow(latest.id);
        }
      }
    } catch {
      // The editor works without run history (server extension missing or unreachable).
    }
  }

  dispose(): void {
    this._disposed = true;
    this._token++;
    Signal.clearData(this);
  }

  private _run: IRunRecord | null = null;
  private _error: string | null = null;
  private _token = 0;
  private _disposed = false;
  private _changed = new Signal<this, void>(this);
}
