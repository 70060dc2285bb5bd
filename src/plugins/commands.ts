/**
 * Running and exporting: "Run as Pipeline" (a pipeline, from its editor or its file, or one notebook or script
 * from the file browser), "Export Pipeline", and selecting the node an issue names.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IWidgetTracker, Notification, showErrorMessage } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { checkIcon, runIcon } from '@jupyterlab/ui-components';

import { IIssue, PipelineApi } from '../api';
import { singleFilePipeline } from '../editor/document';
import { PipelineEditorDocument } from '../editor/editorDocument';
import { PipelineEvents } from '../events';
import { exportPipeline } from '../exportDialog';
import { exportIcon } from '../icons';
import { JsonObject, parsePipeline, singleFileOp } from '../pipeline';
import { runPipeline } from '../runDialog';
import { RunModel } from '../runModel';
import {
  CommandIDs,
  ELYRA_FILE_TYPE,
  IPipelineApi,
  IPipelineEditorTracker,
  IPipelineEvents,
  IRunModel,
  PIPELINE_FILE_TYPE
} from '../tokens';
import { isPipelinePath, selectedPath } from './editor';
import { CATEGORY } from './sidebar';

/** File types of the file browser items that can run as a pipeline (besides `.pipeline` files). */
const SINGLE_FILE_TYPES = ['notebook', 'python', 'r'];

function isRunnablePath(path: string): boolean {
  return isPipelinePath(path) || singleFileOp(path) !== undefined;
}

export const commandsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'elyra-proc-ext:commands',
  description: 'Run and export pipelines, notebooks and scripts.',
  autoStart: true,
  requires: [IDocumentManager, IPipelineApi, IPipelineEvents, IRunModel, IPipelineEditorTracker],
  optional: [IFileBrowserFactory, ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    api: PipelineApi,
    events: PipelineEvents,
    runs: RunModel,
    tracker: IWidgetTracker<PipelineEditorDocument>,
    browserFactory: IFileBrowserFactory | null,
    palette: ICommandPalette | null
  ) => {
    const openFile = (path: string): void => void app.commands.execute(CommandIDs.openFile, { path });
    const showRuns = (runId?: string): void => void app.commands.execute(CommandIDs.showRuns, { runId: runId ?? '' });
    const showConfigs = (): void => void app.commands.execute(CommandIDs.showConfigs);
    const selectNode = (path: string, issue: IIssue): void => {
      if (!isPipelinePath(path)) {
        openFile(path);
      } else if (issue.data?.nodeID) {
        void app.commands.execute(CommandIDs.selectNode, { path, nodeId: issue.data.nodeID });
      }
    };

    const browserPath = (): string | null => selectedPath(browserFactory);
    const fromBrowser = (): boolean =>
      app.contextMenuHitTest(node => node.classList.contains('jp-DirListing-item')) !== undefined;
    /** The path a command is about: given, the file browser item right-clicked, the editor shown, the selection. */
    const targetPath = (args: Record<string, unknown>): string | null => {
      if (typeof args.path === 'string' && args.path) {
        return args.path;
      }
      if (fromBrowser()) {
        return browserPath();
      }
      const editor = tracker.currentWidget;
      return editor && app.shell.currentWidget === editor ? editor.context.path : browserPath();
    };
    /** The pipeline at a path: as its open editor has it (edits not saved yet included), else as saved. */
    const documentAt = async (path: string): Promise<JsonObject> => {
      const editor = tracker.find(widget => widget.context.path === path);
      if (editor) {
        if (!editor.content.document) {
          throw new Error('It is not a valid pipeline (see the editor for why).');
        }
        return editor.content.document;
      }
      if (!isPipelinePath(path)) {
        return singleFilePipeline(path);
      }
      const model = await docManager.services.contents.get(path, { content: true, type: 'file', format: 'text' });
      return parsePipeline(String(model.content ?? ''));
    };

    /**
     * Act on the pipeline a command is about, or say why there is none: `accepts` tells the files the command
     * takes, `hint` what to select when the target is not one.
     */
    const withDocument = async (
      args: Record<string, unknown>,
      command: { title: string; verb: string; hint: string; accepts: (path: string) => boolean },
      act: (path: string, document: JsonObject) => Promise<unknown>
    ): Promise<void> => {
      const path = targetPath(args);
      if (!path || !command.accepts(path)) {
        await showErrorMessage(command.title, command.hint);
        return;
      }
      let document: JsonObject;
      try {
        document = await documentAt(path);
      } catch (error) {
        await showErrorMessage(`Cannot ${command.verb} this file`, (error as Error).message);
        return;
      }
      await act(path, document);
    };

    const runCommand = {
      title: 'Run as Pipeline',
      verb: 'run',
      hint: 'Open a pipeline, or select a .pipeline file, a notebook or a Python or R script in the file browser.',
      accepts: isRunnablePath
    };
    app.commands.addCommand(CommandIDs.run, {
      label: runCommand.title,
      caption: 'Run this pipeline, notebook or script on a runtime of your choice',
      icon: runIcon,
      execute: args =>
        withDocument(args, runCommand, (path, document) =>
          runPipeline({ api, runs, events, showRuns }, { path, document }, issue => selectNode(path, issue))
        )
    });

    const exportCommand = {
      title: 'Export Pipeline',
      verb: 'export',
      hint: 'Open a pipeline in the editor, or select a .pipeline file.',
      accepts: isPipelinePath
    };
    app.commands.addCommand(CommandIDs.exportPipeline, {
      label: exportCommand.title,
      caption: 'Compile the pipeline for a runtime configuration into a YAML file',
      icon: exportIcon,
      execute: args =>
        withDocument(args, exportCommand, (path, document) =>
          exportPipeline({ api, openFile, showConfigs }, path, document, issue => selectNode(path, issue))
        )
    });

    app.commands.addCommand(CommandIDs.openFile, {
      label: 'Open Pipeline File',
      caption: "Open a node's file, or a run's pipeline, saying so when it does not exist",
      execute: async args => {
        const path = String(args.path ?? '');
        try {
          await docManager.services.contents.get(path, { content: false });
        } catch {
          Notification.error(`${path} does not exist (any more): it may have been moved, renamed or deleted.`, {
            autoClose: 8000
          });
          return;
        }
        return app.commands.execute(isPipelinePath(path) ? CommandIDs.openEditor : 'docmanager:open', { path });
      }
    });

    app.commands.addCommand(CommandIDs.validate, {
      label: 'Validate Pipeline',
      caption: 'Check the pipeline on the server and list its problems',
      icon: checkIcon,
      isEnabled: () => !!tracker.currentWidget?.content.document,
      execute: async args => {
        const editor = (tracker.find(widget => widget.context.path === args.path) ?? tracker.currentWidget)?.content;
        const issues = await editor?.model.validate();
        if (!editor || issues === null || issues === undefined) {
          Notification.error(`The pipeline could not be checked: ${editor?.model.checkError ?? 'no pipeline is open'}`);
          return;
        }
        const errors = issues.filter(issue => issue.severity === 1).length;
        if (issues.length === 0) {
          Notification.success('No problems found.', { autoClose: 4000 });
        } else {
          const message = `${issues.length} problem${issues.length === 1 ? '' : 's'}, ${errors} error${
            errors === 1 ? '' : 's'
          }: see the problems list under the canvas.`;
          (errors ? Notification.error : Notification.warning)(message, { autoClose: 6000 });
        }
      }
    });

    app.commands.addCommand(CommandIDs.selectNode, {
      label: 'Select Pipeline Node',
      execute: async args => {
        const nodeId = args.nodeId as string | undefined;
        const path = args.path as string | undefined;
        const widget = path
          ? ((await app.commands.execute(CommandIDs.openEditor, { path })) as PipelineEditorDocument | null)
          : tracker.currentWidget;
        if (widget && nodeId) {
          app.shell.activateById(widget.id);
          widget.content.selectNode(nodeId);
        }
      }
    });

    for (const type of [PIPELINE_FILE_TYPE, ELYRA_FILE_TYPE, ...SINGLE_FILE_TYPES]) {
      app.contextMenu.addItem({
        command: CommandIDs.run,
        selector: `.jp-DirListing-item[data-file-type="${type}"]`,
        rank: 3
      });
    }
    app.contextMenu.addItem({ command: CommandIDs.run, selector: '.elyra-proc-editor', rank: 20 });
    app.contextMenu.addItem({ command: CommandIDs.exportPipeline, selector: '.elyra-proc-editor', rank: 21 });
    for (const command of [CommandIDs.run, CommandIDs.exportPipeline, CommandIDs.validate]) {
      palette?.addItem({ command, category: CATEGORY });
    }
  }
};
