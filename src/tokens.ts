/**
 * Names shared by the modules and by browser tests: command ids, the widget factory, DOM ids.
 */
export namespace CommandIDs {
  export const openGraph = 'elyra-proc:open-graph';
  export const run = 'elyra-proc:run';
  export const exportPipeline = 'elyra-proc:export';
  export const showRuns = 'elyra-proc:show-runs';
  export const refreshRuns = 'elyra-proc:refresh-runs';
  export const newRuntimeConfig = 'elyra-proc:new-runtime-config';
  export const selectNode = 'elyra-proc:select-node';
}

/** The document widget factory (shown in "Open With"). */
export const FACTORY = 'Pipeline Graph';

/** The file type name Elyra uses for `.pipeline` files; registered here when Elyra is not installed. */
export const PIPELINE_FILE_TYPE = 'pipeline';

/** The left sidebar holding the runs and runtime configuration sections. */
export const SIDEBAR_ID = 'elyra-proc-sidebar';
