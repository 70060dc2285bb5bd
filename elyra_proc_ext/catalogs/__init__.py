"""Component catalogs (Elyra's format and place) and the Kubeflow Pipelines components they offer.

| Module | Responsibility |
|---|---|
| `components` | component YAML (KFP v1 and v2 as Elyra reads them) to `ComponentSpec` |
| `connector` | the connector interface of a catalog type, and Elyra's op ids |
| `local`, `url`, `examples` | the built-in types: `local-file-catalog` and `local-directory-catalog`; `url-catalog`;
  `elyra-kfp-examples-catalog` |
| `registry` | the types on offer, plug-ins included (entry point group `elyra_proc_ext.catalog_connectors`) |
| `store`, `cache` | the catalog files (0600, secrets masked); what each catalog held when last read |
| `service` | list, create, update, delete and refresh catalogs; `component_for(op)` from the cache only |
"""

from .cache import CatalogComponent
from .components import ComponentInput, ComponentOutput, ComponentSpec, parse_component
from .connector import CatalogConnector, CatalogReadError, ReadLimits, op_id
from .service import ComponentCatalogs
from .store import Catalog, default_catalogs_dir

__all__ = ["Catalog", "CatalogComponent", "CatalogConnector", "CatalogReadError", "ComponentCatalogs", "ComponentInput",
           "ComponentOutput", "ComponentSpec", "ReadLimits", "default_catalogs_dir", "op_id", "parse_component"]
