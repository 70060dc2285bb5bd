import { flattenPipeline, type JsonObject } from '../../pipeline';
import {
  CURRENT_VERSION,
  addLink,
  addNodes,
  autoLayout,
  commentsOf,
  linkRefusal,
  moveNodes,
  newId,
  newPipelineDocument,
  nodePositions,
  pipelineOf,
  removeLink,
  removeNodes,
  setNodeAppData,
  singleFilePipeline,
  setPipelineProperties
} from '../document';
import { nodeById, pipelineWith, sourcesOf, supernodeFixture } from './helpers';

/** `edit` must leave its input exactly as it was. */
function expectPure(document: JsonObject, edit: (document: JsonObject) => unknown): void {
  const before = JSON.stringify(document);
  edit(document);
  expect(JSON.stringify(document)).toBe(before);
}

/** `[source, target]` of every link of the primary pipeline, by label. */
function linksByLabel(document: JsonObject): string[][] {
  const graph = flattenPipeline(document);
  const label = (id: string): string => graph.nodes.find(node => node.id === id)?.label ?? id;
  return graph.edges.map(edge => [label(edge.source), label(edge.target)]);
}

describe('newId', () => {
  it('makes distinct version-4 UUIDs', () => {
    const ids = new Set(Array.from({ length: 200 }, newId));
    expect(ids.size).toBe(200);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
  });
});

describe('newPipelineDocument', () => {
  it('is an empty version-8 generic pipeline with a default runtime image', () => {
    const document = newPipelineDocument({ name: 'untitled', runtimeImage: 'python:3.12' });
    expect(document).toMatchObject({
      doc_type: 'pipeline',
      version: '3.0',
      json_schema: 'http://api.dataplatform.ibm.com/schemas/common-pipeline/pipeline-flow/pipeline-flow-v3-schema.json',
      schemas: []
    });
    const pipeline = pipelineOf(document);
    expect(pipeline.id).toBe(document.primary_pipeline);
    expect(pipeline).toEqual({
      id: document.primary_pipeline,
      nodes: [],
      app_data: {
        ui_data: { comments: [] },
        version: CURRENT_VERSION,
        properties: { name: 'untitled', runtime: 'Generic', pipeline_defaults: { runtime_image: 'python:3.12' } }
      },
      runtime_ref: ''
    });
    expect(pipeline.app_data).not.toHaveProperty('runtime_type');
    expect(document.id).not.toBe(pipeline.id);
  });

  it('gets a runtime image even when none is given', () => {
    const pipeline = pipelineOf(newPipelineDocument({ name: 'x' }));
    expect(pipeline.app_data.properties.pipeline_defaults.runtime_image).toEqual(expect.any(String));
    expect(pipeline.app_data.properties.pipeline_defaults.runtime_image).not.toBe('');
  });
});

describe('pipelineOf', () => {
  it('finds the primary pipeline or one by id, and refuses a missing one', () => {
    const document = supernodeFixture();
    expect(pipelineOf(document).id).toBe('main');
    expect(pipelineOf(document, 'inner').id).toBe('inner');
    expect(() => pipelineOf(document, 'nope')).toThrow("This pipeline document has no pipeline 'nope'.");
    expect(() => pipelineOf({ pipelines: [] })).toThrow('no primary pipeline');
  });
});

describe('nodePositions', () => {
  it('reads ui_data positions, null when absent', () => {
    const document = supernodeFixture();
    delete nodeById(document, 'report').app_data.ui_data.x_pos;
    const positions = nodePositions(document);
    expect([...positions.entries()]).toEqual([
      ['load', { x: 40, y: 60 }],
      ['group', { x: 300, y: 60 }],
      ['report', null]
    ]);
    expect(nodePositions(document, 'inner').get('train')).toEqual({ x: 150, y: 0 });
  });
});

describe('addNodes', () => {
  it('writes generic nodes as Elyra does, without a runtime image of their own', () => {
    const empty = newPipelineDocument({ name: 'p' });
    expectPure(empty, d =>
      addNodes(d, undefined, [{ op: 'execute-python-node', filename: 'x.py', position: { x: 0, y: 0 } }])
    );
    const { document, ids } = addNodes(empty, undefined, [
      { op: 'execute-notebook-node', filename: 'sub/dir/analysis.ipynb', position: { x: 10, y: 20 } },
      {
        op: 'execute-r-node',
        label: 'Stats',
        filename: 'stats.r',
        position: { x: 30, y: 40 },
        componentParameters: { outputs: ['out.csv'], cpu: 2 }
      }
    ]);
    expect(ids).toHaveLength(2);
    const [notebook, script] = pipelineOf(document).nodes;
    expect(notebook).toEqual({
      id: ids[0],
      type: 'execution_node',
      op: 'execute-notebook-node',
      app_data: {
        label: 'analysis.ipynb',
        component_parameters: {
          filename: 'sub/dir/analysis.ipynb',
          dependencies: [],
          include_subdirectories: false,
          outputs: [],
          env_vars: []
        },
        ui_data: {
          label: 'analysis.ipynb',
          image: '/static/elyra/notebook.svg',
          x_pos: 10,
          y_pos: 20,
          description: 'Run notebook file'
        }
      },
      inputs: [{ id: 'inPort', app_data: { ui_data: { cardinality: { min: 0, max: -1 }, label: 'Input Port' } } }],
      outputs: [{ id: 'outPort', app_data: { ui_data: { cardinality: { min: 0, max: -1 }, label: 'Output Port' } } }]
    });
    expect(script.id).toBe(ids[1]);
    expect(script.app_data.label).toBe('Stats');
    expect(script.app_data.ui_data).toMatchObject({ label: 'Stats', description: 'Run R script', x_pos: 30 });
    expect(script.app_data.component_parameters).toMatchObject({ filename: 'stats.r', outputs: ['out.csv'], cpu: 2 });
    // The server reads them with the pipeline default's image.
    const graph = flattenPipeline(document);
    const defaultImage = pipelineOf(document).app_data.properties.pipeline_defaults.runtime_image;
    expect(graph.nodes.map(node => node.runtimeImage)).toEqual([defaultImage, defaultImage]);
    expect(graph.nodes.map(node => node.kind)).toEqual(['notebook', 'r']);
  });

  it('adds into a subflow pipeline when asked', () => {
    const { document, ids } = addNodes(supernodeFixture(), 'inner', [
      { op: 'execute-python-node', filename: 'x.py', position: { x: 0, y: 0 } }
    ]);
    const innerIds = pipelineOf(document, 'inner').nodes.map((n: JsonObject) => n.id);
    expect(innerIds).toEqual(['entry', 'train', 'exit', ids[0]]);
    expect(pipelineOf(document).nodes).toHaveLength(3);
  });
});

describe('links', () => {
  it('adds a link to the target inPort, naming the source outPort', () => {
    const { document, ids } = pipelineWith('a', 'b');
    expectPure(document, d => addLink(d, undefined, ids[0], ids[1]));
    const linked = addLink(document, undefined, ids[0], ids[1]);
    const [link] = nodeById(linked, ids[1]).inputs[0].links;
    expect(link).toEqual({ id: expect.any(String), node_id_ref: ids[0], port_id_ref: 'outPort' });
    expect(linksByLabel(linked)).toEqual([['a.ipynb', 'b.ipynb']]);
  });

  it('creates the inPort when the target has none', () => {
    const { document, ids } = pipelineWith('a', 'b');
    delete nodeById(document, ids[1]).inputs;
    const linked = addLink(document, undefined, ids[0], ids[1]);
    expect(nodeById(linked, ids[1]).inputs).toEqual([
      {
        id: 'inPort',
        app_data: { ui_data: { cardinality: { min: 0, max: -1 }, label: 'Input Port' } },
        links: [expect.objectContaining({ node_id_ref: ids[0] })]
      }
    ]);
  });

  it('links into and out of a supernode through its binding ports', () => {
    let document = removeLink(supernodeFixture(), undefined, 'load', 'group');
    document = addLink(document, undefined, 'load', 'group');
    const ports = nodeById(document, 'group').inputs;
    expect(ports).toHaveLength(1);
    expect(ports[0].links).toEqual([{ id: expect.any(String), node_id_ref: 'load', port_id_ref: 'outPort' }]);
    const { document: withNode, ids } = addNodes(document, undefined, [
      { op: 'execute-python-node', filename: 'after.py', position: { x: 0, y: 0 } }
    ]);
    const linked = addLink(withNode, undefined, 'group', ids[0]);
    expect(nodeById(linked, ids[0]).inputs[0].links[0].port_id_ref).toBe('train_outPort');
    expect(linksByLabel(linked)).toContainEqual(['train', 'after.py']);
  });

  it('refuses a link of a node to itself', () => {
    const { document, ids } = pipelineWith('a');
    expect(linkRefusal(document, undefined, ids[0], ids[0])).toBe("'a.ipynb' cannot be linked to itself.");
    expect(() => addLink(document, undefined, ids[0], ids[0])).toThrow("'a.ipynb' cannot be linked to itself.");
  });

  it('refuses a link that exists', () => {
    const { document, ids } = pipelineWith('a', 'b');
    const linked = addLink(document, undefined, ids[0], ids[1]);
    expect(linkRefusal(linked, undefined, ids[0], ids[1])).toBe("'a.ipynb' is already linked to 'b.ipynb'.");
    expect(() => addLink(linked, undefined, ids[0], ids[1])).toThrow('already linked');
  });

  it('refuses a link naming a missing node', () => {
    const { document, ids } = pipelineWith('a');
    expect(linkRefusal(document, undefined, ids[0], 'ghost')).toBe("Node 'ghost' does not exist in this pipeline.");
    expect(linkRefusal(document, undefined, 'ghost', ids[0])).toBe("Node 'ghost' does not exist in this pipeline.");
    // A node of another pipeline of the document is not in this one.
    expect(linkRefusal(supernodeFixture(), undefined, 'load', 'train')).toBe(
      "Node 'train' does not exist in this pipeline."
    );
  });

  it('refuses a link closing a cycle several nodes long, and allows the same link without the cycle', () => {
    const { document, ids } = pipelineWith('a', 'b', 'c', 'd', 'e');
    let chain = document;
    for (let i = 0; i + 1 < ids.length; i++) {
      chain = addLink(chain, undefined, ids[i], ids[i + 1]);
    }
    const message = linkRefusal(chain, undefined, ids[4], ids[0]);
    expect(message).toBe("Linking 'e.ipynb' to 'a.ipynb' would close a cycle: 'e.ipynb' already runs after 'a.ipynb'.");
    expect(() => addLink(chain, undefined, ids[4], ids[0])).toThrow(message as string);
    expect(linkRefusal(chain, undefined, ids[3], ids[1])).toMatch(/would close a cycle/);
    // Forward shortcuts are fine, and so is the closing link once the chain is broken.
    expect(linkRefusal(chain, undefined, ids[0], ids[4])).toBeNull();
    const broken = removeLink(chain, undefined, ids[2], ids[3]);
    expect(linkRefusal(broken, undefined, ids[4], ids[0])).toBeNull();
  });

  it('follows links through supernodes when looking for cycles', () => {
    expect(linkRefusal(supernodeFixture(), undefined, 'report', 'load')).toMatch(/would close a cycle/);
    expect(linkRefusal(supernodeFixture(), 'inner', 'exit', 'entry')).toMatch(/would close a cycle/);
  });

  it('removes a link, leaving out an empty links list as Elyra does', () => {
    const { document, ids } = pipelineWith('a', 'b', 'c');
    let linked = addLink(document, undefined, ids[0], ids[2]);
    linked = addLink(linked, undefined, ids[1], ids[2]);
    expectPure(linked, d => removeLink(d, undefined, ids[0], ids[2]));
    const once = removeLink(linked, undefined, ids[0], ids[2]);
    expect(sourcesOf(nodeById(once, ids[2]))).toEqual([ids[1]]);
    const twice = removeLink(once, undefined, ids[1], ids[2]);
    expect(nodeById(twice, ids[2]).inputs[0]).not.toHaveProperty('links');
    expect(removeLink(twice, undefined, ids[1], ids[2])).toEqual(twice);
  });
});

describe('removeNodes', () => {
  it('removes the nodes, the links to them and comment associations', () => {
    const document = supernodeFixture();
    expectPure(document, d => removeNodes(d, undefined, ['load']));
    const removed = removeNodes(document, undefined, ['load']);
    expect(pipelineOf(removed).nodes.map((n: JsonObject) => n.id)).toEqual(['group', 'report']);
    expect(nodeById(removed, 'group').inputs[0]).not.toHaveProperty('links');
    expect(nodeById(removed, 'group').inputs[0].subflow_node_ref).toBe('entry');
    expect(commentsOf(removed)).toEqual([expect.objectContaining({ id: 'note', associated_id_refs: [] })]);
    expect(flattenPipeline(removed).problems).toEqual([]);
  });

  it('removes links from a node in the middle of a chain, leaving no dangling reference', () => {
    const { document, ids } = pipelineWith('a', 'b', 'c');
    let chain = addLink(document, undefined, ids[0], ids[1]);
    chain = addLink(chain, undefined, ids[1], ids[2]);
    const removed = removeNodes(chain, undefined, [ids[1]]);
    expect(sourcesOf(nodeById(removed, ids[2]))).toEqual([]);
    expect(JSON.stringify(removed)).not.toContain(ids[1]);
  });

  it('removes comments named by id', () => {
    const removed = removeNodes(supernodeFixture(), undefined, ['note']);
    expect(commentsOf(removed)).toEqual([]);
    expect(pipelineOf(removed).nodes).toHaveLength(3);
  });

  it('removes a supernode with its subflow pipeline', () => {
    const removed = removeNodes(supernodeFixture(), undefined, ['group']);
    expect(removed.pipelines.map((p: JsonObject) => p.id)).toEqual(['main']);
    expect(nodeById(removed, 'report').inputs[0]).not.toHaveProperty('links');
    expect(flattenPipeline(removed).problems).toEqual([]);
  });

  it('keeps a subflow pipeline another supernode still uses', () => {
    const document = supernodeFixture();
    const twin = JSON.parse(JSON.stringify(nodeById(document, 'group')));
    twin.id = 'twin';
    document.pipelines[0].nodes.push(twin);
    const removed = removeNodes(document, undefined, ['group']);
    expect(removed.pipelines.map((p: JsonObject) => p.id)).toEqual(['main', 'inner']);
  });
});

describe('moveNodes', () => {
  it('moves nodes and comments, ignoring unknown ids', () => {
    const document = supernodeFixture();
    expectPure(document, d => moveNodes(d, undefined, { load: { x: 1, y: 2 } }));
    const moved = moveNodes(document, undefined, {
      load: { x: 1, y: 2 },
      note: { x: 5, y: 6 },
      ghost: { x: 9, y: 9 }
    });
    expect(nodePositions(moved).get('load')).toEqual({ x: 1, y: 2 });
    expect(nodePositions(moved).get('group')).toEqual({ x: 300, y: 60 });
    expect(commentsOf(moved)[0]).toMatchObject({ x_pos: 5, y_pos: 6, width: 175 });
  });

  it('gives a position to a node that had no ui_data', () => {
    const document = supernodeFixture();
    delete nodeById(document, 'report').app_data.ui_data;
    const moved = moveNodes(document, undefined, { report: { x: 7, y: 8 } });
    expect(nodeById(moved, 'report').app_data.ui_data).toEqual({ x_pos: 7, y_pos: 8 });
  });

  it('keeps every other field and the structure of a document with a supernode and comments', () => {
    const document = supernodeFixture();
    const moved = moveNodes(document, undefined, { load: { x: 111, y: 222 }, note: { x: 3, y: 4 } });
    const expected = supernodeFixture();
    Object.assign(nodeById(expected, 'load').app_data.ui_data, { x_pos: 111, y_pos: 222 });
    Object.assign(expected.pipelines[0].app_data.ui_data.comments[0], { x_pos: 3, y_pos: 4 });
    expect(moved).toEqual(expected);
    // Key order too: the saved text differs from the original in the two positions only.
    expect(JSON.stringify(moved)).toBe(JSON.stringify(expected));
    // Moving back gives the original document.
    expect(moveNodes(moved, undefined, { load: { x: 40, y: 60 }, note: { x: 30, y: 10 } })).toEqual(supernodeFixture());
  });

  it('moves nodes inside a subflow', () => {
    const moved = moveNodes(supernodeFixture(), 'inner', { train: { x: 9, y: 9 }, load: { x: 0, y: 0 } });
    expect(nodePositions(moved, 'inner').get('train')).toEqual({ x: 9, y: 9 });
    expect(nodePositions(moved).get('load')).toEqual({ x: 40, y: 60 });
  });
});

describe('autoLayout', () => {
  it('places every node left to right in link order, comments following their node', () => {
    const document = supernodeFixture();
    expectPure(document, d => autoLayout(d));
    const laidOut = autoLayout(document);
    const positions = nodePositions(laidOut);
    const load = positions.get('load') as { x: number; y: number };
    const group = positions.get('group') as { x: number; y: number };
    const report = positions.get('report') as { x: number; y: number };
    expect(load.x).toBeLessThan(group.x);
    expect(group.x).toBeLessThan(report.x);
    const comment = commentsOf(laidOut)[0];
    expect(comment.x_pos - load.x).toBe(30 - 40);
    expect(comment.y_pos - load.y).toBe(10 - 60);
    // Only positions change.
    const placedBack = moveNodes(laidOut, undefined, {
      load: { x: 40, y: 60 },
      group: { x: 300, y: 60 },
      report: { x: 600, y: 60 },
      note: { x: 30, y: 10 }
    });
    expect(placedBack).toEqual(supernodeFixture());
  });

  it('lays out a subflow and nodes that had no position', () => {
    const document = supernodeFixture();
    for (const node of document.pipelines[1].nodes) {
      delete node.app_data.ui_data.x_pos;
    }
    const laidOut = autoLayout(document, 'inner');
    expect(nodePositions(laidOut).get('load')).toEqual({ x: 40, y: 60 });
    const inner = nodePositions(laidOut, 'inner');
    const [entry, train, exit] = ['entry', 'train', 'exit'].map(id => inner.get(id) as { x: number; y: number });
    expect(entry.x).toBeLessThan(train.x);
    expect(train.x).toBeLessThan(exit.x);
  });
});

describe('setNodeAppData', () => {
  it('sets the label in both places and replaces the parameters', () => {
    const document = supernodeFixture();
    const parameters = { filename: 'steps/load.ipynb', runtime_image: 'python:3.12' };
    expectPure(document, d => setNodeAppData(d, undefined, 'load', { label: 'Load' }));
    const edited = setNodeAppData(document, undefined, 'load', { label: 'Load', component_parameters: parameters });
    const appData = nodeById(edited, 'load').app_data;
    expect(appData.label).toBe('Load');
    expect(appData.ui_data.label).toBe('Load');
    expect(appData.ui_data.decorations).toEqual([{ id: 'badge', position: 'topRight' }]);
    expect(appData.vendor_extension).toEqual({ kept: true });
    expect(appData.component_parameters).toEqual(parameters);
    expect(appData.component_parameters).not.toBe(parameters);
    const labelOnly = setNodeAppData(document, undefined, 'load', { label: 'L' });
    expect(nodeById(labelOnly, 'load').app_data.component_parameters).toEqual(
      nodeById(document, 'load').app_data.component_parameters
    );
  });

  it('refuses a missing node', () => {
    expect(() => setNodeAppData(supernodeFixture(), undefined, 'ghost', { label: 'x' })).toThrow(
      "Node 'ghost' does not exist in this pipeline."
    );
  });
});

describe('setPipelineProperties', () => {
  it('replaces the primary pipeline properties only', () => {
    const document = supernodeFixture();
    const properties = { name: 'renamed', runtime: 'Generic', pipeline_defaults: { runtime_image: 'r-base' } };
    expectPure(document, d => setPipelineProperties(d, properties));
    const edited = setPipelineProperties(document, properties);
    expect(pipelineOf(edited).app_data.properties).toEqual(properties);
    expect(pipelineOf(edited).app_data.ui_data).toEqual(pipelineOf(document).app_data.ui_data);
    expect(pipelineOf(edited, 'inner')).toEqual(pipelineOf(document, 'inner'));
  });
});

describe('singleFilePipeline', () => {
  it('runs one file as a pipeline beside it, with the default image', () => {
    const document = singleFilePipeline('work/Clean Data.ipynb');
    const pipeline = document.pipelines[0];
    expect(pipeline.app_data.properties.name).toBe('Clean Data');
    expect(pipeline.app_data.properties.pipeline_defaults.runtime_image).toBeTruthy();
    expect(pipeline.nodes).toHaveLength(1);
    expect(pipeline.nodes[0].op).toBe('execute-notebook-node');
    expect(pipeline.nodes[0].app_data.component_parameters.filename).toBe('Clean Data.ipynb');
    expect(() => singleFilePipeline('notes.txt')).toThrow(/notebooks, Python and R scripts/);
  });
});
