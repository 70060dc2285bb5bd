/**
 * The JupyterLab extension, as plugins: shared services (REST client, notifications, run model) with tokens for
 * other extensions, the pipelines sidebar (runs, runtime configurations), the pipeline editor, and the run and
 * export commands.
 */
import { JupyterFrontEndPlugin } from '@jupyterlab/application';

import { commandsPlugin } from './plugins/commands';
import { configsPlugin } from './plugins/configs';
import { editorPlugin } from './plugins/editor';
import { apiPlugin, eventsPlugin, runModelPlugin } from './plugins/services';
import { runsPlugin } from './plugins/sidebar';

export * from './tokens';

const plugins: JupyterFrontEndPlugin<any>[] = [
  apiPlugin,
  eventsPlugin,
  runModelPlugin,
  runsPlugin,
  configsPlugin,
  editorPlugin,
  commandsPlugin
];

export default plugins;
