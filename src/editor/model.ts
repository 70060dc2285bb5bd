/**
 * The document an editor edits, kept in step with JupyterLab's document model (so dirty state, save, revert and a
 * text editor open on the same file follow every edit), with an undo history of whole documents (restoring one
 * restores every property exactly) and the issues the server's validation finds, checked again soon after each
 * change.
 */
import { Notification } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { ISignal, Signal } from '@lumino/signaling';

import { ApiError, IIssue, PipelineApi } from '../api';
import { JsonObject, parsePipeline, preparePipeline } from '../pipeline';
import { CURRENT_VERSION, pipelineOf } from './document';
import { History } from './history';

/** Edits within this time of one another, with the same label, make one undo step (a field typed into). */
const COALESCE_MS = 800;
const VALIDATE_DELAY_MS = 500;

export class EditorModel {
  constructor(
    private readonly context: DocumentRegistry.Context,
    private readonly api: PipelineApi
  ) {
    context.model.contentChanged.connect(this._onContentChanged, this);
    void context.ready.then(() => this._load(context.model.toString(), true));
  }

  /** The document changed (an edit, undo, a change from elsewhere), or its issues did. */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /** The document, or null when the file is not a valid pipeline (see `error`). */
  get document(): JsonObject | null {
    return this._document;
  }

  /** Why the file is not a pipeline. */
  get error(): string | null {
    return this._error;
  }

  get issues(): IIssue[] {
    return this._issues;
  }

  /** A check is running. */
  get checking(): boolean {
    return this._checking;
  }

  /** Why the last check could not run (server unreachable...). */
  get checkError(): string | null {
    return this._checkError;
  }

  get canUndo(): boolean {
    return this._history.canUndo || this._pendingLabel !== null;
  }

  get canRedo(): boolean {
    return this._history.canRedo && this._pendingLabel === null;
  }

  /** What undo would take back ("Move", "Edit properties"...), or null. */
  get undoLabel(): string | null {
    return this._pendingLabel ?? this._history.undoLabel;
  }

  /** What redo would make again, or null. */
  get redoLabel(): string | null {
    return this._pendingLabel === null ? this._history.redoLabel : null;
  }

  /** Issues from elsewhere (a run refused for them), shown until the next check. */
  setIssues(issues: IIssue[]): void {
    this._issues = issues;
    this._changed.emit();
  }

  /**
   * Apply an edit: written to the document model at once, recorded as one undo step (`coalesce`: edits following
   * quickly with the same label make one step), checked soon. An edit that throws changes nothing and says why.
   */
  edit(label: string, change: (document: JsonObject) => JsonObject, coalesce = false): boolean {
    if (!this._document) {
      return false;
    }
    let edited: JsonObject;
    try {
      edited = change(this._document);
    } catch (error) {
      Notification.warning((error as Error).message, { autoClose: 5000 });
      return false;
    }
    const text = JSON.stringify(edited, null, 2);
    if (text === this._text) {
      return false;
    }
    if (!coalesce || this._pendingLabel !== label) {
      this._flushPending();
    }
    this._text = text;
    this._document = edited;
    this._write(text);
    if (coalesce) {
      this._pendingLabel = label;
      window.clearTimeout(this._pendingTimer);
      this._pendingTimer = window.setTimeout(() => this._flushPending(), COALESCE_MS);
    } else {
      this._history.push(text, label);
    }
    this._scheduleValidation();
    this._changed.emit();
    return true;
  }

  undo(): void {
    this._flushPending();
    const text = this._history.undo();
    if (text !== null) {
      this._restore(text);
    }
  }

  redo(): void {
    const text = this._history.redo();
    if (text !== null) {
      this._restore(text);
    }
  }

  dispose(): void {
    window.clearTimeout(this._validateTimer);
    this._flushPending();
    this._disposed = true;
    Signal.clearData(this);
  }

  private _flushPending(): void {
    window.clearTimeout(this._pendingTimer);
    if (this._pendingLabel !== null) {
      this._history.push(this._text, this._pendingLabel);
      this._pendingLabel = null;
    }
  }

  /** Put the text in the document model, marked as not saved (JupyterLab's own editors mark their edits so). */
  private _write(text: string): void {
    this.context.model.fromString(text);
    this.context.model.dirty = true;
  }

  private _restore(text: string): void {
    this._text = text;
    this._write(text);
    this._parse(text);
    this._scheduleValidation();
    this._changed.emit();
  }

  private _onContentChanged(): void {
    const text = this.context.model.toString();
    if (text !== this._text && this.context.isReady) {
      this._load(text, false);
    }
  }

  /** Take the file's text: on open, and after a change made elsewhere (text editor, revert), which is undoable. */
  private _load(text: string, opening: boolean): void {
    this._flushPending();
    this._text = text;
    this._parse(text);
    if (opening) {
      this._history.reset(text);
      void this._migrateIfOld();
    } else if (this._document) {
      this._history.push(text, 'Edit outside the editor');
    }
    this._scheduleValidation(0);
    this._changed.emit();
  }

  private _parse(text: string): void {
    try {
      this._document = parsePipeline(text);
      this._error = null;
    } catch (error) {
      this._document = null;
      this._error = (error as Error).message;
    }
  }

  /** Older format versions are migrated as the server migrates them, after telling the user. */
  private async _migrateIfOld(): Promise<void> {
    const document = this._document;
    const version = Number(document ? pipelineOf(document).app_data?.version : CURRENT_VERSION);
    if (!document || !(version < CURRENT_VERSION)) {
      return;
    }
    try {
      const answer = await this.api.migrate(document, this.context.path);
      if (answer.from_version === null || this._disposed || this._document !== document) {
        return;
      }
      this.edit('Update the format', () => answer.pipeline);
      Notification.info(
        `${PathExt.basename(this.context.path)} was written in pipeline format version ${answer.from_version}. ` +
          `The editor shows it in version ${CURRENT_VERSION}, which saving writes (Elyra 3.15 and later read it).`,
        { autoClose: 10000 }
      );
    } catch (error) {
      Notification.warning(`Could not update this pipeline's format: ${(error as Error).message}`, {
        autoClose: 8000
      });
    }
  }

  private _scheduleValidation(delay = VALIDATE_DELAY_MS): void {
    window.clearTimeout(this._validateTimer);
    this._validateTimer = window.setTimeout(() => void this._validate(), delay);
  }

  /** Check the document now; its issues, or null when the check could not run (see `checkError`). */
  async validate(): Promise<IIssue[] | null> {
    window.clearTimeout(this._validateTimer);
    await this._validate();
    return this._checkError ? null : this._issues;
  }

  /** Check the document on the server (its checks run in worker processes); stale answers are dropped. */
  private async _validate(): Promise<void> {
    const document = this._document;
    if (!document || this._disposed) {
      return;
    }
    const token = ++this._validateToken;
    this._checking = true;
    this._changed.emit();
    const runtimeConfig = pipelineOf(document).app_data?.runtime_config;
    const target = typeof runtimeConfig === 'string' && runtimeConfig ? { runtimeConfig } : { runtime: 'local' };
    let issues: IIssue[] = [];
    let failure: string | null = null;
    try {
      const answer = await this.api.validate(preparePipeline(document, { source: this.context.path }), target);
      issues = answer.issues;
    } catch (error) {
      if (error instanceof ApiError && error.issues.length) {
        issues = error.issues;
      } else {
        failure = (error as Error).message;
      }
    }
    if (token !== this._validateToken || this._disposed) {
      return;
    }
    this._checking = false;
    this._checkError = failure;
    if (!failure) {
      this._issues = issues;
    }
    this._changed.emit();
  }

  private readonly _history = new History();
  private _changed = new Signal<this, void>(this);
  private _text = '';
  private _document: JsonObject | null = null;
  private _error: string | null = null;
  private _issues: IIssue[] = [];
  private _checking = false;
  private _checkError: string | null = null;
  private _pendingLabel: string | null = null;
  private _pendingTimer = 0;
  private _validateTimer = 0;
  private _validateToken = 0;
  private _disposed = false;
}
