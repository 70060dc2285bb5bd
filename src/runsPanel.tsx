/**
 * The Pipeline Runs section of the sidebar: the run model's runs, filtered by the server (status, runtime, the
 * current pipeline), with status, duration and runtime; a run expands to its nodes, their logs and executed
 * notebooks, the failed nodes' last error lines, the KFP link and Cancel. Built for the sidebar's default width:
 * long names and ids are cut with an ellipsis (full text on hover, a copy button), never mid-word.
 */
import { Clipboard, Dialog, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { caretDownIcon, caretRightIcon, copyIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { IDisposable } from '@lumino/disposable';

import { INodeRecord, IRunRecord, isFinal, PipelineApi, RunStatus } from './api';
import { Button, IconButton, LinkButton, Select } from './controls';
import { isUnfiltered, RunModel } from './runModel';
import {
  durationOf,
  formatDuration,
  formatTime,
  lastLine,
  resultString,
  runtimeOf,
  shortId,
  statusText
} from './format';

export interface IRunsPanelServices {
  runs: RunModel;
  api: PipelineApi;
  openArtifact: (run: IRunRecord, node: INodeRecord, name: string) => void;
  openSource: (path: string) => void;
}

const ARTIFACT_LABELS: Record<string, string> = { notebook: 'Notebook', log: 'Log' };

/** The status filter's choices, each standing for the run states the server is asked for. */
const STATUS_CHOICES: readonly { value: string; label: string; statuses: readonly RunStatus[] }[] = [
  { value: '', label: 'Any status', statuses: [] },
  { value: 'active', label: 'In progress', statuses: ['pending', 'running', 'submitted'] },
  { value: 'succeeded', label: 'Succeeded', statuses: ['succeeded'] },
  { value: 'failed', label: 'Failed', statuses: ['failed'] },
  { value: 'cancelled', label: 'Cancelled', statuses: ['cancelled'] },
  { value: 'interrupted', label: 'Interrupted', statuses: ['interrupted'] }
];

/** The runtime filter's choices: the local processor and every processor and configuration the runs name. */
function runtimeChoices(runs: readonly IRunRecord[], chosen: string): string[] {
  const names = new Set(['local', ...runs.flatMap(run => [run.runtime, run.runtime_config ?? ''])]);
  names.add(chosen);
  names.delete('');
  return [...names].sort();
}

/** A one-line value cut with an ellipsis, its full text on hover, and a button that copies it. */
function CopyableText(props: { text: string; what: string; testId: string }): JSX.Element {
  return (
    <span className="elyra-proc-copyable">
      <code className="elyra-proc-one-line" title={props.text} data-testid={props.testId}>
        {props.text}
      </code>
      <IconButton
        testId={`${props.testId}-copy`}
        label={`Copy the ${props.what}`}
        onClick={() => Clipboard.copyToSystem(props.text)}
      >
        <copyIcon.react tag="span" elementSize="small" />
      </IconButton>
    </span>
  );
}

/** An error's last line, the whole text on hover and, when it has more lines, under "Details". */
function ErrorText(props: { error: string; className: string; testId: string }): JSX.Element {
  const line = lastLine(props.error);
  return (
    <div className={props.className} data-testid={props.testId}>
      <p className="elyra-proc-error-line" title={props.error}>
        {line}
      </p>
      {line !== props.error.trim() && (
        <details className="elyra-proc-error-details">
          <summary>Details</summary>
          <pre>{props.error}</pre>
        </details>
      )}
    </div>
  );
}

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

  /** The pipeline file of the current editor, which "This pipeline only" lists the runs of. */
  get pipeline(): string | null {
    return this._pipeline;
  }

  set pipeline(path: string | null) {
    if (path !== this._pipeline) {
      this._pipeline = path;
      if (this._thisPipelineOnly) {
        this._applyFilter();
      }
      this.update();
    }
  }

  /** Reload the runs now. */
  refresh(): Promise<void> {
    return this.services.runs.refresh();
  }

  /** Expand a run and bring it into view; filters that hide it are cleared. */
  async reveal(runId: string): Promise<void> {
    this._expand(runId);
    this._highlight = runId;
    await this.refresh();
    if (!this.services.runs.filtered.some(run => run.id === runId)) {
      this._clearFilters();
      await this.refresh();
    }
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

  /** Hand the chosen filters to the run model, which has the server filter the runs. */
  private _applyFilter(): void {
    const source = this._thisPipelineOnly && this._pipeline ? this._pipeline : undefined;
    this.services.runs.filter = {
      status: STATUS_CHOICES.find(choice => choice.value === this._status)?.statuses,
      runtime: this._runtime || undefined,
      source
    };
  }

  private _clearFilters(): void {
    this._status = '';
    this._runtime = '';
    this._thisPipelineOnly = false;
    this._applyFilter();
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
    const model = this.services.runs;
    const runs = model.filtered;
    const filtered = !isUnfiltered(model.filter);
    const count = `${runs.length}${filtered ? ' matching' : ''} run${runs.length === 1 ? '' : 's'}`;
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
            {model.error
              ? ''
              : model.updated && !model.filtering
                ? `${count} · updated ${model.updated.toLocaleTimeString()}`
                : 'Loading…'}
          </span>
        </div>
        {this._renderFilters()}
        {model.error && (
          <p className="elyra-proc-error-text" role="alert" data-testid="elyra-proc-runs-error">
            {model.error}
          </p>
        )}
        {model.updated && !model.filtering && runs.length === 0 && !model.error && (
          <p className="elyra-proc-muted elyra-proc-empty" data-testid="elyra-proc-runs-empty">
            {filtered ? (
              <>
                No runs match these filters.{' '}
                <LinkButton
                  testId="elyra-proc-runs-clear-filters"
                  label="Clear the filters"
                  onClick={() => this._clearFilters()}
                >
                  Clear filters
                </LinkButton>
              </>
            ) : (
              'No runs yet. Run a pipeline from its view, or choose “Run as Pipeline” on a file.'
            )}
          </p>
        )}
        <ul className="elyra-proc-run-list" data-testid="elyra-proc-runs-list" aria-label="Pipeline runs">
          {runs.map(run => this._renderRun(run))}
        </ul>
      </div>
    );
  }

  /** One filter's select; choosing applies the filters at once. */
  private _renderFilter(
    label: string,
    title: string,
    value: string,
    choices: readonly { value: string; label: string }[],
    choose: (value: string) => void
  ): JSX.Element {
    return (
      <Select
        aria-label={label}
        title={title}
        testId={`elyra-proc-runs-filter-${label.toLowerCase()}`}
        value={value}
        onChange={event => {
          choose(event.currentTarget.value);
          this._applyFilter();
        }}
      >
        {choices.map(choice => (
          <option key={choice.value} value={choice.value}>
            {choice.label}
          </option>
        ))}
      </Select>
    );
  }

  private _renderFilters(): JSX.Element {
    const pipeline = this._pipeline;
    return (
      <div className="elyra-proc-runs-filters" role="group" aria-label="Filter the runs">
        {this._renderFilter('Status', 'Only runs in this state', this._status, STATUS_CHOICES, value => {
          this._status = value;
        })}
        {this._renderFilter(
          'Runtime',
          'Only runs on this runtime or runtime configuration',
          this._runtime,
          [
            { value: '', label: 'Any runtime' },
            ...runtimeChoices(this.services.runs.runs, this._runtime).map(name => ({ value: name, label: name }))
          ],
          value => {
            this._runtime = value;
          }
        )}
        <label
          className="elyra-proc-runs-this-pipeline"
          title={pipeline ? `Only runs of ${pipeline}` : 'Open a pipeline to list only its runs'}
        >
          <input
            type="checkbox"
            data-testid="elyra-proc-runs-filter-pipeline"
            checked={this._thisPipelineOnly && !!pipeline}
            disabled={!pipeline}
            onChange={event => {
              this._thisPipelineOnly = event.currentTarget.checked;
              this._applyFilter();
            }}
          />
          <span className="elyra-proc-one-line">
            This pipeline only
            {pipeline && <span className="elyra-proc-muted"> · {PathExt.basename(pipeline)}</span>}
          </span>
        </label>
      </div>
    );
  }

  private _renderRun(run: IRunRecord): JSX.Element {
    const expanded = this._expanded.has(run.id);
    const detailsId = `elyra-proc-run-details-${run.id}`;
    const Caret = expanded ? caretDownIcon : caretRightIcon;
    const failed = run.nodes.filter(node => node.status === 'failed');
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
            <span className="elyra-proc-run-name" title={run.name}>
              {run.name}
            </span>
            <span className={`elyra-proc-badge elyra-proc-status-${run.status}`}>{statusText(run)}</span>
          </span>
          <span className="elyra-proc-run-meta" title={`${runtimeOf(run)} · ${formatTime(run.submitted)}`}>
            <span className="elyra-proc-duration">{formatDuration(durationOf(run))}</span> · {runtimeOf(run)} ·{' '}
            {formatTime(run.submitted)}
          </span>
          {failed.length > 0 && (
            <span className="elyra-proc-run-failed-nodes elyra-proc-error-text">
              Failed: {failed.map(node => node.name).join(', ')}
            </span>
          )}
        </button>
        {expanded && this._renderDetails(run, detailsId)}
      </li>
    );
  }

  private _renderDetails(run: IRunRecord, detailsId: string): JSX.Element {
    const runUrl = resultString(run, 'run_url');
    const experiment = resultString(run, 'experiment_name') ?? resultString(run, 'experiment_id');
    const storage = resultString(run, 'object_storage_path');
    // A failed node shows its own error; the run's error (which gathers them) only when no node has one.
    const runError = run.error && !run.nodes.some(node => node.status === 'failed' && node.error) ? run.error : null;
    return (
      <div id={detailsId} className="elyra-proc-run-details" data-testid={`elyra-proc-run-details-${run.id}`}>
        <dl className="elyra-proc-details-list">
          <dt>Run id</dt>
          <dd>
            <CopyableText text={run.id} what="run id" testId={`elyra-proc-run-id-${run.id}`} />
          </dd>
          {run.source && (
            <>
              <dt>Source</dt>
              <dd className="elyra-proc-one-line" title={run.source}>
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
          <dd className="elyra-proc-one-line">{formatTime(run.started ?? run.submitted)}</dd>
          {experiment && (
            <>
              <dt>Experiment</dt>
              <dd className="elyra-proc-one-line" title={experiment}>
                {experiment}
              </dd>
            </>
          )}
          {storage && (
            <>
              <dt>Storage</dt>
              <dd>
                <CopyableText text={storage} what="storage path" testId={`elyra-proc-run-storage-${run.id}`} />
              </dd>
            </>
          )}
          {run.progress && !isFinal(run.status) && (
            <>
              <dt>Progress</dt>
              <dd>{run.progress}</dd>
            </>
          )}
        </dl>
        {runError && (
          <ErrorText error={runError} className="elyra-proc-error-text" testId={`elyra-proc-run-error-${run.id}`} />
        )}
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
            <Button
              kind="warn"
              small
              testId={`elyra-proc-run-cancel-${run.id}`}
              aria-label={`Cancel run ${run.name}`}
              onClick={() => void this._cancel(run)}
            >
              Cancel
            </Button>
          )}
        </div>
        <ul className="elyra-proc-node-list" aria-label={`Nodes of run ${run.name}`}>
          {run.nodes.map(node => this._renderNode(run, node))}
        </ul>
      </div>
    );
  }

  /** A node: its name and duration, then its state and artifacts, then its error. */
  private _renderNode(run: IRunRecord, node: INodeRecord): JSX.Element {
    return (
      <li
        key={node.id}
        className="elyra-proc-node-item"
        data-testid={`elyra-proc-run-node-${run.id}-${node.id}`}
        data-node-id={node.id}
        data-status={node.status}
      >
        <div className="elyra-proc-node-heading">
          <span className="elyra-proc-node-name" title={node.filename ? `${node.name} (${node.filename})` : node.name}>
            {node.name}
          </span>
          <span className="elyra-proc-muted elyra-proc-duration">{formatDuration(durationOf(node))}</span>
        </div>
        <div className="elyra-proc-node-line">
          <span className={`elyra-proc-badge elyra-proc-status-${node.status}`}>{node.status}</span>
          {Object.keys(node.artifacts ?? {}).map(name => (
            <Button
              key={name}
              kind="reject"
              small
              testId={`elyra-proc-open-${name}`}
              aria-label={`Open the ${ARTIFACT_LABELS[name]?.toLowerCase() ?? name} of ${node.name}`}
              onClick={() => this.services.openArtifact(run, node, name)}
            >
              {ARTIFACT_LABELS[name] ?? name}
            </Button>
          ))}
        </div>
        {node.error && (
          <ErrorText
            error={node.error}
            className={node.status === 'failed' ? 'elyra-proc-error-text elyra-proc-node-error' : 'elyra-proc-muted'}
            testId={`elyra-proc-node-error-${run.id}-${node.id}`}
          />
        )}
      </li>
    );
  }

  /** The expanded runs, each watched while expanded. */
  private _expanded = new Map<string, IDisposable>();
  private _highlight: string | null = null;
  private _pipeline: string | null = null;
  /** The chosen filters: a STATUS_CHOICES value, a runtime name ('' for any), whether only `pipeline`'s runs. */
  private _status = '';
  private _runtime = '';
  private _thisPipelineOnly = false;
}
