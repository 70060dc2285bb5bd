/**
 * The Runtime Configurations section of the sidebar: list, create, edit, test the connection (a result is marked
 * stale once the configuration's form changes, see `connectionTests.ts`), delete.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, MainAreaWidget, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { addIcon, refreshIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { ApiError, IRuntime, IRuntimeConfig, PipelineApi } from './api';
import { ConfigEditor } from './configForm';
import { ConnectionTests } from './connectionTests';
import { Button, IconButton, Select } from './controls';
import { PipelineEvents } from './events';

export interface IConfigsPanelServices {
  app: JupyterFrontEnd;
  api: PipelineApi;
  events: PipelineEvents;
}

/** The runtime chooser for a new configuration, when more than one runtime takes configurations. */
class RuntimeChoice extends ReactWidget {
  constructor(private readonly runtimes: IRuntime[]) {
    super();
    this.addClass('elyra-proc-dialog-body');
    this._value = runtimes[0].name;
  }

  getValue(): string {
    return this._value;
  }

  protected render(): JSX.Element {
    return (
      <label className="elyra-proc-field" htmlFor="elyra-proc-config-runtime">
        <span className="elyra-proc-field-label">Runtime</span>
        <Select
          id="elyra-proc-config-runtime"
          testId="elyra-proc-config-runtime"
          defaultValue={this._value}
          onChange={event => {
            this._value = event.target.value;
          }}
        >
          {this.runtimes.map(runtime => (
            <option key={runtime.name} value={runtime.name}>
              {runtime.display_name || runtime.name}
            </option>
          ))}
        </Select>
      </label>
    );
  }

  private _value: string;
}

export class ConfigsPanel extends ReactWidget {
  constructor(private readonly services: IConfigsPanelServices) {
    super();
    this.id = 'elyra-proc-runtime-configs';
    this.addClass('elyra-proc-configs-panel');
    this.title.label = 'Runtime Configurations';
    this.title.caption = 'Runtime configurations (Kubeflow Pipelines and other runtimes)';
    this.node.dataset.testid = 'elyra-proc-configs-panel';
    services.events.configsChanged.connect(() => void this.refresh(), this);
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const [configs, { runtimes }] = await Promise.all([
        this.services.api.runtimeConfigs(),
        this.services.api.runtimes()
      ]);
      this._configs = configs;
      this._runtimes = runtimes.filter(runtime => runtime.config_schema);
      this._error = null;
    } catch (error) {
      this._error = (error as Error).message;
    }
    this._loaded = true;
    this.update();
  }

  /** Create a configuration: choose the runtime when several take configurations, then open the form. */
  async create(): Promise<void> {
    if (!this._loaded) {
      await this.refresh();
    }
    if (this._runtimes.length === 0) {
      await showErrorMessage(
        'No runtime takes configurations',
        "Install the Kubeflow Pipelines extra (pip install 'elyra_proc_ext[kfp]') or another runtime."
      );
      return;
    }
    let runtime = this._runtimes[0];
    if (this._runtimes.length > 1) {
      const result = await showDialog<string>({
        title: 'New runtime configuration',
        body: new RuntimeChoice(this._runtimes),
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Next' })]
      });
      if (!result.button.accept || !result.value) {
        return;
      }
      runtime = this._runtimes.find(r => r.name === result.value) ?? runtime;
    }
    this._openEditor(runtime, null);
  }

  protected onAfterShow(): void {
    void this.refresh();
  }

  private async _edit(config: IRuntimeConfig): Promise<void> {
    const runtime = this._runtimes.find(r => r.name === config.schema_name);
    if (!runtime) {
      await showErrorMessage(
        'Cannot edit this configuration',
        `The runtime '${config.schema_name}' is not available on this server.`
      );
      return;
    }
    try {
      // Load it again: the list may be stale, and edits start from what is stored.
      const fresh = await this.services.api.runtimeConfig(config.name);
      this._openEditor(runtime, fresh);
    } catch (error) {
      await showErrorMessage('Cannot load the configuration', (error as Error).message);
    }
  }

  private _openEditor(runtime: IRuntime, config: IRuntimeConfig | null): void {
    const { app } = this.services;
    const id = `elyra-proc-config-editor-${config ? config.name : `new-${runtime.name}`}`.replace(
      /[^A-Za-z0-9_-]/g,
      '_'
    );
    const existing = [...app.shell.widgets('main')].find(widget => widget.id === id);
    if (existing) {
      app.shell.activateById(id);
      return;
    }
    let widget: MainAreaWidget<ConfigEditor> | null = null;
    const content = new ConfigEditor({
      api: this.services.api,
      events: this.services.events,
      runtime,
      config,
      onEdited: config
        ? () => {
            this._tests.edited(config.name);
            this.update();
          }
        : undefined,
      onDone: () => widget?.dispose()
    });
    widget = new MainAreaWidget({ content });
    widget.id = id;
    widget.title.label = config ? `Runtime: ${config.display_name}` : `New ${runtime.display_name} runtime`;
    widget.title.closable = true;
    app.shell.add(widget, 'main');
    app.shell.activateById(id);
    requestAnimationFrame(() => content.node.querySelector<HTMLElement>('input')?.focus());
  }

  private async _test(config: IRuntimeConfig): Promise<void> {
    this._tests.start(config.name);
    this.update();
    try {
      const answer = await this.services.api.testRuntimeConfig(config.name);
      const ok = Boolean(answer.ok);
      this._tests.finish(config.name, ok, answer.message || (ok ? 'Connected.' : 'Failed.'));
    } catch (error) {
      this._tests.finish(config.name, false, error instanceof ApiError ? error.message : String(error));
    }
    this.update();
  }

  private async _delete(config: IRuntimeConfig): Promise<void> {
    const answer = await showDialog({
      title: 'Delete runtime configuration?',
      body: `Delete ${config.display_name} (${config.name})? Pipelines that name it can no longer run on it.`,
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete', ariaLabel: 'Delete the configuration' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      await this.services.api.deleteRuntimeConfig(config.name);
      this._tests.forget(config.name);
      this.services.events.notifyConfigsChanged();
    } catch (error) {
      await showErrorMessage('The configuration could not be deleted', (error as Error).message);
    }
  }

  protected render(): JSX.Element {
    return (
      <div className="elyra-proc-panel">
        <div className="elyra-proc-panel-toolbar">
          <IconButton
            testId="elyra-proc-config-new"
            label="New runtime configuration"
            onClick={() => void this.create()}
          >
            <addIcon.react tag="span" elementSize="normal" />
          </IconButton>
          <IconButton
            testId="elyra-proc-configs-refresh"
            label="Refresh the runtime configurations"
            title="Refresh"
            onClick={() => void this.refresh()}
          >
            <refreshIcon.react tag="span" elementSize="normal" />
          </IconButton>
        </div>
        {this._error && (
          <p className="elyra-proc-error-text" role="alert" data-testid="elyra-proc-configs-error">
            {this._error}
          </p>
        )}
        {this._loaded && !this._error && this._configs.length === 0 && (
          <p className="elyra-proc-muted elyra-proc-empty" data-testid="elyra-proc-configs-empty">
            No runtime configurations. Add one to run pipelines on Kubeflow Pipelines.
          </p>
        )}
        <ul
          className="elyra-proc-config-list"
          aria-label="Runtime configurations"
          data-testid="elyra-proc-configs-list"
        >
          {this._configs.map(config => this._renderConfig(config))}
        </ul>
      </div>
    );
  }

  private _renderConfig(config: IRuntimeConfig): JSX.Element {
    const test = this._tests.get(config.name);
    const endpoint = config.metadata?.api_endpoint;
    return (
      <li
        key={config.name}
        className="elyra-proc-config"
        data-testid={`elyra-proc-config-${config.name}`}
        data-config-name={config.name}
      >
        <div className="elyra-proc-config-line">
          <span className="elyra-proc-config-name">{config.display_name}</span>
          <span className="elyra-proc-muted">
            {config.name} · {config.schema_name}
          </span>
        </div>
        {typeof endpoint === 'string' && endpoint && (
          <div className="elyra-proc-muted elyra-proc-config-endpoint" title={endpoint}>
            {endpoint}
          </div>
        )}
        <div className="elyra-proc-actions">
          <Button
            kind="reject"
            small
            testId={`elyra-proc-config-edit-${config.name}`}
            aria-label={`Edit ${config.display_name}`}
            onClick={() => void this._edit(config)}
          >
            Edit
          </Button>
          <Button
            kind="reject"
            small
            testId={`elyra-proc-config-test-${config.name}`}
            aria-label={`Test the connection of ${config.display_name}`}
            disabled={test?.state === 'pending'}
            onClick={() => void this._test(config)}
          >
            Test
          </Button>
          <Button
            kind="warn"
            small
            testId={`elyra-proc-config-delete-${config.name}`}
            aria-label={`Delete ${config.display_name}`}
            onClick={() => void this._delete(config)}
          >
            Delete
          </Button>
        </div>
        <div
          className={`elyra-proc-test-result elyra-proc-test-${test?.state ?? 'none'}${test?.stale ? ' elyra-proc-stale' : ''}`}
          role="status"
          aria-live="polite"
          data-testid={`elyra-proc-config-test-result-${config.name}`}
          data-ok={test && test.state !== 'pending' ? String(test.state === 'ok') : ''}
          data-stale={String(test?.stale ?? false)}
        >
          {test?.stale && (
            <span
              className="elyra-proc-stale-marker"
              title="The configuration's form changed after this test: test again to check the new settings."
            >
              Stale
            </span>
          )}
          {test?.message}
        </div>
      </li>
    );
  }

  private _configs: IRuntimeConfig[] = [];
  private _runtimes: IRuntime[] = [];
  private readonly _tests = new ConnectionTests();
  private _error: string | null = null;
  private _loaded = false;
}
