/**
 * The pipeline graph in SVG: one focusable box per node (label, type, file, run status) and the links between
 * them, laid out left to right. Enter or Space on a node selects it; double-click opens its file.
 */
import { PathExt } from '@jupyterlab/coreutils';
import * as React from 'react';

import { IIssue } from './api';
import { IconButton } from './controls';
import { edgePath, IGraphLayout } from './layout';
import { IGraphNode, IPipelineGraph, KIND_LABELS } from './pipeline';

export interface INodeState {
  status: string;
  error?: string | null;
}

export interface IGraphViewProps {
  graph: IPipelineGraph;
  layout: IGraphLayout;
  /** Drawing scale (1 = natural size). */
  scale: number;
  /** Each node's status in the run being shown, by node id; absent when no run is shown. */
  states: Record<string, INodeState> | null;
  /** Issues of the last refused run, by node id; those nodes are marked. */
  issues?: ReadonlyMap<string, IIssue[]>;
  selected: string | null;
  onSelect: (nodeId: string) => void;
  onOpen?: (nodeId: string) => void;
}

let markerCount = 0;

/** Cut text to fit a box, with an ellipsis; the full text stays in the node's title and accessible name. */
function fit(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function nodeSubtitle(node: IGraphNode): string {
  const kind = node.kind === 'custom' ? node.op || KIND_LABELS.custom : KIND_LABELS[node.kind];
  return node.filename ? `${kind} · ${PathExt.basename(node.filename)}` : kind;
}

export function describeNode(node: IGraphNode, state: INodeState | undefined, issueCount = 0): string {
  const parts = [node.label, nodeSubtitle(node)];
  if (node.filename) {
    parts.push(`file ${node.filename}`);
  }
  if (node.supernodes.length) {
    parts.push(`in supernode ${node.supernodes.join(' / ')}`);
  }
  if (state) {
    parts.push(`status ${state.status}`);
  }
  if (issueCount > 0) {
    parts.push(`${issueCount} issue${issueCount === 1 ? '' : 's'}`);
  }
  return parts.join(', ');
}

export function GraphView(props: IGraphViewProps): JSX.Element {
  const { graph, layout, scale, states, issues, selected, onSelect, onOpen } = props;
  const [markerId] = React.useState(() => `elyra-proc-arrow-${++markerCount}`);

  if (graph.nodes.length === 0) {
    return (
      <div className="elyra-proc-graph-empty" data-testid="elyra-proc-graph-empty">
        This pipeline has no nodes.
      </div>
    );
  }

  const onKeyDown = (event: React.KeyboardEvent, nodeId: string): void => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(nodeId);
    }
  };

  return (
    <svg
      className="elyra-proc-graph-svg"
      data-testid="elyra-proc-graph"
      role="group"
      aria-label={`Pipeline graph: ${graph.nodes.length} node${graph.nodes.length === 1 ? '' : 's'}, ${
        graph.edges.length
      } link${graph.edges.length === 1 ? '' : 's'}`}
      width={Math.round(layout.width * scale)}
      height={Math.round(layout.height * scale)}
      viewBox={`0 0 ${layout.width} ${layout.height}`}
    >
      <defs>
        <marker
          id={markerId}
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="8"
          markerHeight="8"
          orient="auto-start-reverse"
        >
          <path className="elyra-proc-edge-arrow" d="M0,0 L10,5 L0,10 z" />
        </marker>
      </defs>
      <g className="elyra-proc-edges" aria-hidden="true">
        {layout.edges.map(edge => (
          <path
            key={`${edge.source}->${edge.target}`}
            className="elyra-proc-edge"
            data-testid={`elyra-proc-edge-${edge.source}-${edge.target}`}
            data-source={edge.source}
            data-target={edge.target}
            d={edgePath(edge.points)}
            markerEnd={`url(#${markerId})`}
          />
        ))}
      </g>
      <g className="elyra-proc-nodes">
        {graph.nodes.map(node => {
          const box = layout.nodes.get(node.id);
          if (!box) {
            return null;
          }
          const state = states?.[node.id];
          const status = state?.status ?? 'none';
          const isSelected = selected === node.id;
          const nodeIssues = issues?.get(node.id) ?? [];
          const issueCount = nodeIssues.length;
          const description = describeNode(node, state, issueCount);
          const title = issueCount
            ? `${description}\n${nodeIssues.map(issue => `• ${issue.message}`).join('\n')}`
            : description;
          return (
            <g
              key={node.id}
              id={`elyra-proc-node-${node.id}`}
              className={`elyra-proc-node elyra-proc-status-${status}${isSelected ? ' elyra-proc-selected' : ''}${
                issueCount ? ' elyra-proc-node-has-issues' : ''
              }`}
              transform={`translate(${box.x},${box.y})`}
              tabIndex={0}
              role="button"
              aria-pressed={isSelected}
              aria-label={description}
              data-testid={`elyra-proc-node-${node.id}`}
              data-node-id={node.id}
              data-status={status}
              data-selected={isSelected ? 'true' : 'false'}
              data-issue-count={issueCount ? String(issueCount) : undefined}
              onClick={() => onSelect(node.id)}
              onDoubleClick={() => onOpen?.(node.id)}
              onKeyDown={event => onKeyDown(event, node.id)}
            >
              <title>{title}</title>
              <rect className="elyra-proc-node-box" width={box.width} height={box.height} rx={6} ry={6} />
              {issueCount > 0 && (
                <g
                  className="elyra-proc-node-issue-badge"
                  transform={`translate(${box.width - 14},${box.height - 14})`}
                  aria-hidden="true"
                >
                  <circle r={8} />
                  <text textAnchor="middle" dy="0.35em">
                    {issueCount > 9 ? '9+' : issueCount}
                  </text>
                </g>
              )}
              <rect className="elyra-proc-node-stripe" width={6} height={box.height} rx={3} ry={3} />
              <text className="elyra-proc-node-label" x={16} y={22}>
                {fit(node.label, 26)}
              </text>
              <text className="elyra-proc-node-type" x={16} y={41}>
                {fit(nodeSubtitle(node), 32)}
              </text>
              <text className="elyra-proc-node-status" x={16} y={58}>
                {state
                  ? state.status
                  : node.supernodes.length
                    ? fit(`in ${node.supernodes.join(' / ')}`, 32)
                    : ''}
              </text>
            </g>
          );
        })}
      </g>
    </svg>
  );
}

const ZOOM_STEP = 1.25;
const MIN_ZOOM = 0.2;
const MAX_ZOOM = 3;

export interface IGraphAreaProps extends Omit<IGraphViewProps, 'scale'> {
  /** The chosen zoom; null fits the graph in the area (up to 100%). */
  zoom: number | null;
  onZoom: (zoom: number | null) => void;
}

/** The scrollable graph area with its zoom controls; by default the graph is scaled to fit. */
export function GraphArea(props: IGraphAreaProps): JSX.Element {
  const { zoom, onZoom, layout, ...rest } = props;
  const areaRef = React.useRef<HTMLDivElement>(null);
  const [viewport, setViewport] = React.useState({ width: 0, height: 0 });

  React.useLayoutEffect(() => {
    const area = areaRef.current;
    if (!area) {
      return;
    }
    const measure = (): void =>
      setViewport(previous =>
        previous.width === area.clientWidth && previous.height === area.clientHeight
          ? previous
          : { width: area.clientWidth, height: area.clientHeight }
      );
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(area);
    return () => observer.disconnect();
  }, []);

  const fit =
    viewport.width > 0 && viewport.height > 0 && layout.width > 0
      ? Math.max(MIN_ZOOM, Math.min(1, viewport.width / layout.width, viewport.height / layout.height))
      : 1;
  const scale = zoom ?? fit;
  const setZoom = (value: number | null): void =>
    onZoom(value === null ? null : Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, value)));

  return (
    <div className="elyra-proc-graph-area">
      <div className="elyra-proc-zoom" role="group" aria-label="Zoom">
        <IconButton testId="elyra-proc-zoom-out" label="Zoom out" onClick={() => setZoom(scale / ZOOM_STEP)}>
          −
        </IconButton>
        <button
          type="button"
          className="elyra-proc-zoom-level"
          data-testid="elyra-proc-zoom-fit"
          aria-label={`Zoom ${Math.round(scale * 100)}%; fit the graph to the view`}
          title="Fit to the view"
          aria-pressed={zoom === null}
          onClick={() => setZoom(null)}
        >
          {Math.round(scale * 100)}%
        </button>
        <IconButton testId="elyra-proc-zoom-in" label="Zoom in" onClick={() => setZoom(scale * ZOOM_STEP)}>
          +
        </IconButton>
      </div>
      <div className="elyra-proc-graph-scroll" ref={areaRef}>
        <GraphView {...rest} layout={layout} scale={scale} />
      </div>
    </div>
  );
}
