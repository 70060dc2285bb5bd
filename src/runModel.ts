/**
 * The runs every view shows (the Runs panel, the editors, the Run dialog), fetched by one `Poll`: every second
 * while a run is in progress, every ten seconds otherwise, backing off on errors and standing by while the
 * browser tab is hidden. Runs a view follows closely (an expanded run, the run an editor shows) are asked of their
 * runtime on each poll, so the states of runs on another system are fresh too. The Runs panel's filtered list is
 * read by the server in the same poll, while the editors keep the unfiltered recent runs.
 */
import { IDisposable } from '@lumino/disposable';
import { Poll } from '@lumino/polling';
import { ISignal, Signal } from '@lumino/signaling';

import { IRunFilter, IRunRecord, isFinal, PipelineApi } from './api';

const ACTIVE_INTERVAL_MS = 1000;
const IDLE_INTERVAL_MS = 10000;
const MAX_INTERVAL_MS = 60000;
/** How many recent runs the list holds. */
const LIMIT = 50;

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

/** Whether a filter lets every run through. */
export function isUnfiltered(filter: IRunFilter): boolean {
  return !filter.source && !filter.status?.length && !filter.runtime;
}

export class RunModel implements IDisposable {
  constructor(private readonly api: PipelineApi) {
    this._poll = new Poll({
      factory: () => this._load(),
      frequency: { interval: IDLE_INTERVAL_MS, backoff: true, max: MAX_INTERVAL_MS },
      name: 'elyra-proc-ext:runs',
      standby: 'when-hidden'
    });
  }

  /** The runs changed, or reading them failed or works again. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** Recent runs, newest first, with the runs being watched. */
  get runs(): readonly IRunRecord[] {
    return this._runs;
  }

  /** What the Runs panel lists: the runs the server matches to this filter; changing it reads them at once. */
  get filter(): IRunFilter {
    return this._filter;
  }

  set filter(filter: IRunFilter) {
    this._filter = filter;
    this._filtered = isUnfiltered(filter) ? null : [];
    this._filtering = !isUnfiltered(filter);
    this._changed.emit();
    void this.refresh();
  }

  /** The newest runs matching `filter` (the recent runs when nothing is filtered), newest first. */
  get filtered(): readonly IRunRecord[] {
    return this._filtered ?? this._runs;
  }

  /** Whether the runs of a new filter are being read (`filtered` is empty until they are). */
  get filtering(): boolean {
    return this._filtering;
  }

  /** Why the last poll failed, while it fails. */
  get error(): string | null {
    return this._error;
  }

  /** When the runs were last read. */
  get updated(): Date | null {
    return this._updated;
  }

  get isDisposed(): boolean {
    return this._poll.isDisposed;
  }

  run(runId: string): IRunRecord | null {
    const byId = (run: IRunRecord): boolean => run.id === runId;
    return this._runs.find(byId) ?? this._filtered?.find(byId) ?? null;
  }

  /** The newest run of a file. */
  latestFor(path: string): IRunRecord | null {
    return this._runs.find(run => sameSource(run.source, path)) ?? null;
  }

  /** Ask this run of its runtime on every poll while it is in progress, until the returned handle is disposed. */
  watch(runId: string): IDisposable {
    this._watched.set(runId, (this._watched.get(runId) ?? 0) + 1);
    void this.refresh();
    let disposed = false;
    return {
      get isDisposed() {
        return disposed;
      },
      dispose: () => {
        if (!disposed) {
          disposed = true;
          const count = (this._watched.get(runId) ?? 1) - 1;
          if (count > 0) {
            this._watched.set(runId, count);
          } else {
            this._watched.delete(runId);
          }
        }
      }
    };
  }

  /**
   * Watch a run until `done` holds for it (or `timeoutMs` passes): its latest record then, or null when it was
   * never read. `onUpdate` sees each record on the way.
   */
  waitFor(
    runId: string,
    done: (run: IRunRecord) => boolean,
    timeoutMs: number,
    onUpdate?: (run: IRunRecord) => void
  ): Promise<IRunRecord | null> {
    const watch = this.watch(runId);
    return new Promise<IRunRecord | null>(resolve => {
      const finish = (): void => {
        window.clearTimeout(timer);
        this._changed.disconnect(check);
        watch.dispose();
        resolve(this.run(runId));
      };
      const check = (): void => {
        const run = this.run(runId);
        if (run) {
          onUpdate?.(run);
          if (done(run)) {
            finish();
          }
        }
      };
      const timer = window.setTimeout(finish, timeoutMs);
      this._changed.connect(check);
      check();
    });
  }

  /** Read the runs now; resolves when done. */
  async refresh(): Promise<void> {
    await this._poll.refresh();
    await this._poll.tick;
  }

  dispose(): void {
    this._poll.dispose();
    Signal.clearData(this);
  }

  private async _load(): Promise<void> {
    try {
      const filter = this._filter;
      const [listed, filtered] = await Promise.all([
        this.api.runs(LIMIT),
        isUnfiltered(filter) ? null : this.api.runs(LIMIT, filter)
      ]);
      const byId = new Map(listed.map(run => [run.id, run]));
      const fresh = await Promise.all(
        [...this._watched.keys()]
          .filter(id => !isFinal(byId.get(id)?.status ?? this.run(id)?.status))
          .map(id => this.api.run(id).catch(() => null))
      );
      for (const run of fresh) {
        if (run) {
          byId.set(run.id, run);
        }
      }
      this._runs = [...byId.values()].sort((a, b) => b.submitted - a.submitted);
      if (filter === this._filter) {
        // A watched run's fresh state stands in for the listed one (when the filter changed meanwhile, the
        // refresh it asked for reads the new list).
        this._filtered = filtered && filtered.map(run => byId.get(run.id) ?? run);
        this._filtering = false;
      }
      this._error = null;
      this._updated = new Date();
    } catch (error) {
      this._error = (error as Error).message;
      this._changed.emit();
      throw error; // the poll backs off
    }
    const active = [...this._runs, ...this.filtered].some(run => !isFinal(run.status));
    this._poll.frequency = { ...this._poll.frequency, interval: active ? ACTIVE_INTERVAL_MS : IDLE_INTERVAL_MS };
    this._changed.emit();
  }

  private readonly _poll: Poll;
  private _changed = new Signal<this, void>(this);
  private _runs: IRunRecord[] = [];
  private _filter: IRunFilter = {};
  /** The filtered runs; null when nothing is filtered (`filtered` is then `runs`). */
  private _filtered: IRunRecord[] | null = null;
  private _filtering = false;
  private _error: string | null = null;
  private _updated: Date | null = null;
  /** Run ids asked of their runtime on each poll, with how many views watch each. */
  private _watched = new Map<string, number>();
}
