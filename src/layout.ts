/**
 * Left-to-right layout of a pipeline graph with dagre: node boxes and edge routes in SVG coordinates.
 */
import { graphlib, layout } from '@dagrejs/dagre';

export const NODE_WIDTH = 220;
export const NODE_HEIGHT = 68;

export interface IPoint {
  x: number;
  y: number;
}

export interface INodeBox {
  /** Top-left corner. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface IEdgeRoute {
  source: string;
  target: string;
  points: IPoint[];
}

export interface IGraphLayout {
  width: number;
  height: number;
  nodes: Map<string, INodeBox>;
  edges: IEdgeRoute[];
}

/** Anything with node ids and links between them (a flattened pipeline, one level of a document). */
export interface ILayoutInput {
  nodes: { id: string }[];
  edges: { source: string; target: string }[];
}

export function layoutGraph(graph: ILayoutInput): IGraphLayout {
  const g = new graphlib.Graph({ multigraph: false });
  g.setGraph({ rankdir: 'LR', nodesep: 28, ranksep: 72, marginx: 24, marginy: 24 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) {
    g.setNode(node.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  }
  const known = new Set(graph.nodes.map(node => node.id));
  for (const edge of graph.edges) {
    if (known.has(edge.source) && known.has(edge.target) && edge.source !== edge.target) {
      g.setEdge(edge.source, edge.target);
    }
  }
  layout(g);

  const nodes = new Map<string, INodeBox>();
  let width = 0;
  let height = 0;
  for (const id of g.nodes()) {
    const label = g.node(id) as { x?: number; y?: number; width: number; height: number };
    const box = {
      x: (label.x ?? 0) - label.width / 2,
      y: (label.y ?? 0) - label.height / 2,
      width: label.width,
      height: label.height
    };
    nodes.set(id, box);
    width = Math.max(width, box.x + box.width);
    height = Math.max(height, box.y + box.height);
  }
  const edges: IEdgeRoute[] = [];
  for (const edge of g.edges()) {
    const label = g.edge(edge) as { points?: IPoint[] };
    const points = label.points ?? [];
    for (const point of points) {
      width = Math.max(width, point.x);
      height = Math.max(height, point.y);
    }
    edges.push({ source: edge.v, target: edge.w, points });
  }
  return { width: width + 24, height: height + 24, nodes, edges };
}
