/**
 * The editor's properties panel: the selected node's properties and the pipeline's (name, description, node
 * defaults, parameters), each a JupyterLab `FormComponent` (rjsf) built from the schema the server serves, so a
 * property is declared once, on the server. Empty node properties that the pipeline defaults fill are shown as
 * inherited. Edits apply to the document at once: nothing is lost by clicking elsewhere.
 */
import { FormComponent } from '@jupyterlab/ui-components';
import type { ReadonlyJSONObject } from '@lumino/coreutils';
import type { RegistryWidgetsType } from '@rjsf/utils';
import * as React from 'react';

import { IFormSchema, IIssue } from '../api';
import { nameControls, validator } from '../forms';
import { isObject, JsonObject } from '../pipeline';
import { nodeFormFor, withoutUnsetDefaults } from './forms';

export type PropertiesTab = 'node' | 'pipeline';

export interface ISelectedNode {
  id: string;
  kind: string;
  op: string;
  label: string;
  appData: JsonObject;
}

export interface IPropertiesPanelProps {
  /** Makes form element ids unique per editor. */
  idPrefix: string;
  tab: PropertiesTab;
  onTab: (tab: PropertiesTab) => void;
  node: ISelectedNode | null;
  /** The node type's form; null while loading or for node types without one. */
  nodeForm: IFormSchema | null;
  pipelineForm: IFormSchema | null;
  pipelineProperties: JsonObject;
  parameterNames: string[];
  nodeIssues: IIssue[];
  /** Run status, timings and artifacts of the selected node. */
  runDetails: React.ReactNode;
  widgets: RegistryWidgetsType<ReadonlyJSONObject>;
  onNodeChange: (values: { label: string; component_parameters: JsonObject }) => void;
  onPipelineChange: (properties: JsonObject) => void;
  onEnterSupernode: (nodeId: string) => void;
}

interface IUserFormProps {
  idPrefix: string;
  schema: JsonObject;
  uiSchema: JsonObject;
  formData: JsonObject;
  widgets: RegistryWidgetsType<ReadonlyJSONObject>;
  onUserChange: (data: JsonObject) => void;
}

/**
 * A `FormComponent` reporting only the changes the user makes: rjsf also reports the schema defaults it fills in
 * as a form appears, which would mark a pipeline changed just because a node was selected.
 */
function UserForm(props: IUserFormProps): JSX.Element {
  const touched = React.useRef(false);
  const touch = (): void => {
    touched.current = true;
  };
  // New data from outside (undo, redo, a text editor) is not the user's: until they touch the form again, the
  // defaults rjsf fills into it are not edits either.
  const given = React.useRef(props.formData);
  const sent = React.useRef('');
  if (given.current !== props.formData) {
    given.current = props.formData;
    if (JSON.stringify(props.formData) !== sent.current) {
      touched.current = false;
    }
  }
  return (
    <div onPointerDownCapture={touch} onKeyDownCapture={touch} onInputCapture={touch}>
      <FormComponent
        idPrefix={props.idPrefix}
        schema={props.schema}
        uiSchema={props.uiSchema}
        formData={props.formData as ReadonlyJSONObject}
        validator={validator}
        widgets={props.widgets}
        onChange={event => {
          if (touched.current) {
            sent.current = JSON.stringify(event.formData ?? {});
            props.onUserChange((event.formData ?? {}) as JsonObject);
          }
        }}
        compact
        showModifiedFromDefault={false}
      />
    </div>
  );
}

function NodeProperties(props: IPropertiesPanelProps): JSX.Element {
  const { node, nodeForm } = props;
  if (!node) {
    return (
      <p className="elyra-proc-muted elyra-proc-properties-empty">
        Select a node to see and edit its properties (click it, or Tab to it and press Enter).
      </p>
    );
  }
  const parameters: JsonObject = isObject(node.appData.component_parameters) ? node.appData.component_parameters : {};
  const defaults: JsonObject = isObject(props.pipelineProperties.pipeline_defaults)
    ? props.pipelineProperties.pipeline_defaults
    : {};
  let form: JSX.Element;
  if (node.kind === 'supernode') {
    form = (
      <button
        type="button"
        className="jp-Button jp-mod-styled jp-mod-accept"
        onClick={() => props.onEnterSupernode(node.id)}
      >
        Expand supernode
      </button>
    );
  } else if (!nodeForm) {
    form = (
      <p className="elyra-proc-muted">
        {node.kind === 'execution' ? 'Loading the properties of this node type…' : 'This node has no properties.'}
      </p>
    );
  } else {
    const { schema, uiSchema } = nodeFormFor(nodeForm, parameters, defaults, props.parameterNames);
    form = (
      <UserForm
        key={node.id}
        idPrefix={`${props.idPrefix}-node`}
        schema={schema}
        uiSchema={uiSchema}
        formData={{ label: node.label, component_parameters: parameters }}
        widgets={props.widgets}
        onUserChange={data =>
          props.onNodeChange({
            label: String(data.label ?? ''),
            component_parameters: withoutUnsetDefaults(
              parameters,
              isObject(data.component_parameters) ? data.component_parameters : {},
              schema.properties?.component_parameters?.properties ?? {}
            )
          })
        }
      />
    );
  }
  return (
    <>
      <h3 className="elyra-proc-details-title" data-testid="elyra-proc-details-title">
        {node.label}
      </h3>
      {props.nodeIssues.length > 0 && (
        <ul className="elyra-proc-details-issues" data-testid="elyra-proc-details-issues">
          {props.nodeIssues.map((issue, index) => (
            <li key={index} className={`elyra-proc-severity-${issue.severity}`}>
              {issue.message}
            </li>
          ))}
        </ul>
      )}
      {props.runDetails}
      {form}
    </>
  );
}

function PipelineProperties(props: IPropertiesPanelProps): JSX.Element {
  if (!props.pipelineForm) {
    return <p className="elyra-proc-muted">Loading the pipeline's properties…</p>;
  }
  return (
    <UserForm
      idPrefix={`${props.idPrefix}-pipeline`}
      schema={props.pipelineForm.schema}
      uiSchema={props.pipelineForm.uiSchema}
      formData={props.pipelineProperties}
      widgets={props.widgets}
      onUserChange={props.onPipelineChange}
    />
  );
}

export function PropertiesPanel(props: IPropertiesPanelProps): JSX.Element {
  const body = React.useRef<HTMLDivElement>(null);
  React.useEffect(() => nameControls(body.current));
  const tabs: [PropertiesTab, string][] = [
    ['node', 'Node'],
    ['pipeline', 'Pipeline']
  ];
  return (
    <aside className="elyra-proc-properties" aria-label="Properties" data-testid="elyra-proc-properties">
      <div className="elyra-proc-properties-tabs" role="tablist" aria-label="Properties of">
        {tabs.map(([tab, label]) => (
          <button
            key={tab}
            type="button"
            role="tab"
            aria-selected={props.tab === tab}
            className={`elyra-proc-properties-tab${props.tab === tab ? ' elyra-proc-mod-active' : ''}`}
            data-testid={`elyra-proc-properties-tab-${tab}`}
            onClick={() => props.onTab(tab)}
          >
            {label}
          </button>
        ))}
      </div>
      <div className="elyra-proc-properties-body" role="tabpanel" ref={body}>
        {props.tab === 'node' ? <NodeProperties {...props} /> : <PipelineProperties {...props} />}
      </div>
    </aside>
  );
}
