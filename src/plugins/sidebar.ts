/**
 * The left sidebar of pipelines: the Pipeline Runs section (its own plugin) and the sections other plugins add
 * (runtime configurations), with the commands that show and refresh the runs.
 */
import { ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IWidgetTracker } from '@jupyterlab/apputils';
import { IEditorServices } from '@jupyterlab/codeeditor';
import { ISearchProviderRegistry } from '@jupyterlab/documentsearch';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';

import { PipelineApi } from '../api';
import { artifactSearch, ArtifactViewer } from '../artifacts';
import { runsIcon } from '../icons';
import { RunModel } from '../runModel';
import { RunsPanel } from '../runsPanel';
import type { PipelineEditorDocument } from '../editor/editorDocument';
import { CommandIDs, IPipelineApi, IPipelineEditorTracker, IPipelineSidebar, IRunModel, SIDEBAR_ID } from '../tokens';

export const CATEGORY = 'Pipelines';

/** How much of the sidebar's height the runs take beside each other section: 3 to 1. */
const RUNS_SHARE = 3;

export const runsPlugin: JupyterFrontEndPlugin<IPipelineSidebar> = {
  id: 'elyra-proc-ext:runs',
  description: 'The Pipeline Runs sidebar: recent runs, their nodes, logs and executed notebooks.',
  autoStart: true,
  requires: [IPipelineApi, IRunModel, IRenderMimeRegistry, IEditorServices],
  // The editors are optional (the editor plugin does not need the sidebar): "This pipeline only" follows them.
  optional: [ILayoutRestorer, ICommandPalette, IPipelineEditorTracker, ISearchProviderRegistry],
  provides: IPipelineSidebar,
  activate: (
    app: JupyterFrontEnd,
    api: PipelineApi,
    runs: RunModel,
    rendermime: IRenderMimeRegistry,
    editorServices: IEditorServices,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    editors: IWidgetTracker<PipelineEditorDocument> | null,
    search: ISearchProviderRegistry | null
  ): IPipelineSidebar => {
    const artifacts = new ArtifactViewer(app, api, rendermime, editorServices);
    search?.add('elyra-proc-artifacts', artifactSearch);
    app.commands.addCommand(CommandIDs.openArtifact, {
      label: 'Open Run Artifact',
      execute: async args => {
        const runId = String(args.runId ?? '');
        const run = runs.run(runId) ?? (await api.run(runId));
        const node = run.nodes.find(n => n.id === args.nodeId);
        if (node) {
          await artifacts.open(run, node, String(args.name ?? ''));
        }
      }
    });
    const runsPanel = new RunsPanel({
      runs,
      api,
      openArtifact: (run, node, name) =>
        void app.commands.execute(CommandIDs.openArtifact, { runId: run.id, nodeId: node.id, name }),
      openSource: path => void app.commands.execute(CommandIDs.openFile, { path })
    });
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
    if (editors) {
      const followEditor = (): void => {
        runsPanel.pipeline = editors.currentWidget?.context.path ?? null;
      };
      editors.currentChanged.connect(followEditor);
      editors.widgetUpdated.connect(followEditor); // the file was renamed
      followEditor();
    }
    app.shell.add(sidebar, 'left', { rank: 650 });
    restorer?.add(sidebar, SIDEBAR_ID);

    const showSection = (section: Widget): void => {
      app.shell.activateById(SIDEBAR_ID);
      const index = sidebar.widgets.indexOf(section);
      if (sidebar.content instanceof AccordionPanel && index >= 0) {
        sidebar.content.expand(index);
      }
    };

    app.commands.addCommand(CommandIDs.showRuns, {
      label: 'Show Pipeline Runs',
      icon: runsIcon,
      execute: args => {
        showSection(runsPanel);
        const runId = args.runId as string | undefined;
        return runId ? runsPanel.reveal(runId) : runs.refresh();
      }
    });
    app.commands.addCommand(CommandIDs.refreshRuns, {
      label: 'Refresh Pipeline Runs',
      execute: () => runs.refresh()
    });
    for (const command of [CommandIDs.showRuns, CommandIDs.refreshRuns]) {
      palette?.addItem({ command, category: CATEGORY });
    }
    const addSection = (section: Widget): void => {
      sidebar.addWidget(section);
      // The runs list fills most of the height and scrolls inside; the other sections take the rest.
      const sizes = sidebar.widgets.map(widget => (widget === runsPanel ? RUNS_SHARE : 1));
      if (sidebar.content instanceof AccordionPanel) {
        sidebar.content.setRelativeSizes(sizes);
      }
    };
    return { addSection, showSection };
  }
};
