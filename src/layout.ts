/**
 * Left-to-right layout of a pipeline graph with dagre: node boxes and edge routes in SVG coordinates.
 */
import { graphlib, layout } from '@dagrejs/dagre';

import type { IPipelineGraph } from './pipeline';

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

export function layoutGraph(graph: Pick<IPipelineGraph, 'nodes' | 'edges'>): IGraphLayout {
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

/** An SVG path through the route's points: straight first and last segments, smooth in between. */
export function edgePath(points: IPoint[]): string {
  if (points.length === 0) {
    return '';
  }
  if (points.length < 3) {
    return points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ');
  }
  let path = `M${points[0].x},${points[0].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const mid = { x: (points[i].x + points[i + 1].x) / 2, y: (points[i].y + points[i + 1].y) / 2 };
    path += ` Q${points[i].x},${points[i].y} ${mid.x},${mid.y}`;
  }
  const last = points[points.length - 1];
  return `${path} L${last.x},${last.y}`;
}
