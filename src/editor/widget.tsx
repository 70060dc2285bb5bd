/**
 * The pipeline editor, the content of the `.pipeline` document widget. It edits the file through JupyterLab's document
 * model (so dirty state, save, revert and a text editor on the same file stay in step), keeps an undo history of
 * whole documents (so undo restores every property exactly), validates on the server after each change, and
 * shows the live state of the file's newest run on the canvas.
 */
import { Notification, ReactWidget } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { DocumentRegistry } from '@jupyterlab/docregistry';
import { FileDialog } from '@jupyterlab/filebrowser';
import { IDisposable } from '@lumino/disposable';
import { Drag } from '@lumino/dragdrop';
import { ISignal, Signal } from '@lumino/signaling';
import type { ReactFlowInstance } from '@xyflow/react';
import * as React from 'react';

import { IFormSchema, IIssue, INodeRecord, IPaletteNodeType, IRunRecord, isFinal, PipelineApi } from '../api';
import { LinkButton } from '../controls';
import { PipelineEvents } from '../events';
import { RunModel, sameSource } from '../runModel';
import { isObject, JsonObject, properties, singleFileOp } from '../pipeline';
import { INodeDecoration, PipelineCanvas } from './canvas';
import { copyNodes, IClipboardPayload, parseClipboard, pasteNodes } from './clipboard';
import {
  addLink,
  addNodes,
  autoLayout,
  INewNode,
  IPosition,
  linkRefusal,
  moveNodes,
  pipelineOf,
  removeLink,
  removeNodes,
  setNodeAppData,
  setPipelineProperties
} from './document';
import type { PipelineEditorDocument } from './editorDocument';
import { fileWidget } from './fileWidget';
import { hasPipeline, ILevelGraph, levelGraph, levelPathOf, supernodeLabel } from './graph';
import { EditorModel } from './model';
import { Palette, PALETTE_MIME } from './palette';
import { relativeTo, resolveFrom } from './paths';
import { ProblemsList } from './problems';
import { ISelectedNode, PropertiesPanel, PropertiesTab } from './propertiesPanel';
import { NodeRunDetails, RunLegend, RunStatus } from './runView';
import { EditorSchemas } from './schemas';

/** What the editor needs from the rest of the extension. */
export interface IEditorServices {
  api: PipelineApi;
  runs: RunModel;
  events: PipelineEvents;
  schemas: EditorSchemas;
  docManager: IDocumentManager;
  openFile: (path: string) => void;
  openInTextEditor: (path: string) => void;
  openArtifact: (run: IRunRecord, node: INodeRecord, name: string) => void;
  validate: (widget: PipelineEditorDocument) => Promise<void>;
  run: (widget: PipelineEditorDocument) => Promise<void>;
  exportPipeline: (widget: PipelineEditorDocument) => Promise<void>;
  showRuns: (runId?: string) => void;
}

/** The file browser's drag data: the dragged items' paths. */
const CONTENTS_MIME = 'application/x-jupyter-icontents';
const NODE_SPACING = 100;

/** The nodes last copied or cut, in any editor of this JupyterLab (so they paste into another pipeline). */
let clipboard: IClipboardPayload | null = null;
let editorCount = 0;

export class PipelineEditor extends ReactWidget {
  constructor(
    readonly context: DocumentRegistry.Context,
    private readonly services: IEditorServices
  ) {
    super();
    this.addClass('elyra-proc-editor');
    this.node.dataset.testid = 'elyra-proc-editor';
    this.node.setAttribute('aria-label', 'Pipeline editor');
    this._idPrefix = `elyra-proc-editor-${++editorCount}`;
    services.runs.changed.connect(this._onRunsChanged, this);
    this.model = new EditorModel(context, services.api);
    this.model.changed.connect(this._onModelChanged, this);
    services.events.runStarted.connect((_, event) => {
      if (sameSource(event.path, this.context.path)) {
        this._runId = event.runId;
        this._onRunsChanged();
      }
    }, this);
    services.events.runRefused.connect((_, event) => {
      if (sameSource(event.path, this.context.path)) {
        this.model.setIssues(event.issues);
      }
    }, this);
    void services.schemas.palette().then(palette => {
      this._palette = palette;
      this._changed();
    });
    void services.schemas.pipelineForm().then(form => {
      this._pipelineForm = form;
      this._changed();
    });
  }

  /** Emitted whenever what the editor shows changes (toolbar buttons follow it). */
  get stateChanged(): ISignal<this, void> {
    return this._stateChanged;
  }

  /** What is edited: the document, its undo history and its issues. */
  readonly model: EditorModel;

  /** The document being edited, or null when the file is not a valid pipeline. */
  get document(): JsonObject | null {
    return this.model.document;
  }

  get selection(): readonly string[] {
    return this._selection;
  }

  get run(): IRunRecord | null {
    const runs = this.services.runs;
    return (this._runId ? runs.run(this._runId) : null) ?? runs.latestFor(this.context.path);
  }

  get canUndo(): boolean {
    return this.model.canUndo;
  }

  get canRedo(): boolean {
    return this.model.canRedo;
  }

  undo(): void {
    this.model.undo();
  }

  redo(): void {
    this.model.redo();
  }

  /** Select a node (entering the supernode that holds it) and, with `property`, focus that field. */
  selectNode(nodeId: string, property?: string): void {
    const document = this.model.document;
    if (!document) {
      return;
    }
    const level = levelPathOf(document, nodeId);
    this._selection = [nodeId];
    this._tab = 'node';
    if (level && level.join('/') !== this._levels.join('/')) {
      this._levels = level;
      this._refreshGraph();
    } else {
      this._changed();
    }
    requestAnimationFrame(() => void this._flow?.fitView({ nodes: [{ id: nodeId }], maxZoom: 1, duration: 200 }));
    this._focusLater(nodeId, property);
  }

  selectAll(): void {
    this._selection = this._graph?.nodes.filter(node => node.data.kind !== 'comment').map(node => node.id) ?? [];
    this._changed();
  }

  deleteSelection(): void {
    this.model.edit('Delete', document => removeNodes(document, this._level, [...this._selection]));
    this._selection = [];
    this._changed();
  }

  copy(): void {
    if (this.model.document && this._selection.length) {
      clipboard = copyNodes(this.model.document, this._level, [...this._selection], this.context.path);
      void navigator.clipboard?.writeText(JSON.stringify(clipboard)).catch(() => undefined);
    }
  }

  cut(): void {
    this.copy();
    this.deleteSelection();
  }

  async paste(): Promise<void> {
    let payload = clipboard;
    if (!payload) {
      const text = await navigator.clipboard?.readText().catch(() => '');
      payload = text ? parseClipboard(text) : null;
    }
    if (payload) {
      this._pasteNodes(payload, 'Paste');
    }
  }

  duplicate(): void {
    if (this.model.document && this._selection.length) {
      this._pasteNodes(
        copyNodes(this.model.document, this._level, [...this._selection], this.context.path),
        'Duplicate'
      );
    }
  }

  autoLayout(): void {
    this.model.edit('Auto layout', document => autoLayout(document, this._level));
    requestAnimationFrame(() => this.fitView());
  }

  fitView(): void {
    void this._flow?.fitView({ maxZoom: 1, padding: 0.15, duration: 200 });
  }

  /** Add nodes for these files (paths relative to the server root), stacked from `position` (flow coordinates). */
  addFiles(paths: string[], position?: IPosition): void {
    const runnable = paths.flatMap(path => {
      const op = singleFileOp(path);
      return op ? [{ path, op }] : [];
    });
    const skipped = paths.filter(path => !singleFileOp(path));
    if (skipped.length) {
      Notification.warning(
        `Only notebooks, Python and R scripts become pipeline nodes; not added: ${skipped.map(p => PathExt.basename(p)).join(', ')}`,
        { autoClose: 5000 }
      );
    }
    if (!runnable.length) {
      return;
    }
    const origin = position ?? this._viewCenter();
    const nodes: INewNode[] = runnable.map(({ path, op }, index) => ({
      op,
      filename: relativeTo(this.context.path, path),
      position: { x: Math.round(origin.x), y: Math.round(origin.y + index * NODE_SPACING) }
    }));
    this._addNodes(nodes, runnable.length === 1 ? 'Add node' : 'Add nodes');
  }

  /** Add a node of a palette type: dropped at a point (its file chosen later), or for a file picked now. */
  async addFromPalette(nodeType: IPaletteNodeType, position?: IPosition): Promise<void> {
    if (position) {
      this._addNodes([{ op: nodeType.op, label: nodeType.label, position }], 'Add node');
      return;
    }
    const paths = await this._pickFiles(nodeType.extensions, true);
    if (paths.length) {
      this.addFiles(paths);
    }
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.dispose();
    this._runWatch?.dispose();
    Signal.clearData(this);
    super.dispose();
  }

  /** Files dragged from the file browser (Lumino drag and drop) become nodes where they are dropped. */
  handleEvent(event: Event): void {
    const drag = event as Drag.Event;
    switch (event.type) {
      case 'lm-dragenter':
      case 'lm-dragover':
        if (drag.mimeData.hasData(CONTENTS_MIME) && this.model.document) {
          drag.preventDefault();
          drag.stopPropagation();
          drag.dropAction = drag.proposedAction; // the file browser offers "move" only; the file stays put
        }
        break;
      case 'lm-drop': {
        if (!drag.mimeData.hasData(CONTENTS_MIME) || !this.model.document) {
          return;
        }
        drag.preventDefault();
        drag.stopPropagation();
        drag.dropAction = drag.proposedAction;
        const paths = drag.mimeData.getData(CONTENTS_MIME) as string[];
        this.addFiles(paths, this._flow?.screenToFlowPosition({ x: drag.clientX, y: drag.clientY }));
        break;
      }
    }
  }

  protected onAfterAttach(msg: Parameters<ReactWidget['onAfterAttach']>[0]): void {
    super.onAfterAttach(msg);
    for (const type of ['lm-dragenter', 'lm-dragover', 'lm-drop']) {
      this.node.addEventListener(type, this);
    }
  }

  protected onBeforeDetach(msg: Parameters<ReactWidget['onBeforeDetach']>[0]): void {
    for (const type of ['lm-dragenter', 'lm-dragover', 'lm-drop']) {
      this.node.removeEventListener(type, this);
    }
    super.onBeforeDetach(msg);
  }

  protected render(): JSX.Element {
    if (this.model.error) {
      return (
        <div className="elyra-proc-editor-error" role="alert" data-testid="elyra-proc-view-error">
          <p>{this.model.error}</p>
          <p>Fix the file in a text editor; the pipeline editor opens it again once it is a pipeline.</p>
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-accept"
            data-testid="elyra-proc-open-text-editor"
            onClick={() => this.services.openInTextEditor(this.context.path)}
          >
            Open in text editor
          </button>
        </div>
      );
    }
    const document = this.model.document;
    const graph = this._graph;
    if (!document || !graph) {
      return <div className="elyra-proc-view-loading">Loading…</div>;
    }
    return (
      <div className="elyra-proc-editor-layout">
        {this._renderHeader(document)}
        <div className="elyra-proc-editor-body">
          <Palette nodeTypes={this._palette} onAdd={nodeType => void this.addFromPalette(nodeType)} />
          <div
            className="elyra-proc-editor-main"
            onDragOver={event => {
              if (event.dataTransfer.types.includes(PALETTE_MIME)) {
                event.preventDefault();
                event.dataTransfer.dropEffect = 'copy';
              }
            }}
            onDrop={event => {
              const op = event.dataTransfer.getData(PALETTE_MIME);
              const nodeType = this._palette.find(type => type.op === op);
              if (nodeType && this._flow) {
                event.preventDefault();
                const at = this._flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
                void this.addFromPalette(nodeType, at);
              }
            }}
          >
            {graph.nodes.length === 0 && (
              <div className="elyra-proc-canvas-hint" data-testid="elyra-proc-canvas-hint">
                Drag notebooks, Python or R scripts here from the file browser, or use the palette on the left.
              </div>
            )}
            <PipelineCanvas
              key={graph.pipelineId}
              graph={graph}
              decorations={this._decorations}
              selection={this._selection}
              linkRefusal={this._linkRefusal}
              onSelectionChange={this._onSelectionChange}
              onMove={this._onMove}
              onConnect={this._onConnect}
              onRefusedLink={this._onRefusedLink}
              onDelete={this._onDelete}
              onActivate={this._onActivate}
              onShowProperties={this._onShowProperties}
              onInit={flow => {
                this._flow = flow;
              }}
            />
            <ProblemsList
              issues={this.model.issues}
              checking={this.model.checking}
              error={this.model.checkError}
              onChoose={issue => this._chooseIssue(issue)}
            />
          </div>
          <PropertiesPanel
            idPrefix={this._idPrefix}
            tab={this._tab}
            onTab={tab => {
              this._tab = tab;
              this._changed();
            }}
            node={this._selectedNode(document)}
            nodeForm={this._nodeForm}
            pipelineForm={this._pipelineForm}
            pipelineProperties={properties(pipelineOf(document))}
            parameterNames={this._parameterNames(document)}
            nodeIssues={this.model.issues.filter(
              issue => issue.data?.nodeID && issue.data.nodeID === this._selection[0]
            )}
            runDetails={
              <NodeRunDetails run={this.run} nodeId={this._selection[0]} onOpenArtifact={this.services.openArtifact} />
            }
            widgets={this._widgets}
            onNodeChange={this._onNodeChange}
            onPipelineChange={this._onPipelineChange}
            onEnterSupernode={id => this._enterSupernode(id)}
          />
        </div>
        {this.run && <RunLegend />}
      </div>
    );
  }

  private _renderHeader(document: JsonObject): JSX.Element {
    const props = properties(pipelineOf(document));
    const name = String(props.name || PathExt.basename(this.context.path, '.pipeline'));
    return (
      <div className="elyra-proc-view-header">
        <nav className="elyra-proc-breadcrumbs" aria-label="Pipeline level" data-testid="elyra-proc-breadcrumbs">
          {this._levels.map((level, index) => {
            const last = index === this._levels.length - 1;
            const label =
              index === 0 ? name : supernodeLabel(document, index === 1 ? undefined : this._levels[index - 1], level);
            return (
              <React.Fragment key={level}>
                {index > 0 && <span aria-hidden="true"> › </span>}
                {last ? (
                  <span className="elyra-proc-view-name" data-testid="elyra-proc-view-name" aria-current="page">
                    {label}
                  </span>
                ) : (
                  <LinkButton
                    label={`Back to ${label}`}
                    onClick={() => {
                      this._levels = this._levels.slice(0, index + 1);
                      this._selection = [];
                      this._refreshGraph();
                    }}
                  >
                    {label}
                  </LinkButton>
                )}
              </React.Fragment>
            );
          })}
        </nav>
        <RunStatus run={this.run} error={this.services.runs.error} onShowRun={runId => this.services.showRuns(runId)} />
      </div>
    );
  }

  /** The pipeline level shown: the primary pipeline, or the subflow of the supernode entered last. */
  private get _level(): string | undefined {
    return this._levels.length > 1 ? this._levels[this._levels.length - 1] : undefined;
  }

  private _selectedNode(document: JsonObject): ISelectedNode | null {
    if (this._selection.length !== 1) {
      return null;
    }
    const id = this._selection[0];
    const raw = (pipelineOf(document, this._level).nodes ?? []).find((node: JsonObject) => node?.id === id);
    const drawn = this._graph?.nodes.find(node => node.id === id);
    if (!isObject(raw) || !drawn || drawn.data.kind === 'comment') {
      return null;
    }
    return {
      id,
      kind: drawn.data.kind,
      op: drawn.data.op,
      label: drawn.data.label,
      appData: isObject(raw.app_data) ? raw.app_data : {}
    };
  }

  private _parameterNames(document: JsonObject): string[] {
    const parameters = properties(pipelineOf(document)).pipeline_parameters;
    return (Array.isArray(parameters) ? parameters : [])
      .map(parameter => (isObject(parameter) ? String(parameter.name ?? '') : ''))
      .filter(Boolean);
  }

  private _enterSupernode(nodeId: string): void {
    const node = this._graph?.nodes.find(n => n.id === nodeId);
    if (node?.data.kind === 'supernode' && node.data.subflowId && this.model.document) {
      try {
        pipelineOf(this.model.document, node.data.subflowId);
      } catch (error) {
        Notification.error((error as Error).message, { autoClose: 5000 });
        return;
      }
      this._levels = [...this._levels, node.data.subflowId];
      this._selection = [];
      this._refreshGraph();
    }
  }

  private _onActivate = (nodeId: string): void => {
    const node = this._graph?.nodes.find(n => n.id === nodeId);
    if (node?.data.kind === 'supernode') {
      this._enterSupernode(nodeId);
    } else if (node?.data.filename) {
      this.services.openFile(resolveFrom(this.context.path, node.data.filename));
    }
  };

  private _onShowProperties = (nodeId: string): void => {
    this._selection = [nodeId];
    this._tab = 'node';
    this._changed();
    this._focusLater(null, undefined);
  };

  /** Select nodes; one selected node shows its properties. */
  private _onSelectionChange = (ids: string[]): void => {
    this._selection = ids;
    if (ids.length === 1) {
      this._tab = 'node';
    }
    this._changed();
  };

  private _onMove = (positions: Record<string, IPosition>): void => {
    this.model.edit('Move', document => moveNodes(document, this._level, positions));
  };

  private _linkRefusal = (source: string, target: string): string | null =>
    this.model.document ? linkRefusal(this.model.document, this._level, source, target) : 'The pipeline is not loaded.';

  private _onConnect = (source: string, target: string): void => {
    const refusal = this._linkRefusal(source, target);
    if (refusal) {
      this._onRefusedLink(refusal);
      return;
    }
    this.model.edit('Link', document => addLink(document, this._level, source, target));
  };

  private _onRefusedLink = (message: string): void => {
    Notification.warning(message, { autoClose: 5000 });
  };

  private _onDelete = (nodeIds: string[], links: { source: string; target: string }[]): void => {
    this.model.edit(nodeIds.length ? 'Delete' : 'Unlink', document => {
      let edited = document;
      for (const link of links) {
        if (!nodeIds.includes(link.source) && !nodeIds.includes(link.target)) {
          edited = removeLink(edited, this._level, link.source, link.target);
        }
      }
      return nodeIds.length ? removeNodes(edited, this._level, nodeIds) : edited;
    });
    this._selection = this._selection.filter(id => !nodeIds.includes(id));
    this._changed();
  };

  private _onNodeChange = (values: { label: string; component_parameters: JsonObject }): void => {
    const id = this._selection[0];
    if (id) {
      this.model.edit('Edit properties', document => setNodeAppData(document, this._level, id, values), true);
    }
  };

  private _onPipelineChange = (props: JsonObject): void => {
    this.model.edit('Edit pipeline properties', document => setPipelineProperties(document, props), true);
  };

  private _chooseIssue(issue: IIssue): void {
    const nodeId = issue.data?.nodeID;
    if (nodeId) {
      this.selectNode(nodeId, issue.data?.propertyName?.split(/[.[]/)[0]);
    } else {
      this._tab = 'pipeline';
      this._changed();
    }
  }

  /**
   * After the next render: focus the node on the canvas, or a field of its properties form. Activating the editor
   * and closing a dialog (the run's issues) move the focus too, a moment later: it is kept on the target until it
   * has stayed there for a few frames.
   */
  private _focusLater(nodeId: string | null, property: string | undefined): void {
    let frames = 0;
    let steady = 0;
    const attempt = (): void => {
      const form = this.node.querySelector<HTMLElement>('.elyra-proc-properties-body');
      const target = property
        ? this.node.querySelector<HTMLElement>(
            `[id^="${this._idPrefix}-node_component_parameters_${CSS.escape(property)}"]`
          )
        : nodeId
          ? this.node.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(nodeId)}"]`)
          : (form?.querySelector<HTMLElement>('input, select, textarea, button') ?? null);
      const focusable =
        target && !target.matches('input, select, textarea, button, [tabindex]')
          ? target.querySelector<HTMLElement>('input, select, textarea, button')
          : target;
      if (focusable && !document.querySelector('.jp-Dialog')) {
        if (document.activeElement === focusable) {
          steady++;
        } else {
          steady = 0;
          // A node is brought into view by the canvas (scrolling React Flow's pane would shift the drawing).
          focusable.focus({ preventScroll: !property });
          if (property) {
            focusable.scrollIntoView?.({ block: 'nearest' });
          }
        }
      }
      if (steady < 5 && ++frames < 60 && !this.isDisposed) {
        requestAnimationFrame(attempt);
      }
    };
    requestAnimationFrame(attempt);
  }

  private _viewCenter(): IPosition {
    const box = this.node.querySelector('.elyra-proc-canvas')?.getBoundingClientRect();
    if (!box || !this._flow) {
      return { x: 80, y: 80 };
    }
    return this._flow.screenToFlowPosition({ x: box.left + box.width / 3, y: box.top + box.height / 3 });
  }

  private async _pickFiles(extensions: string[], multiple: boolean): Promise<string[]> {
    const wanted = extensions.map(extension => extension.toLowerCase());
    const result = await FileDialog.getOpenFiles({
      manager: this.services.docManager,
      title: multiple ? 'Choose files for new nodes' : 'Choose the node’s file',
      defaultPath: PathExt.dirname(this.context.path),
      filter: model =>
        model.type === 'directory' || wanted.includes(PathExt.extname(model.path).toLowerCase()) ? {} : null
    });
    const items = result.button.accept ? (result.value ?? []) : [];
    return items.filter(item => item.type !== 'directory').map(item => item.path);
  }

  private _addNodes(nodes: INewNode[], label: string): void {
    let ids: string[] = [];
    this.model.edit(label, document => {
      const added = addNodes(document, this._level, nodes);
      ids = added.ids;
      return added.document;
    });
    this._onSelectionChange(ids);
  }

  private _pasteNodes(payload: IClipboardPayload, label: string): void {
    let ids: string[] = [];
    const offset = { x: 40, y: 40 };
    this.model.edit(label, document => {
      const pasted = pasteNodes(document, this._level, payload, this.context.path, offset);
      ids = pasted.ids;
      return pasted.document;
    });
    this._onSelectionChange(ids);
  }

  /** Runs changed: follow the run shown closely while it is in progress, and show its node states. */
  private _onRunsChanged(): void {
    const run = this.run;
    const active = run && !isFinal(run.status) ? run.id : null;
    if (this._runWatch?.runId !== active) {
      this._runWatch?.dispose();
      this._runWatch = active ? Object.assign(this.services.runs.watch(active), { runId: active }) : null;
    }
    this._changed();
  }

  /** The document changed (or its issues): redraw, staying on the level shown while it still exists. */
  private _onModelChanged(): void {
    const document = this.model.document;
    if (document !== this._drawn) {
      this._drawn = document;
      if (document && !this._levels.slice(1).every(level => hasPipeline(document, level))) {
        this._levels = [];
      }
      if (document && this._levels.length === 0) {
        this._levels = [String(pipelineOf(document).id)];
      }
      this._refreshGraph();
    } else {
      this._changed();
    }
  }

  private _refreshGraph(): void {
    if (!this.model.document) {
      this._graph = null;
    } else {
      try {
        this._graph = levelGraph(this.model.document, this._level);
      } catch {
        this._levels = [String(pipelineOf(this.model.document).id)];
        this._graph = levelGraph(this.model.document, undefined);
      }
      const known = new Set(this._graph.nodes.map(node => node.id));
      this._selection = this._selection.filter(id => known.has(id));
    }
    this._changed();
  }

  private _changed(): void {
    if (this.isDisposed) {
      return;
    }
    this._decorations = this._computeDecorations();
    const selected = this._selectedNodeOp();
    if (selected !== this._nodeFormOp) {
      this._nodeFormOp = selected;
      this._nodeForm = null;
      if (selected) {
        void this.services.schemas.nodeForm(selected).then(form => {
          if (this._nodeFormOp === selected) {
            this._nodeForm = form;
            this.update();
          }
        });
      }
    }
    this.update();
    this._stateChanged.emit();
  }

  private _selectedNodeOp(): string | null {
    const node = this._selection.length === 1 ? this._graph?.nodes.find(n => n.id === this._selection[0]) : null;
    return node?.data.kind === 'execution' ? node.data.op : null;
  }

  private _computeDecorations(): ReadonlyMap<string, INodeDecoration> {
    const statuses = new Map((this.run?.nodes ?? []).map(node => [node.id, node.status]));
    const counts = new Map<string, number>();
    for (const issue of this.model.issues) {
      const id = issue.data?.nodeID;
      if (id && issue.severity === 1) {
        counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
    const decorations = new Map<string, INodeDecoration>();
    for (const node of this._graph?.nodes ?? []) {
      const status = statuses.get(node.id);
      const issues = counts.get(node.id);
      if (status || issues) {
        decorations.set(node.id, { status, issues });
      }
    }
    const previous = this._decorations;
    const same =
      previous.size === decorations.size &&
      [...decorations].every(([id, value]) => {
        const old = previous.get(id);
        return old?.status === value.status && old?.issues === value.issues;
      });
    return same ? previous : decorations;
  }

  /** rjsf widgets: `file` picks a file relative to this pipeline. */
  private _widgets = {
    file: fileWidget(async extensions => {
      const [path] = await this._pickFiles(extensions, false);
      return path ? relativeTo(this.context.path, path) : null;
    })
  };

  private readonly _idPrefix: string;
  /** The run this editor started last (else it shows the newest run of its file). */
  private _runId: string | null = null;
  /** The run shown, watched (asked of its runtime on each poll) while it is in progress. */
  private _runWatch: (IDisposable & { runId: string }) | null = null;
  private _stateChanged = new Signal<this, void>(this);
  private _graph: ILevelGraph | null = null;
  /** The document the graph was drawn from. */
  private _drawn: JsonObject | null = null;
  private _levels: string[] = [];
  private _selection: string[] = [];
  private _tab: PropertiesTab = 'pipeline';
  private _palette: IPaletteNodeType[] = [];
  private _pipelineForm: IFormSchema | null = null;
  private _nodeForm: IFormSchema | null = null;
  private _nodeFormOp: string | null = null;
  private _decorations: ReadonlyMap<string, INodeDecoration> = new Map();
  private _flow: ReactFlowInstance<any, any> | null = null;
}
