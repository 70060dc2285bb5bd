/**
 * The rjsf widget for `"ui:widget": "file"` (a node's file): a text field with a Browse button that opens
 * JupyterLab's file dialog.
 */
import type { WidgetProps } from '@rjsf/utils';
import * as React from 'react';

/** `pick` asks the user for a file of these extensions and answers its path as the field should hold it. */
export function fileWidget(
  pick: (extensions: string[]) => Promise<string | null>
): (props: WidgetProps) => JSX.Element {
  return function FileWidget(props: WidgetProps): JSX.Element {
    const extensions = (props.options?.extensions ?? props.schema.uihints?.extensions ?? []) as string[];
    return (
      <div className="elyra-proc-file-widget">
        <input
          id={props.id}
          className="form-control"
          type="text"
          value={props.value ?? ''}
          placeholder={props.placeholder}
          disabled={props.disabled || props.readonly}
          onChange={event => props.onChange(event.target.value)}
          aria-label={props.label}
        />
        <button
          type="button"
          className="jp-Button jp-mod-styled jp-mod-reject elyra-proc-small-button"
          aria-label={`Browse for the ${props.label}`}
          onClick={async () => {
            const path = await pick(extensions);
            if (path !== null) {
              props.onChange(path);
            }
          }}
        >
          Browse…
        </button>
      </div>
    );
  };
}
