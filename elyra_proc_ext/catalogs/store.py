"""Component catalogs where Elyra keeps them: `<jupyter data dir>/metadata/component-catalogs/<name>.json`, each
`{"display_name", "schema_name": <catalog type>, "metadata": {"description", "runtime_type", "categories", ...}}`,
so catalogs created with Elyra work unchanged. Files are written with mode 0600 (a URL catalog holds a password),
and `to_json` masks secrets: the connector's secret fields, any field named like a password, secret or token (for
types whose connector is not installed), and credentials inside URLs."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_data_dir

from ..errors import CatalogError
from ..metadata_store import MetadataStore, masked_metadata
from .registry import connector_types

SCHEMASPACE = "component-catalogs"
SECRET_LOOKING = re.compile(r"password|secret|token", re.IGNORECASE)


def default_catalogs_dir() -> Path:
    return Path(jupyter_data_dir()) / "metadata" / SCHEMASPACE


@dataclass
class Catalog:
    name: str
    display_name: str
    schema_name: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        connector = connector_types().get(self.schema_name)
        declared = connector.secret_fields if connector else ()
        return (*declared, *(key for key in self.metadata if SECRET_LOOKING.search(key) and key not in declared))

    def to_json(self) -> dict[str, Any]:
        """The catalog as clients see it, its secrets masked."""
        return {"name": self.name, "display_name": self.display_name, "schema_name": self.schema_name,
                "metadata": masked_metadata(self.metadata, self.secret_fields)}


class CatalogStore(MetadataStore):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "Component catalog", CatalogError)

    def load(self, name: str) -> Catalog:
        return Catalog(name, *self.read(name))

    def list(self) -> list[Catalog]:
        """Every readable catalog; a file that cannot be read is left out (`load` names the problem)."""
        catalogs = []
        for name in self.names():
            with contextlib.suppress(CatalogError):
                catalogs.append(self.load(name))
        return catalogs

    def save(self, catalog: Catalog, *, create: bool) -> None:
        self.write(catalog.name, catalog.display_name, catalog.schema_name, catalog.metadata, create=create)
