/**
 * The property forms as this node shows them: the server's schema, with the pipeline's parameters offered for
 * `pipeline_parameters` and each empty property that a pipeline default fills marked as inherited.
 */
import type { IFormSchema } from '../api';
import type { UiSchema } from '../forms';
import { isObject, JsonObject } from '../pipeline';

function isEmpty(value: unknown): boolean {
  return (
    value === undefined ||
    value === null ||
    value === '' ||
    (Array.isArray(value) && value.length === 0) ||
    (isObject(value) && Object.values(value).every(isEmpty))
  );
}

/** A default's value in words: list entries as `name=value`, objects by their values. */
export function summarize(value: unknown): string {
  if (Array.isArray(value)) {
    return value.map(summarize).join(', ');
  }
  if (isObject(value)) {
    const parts = Object.values(value)
      .filter(part => !isEmpty(part))
      .map(String);
    return parts.length === 2 ? `${parts[0]}=${parts[1]}` : parts.join(' ');
  }
  return String(value);
}

export function nodeFormFor(
  form: IFormSchema,
  parameters: JsonObject,
  defaults: JsonObject,
  parameterNames: string[]
): { schema: JsonObject; uiSchema: UiSchema } {
  const schema: JsonObject = JSON.parse(JSON.stringify(form.schema));
  const uiSchema: UiSchema = JSON.parse(JSON.stringify(form.uiSchema ?? {}));
  const fields: JsonObject = schema.properties?.component_parameters?.properties ?? {};
  const ui: UiSchema = (uiSchema.component_parameters = { ...(uiSchema.component_parameters ?? {}) });
  if (isObject(fields.pipeline_parameters)) {
    if (parameterNames.length) {
      fields.pipeline_parameters.items = { type: 'string', enum: parameterNames };
      fields.pipeline_parameters.uniqueItems = true;
      ui.pipeline_parameters = { ...(ui.pipeline_parameters ?? {}), 'ui:widget': 'checkboxes' };
    } else {
      ui.pipeline_parameters = { 'ui:widget': 'hidden' };
    }
  }
  for (const [key, field] of Object.entries(fields)) {
    if (!isObject(field) || !field['x-pipeline-default'] || !isEmpty(parameters[key]) || isEmpty(defaults[key])) {
      continue;
    }
    // JupyterLab's form templates show the schema's description (not `ui:help` or `ui:description`): the inherited
    // value goes there, and into the empty field itself as its placeholder.
    const inherited = summarize(defaults[key]);
    const entry = { ...(ui[key] ?? {}) };
    field.description = `${field.description ?? ''} Inherited from the pipeline defaults: ${inherited}.`.trim();
    if (field.type === 'string' || field.type === 'number' || field.type === 'integer') {
      entry['ui:placeholder'] = inherited;
    }
    ui[key] = entry;
  }
  return { schema, uiSchema };
}

/** Whether two JSON values are equal. */
function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The properties to save after a form edit: rjsf hands back every field, filled with its schema default; a field
 * the node did not have and the user did not set (still empty, or its default) stays out of the file.
 */
export function withoutUnsetDefaults(before: JsonObject, after: JsonObject, fields: JsonObject): JsonObject {
  const kept: JsonObject = {};
  for (const [key, value] of Object.entries(after)) {
    const unset = !(key in before) && (isEmpty(value) || sameJson(value, fields[key]?.default));
    if (!unset) {
      kept[key] = value;
    }
  }
  return kept;
}
