/**
 * Edits of an Elyra pipeline document (pipeline-flow v3 JSON) for the visual editor. Every function is pure: it
 * leaves its input alone and returns a new document, so that each state can be kept for undo and compared, and
 * every field the editor does not know (supernodes, bindings, comments, other tools' data) is kept as it was.
 */
import { layoutGraph } from '../layout';
import {
  DEFAULT_RUNTIME_IMAGE,
  GENERIC_OPS,
  isObject,
  nodeLabel,
  parentsOf,
  PIPELINE_JSON_SCHEMA,
  primaryPipeline,
  singleFileOp,
  type JsonObject,
  type NodeKind
} from '../pipeline';
import { basename } from './paths';

export interface IPosition {
  x: number;
  y: number;
}

export interface INewNode {
  op: string;
  label?: string;
  /** The node's file, relative to the pipeline file. */
  filename?: string;
  position: IPosition;
  /** Merged over the defaults Elyra writes for a generic node (these win). */
  componentParameters?: JsonObject;
}

/** The pipeline format version that Elyra 3.x/4.x writes and the server migrates to. */
export const CURRENT_VERSION = 8;

/** What Elyra's editor writes in a generic node's `ui_data` (its palette's icon and description). */
const GENERIC_UI_DATA: Partial<Record<NodeKind, { image: string; description: string }>> = {
  notebook: { image: '/static/elyra/notebook.svg', description: 'Run notebook file' },
  python: { image: '/static/elyra/py-logo.svg', description: 'Run Python script' },
  r: { image: '/static/elyra/r-logo.svg', description: 'Run R script' }
};

/** UUID version 4 from `crypto.getRandomValues`, which (unlike `randomUUID`) also exists on plain-http pages. */
export function newId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = Array.from(bytes, byte => byte.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A deep copy of JSON data. */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value));
}

/** A new, empty version-8 generic pipeline with a default runtime image, so that drawn notebooks run at once. */
export function newPipelineDocument(options: { name: string; runtimeImage?: string }): JsonObject {
  const pipelineId = newId();
  return {
    doc_type: 'pipeline',
    version: '3.0',
    json_schema: PIPELINE_JSON_SCHEMA,
    id: newId(),
    primary_pipeline: pipelineId,
    pipelines: [
      {
        id: pipelineId,
        nodes: [],
        app_data: {
          ui_data: { comments: [] },
          version: CURRENT_VERSION,
          properties: {
            name: options.name,
            runtime: 'Generic',
            pipeline_defaults: { runtime_image: options.runtimeImage ?? DEFAULT_RUNTIME_IMAGE }
          }
        },
        runtime_ref: ''
      }
    ],
    schemas: []
  };
}

/** The pipeline `pipelineId` of the document (the primary one by default), not a copy; throws when missing. */
export function pipelineOf(document: JsonObject, pipelineId?: string): JsonObject {
  if (pipelineId === undefined) {
    return primaryPipeline(document);
  }
  const pipelines: unknown[] = Array.isArray(document.pipelines) ? document.pipelines : [];
  const pipeline = pipelines.find(p => isObject(p) && p.id === pipelineId);
  if (!isObject(pipeline)) {
    throw new Error(`This pipeline document has no pipeline '${pipelineId}'.`);
  }
  return pipeline;
}

/** The nodes of a pipeline that are objects with an id (others are kept in the file but not edited). */
function nodesOf(pipeline: JsonObject): JsonObject[] {
  return (Array.isArray(pipeline.nodes) ? pipeline.nodes : []).filter(
    (node: unknown): node is JsonObject => isObject(node) && typeof node.id === 'string'
  );
}

/** The comments of a pipeline (`app_data.ui_data.comments`), not copies. */
export function commentsOf(document: JsonObject, pipelineId?: string): JsonObject[] {
  const uiData = childObject(pipelineOf(document, pipelineId), 'app_data', 'ui_data');
  return (uiData && Array.isArray(uiData.comments) ? uiData.comments : []).filter(isObject);
}

/** `value[key1][key2]...` when every step is an object, else null. */
function childObject(value: JsonObject, ...keys: string[]): JsonObject | null {
  let current: unknown = value;
  for (const key of keys) {
    current = isObject(current) ? current[key] : undefined;
  }
  return isObject(current) ? current : null;
}

/** `value[key]`, created as `{}` when it is not an object. */
function ensureObject(value: JsonObject, key: string): JsonObject {
  if (!isObject(value[key])) {
    value[key] = {};
  }
  return value[key];
}

/** The node's saved position, or null when it has none. */
function positionOf(item: JsonObject): IPosition | null {
  const x = item.x_pos;
  const y = item.y_pos;
  return typeof x === 'number' && typeof y === 'number' ? { x, y } : null;
}

/** Each node's position from `app_data.ui_data` (null when it has none, e.g. files written by hand). */
export function nodePositions(document: JsonObject, pipelineId?: string): Map<string, IPosition | null> {
  const positions = new Map<string, IPosition | null>();
  for (const node of nodesOf(pipelineOf(document, pipelineId))) {
    const uiData = childObject(node, 'app_data', 'ui_data');
    positions.set(node.id, uiData ? positionOf(uiData) : null);
  }
  return positions;
}

/** The edited copy of a document and the pipeline to edit in it. */
function editable(document: JsonObject, pipelineId: string | undefined): { copy: JsonObject; pipeline: JsonObject } {
  const copy = cloneJson(document);
  const pipeline = pipelineOf(copy, pipelineId);
  if (!Array.isArray(pipeline.nodes)) {
    pipeline.nodes = [];
  }
  return { copy, pipeline };
}

/** A port as Elyra writes it on generic nodes. */
function port(id: 'inPort' | 'outPort'): JsonObject {
  return {
    id,
    app_data: {
      ui_data: { cardinality: { min: 0, max: -1 }, label: id === 'inPort' ? 'Input Port' : 'Output Port' }
    }
  };
}

/** A node as Elyra's editor writes it when a file or palette entry is dropped on the canvas. */
function executionNode(spec: INewNode): JsonObject {
  const generic = GENERIC_UI_DATA[GENERIC_OPS[spec.op]];
  const label = spec.label || (spec.filename ? basename(spec.filename) : spec.op);
  const defaults: JsonObject = generic
    ? { dependencies: [], include_subdirectories: false, outputs: [], env_vars: [] }
    : {};
  return {
    id: newId(),
    type: 'execution_node',
    op: spec.op,
    app_data: {
      label,
      component_parameters: {
        ...(spec.filename ? { filename: spec.filename } : {}),
        ...defaults,
        ...cloneJson(spec.componentParameters ?? {})
      },
      ui_data: {
        label,
        ...(generic ? { image: generic.image } : {}),
        x_pos: spec.position.x,
        y_pos: spec.position.y,
        ...(generic ? { description: generic.description } : {})
      }
    },
    inputs: [port('inPort')],
    outputs: [port('outPort')]
  };
}

/** Add nodes (generic ones as Elyra writes them; no `runtime_image`, so the pipeline default applies). */
export function addNodes(
  document: JsonObject,
  pipelineId: string | undefined,
  nodes: INewNode[]
): { document: JsonObject; ids: string[] } {
  const { copy, pipeline } = editable(document, pipelineId);
  const added = nodes.map(executionNode);
  pipeline.nodes.push(...added);
  return { document: copy, ids: added.map(node => node.id) };
}

/**
 * Rewrite every link in the node's input ports with `rewrite`, dropping those it maps to null. Elyra leaves out
 * an input's `links` when it has none, and so do we.
 */
export function rewriteLinks(node: JsonObject, rewrite: (link: JsonObject) => JsonObject | null): void {
  for (const input of Array.isArray(node.inputs) ? node.inputs : []) {
    if (!isObject(input) || !Array.isArray(input.links)) {
      continue;
    }
    input.links = input.links.flatMap((link: unknown) => (isObject(link) ? (rewrite(link) ?? []) : [link]));
    if (input.links.length === 0) {
      delete input.links;
    }
  }
}

/** The ids of the pipelines reachable from the primary one through supernodes. */
function reachablePipelines(document: JsonObject): Set<string> {
  const reachable = new Set<string>();
  const visit = (pipeline: JsonObject): void => {
    if (reachable.has(pipeline.id)) {
      return;
    }
    reachable.add(pipeline.id);
    for (const node of nodesOf(pipeline)) {
      const subflowId = childObject(node, 'subflow_ref')?.pipeline_id_ref;
      const subflow = (document.pipelines as unknown[]).find(p => isObject(p) && p.id === subflowId);
      if (isObject(subflow)) {
        visit(subflow);
      }
    }
  };
  visit(primaryPipeline(document));
  return reachable;
}

/**
 * Remove nodes, the links to them and comments' associations with them. Ids of comments remove those comments;
 * a removed supernode takes its subflow pipelines with it (unless another supernode still uses them).
 */
export function removeNodes(document: JsonObject, pipelineId: string | undefined, ids: string[]): JsonObject {
  const removed = new Set(ids);
  const { copy, pipeline } = editable(document, pipelineId);
  const removesSupernode = nodesOf(pipeline).some(node => removed.has(node.id) && node.type === 'super_node');
  pipeline.nodes = pipeline.nodes.filter((node: unknown) => !(isObject(node) && removed.has(node.id)));
  for (const node of nodesOf(pipeline)) {
    rewriteLinks(node, link => (removed.has(link.node_id_ref) ? null : link));
  }
  const uiData = childObject(pipeline, 'app_data', 'ui_data');
  if (uiData && Array.isArray(uiData.comments)) {
    uiData.comments = uiData.comments.filter((comment: unknown) => !(isObject(comment) && removed.has(comment.id)));
    for (const comment of uiData.comments.filter(isObject)) {
      if (Array.isArray(comment.associated_id_refs)) {
        comment.associated_id_refs = comment.associated_id_refs.filter(
          (ref: unknown) => !(isObject(ref) && removed.has(ref.node_ref))
        );
      }
    }
  }
  if (removesSupernode) {
    const reachable = reachablePipelines(copy);
    copy.pipelines = copy.pipelines.filter((p: unknown) => !isObject(p) || reachable.has(p.id));
  }
  return copy;
}

/** The node with that id in the pipeline, or undefined. */
function findNode(pipeline: JsonObject, id: string): JsonObject | undefined {
  return nodesOf(pipeline).find(node => node.id === id);
}

/** A node's name for messages: its label, else its file's name, else its id. */
function displayName(node: JsonObject): string {
  const filename = childObject(node, 'app_data', 'component_parameters')?.filename;
  return nodeLabel(node, typeof filename === 'string' && filename ? filename : null);
}

/**
 * Why linking `source` to `target` (target runs after source) is refused, as a message for the user, or null
 * when the link is fine: a node linked to itself, a link that exists, a missing node, or a cycle.
 */
export function linkRefusal(
  document: JsonObject,
  pipelineId: string | undefined,
  source: string,
  target: string
): string | null {
  const pipeline = pipelineOf(document, pipelineId);
  const sourceNode = findNode(pipeline, source);
  const targetNode = findNode(pipeline, target);
  for (const [id, node] of [
    [source, sourceNode],
    [target, targetNode]
  ] as const) {
    if (!node) {
      return `Node '${id}' does not exist in this pipeline.`;
    }
  }
  const sourceName = displayName(sourceNode as JsonObject);
  const targetName = displayName(targetNode as JsonObject);
  if (source === target) {
    return `'${sourceName}' cannot be linked to itself.`;
  }
  if (parentsOf(targetNode as JsonObject).includes(source)) {
    return `'${sourceName}' is already linked to '${targetName}'.`;
  }
  const children = new Map<string, string[]>();
  for (const node of nodesOf(pipeline)) {
    for (const parent of parentsOf(node)) {
      children.set(parent, [...(children.get(parent) ?? []), node.id]);
    }
  }
  // The link closes a cycle when the source already runs after the target.
  const seen = new Set<string>([target]);
  const queue = [target];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift() as string) ?? []) {
      if (child === source) {
        return (
          `Linking '${sourceName}' to '${targetName}' would close a cycle: ` +
          `'${sourceName}' already runs after '${targetName}'.`
        );
      }
      if (!seen.has(child)) {
        seen.add(child);
        queue.push(child);
      }
    }
  }
  return null;
}

/** The id of the node's output port that links name: `outPort`, or a supernode's own binding port. */
function outputPortId(node: JsonObject): string {
  const outputs: unknown[] = Array.isArray(node.outputs) ? node.outputs.filter(isObject) : [];
  const named = outputs.find(output => isObject(output) && output.id === 'outPort');
  const first = outputs[0];
  return !named && isObject(first) && typeof first.id === 'string' ? first.id : 'outPort';
}

/** The node's input port that takes new links: `inPort` (or a supernode's binding port), created when absent. */
function inputPort(node: JsonObject): JsonObject {
  if (!Array.isArray(node.inputs)) {
    node.inputs = [];
  }
  const inputs: JsonObject[] = node.inputs.filter(isObject);
  const found = inputs.find(input => input.id === 'inPort') ?? (node.type === 'super_node' ? inputs[0] : undefined);
  if (found) {
    return found;
  }
  const created = port('inPort');
  node.inputs.push(created);
  return created;
}

/** Link `source` to `target` (target runs after source); throws an Error with the refusal's message. */
export function addLink(
  document: JsonObject,
  pipelineId: string | undefined,
  source: string,
  target: string
): JsonObject {
  const refusal = linkRefusal(document, pipelineId, source, target);
  if (refusal) {
    throw new Error(refusal);
  }
  const { copy, pipeline } = editable(document, pipelineId);
  const input = inputPort(findNode(pipeline, target) as JsonObject);
  if (!Array.isArray(input.links)) {
    input.links = [];
  }
  input.links.push({
    id: newId(),
    node_id_ref: source,
    port_id_ref: outputPortId(findNode(pipeline, source) as JsonObject)
  });
  return copy;
}

/** Remove every link from `source` to `target` (nothing changes when there is none). */
export function removeLink(
  document: JsonObject,
  pipelineId: string | undefined,
  source: string,
  target: string
): JsonObject {
  const { copy, pipeline } = editable(document, pipelineId);
  const node = findNode(pipeline, target);
  if (node) {
    rewriteLinks(node, link => (link.node_id_ref === source ? null : link));
  }
  return copy;
}

/** Set positions of nodes (`app_data.ui_data`) and comments (by their ids); unknown ids are ignored. */
export function moveNodes(
  document: JsonObject,
  pipelineId: string | undefined,
  positions: Record<string, IPosition>
): JsonObject {
  const { copy, pipeline } = editable(document, pipelineId);
  for (const node of nodesOf(pipeline)) {
    const position = positions[node.id];
    if (position) {
      const uiData = ensureObject(ensureObject(node, 'app_data'), 'ui_data');
      uiData.x_pos = position.x;
      uiData.y_pos = position.y;
    }
  }
  for (const comment of commentsOf(copy, pipelineId)) {
    const position = typeof comment.id === 'string' ? positions[comment.id] : undefined;
    if (position) {
      comment.x_pos = position.x;
      comment.y_pos = position.y;
    }
  }
  return copy;
}

/**
 * Lay the pipeline's nodes out left to right with dagre. Comments attached to a node move with it (Elyra's
 * auto-arrange leaves them behind).
 */
export function autoLayout(document: JsonObject, pipelineId?: string): JsonObject {
  const pipeline = pipelineOf(document, pipelineId);
  const nodes = nodesOf(pipeline);
  const ids = new Set<string>(nodes.map(node => node.id));
  const edges = nodes.flatMap(node =>
    parentsOf(node)
      .filter(parent => ids.has(parent))
      .map(parent => ({ source: parent, target: node.id }))
  );
  const before = nodePositions(document, pipelineId);
  const positions: Record<string, IPosition> = Object.fromEntries(
    layoutGraph({ nodes: [...ids].map(id => ({ id })), edges })
  );
  for (const comment of commentsOf(document, pipelineId)) {
    const commentAt = positionOf(comment);
    const refs: unknown[] = Array.isArray(comment.associated_id_refs) ? comment.associated_id_refs : [];
    const anchor = refs
      .map(ref => (isObject(ref) && typeof ref.node_ref === 'string' ? ref.node_ref : ''))
      .find(id => before.get(id) && positions[id]);
    const from = anchor ? before.get(anchor) : null;
    if (commentAt && from && anchor && typeof comment.id === 'string') {
      const to = positions[anchor];
      positions[comment.id] = { x: commentAt.x + to.x - from.x, y: commentAt.y + to.y - from.y };
    }
  }
  return moveNodes(document, pipelineId, positions);
}

/** Set a node's label (`app_data.label` and `app_data.ui_data.label`, as Elyra) and/or its parameters. */
export function setNodeAppData(
  document: JsonObject,
  pipelineId: string | undefined,
  nodeId: string,
  values: { label?: string; component_parameters?: JsonObject }
): JsonObject {
  const { copy, pipeline } = editable(document, pipelineId);
  const node = findNode(pipeline, nodeId);
  if (!node) {
    throw new Error(`Node '${nodeId}' does not exist in this pipeline.`);
  }
  const appData = ensureObject(node, 'app_data');
  if (values.label !== undefined) {
    appData.label = values.label;
    ensureObject(appData, 'ui_data').label = values.label;
  }
  if (values.component_parameters !== undefined) {
    appData.component_parameters = cloneJson(values.component_parameters);
  }
  return copy;
}

/** Replace the primary pipeline's `app_data.properties` (the form holds every key). */
export function setPipelineProperties(document: JsonObject, properties: JsonObject): JsonObject {
  const { pipeline, copy } = editable(document, undefined);
  ensureObject(pipeline, 'app_data').properties = cloneJson(properties);
  return copy;
}

/** A pipeline running one notebook or script (`path` from the server root; the pipeline sits beside it). */
export function singleFilePipeline(path: string): JsonObject {
  const name = basename(path);
  const op = singleFileOp(path);
  if (!op) {
    throw new Error(`Only notebooks, Python and R scripts can run as a pipeline, not '${path}'.`);
  }
  const document = newPipelineDocument({ name: name.slice(0, name.lastIndexOf('.')) });
  return addNodes(document, undefined, [{ op, filename: name, position: { x: 60, y: 60 } }]).document;
}
