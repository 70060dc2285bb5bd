/**
 * A node's artifacts from a run, opened in the main area: the log as text, the executed notebook read-only
 * (cells rendered with the application's renderers, or as JSON when none are available).
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { MainAreaWidget, showErrorMessage } from '@jupyterlab/apputils';
import { OutputAreaModel, SimplifiedOutputArea } from '@jupyterlab/outputarea';
import { IRenderMimeRegistry, MimeModel } from '@jupyterlab/rendermime';
import { refreshIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { Panel, Widget } from '@lumino/widgets';

import { INodeRecord, IRunRecord, PipelineApi } from './api';
import { shortId } from './format';
import { isObject, JsonObject } from './pipeline';

function sourceText(source: unknown): string {
  return Array.isArray(source) ? source.join('') : typeof source === 'string' ? source : '';
}

function preWidget(text: string, className: string): Widget {
  const widget = new Widget({ node: document.createElement('pre') });
  widget.addClass(className);
  widget.node.textContent = text;
  return widget;
}

/** The log (or any text artifact) of a node. */
class TextArtifact extends Widget {
  constructor() {
    super({ node: document.createElement('pre') });
    this.addClass('elyra-proc-artifact-text');
    this.node.tabIndex = 0;
    this.node.setAttribute('aria-label', 'Log');
    this.node.dataset.testid = 'elyra-proc-log-view';
  }

  set text(value: string) {
    this.node.textContent = value || '(empty)';
  }
}

/** An executed notebook, read-only. */
class NotebookArtifact extends Panel {
  constructor(private readonly rendermime: IRenderMimeRegistry | null) {
    super();
    this.addClass('elyra-proc-artifact-notebook');
    this.node.dataset.testid = 'elyra-proc-notebook-view';
    this.node.setAttribute('aria-label', 'Executed notebook (read-only)');
  }

  set content(text: string) {
    while (this.widgets.length) {
      this.widgets[0].dispose();
    }
    let notebook: JsonObject | null = null;
    try {
      const parsed = JSON.parse(text);
      notebook = isObject(parsed) && Array.isArray(parsed.cells) ? parsed : null;
    } catch {
      notebook = null;
    }
    if (!notebook || !this.rendermime) {
      this.addWidget(preWidget(text, 'elyra-proc-artifact-text'));
      return;
    }
    for (const cell of notebook.cells) {
      if (isObject(cell)) {
        this.addWidget(this._cell(cell));
      }
    }
  }

  private _cell(cell: JsonObject): Widget {
    const rendermime = this.rendermime!;
    const panel = new Panel();
    panel.addClass('elyra-proc-nb-cell');
    panel.node.dataset.cellType = String(cell.cell_type);
    const source = sourceText(cell.source);
    if (cell.cell_type === 'markdown') {
      const renderer = rendermime.createRenderer('text/markdown');
      void renderer.renderModel(new MimeModel({ data: { 'text/markdown': source }, trusted: false }));
      renderer.addClass('elyra-proc-nb-markdown');
      panel.addWidget(renderer);
      return panel;
    }
    if (cell.cell_type !== 'code') {
      panel.addWidget(preWidget(source, 'elyra-proc-nb-source'));
      return panel;
    }
    const count = typeof cell.execution_count === 'number' ? cell.execution_count : ' ';
    const input = preWidget(source, 'elyra-proc-nb-source');
    input.node.dataset.prompt = `[${count}]:`;
    panel.addWidget(input);
    const outputs = Array.isArray(cell.outputs) ? cell.outputs : [];
    if (outputs.length) {
      const model = new OutputAreaModel({ values: outputs, trusted: false });
      const area = new SimplifiedOutputArea({ model, rendermime });
      area.addClass('elyra-proc-nb-outputs');
      panel.addWidget(area);
    }
    return panel;
  }
}

const ARTIFACT_TITLES: Record<string, string> = { log: 'Log', notebook: 'Notebook' };

/** Open (or bring back and refresh) the view of one artifact. */
export async function openArtifact(
  app: JupyterFrontEnd,
  api: PipelineApi,
  rendermime: IRenderMimeRegistry | null,
  run: IRunRecord,
  node: INodeRecord,
  name: string
): Promise<void> {
  const id = `elyra-proc-artifact-${run.id}-${node.id}-${name}`.replace(/[^A-Za-z0-9_-]/g, '_');
  const existing = [...app.shell.widgets('main')].find(widget => widget.id === id) as
    MainAreaWidget<Widget> | undefined;
  const load = async (target: Widget): Promise<boolean> => {
    try {
      const text = await api.artifact(run.id, node.id, name);
      if (target instanceof NotebookArtifact) {
        target.content = text;
      } else if (target instanceof TextArtifact) {
        target.text = text;
      }
      return true;
    } catch (error) {
      await showErrorMessage(`Cannot open the ${name} of ${node.name}`, (error as Error).message);
      return false;
    }
  };
  if (existing && !existing.isDisposed) {
    app.shell.activateById(id);
    await load(existing.content);
    return;
  }
  const content = name === 'notebook' ? new NotebookArtifact(rendermime) : new TextArtifact();
  if (!(await load(content))) {
    content.dispose();
    return;
  }
  const widget = new MainAreaWidget({ content });
  widget.id = id;
  widget.addClass('elyra-proc-artifact');
  widget.title.label = `${node.name} · ${ARTIFACT_TITLES[name] ?? name} (run ${shortId(run.id)})`;
  widget.title.caption = `${ARTIFACT_TITLES[name] ?? name} of node ${node.name} in run ${run.id} (read-only)`;
  widget.title.closable = true;
  widget.toolbar.addItem(
    'refresh',
    new ToolbarButton({
      icon: refreshIcon,
      label: 'Refresh',
      tooltip: 'Load the artifact again',
      dataset: { testid: 'elyra-proc-artifact-refresh' },
      onClick: () => void load(content)
    })
  );
  app.shell.add(widget, 'main', { mode: 'split-right' });
  app.shell.activateById(id);
}
