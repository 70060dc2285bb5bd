/**
 * The palette: the node types the server offers (notebook, Python and R script). Drag one onto the canvas, or
 * press it to pick a file and add a node for it.
 */
import * as React from 'react';

import { IPaletteNodeType } from '../api';

/** The drag data of a palette entry (HTML drag and drop within the editor). */
export const PALETTE_MIME = 'application/x-elyra-proc-op';

export interface IPaletteProps {
  nodeTypes: IPaletteNodeType[];
  onAdd: (nodeType: IPaletteNodeType) => void;
}

export function Palette(props: IPaletteProps): JSX.Element {
  return (
    <nav className="elyra-proc-palette" aria-label="Node palette" data-testid="elyra-proc-palette">
      {props.nodeTypes.map(nodeType => (
        <button
          key={nodeType.op}
          type="button"
          draggable
          className="elyra-proc-palette-entry"
          data-testid={`elyra-proc-palette-${nodeType.op}`}
          aria-label={`Add a ${nodeType.label} node`}
          title={`${nodeType.description}. Drag onto the canvas, or press to choose a file.`}
          onDragStart={event => {
            event.dataTransfer.setData(PALETTE_MIME, nodeType.op);
            event.dataTransfer.effectAllowed = 'copy';
          }}
          onClick={() => props.onAdd(nodeType)}
        >
          {nodeType.label}
        </button>
      ))}
    </nav>
  );
}
