/**
 * The pipeline document: our `.pipeline` file type, the editor's widget factory (the default for `.pipeline`
 * files unless Elyra's editor is installed), creating pipelines (launcher tile, File > New, command palette), and
 * the editing commands with their key bindings and context menu.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IWidgetTracker, Notification, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { ILauncher } from '@jupyterlab/launcher';
import { IMainMenu } from '@jupyterlab/mainmenu';

import { PipelineApi } from '../api';
import { newPipelineDocument } from '../editor/document';
import { PipelineEditorDocument, PipelineEditorFactory } from '../editor/editorDocument';
import { EditorSchemas } from '../editor/schemas';
import { PipelineEditor } from '../editor/widget';
import { PipelineEvents } from '../events';
import { pipelineIcon } from '../icons';
import { DEFAULT_RUNTIME_IMAGE } from '../pipeline';
import { RunModel } from '../runModel';
import {
  CommandIDs,
  ELYRA_EDITOR_PLUGIN,
  ELYRA_FILE_TYPE,
  FACTORY,
  FACTORY_LABEL,
  IPipelineApi,
  IPipelineEditorTracker,
  IPipelineEvents,
  IRunModel,
  PIPELINE_FILE_TYPE
} from '../tokens';
import { CATEGORY } from './sidebar';

export const PIPELINE_EXTENSION = '.pipeline';

/** The file the file browser's context menu (or selection) is about. */
export function selectedPath(browserFactory: IFileBrowserFactory | null): string | null {
  const item = browserFactory?.tracker.currentWidget?.selectedItems().next();
  return item && !item.done && item.value ? item.value.path : null;
}

export function isPipelinePath(path: string): boolean {
  return PathExt.extname(path).toLowerCase() === PIPELINE_EXTENSION;
}

/** The editing commands act on the pipeline editor that has the focus (its canvas, for the key bindings). */
const EDIT_COMMANDS: [string, string, string[], (editor: PipelineEditor) => unknown][] = [
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

export const editorPlugin: JupyterFrontEndPlugin<IWidgetTracker<PipelineEditorDocument>> = {
  id: 'elyra-proc-ext:editor',
  description: 'The visual pipeline editor for .pipeline files.',
  autoStart: true,
  requires: [IDocumentManager, IPipelineApi, IPipelineEvents, IRunModel],
  optional: [IFileBrowserFactory, ILayoutRestorer, ICommandPalette, ILauncher, IMainMenu],
  provides: IPipelineEditorTracker,
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    api: PipelineApi,
    events: PipelineEvents,
    runs: RunModel,
    browserFactory: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    launcher: ILauncher | null,
    mainMenu: IMainMenu | null
  ) => {
    app.docRegistry.addFileType({
      name: PIPELINE_FILE_TYPE,
      displayName: 'Pipeline',
      extensions: [PIPELINE_EXTENSION],
      mimeTypes: ['application/json'],
      contentType: 'file',
      fileFormat: 'text',
      icon: pipelineIcon
    });
    const tracker = new WidgetTracker<PipelineEditorDocument>({ namespace: 'elyra-proc-editor' });
    const openInTextEditor = (path: string): void => {
      void app.commands.execute('docmanager:open', { path, factory: 'Editor' });
    };
    const factory = new PipelineEditorFactory(
      {
        name: FACTORY,
        label: FACTORY_LABEL,
        fileTypes: [PIPELINE_FILE_TYPE, ELYRA_FILE_TYPE],
        // Elyra's editor, when installed, stays the default for .pipeline files and ours is under "Open With".
        defaultFor:
          app.hasPlugin(ELYRA_EDITOR_PLUGIN) ||
          [...app.docRegistry.widgetFactories()].some(f => f.fileTypes.includes(ELYRA_FILE_TYPE))
            ? []
            : [PIPELINE_FILE_TYPE],
        modelName: 'text'
      },
      {
        api,
        runs,
        events,
        schemas: new EditorSchemas(api),
        docManager,
        openFile: path => void app.commands.execute(CommandIDs.openFile, { path }),
        openInTextEditor,
        openArtifact: (run, node, name) =>
          void app.commands.execute(CommandIDs.openArtifact, { runId: run.id, nodeId: node.id, name }),
        validate: async widget => {
          await app.commands.execute(CommandIDs.validate, { path: widget.context.path });
        },
        run: async widget => {
          await app.commands.execute(CommandIDs.run, { path: widget.context.path });
        },
        exportPipeline: async widget => {
          await app.commands.execute(CommandIDs.exportPipeline, { path: widget.context.path });
        },
        showRuns: runId => void app.commands.execute(CommandIDs.showRuns, { runId: runId ?? '' })
      }
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

    const browserPath = (): string | null => selectedPath(browserFactory);

    app.commands.addCommand(CommandIDs.openEditor, {
      label: args => (args.isContextMenu ? 'Open in Pipeline Editor' : 'Open Pipeline Editor'),
      caption: 'Edit the pipeline as a graph of its nodes, and follow its runs',
      icon: pipelineIcon,
      execute: async args => {
        const path = (args.path as string | undefined) ?? browserPath();
        if (!path || !isPipelinePath(path)) {
          Notification.warning('Select a .pipeline file to open in the pipeline editor.', { autoClose: 5000 });
          return null;
        }
        const widget = docManager.openOrReveal(path, FACTORY);
        if (widget instanceof PipelineEditorDocument) {
          await widget.context.ready;
          return widget;
        }
        return null;
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
        return app.commands.execute(CommandIDs.openEditor, { path: model.path });
      }
    });

    /** The pipeline editor the focus is in (commands run from its canvas or toolbar), else the active one. */
    const focusedEditor = (): PipelineEditor | null => {
      const widget = tracker.currentWidget;
      if (!widget) {
        return null;
      }
      return widget.node.contains(document.activeElement) || app.shell.currentWidget === widget ? widget.content : null;
    };
    for (const [id, label, keys, action] of EDIT_COMMANDS) {
      app.commands.addCommand(id, {
        label,
        isEnabled: () => {
          const editor = focusedEditor();
          if (!editor?.document) {
            return false;
          }
          return id === CommandIDs.undo ? editor.canUndo : id === CommandIDs.redo ? editor.canRedo : true;
        },
        execute: () => {
          const editor = focusedEditor();
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
        const path = tracker.currentWidget?.context.path ?? browserPath();
        if (path) {
          openInTextEditor(path);
        }
      }
    });

    const onNode = '.elyra-proc-canvas .react-flow__node';
    [CommandIDs.cut, CommandIDs.copy, CommandIDs.duplicate, CommandIDs.deleteNodes].forEach((command, rank) =>
      app.contextMenu.addItem({ command, selector: onNode, rank })
    );
    [CommandIDs.paste, CommandIDs.selectAll, CommandIDs.autoLayout, CommandIDs.fitView].forEach((command, rank) =>
      app.contextMenu.addItem({ command, selector: '.elyra-proc-canvas', rank: 10 + rank })
    );
    for (const fileType of [PIPELINE_FILE_TYPE, ELYRA_FILE_TYPE]) {
      app.contextMenu.addItem({
        command: CommandIDs.openEditor,
        selector: `.jp-DirListing-item[data-file-type="${fileType}"]`,
        rank: 3,
        args: { isContextMenu: true }
      });
    }
    launcher?.add({ command: CommandIDs.newPipeline, category: 'Other', rank: 1, args: { isLauncher: true } });
    mainMenu?.fileMenu.newMenu.addGroup([{ command: CommandIDs.newPipeline, args: { isMenu: true } }], 30);
    for (const command of [
      CommandIDs.newPipeline,
      CommandIDs.openEditor,
      CommandIDs.openInTextEditor,
      CommandIDs.autoLayout
    ]) {
      palette?.addItem({ command, category: CATEGORY });
    }
    return tracker;
  }
};
