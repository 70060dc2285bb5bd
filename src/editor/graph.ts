/**
 * What the canvas draws for one level of a pipeline document (the primary pipeline, or a supernode's subflow):
 * its nodes, supernodes, bindings and comments with their saved positions, and the links between them. Nodes
 * without a saved position are placed by dagre, so files written by hand or by other tools still open readably.
 */
import { ILayoutInput, IPoint, layoutGraph } from '../layout';
import { GENERIC_OPS, isObject, JsonObject, KIND_LABELS, nodeLabel, parentsOf } from '../pipeline';
import { commentsOf, IPosition, nodePositions, pipelineOf } from './document';

export type CanvasNodeKind = 'execution' | 'supernode' | 'binding' | 'comment';

export interface ICanvasNodeData extends Record<string, unknown> {
  kind: CanvasNodeKind;
  label: string;
  /** "Notebook · load.ipynb", "Supernode", a component's op... */
  subtitle: string;
  op: string;
  filename: string | null;
  /** The subflow a supernode opens. */
  subflowId: string | null;
  /** A comment's text. */
  content: string;
}

export interface ILevelNode {
  id: string;
  position: IPosition;
  data: ICanvasNodeData;
  width?: number;
  height?: number;
}

export interface ILevelEdge {
  id: string;
  source: string;
  target: string;
  /** Links between nodes are editable; a comment's lines to the nodes it describes are not. */
  kind: 'link' | 'comment';
}

export interface ILevelGraph {
  pipelineId: string;
  nodes: ILevelNode[];
  edges: ILevelEdge[];
}

function commentPosition(comment: JsonObject): IPosition {
  const x = Number(comment.x_pos);
  const y = Number(comment.y_pos);
  return { x: Number.isFinite(x) ? x : 0, y: Number.isFinite(y) ? y : 0 };
}

function kindOf(node: JsonObject): CanvasNodeKind {
  if (node.type === 'super_node') {
    return 'supernode';
  }
  return String(node.type).startsWith('binding') ? 'binding' : 'execution';
}

function subtitle(node: JsonObject, kind: CanvasNodeKind, filename: string | null): string {
  if (kind !== 'execution') {
    return kind === 'supernode' ? 'Supernode' : 'Binding';
  }
  const generic = GENERIC_OPS[String(node.op)];
  const type = generic ? KIND_LABELS[generic] : String(node.op || KIND_LABELS.custom);
  const base = filename ? filename.split('/').pop() : '';
  return base ? `${type} · ${base}` : type;
}

/** The last layout and the nodes and links it was made for. */
let lastLayout: { key: string; layout: Map<string, IPoint> } | null = null;

/**
 * The graph is rebuilt after every edit: a document whose nodes have no saved positions reuses its layout while
 * its nodes and links are the same (moving a node, editing properties), instead of laying it out again.
 */
function cachedLayout(input: ILayoutInput): Map<string, IPoint> {
  const key = JSON.stringify([input.nodes.map(node => node.id), input.edges.map(edge => [edge.source, edge.target])]);
  if (lastLayout?.key !== key) {
    lastLayout = { key, layout: layoutGraph(input) };
  }
  return lastLayout.layout;
}

export function levelGraph(document: JsonObject, pipelineId?: string): ILevelGraph {
  const pipeline = pipelineOf(document, pipelineId);
  const raw: JsonObject[] = (Array.isArray(pipeline.nodes) ? pipeline.nodes : []).filter(
    (node: unknown): node is JsonObject => isObject(node) && typeof node.id === 'string'
  );
  const ids = new Set(raw.map(node => node.id as string));
  const edges: ILevelEdge[] = [];
  for (const node of raw) {
    const parents = parentsOf(node);
    parents.forEach((parent, index) => {
      if (ids.has(parent)) {
        edges.push({ id: `${parent}->${node.id}#${index}`, source: parent, target: node.id, kind: 'link' });
      }
    });
  }
  const positions = nodePositions(document, pipelineId);
  if ([...positions.values()].some(position => position === null)) {
    const layout = cachedLayout({
      nodes: raw.map(node => ({ id: node.id as string })),
      edges: edges.map(edge => ({ source: edge.source, target: edge.target }))
    });
    for (const [id, position] of positions) {
      const placed = layout.get(id);
      if (position === null && placed) {
        positions.set(id, placed);
      }
    }
  }
  const nodes: ILevelNode[] = raw.map(node => {
    const kind = kindOf(node);
    const params =
      isObject(node.app_data) && isObject(node.app_data.component_parameters) ? node.app_data.component_parameters : {};
    const filename = typeof params.filename === 'string' && params.filename ? params.filename : null;
    return {
      id: node.id,
      position: positions.get(node.id) ?? { x: 0, y: 0 },
      data: {
        kind,
        label: nodeLabel(node, filename),
        subtitle: subtitle(node, kind, filename),
        op: String(node.op ?? ''),
        filename,
        subflowId: isObject(node.subflow_ref) ? String(node.subflow_ref.pipeline_id_ref ?? '') || null : null,
        content: ''
      }
    };
  });
  for (const comment of commentsOf(document, pipelineId)) {
    const id = String(comment.id ?? '');
    if (!id) {
      continue;
    }
    nodes.push({
      id,
      position: commentPosition(comment),
      width: Number(comment.width) || 175,
      height: Number(comment.height) || 42,
      data: {
        kind: 'comment',
        label: 'Comment',
        subtitle: '',
        op: '',
        filename: null,
        subflowId: null,
        content: String(comment.content ?? '')
      }
    });
    for (const ref of Array.isArray(comment.associated_id_refs) ? comment.associated_id_refs : []) {
      const target = isObject(ref) ? String(ref.node_ref ?? '') : '';
      if (ids.has(target)) {
        edges.push({ id: `${id}~${target}`, source: id, target, kind: 'comment' });
      }
    }
  }
  return { pipelineId: String(pipeline.id), nodes, edges };
}

/** The nodes linked to this one, for arrow-key moves: parents to the left, children to the right. */
export function neighbours(graph: ILevelGraph, id: string): { parents: string[]; children: string[] } {
  const links = graph.edges.filter(edge => edge.kind === 'link');
  return {
    parents: links.filter(edge => edge.target === id).map(edge => edge.source),
    children: links.filter(edge => edge.source === id).map(edge => edge.target)
  };
}

export function hasPipeline(document: JsonObject, pipelineId: string): boolean {
  try {
    pipelineOf(document, pipelineId);
    return true;
  } catch {
    return false;
  }
}

/** The label of the supernode (in pipeline `parentId`, the primary by default) that opens `subflowId`. */
export function supernodeLabel(document: JsonObject, parentId: string | undefined, subflowId: string): string {
  const nodes: unknown[] = pipelineOf(document, parentId).nodes ?? [];
  const supernode = nodes.find(node => isObject(node) && node.subflow_ref?.pipeline_id_ref === subflowId);
  return isObject(supernode) ? nodeLabel(supernode, null) : 'Supernode';
}

/**
 * The levels to open to show a node: the ids of the pipelines from the primary one down to the one holding it,
 * through the supernodes on the way; null when no pipeline reachable from the primary holds it.
 */
export function levelPathOf(document: JsonObject, nodeId: string): string[] | null {
  const search = (pipeline: JsonObject, path: string[]): string[] | null => {
    const nodes: JsonObject[] = (Array.isArray(pipeline.nodes) ? pipeline.nodes : []).filter(isObject);
    if (nodes.some(node => node.id === nodeId)) {
      return path;
    }
    for (const node of nodes) {
      const subflowId = node.subflow_ref?.pipeline_id_ref;
      if (node.type === 'super_node' && typeof subflowId === 'string' && !path.includes(subflowId)) {
        const found = hasPipeline(document, subflowId)
          ? search(pipelineOf(document, subflowId), [...path, subflowId])
          : null;
        if (found) {
          return found;
        }
      }
    }
    return null;
  };
  const primary = pipelineOf(document);
  return search(primary, [String(primary.id)]);
}
