/**
 * Names shared by the plugins, by other extensions and by browser tests: the tokens the plugins provide, command
 * ids, the widget factory, the file type, DOM ids.
 */
import type { IWidgetTracker } from '@jupyterlab/apputils';
import { Token } from '@lumino/coreutils';
import type { Widget } from '@lumino/widgets';

import type { PipelineApi } from './api';
import type { PipelineEditorDocument } from './editor/editorDocument';
import type { PipelineEvents } from './events';
import type { RunModel } from './runModel';

export namespace CommandIDs {
  export const newPipeline = 'elyra-proc:new-pipeline';
  export const openEditor = 'elyra-proc:open-editor';
  export const run = 'elyra-proc:run';
  export const exportPipeline = 'elyra-proc:export';
  export const showRuns = 'elyra-proc:show-runs';
  export const refreshRuns = 'elyra-proc:refresh-runs';
  export const newRuntimeConfig = 'elyra-proc:new-runtime-config';
  export const selectNode = 'elyra-proc:select-node';
  export const undo = 'elyra-proc:undo';
  export const redo = 'elyra-proc:redo';
  export const copy = 'elyra-proc:copy';
  export const cut = 'elyra-proc:cut';
  export const paste = 'elyra-proc:paste';
  export const duplicate = 'elyra-proc:duplicate';
  export const deleteNodes = 'elyra-proc:delete-nodes';
  export const selectAll = 'elyra-proc:select-all';
  export const autoLayout = 'elyra-proc:auto-layout';
  export const fitView = 'elyra-proc:fit-view';
  export const openInTextEditor = 'elyra-proc:open-in-text-editor';
  export const showConfigs = 'elyra-proc:show-runtime-configs';
  export const openArtifact = 'elyra-proc:open-artifact';
  export const validate = 'elyra-proc:validate';
  export const openFile = 'elyra-proc:open-file';
}

/** The document widget factory's name; its label is what "Open With" shows. */
export const FACTORY = 'elyra-proc-pipeline-editor';
export const FACTORY_LABEL = 'Pipeline Editor (elyra_proc_ext)';

/** Our `.pipeline` file type. Elyra registers one named `pipeline`; when Elyra's editor is there, it stays default. */
export const PIPELINE_FILE_TYPE = 'elyra-proc-pipeline';
export const ELYRA_FILE_TYPE = 'pipeline';
/** Elyra's pipeline editor plugin: when it is installed, ours does not claim `.pipeline` files. */
export const ELYRA_EDITOR_PLUGIN = '@elyra/pipeline-editor-extension:plugin';

/** The left sidebar holding the runs and runtime configuration sections. */
export const SIDEBAR_ID = 'elyra-proc-sidebar';

/** The REST client of the server extension (`{base_url}pipeline/`), for other extensions too. */
export const IPipelineApi = new Token<PipelineApi>(
  'elyra-proc-ext:IPipelineApi',
  'The REST client of the elyra_proc_ext server extension: run, validate, export pipelines, read runs.'
);

/** Notifications between the views: a run started or was refused, runtime configurations changed. */
export const IPipelineEvents = new Token<PipelineEvents>(
  'elyra-proc-ext:IPipelineEvents',
  'Notifications of runs started or refused and of runtime configurations changed.'
);

/** The recent runs, polled once for every view. */
export const IRunModel = new Token<RunModel>(
  'elyra-proc-ext:IRunModel',
  'The recent pipeline runs, polled once and shared by every view; watch a run to follow it closely.'
);

/** The sidebar of runs and runtime configurations, which other plugins add sections to. */
export interface IPipelineSidebar {
  /** Add a section (a widget with a title); the first added comes first. */
  addSection(section: Widget): void;
  /** Show the sidebar with this section expanded. */
  showSection(section: Widget): void;
}

export const IPipelineSidebar = new Token<IPipelineSidebar>(
  'elyra-proc-ext:IPipelineSidebar',
  'The left sidebar of pipeline runs and runtime configurations.'
);

/** The open pipeline editors. */
export const IPipelineEditorTracker = new Token<IWidgetTracker<PipelineEditorDocument>>(
  'elyra-proc-ext:IPipelineEditorTracker',
  'The pipeline editors open in the main area.'
);
