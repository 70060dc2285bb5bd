/**
 * Application-wide notifications between the views: a run was started, runtime configurations changed.
 */
import { Signal, ISignal } from '@lumino/signaling';

export interface IRunStarted {
  /** Path of the file the run came from (a `.pipeline`, or a notebook or script run alone). */
  path: string;
  runId: string;
}

export class PipelineEvents {
  get runStarted(): ISignal<this, IRunStarted> {
    return this._runStarted;
  }

  get configsChanged(): ISignal<this, void> {
    return this._configsChanged;
  }

  notifyRunStarted(event: IRunStarted): void {
    this._runStarted.emit(event);
  }

  notifyConfigsChanged(): void {
    this._configsChanged.emit();
  }

  private _runStarted = new Signal<this, IRunStarted>(this);
  private _configsChanged = new Signal<this, void>(this);
}
