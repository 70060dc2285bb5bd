/**
 * Copy and paste of nodes, also between pipeline files in different folders: the payload carries the source
 * pipeline's path so that pasted nodes' filenames still name the same files.
 */
import { isObject, type JsonObject } from '../pipeline';
import { cloneJson, newId, pipelineOf, rewriteLinks, type IPosition } from './document';
import { relativeTo, resolveFrom } from './paths';

const FORMAT = 'elyra-proc-nodes/1';

export interface IClipboardPayload {
  format: 'elyra-proc-nodes/1';
  /** Copies of the execution nodes, linked only among themselves. */
  nodes: JsonObject[];
  /** The source pipeline file's path, relative to the server root. */
  sourcePath: string;
}

/**
 * Copies of the selected execution nodes; links to nodes outside the selection are dropped. Supernodes and
 * bindings are left out: their subflow pipelines are not carried.
 */
export function copyNodes(
  document: JsonObject,
  pipelineId: string | undefined,
  ids: string[],
  sourcePath: string
): IClipboardPayload {
  const selected = new Set(ids);
  const nodes: JsonObject[] = cloneJson(
    (pipelineOf(document, pipelineId).nodes as unknown[]).filter(
      (node): node is JsonObject => isObject(node) && selected.has(node.id) && node.type === 'execution_node'
    )
  );
  const kept = new Set(nodes.map(node => node.id));
  for (const node of nodes) {
    rewriteLinks(node, link => (kept.has(link.node_id_ref) ? link : null));
  }
  return { format: FORMAT, nodes, sourcePath };
}

/** Where a copied node's file is, seen from the pipeline it is pasted into. */
function rebaseFilename(node: JsonObject, sourcePath: string, targetPath: string): void {
  const parameters = isObject(node.app_data) ? node.app_data.component_parameters : undefined;
  if (isObject(parameters) && typeof parameters.filename === 'string' && parameters.filename) {
    parameters.filename = relativeTo(targetPath, resolveFrom(sourcePath, parameters.filename));
  }
}

/**
 * Paste the payload's nodes into a pipeline: fresh node and link ids, links among the pasted nodes kept,
 * positions moved by `offset`, filenames rewritten relative to the target pipeline file.
 */
export function pasteNodes(
  document: JsonObject,
  pipelineId: string | undefined,
  payload: IClipboardPayload,
  targetPath: string,
  offset: IPosition
): { document: JsonObject; ids: string[] } {
  const copy = cloneJson(document);
  const pipeline = pipelineOf(copy, pipelineId);
  const nodes: JsonObject[] = cloneJson(payload.nodes);
  const idMap = new Map(nodes.map(node => [node.id as string, newId()]));
  for (const node of nodes) {
    node.id = idMap.get(node.id);
    rewriteLinks(node, link => {
      const source = idMap.get(link.node_id_ref);
      return source ? { ...link, id: newId(), node_id_ref: source } : null;
    });
    rebaseFilename(node, payload.sourcePath, targetPath);
    const uiData = isObject(node.app_data) && isObject(node.app_data.ui_data) ? node.app_data.ui_data : null;
    if (uiData && typeof uiData.x_pos === 'number' && typeof uiData.y_pos === 'number') {
      uiData.x_pos += offset.x;
      uiData.y_pos += offset.y;
    }
  }
  if (!Array.isArray(pipeline.nodes)) {
    pipeline.nodes = [];
  }
  pipeline.nodes.push(...nodes);
  return { document: copy, ids: nodes.map(node => node.id) };
}

/** The payload in a clipboard text, or null when the text is something else. */
export function parseClipboard(text: string): IClipboardPayload | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (
    !isObject(value) ||
    value.format !== FORMAT ||
    typeof value.sourcePath !== 'string' ||
    !Array.isArray(value.nodes) ||
    !value.nodes.every((node: unknown) => isObject(node) && typeof node.id === 'string')
  ) {
    return null;
  }
  return { format: FORMAT, nodes: value.nodes, sourcePath: value.sourcePath };
}
