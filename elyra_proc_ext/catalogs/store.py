"""Component catalogs where Elyra keeps them: `<jupyter data dir>/metadata/component-catalogs/<name>.json`, each
`{"display_name", "schema_name": <catalog type>, "metadata": {"description", "runtime_type", "categories", ...}}`,
so catalogs created with Elyra work unchanged. Files are written with mode 0600 (a URL catalog holds a password),
and `to_json` masks secrets: the connector's secret fields, any field named like a password, secret or token (for
types whose connector is not installed), and credentials inside URLs."""

from __future__ import annotations

import re
from pathlib import Path

from jupyter_core.paths import jupyter_data_dir

from ..errors import CatalogError
from ..metadata_store import MetadataInstance, MetadataStore
from .registry import connector_types

SCHEMASPACE = "component-catalogs"
SECRET_LOOKING = re.compile(r"password|secret|token", re.IGNORECASE)


def default_catalogs_dir() -> Path:
    return Path(jupyter_data_dir()) / "metadata" / SCHEMASPACE


class Catalog(MetadataInstance):
    @property
    def secret_fields(self) -> tuple[str, ...]:
        connector = connector_types().get(self.schema_name)
        declared = connector.secret_fields if connector else ()
        return (*declared, *(key for key in self.metadata if SECRET_LOOKING.search(key) and key not in declared))


class CatalogStore(MetadataStore[Catalog]):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "Component catalog", CatalogError, Catalog)
