/**
 * Export: compile the pipeline for a runtime configuration into a YAML file beside it, asking before
 * replacing an existing file (the server answers 409).
 */
import { Dialog, Notification, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import * as React from 'react';

import { ApiError, IExportAnswer, IIssue, IRuntimeConfig, PipelineApi } from './api';
import { Select } from './controls';
import { showIssues } from './issues';
import { exportPathFor, isObject, JsonObject, preparePipeline, primaryPipeline } from './pipeline';

export interface IExportServices {
  api: PipelineApi;
  openFile: (path: string) => void;
  showConfigs: () => void;
}

interface IExportValues {
  config: string;
  path: string;
}

class ExportForm extends ReactWidget {
  constructor(
    private readonly configs: IRuntimeConfig[],
    private values: IExportValues
  ) {
    super();
    this.addClass('elyra-proc-dialog-body');
    this.node.dataset.testid = 'elyra-proc-export-dialog';
  }

  getValue(): IExportValues {
    return this.values;
  }

  protected render(): JSX.Element {
    const set = (change: Partial<IExportValues>): void => {
      this.values = { ...this.values, ...change };
      this.update();
    };
    return (
      <div className="elyra-proc-form">
        <label className="elyra-proc-field" htmlFor="elyra-proc-export-config">
          <span className="elyra-proc-field-label">Runtime configuration</span>
          <Select
            id="elyra-proc-export-config"
            testId="elyra-proc-export-config"
            aria-label="Runtime configuration"
            value={this.values.config}
            onChange={event => set({ config: event.target.value })}
          >
            {this.configs.map(config => (
              <option key={config.name} value={config.name}>
                {config.display_name || config.name} ({config.schema_name})
              </option>
            ))}
          </Select>
        </label>
        <label className="elyra-proc-field" htmlFor="elyra-proc-export-path">
          <span className="elyra-proc-field-label">Export to (YAML, relative to the server root)</span>
          <input
            id="elyra-proc-export-path"
            data-testid="elyra-proc-export-path"
            className="jp-mod-styled"
            type="text"
            aria-label="Export path"
            value={this.values.path}
            onChange={event => set({ path: event.target.value })}
          />
        </label>
      </div>
    );
  }
}

let lastConfig: string | null = null;

/** Export the pipeline at `path` (its document given); returns the written path, or null. */
export async function exportPipeline(
  services: IExportServices,
  path: string,
  document: JsonObject,
  onIssue?: (issue: IIssue) => void
): Promise<string | null> {
  let configs: IRuntimeConfig[];
  try {
    configs = await services.api.runtimeConfigs();
  } catch (error) {
    await showErrorMessage('Cannot export', (error as Error).message);
    return null;
  }
  if (configs.length === 0) {
    const create = Dialog.okButton({ label: 'Open Runtime Configurations' });
    const result = await showDialog({
      title: 'No runtime configuration',
      body: 'Exporting compiles the pipeline for a runtime configuration (Kubeflow Pipelines). Create one first.',
      buttons: [Dialog.cancelButton(), create]
    });
    if (result.button.accept) {
      services.showConfigs();
    }
    return null;
  }
  const names = configs.map(config => config.name);
  const appData = primaryPipeline(document).app_data;
  const saved = isObject(appData) && typeof appData.runtime_config === 'string' ? appData.runtime_config : null;
  const initial =
    saved && names.includes(saved) ? saved : lastConfig && names.includes(lastConfig) ? lastConfig : names[0];
  const result = await showDialog<IExportValues>({
    title: 'Export pipeline',
    body: new ExportForm(configs, { config: initial, path: exportPathFor(path) }),
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Export', ariaLabel: 'Export pipeline' })],
    focusNodeSelector: '#elyra-proc-export-config'
  });
  if (!result.button.accept || !result.value) {
    return null;
  }
  const { config, path: exportPath } = result.value;
  lastConfig = config;
  const prepared = preparePipeline(document, { source: path });
  let overwrite = false;
  for (;;) {
    let answer: IExportAnswer;
    try {
      answer = await services.api.exportPipeline(prepared, config, exportPath.trim(), overwrite);
    } catch (error) {
      if (error instanceof ApiError && error.status === 409 && !overwrite) {
        const replace = await showDialog({
          title: 'Replace the file?',
          body: `${exportPath} already exists. Replace it with this export?`,
          buttons: [
            Dialog.cancelButton(),
            Dialog.warnButton({ label: 'Overwrite', ariaLabel: 'Overwrite the existing file' })
          ]
        });
        if (!replace.button.accept) {
          return null;
        }
        overwrite = true;
        continue;
      }
      if (error instanceof ApiError && error.issues.length > 0) {
        const issue = await showIssues('The pipeline cannot be exported', error.message, error.issues);
        if (issue && onIssue) {
          onIssue(issue);
        }
      } else {
        await showErrorMessage('Export failed', (error as Error).message);
      }
      return null;
    }
    const written = answer.export_path || exportPath;
    Notification.success(`Exported to ${written}`, {
      autoClose: 6000,
      actions: [{ label: 'Open', callback: () => services.openFile(written) }]
    });
    return written;
  }
}
