/**
 * Running a pipeline (or a single notebook or script as a one-node pipeline): the dialog asking for the runtime,
 * the run's name and parameter values, the submission, and the dialogs for its outcome.
 */
import { Dialog, Notification, ReactWidget, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import * as React from 'react';

import { ApiError, IIssue, IRunRecord, IScheduleAnswer, isFinal, PipelineApi, RunTarget } from './api';
import { PipelineEvents } from './events';
import { resultString, shortId, statusText } from './format';
import { showIssues } from './issues';
import { Select } from './controls';
import { RunModel } from './runModel';
import {
  coerceParameter,
  IPipelineParameter,
  isObject,
  JsonObject,
  pipelineName,
  pipelineParameters,
  preparePipeline,
  primaryPipeline
} from './pipeline';

/** A runtime the user can choose: a processor that takes no configuration, or a runtime configuration. */
export interface ITargetOption {
  key: string;
  label: string;
  target: RunTarget;
  /** Runs on another system (a processor that takes configurations): wait for its submission. */
  remote: boolean;
}

export interface IRunServices {
  api: PipelineApi;
  runs: RunModel;
  events: PipelineEvents;
  showRuns: (runId?: string) => void;
}

/** What to run: the file's path (posted as `app_data.source`) and its pipeline document. */
export interface IRunRequest {
  path: string;
  document: JsonObject;
}

let lastTargetKey: string | null = null;

/** The runtimes offered in the run dialog, local first. */
export async function loadTargets(api: PipelineApi): Promise<ITargetOption[]> {
  const [{ runtimes }, configs] = await Promise.all([api.runtimes(), api.runtimeConfigs()]);
  const options: ITargetOption[] = [];
  const byName = new Map(runtimes.map(runtime => [runtime.name, runtime]));
  const plain = runtimes
    .filter(runtime => !runtime.config_schema)
    .sort((a, b) => (a.name === 'local' ? -1 : b.name === 'local' ? 1 : a.name.localeCompare(b.name)));
  for (const runtime of plain) {
    options.push({
      key: `runtime:${runtime.name}`,
      label: runtime.display_name || runtime.name,
      target: { runtime: runtime.name },
      remote: false
    });
  }
  for (const config of configs) {
    const runtime = byName.get(config.schema_name);
    options.push({
      key: `config:${config.name}`,
      label: `${config.display_name || config.name} (${runtime?.display_name ?? config.schema_name})`,
      target: { runtimeConfig: config.name },
      remote: true
    });
  }
  return options;
}

interface IRunValues {
  targetKey: string;
  name: string;
  /** The Kubeflow Pipelines experiment (runtime configurations only). */
  experiment: string;
  /** Whether the user changed the experiment; until then it follows the pipeline name. */
  experimentEdited: boolean;
  parameters: Record<string, string>;
}

function initialParameterText(parameter: IPipelineParameter): string {
  const value = parameter.value ?? parameter.defaultValue;
  return value === undefined || value === null ? '' : String(value);
}

/** The run dialog's body; `getValue` gives the form's values. */
class RunForm extends ReactWidget {
  constructor(
    private readonly targets: ITargetOption[],
    private readonly parameters: IPipelineParameter[],
    private values: IRunValues,
    private readonly fileLabel: string
  ) {
    super();
    this.addClass('elyra-proc-dialog-body');
    this.addClass('elyra-proc-run-form');
    this.node.dataset.testid = 'elyra-proc-run-dialog';
  }

  getValue(): IRunValues {
    return this.values;
  }

  protected render(): JSX.Element {
    const set = (change: Partial<IRunValues>): void => {
      this.values = { ...this.values, ...change };
      this.update();
    };
    const setParameter = (name: string, text: string): void =>
      set({ parameters: { ...this.values.parameters, [name]: text } });
    const target = this.targets.find(option => option.key === this.values.targetKey);
    const showExperiment = !!target && 'runtimeConfig' in target.target;
    return (
      <div className="elyra-proc-form">
        <p className="elyra-proc-muted">{this.fileLabel}</p>
        <label className="elyra-proc-field" htmlFor="elyra-proc-run-runtime">
          <span className="elyra-proc-field-label">Runtime</span>
          <Select
            id="elyra-proc-run-runtime"
            testId="elyra-proc-run-runtime"
            aria-label="Runtime"
            value={this.values.targetKey}
            onChange={event => set({ targetKey: event.target.value })}
          >
            {this.targets.map(option => (
              <option key={option.key} value={option.key}>
                {option.label}
              </option>
            ))}
          </Select>
        </label>
        <label className="elyra-proc-field" htmlFor="elyra-proc-run-name">
          <span className="elyra-proc-field-label">Pipeline name</span>
          <input
            id="elyra-proc-run-name"
            data-testid="elyra-proc-run-name"
            className="jp-mod-styled"
            type="text"
            aria-label="Pipeline name"
            required
            value={this.values.name}
            onChange={event =>
              set(
                this.values.experimentEdited
                  ? { name: event.target.value }
                  : { name: event.target.value, experiment: event.target.value }
              )
            }
          />
        </label>
        {showExperiment && (
          <label className="elyra-proc-field" htmlFor="elyra-proc-run-experiment">
            <span className="elyra-proc-field-label">Experiment</span>
            <input
              id="elyra-proc-run-experiment"
              data-testid="elyra-proc-run-experiment"
              className="jp-mod-styled"
              type="text"
              aria-label="Experiment"
              aria-describedby="elyra-proc-run-experiment-help"
              value={this.values.experiment}
              onChange={event => set({ experiment: event.target.value, experimentEdited: true })}
            />
            <span id="elyra-proc-run-experiment-help" className="elyra-proc-help">
              The Kubeflow Pipelines experiment to run in (default: the pipeline name)
            </span>
          </label>
        )}
        {this.parameters.length > 0 && (
          <fieldset className="elyra-proc-fieldset" data-testid="elyra-proc-run-parameters">
            <legend>Pipeline parameters</legend>
            {this.parameters.map(parameter => {
              const id = `elyra-proc-run-param-${parameter.name}`;
              const text = this.values.parameters[parameter.name] ?? '';
              const help = [
                parameter.description,
                `${parameter.type}${parameter.required ? ', required' : ''}`,
                parameter.defaultValue !== undefined && parameter.defaultValue !== null
                  ? `default ${String(parameter.defaultValue)}`
                  : ''
              ]
                .filter(Boolean)
                .join(' · ');
              if (parameter.type === 'Boolean') {
                return (
                  <label key={parameter.name} className="elyra-proc-field elyra-proc-checkbox" htmlFor={id}>
                    <input
                      id={id}
                      data-testid={id}
                      className="jp-mod-styled"
                      type="checkbox"
                      aria-describedby={`${id}-help`}
                      checked={['true', '1', 'yes', 'on'].includes(text.toLowerCase())}
                      onChange={event => setParameter(parameter.name, event.target.checked ? 'true' : 'false')}
                    />
                    <span className="elyra-proc-field-label">{parameter.name}</span>
                    <span id={`${id}-help`} className="elyra-proc-help">
                      {help}
                    </span>
                  </label>
                );
              }
              return (
                <label key={parameter.name} className="elyra-proc-field" htmlFor={id}>
                  <span className="elyra-proc-field-label">
                    {parameter.name}
                    {parameter.required && <span aria-hidden="true"> *</span>}
                  </span>
                  <input
                    id={id}
                    data-testid={id}
                    className="jp-mod-styled"
                    type={parameter.type === 'Integer' || parameter.type === 'Float' ? 'number' : 'text'}
                    step={parameter.type === 'Float' ? 'any' : undefined}
                    required={parameter.required}
                    aria-describedby={`${id}-help`}
                    value={text}
                    onChange={event => setParameter(parameter.name, event.target.value)}
                  />
                  <span id={`${id}-help`} className="elyra-proc-help">
                    {help}
                  </span>
                </label>
              );
            })}
          </fieldset>
        )}
      </div>
    );
  }
}

function preferredTarget(document: JsonObject, targets: ITargetOption[]): string {
  const keys = new Set(targets.map(option => option.key));
  let saved: unknown;
  try {
    const appData = primaryPipeline(document).app_data;
    saved = isObject(appData) ? appData.runtime_config : undefined;
  } catch {
    saved = undefined;
  }
  if (typeof saved === 'string' && keys.has(`config:${saved}`)) {
    return `config:${saved}`;
  }
  if (lastTargetKey && keys.has(lastTargetKey)) {
    return lastTargetKey;
  }
  return keys.has('runtime:local') ? 'runtime:local' : targets[0].key;
}

/** Ask for the run settings; null when cancelled. */
async function askRunSettings(
  request: IRunRequest,
  targets: ITargetOption[]
): Promise<{
  option: ITargetOption;
  name: string;
  experiment?: string;
  values: Record<string, unknown>;
} | null> {
  const parameters = pipelineParameters(request.document);
  const name = pipelineName(request.document, request.path);
  let values: IRunValues = {
    targetKey: preferredTarget(request.document, targets),
    name,
    experiment: name,
    experimentEdited: false,
    parameters: Object.fromEntries(parameters.map(p => [p.name, initialParameterText(p)]))
  };
  for (;;) {
    const result = await showDialog<IRunValues>({
      title: 'Run pipeline',
      body: new RunForm(targets, parameters, values, request.path),
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run', ariaLabel: 'Run pipeline' })],
      focusNodeSelector: '#elyra-proc-run-runtime'
    });
    if (!result.button.accept || !result.value) {
      return null;
    }
    values = result.value;
    const option = targets.find(target => target.key === values.targetKey);
    try {
      if (!option) {
        throw new Error('Choose a runtime.');
      }
      if (!values.name.trim()) {
        throw new Error('The pipeline name must not be empty.');
      }
      const coerced: Record<string, unknown> = {};
      for (const parameter of parameters) {
        const text = values.parameters[parameter.name] ?? '';
        coerced[parameter.name] = coerceParameter(parameter, text);
        if (parameter.required && coerced[parameter.name] === undefined) {
          throw new Error(`Parameter '${parameter.name}' is required.`);
        }
      }
      const experiment = 'runtimeConfig' in option.target ? values.experiment.trim() || values.name.trim() : undefined;
      lastTargetKey = option.key;
      return { option, name: values.name.trim(), experiment, values: coerced };
    } catch (error) {
      await showErrorMessage('Check the run settings', (error as Error).message);
    }
  }
}

/** How long the run dialog waits for a submission before reporting what it knows (the run goes on). */
const SUBMISSION_WAIT_MS = 3 * 60 * 1000;

/** For runs on another system, wait until the submission is done (status submitted, or final). */
async function waitForSubmission(runs: RunModel, runId: string, label: string): Promise<IRunRecord | null> {
  const notice = Notification.emit(`Submitting to ${label}…`, 'in-progress', { autoClose: false });
  try {
    return await runs.waitFor(
      runId,
      run => run.status === 'submitted' || isFinal(run.status),
      SUBMISSION_WAIT_MS,
      run => {
        if (run.progress) {
          Notification.update({ id: notice, message: `Submitting to ${label}: ${run.progress}` });
        }
      }
    );
  } finally {
    Notification.dismiss(notice);
  }
}

function ResultBody(props: { answer: IScheduleAnswer; run: IRunRecord | null; label: string }): JSX.Element {
  const { answer, run } = props;
  const warnings = (answer.issues ?? []).filter((issue: IIssue) => issue.severity !== 1);
  const field = (key: string): string | null => (run ? resultString(run, key) : null);
  const runUrl = field('run_url');
  const rows: [string, string | null, string][] = [
    ['Experiment', field('experiment_name'), 'experiment-name'],
    ['Experiment id', field('experiment_id'), 'experiment-id'],
    ['KFP run id', field('kfp_run_id'), 'kfp-run-id'],
    ['Object storage path', field('object_storage_path'), 'object-storage-path'],
    ['Object storage', field('object_storage_url'), 'object-storage-url']
  ];
  return (
    <div className="elyra-proc-result" data-testid="elyra-proc-run-result">
      <dl className="elyra-proc-details-list">
        <dt>Run id</dt>
        <dd>
          <code data-testid="elyra-proc-result-run-id">{answer.run_id}</code>
        </dd>
        <dt>Runtime</dt>
        <dd>{props.label}</dd>
        <dt>Status</dt>
        <dd data-testid="elyra-proc-result-status">{run ? statusText(run) : answer.status}</dd>
        {runUrl && (
          <>
            <dt>Run page</dt>
            <dd>
              <a
                href={runUrl}
                target="_blank"
                rel="noopener noreferrer"
                data-testid="elyra-proc-result-run-url"
                aria-label="Open the run in Kubeflow Pipelines (new tab)"
              >
                {runUrl}
              </a>
            </dd>
          </>
        )}
        {rows
          .filter(([, value]) => value)
          .map(([title, value, id]) => (
            <React.Fragment key={id}>
              <dt>{title}</dt>
              <dd>
                <code data-testid={`elyra-proc-result-${id}`}>{value}</code>
              </dd>
            </React.Fragment>
          ))}
        {run?.error && (
          <>
            <dt>Error</dt>
            <dd className="elyra-proc-error-text" data-testid="elyra-proc-result-error">
              {run.error}
            </dd>
          </>
        )}
      </dl>
      {warnings.length > 0 && (
        <div className="elyra-proc-warnings">
          <p>Warnings:</p>
          <ul>
            {warnings.map((issue, index) => (
              <li key={index}>
                {issue.data?.nodeName ? `${issue.data.nodeName}: ` : ''}
                {issue.message}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

/**
 * Ask for settings, submit, and report. `onIssue` is called with the issue the user chose from a validation
 * error list (to select its node).
 */
export async function runPipeline(
  services: IRunServices,
  request: IRunRequest,
  onIssue?: (issue: IIssue) => void
): Promise<void> {
  let targets: ITargetOption[];
  try {
    targets = await loadTargets(services.api);
  } catch (error) {
    await showErrorMessage('Cannot run pipelines', (error as Error).message);
    return;
  }
  if (targets.length === 0) {
    await showErrorMessage('Cannot run pipelines', 'The server offers no runtime.');
    return;
  }
  const settings = await askRunSettings(request, targets);
  if (!settings) {
    return;
  }
  const document = preparePipeline(request.document, {
    source: request.path,
    name: settings.name,
    parameterValues: settings.values
  });
  let answer: IScheduleAnswer;
  try {
    answer = await services.api.schedule(document, settings.option.target, false, settings.experiment);
  } catch (error) {
    if (error instanceof ApiError && error.issues.length > 0) {
      services.events.notifyRunRefused({ path: request.path, issues: error.issues });
      const issue = await showIssues('The pipeline cannot run', error.message, error.issues);
      if (issue && onIssue) {
        onIssue(issue);
      }
    } else {
      await showErrorMessage('The run could not start', (error as Error).message);
    }
    return;
  }
  services.events.notifyRunStarted({ path: request.path, runId: answer.run_id });

  let run: IRunRecord | null = null;
  try {
    run = settings.option.remote
      ? await waitForSubmission(services.runs, answer.run_id, settings.option.label)
      : await services.api.run(answer.run_id);
  } catch {
    run = null;
  }
  const failed = run?.status === 'failed';
  const showRuns = Dialog.createButton({
    label: 'Show in Runs',
    ariaLabel: 'Show the run in the Pipeline Runs panel',
    accept: false
  });
  const result = await showDialog({
    title: failed
      ? `Run ${shortId(answer.run_id)} failed`
      : settings.option.remote
        ? 'Pipeline submitted'
        : 'Pipeline run started',
    body: ReactWidget.create(<ResultBody answer={answer} run={run} label={settings.option.label} />),
    buttons: [showRuns, Dialog.okButton({ label: 'OK' })]
  });
  if (result.button.label === showRuns.label) {
    services.showRuns(answer.run_id);
  }
}
