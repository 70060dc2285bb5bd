/**
 * Names shared by the modules and by browser tests: command ids, the widget factory, the file type, DOM ids.
 */
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
