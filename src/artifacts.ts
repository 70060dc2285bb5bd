/**
 * A node's artifacts from a run, in the main area: one tab per kind (the executed notebook, the log), which the
 * next artifact of that kind replaces, so that following a run node by node never piles up tabs or columns.
 * The notebook is shown by JupyterLab's own read-only notebook view; the log as preformatted text.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { GenericSearchProvider, ISearchProviderFactory } from '@jupyterlab/documentsearch';
import { NotebookModel, StaticNotebook } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { LabIcon, listIcon, notebookIcon, refreshIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

import { INodeRecord, IRunRecord, PipelineApi } from './api';
import { shortId } from './format';
import { isObject } from './pipeline';

/** What a view shows: the text of one artifact. */
interface IArtifactView extends Widget {
  /** The element that scrolls the artifact: the one the keyboard focuses. */
  readonly scroller: HTMLElement;
  /** Show this artifact's text; throws when the text is not what the view shows (a notebook that is not one). */
  setText(text: string): void;
}

/**
 * A log, unwrapped: long lines scroll sideways. Plain text in a `pre`, not a code editor: the browser lays out even
 * a log at the processor's cap (`max_log_bytes`) in a few seconds, and JupyterLab's search (Ctrl+F, see
 * `artifactSearch`) finds text in all of it, where an editor only has the lines in view in the page.
 */
class LogView extends Widget implements IArtifactView {
  constructor() {
    super({ node: document.createElement('pre') });
    this.addClass('elyra-proc-log-view');
    this.node.dataset.testid = 'elyra-proc-log-view';
  }

  setText(text: string): void {
    this.node.textContent = text || '(empty)';
  }

  get scroller(): HTMLElement {
    return this.node;
  }
}

/**
 * Join the output data that nbformat stores as lists of lines, as the Jupyter server does when it sends a notebook
 * (nbformat's `rejoin_lines`): JupyterLab's output models expect strings (JSON data stays as it is).
 */
function rejoinOutputData(cells: unknown[]): void {
  for (const cell of cells) {
    const outputs = isObject(cell) && Array.isArray(cell.outputs) ? cell.outputs : [];
    for (const output of outputs) {
      if (!isObject(output) || !isObject(output.data)) {
        continue;
      }
      const data = output.data;
      for (const [mimeType, value] of Object.entries(data)) {
        if (Array.isArray(value) && mimeType !== 'application/json' && !mimeType.endsWith('+json')) {
          data[mimeType] = value.join('');
        }
      }
    }
  }
}

/**
 * An executed notebook in JupyterLab's notebook rendering: prompts, outputs, Markdown rendered, every cell
 * read-only. Its outputs are untrusted, as a notebook that JupyterLab did not execute itself: HTML is sanitized
 * and scripts do not run.
 */
class NotebookView extends Panel implements IArtifactView {
  constructor(rendermime: IRenderMimeRegistry, editorServices: IEditorServices) {
    super();
    this.addClass('elyra-proc-notebook-view');
    this.node.dataset.testid = 'elyra-proc-notebook-view';
    this._notebook = new StaticNotebook({
      rendermime,
      contentFactory: new StaticNotebook.ContentFactory({
        editorFactory: editorServices.factoryService.newInlineEditor
      }),
      mimeTypeService: editorServices.mimeTypeService,
      notebookConfig: {
        ...StaticNotebook.defaultNotebookConfig,
        scrollPastEnd: false,
        showEditorForReadOnlyMarkdown: false
      }
    });
    this.addWidget(this._notebook);
  }

  setText(text: string): void {
    const content: unknown = JSON.parse(text);
    if (!isObject(content) || !Array.isArray(content.cells)) {
      throw new Error('The file is not a notebook (no cells).');
    }
    rejoinOutputData(content.cells);
    const model = new NotebookModel();
    model.fromJSON(content as Parameters<NotebookModel['fromJSON']>[0]);
    for (const cell of model.cells) {
      cell.trusted = false;
      cell.sharedModel.setMetadata('editable', false);
    }
    const previous = this._notebook.model;
    this._notebook.model = model;
    previous?.dispose();
  }

  get scroller(): HTMLElement {
    return this._notebook.node;
  }

  /** The tab shown: the keyboard scrolls the notebook at once. */
  protected onActivateRequest(): void {
    this._notebook.node.focus();
  }

  dispose(): void {
    this._notebook.model?.dispose();
    super.dispose();
  }

  private readonly _notebook: StaticNotebook;
}

type ArtifactKind = 'notebook' | 'log';

/** Each kind's name, short in the tab (where the node's name must fit too), and its icon. */
const KINDS: Record<ArtifactKind, { label: string; tabLabel: string; icon: LabIcon }> = {
  notebook: { label: 'Executed notebook', tabLabel: 'Notebook', icon: notebookIcon },
  log: { label: 'Log', tabLabel: 'Log', icon: listIcon }
};

/** The artifact shown in a tab, which its Refresh button loads again. */
interface IShown {
  run: IRunRecord;
  node: INodeRecord;
  name: string;
}

/** The main-area tab of one kind of artifact. */
class ArtifactTab extends MainAreaWidget<IArtifactView> {
  constructor(
    readonly kind: ArtifactKind,
    content: IArtifactView,
    reload: (shown: IShown) => void
  ) {
    super({ content });
    this.id = `elyra-proc-artifact-${kind}`;
    this.addClass('elyra-proc-artifact');
    this.title.icon = KINDS[kind].icon;
    this.title.closable = true;
    // After the main area widget's own attributes, which make its content a region that is not focusable.
    content.scroller.tabIndex = 0;
    content.scroller.setAttribute('aria-label', `${KINDS[kind].label} (read-only)`);
    this._source.addClass('elyra-proc-artifact-source');
    this._source.node.dataset.testid = 'elyra-proc-artifact-source';
    this.toolbar.addItem(
      'refresh',
      new ToolbarButton({
        icon: refreshIcon,
        label: 'Refresh',
        tooltip: 'Load the artifact again',
        dataset: { testid: 'elyra-proc-artifact-refresh' },
        onClick: () => this._shown && reload(this._shown)
      })
    );
    this.toolbar.addItem('source', this._source);
  }

  /**
   * Show an artifact's text, and say whose it is in the title and the toolbar. The same artifact loaded again (a
   * log that grew) keeps its scroll position; another starts at the top.
   */
  display(shown: IShown, text: string): void {
    const previous = this._shown;
    const same =
      previous?.run.id === shown.run.id && previous.node.id === shown.node.id && previous.name === shown.name;
    const { scrollTop, scrollLeft } = this.content.scroller;
    this.content.setText(text);
    this.content.scroller.scrollTo(same ? { top: scrollTop, left: scrollLeft } : { top: 0, left: 0 });
    this._shown = shown;
    const { run, node } = shown;
    const { label, tabLabel } = KINDS[this.kind];
    this.title.label = `${tabLabel}: ${node.name} (run ${shortId(run.id)})`;
    this.title.caption = `${label} of node "${node.name}" in run ${run.id} of ${run.name} (read-only)`;
    this._source.node.textContent = `Node ${node.name} · run ${shortId(run.id)} (${run.name})`;
    this._source.node.title = `Run ${run.id}`;
  }

  private _shown: IShown | null = null;
  private readonly _source = new Widget({ node: document.createElement('span') });
}

/** JupyterLab's search (Ctrl+F) in an artifact tab: the text of its view, without its toolbar. */
export const artifactSearch: ISearchProviderFactory = {
  isApplicable(domain: Widget): domain is ArtifactTab {
    return domain instanceof ArtifactTab;
  },
  createNew(tab: Widget) {
    return new GenericSearchProvider((tab as ArtifactTab).content); // only ArtifactTabs (isApplicable)
  }
};

/** The artifact tabs of an application: at most one per kind, all in one dock area. */
export class ArtifactViewer {
  constructor(
    private readonly app: JupyterFrontEnd,
    private readonly api: PipelineApi,
    private readonly rendermime: IRenderMimeRegistry,
    private readonly editorServices: IEditorServices
  ) {}

  /**
   * Show a node's artifact in the tab of its kind, opened if needed: beside the current widget for the first
   * artifact tab, as a tab next to the other artifact tab otherwise.
   */
  async open(run: IRunRecord, node: INodeRecord, name: string): Promise<void> {
    const kind: ArtifactKind = name === 'notebook' ? 'notebook' : 'log';
    const request = (this._requests[kind] += 1);
    let text: string;
    try {
      text = await this.api.artifact(run.id, node.id, name);
    } catch (error) {
      await showErrorMessage(`Cannot open the ${name} of ${node.name}`, (error as Error).message);
      return;
    }
    if (request !== this._requests[kind]) {
      return; // another artifact of this kind was asked for meanwhile: it is the one to show
    }
    const existing = this._tabs.get(kind);
    const tab = existing ?? this._createTab(kind);
    try {
      tab.display({ run, node, name }, text);
    } catch (error) {
      if (!existing) {
        tab.dispose();
      }
      await showErrorMessage(`Cannot show the ${name} of ${node.name}`, (error as Error).message);
      return;
    }
    if (!existing) {
      this._add(tab);
    }
    this.app.shell.activateById(tab.id);
  }

  private _createTab(kind: ArtifactKind): ArtifactTab {
    const content = kind === 'notebook' ? new NotebookView(this.rendermime, this.editorServices) : new LogView();
    const tab = new ArtifactTab(kind, content, shown => void this.open(shown.run, shown.node, shown.name));
    tab.disposed.connect(() => this._tabs.delete(kind));
    return tab;
  }

  private _add(tab: ArtifactTab): void {
    const sibling = [...this._tabs.values()].find(other => other.isAttached);
    this._tabs.set(tab.kind, tab);
    if (sibling) {
      this.app.shell.add(tab, 'main', { mode: 'tab-after', ref: sibling.id });
      return;
    }
    const current = this.app.shell.currentWidget;
    this.app.shell.add(tab, 'main', current ? { mode: 'split-right', ref: current.id } : {});
  }

  private readonly _tabs = new Map<ArtifactKind, ArtifactTab>();
  private readonly _requests: Record<ArtifactKind, number> = { notebook: 0, log: 0 };
}
