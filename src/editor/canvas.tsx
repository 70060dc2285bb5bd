/**
 * The pipeline canvas on React Flow (@xyflow/react): pan, zoom, minimap, selection (click, Shift/Ctrl-click, Shift-drag
 * box), moving, linking by dragging from a node's output to another's input, and deleting. The document is the
 * truth: the canvas reports gestures (`onMove` when a drag ends, `onConnect`, `onDelete`) and is redrawn from the
 * edited document; only positions during a drag live here. Keyboard: Tab reaches every node, arrow keys move the
 * selection along links, Enter opens the properties, Delete deletes.
 */
import {
  Background,
  Connection,
  Controls,
  Edge,
  FinalConnectionState,
  Handle,
  MarkerType,
  MiniMap,
  Node,
  NodeChange,
  NodeProps,
  OnSelectionChangeParams,
  Position,
  ReactFlow,
  ReactFlowInstance,
  applyEdgeChanges,
  applyNodeChanges,
  EdgeChange
} from '@xyflow/react';
import * as React from 'react';

import { IPosition } from './document';
import { ICanvasNodeData, ILevelGraph, neighbours } from './graph';

export interface INodeDecoration {
  /** Status in the run being shown. */
  status?: string;
  /** Number of validation issues naming the node. */
  issues?: number;
}

type CanvasNodeData = ICanvasNodeData & INodeDecoration;
type CanvasNode = Node<CanvasNodeData>;

export interface ICanvasProps {
  graph: ILevelGraph;
  decorations: ReadonlyMap<string, INodeDecoration>;
  selection: readonly string[];
  /** Why a link may not be drawn from source to target, or null when it may. */
  linkRefusal: (source: string, target: string) => string | null;
  onSelectionChange: (ids: string[]) => void;
  onMove: (positions: Record<string, IPosition>) => void;
  onConnect: (source: string, target: string) => void;
  onRefusedLink: (message: string) => void;
  onDelete: (nodeIds: string[], links: { source: string; target: string }[]) => void;
  /** Double-click: open a node's file, or enter a supernode. */
  onActivate: (nodeId: string) => void;
  /** Enter on a node: show and focus its properties. */
  onShowProperties: (nodeId: string) => void;
  onInit: (instance: ReactFlowInstance<CanvasNode, Edge>) => void;
}

function statusText(status: string | undefined): string {
  return status ? `, ${status}` : '';
}

/** The accessible name: label, type and file, run status, issue count. */
export function describeNode(data: CanvasNodeData): string {
  const issues = data.issues ? `, ${data.issues} issue${data.issues === 1 ? '' : 's'}` : '';
  if (data.kind === 'comment') {
    return `Comment: ${data.content}`;
  }
  return `${data.label}, ${data.subtitle}${statusText(data.status)}${issues}`;
}

function NodeBody({ data }: { data: CanvasNodeData }): JSX.Element {
  return (
    <>
      <div className="elyra-proc-node-label" title={data.label}>
        {data.label}
      </div>
      <div className="elyra-proc-node-subtitle" title={data.filename ?? data.subtitle}>
        {data.subtitle}
      </div>
      <div className="elyra-proc-node-marks">
        {data.status && (
          <span className={`elyra-proc-badge elyra-proc-status-${data.status}`} data-testid="elyra-proc-node-status">
            {data.status}
          </span>
        )}
        {!!data.issues && (
          <span className="elyra-proc-node-issues" data-testid="elyra-proc-node-issues">
            {data.issues} issue{data.issues === 1 ? '' : 's'}
          </span>
        )}
      </div>
    </>
  );
}

function ExecutionNode({ data, selected }: NodeProps<CanvasNode>): JSX.Element {
  const classes = ['elyra-proc-node', `elyra-proc-node-${data.kind}`];
  if (data.status) {
    classes.push(`elyra-proc-status-${data.status}`);
  }
  if (data.issues) {
    classes.push('elyra-proc-node-invalid');
  }
  if (selected) {
    classes.push('elyra-proc-node-selected');
  }
  return (
    <div className={classes.join(' ')} data-testid="elyra-proc-node" data-label={data.label}>
      <Handle type="target" position={Position.Left} className="elyra-proc-port" aria-label="Input port" />
      <NodeBody data={data} />
      <Handle type="source" position={Position.Right} className="elyra-proc-port" aria-label="Output port" />
    </div>
  );
}

function CommentNode({ data }: NodeProps<CanvasNode>): JSX.Element {
  return (
    <div className="elyra-proc-comment" data-testid="elyra-proc-comment">
      {data.content}
      {/* Where the dashed lines to the nodes it describes start; not a port to link from. */}
      <Handle type="source" position={Position.Right} className="elyra-proc-comment-anchor" isConnectable={false} />
    </div>
  );
}

const NODE_TYPES = { execution: ExecutionNode, supernode: ExecutionNode, binding: ExecutionNode, comment: CommentNode };

function sameValues(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every(key => a[key] === b[key]);
}

/** Whether a redrawn node shows the same as the one drawn before (React Flow then skips it). */
function sameNode(drawn: CanvasNode, next: CanvasNode): boolean {
  return (
    drawn.type === next.type &&
    drawn.selected === next.selected &&
    drawn.position.x === next.position.x &&
    drawn.position.y === next.position.y &&
    drawn.ariaLabel === next.ariaLabel &&
    drawn.style?.width === next.style?.width &&
    drawn.style?.height === next.style?.height &&
    sameValues(drawn.data, next.data)
  );
}

/**
 * The nodes to draw. A node that shows the same as in `drawn` keeps its object, so a selection, a run status or
 * an edit redraws only the nodes it changes: with hundreds of nodes, new objects for all of them made React Flow
 * re-measure and redraw every node (over a second per click at 2,000 nodes; see docs/benchmarks.md).
 */
function toCanvasNodes(
  graph: ILevelGraph,
  decorations: ReadonlyMap<string, INodeDecoration>,
  selection: ReadonlySet<string>,
  drawn: readonly CanvasNode[] = []
): CanvasNode[] {
  const before = new Map(drawn.map(node => [node.id, node]));
  return graph.nodes.map(node => {
    const data: CanvasNodeData = { ...node.data, ...decorations.get(node.id) };
    const next: CanvasNode = {
      id: node.id,
      type: node.data.kind,
      position: node.position,
      data,
      selected: selection.has(node.id),
      ariaLabel: describeNode(data),
      connectable: node.data.kind !== 'comment',
      deletable: node.data.kind === 'execution' || node.data.kind === 'supernode',
      style: node.data.kind === 'comment' ? { width: node.width, height: node.height } : undefined
    };
    const previous = before.get(node.id);
    return previous && sameNode(previous, next) ? previous : next;
  });
}

function toCanvasEdges(graph: ILevelGraph, labels: ReadonlyMap<string, string>): Edge[] {
  return graph.edges.map(edge => ({
    id: edge.id,
    source: edge.source,
    target: edge.target,
    deletable: edge.kind === 'link',
    selectable: edge.kind === 'link',
    focusable: edge.kind === 'link',
    className: edge.kind === 'comment' ? 'elyra-proc-comment-edge' : 'elyra-proc-link',
    markerEnd: edge.kind === 'link' ? { type: MarkerType.ArrowClosed, width: 18, height: 18 } : undefined,
    ariaLabel: edge.kind === 'link' ? `Link from ${labels.get(edge.source)} to ${labels.get(edge.target)}` : ''
  }));
}

/** Focus a node now, or as soon as it is drawn (React Flow draws only the visible nodes of large pipelines). */
function focusNodeElement(root: HTMLElement | null, id: string): void {
  let tries = 0;
  const attempt = (): void => {
    const element = root?.querySelector<HTMLElement>(`.react-flow__node[data-id="${CSS.escape(id)}"]`);
    if (element) {
      element.focus({ preventScroll: true });
    } else if (++tries < 30) {
      requestAnimationFrame(attempt);
    }
  };
  attempt();
}

/** Arrow keys follow links: right to a child, left to a parent, up and down among the siblings. */
function arrowTarget(graph: ILevelGraph, id: string, key: string, positions: Map<string, IPosition>): string | null {
  const { parents, children } = neighbours(graph, id);
  const byHeight = (ids: string[]): string[] =>
    [...ids].sort((a, b) => (positions.get(a)?.y ?? 0) - (positions.get(b)?.y ?? 0));
  if (key === 'ArrowRight') {
    return byHeight(children)[0] ?? null;
  }
  if (key === 'ArrowLeft') {
    return byHeight(parents)[0] ?? null;
  }
  const siblings = new Set<string>();
  for (const parent of parents) {
    neighbours(graph, parent).children.forEach(child => siblings.add(child));
  }
  for (const child of children) {
    neighbours(graph, child).parents.forEach(parent => siblings.add(parent));
  }
  siblings.add(id);
  const ordered = byHeight([...siblings]);
  const index = ordered.indexOf(id) + (key === 'ArrowDown' ? 1 : -1);
  return index >= 0 && index < ordered.length && ordered[index] !== id ? ordered[index] : null;
}

/** Above this many nodes, React Flow draws only the nodes in view, and the canvas opens at a readable zoom. */
const LARGE_GRAPH = 200;
const START_ZOOM = 0.75;
const FIT_VIEW_OPTIONS = { maxZoom: 1, padding: 0.15 };
const MINIMAP_ROOM = { width: 560, height: 360 };

/**
 * Where a large pipeline opens: its first nodes, readable (the minimap shows the rest). Fitting hundreds of
 * nodes into view would draw them all, unreadably small, and make panning slow.
 */
function startViewport(graph: ILevelGraph): { x: number; y: number; zoom: number } {
  const left = Math.min(...graph.nodes.map(node => node.position.x));
  const top = Math.min(...graph.nodes.map(node => node.position.y));
  return { x: 24 - left * START_ZOOM, y: 24 - top * START_ZOOM, zoom: START_ZOOM };
}

/** Whether every node is inside a canvas of this size. */
function inView(flow: ReactFlowInstance<CanvasNode, Edge>, width: number, height: number): boolean {
  const bounds = flow.getNodesBounds(flow.getNodes());
  const { x, y, zoom } = flow.getViewport();
  return (
    bounds.x * zoom + x >= 0 &&
    bounds.y * zoom + y >= 0 &&
    (bounds.x + bounds.width) * zoom + x <= width &&
    (bounds.y + bounds.height) * zoom + y <= height
  );
}

export function PipelineCanvas(props: ICanvasProps): JSX.Element {
  const { graph, decorations, selection } = props;
  const large = graph.nodes.length > LARGE_GRAPH;
  const selected = React.useMemo(() => new Set(selection), [selection]);
  // The drawn nodes follow the document (redrawn as soon as it changes, never one render late); between
  // changes, React Flow moves them while they are dragged.
  const [nodes, setNodes] = React.useState<CanvasNode[]>(() => toCanvasNodes(graph, decorations, selected));
  const [drawnFrom, setDrawnFrom] = React.useState({ graph, decorations, selected });
  if (drawnFrom.graph !== graph || drawnFrom.decorations !== decorations || drawnFrom.selected !== selected) {
    setDrawnFrom({ graph, decorations, selected });
    setNodes(current => toCanvasNodes(graph, decorations, selected, current));
  }
  const labels = React.useMemo(() => new Map(graph.nodes.map(node => [node.id, node.data.label])), [graph]);
  // Links are drawn from the document too; React Flow marks the ones selected (Delete then unlinks them).
  const [edges, setEdges] = React.useState<Edge[]>(() => toCanvasEdges(graph, labels));
  const [edgesFrom, setEdgesFrom] = React.useState(graph);
  if (edgesFrom !== graph) {
    setEdgesFrom(graph);
    setEdges(toCanvasEdges(graph, labels));
  }
  const wrapper = React.useRef<HTMLDivElement>(null);
  const instance = React.useRef<ReactFlowInstance<CanvasNode, Edge> | null>(null);
  // Until the user pans or zooms, the pipeline is fitted again when the canvas changes size (a tab opened beside
  // the editor, the panel layout switching) and some node would be out of view; otherwise the view stays still, so
  // a resize (the problems list appearing) never moves a node away from a gesture in progress.
  const userViewport = React.useRef(false);
  // A canvas too small for a minimap beside the nodes shows none: it would cover them.
  const [roomForMinimap, setRoomForMinimap] = React.useState(true);
  React.useEffect(() => {
    const element = wrapper.current;
    if (!element) {
      return;
    }
    const observer = new ResizeObserver(() => {
      const { clientWidth: width, clientHeight: height } = element;
      if (width === 0 || height === 0) {
        return; // hidden
      }
      setRoomForMinimap(width >= MINIMAP_ROOM.width && height >= MINIMAP_ROOM.height);
      const flow = instance.current;
      if (flow && !userViewport.current && !large && !inView(flow, width, height)) {
        void flow.fitView(FIT_VIEW_OPTIONS);
      }
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [large]);
  // React Flow calls its selection handler again whenever the handler changes: keep it one function that
  // reads the latest selection, so a handler from a render with older nodes never undoes a new selection.
  const latest = React.useRef({ selected, onSelectionChange: props.onSelectionChange });
  latest.current = { selected, onSelectionChange: props.onSelectionChange };

  const onNodesChange = React.useCallback((changes: NodeChange<CanvasNode>[]) => {
    setNodes(current => applyNodeChanges(changes, current));
  }, []);
  const onEdgesChange = React.useCallback((changes: EdgeChange<Edge>[]) => {
    setEdges(current => applyEdgeChanges(changes, current));
  }, []);

  const onSelectionChange = React.useCallback(({ nodes: chosen }: OnSelectionChangeParams) => {
    const ids = chosen.map(node => node.id);
    const { selected: current, onSelectionChange: report } = latest.current;
    if (ids.length !== current.size || ids.some(id => !current.has(id))) {
      report(ids);
    }
  }, []);

  const onNodeDragStop = React.useCallback(
    (_: unknown, __: CanvasNode, dragged: CanvasNode[]) => {
      const positions: Record<string, IPosition> = {};
      for (const node of dragged) {
        const before = graph.nodes.find(n => n.id === node.id)?.position;
        if (!before || before.x !== node.position.x || before.y !== node.position.y) {
          positions[node.id] = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
        }
      }
      if (Object.keys(positions).length) {
        props.onMove(positions);
      }
    },
    [graph, props.onMove]
  );

  const isValidConnection = React.useCallback(
    (connection: Connection | Edge) => props.linkRefusal(connection.source, connection.target) === null,
    [props.linkRefusal]
  );

  const onConnectEnd = React.useCallback(
    (_: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (!state.isValid && state.fromNode && state.toNode) {
        const [source, target] =
          state.fromHandle?.type === 'target'
            ? [state.toNode.id, state.fromNode.id]
            : [state.fromNode.id, state.toNode.id];
        const refusal = props.linkRefusal(source, target);
        if (refusal) {
          props.onRefusedLink(refusal);
        }
      }
    },
    [props.linkRefusal, props.onRefusedLink]
  );

  const onKeyDown = (event: React.KeyboardEvent): void => {
    const element = (event.target as HTMLElement).closest<HTMLElement>('.react-flow__node');
    const id = element?.dataset.id;
    if (!id || (event.target as HTMLElement).closest('input, textarea')) {
      return;
    }
    if (event.key === 'Enter') {
      event.preventDefault();
      props.onShowProperties(id);
    } else if (event.key === ' ') {
      event.preventDefault();
      props.onSelectionChange(event.shiftKey ? [...selection, id] : [id]);
    } else if (event.key.startsWith('Arrow')) {
      event.preventDefault();
      const positions = new Map(graph.nodes.map(node => [node.id, node.position]));
      const next = arrowTarget(graph, id, event.key, positions);
      if (next) {
        // Focus first (the node is drawn unless it is off screen in a large pipeline), then bring it into view.
        focusNodeElement(wrapper.current, next);
        props.onSelectionChange([next]);
        const position = positions.get(next);
        if (position && instance.current) {
          const zoom = instance.current.getZoom();
          void instance.current.setCenter(position.x + 110, position.y + 34, { zoom, duration: 150 });
        }
      }
    }
  };

  return (
    // Focusable, so that a click on the pane takes the keyboard there (the editing keys work on the canvas).
    <div
      className="elyra-proc-canvas"
      ref={wrapper}
      onKeyDown={onKeyDown}
      tabIndex={-1}
      data-testid="elyra-proc-canvas"
    >
      <ReactFlow<CanvasNode, Edge>
        nodes={nodes}
        edges={edges}
        nodeTypes={NODE_TYPES}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeClick={(event, node) => {
          // A plain click on one node of several selected selects just that one (a drag moves them all).
          if (!event.shiftKey && !event.ctrlKey && !event.metaKey && selection.length > 1) {
            props.onSelectionChange([node.id]);
          }
        }}
        onSelectionChange={onSelectionChange}
        onNodeDragStop={onNodeDragStop}
        onConnect={connection => props.onConnect(connection.source, connection.target)}
        onConnectEnd={onConnectEnd}
        isValidConnection={isValidConnection}
        onDelete={({ nodes: removed, edges: unlinked }) =>
          props.onDelete(
            removed.map(node => node.id),
            unlinked.map(edge => ({ source: edge.source, target: edge.target }))
          )
        }
        onNodeDoubleClick={(_, node) => props.onActivate(node.id)}
        onInit={flow => {
          instance.current = flow;
          props.onInit(flow);
        }}
        deleteKeyCode={['Delete', 'Backspace']}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        disableKeyboardA11y={true}
        zoomOnDoubleClick={false}
        onlyRenderVisibleElements={large}
        minZoom={0.05}
        maxZoom={2}
        fitView={!large}
        fitViewOptions={FIT_VIEW_OPTIONS}
        onMoveStart={event => {
          // Only gestures come with an event; fitting, centring on a node and the zoom buttons do not.
          userViewport.current ||= event !== null;
        }}
        defaultViewport={large ? startViewport(graph) : undefined}
        attributionPosition="top-right"
        ariaLabelConfig={{
          'node.a11yDescription.default': 'Arrow keys move along links, Enter opens properties, Delete deletes.'
        }}
      >
        <Background gap={24} size={1} />
        {roomForMinimap && <MiniMap pannable zoomable ariaLabel="Minimap" className="elyra-proc-minimap" />}
        <Controls showInteractive={false} aria-label="Zoom controls" />
      </ReactFlow>
    </div>
  );
}
