/**
 * A form generated from a runtime's configuration schema (`GET /pipeline/runtimes` → `config_schema`), for
 * creating and editing runtime configurations. Secret fields (`writeOnly`) are never shown: left blank, the
 * server keeps the stored value. Fields that do not apply to the chosen options (`x-shown-when`) are hidden and not
 * sent.
 */
import { Notification, ReactWidget } from '@jupyterlab/apputils';
import * as React from 'react';

import { ApiError, IJsonSchema, IRuntime, IRuntimeConfig, PipelineApi } from './api';
import { PipelineEvents } from './events';

export const CONFIG_NAME = /^[a-z0-9][a-z0-9_.-]*$/i;

const WORDS: Record<string, string> = {
  api: 'API',
  cos: 'object storage',
  tls: 'TLS',
  ssl: 'SSL',
  ca: 'CA',
  url: 'URL',
  id: 'ID'
};

/** "cos_bucket" → "Object storage bucket"; a schema title wins. */
export function fieldLabel(key: string, schema: IJsonSchema): string {
  if (schema.title) {
    return schema.title;
  }
  const words = key.split('_').map(word => WORDS[word] ?? word);
  const text = words.join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

type FieldKind = 'enum' | 'boolean' | 'number' | 'list' | 'secret' | 'text';

export interface IFieldSpec {
  key: string;
  schema: IJsonSchema;
  kind: FieldKind;
  required: boolean;
  label: string;
}

/**
 * Whether a field applies given the other fields' values: the schema's `x-shown-when` names, for each field it
 * depends on, the values that make it apply (credentials only for the authentication types that use them).
 */
export function isShown(field: IFieldSpec, values: FieldValues): boolean {
  const conditions = (field.schema['x-shown-when'] ?? {}) as Record<string, unknown[]>;
  return Object.entries(conditions).every(([key, allowed]) => allowed.includes(values[key]));
}

function typeOf(schema: IJsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find(t => t !== 'null') : schema.type;
}

/** The editable fields of a configuration's `metadata`, in schema order; `const` fields are set, not asked. */
export function metadataFields(schema: IJsonSchema): IFieldSpec[] {
  const metadata = schema.properties?.metadata ?? {};
  const required = new Set(metadata.required ?? []);
  const fields: IFieldSpec[] = [];
  for (const [key, property] of Object.entries(metadata.properties ?? {})) {
    if (property.const !== undefined) {
      continue;
    }
    const type = typeOf(property);
    const kind: FieldKind = Array.isArray(property.enum)
      ? 'enum'
      : type === 'boolean'
        ? 'boolean'
        : type === 'number' || type === 'integer'
          ? 'number'
          : type === 'array'
            ? 'list'
            : property.writeOnly
              ? 'secret'
              : 'text';
    fields.push({ key, schema: property, kind, required: required.has(key), label: fieldLabel(key, property) });
  }
  return fields;
}

/** The `const` values of `metadata` (e.g. runtime_type), sent with every save. */
function constants(schema: IJsonSchema): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, property] of Object.entries(schema.properties?.metadata?.properties ?? {})) {
    if (property.const !== undefined) {
      result[key] = property.const;
    }
  }
  return result;
}

export type FieldValues = Record<string, string | boolean>;

export function initialValues(fields: IFieldSpec[], config: IRuntimeConfig | null): FieldValues {
  const values: FieldValues = {};
  const metadata = config?.metadata ?? {};
  for (const field of fields) {
    const stored = metadata[field.key];
    const fallback = !config || field.kind === 'enum' || field.kind === 'boolean' ? field.schema.default : undefined;
    const value = stored !== undefined && stored !== null ? stored : fallback;
    if (field.kind === 'secret') {
      values[field.key] = '';
    } else if (field.kind === 'boolean') {
      values[field.key] =
        value === undefined ? field.schema.default === true : value === true || value === 'true';
    } else if (field.kind === 'list') {
      values[field.key] = Array.isArray(value) ? value.join(', ') : value === undefined ? '' : String(value);
    } else {
      values[field.key] = value === undefined ? '' : String(value);
    }
  }
  return values;
}

/**
 * The metadata to send and the problems found, by field. Blank optional fields are left out; a blank secret is
 * left out so the server keeps the stored one.
 */
export function collectMetadata(
  fields: IFieldSpec[],
  values: FieldValues,
  schema: IJsonSchema
): { metadata: Record<string, unknown>; errors: Record<string, string> } {
  const metadata: Record<string, unknown> = { ...constants(schema) };
  const errors: Record<string, string> = {};
  for (const field of fields.filter(candidate => isShown(candidate, values))) {
    const raw = values[field.key];
    if (field.kind === 'boolean') {
      metadata[field.key] = Boolean(raw);
      continue;
    }
    const text = typeof raw === 'string' ? raw.trim() : '';
    if (!text) {
      if (field.required && field.kind !== 'secret') {
        errors[field.key] = `${field.label} is required.`;
      }
      continue;
    }
    if (field.kind === 'number') {
      const number = Number(text);
      const type = typeOf(field.schema);
      if (!Number.isFinite(number) || (type === 'integer' && !Number.isInteger(number))) {
        errors[field.key] = `${field.label} must be ${type === 'integer' ? 'a whole number' : 'a number'}.`;
      } else if (typeof field.schema.exclusiveMinimum === 'number' && number <= field.schema.exclusiveMinimum) {
        errors[field.key] = `${field.label} must be more than ${field.schema.exclusiveMinimum}.`;
      } else if (typeof field.schema.minimum === 'number' && number < field.schema.minimum) {
        errors[field.key] = `${field.label} must be at least ${field.schema.minimum}.`;
      } else if (typeof field.schema.exclusiveMaximum === 'number' && number >= field.schema.exclusiveMaximum) {
        errors[field.key] = `${field.label} must be less than ${field.schema.exclusiveMaximum}.`;
      } else if (typeof field.schema.maximum === 'number' && number > field.schema.maximum) {
        errors[field.key] = `${field.label} must be at most ${field.schema.maximum}.`;
      } else {
        metadata[field.key] = number;
      }
      continue;
    }
    if (field.kind === 'list') {
      metadata[field.key] = [...new Set(text.split(',').map(item => item.trim()).filter(Boolean))];
      continue;
    }
    if (field.schema.pattern && field.kind !== 'secret') {
      let matches = true;
      try {
        matches = new RegExp(field.schema.pattern, 'u').test(text);
      } catch {
        matches = true; // a pattern this browser cannot compile is left to the server
      }
      if (!matches) {
        errors[field.key] = `${field.label} does not have the expected form (${field.schema.pattern}).`;
        continue;
      }
    }
    if (field.schema.minLength !== undefined && text.length < field.schema.minLength) {
      errors[field.key] = `${field.label} must have at least ${field.schema.minLength} characters.`;
      continue;
    }
    if (field.schema.maxLength !== undefined && text.length > field.schema.maxLength) {
      errors[field.key] = `${field.label} must have at most ${field.schema.maxLength} characters.`;
      continue;
    }
    metadata[field.key] = field.kind === 'secret' ? raw : text;
  }
  return { metadata, errors };
}

export interface IConfigEditorOptions {
  api: PipelineApi;
  events: PipelineEvents;
  runtime: IRuntime;
  /** The configuration to edit; null to create one. */
  config: IRuntimeConfig | null;
  onDone: (saved: IRuntimeConfig | null) => void;
}

/** The create/edit form, shown in the main area. */
export class ConfigEditor extends ReactWidget {
  constructor(private readonly options: IConfigEditorOptions) {
    super();
    this.addClass('elyra-proc-config-editor');
    this.node.dataset.testid = 'elyra-proc-config-editor';
    const schema = options.runtime.config_schema ?? {};
    this._fields = metadataFields(schema);
    this._values = initialValues(this._fields, options.config);
    this._displayName = options.config?.display_name ?? '';
  }

  protected render(): JSX.Element {
    const { config, runtime } = this.options;
    const creating = config === null;
    const errorId = (key: string): string => `elyra-proc-config-error-${key}`;
    const onSubmit = (event: React.FormEvent): void => {
      event.preventDefault();
      void this._save();
    };
    return (
      <form
        className="elyra-proc-form elyra-proc-config-form"
        aria-label={creating ? `New ${runtime.display_name} configuration` : `Edit ${config.display_name}`}
        onSubmit={onSubmit}
        noValidate
      >
        <h2 className="elyra-proc-form-title">
          {creating ? `New ${runtime.display_name} configuration` : `${config.display_name} (${config.name})`}
        </h2>
        {this._summary && (
          <div className="elyra-proc-error-box" role="alert" data-testid="elyra-proc-config-form-error">
            {this._summary}
          </div>
        )}
        <label className="elyra-proc-field" htmlFor="elyra-proc-config-field-display_name">
          <span className="elyra-proc-field-label">
            Display name <span aria-hidden="true">*</span>
          </span>
          <input
            id="elyra-proc-config-field-display_name"
            data-testid="elyra-proc-config-field-display_name"
            className="jp-mod-styled"
            type="text"
            required
            aria-invalid={Boolean(this._errors.display_name)}
            aria-describedby={this._errors.display_name ? errorId('display_name') : undefined}
            value={this._displayName}
            onChange={event => {
              this._displayName = event.target.value;
              this.update();
            }}
          />
          {this._errors.display_name && (
            <span id={errorId('display_name')} className="elyra-proc-error-text">
              {this._errors.display_name}
            </span>
          )}
        </label>
        {creating && (
          <label className="elyra-proc-field" htmlFor="elyra-proc-config-field-name">
            <span className="elyra-proc-field-label">Name (file name; optional)</span>
            <input
              id="elyra-proc-config-field-name"
              data-testid="elyra-proc-config-field-name"
              className="jp-mod-styled"
              type="text"
              placeholder="derived from the display name"
              aria-invalid={Boolean(this._errors.name)}
              aria-describedby={this._errors.name ? errorId('name') : undefined}
              value={this._name}
              onChange={event => {
                this._name = event.target.value;
                this.update();
              }}
            />
            {this._errors.name && (
              <span id={errorId('name')} className="elyra-proc-error-text">
                {this._errors.name}
              </span>
            )}
          </label>
        )}
        {this._fields
          .filter(field => isShown(field, this._values))
          .map(field => this._renderField(field, errorId(field.key)))}
        <div className="elyra-proc-form-buttons">
          <button
            type="button"
            className="jp-Button jp-mod-styled jp-mod-reject"
            data-testid="elyra-proc-config-cancel"
            onClick={() => this.options.onDone(null)}
          >
            Cancel
          </button>
          <button
            type="submit"
            className="jp-Button jp-mod-styled jp-mod-accept"
            data-testid="elyra-proc-config-save"
            disabled={this._saving}
          >
            {this._saving ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    );
  }

  private _renderField(field: IFieldSpec, errorId: string): JSX.Element {
    const id = `elyra-proc-config-field-${field.key}`;
    const helpId = `${id}-help`;
    const error = this._errors[field.key];
    const value = this._values[field.key];
    const set = (next: string | boolean): void => {
      this._values = { ...this._values, [field.key]: next };
      this.update();
    };
    const stored = this.options.config?.metadata?.[field.key];
    const help =
      field.kind === 'secret'
        ? `${field.schema.description ? `${field.schema.description}. ` : ''}${
            stored ? 'A value is stored: leave blank to keep it.' : 'Write-only: it is never shown again.'
          }`
        : field.kind === 'list'
          ? `${field.schema.description ? `${field.schema.description}. ` : ''}Comma-separated.`
          : (field.schema.description ?? '');
    const describedBy = [help ? helpId : '', error ? errorId : ''].filter(Boolean).join(' ') || undefined;
    const common = {
      id,
      'data-testid': id,
      'aria-invalid': Boolean(error),
      'aria-describedby': describedBy,
      'aria-required': field.required
    };
    let control: JSX.Element;
    if (field.kind === 'boolean') {
      return (
        <div key={field.key} className="elyra-proc-field elyra-proc-checkbox">
          <input {...common} type="checkbox" checked={Boolean(value)} onChange={e => set(e.target.checked)} />
          <label htmlFor={id} className="elyra-proc-field-label">
            {field.label}
          </label>
          {help && (
            <span id={helpId} className="elyra-proc-help">
              {help}
            </span>
          )}
        </div>
      );
    } else if (field.kind === 'enum') {
      const options = (field.schema.enum ?? []).map(String);
      control = (
        <div className="elyra-proc-select">
          <select
            {...common}
            className="jp-mod-styled"
            value={String(value ?? '')}
            onChange={e => set(e.target.value)}
          >
            {!field.required && field.schema.default === undefined && <option value="">(not set)</option>}
            {options.map(option => (
              <option key={option} value={option}>
                {option}
              </option>
            ))}
          </select>
        </div>
      );
    } else {
      const type =
        field.kind === 'secret'
          ? 'password'
          : field.kind === 'number'
            ? 'number'
            : field.schema.format === 'uri'
              ? 'url'
              : 'text';
      control = (
        <input
          {...common}
          className="jp-mod-styled"
          type={type}
          step={field.kind === 'number' ? 'any' : undefined}
          autoComplete={field.kind === 'secret' ? 'new-password' : 'off'}
          placeholder={
            field.kind === 'secret' && stored
              ? 'unchanged (leave blank to keep)'
              : field.schema.default !== undefined
                ? String(field.schema.default)
                : ''
          }
          value={String(value ?? '')}
          onChange={e => set(e.target.value)}
        />
      );
    }
    return (
      <div key={field.key} className="elyra-proc-field">
        <label htmlFor={id} className="elyra-proc-field-label">
          {field.label}
          {field.required && <span aria-hidden="true"> *</span>}
        </label>
        {control}
        {help && (
          <span id={helpId} className="elyra-proc-help">
            {help}
          </span>
        )}
        {error && (
          <span id={errorId} className="elyra-proc-error-text">
            {error}
          </span>
        )}
      </div>
    );
  }

  private async _save(): Promise<void> {
    const { api, runtime, config, events } = this.options;
    const schema = runtime.config_schema ?? {};
    const { metadata, errors } = collectMetadata(this._fields, this._values, schema);
    if (!this._displayName.trim()) {
      errors.display_name = 'Display name is required.';
    }
    if (config === null && this._name.trim() && !CONFIG_NAME.test(this._name.trim())) {
      errors.name = "Use letters, digits, '-', '_' and '.', starting with a letter or digit.";
    }
    this._errors = errors;
    if (Object.keys(errors).length > 0) {
      this._summary = 'Some fields need attention.';
      this.update();
      requestAnimationFrame(() => this.node.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus());
      return;
    }
    this._summary = null;
    this._saving = true;
    this.update();
    const body: Partial<IRuntimeConfig> = {
      display_name: this._displayName.trim(),
      schema_name: config?.schema_name ?? runtime.name,
      metadata
    };
    try {
      const saved = config
        ? await api.updateRuntimeConfig(config.name, body)
        : await api.createRuntimeConfig(this._name.trim() ? { ...body, name: this._name.trim() } : body);
      events.notifyConfigsChanged();
      Notification.success(`Saved runtime configuration ${saved.display_name}`, { autoClose: 4000 });
      this.options.onDone(saved);
    } catch (error) {
      this._summary = error instanceof ApiError ? error.message : String(error);
      this.update();
    } finally {
      this._saving = false;
      if (!this.isDisposed) {
        this.update();
      }
    }
  }

  private _fields: IFieldSpec[];
  private _values: FieldValues;
  private _displayName: string;
  private _name = '';
  private _errors: Record<string, string> = {};
  private _summary: string | null = null;
  private _saving = false;
}
