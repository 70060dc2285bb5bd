/**
 * The Pipeline Runs section of the sidebar: the run model's recent runs with status, duration and runtime; a run
 * expands to its nodes, their logs and executed notebooks, the KFP link and Cancel.
 */
import { Dialog, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { caretDownIcon, caretRightIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IDisposable } from '@lumino/disposable';

import { INodeRecord, IRunRecord, isFinal, PipelineApi } from './api';
import { IconButton, LinkButton } from './controls';
import { RunModel } from './runModel';
import { durationOf, formatDuration, formatTime, resultString, runtimeOf, shortId, statusText } from './format';

export interface IRunsPanelServices {
  runs: RunModel;
  api: PipelineApi;
  openArtifact: (run: IRunRecord, node: INodeRecord, name: string) => void;
  openSource: (path: string) => void;
}

const ARTIFACT_LABELS: Record<string, string> = { notebook: 'Notebook', log: 'Log' };

export class RunsPanel extends ReactWidget {
  constructor(private readonly services: IRunsPanelServices) {
    super();
    this.id = 'elyra-proc-runs';
    this.addClass('elyra-proc-runs-panel');
    this.title.label = 'Pipeline Runs';
    this.title.caption = 'Recent pipeline runs';
    this.node.dataset.testid = 'elyra-proc-runs-panel';
    services.runs.changed.connect(() => this.update(), this);
  }

  /** Reload the runs now. */
  refresh(): Promise<void> {
    return this.services.runs.refresh();
  }

  /** Expand a run and bring it into view. */
  async reveal(runId: string): Promise<void> {
    this._expand(runId);
    this._highlight = runId;
    await this.refresh();
    requestAnimationFrame(() => {
      const item = this.node.querySelector<HTMLElement>(`[data-run-id="${CSS.escape(runId)}"]`);
      item?.scrollIntoView?.({ block: 'nearest' });
      item?.querySelector<HTMLElement>('.elyra-proc-run-summary')?.focus();
    });
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._expanded.forEach(watch => watch.dispose());
    this._expanded.clear();
    super.dispose();
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  /** An expanded run is asked of its runtime on each poll while it is in progress. */
  private _expand(runId: string): void {
    if (!this._expanded.has(runId)) {
      this._expanded.set(runId, this.services.runs.watch(runId));
    }
  }

  private async _cancel(run: IRunRecord): Promise<void> {
    const answer = await showDialog({
      title: 'Cancel run?',
      body: `Cancel the run of ${run.name} (${shortId(run.id)})? Nodes in progress are stopped.`,
      buttons: [
        Dialog.cancelButton({ label: 'Keep running' }),
        Dialog.warnButton({ label: 'Cancel run', ariaLabel: 'Cancel the run' })
      ]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await this.services.api.cancel(run.id);
    } catch (error) {
      await showErrorMessage('The run could not be cancelled', (error as Error).message);
    }
    await this.refresh();
  }

  private _toggle(runId: string): void {
    const watch = this._expanded.get(runId);
    if (watch) {
      watch.dispose();
      this._expanded.delete(runId);
    } else {
      this._expand(runId);
    }
    this.update();
  }

  protected render(): JSX.Element {
    return (
      <div className="elyra-proc-panel">
        <div className="elyra-proc-panel-toolbar">
          <IconButton
            testId="elyra-proc-runs-refresh"
            label="Refresh the list of runs"
            title="Refresh"
            onClick={() => void this.refresh()}
          >
            <refreshIcon.react tag="span" elementSize="normal" />
          </IconButton>
          <span className="elyra-proc-muted elyra-proc-panel-status" role="status">
            {this.services.runs.error
              ? ''
              : this.services.runs.updated
                ? `${this.services.runs.runs.length} run${this.services.runs.runs.length === 1 ? '' : 's'} · updated ${this.services.runs.updated.toLocaleTimeString()}`
                : 'Loading…'}
          </span>
        </div>
        {this.services.runs.error && (
          <p className="elyra-proc-error-text" role="alert" data-testid="elyra-proc-runs-error">
            {this.services.runs.error}
          </p>
        )}
        {this.services.runs.updated && this.services.runs.runs.length === 0 && !this.services.runs.error && (
          <p className="elyra-proc-muted elyra-proc-empty" data-testid="elyra-proc-runs-empty">
            No runs yet. Run a pipeline from its view, or choose “Run as Pipeline” on a file.
          </p>
        )}
        <ul className="elyra-proc-run-list" data-testid="elyra-proc-runs-list" aria-label="Recent pipeline runs">
          {this.services.runs.runs.map(run => this._renderRun(run))}
        </ul>
      </div>
    );
  }

  private _renderRun(run: IRunRecord): JSX.Element {
    const expanded = this._expanded.has(run.id);
    const detailsId = `elyra-proc-run-details-${run.id}`;
    const Caret = expanded ? caretDownIcon : caretRightIcon;
    return (
      <li
        key={run.id}
        className={`elyra-proc-run${run.id === this._highlight ? ' elyra-proc-highlight' : ''}`}
        data-testid={`elyra-proc-run-${run.id}`}
        data-run-id={run.id}
        data-status={run.status}
      >
        <button
          type="button"
          className="elyra-proc-run-summary"
          aria-expanded={expanded}
          aria-controls={detailsId}
          aria-label={`${run.name}, ${statusText(run)}, ${formatDuration(durationOf(run))}, ${runtimeOf(run)}, ${formatTime(run.submitted)}`}
          data-testid={`elyra-proc-run-toggle-${run.id}`}
          onClick={() => this._toggle(run.id)}
        >
          <Caret.react tag="span" elementSize="small" className="elyra-proc-caret" />
          <span className="elyra-proc-run-line">
            <span className="elyra-proc-run-name">{run.name}</span>
            <span className={`elyra-proc-badge elyra-proc-status-${run.status}`}>{statusText(run)}</span>
          </span>
          <span className="elyra-proc-run-meta">
            {formatDuration(durationOf(run))} · {runtimeOf(run)} · {formatTime(run.submitted)}
          </span>
        </button>
        {expanded && this._renderDetails(run, detailsId)}
      </li>
    );
  }

  private _renderDetails(run: IRunRecord, detailsId: string): JSX.Element {
    const runUrl = resultString(run, 'run_url');
    const experiment = resultString(run, 'experiment_name') ?? resultString(run, 'experiment_id');
    const storage = resultString(run, 'object_storage_path');
    return (
      <div id={detailsId} className="elyra-proc-run-details" data-testid={`elyra-proc-run-details-${run.id}`}>
        <dl className="elyra-proc-details-list">
          <dt>Run id</dt>
          <dd>
            <code>{run.id}</code>
          </dd>
          {run.source && (
            <>
              <dt>Source</dt>
              <dd>
                <LinkButton
                  testId={`elyra-proc-run-source-${run.id}`}
                  label={`Open ${run.source}`}
                  onClick={() => this.services.openSource(run.source!)}
                >
                  {PathExt.basename(run.source)}
                </LinkButton>
              </dd>
            </>
          )}
          <dt>Started</dt>
          <dd>{formatTime(run.started ?? run.submitted)}</dd>
          {experiment && (
            <>
              <dt>Experiment</dt>
              <dd>{experiment}</dd>
            </>
          )}
          {storage && (
            <>
              <dt>Storage</dt>
              <dd>
                <code>{storage}</code>
              </dd>
            </>
          )}
          {run.progress && !isFinal(run.status) && (
            <>
              <dt>Progress</dt>
              <dd>{run.progress}</dd>
            </>
          )}
          {run.error && (
            <>
              <dt>Error</dt>
              <dd className="elyra-proc-error-text" data-testid={`elyra-proc-run-error-${run.id}`}>
                {run.error}
              </dd>
            </>
          )}
        </dl>
        <div className="elyra-proc-actions">
          {runUrl && (
            <a
              className="elyra-proc-link-as-button"
              href={runUrl}
              target="_blank"
              rel="noopener noreferrer"
              data-testid={`elyra-proc-run-kfp-link-${run.id}`}
              aria-label={`Open run ${run.name} in Kubeflow Pipelines (new tab)`}
            >
              Open in KFP
            </a>
          )}
          {!isFinal(run.status) && (
            <button
              type="button"
              className="jp-Button jp-mod-styled jp-mod-warn elyra-proc-small-button"
              data-testid={`elyra-proc-run-cancel-${run.id}`}
              aria-label={`Cancel run ${run.name}`}
              onClick={() => void this._cancel(run)}
            >
              Cancel
            </button>
          )}
        </div>
        <ul className="elyra-proc-node-list" aria-label={`Nodes of run ${run.name}`}>
          {run.nodes.map(node => (
            <li
              key={node.id}
              className="elyra-proc-node-item"
              data-testid={`elyra-proc-run-node-${run.id}-${node.id}`}
              data-node-id={node.id}
              data-status={node.status}
            >
              <div className="elyra-proc-node-line">
                <span className="elyra-proc-node-name" title={node.filename ?? node.name}>
                  {node.name}
                </span>
                <span className={`elyra-proc-badge elyra-proc-status-${node.status}`}>{node.status}</span>
                <span className="elyra-proc-muted">{formatDuration(durationOf(node))}</span>
              </div>
              {node.error && <div className="elyra-proc-error-text elyra-proc-node-error">{node.error}</div>}
              {Object.keys(node.artifacts ?? {}).length > 0 && (
                <div className="elyra-proc-actions">
                  {Object.keys(node.artifacts).map(name => (
                    <button
                      key={name}
                      type="button"
                      className="jp-Button jp-mod-styled jp-mod-reject elyra-proc-small-button"
                      data-testid={`elyra-proc-open-${name}`}
                      aria-label={`Open the ${ARTIFACT_LABELS[name]?.toLowerCase() ?? name} of ${node.name}`}
                      onClick={() => this.services.openArtifact(run, node, name)}
                    >
                      {ARTIFACT_LABELS[name] ?? name}
                    </button>
                  ))}
                </div>
              )}
            </li>
          ))}
        </ul>
      </div>
    );
  }

  /** The expanded runs, each watched while expanded. */
  private _expanded = new Map<string, IDisposable>();
  private _highlight: string | null = null;
}
