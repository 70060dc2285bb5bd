/**
 * The JupyterLab plugin: the `.pipeline` graph view, Run and Export, the runs and runtime configuration
 * sidebar, and their commands (`elyra-proc:*`).
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, showErrorMessage, WidgetTracker } from '@jupyterlab/apputils';
import { PathExt } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { runIcon, SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';

import { IIssue, INodeRecord, IRunRecord, PipelineApi } from './api';
import { openArtifact } from './artifacts';
import { ConfigsPanel } from './configsPanel';
import { PipelineEvents } from './events';
import { exportPipeline } from './exportDialog';
import { exportIcon, pipelineIcon, runsIcon } from './icons';
import { JsonObject, parsePipeline, SINGLE_FILE_OPS, singleFilePipeline } from './pipeline';
import { IPipelineViewServices, PipelineDocument, PipelineViewFactory } from './pipelineView';
import { runPipeline } from './runDialog';
import { RunsPanel } from './runsPanel';
import { CommandIDs, FACTORY, PIPELINE_FILE_TYPE, SIDEBAR_ID } from './tokens';


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

/** The `.pipeline` file type's name: Elyra's when it registered one, else ours. */
function ensureFileType(app: JupyterFrontEnd): string {
  const registry = app.docRegistry;
  const existing =
    registry.getFileType(PIPELINE_FILE_TYPE) ??
    registry.getFileTypesForPath(`x${PIPELINE_EXTENSION}`).find(ft => ft.extensions.includes(PIPELINE_EXTENSION));
  if (existing) {
    return existing.name;
  }
  registry.addFileType({
    name: PIPELINE_FILE_TYPE,
    displayName: 'Pipeline',
    extensions: [PIPELINE_EXTENSION],
    mimeTypes: ['application/json'],
    contentType: 'file',
    fileFormat: 'text',
    icon: pipelineIcon
  });
  return PIPELINE_FILE_TYPE;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'elyra-proc-ext:plugin',
  description: 'Pipeline graphs with live run status, runs and runtime configurations for elyra_proc_ext.',
  autoStart: true,
  requires: [IDocumentManager],
  optional: [IFileBrowserFactory, ILayoutRestorer, ICommandPalette, IRenderMimeRegistry],
  activate: (
    app: JupyterFrontEnd,
    docManager: IDocumentManager,
    browserFactory: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null
  ) => {
    const api = new PipelineApi(app.serviceManager.serverSettings);
    const events = new PipelineEvents();
    const fileType = ensureFileType(app);
    const tracker = new WidgetTracker<PipelineDocument>({ namespace: 'elyra-proc-graph' });

    const openFile = (path: string): void => {
      void app.commands.execute('docmanager:open', { path });
    };
    const openGraph = async (path: string): Promise<PipelineDocument | null> => {
      const widget = docManager.openOrReveal(path, FACTORY);
      if (!(widget instanceof PipelineDocument)) {
        return null;
      }
      await widget.context.ready;
      return widget;
    };
    const openSource = (path: string): void => {
      if (isPipelinePath(path)) {
        void openGraph(path);
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

    const selectIssueNode = async (widget: PipelineDocument | null, issue: IIssue): Promise<void> => {
      const nodeId = issue.data?.nodeID;
      if (!widget || !nodeId) {
        return;
      }
      app.shell.activateById(widget.id);
      widget.content.selectNode(nodeId);
    };

    const runFromView = async (widget: PipelineDocument): Promise<void> => {
      const document = widget.content.document;
      if (!document) {
        await showErrorMessage('Cannot run this file', 'It is not a valid pipeline (see the view for why).');
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
          void openGraph(path).then(widget => selectIssueNode(widget, issue));
        } else {
          openFile(path);
        }
      });
    };

    const exportFromView = async (widget: PipelineDocument): Promise<void> => {
      const document = widget.content.document;
      if (!document) {
        await showErrorMessage('Cannot export this file', 'It is not a valid pipeline (see the view for why).');
        return;
      }
      await exportPipeline({ api, openFile, showConfigs }, widget.context.path, document, issue =>
        void selectIssueNode(widget, issue)
      );
    };

    const services: IPipelineViewServices = {
      api,
      events,
      openFile,
      openArtifact: showArtifact,
      run: runFromView,
      exportPipeline: exportFromView,
      showRuns
    };
    // Elyra's editor, when installed, stays the default for .pipeline files; otherwise the graph view is. A
    // factory registered later with `defaultFor` (Elyra's, if its plugin activates after this one) takes over.
    const othersHandlePipelines = [...app.docRegistry.widgetFactories()].some(f => f.fileTypes.includes(fileType));
    const factory = new PipelineViewFactory(
      {
        name: FACTORY,
        label: 'Pipeline Graph',
        fileTypes: [fileType],
        defaultFor: othersHandlePipelines ? [] : [fileType],
        modelName: 'text',
        readOnly: true
      },
      services
    );
    factory.widgetCreated.connect((_, widget) => {
      widget.title.icon = pipelineIcon;
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      void tracker.add(widget);
    });
    app.docRegistry.addWidgetFactory(factory);
    restorer?.restore(tracker, {
      command: 'docmanager:open',
      args: widget => ({ path: widget.context.path, factory: FACTORY }),
      name: widget => widget.context.path
    });

    /** The current pipeline view, when it is the active main area widget. */
    const currentView = (): PipelineDocument | null => {
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
    const contextView = (): PipelineDocument | null => {
      const hit = app.contextMenuHitTest(node => node.classList.contains('elyra-proc-document'));
      return (hit && tracker.find(widget => widget.node === hit)) || currentView();
    };
    const fromBrowser = (): boolean =>
      app.contextMenuHitTest(node => node.classList.contains('jp-DirListing-item')) !== undefined;

    app.commands.addCommand(CommandIDs.openGraph, {
      label: args => (args.isContextMenu ? 'Open as Pipeline Graph' : 'Open Pipeline Graph'),
      caption: 'Show the pipeline as a graph of its nodes, with their run status',
      icon: pipelineIcon,
      execute: async args => {
        const path =
          (args.path as string | undefined) ??
          (fromBrowser() ? browserPath() : null) ??
          (app.shell.currentWidget && docManager.contextForWidget(app.shell.currentWidget)?.path) ??
          browserPath();
        if (!path || !isPipelinePath(path)) {
          await showErrorMessage('Open Pipeline Graph', 'Select a .pipeline file first.');
          return;
        }
        return openGraph(path);
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
        await showErrorMessage('Export Pipeline', 'Open a pipeline graph first.');
      }
    });

    app.commands.addCommand(CommandIDs.selectNode, {
      label: 'Select Pipeline Node',
      execute: async args => {
        const nodeId = args.nodeId as string | undefined;
        const path = args.path as string | undefined;
        const widget = path ? await openGraph(path) : (currentView() ?? tracker.currentWidget);
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

    const pipelineItem = `.jp-DirListing-item[data-file-type="${fileType}"]`;
    app.contextMenu.addItem({ command: CommandIDs.run, selector: pipelineItem, rank: 3 });
    app.contextMenu.addItem({
      command: CommandIDs.openGraph,
      selector: pipelineItem,
      rank: 3,
      args: { isContextMenu: true }
    });
    for (const type of SINGLE_FILE_TYPES) {
      app.contextMenu.addItem({
        command: CommandIDs.run,
        selector: `.jp-DirListing-item[data-file-type="${type}"]`,
        rank: 3
      });
    }
    app.contextMenu.addItem({ command: CommandIDs.run, selector: '.elyra-proc-view', rank: 1 });
    app.contextMenu.addItem({ command: CommandIDs.exportPipeline, selector: '.elyra-proc-view', rank: 2 });

    if (palette) {
      for (const command of [
        CommandIDs.run,
        CommandIDs.exportPipeline,
        CommandIDs.openGraph,
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
