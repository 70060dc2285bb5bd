import { flattenPipeline, type JsonObject } from '../../pipeline';
import { copyNodes, parseClipboard, pasteNodes } from '../clipboard';
import { addLink, addNodes, newPipelineDocument, pipelineOf } from '../document';
import { nodeById, pipelineWith, sourcesOf, supernodeFixture } from './helpers';

/** a -> b -> c and x -> b, in `folder/source.pipeline`, with files in that folder and a subfolder. */
function sourceDocument(): { document: JsonObject; ids: Record<string, string> } {
  const { document, ids } = addNodes(newPipelineDocument({ name: 'source' }), undefined, [
    { op: 'execute-notebook-node', filename: 'a.ipynb', position: { x: 0, y: 0 } },
    { op: 'execute-python-node', filename: 'lib/b.py', position: { x: 100, y: 50 } },
    { op: 'execute-r-node', filename: '../shared/c.r', position: { x: 200, y: 0 } },
    { op: 'execute-notebook-node', filename: 'x.ipynb', position: { x: 0, y: 100 } }
  ]);
  const [a, b, c, x] = ids;
  let linked = addLink(document, undefined, a, b);
  linked = addLink(linked, undefined, b, c);
  linked = addLink(linked, undefined, x, b);
  return { document: linked, ids: { a, b, c, x } };
}

describe('copyNodes', () => {
  it('copies the selection deeply, dropping links to nodes outside it', () => {
    const { document, ids } = sourceDocument();
    const before = JSON.stringify(document);
    const payload = copyNodes(document, undefined, [ids.b, ids.c], 'folder/source.pipeline');
    expect(JSON.stringify(document)).toBe(before);
    expect(payload.format).toBe('elyra-proc-nodes/1');
    expect(payload.sourcePath).toBe('folder/source.pipeline');
    expect(payload.nodes.map(node => node.id)).toEqual([ids.b, ids.c]);
    const [b, c] = payload.nodes;
    expect(sourcesOf(b)).toEqual([]);
    expect(b.inputs[0]).not.toHaveProperty('links');
    expect(sourcesOf(c)).toEqual([ids.b]);
    // A deep copy: changing it leaves the document alone.
    c.app_data.label = 'changed';
    expect(JSON.stringify(document)).toBe(before);
  });

  it('leaves supernodes out (their subflows are not carried)', () => {
    const payload = copyNodes(supernodeFixture(), undefined, ['load', 'group', 'report'], 'p.pipeline');
    expect(payload.nodes.map(node => node.id)).toEqual(['load', 'report']);
    expect(sourcesOf(payload.nodes[1])).toEqual([]);
  });
});

describe('pasteNodes', () => {
  it('pastes into a pipeline in another folder with fresh ids, internal links remapped and filenames rebased', () => {
    const { document: source, ids } = sourceDocument();
    const payload = copyNodes(source, undefined, [ids.a, ids.b, ids.c], 'folder/source.pipeline');
    const { document: target, ids: targetIds } = pipelineWith('existing');
    const before = JSON.stringify(target);

    const { document: pasted, ids: pastedIds } = pasteNodes(target, undefined, payload, 'other/deep/target.pipeline', {
      x: 20,
      y: 30
    });
    expect(JSON.stringify(target)).toBe(before);
    expect(pastedIds).toHaveLength(3);
    const allIds = [...targetIds, ...pastedIds];
    expect(pipelineOf(pasted).nodes.map((node: JsonObject) => node.id)).toEqual(allIds);
    for (const id of Object.values(ids)) {
      expect(pastedIds).not.toContain(id);
      expect(JSON.stringify(pasted)).not.toContain(id);
    }

    const [a, b, c] = pastedIds.map(id => nodeById(pasted, id));
    expect(a.app_data.component_parameters.filename).toBe('../../folder/a.ipynb');
    expect(b.app_data.component_parameters.filename).toBe('../../folder/lib/b.py');
    expect(c.app_data.component_parameters.filename).toBe('../../shared/c.r');
    expect(sourcesOf(a)).toEqual([]);
    expect(sourcesOf(b)).toEqual([pastedIds[0]]); // the link from x (not copied) is gone
    expect(sourcesOf(c)).toEqual([pastedIds[1]]);
    const linkIds = [b, c].map(node => node.inputs[0].links[0].id);
    const originalLinkIds = payload.nodes.flatMap(node => (node.inputs[0].links ?? []).map((l: JsonObject) => l.id));
    expect(linkIds.some(id => originalLinkIds.includes(id))).toBe(false);
    expect(new Set(linkIds).size).toBe(2);
    expect(b.app_data.ui_data).toMatchObject({ x_pos: 120, y_pos: 80, label: 'b.py' });

    const graph = flattenPipeline(pasted);
    expect(graph.problems).toEqual([]);
    expect(graph.edges).toEqual([
      { source: pastedIds[0], target: pastedIds[1] },
      { source: pastedIds[1], target: pastedIds[2] }
    ]);
  });

  it('keeps filenames when pasting into the same folder, and pasting twice makes distinct nodes', () => {
    const { document: source, ids } = sourceDocument();
    const payload = copyNodes(source, undefined, [ids.b], 'folder/source.pipeline');
    const once = pasteNodes(source, undefined, payload, 'folder/source.pipeline', { x: 0, y: 0 });
    const twice = pasteNodes(once.document, undefined, payload, 'folder/other.pipeline', { x: 0, y: 0 });
    expect(nodeById(twice.document, once.ids[0]).app_data.component_parameters.filename).toBe('lib/b.py');
    expect(nodeById(twice.document, twice.ids[0]).app_data.component_parameters.filename).toBe('lib/b.py');
    expect(once.ids[0]).not.toBe(twice.ids[0]);
    expect(pipelineOf(twice.document).nodes).toHaveLength(6);
  });

  it('survives the text round trip through the clipboard', () => {
    const { document: source, ids } = sourceDocument();
    const payload = copyNodes(source, undefined, [ids.a, ids.b], 'source.pipeline');
    const parsed = parseClipboard(JSON.stringify(payload));
    expect(parsed).toEqual(payload);
    const { document, ids: pasted } = pasteNodes(supernodeFixture(), 'inner', parsed!, 'sub/p.pipeline', {
      x: 0,
      y: 0
    });
    expect(nodeById(document, pasted[1], 1).app_data.component_parameters.filename).toBe('../lib/b.py');
    expect(pipelineOf(document).nodes).toHaveLength(3);
  });
});

describe('parseClipboard', () => {
  it('is null for anything but our payload', () => {
    for (const text of [
      '',
      'plain text',
      '[]',
      'null',
      JSON.stringify({ format: 'other', nodes: [], sourcePath: 'p' }),
      JSON.stringify({ format: 'elyra-proc-nodes/1', nodes: [{ id: 'a' }] }),
      JSON.stringify({ format: 'elyra-proc-nodes/1', nodes: [{ noId: true }], sourcePath: 'p' }),
      JSON.stringify({ format: 'elyra-proc-nodes/1', nodes: 'x', sourcePath: 'p' })
    ]) {
      expect(parseClipboard(text)).toBeNull();
    }
    expect(parseClipboard(JSON.stringify({ format: 'elyra-proc-nodes/1', nodes: [], sourcePath: 'p' }))).toEqual({
      format: 'elyra-proc-nodes/1',
      nodes: [],
      sourcePath: 'p'
    });
  });
});
