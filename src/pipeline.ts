/**
 * Elyra pipeline documents (pipeline-flow v3 JSON): reading the graph, flattening supernodes as the server does,
 * pipeline parameters, and the document changes made before a run (source, name, parameter values).
 */
import { PathExt } from '@jupyterlab/coreutils';

/** Loosely typed JSON object, for documents we only partly understand. */
export type JsonObject = Record<string, any>;

export type NodeKind = 'notebook' | 'python' | 'r' | 'custom';

export const GENERIC_OPS: Record<string, NodeKind> = {
  'execute-notebook-node': 'notebook',
  'execute-python-node': 'python',
  'execute-r-node': 'r'
};

export const KIND_LABELS: Record<NodeKind, string> = {
  notebook: 'Notebook',
  python: 'Python script',
  r: 'R script',
  custom: 'Component'
};

/** An execution node of the flattened pipeline. */
export interface IGraphNode {
  id: string;
  label: string;
  op: string;
  kind: NodeKind;
  /** The node's file as written in the document (relative to the pipeline file). */
  filename: string | null;
  /** Labels of the supernodes holding this node, outermost first. */
  supernodes: string[];
  /** The node's image, else the pipeline default's (generic nodes). */
  runtimeImage: string | null;
  /** Environment variables: the pipeline defaults' merged with the node's own (which win), as the server does. */
  envVars: IEnvVar[];
  parameters: JsonObject;
}

export interface IEnvVar {
  name: string;
  value: string;
}

export interface IGraphEdge {
  source: string;
  target: string;
}

export interface IPipelineGraph {
  nodes: IGraphNode[];
  edges: IGraphEdge[];
  name: string;
  description: string;
  /** Problems in the document's shape found while reading it (not the server's validation). */
  problems: string[];
}

export interface IPipelineParameter {
  name: string;
  description: string;
  type: string;
  defaultValue: unknown;
  value: unknown;
  required: boolean;
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parse a `.pipeline` file's text; raises an Error with a readable message when it is not a pipeline. */
export function parsePipeline(text: string): JsonObject {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`This file is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(document) || !Array.isArray(document.pipelines) || document.pipelines.length === 0) {
    throw new Error('This file is not a pipeline: it has no "pipelines" list.');
  }
  return document;
}

/** The primary pipeline of a document (by `primary_pipeline`, else the first). */
export function primaryPipeline(document: JsonObject): JsonObject {
  const pipelines: unknown[] = Array.isArray(document.pipelines) ? document.pipelines : [];
  const primary = pipelines.find(p => isObject(p) && p.id === document.primary_pipeline) ?? pipelines[0];
  if (!isObject(primary)) {
    throw new Error('This pipeline document has no primary pipeline.');
  }
  return primary;
}

export function appData(value: JsonObject): JsonObject {
  return isObject(value.app_data) ? value.app_data : {};
}

export function properties(pipeline: JsonObject): JsonObject {
  const data = appData(pipeline);
  return isObject(data.properties) ? data.properties : {};
}

export function parentsOf(node: JsonObject): string[] {
  const parents: string[] = [];
  for (const port of Array.isArray(node.inputs) ? node.inputs : []) {
    for (const link of isObject(port) && Array.isArray(port.links) ? port.links : []) {
      if (isObject(link) && typeof link.node_id_ref === 'string') {
        parents.push(link.node_id_ref);
      }
    }
  }
  return parents;
}

export function nodeLabel(node: JsonObject, filename: string | null): string {
  const data = appData(node);
  const uiData = isObject(data.ui_data) ? data.ui_data : {};
  const label = data.label || uiData.label || (filename ? PathExt.basename(filename) : '');
  return typeof label === 'string' && label ? label : String(node.id);
}

/**
 * The execution nodes and their dependencies, supernodes expanded: a supernode's subflow nodes take its place,
 * bindings pass links through, as the server's parser does.
 */
export function flattenPipeline(document: JsonObject): IPipelineGraph {
  const pipelines = new Map<string, JsonObject>();
  for (const pipeline of Array.isArray(document.pipelines) ? document.pipelines : []) {
    if (isObject(pipeline) && typeof pipeline.id === 'string') {
      pipelines.set(pipeline.id, pipeline);
    }
  }
  const primary = primaryPipeline(document);
  const primaryProps = properties(primary);
  const defaults: JsonObject = isObject(primaryProps.pipeline_defaults) ? primaryProps.pipeline_defaults : {};
  const nodes = new Map<string, IGraphNode>();
  const rawParents = new Map<string, string[]>();
  const passThrough = new Map<string, string[]>();
  const problems: string[] = [];

  const walk = (
    pipeline: JsonObject,
    supernodeParents: string[] | null,
    supernodes: string[],
    seen: Set<string>
  ): void => {
    const inside = new Set(seen).add(String(pipeline.id));
    for (const node of Array.isArray(pipeline.nodes) ? pipeline.nodes : []) {
      if (!isObject(node) || typeof node.id !== 'string') {
        continue;
      }
      if (rawParents.has(node.id)) {
        problems.push(`Node id '${node.id}' is used more than once.`);
        continue;
      }
      let parents = parentsOf(node);
      if (
        (node.type === 'binding' || node.type === 'binding_entry_node') &&
        parents.length === 0 &&
        supernodeParents !== null
      ) {
        parents = supernodeParents;
      }
      rawParents.set(node.id, parents);
      if (node.type === 'execution_node') {
        nodes.set(node.id, executionNode(node, supernodes, defaults));
      } else if (node.type === 'super_node') {
        const subflowId = isObject(node.subflow_ref) ? node.subflow_ref.pipeline_id_ref : undefined;
        const subflow = typeof subflowId === 'string' ? pipelines.get(subflowId) : undefined;
        if (!subflow || inside.has(String(subflowId))) {
          problems.push(
            `Supernode '${nodeLabel(node, null)}' refers to pipeline '${subflowId}', which ${
              subflow ? 'contains itself' : 'does not exist'
            }.`
          );
          passThrough.set(node.id, []);
          continue;
        }
        walk(subflow, parents, [...supernodes, nodeLabel(node, null)], inside);
        const exits = (Array.isArray(subflow.nodes) ? subflow.nodes : [])
          .filter(
            (n: unknown) =>
              isObject(n) && (n.type === 'binding' || n.type === 'binding_exit_node') && parentsOf(n).length > 0
          )
          .map((n: JsonObject) => String(n.id));
        passThrough.set(node.id, exits);
      } else {
        // Bindings (and any other non-executing node) pass their links through.
        passThrough.set(node.id, parents);
      }
    }
  };

  const resolve = (parentIds: string[], visiting: Set<string>): Set<string> => {
    const resolved = new Set<string>();
    for (const parentId of parentIds) {
      if (nodes.has(parentId)) {
        resolved.add(parentId);
      } else if (passThrough.has(parentId) && !visiting.has(parentId)) {
        const next = new Set(visiting).add(parentId);
        resolve(passThrough.get(parentId) ?? [], next).forEach(id => resolved.add(id));
      } else if (!passThrough.has(parentId)) {
        problems.push(`A link refers to node '${parentId}', which does not exist.`);
      }
    }
    return resolved;
  };

  walk(primary, null, [], new Set());
  const edges: IGraphEdge[] = [];
  for (const node of nodes.values()) {
    for (const parent of resolve(rawParents.get(node.id) ?? [], new Set())) {
      edges.push({ source: parent, target: node.id });
    }
  }
  const data = appData(primary);
  const props = properties(primary);
  return {
    nodes: [...nodes.values()],
    edges,
    name: String(data.name || props.name || ''),
    description: String(props.description || ''),
    problems: [...new Set(problems)]
  };
}

/** One `env_vars` entry: `{env_var, value}`, or the older `NAME=value` text. */
function envVarEntry(entry: unknown): IEnvVar | null {
  if (isObject(entry)) {
    const name = String(entry.env_var ?? '').trim();
    const value = entry.value;
    return name ? { name, value: value === undefined || value === null ? '' : String(value) } : null;
  }
  if (typeof entry === 'string' && entry.trim()) {
    const index = entry.indexOf('=');
    const name = (index < 0 ? entry : entry.slice(0, index)).trim();
    return name ? { name, value: index < 0 ? '' : entry.slice(index + 1) } : null;
  }
  return null;
}

/**
 * The pipeline defaults' env vars with the node's own on top (same name: the node's wins); as on the server,
 * a variable without a value is not set.
 */
export function mergeEnvVars(defaults: unknown, own: unknown): IEnvVar[] {
  const merged = new Map<string, IEnvVar>();
  for (const list of [defaults, own]) {
    for (const entry of Array.isArray(list) ? list : []) {
      const parsed = envVarEntry(entry);
      if (parsed) {
        merged.delete(parsed.name);
        merged.set(parsed.name, parsed);
      }
    }
  }
  return [...merged.values()].filter(entry => entry.value !== '');
}

function executionNode(node: JsonObject, supernodes: string[], defaults: JsonObject = {}): IGraphNode {
  const data = appData(node);
  const parameters: JsonObject = isObject(data.component_parameters) ? data.component_parameters : {};
  // Format versions before component_parameters kept the file in app_data itself.
  const rawFilename = parameters.filename ?? data.filename;
  const filename = typeof rawFilename === 'string' && rawFilename ? rawFilename : null;
  const op = typeof node.op === 'string' ? node.op : '';
  const kind = GENERIC_OPS[op] ?? 'custom';
  const generic = kind !== 'custom';
  // The node's own image when it has the property (even empty, as the server reads it), else the default's.
  let image: unknown = 'runtime_image' in parameters ? parameters.runtime_image : data.runtime_image;
  if (generic && image === undefined) {
    image = defaults.runtime_image;
  }
  return {
    id: node.id,
    label: nodeLabel(node, filename),
    op,
    kind,
    filename,
    supernodes,
    runtimeImage: typeof image === 'string' && image ? image : null,
    envVars: generic ? mergeEnvVars(defaults.env_vars, parameters.env_vars) : mergeEnvVars([], parameters.env_vars),
    parameters
  };
}

/** The pipeline parameters declared in `app_data.properties.pipeline_parameters`. */
export function pipelineParameters(document: JsonObject): IPipelineParameter[] {
  const raw = properties(primaryPipeline(document)).pipeline_parameters;
  const result: IPipelineParameter[] = [];
  for (const entry of Array.isArray(raw) ? raw : []) {
    if (!isObject(entry) || typeof entry.name !== 'string') {
      continue;
    }
    const defaultValue = isObject(entry.default_value) ? entry.default_value : {};
    result.push({
      name: entry.name,
      description: typeof entry.description === 'string' ? entry.description : '',
      type: typeof defaultValue.type === 'string' ? defaultValue.type : 'String',
      defaultValue: defaultValue.value,
      value: entry.value,
      required: Boolean(entry.required)
    });
  }
  return result;
}

/** The pipeline's name as saved, else the file's name without extension. */
export function pipelineName(document: JsonObject, path: string): string {
  const primary = primaryPipeline(document);
  const name = appData(primary).name || properties(primary).name;
  return typeof name === 'string' && name ? name : PathExt.basename(path, PathExt.extname(path));
}

/**
 * A copy of the document ready to post: `app_data.source` is the file's path (node paths are relative to it
 * with `?paths=pipeline`), `app_data.name` the chosen name, and each parameter given a value gets it.
 */
export function preparePipeline(
  document: JsonObject,
  options: { source: string; name?: string; parameterValues?: Record<string, unknown> }
): JsonObject {
  const copy: JsonObject = JSON.parse(JSON.stringify(document));
  const primary = primaryPipeline(copy);
  const data = isObject(primary.app_data) ? primary.app_data : (primary.app_data = {});
  data.source = options.source;
  if (options.name) {
    data.name = options.name;
  }
  const values = options.parameterValues ?? {};
  const props = isObject(data.properties) ? data.properties : {};
  for (const entry of Array.isArray(props.pipeline_parameters) ? props.pipeline_parameters : []) {
    if (isObject(entry) && typeof entry.name === 'string' && entry.name in values) {
      const value = values[entry.name];
      if (value === undefined || value === '') {
        delete entry.value;
      } else {
        entry.value = value;
      }
    }
  }
  return copy;
}

/** The `json_schema` that Elyra writes in pipeline documents. */
export const PIPELINE_JSON_SCHEMA =
  'http://api.dataplatform.ibm.com/schemas/common-pipeline/pipeline-flow/pipeline-flow-v3-schema.json';

/** The default image for one-file runs; the local runtime ignores it, but checks that there is one. */
export const DEFAULT_RUNTIME_IMAGE = 'python:3.11';

/** The file types that can run as a one-node pipeline, by extension. */
export const SINGLE_FILE_OPS: Record<string, string> = {
  '.ipynb': 'execute-notebook-node',
  '.py': 'execute-python-node',
  '.r': 'execute-r-node'
};

/** The op of the generic node that runs this file (a notebook, a Python or an R script), or undefined. */
export function singleFileOp(path: string): string | undefined {
  return SINGLE_FILE_OPS[PathExt.extname(path).toLowerCase()];
}

/** Where an export of `path` goes: the same name with `.yaml`. */
export function exportPathFor(path: string): string {
  const extension = PathExt.extname(path);
  return `${extension ? path.slice(0, -extension.length) : path}.yaml`;
}

/** Coerce a parameter's text input to its declared type; raises an Error naming the parameter when it can't. */
export function coerceParameter(parameter: IPipelineParameter, text: string): unknown {
  const value = text.trim();
  if (value === '') {
    return undefined;
  }
  switch (parameter.type) {
    case 'Integer': {
      if (!/^[-+]?\d+$/.test(value)) {
        throw new Error(`Parameter '${parameter.name}' must be a whole number.`);
      }
      return parseInt(value, 10);
    }
    case 'Float': {
      const number = Number(value);
      if (!Number.isFinite(number)) {
        throw new Error(`Parameter '${parameter.name}' must be a number.`);
      }
      return number;
    }
    case 'Boolean':
      return ['true', '1', 'yes', 'on'].includes(value.toLowerCase());
    default:
      return text;
  }
}
