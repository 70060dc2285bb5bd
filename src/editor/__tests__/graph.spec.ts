import { DAGRE_LIMIT, layoutGraph } from '../../layout';
import { addLink, moveNodes } from '../document';
import { hasPipeline, levelGraph, levelPathOf, neighbours, supernodeLabel } from '../graph';
import { pipelineWith, supernodeFixture } from './helpers';

describe('levelGraph', () => {
  it('draws the primary level: nodes, supernode, comment, links and the comment line', () => {
    const graph = levelGraph(supernodeFixture());
    const kinds = Object.fromEntries(graph.nodes.map(node => [node.id, node.data.kind]));
    expect(kinds).toEqual({ load: 'execution', group: 'supernode', report: 'execution', note: 'comment' });
    const links = graph.edges.filter(edge => edge.kind === 'link').map(edge => `${edge.source}->${edge.target}`);
    expect(links.sort()).toEqual(['group->report', 'load->group']);
    expect(graph.edges.filter(edge => edge.kind === 'comment').map(edge => edge.target)).toEqual(['load']);
    const comment = graph.nodes.find(node => node.id === 'note')!;
    expect(comment.data.content).toBe('Loads the raw data');
    expect(comment.position).toEqual({ x: 30, y: 10 });
    expect(graph.nodes.find(node => node.id === 'group')!.data.subflowId).toBe('inner');
  });

  it('draws a supernode level with its bindings', () => {
    const graph = levelGraph(supernodeFixture(), 'inner');
    expect(graph.pipelineId).toBe('inner');
    expect(graph.nodes.map(node => [node.id, node.data.kind])).toEqual([
      ['entry', 'binding'],
      ['train', 'execution'],
      ['exit', 'binding']
    ]);
  });

  it('keeps saved positions and lays out, left to right, only the nodes without one', () => {
    const { document, ids } = pipelineWith('a', 'b', 'c');
    let linked = addLink(addLink(document, undefined, ids[0], ids[1]), undefined, ids[1], ids[2]);
    linked = moveNodes(linked, undefined, { [ids[0]]: { x: 500, y: 600 } });
    for (const node of linked.pipelines[0].nodes) {
      if (node.id !== ids[0]) {
        delete node.app_data.ui_data.x_pos;
        delete node.app_data.ui_data.y_pos;
      }
    }
    const positions = new Map(levelGraph(linked).nodes.map(node => [node.id, node.position]));
    expect(positions.get(ids[0])).toEqual({ x: 500, y: 600 });
    expect(positions.get(ids[1])!.x).toBeLessThan(positions.get(ids[2])!.x);
  });

  it('names each node by label and type with its file', () => {
    const { document } = pipelineWith('clean');
    const [node] = levelGraph(document).nodes;
    expect(node.data.label).toBe('clean.ipynb');
    expect(node.data.subtitle).toBe('Notebook · clean.ipynb');
    expect(node.data.filename).toBe('clean.ipynb');
  });
});

describe('levels', () => {
  it('finds the supernodes to open to reach a node', () => {
    const document = supernodeFixture();
    expect(levelPathOf(document, 'load')).toEqual(['main']);
    expect(levelPathOf(document, 'train')).toEqual(['main', 'inner']);
    expect(levelPathOf(document, 'nowhere')).toBeNull();
  });

  it('survives a supernode that contains itself or names a missing pipeline', () => {
    const document = supernodeFixture();
    const inner = document.pipelines.find((p: { id: string }) => p.id === 'inner');
    inner.nodes.push({ id: 'loop', type: 'super_node', subflow_ref: { pipeline_id_ref: 'main' } });
    inner.nodes.push({ id: 'lost', type: 'super_node', subflow_ref: { pipeline_id_ref: 'missing' } });
    expect(levelPathOf(document, 'nowhere')).toBeNull();
    expect(levelPathOf(document, 'train')).toEqual(['main', 'inner']);
    expect(hasPipeline(document, 'missing')).toBe(false);
  });

  it('labels a level by its supernode', () => {
    const document = supernodeFixture();
    document.pipelines[0].nodes.find((node: { id: string }) => node.id === 'group').app_data.ui_data.label = 'Training';
    expect(supernodeLabel(document, undefined, 'inner')).toBe('Training');
    expect(supernodeLabel(document, undefined, 'no-such-level')).toBe('Supernode');
  });
});

describe('neighbours', () => {
  it('lists parents and children along links only', () => {
    const graph = levelGraph(supernodeFixture());
    expect(neighbours(graph, 'group')).toEqual({ parents: ['load'], children: ['report'] });
    expect(neighbours(graph, 'load')).toEqual({ parents: [], children: ['group'] });
  });
});

describe('layout of large pipelines', () => {
  it('puts each node one column right of its furthest parent, in linear time, cycles last', () => {
    const count = DAGRE_LIMIT + 50;
    const nodes = Array.from({ length: count }, (_, index) => ({ id: `n${index}` }));
    // A chain n0 -> n1 -> ..., a shortcut n0 -> n5, and a cycle between two extra nodes.
    const edges = nodes.slice(1).map((node, index) => ({ source: `n${index}`, target: node.id }));
    edges.push({ source: 'n0', target: 'n5' });
    nodes.push({ id: 'a' }, { id: 'b' });
    edges.push({ source: 'a', target: 'b' }, { source: 'b', target: 'a' });
    const positions = layoutGraph({ nodes, edges });
    expect(positions.size).toBe(count + 2);
    for (let index = 1; index < count; index++) {
      expect(positions.get(`n${index}`)!.x).toBeGreaterThan(positions.get(`n${index - 1}`)!.x);
    }
    const rightmost = Math.max(...[...positions.values()].map(position => position.x));
    expect(positions.get('a')!.x).toBe(rightmost);
    expect(positions.get('b')!.x).toBe(rightmost);
    expect(positions.get('a')!.y).not.toBe(positions.get('b')!.y);
  });
});
