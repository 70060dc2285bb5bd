/**
 * The form for creating and editing runtime configurations: JupyterLab's own `FormComponent` (rjsf), driven by the
 * runtime's configuration schema (`GET /pipeline/runtimes` → `config_schema`). `configFormSpec` derives, for the
 * current values, the form's schema and uiSchema from the server's: secret fields (`writeOnly`) are never shown filled
 * (left blank, the server keeps the stored value); fields whose `x-shown-when` does not hold are left out, so neither
 * shown nor sent; choices show the schema's titles; `const` fields are set, not asked.
 */
import { Notification, ReactWidget } from '@jupyterlab/apputils';
import { FormComponent } from '@jupyterlab/ui-components';
import type { JSONObject, JSONValue, ReadonlyJSONObject } from '@lumino/coreutils';
import type { ErrorSchema, RJSFSchema, RJSFValidationError, WidgetProps } from '@rjsf/utils';
import * as React from 'react';

import { ApiError, IJsonSchema, IRuntime, IRuntimeConfig, PipelineApi } from './api';
import { Button } from './controls';
import { UiSchema, validator } from './forms';
import { PipelineEvents } from './events';

/** The server's rule for configuration (file) names. */
const CONFIG_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]*$';
const CONFIG_NAME_RULE = "Use letters, digits, '-', '_' and '.', starting with a letter or digit.";
const NEEDS_ATTENTION = 'Some fields need attention.';

/** The prefix of every control's id (`elyra-proc-config_api_endpoint`); '_' is what JupyterLab's templates split on. */
const ID_PREFIX = 'elyra-proc-config';

type FormErrors = ErrorSchema<ReadonlyJSONObject>;

const WORDS: Record<string, string> = {
  api: 'API',
  aws: 'AWS',
  ca: 'CA',
  cos: 'object storage',
  iam: 'IAM',
  id: 'ID',
  ldap: 'LDAP',
  ssl: 'SSL',
  tls: 'TLS',
  url: 'URL'
};

/** "cos_bucket" → "Object storage bucket". */
function readable(identifier: string): string {
  const text = identifier
    .toLowerCase()
    .split('_')
    .map(word => WORDS[word] ?? word)
    .join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A field's label: the schema's title, else its key made readable. */
function fieldLabel(key: string, schema: IJsonSchema): string {
  return schema.title ?? readable(key);
}

function secretHelp(schema: IJsonSchema, storedValue: boolean): string {
  const help = storedValue ? 'A value is stored: leave blank to keep it.' : 'Write-only: it is never shown again.';
  return schema.description ? `${schema.description}. ${help}` : help;
}

/**
 * A field as the form asks it: a choice is the schema's `oneOf` of titled `const`s (the titles are given once, in the
 * runtime's schema; rjsf shows them in a select and saves the `const`), secrets say whether one is stored.
 */
function formField(key: string, schema: IJsonSchema, storedValue: boolean): IJsonSchema {
  const field: IJsonSchema = {
    ...schema,
    title: fieldLabel(key, schema),
    description: schema.writeOnly ? secretHelp(schema, storedValue) : schema.description
  };
  if (Array.isArray(schema.oneOf) && schema.oneOf.every(choice => typeof choice.const === 'string')) {
    field.type ??= 'string';
  }
  return field;
}

/**
 * Whether a field applies given the other fields' values: the schema's `x-shown-when` names, for each field it
 * depends on, the values that make it apply (credentials only for the authentication types that use them).
 */
function isShown(schema: IJsonSchema, values: JSONObject): boolean {
  const conditions = (schema['x-shown-when'] ?? {}) as Record<string, unknown[]>;
  return Object.entries(conditions).every(([key, allowed]) => allowed.includes(values[key]));
}

function typeOf(schema: IJsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find(t => t !== 'null') : schema.type;
}

/** The widgets of rjsf's own registry that `LabelledWidget` puts under a label. */
type BuiltInWidget = 'TextWidget' | 'URLWidget' | 'PasswordWidget' | 'SelectWidget';

/**
 * rjsf's own widget under a real `<label>`: JupyterLab's field template shows a title as a heading, which names no
 * control, so screen readers (and `getByLabel`) would find unnamed inputs and selects.
 */
function LabelledWidget(props: WidgetProps): JSX.Element {
  const Widget = props.registry.widgets[props.options.builtIn as BuiltInWidget];
  return (
    <>
      <span className="elyra-proc-config-label">
        <label htmlFor={props.id} className="jp-FormGroup-fieldLabel">
          {props.label}
        </label>
        {props.required && <span aria-hidden="true"> *</span>}
      </span>
      <Widget {...props} />
    </>
  );
}

function labelled(widget: BuiltInWidget, extra: UiSchema = {}): UiSchema {
  return { 'ui:widget': LabelledWidget, 'ui:options': { label: false, builtIn: widget }, ...extra };
}

/** How one metadata field is asked; `storedValue` tells a secret whether there is one to keep. */
function fieldUi(schema: IJsonSchema, storedValue: boolean): UiSchema {
  const type = typeOf(schema);
  if (Array.isArray(schema.oneOf)) {
    return labelled('SelectWidget', { 'ui:placeholder': '(not set)' });
  }
  if (schema.writeOnly) {
    return labelled('PasswordWidget', {
      'ui:placeholder': storedValue ? 'unchanged (leave blank to keep)' : '',
      'ui:autocomplete': 'new-password'
    });
  }
  if (type === 'string' || type === 'number' || type === 'integer') {
    return labelled(schema.format === 'uri' ? 'URLWidget' : 'TextWidget', {
      'ui:placeholder': schema.default === undefined ? '' : String(schema.default)
    });
  }
  return {}; // booleans (rjsf's checkbox has its own label) and lists (rjsf's list editor)
}

export interface IConfigFormSpec {
  schema: RJSFSchema;
  uiSchema: UiSchema;
}

/**
 * The form for the current values: the display name, when creating the file name, then the runtime's `metadata`
 * fields in schema order, without its `const`s and without the fields whose `x-shown-when` does not hold.
 */
export function configFormSpec(
  runtimeSchema: IJsonSchema,
  values: JSONObject,
  config: IRuntimeConfig | null
): IConfigFormSpec {
  const metadata = runtimeSchema.properties?.metadata ?? {};
  const metadataRequired = new Set(metadata.required ?? []);
  const properties: Record<string, IJsonSchema> = {
    display_name: { type: 'string', minLength: 1, ...runtimeSchema.properties?.display_name, title: 'Display name' }
  };
  const required = ['display_name'];
  const uiSchema: UiSchema = { display_name: labelled('TextWidget') };
  if (config === null) {
    properties.name = {
      type: 'string',
      title: 'Name',
      description: 'The file name; when blank, derived from the display name',
      pattern: CONFIG_NAME_PATTERN
    };
    uiSchema.name = labelled('TextWidget', { 'ui:placeholder': 'derived from the display name' });
  }
  for (const [key, property] of Object.entries(metadata.properties ?? {})) {
    if (property.const !== undefined || !isShown(property, values)) {
      continue;
    }
    const storedValue = Boolean(config?.metadata[key]);
    properties[key] = formField(key, property, storedValue);
    if (metadataRequired.has(key) && !property.writeOnly) {
      required.push(key);
    }
    uiSchema[key] = fieldUi(properties[key], storedValue);
  }
  return { schema: { type: 'object', properties, required } as RJSFSchema, uiSchema };
}

/** The values a stored configuration starts the form with; secrets are never shown, so they start blank. */
function initialValues(runtimeSchema: IJsonSchema, config: IRuntimeConfig | null): JSONObject {
  if (config === null) {
    return {}; // rjsf fills in the schema's defaults
  }
  const values: JSONObject = { display_name: config.display_name };
  for (const [key, property] of Object.entries(runtimeSchema.properties?.metadata?.properties ?? {})) {
    const stored = config.metadata[key];
    if (property.const === undefined && !property.writeOnly && stored !== undefined && stored !== null) {
      values[key] = stored as JSONValue;
    }
  }
  return values;
}

/**
 * What is sent for the form's fields: only those shown, text trimmed (secrets as typed), blank ones, blank list items
 * and empty lists left out, so a blank secret keeps the stored one.
 */
function sentValues(values: JSONObject, spec: IConfigFormSpec): JSONObject {
  const result: JSONObject = {};
  for (const [key, property] of Object.entries(spec.schema.properties ?? {})) {
    const value = values[key];
    const secret = (property as IJsonSchema).writeOnly === true;
    if (typeof value === 'string') {
      const text = secret ? value : value.trim();
      if (text) {
        result[key] = text;
      }
    } else if (Array.isArray(value)) {
      const items = value
        .map(item => (typeof item === 'string' ? item.trim() : item))
        .filter(item => item !== '' && item !== null && item !== undefined);
      if (items.length > 0) {
        result[key] = items;
      }
    } else if (value !== undefined && value !== null) {
      result[key] = value;
    }
  }
  return result;
}

/** The `const` values of `metadata` (e.g. runtime_type), sent with every save. */
function constants(runtimeSchema: IJsonSchema): JSONObject {
  const result: JSONObject = {};
  for (const [key, property] of Object.entries(runtimeSchema.properties?.metadata?.properties ?? {})) {
    if (property.const !== undefined) {
      result[key] = property.const as JSONValue;
    }
  }
  return result;
}

/** ajv's messages, in the words of this form. */
function readableErrors(errors: RJSFValidationError[]): RJSFValidationError[] {
  return errors.map(error => {
    const pattern = String(error.params?.pattern ?? '');
    const message =
      error.name === 'required'
        ? 'Required.'
        : error.name === 'pattern'
          ? pattern === CONFIG_NAME_PATTERN
            ? CONFIG_NAME_RULE
            : `Does not have the expected form (${pattern}).`
          : error.name === 'format' && error.params?.format === 'uri'
            ? 'Enter a full URL, e.g. https://host.example.com/path.'
            : `${(error.message ?? '').charAt(0).toUpperCase()}${(error.message ?? '').slice(1)}.`;
    return { ...error, message };
  });
}

/** The problems with what would be sent, as rjsf's error schema (empty when there are none). */
function validate(values: JSONObject, spec: IConfigFormSpec): { errorSchema: FormErrors; first: string | null } {
  const { errors, errorSchema } = validator.validateFormData(
    sentValues(values, spec),
    spec.schema,
    undefined,
    readableErrors,
    spec.uiSchema
  );
  const first = errors.length > 0 ? (errors[0].property ?? '').replace(/^\./, '').replace(/\./g, '_') : null;
  return { errorSchema, first };
}

/** No "modified from default" markers: JupyterLab's field template reads the defaults from the form context. */
const FORM_CONTEXT = { defaultFormData: {} };

export interface IConfigEditorOptions {
  api: PipelineApi;
  events: PipelineEvents;
  runtime: IRuntime;
  /** The configuration to edit; null to create one. */
  config: IRuntimeConfig | null;
  /** The user changed a field (typed, chose, ticked): a connection test of the stored configuration is now stale. */
  onEdited?: () => void;
  onDone: (saved: IRuntimeConfig | null) => void;
}

/** The create/edit form, shown in the main area. */
export class ConfigEditor extends ReactWidget {
  constructor(private readonly options: IConfigEditorOptions) {
    super();
    this.addClass('elyra-proc-config-editor');
    this.node.dataset.testid = 'elyra-proc-config-editor';
    this._runtimeSchema = options.runtime.config_schema ?? {};
    this._values = initialValues(this._runtimeSchema, options.config);
    // The user's own edits, not rjsf's `onChange`, which also fires when it fills in the schema's defaults.
    const edited = (): void => options.onEdited?.();
    this.node.addEventListener('input', edited);
    this.node.addEventListener('change', edited);
  }

  protected render(): JSX.Element {
    const { config, runtime } = this.options;
    const title = config === null ? `New ${runtime.display_name} configuration` : `Edit ${config.display_name}`;
    const spec = configFormSpec(this._runtimeSchema, this._values, config);
    return (
      <div className="elyra-proc-form elyra-proc-config-form" role="form" aria-label={title}>
        <h2 className="elyra-proc-form-title">{config === null ? title : `${config.display_name} (${config.name})`}</h2>
        <FormComponent
          schema={spec.schema}
          uiSchema={spec.uiSchema}
          formData={this._values}
          formContext={FORM_CONTEXT}
          validator={validator}
          idPrefix={ID_PREFIX}
          extraErrors={this._errors}
          showErrorList={false}
          showModifiedFromDefault={false}
          noValidate
          noHtml5Validate
          onChange={event => this._change(event.formData as JSONObject)}
          onSubmit={() => void this._save()}
        >
          {this._summary.length > 0 && (
            <div className="elyra-proc-error-box" role="alert" data-testid="elyra-proc-config-form-error">
              {this._summary.join('\n')}
            </div>
          )}
          <div className="elyra-proc-form-buttons">
            <Button kind="reject" testId="elyra-proc-config-cancel" onClick={() => this.options.onDone(null)}>
              Cancel
            </Button>
            <Button kind="accept" type="submit" testId="elyra-proc-config-save" disabled={this._saving}>
              {this._saving ? 'Saving…' : 'Save'}
            </Button>
          </div>
        </FormComponent>
      </div>
    );
  }

  /** After a first attempt to save, the problems are checked again with every change. */
  private _change(values: JSONObject): void {
    this._values = values;
    if (this._attempted) {
      this._errors = validate(values, configFormSpec(this._runtimeSchema, values, this.options.config)).errorSchema;
      if (Object.keys(this._errors).length === 0 && this._summary[0] === NEEDS_ATTENTION) {
        this._summary = [];
      }
    }
    this.update();
  }

  private async _save(): Promise<void> {
    const { api, runtime, config, events } = this.options;
    const spec = configFormSpec(this._runtimeSchema, this._values, config);
    const { errorSchema, first } = validate(this._values, spec);
    this._attempted = true;
    this._errors = errorSchema;
    if (first !== null) {
      this._summary = [NEEDS_ATTENTION];
      this.update();
      requestAnimationFrame(() => document.getElementById(`${ID_PREFIX}_${first}`)?.focus());
      return;
    }
    this._summary = [];
    this._saving = true;
    this.update();
    const { display_name: displayName, name, ...metadata } = sentValues(this._values, spec);
    const body: Partial<IRuntimeConfig> = {
      display_name: String(displayName),
      schema_name: config?.schema_name ?? runtime.name,
      metadata: { ...constants(this._runtimeSchema), ...metadata }
    };
    try {
      const saved = config
        ? await api.updateRuntimeConfig(config.name, body)
        : await api.createRuntimeConfig(typeof name === 'string' ? { ...body, name } : body);
      events.notifyConfigsChanged();
      Notification.success(`Saved runtime configuration ${saved.display_name}`, { autoClose: 4000 });
      this.options.onDone(saved);
    } catch (error) {
      this._serverProblems(error, spec);
    } finally {
      this._saving = false;
      if (!this.isDisposed) {
        this.update();
      }
    }
  }

  /** The server's refusal: its message and issues by the Save button, issues naming a shown field also at the field. */
  private _serverProblems(error: unknown, spec: IConfigFormSpec): void {
    if (!(error instanceof ApiError)) {
      this._summary = [String(error)];
      return;
    }
    const errors: Record<string, { __errors: string[] }> = {};
    for (const issue of error.issues) {
      const field = issue.data?.propertyName;
      if (field && spec.schema.properties?.[field]) {
        (errors[field] ??= { __errors: [] }).__errors.push(issue.message);
      }
    }
    this._errors = errors as FormErrors;
    this._summary = [error.message, ...error.issues.map(issue => issue.message).filter(m => m !== error.message)];
  }

  private readonly _runtimeSchema: IJsonSchema;
  private _values: JSONObject;
  private _errors: FormErrors = {};
  private _summary: string[] = [];
  private _attempted = false;
  private _saving = false;
}
