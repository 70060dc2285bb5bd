/**
 * REST client for the server extension under `{baseUrl}pipeline/`.
 *
 * Every request goes through `ServerConnection.makeRequest`, which adds the token and XSRF headers.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** Run and node states, as the server reports them. */
export type RunStatus =
  'pending' | 'running' | 'submitted' | 'succeeded' | 'failed' | 'skipped' | 'cancelled' | 'interrupted';

export const FINAL_STATUSES: ReadonlySet<string> = new Set([
  'succeeded',
  'failed',
  'skipped',
  'cancelled',
  'interrupted'
]);

export function isFinal(status: string | undefined): boolean {
  return status !== undefined && FINAL_STATUSES.has(status);
}

/** Elyra's issue shape. */
export interface IIssue {
  severity: number;
  source?: string;
  type: string;
  message: string;
  data?: {
    nodeID?: string;
    nodeName?: string;
    propertyName?: string;
    value?: unknown;
    pipelineID?: string;
  };
}

export interface INodeRecord {
  id: string;
  name: string;
  kind: string;
  filename: string | null;
  parent_ids: string[];
  status: string;
  started: number | null;
  finished: number | null;
  error: string | null;
  artifacts: Record<string, string>;
}

export interface IRunRecord {
  id: string;
  name: string;
  source: string | null;
  runtime: string;
  runtime_config: string | null;
  status: string;
  submitted: number;
  started: number | null;
  finished: number | null;
  error: string | null;
  progress: string | null;
  nodes: INodeRecord[];
  result: Record<string, unknown>;
  duration: number | null;
}

export interface IScheduleAnswer {
  run_id: string;
  platform: string;
  runtime: string;
  status: string;
  run_url: string;
  issues: IIssue[];
  [key: string]: unknown;
}

/** A JSON schema, loosely typed: only the keywords the form generator reads. */
export interface IJsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, IJsonSchema>;
  required?: string[];
  enum?: unknown[];
  /** A choice of values with titles: `{ const, title }` each. */
  oneOf?: IJsonSchema[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  format?: string;
  writeOnly?: boolean;
  items?: IJsonSchema;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  [key: string]: unknown;
}

/** A property form: an rjsf-ready JSON schema and its UI schema, as the server serves them. */
export interface IFormSchema {
  schema: Record<string, any>;
  uiSchema: Record<string, any>;
}

/** A node type the editor's palette offers. */
export interface IPaletteNodeType {
  op: string;
  label: string;
  description: string;
  extensions: string[];
}

export interface IPalette {
  categories: { id: string; label: string; node_types: IPaletteNodeType[] }[];
}

/** A runtime image from Elyra's metadata (`<jupyter data dir>/metadata/runtime-images`). */
export interface IRuntimeImage {
  name: string;
  display_name: string;
  image_name: string;
  pull_policy?: string;
}

export interface IRuntime {
  name: string;
  display_name: string;
  runtime_type: string;
  supported_ops: string[];
  config_schema?: IJsonSchema | null;
}

export interface IRuntimeConfig {
  name: string;
  display_name: string;
  schema_name: string;
  metadata: Record<string, unknown>;
}

export interface IExportAnswer {
  export_path: string;
  [key: string]: unknown;
}

/** A failed request: the server's `{reason, message, issues}` when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly issues: IIssue[] = [],
    readonly body: unknown = null
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export type Query = Record<string, string | number | boolean | undefined>;

/** The URL of a route under `{baseUrl}pipeline/`, each path segment encoded. */
export function pipelineUrl(settings: ServerConnection.ISettings, segments: string[], query?: Query): string {
  const url = URLExt.join(settings.baseUrl, 'pipeline', ...segments.map(segment => encodeURIComponent(segment)));
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) {
      params.set(key, String(value));
    }
  }
  const text = params.toString();
  return text ? `${url}?${text}` : url;
}

/** The client every view shares; one instance per application. */
export class PipelineApi {
  constructor(readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings()) {}

  /** Send a request and decode its JSON answer; a non-2xx answer raises `ApiError`. */
  async request<T>(segments: string[], init: RequestInit = {}, query?: Query): Promise<T> {
    const response = await this.raw(segments, init, query);
    if (response.status === 204) {
      return undefined as T;
    }
    const text = await response.text();
    if (!text) {
      return undefined as T;
    }
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(response.status, `The server answered with invalid JSON: ${text.slice(0, 200)}`);
    }
  }

  /** Send a request and return the raw response when it succeeded (for text and notebook artifacts). */
  async raw(segments: string[], init: RequestInit = {}, query?: Query): Promise<Response> {
    const url = pipelineUrl(this.settings, segments, query);
    let response: Response;
    try {
      response = await ServerConnection.makeRequest(url, init, this.settings);
    } catch (error) {
      throw new ApiError(0, `The Jupyter server could not be reached: ${String(error)}`);
    }
    if (!response.ok) {
      throw await errorFrom(response);
    }
    return response;
  }

  private json<T>(segments: string[], method: string, body: unknown, query?: Query): Promise<T> {
    return this.request<T>(
      segments,
      {
        method,
        body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json' }
      },
      query
    );
  }

  palette(): Promise<IPalette> {
    return this.request(['palette']);
  }

  /** The property form of a node type (by op). */
  nodeProperties(op: string): Promise<IFormSchema> {
    return this.request(['properties', 'nodes', op]);
  }

  /** The property form of a pipeline: name, description, node defaults, parameters. */
  pipelineProperties(): Promise<IFormSchema> {
    return this.request(['properties', 'pipeline']);
  }

  async runtimeImages(): Promise<IRuntimeImage[]> {
    const answer = await this.request<{ runtime_images: IRuntimeImage[] }>(['runtime-images']);
    return answer.runtime_images ?? [];
  }

  /** The document in the current format version, as the server migrates older ones. */
  migrate(pipeline: unknown, path: string): Promise<{ pipeline: Record<string, any>; from_version: number | null }> {
    return this.json(['migrate'], 'POST', pipeline, { path });
  }

  runtimes(): Promise<{ runtimes: IRuntime[]; runtime_configs: string[] }> {
    return this.request(['runtimes']);
  }

  async runtimeConfigs(): Promise<IRuntimeConfig[]> {
    const answer = await this.request<{ runtime_configs: IRuntimeConfig[] }>(['runtime-configs']);
    return answer.runtime_configs ?? [];
  }

  runtimeConfig(name: string): Promise<IRuntimeConfig> {
    return this.request(['runtime-configs', name]);
  }

  createRuntimeConfig(body: Partial<IRuntimeConfig>): Promise<IRuntimeConfig> {
    return this.json(['runtime-configs'], 'POST', body);
  }

  updateRuntimeConfig(name: string, body: Partial<IRuntimeConfig>): Promise<IRuntimeConfig> {
    return this.json(['runtime-configs', name], 'PUT', body);
  }

  deleteRuntimeConfig(name: string): Promise<void> {
    return this.request(['runtime-configs', name], { method: 'DELETE' });
  }

  testRuntimeConfig(name: string): Promise<{ ok: boolean; message: string }> {
    return this.request(['runtime-configs', name, 'test'], { method: 'POST' });
  }

  /** The newest runs, filtered by the server (`GET /pipeline/runs?source=&status=&runtime=`). */
  async runs(limit = 50, filter: IRunFilter = {}): Promise<IRunRecord[]> {
    const answer = await this.request<{ runs: IRunRecord[] }>(['runs'], {}, { limit, ...runFilterQuery(filter) });
    return answer.runs ?? [];
  }

  run(id: string): Promise<IRunRecord> {
    return this.request(['runs', id]);
  }

  cancel(id: string): Promise<IRunRecord> {
    return this.request(['runs', id, 'cancel'], { method: 'POST' });
  }

  /**
   * Submit a pipeline document; `target` names a processor (`runtime`) or a configuration. `experiment` names
   * the Kubeflow Pipelines experiment to run in (the server defaults to the pipeline's name).
   */
  schedule(pipeline: unknown, target: RunTarget, wait = false, experiment?: string): Promise<IScheduleAnswer> {
    return this.json(['schedule'], 'POST', pipeline, {
      paths: 'pipeline',
      ...targetQuery(target),
      wait: wait ? 'true' : undefined,
      experiment: experiment || undefined
    });
  }

  validate(pipeline: unknown, target: RunTarget): Promise<{ valid: boolean; issues: IIssue[] }> {
    return this.json(['validate'], 'POST', pipeline, { paths: 'pipeline', ...targetQuery(target) });
  }

  exportPipeline(
    pipeline: unknown,
    runtimeConfig: string,
    exportPath: string,
    overwrite: boolean
  ): Promise<IExportAnswer> {
    return this.json(
      ['export'],
      'POST',
      { pipeline, export_format: 'yaml', export_path: exportPath, overwrite },
      { paths: 'pipeline', runtime_config: runtimeConfig }
    );
  }

  /** A node's artifact (`log`, `notebook`, ...), as text. */
  async artifact(runId: string, nodeId: string, name: string): Promise<string> {
    const response = await this.raw(['runs', runId, 'nodes', nodeId, name]);
    return response.text();
  }
}

/** Which runs a listing holds; every filter given must hold (the server's `RunQuery`). */
export interface IRunFilter {
  /** Runs of this pipeline file: its path from the server root. */
  source?: string;
  /** Runs in any of these states. */
  status?: readonly RunStatus[];
  /** Runs on this processor (`local`, `kfp`) or runtime configuration. */
  runtime?: string;
}

function runFilterQuery(filter: IRunFilter): Query {
  return {
    source: filter.source || undefined,
    status: filter.status?.length ? filter.status.join(',') : undefined,
    runtime: filter.runtime || undefined
  };
}

/** Where a run goes: a processor without configuration, or a runtime configuration. */
export type RunTarget = { runtime: string } | { runtimeConfig: string };

export function targetQuery(target: RunTarget): Query {
  return 'runtime' in target ? { runtime: target.runtime } : { runtime_config: target.runtimeConfig };
}

async function errorFrom(response: Response): Promise<ApiError> {
  let body: unknown = null;
  let text = '';
  try {
    text = await response.text();
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  const record = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const message =
    typeof record.message === 'string' && record.message
      ? record.message
      : typeof record.reason === 'string' && record.reason
        ? record.reason
        : text.slice(0, 300) || `${response.status} ${response.statusText}`;
  const issues = Array.isArray(record.issues) ? (record.issues as IIssue[]) : [];
  return new ApiError(response.status, message, issues, body);
}
