import { readFileSync } from 'fs';
import { join } from 'path';

import type { JsonObject } from '../../pipeline';
import { addNodes, newPipelineDocument } from '../document';

/** Our hand-written Elyra document: a notebook, a supernode around a notebook, a script, a comment. */
export function supernodeFixture(): JsonObject {
  return JSON.parse(readFileSync(join(__dirname, 'fixtures', 'supernode-comments.pipeline'), 'utf-8'));
}

/** A new pipeline with notebooks named after `labels`, not linked; their ids in the same order. */
export function pipelineWith(...labels: string[]): { document: JsonObject; ids: string[] } {
  return addNodes(
    newPipelineDocument({ name: 'test' }),
    undefined,
    labels.map((label, index) => ({
      op: 'execute-notebook-node',
      filename: `${label}.ipynb`,
      position: { x: index * 100, y: 0 }
    }))
  );
}

/** The node of the document's primary pipeline with that id. */
export function nodeById(document: JsonObject, id: string, pipelineIndex = 0): JsonObject {
  const node = document.pipelines[pipelineIndex].nodes.find((n: JsonObject) => n.id === id);
  if (!node) {
    throw new Error(`no node ${id}`);
  }
  return node;
}

/** The source ids of a node's links, in every input port. */
export function sourcesOf(node: JsonObject): string[] {
  return (node.inputs ?? []).flatMap((port: JsonObject) => (port.links ?? []).map((l: JsonObject) => l.node_id_ref));
}
