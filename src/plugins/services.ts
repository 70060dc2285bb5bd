/**
 * The shared services, each its own plugin with a token so that other extensions can use them: the REST client,
 * the notifications between views, and the one run model that polls the server for every view.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';

import { PipelineApi } from '../api';
import { PipelineEvents } from '../events';
import { RunModel } from '../runModel';
import { IPipelineApi, IPipelineEvents, IRunModel } from '../tokens';

export const apiPlugin: JupyterFrontEndPlugin<PipelineApi> = {
  id: 'elyra-proc-ext:api',
  description: 'The REST client of the elyra_proc_ext server extension.',
  autoStart: true,
  provides: IPipelineApi,
  activate: (app: JupyterFrontEnd) => new PipelineApi(app.serviceManager.serverSettings)
};

export const eventsPlugin: JupyterFrontEndPlugin<PipelineEvents> = {
  id: 'elyra-proc-ext:events',
  description: 'Notifications between the pipeline views.',
  autoStart: true,
  provides: IPipelineEvents,
  activate: () => new PipelineEvents()
};

export const runModelPlugin: JupyterFrontEndPlugin<RunModel> = {
  id: 'elyra-proc-ext:run-model',
  description: 'The recent pipeline runs, polled once for every view.',
  autoStart: true,
  requires: [IPipelineApi, IPipelineEvents],
  provides: IRunModel,
  activate: (_: JupyterFrontEnd, api: PipelineApi, events: PipelineEvents) => {
    const runs = new RunModel(api);
    events.runStarted.connect(() => void runs.refresh());
    return runs;
  }
};
