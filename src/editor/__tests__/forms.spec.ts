import { nodeFormFor, summarize, withoutUnsetDefaults } from '../forms';

const FORM = {
  schema: {
    type: 'object',
    properties: {
      label: { type: 'string' },
      component_parameters: {
        type: 'object',
        properties: {
          runtime_image: { type: 'string', 'x-pipeline-default': true },
          env_vars: { type: 'array', 'x-pipeline-default': true, items: { type: 'object' } },
          filename: { type: 'string' },
          pipeline_parameters: { type: 'array', items: { type: 'string' } }
        }
      }
    }
  },
  uiSchema: { component_parameters: { filename: { 'ui:widget': 'file' } } }
};

describe('nodeFormFor', () => {
  it('marks empty inheritable properties with the pipeline default, and only those', () => {
    const { schema, uiSchema } = nodeFormFor(
      FORM,
      { runtime_image: '', env_vars: [{ env_var: 'OWN', value: '1' }] },
      { runtime_image: 'python:3.11', env_vars: [{ env_var: 'SEED', value: '7' }], filename: 'x' },
      []
    );
    const ui = uiSchema.component_parameters as Record<string, Record<string, string>>;
    expect(ui.runtime_image['ui:placeholder']).toBe('python:3.11');
    const fields = schema.properties.component_parameters.properties;
    expect(fields.runtime_image.description).toBe('Inherited from the pipeline defaults: python:3.11.');
    expect(fields.env_vars.description).toBeUndefined();
    expect(ui.env_vars).toBeUndefined();
    expect(ui.filename).toEqual({ 'ui:widget': 'file' });
  });

  it('offers the pipeline parameters as choices, and hides the field when there are none', () => {
    const withParameters = nodeFormFor(FORM, {}, {}, ['rows', 'seed']);
    const field = withParameters.schema.properties.component_parameters.properties.pipeline_parameters;
    expect(field.items.enum).toEqual(['rows', 'seed']);
    expect(field.uniqueItems).toBe(true);
    const without = nodeFormFor(FORM, {}, {}, []);
    expect((without.uiSchema.component_parameters as Record<string, unknown>).pipeline_parameters).toEqual({
      'ui:widget': 'hidden'
    });
  });

  it('leaves the served form unchanged', () => {
    const before = JSON.stringify(FORM);
    nodeFormFor(FORM, {}, { runtime_image: 'x' }, ['p']);
    expect(JSON.stringify(FORM)).toBe(before);
  });
});

describe('summarize', () => {
  it('shows list entries as name=value', () => {
    expect(
      summarize([
        { env_var: 'A', value: '1' },
        { env_var: 'B', value: '2' }
      ])
    ).toBe('A=1, B=2');
    expect(summarize('image:1')).toBe('image:1');
  });
});

describe('withoutUnsetDefaults', () => {
  it('keeps what the node had and what the user set, not the defaults rjsf filled in', () => {
    const fields = { shm: { type: 'object', default: { units: 'G' } }, tags: { type: 'array' }, gpu: {} };
    const before = { filename: 'a.ipynb', tags: [] };
    const after = { filename: 'b.ipynb', tags: [], shm: { units: 'G' }, outputs: [], gpu: 1, env_vars: [] };
    expect(withoutUnsetDefaults(before, after, fields)).toEqual({ filename: 'b.ipynb', tags: [], gpu: 1 });
  });
});
