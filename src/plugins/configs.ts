/**
 * The Runtime Configurations section of the pipelines sidebar, and its commands.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';

import { PipelineApi } from '../api';
import { ConfigsPanel } from '../configsPanel';
import { PipelineEvents } from '../events';
import { CommandIDs, IPipelineApi, IPipelineEvents, IPipelineSidebar } from '../tokens';
import { CATEGORY } from './sidebar';

export const configsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'elyra-proc-ext:runtime-configs',
  description: 'Runtime configurations: create, edit, test and delete them in the pipelines sidebar.',
  autoStart: true,
  requires: [IPipelineApi, IPipelineEvents, IPipelineSidebar],
  optional: [ICommandPalette],
  activate: (
    app: JupyterFrontEnd,
    api: PipelineApi,
    events: PipelineEvents,
    sidebar: IPipelineSidebar,
    palette: ICommandPalette | null
  ) => {
    const configsPanel = new ConfigsPanel({ app, api, events });
    sidebar.addSection(configsPanel);
    app.commands.addCommand(CommandIDs.showConfigs, {
      label: 'Show Runtime Configurations',
      execute: () => sidebar.showSection(configsPanel)
    });
    app.commands.addCommand(CommandIDs.newRuntimeConfig, {
      label: 'New Runtime Configuration',
      execute: () => {
        sidebar.showSection(configsPanel);
        return configsPanel.create();
      }
    });
    for (const command of [CommandIDs.showConfigs, CommandIDs.newRuntimeConfig]) {
      palette?.addItem({ command, category: CATEGORY });
    }
  }
};
