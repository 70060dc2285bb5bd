/**
 * The read-only pipeline view: a document widget for `.pipeline` files showing the flattened graph, the selected
 * node's details and, while a run of this pipeline is in progress, each node's live status.
 */
import { PathExt } from '@jupyterlab/coreutils';
import { ReactWidget } from '@jupyterlab/apputils';
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget } from '@jupyterlab/docregistry';
import { ToolbarButton, runIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ApiError, IIssue, INodeRecord, IRunRecord, isFinal, PipelineApi } from './api';
import { LinkButton } from './controls';
import { PipelineEvents } from './events';
import { formatDuration, durationOf, shortId, statusText } from './format';
import { GraphArea, INodeState } from './graphview';
import { exportIcon } from './icons';
import { IGraphLayout, layoutGraph } from './layout';
import { flattenPipeline, IGraphNode, IPipelineGraph, JsonObject, KIND_LABELS, parsePipeline } from './pipeline';

/** What the view needs from the rest of the extension. */
export interface IPipelineViewServices {
  api: PipelineApi;
  events: PipelineEvents;
  openFile: (path: string) => void;
  openArtifact: (run: IRunRecord, node: INodeRecord, name: string) => void;
  run: (widget: PipelineDocument) => Promise<void>;
  exportPipeline: (widget: PipelineDocument) => Promise<void>;
  showRuns: (runId?: string) => void;
}

/** Poll intervals: local runs change fast; submitted (remote) runs are asked of their cluster on each poll. */
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

export class PipelineView extends ReactWidget {
  constructor(
    readonly context: DocumentRegistry.Context,
    private readonly services: IPipelineViewServices
  ) {
    super();
    this.addClass('elyra-proc-view');
    this.node.dataset.testid = 'elyra-proc-view';
    this.node.setAttribute('aria-label', 'Pipeline graph view');
    context.model.contentChanged.connect(this._parse, this);
    services.events.runStarted.connect((_, event) => {
      if (sameSource(event.path, this.context.path)) {
        // The run was accepted: the issues of an earlier refusal no longer hold.
        this.setIssues([]);
        void this.followRun(event.runId);
      }
    }, this);
    services.events.runRefused.connect((_, event) => {
      if (sameSource(event.path, this.context.path)) {
        this.setIssues(event.issues);
      }
    }, this);
    void context.ready.then(() => {
      this._parse();
      void this._findLatestRun();
    });
  }

  /** The parsed document, or null when the file is not a valid pipeline. */
  get document(): JsonObject | null {
    return this._document;
  }

  get graph(): IPipelineGraph | null {
    return this._graph;
  }

  get selected(): string | null {
    return this._selected;
  }

  /** The run being shown (followed live while not final). */
  get run(): IRunRecord | null {
    return this._run;
  }

  /** The issues of the last refused run, by node id (empty once a run is accepted). */
  get issues(): ReadonlyMap<string, IIssue[]> {
    return this._issues;
  }

  /** Mark the nodes named by these issues in the graph (an empty list clears the marks). */
  setIssues(issues: IIssue[]): void {
    const byNode = new Map<string, IIssue[]>();
    for (const issue of issues) {
      const nodeId = issue.data?.nodeID;
      if (nodeId) {
        byNode.set(nodeId, [...(byNode.get(nodeId) ?? []), issue]);
      }
    }
    this._issues = byNode;
    this.update();
  }

  /** Select a node, scroll it into view and focus it. */
  selectNode(nodeId: string | null, focus = true): void {
    this._selected = nodeId;
    this.update();
    if (nodeId && focus) {
      // The graph renders asynchronously (and may not exist yet in a view just opened): try for a while.
      let tries = 0;
      const focusNode = (): void => {
        const element = this.node.querySelector<SVGGElement>(`[data-node-id="${CSS.escape(nodeId)}"]`);
        if (element && this.isVisible) {
          element.scrollIntoView?.({ block: 'nearest', inline: 'nearest' });
          element.focus();
        } else if (++tries < 60 && !this.isDisposed && this._selected === nodeId) {
          requestAnimationFrame(focusNode);
        }
      };
      requestAnimationFrame(focusNode);
    }
  }

  /** Show a run's node states, polling it about every second until it is final. */
  async followRun(runId: string): Promise<void> {
    const token = ++this._pollToken;
    this._runError = null;
    while (!this.isDisposed && token === this._pollToken) {
      let run: IRunRecord;
      try {
        run = await this.services.api.run(runId);
      } catch (error) {
        if (token !== this._pollToken) {
          return;
        }
        this._runError = error instanceof ApiError ? error.message : String(error);
        this.update();
        if (error instanceof ApiError && error.status === 404) {
          return;
        }
        await sleep(REMOTE_POLL_MS);
        continue;
      }
      if (token !== this._pollToken || this.isDisposed) {
        return;
      }
      this._run = run;
      this._runError = null;
      this.update();
      if (isFinal(run.status)) {
        return;
      }
      await sleep(run.status === 'submitted' ? REMOTE_POLL_MS : POLL_MS);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this._pollToken++;
    super.dispose();
  }

  protected render(): JSX.Element {
    if (this._error) {
      return (
        <div className="elyra-proc-view-error" role="alert" data-testid="elyra-proc-view-error">
          {this._error}
        </div>
      );
    }
    const graph = this._graph;
    if (!graph) {
      return <div className="elyra-proc-view-loading">Loading…</div>;
    }
    const states = this._states();
    const selected = graph.nodes.find(node => node.id === this._selected) ?? null;
    return (
      <div className="elyra-proc-view-layout">
        <div className="elyra-proc-view-header">
          <div className="elyra-proc-view-title">
            <span className="elyra-proc-view-name" data-testid="elyra-proc-view-name">
              {graph.name || PathExt.basename(this.context.path)}
            </span>
            {graph.description && <span className="elyra-proc-view-description">{graph.description}</span>}
          </div>
          {this._renderRunStatus()}
        </div>
        {graph.problems.length > 0 && (
          <ul className="elyra-proc-view-problems" data-testid="elyra-proc-view-problems" role="alert">
            {graph.problems.map((problem, index) => (
              <li key={index}>{problem}</li>
            ))}
          </ul>
        )}
        <div className="elyra-proc-view-body">
          <GraphArea
            graph={graph}
            layout={this._graphLayout!}
            zoom={this._zoom}
            onZoom={zoom => {
              this._zoom = zoom;
              this.update();
            }}
            states={states}
            issues={this._issues}
            selected={this._selected}
            onSelect={nodeId => this.selectNode(nodeId, false)}
            onOpen={nodeId => this._openNodeFile(nodeId)}
          />
          {this._renderDetails(selected, states)}
        </div>
        {this._renderLegend()}
      </div>
    );
  }

  private _renderRunStatus(): JSX.Element {
    const run = this._run;
    return (
      <div
        className="elyra-proc-view-run"
        role="status"
        aria-live="polite"
        data-testid="elyra-proc-view-run-status"
        data-status={run?.status ?? 'none'}
        data-run-id={run?.id ?? ''}
      >
        {run ? (
          <>
            <span>{isFinal(run.status) ? 'Last run' : 'Run'} </span>
            <LinkButton
              label={`Show run ${run.id} in the Pipeline Runs panel`}
              onClick={() => this.services.showRuns(run.id)}
            >
              {shortId(run.id)}
            </LinkButton>
            <span className={`elyra-proc-badge elyra-proc-status-${run.status}`}>{statusText(run)}</span>
            <span className="elyra-proc-muted">{formatDuration(durationOf(run))}</span>
          </>
        ) : (
          <span className="elyra-proc-muted">Not run yet from this server</span>
        )}
        {this._runError && <span className="elyra-proc-error-text">{this._runError}</span>}
      </div>
    );
  }

  private _renderDetails(node: IGraphNode | null, states: Record<string, INodeState> | null): JSX.Element {
    const run = this._run;
    const record = node && run ? run.nodes.find(n => n.id === node.id) : undefined;
    return (
      <aside
        className="elyra-proc-details"
        data-testid="elyra-proc-node-details"
        aria-label="Selected node details"
      >
        {!node ? (
          <p className="elyra-proc-muted">
            Select a node (click, or Tab to it and press Enter) to see its details.
          </p>
        ) : (
          <>
            <h3 className="elyra-proc-details-title" data-testid="elyra-proc-details-title">
              {node.label}
            </h3>
            <dl className="elyra-proc-details-list">
              <dt>Type</dt>
              <dd>{node.kind === 'custom' ? node.op : `${KIND_LABELS[node.kind]} (${node.op})`}</dd>
              {node.filename && (
                <>
                  <dt>File</dt>
                  <dd>
                    <LinkButton
                      testId="elyra-proc-details-open-file"
                      label={`Open ${node.filename}`}
                      onClick={() => this._openNodeFile(node.id)}
                    >
                      {node.filename}
                    </LinkButton>
                  </dd>
                </>
              )}
              {node.runtimeImage && (
                <>
                  <dt>Image</dt>
                  <dd>{node.runtimeImage}</dd>
                </>
              )}
              {node.supernodes.length > 0 && (
                <>
                  <dt>Supernode</dt>
                  <dd>{node.supernodes.join(' / ')}</dd>
                </>
              )}
              {listParameter(node, 'dependencies', 'Dependencies')}
              {listParameter(node, 'outputs', 'Outputs')}
              {envVars(node)}
              {states?.[node.id] && (
                <>
                  <dt>Status</dt>
                  <dd data-testid="elyra-proc-details-status">
                    <span className={`elyra-proc-badge elyra-proc-status-${states[node.id].status}`}>
                      {states[node.id].status}
                    </span>{' '}
                    {record && formatDuration(durationOf(record))}
                  </dd>
                </>
              )}
              {(this._issues.get(node.id) ?? []).length > 0 && (
                <>
                  <dt>Issues</dt>
                  <dd className="elyra-proc-error-text" data-testid="elyra-proc-details-issues">
                    <ul className="elyra-proc-details-issues">
                      {this._issues.get(node.id)!.map((issue, index) => (
                        <li key={index}>{issue.message}</li>
                      ))}
                    </ul>
                  </dd>
                </>
              )}
              {record?.error && (
                <>
                  <dt>Error</dt>
                  <dd className="elyra-proc-error-text">{record.error}</dd>
                </>
              )}
            </dl>
            {run && record && Object.keys(record.artifacts ?? {}).length > 0 && (
              <div className="elyra-proc-actions">
                {Object.keys(record.artifacts).map(name => (
                  <button
                    key={name}
                    type="button"
                    className="jp-Button jp-mod-styled jp-mod-reject elyra-proc-small-button"
                    data-testid={`elyra-proc-details-artifact-${name}`}
                    aria-label={`Open the ${name} of ${node.label} in run ${shortId(run.id)}`}
                    onClick={() => this.services.openArtifact(run, record, name)}
                  >
                    {name === 'notebook' ? 'Executed notebook' : name === 'log' ? 'Log' : name}
                  </button>
                ))}
              </div>
            )}
          </>
        )}
      </aside>
    );
  }

  private _renderLegend(): JSX.Element | null {
    if (!this._run) {
      return null;
    }
    const shown = ['pending', 'running', 'submitted', 'succeeded', 'failed', 'skipped', 'cancelled'];
    return (
      <div className="elyra-proc-legend" aria-hidden="true">
        {shown.map(status => (
          <span key={status} className={`elyra-proc-legend-item elyra-proc-status-${status}`}>
            <span className="elyra-proc-legend-swatch" />
            {status}
          </span>
        ))}
      </div>
    );
  }

  private _states(): Record<string, INodeState> | null {
    if (!this._run) {
      return null;
    }
    const states: Record<string, INodeState> = {};
    for (const node of this._run.nodes) {
      states[node.id] = { status: node.status, error: node.error };
    }
    return states;
  }

  private _openNodeFile(nodeId: string): void {
    const node = this._graph?.nodes.find(n => n.id === nodeId);
    if (node?.filename) {
      this.services.openFile(PathExt.join(PathExt.dirname(this.context.path), node.filename));
    }
  }

  private _parse(): void {
    try {
      const document = parsePipeline(this.context.model.toString());
      this._document = document;
      this._graph = flattenPipeline(document);
      this._graphLayout = layoutGraph(this._graph);
      this._error = null;
      if (this._selected && !this._graph.nodes.some(node => node.id === this._selected)) {
        this._selected = null;
      }
    } catch (error) {
      this._document = null;
      this._graph = null;
      this._graphLayout = null;
      this._error = (error as Error).message;
    }
    this.update();
  }

  /** Show the newest run of this file: followed when in progress, its final states otherwise. */
  private async _findLatestRun(): Promise<void> {
    try {
      const runs = await this.services.api.runs(25);
      const latest = runs.find(run => sameSource(run.source, this.context.path));
      if (latest && !this._run && !this.isDisposed) {
        if (isFinal(latest.status)) {
          this._run = latest;
          this.update();
        } else {
          await this.followRun(latest.id);
        }
      }
    } catch {
      // The view works without run history (server extension missing or unreachable).
    }
  }

  private _document: JsonObject | null = null;
  private _graph: IPipelineGraph | null = null;
  private _graphLayout: IGraphLayout | null = null;
  private _zoom: number | null = null;
  private _error: string | null = null;
  private _selected: string | null = null;
  private _run: IRunRecord | null = null;
  private _runError: string | null = null;
  private _pollToken = 0;
  private _issues: ReadonlyMap<string, IIssue[]> = new Map();
}

function listParameter(node: IGraphNode, key: string, title: string): JSX.Element | null {
  const value = node.parameters[key];
  if (!Array.isArray(value) || value.length === 0) {
    return null;
  }
  return (
    <>
      <dt>{title}</dt>
      <dd>{value.map(String).join(', ')}</dd>
    </>
  );
}

function envVars(node: IGraphNode): JSX.Element | null {
  const names = node.envVars.map(entry => entry.name);
  return names.length ? (
    <>
      <dt>Environment</dt>
      <dd>{names.join(', ')}</dd>
    </>
  ) : null;
}

/** The document widget: the view plus a toolbar with Run and Export. */
export class PipelineDocument extends DocumentWidget<PipelineView> {
  constructor(options: DocumentWidget.IOptions<PipelineView>, services: IPipelineViewServices) {
    super(options);
    this.addClass('elyra-proc-document');
    this.toolbar.addItem(
      'elyra-proc-run',
      new ToolbarButton({
        icon: runIcon,
        label: 'Run',
        tooltip: 'Run this pipeline',
        dataset: { testid: 'elyra-proc-run-button' },
        onClick: () => void services.run(this)
      })
    );
    this.toolbar.addItem(
      'elyra-proc-export',
      new ToolbarButton({
        icon: exportIcon,
        label: 'Export',
        tooltip: 'Export this pipeline for a runtime configuration',
        dataset: { testid: 'elyra-proc-export-button' },
        onClick: () => void services.exportPipeline(this)
      })
    );
  }
}

export class PipelineViewFactory extends ABCWidgetFactory<PipelineDocument, DocumentRegistry.IModel> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<PipelineDocument>,
    private readonly services: IPipelineViewServices
  ) {
    super(options);
  }

  protected createNewWidget(context: DocumentRegistry.Context): PipelineDocument {
    const content = new PipelineView(context, this.services);
    return new PipelineDocument({ context, content }, this.services);
  }
}
