/**
 * What the editor asks the server once per session: the palette and the property forms (node types, pipeline).
 * The server declares every property; the editor only renders what it is given.
 */
import { ApiError, IFormSchema, IPaletteNodeType, PipelineApi } from '../api';

export class EditorSchemas {
  constructor(private readonly api: PipelineApi) {}

  /** The node types to offer; empty when the server cannot say. */
  palette(): Promise<IPaletteNodeType[]> {
    this._palette ??= this.api
      .palette()
      .then(palette => palette.categories.flatMap(category => category.node_types))
      .catch(() => {
        this._palette = null;
        return [];
      });
    return this._palette;
  }

  /**
   * A node type's form (generic nodes, and components the catalogs here hold), or null for an op the server has no
   * form for.
   */
  nodeForm(op: string): Promise<IFormSchema | null> {
    let form = this._nodeForms.get(op);
    if (!form) {
      form = this.api.nodeProperties(op).catch(error => {
        if (!(error instanceof ApiError && error.status === 404)) {
          this._nodeForms.delete(op); // ask again next time
        }
        return null;
      });
      this._nodeForms.set(op, form);
    }
    return form;
  }

  pipelineForm(): Promise<IFormSchema | null> {
    this._pipelineForm ??= this.api.pipelineProperties().catch(() => {
      this._pipelineForm = null;
      return null;
    });
    return this._pipelineForm;
  }

  private _palette: Promise<IPaletteNodeType[]> | null = null;
  private _pipelineForm: Promise<IFormSchema | null> | null = null;
  private _nodeForms = new Map<string, Promise<IFormSchema | null>>();
}
