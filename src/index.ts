/**
 * The JupyterLab plugin: the `.pipeline` editor, Run and Export, the runs and runtime configuration sidebar, and
 * their commands (`elyra-proc:*`), launcher tile and menu entries.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { runIcon, SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';

import { IIssue, INodeRecord, IRunRecord, PipelineApi } from './api';
import { openArtifact } from './artifacts';
import { ConfigsPanel } from './configsPanel';
import { PipelineEvents } from './events';
import { exportPipeline } from './exportDialog';
import { exportIcon, pipelineIcon, runsIcon } from './icons';
import { newPipelineDocument, singleFilePipeline } from './editor/document';
import { EditorSchemas } from './editor/schemas';
import { PipelineEditorDocument, PipelineEditorFactory } from './editor/editorDocument';
import { IEditorServices } from './editor/widget';
import { DEFAULT_RUNTIME_IMAGE, JsonObject, parsePipeline, SINGLE_FILE_OPS } from './pipeline';
import { runPipeline } from './runDialog';
import { RunsPanel } from './runsPanel';
import {
  CommandIDs,
  ELYRA_EDITOR_PLUGIN,
  ELYRA_FILE_TYPE,
  FACTORY,
  FACTORY_LABEL,
  PIPELINE_FILE_TYPE,
  SIDEBAR_ID
} from './tokens';


const PIPELINE_EXTENSION = '.pipeline';
const CATEGORY = 'Pipelines';

/** File types of the file browser items that can run as a pipeline (besides `.pipeline` files). */
const SINGLE_FILE_TYPES = ['notebook', 'python', 'r'];

function isPipelinePath(path: string): boolean {
  return PathExt.extname(path).toLowerCase() === PIPELINE_EXTENSION;
}

function isRunnablePath(path: string): boolean {
  return isPipelinePath(path) || PathExt.extname(path).toLowerCase() in SINGLE_FILE_OPS;
}

/** Our `.pipeline` file type, registered beside Elyra's (named `pipeline`) when Elyra is installed. */
function addFileType(app: JupyterFrontEnd): void {
  app.docRegistry.addFileType({
    name: PIPELINE_FILE_TYPE,
    displayName: 'Pipeline',
    extensions: [PIPELINE_EXTENSION],
    mimeTypes: ['application/json'],
    contentType: 'file',
    fileFormat: 'text',
    icon: pipelineIcon
  });
}

/** The editing commands act on the pipeline editor that has the focus (its canvas, for the key bindings). */
const EDIT_COMMANDS: [string, string, string[], (editor: PipelineEditorDocument['content']) => unknown][] = [
  [CommandIDs.undo, 'Undo Pipeline Edit', ['Accel Z'], editor => editor.undo()],
  [CommandIDs.redo, 'Redo Pipeline Edit', ['Accel Shift Z', 'Accel Y'], editor => editor.redo()],
  [CommandIDs.copy, 'Copy Nodes', ['Accel C'], editor => editor.copy()],
  [CommandIDs.cut, 'Cut Nodes', ['Accel X'], editor => editor.cut()],
  [CommandIDs.paste, 'Paste Nodes', ['Accel V'], editor => editor.paste()],
  [CommandIDs.duplicate, 'Duplicate Nodes', ['Accel D'], editor => editor.duplicate()],
  [CommandIDs.deleteNodes, 'Delete Nodes', [], editor => editor.deleteSelection()],
  [CommandIDs.selectAll, 'Select All Nodes', ['Accel A'], editor => editor.selectAll()],
  [CommandIDs.autoLayout, 'Arrange Pipeline Nodes', [], editor => editor.autoLayout()],
  [CommandIDs.fitView, 'Fit Pipeline to View', [], editor => editor.fitView()]
];

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'elyra-proc-ext:plugin',
  description: 'Pipeline graphs with live run status, runs and runtime configurations for elyra_proc_ext.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [IFileBrowserFactory, ILayoutRestorer, ICommandPalette, IRenderMimeRegistry, ILauncher, IMainMenu],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    browserFactory: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    launcher: ILauncher | null,
    mainMenu: IMainMenu | null
  ) => {
    const api = new PipelineApi(app.serviceManager.serverSettings);
    const events = new PipelineEvents();
    addFileType(app);
    const tracker = new WidgetTracker<PipelineEditorDocument>({ namespace: 'elyra-proc-editor' });

    const openFile = (path: string): void => {
      void app.commands.execute('docmanager:open', { path });
    };
    const openEditor = async (path: string): Promise<PipelineEditorDocument | null> => {
      const widget = docManager.openOrReveal(path, FACTORY);
      if (!(widget instanceof PipelineEditorDocument)) {
        return null;
      }
      await widget.context.ready;
      return widget;
    };
    const openSource = (path: string): void => {
      if (isPipelinePath(path)) {
        void openEditor(path);
      } else {
        openFile(path);
      }
    };
    const showArtifact = (run: IRunRecord, node: INodeRecord, name: string): void => {
      void openArtifact(app, api, rendermime, run, node, name);
    };

    // The sidebar: runs, then runtime configurations.
    const runsPanel = new RunsPanel({ api, events, openArtifact: showArtifact, openSource });
    const configsPanel = new ConfigsPanel({ app, api, events });
    const sidebar = new SidePanel();
    sidebar.id = SIDEBAR_ID;
    sidebar.title.icon = runsIcon;
    sidebar.title.caption = 'Pipeline Runs';
    sidebar.node.setAttribute('role', 'region');
    sidebar.node.setAttribute('aria-label', 'Pipeline runs and runtime configurations');
    sidebar.node.dataset.testid = 'elyra-proc-sidebar';
    const heading = new Widget({ node: document.createElement('h2') });
    heading.addClass('elyra-proc-sidebar-heading');
    heading.node.textContent = 'Pipelines';
    sidebar.header.addWidget(heading);
    sidebar.addWidget(runsPanel);
    sidebar.addWidget(configsPanel);
    app.shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, SIDEBAR_ID);

    const showSection = (index: number): void => {
      app.shell.activateById(SIDEBAR_ID);
      const accordion = sidebar.content;
      if (accordion instanceof AccordionPanel) {
        accordion.expand(index);
      }
    };
    const showRuns = (runId?: string): void => {
      showSection(0);
      if (runId) {
        void runsPanel.reveal(runId);
      } else {
        void runsPanel.refresh();
      }
    };
    const showConfigs = (): void => showSection(1);

    const selectIssueNode = async (widget: PipelineEditorDocument | null, issue: IIssue): Promise<void> => {
      const nodeId = issue.data?.nodeID;
      if (!widget || !nodeId) {
        return;
      }
      app.shell.activateById(widget.id);
      widget.content.selectNode(nodeId);
    };

    const runFromView = async (widget: PipelineEditorDocument): Promise<void> => {
      const document = widget.content.document;
      if (!document) {
        await showErrorMessage('Cannot run this file', 'It is not a valid pipeline (see the editor for why).');
        return;
      }
      await runPipeline({ api, events, showRuns }, { path: widget.context.path, document }, issue =>
        void selectIssueNode(widget, issue)
      );
    };

    const readPipeline = async (path: string): Promise<JsonObject> => {
      const model = await docManager.services.contents.get(path, { content: true, type: 'file', format: 'text' });
      return parsePipeline(String(model.content ?? ''));
    };

    const runPath = async (path: string): Promise<void> => {
      let document: JsonObject;
      try {
        document = isPipelinePath(path) ? await readPipeline(path) : singleFilePipeline(path);
      } catch (error) {
        await showErrorMessage('Cannot run this file', (error as Error).message);
        return;
      }
      await runPipeline({ api, events, showRuns }, { path, document }, issue => {
        if (isPipelinePath(path)) {
          void openEditor(path).then(widget => selectIssueNode(widget, issue));
        } else {
          openFile(path);
        }
      });
    };

    const exportFromView = async (widget: PipelineEditorDocument): Promise<void> => {
      const document = widget.content.document;
      if (!document) {
        await showErrorMessage('Cannot export this file', 'It is not a valid pipeline (see the editor for why).');
        return;
      }
      await exportPipeline({ api, openFile, showConfigs }, widget.context.path, document, issue =>
        void selectIssueNode(widget, issue)
      );
    };

    const openInTextEditor = (path: string): void => {
      void app.commands.execute('docmanager:open', { path, factory: 'Editor' });
    };
    const services: IEditorServices = {
      api,
      events,
      schemas: new EditorSchemas(api),
      docManager,
      openFile,
      openInTextEditor,
      openArtifact: showArtifact,
      run: runFromView,
      exportPipeline: exportFromView,
      showRuns
    };
    // Elyra's editor, when installed, stays the default for .pipeline files and ours is under "Open With".
    const elyraInstalled =
      app.hasPlugin(ELYRA_EDITOR_PLUGIN) ||
      [...app.docRegistry.widgetFactories()].some(f => f.fileTypes.includes(ELYRA_FILE_TYPE));
    const factory = new PipelineEditorFactory(
      {
        name: FACTORY,
        label: FACTORY_LABEL,
        fileTypes: [PIPELINE_FILE_TYPE, ELYRA_FILE_TYPE],
        defaultFor: elyraInstalled ? [] : [PIPELINE_FILE_TYPE],
        modelName: 'text'
      },
      services
    );
    factory.widgetCreated.connect((_, widget) => {
      widget.title.icon = pipelineIcon;
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      widget.content.stateChanged.connect(() => app.commands.notifyCommandChanged());
      void tracker.add(widget);
    });
    app.docRegistry.addWidgetFactory(factory);
    restorer?.restore(tracker, {
      command: 'docmanager:open',
      args: widget => ({ path: widget.context.path, factory: FACTORY }),
      name: widget => widget.context.path
    });

    /** The current pipeline view, when it is the active main area widget. */
    const currentView = (): PipelineEditorDocument | null => {
      const widget = tracker.currentWidget;
      return widget && app.shell.currentWidget === widget ? widget : null;
    };
    /** The file the file browser's context menu (or selection) is about. */
    const browserPath = (): string | null => {
      const browser = browserFactory?.tracker.currentWidget;
      if (!browser) {
        return null;
      }
      const item = browser.selectedItems().next();
      return item && !item.done && item.value ? item.value.path : null;
    };
    /** The pipeline view a context menu was opened on, else the active one. */
    const contextView = (): PipelineEditorDocument | null => {
      const hit = app.contextMenuHitTest(node => node.classList.contains('elyra-proc-document'));
      return (hit && tracker.find(widget => widget.node === hit)) || currentView();
    };
    const fromBrowser = (): boolean =>
      app.contextMenuHitTest(node => node.classList.contains('jp-DirListing-item')) !== undefined;

    app.commands.addCommand(CommandIDs.openEditor, {
      label: args => (args.isContextMenu ? 'Open in Pipeline Editor' : 'Open Pipeline Editor'),
      caption: 'Edit the pipeline as a graph of its nodes, and follow its runs',
      icon: pipelineIcon,
      execute: async args => {
        const path =
          (args.path as string | undefined) ??
          (fromBrowser() ? browserPath() : null) ??
          (app.shell.currentWidget && docManager.contextForWidget(app.shell.currentWidget)?.path) ??
          browserPath();
        if (!path || !isPipelinePath(path)) {
          await showErrorMessage('Open Pipeline Editor', 'Select a .pipeline file first.');
          return;
        }
        return openEditor(path);
      }
    });

    app.commands.addCommand(CommandIDs.newPipeline, {
      label: args => (args.isLauncher ? 'Pipeline Editor' : args.isMenu ? 'Pipeline' : 'New Pipeline'),
      caption: 'Create a pipeline in the current folder and open it in the editor',
      icon: pipelineIcon,
      execute: async args => {
        const cwd = (args.cwd as string | undefined) ?? browserFactory?.tracker.currentWidget?.model.path ?? '';
        const model = await docManager.newUntitled({ path: cwd, type: 'file', ext: PIPELINE_EXTENSION });
        const images = await api.runtimeImages().catch(() => []);
        const document = newPipelineDocument({
          name: PathExt.basename(model.path, PIPELINE_EXTENSION),
          runtimeImage: images[0]?.image_name ?? DEFAULT_RUNTIME_IMAGE
        });
        await docManager.services.contents.save(model.path, {
          type: 'file',
          format: 'text',
          content: JSON.stringify(document, null, 2)
        });
        return openEditor(model.path);
      }
    });

    /** The pipeline editor the focus is in (commands run from its canvas or toolbar). */
    const focusedEditor = (): PipelineEditorDocument | null => {
      const widget = tracker.currentWidget;
      return widget && widget.node.contains(document.activeElement) ? widget : currentView();
    };
    for (const [id, label, keys, action] of EDIT_COMMANDS) {
      app.commands.addCommand(id, {
        label,
        isEnabled: () => {
          const editor = focusedEditor()?.content;
          if (!editor?.document) {
            return false;
          }
          return id === CommandIDs.undo ? editor.canUndo : id === CommandIDs.redo ? editor.canRedo : true;
        },
        execute: () => {
          const editor = focusedEditor()?.content;
          return editor ? action(editor) : undefined;
        }
      });
      for (const key of keys) {
        app.commands.addKeyBinding({ command: id, keys: [key], selector: '.elyra-proc-canvas' });
      }
    }
    app.commands.addCommand(CommandIDs.openInTextEditor, {
      label: 'Open Pipeline in Text Editor',
      execute: () => {
        const path = focusedEditor()?.context.path ?? browserPath();
        if (path) {
          openInTextEditor(path);
        }
      }
    });

    app.commands.addCommand(CommandIDs.run, {
      label: 'Run as Pipeline',
      caption: 'Run this pipeline, notebook or script on a runtime of your choice',
      icon: runIcon,
      execute: async args => {
        const path = args.path as string | undefined;
        if (path) {
          return runPath(path);
        }
        const view = fromBrowser() ? null : contextView();
        if (view) {
          return runFromView(view);
        }
        const selected = browserPath();
        if (selected && isRunnablePath(selected)) {
          return runPath(selected);
        }
        await showErrorMessage(
          'Run as Pipeline',
          'Open a pipeline, or select a .pipeline file, a notebook or a Python or R script in the file browser.'
        );
      }
    });

    app.commands.addCommand(CommandIDs.exportPipeline, {
      label: 'Export Pipeline',
      caption: 'Compile the pipeline for a runtime configuration into a YAML file',
      icon: exportIcon,
      execute: async args => {
        const path = args.path as string | undefined;
        if (path) {
          let document: JsonObject;
          try {
            document = await readPipeline(path);
          } catch (error) {
            await showErrorMessage('Cannot export this file', (error as Error).message);
            return;
          }
          return exportPipeline({ api, openFile, showConfigs }, path, document);
        }
        const view = contextView() ?? tracker.currentWidget;
        if (view) {
          return exportFromView(view);
        }
        await showErrorMessage('Export Pipeline', 'Open a pipeline in the editor first.');
      }
    });

    app.commands.addCommand(CommandIDs.selectNode, {
      label: 'Select Pipeline Node',
      execute: async args => {
        const nodeId = args.nodeId as string | undefined;
        const path = args.path as string | undefined;
        const widget = path ? await openEditor(path) : (currentView() ?? tracker.currentWidget);
        if (widget && nodeId) {
          app.shell.activateById(widget.id);
          widget.content.selectNode(nodeId);
        }
      }
    });

    app.commands.addCommand(CommandIDs.showRuns, {
      label: 'Show Pipeline Runs',
      icon: runsIcon,
      execute: args => showRuns(args.runId as string | undefined)
    });

    app.commands.addCommand(CommandIDs.refreshRuns, {
      label: 'Refresh Pipeline Runs',
      execute: () => runsPanel.refresh()
    });

    app.commands.addCommand(CommandIDs.newRuntimeConfig, {
      label: 'New Runtime Configuration',
      execute: () => {
        showConfigs();
        return configsPanel.create();
      }
    });

    for (const fileType of [PIPELINE_FILE_TYPE, ELYRA_FILE_TYPE]) {
      const pipelineItem = `.jp-DirListing-item[data-file-type="${fileType}"]`;
      app.contextMenu.addItem({ command: CommandIDs.run, selector: pipelineItem, rank: 3 });
      app.contextMenu.addItem({
        command: CommandIDs.openEditor,
        selector: pipelineItem,
        rank: 3,
        args: { isContextMenu: true }
      });
    }
    for (const type of SINGLE_FILE_TYPES) {
      app.contextMenu.addItem({
        command: CommandIDs.run,
        selector: `.jp-DirListing-item[data-file-type="${type}"]`,
        rank: 3
      });
    }
    const onNode = '.elyra-proc-canvas .react-flow__node';
    [CommandIDs.cut, CommandIDs.copy, CommandIDs.duplicate, CommandIDs.deleteNodes].forEach((command, rank) =>
      app.contextMenu.addItem({ command, selector: onNode, rank })
    );
    const onCanvas = '.elyra-proc-canvas';
    [CommandIDs.paste, CommandIDs.selectAll, CommandIDs.autoLayout, CommandIDs.fitView].forEach((command, rank) =>
      app.contextMenu.addItem({ command, selector: onCanvas, rank: 10 + rank })
    );
    app.contextMenu.addItem({ command: CommandIDs.run, selector: '.elyra-proc-editor', rank: 20 });
    app.contextMenu.addItem({ command: CommandIDs.exportPipeline, selector: '.elyra-proc-editor', rank: 21 });

    launcher?.add({ command: CommandIDs.newPipeline, category: 'Other', rank: 1, args: { isLauncher: true } });
    mainMenu?.fileMenu.newMenu.addGroup([{ command: CommandIDs.newPipeline, args: { isMenu: true } }], 30);

    if (palette) {
      for (const command of [
        CommandIDs.newPipeline,
        CommandIDs.run,
        CommandIDs.exportPipeline,
        CommandIDs.openEditor,
        CommandIDs.openInTextEditor,
        CommandIDs.autoLayout,
        CommandIDs.showRuns,
        CommandIDs.refreshRuns,
        CommandIDs.newRuntimeConfig
      ]) {
        palette.addItem({ command, category: CATEGORY });
      }
    }
  }
};

export default plugin;
