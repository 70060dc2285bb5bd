/**
 * Application-wide notifications between the views: a run was started, runtime configurations changed.
 */
import { Signal, ISignal } from '@lumino/signaling';

import { IIssue } from './api';

export interface IRunStarted {
  /** Path of the file the run came from (a `.pipeline`, or a notebook or script run alone). */
  path: string;
  runId: string;
}

export interface IRunRefused {
  /** Path of the file whose run the server refused. */
  path: string;
  issues: IIssue[];
}

export class PipelineEvents {
  get runStarted(): ISignal<this, IRunStarted> {
    return this._runStarted;
  }

  /** A run was refused for its issues (validation errors). */
  get runRefused(): ISignal<this, IRunRefused> {
    return this._runRefused;
  }

  get configsChanged(): ISignal<this, void> {
    return this._configsChanged;
  }

  notifyRunStarted(event: IRunStarted): void {
    this._runStarted.emit(event);
  }

  notifyRunRefused(event: IRunRefused): void {
    this._runRefused.emit(event);
  }

  notifyConfigsChanged(): void {
    this._configsChanged.emit();
  }

  private _runStarted = new Signal<this, IRunStarted>(this);
  private _runRefused = new Signal<this, IRunRefused>(this);
  private _configsChanged = new Signal<this, void>(this);
}
