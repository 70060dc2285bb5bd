"""The catalog connector interface: how one type of component catalog lists and reads its component definitions.

A connector class serves one `schema_name` (the catalog type, `local-file-catalog`...). `entries` lists the
catalog's entries as small dicts of strings (`{"base_dir", "path"}`, `{"url"}`) and `read` returns one entry's
definition text. The values of `hash_keys` in an entry make the component's op id, exactly as Elyra makes it, so
pipelines saved by Elyra find their components here: see `op_id`. Connectors of other packages plug in through the
`elyra_proc_ext.catalog_connectors` entry point group (`registry`); they must not import Elyra.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import CatalogReadError

KUBEFLOW_PIPELINES = "KUBEFLOW_PIPELINES"  # Elyra also has APACHE_AIRFLOW catalogs; their components are not read

__all__ = ["KUBEFLOW_PIPELINES", "CatalogConnector", "CatalogReadError", "ReadLimits", "metadata_schema", "op_id"]


@dataclass(frozen=True)
class ReadLimits:
    """Bounds on reading one entry, so a slow or huge source cannot hold a refresh: seconds to read it entirely
    (URLs), and bytes."""

    seconds: float = 10.0
    max_bytes: int = 1024 * 1024


def op_id(catalog_type: str, entry: dict[str, Any], hash_keys: tuple[str, ...]) -> str:
    """Elyra's op id (`CatalogEntry.compute_unique_id`): `<catalog type>:` and the first 12 hex characters of the
    SHA-256 of the entry's non-empty hash key values joined by ':'."""
    hashed = ":".join(str(entry[key]) for key in hash_keys if entry.get(key))
    return f"{catalog_type}:{hashlib.sha256(hashed.encode()).hexdigest()[:12]}"


class CatalogConnector(ABC):
    """One catalog type. Subclasses set the class attributes and implement `entries` and `read`; both run in a
    worker thread when a catalog is added or refreshed, never on a request that runs or checks a pipeline."""

    schema_name: ClassVar[str]  # the catalog type, as in the catalog file's schema_name and in op ids
    display_name: ClassVar[str]
    description: ClassVar[str] = ""
    hash_keys: ClassVar[tuple[str, ...]]  # the entry keys whose values make the op id
    metadata_properties: ClassVar[dict[str, Any]]  # JSON Schema of this type's own metadata fields
    required_metadata: ClassVar[tuple[str, ...]] = ()
    secret_fields: ClassVar[tuple[str, ...]] = ()  # masked in every answer, kept when an update sends the mask

    @abstractmethod
    def entries(self, metadata: dict[str, Any]) -> list[dict[str, str]]:
        """The catalog's entries; raise `CatalogReadError` when the catalog itself cannot be listed."""

    @abstractmethod
    def read(self, entry: dict[str, str], metadata: dict[str, Any], limits: ReadLimits) -> str | bytes:
        """One entry's definition; raise `CatalogReadError` (naming the entry) when it cannot be read."""

    def location(self, entry: dict[str, str]) -> str:
        """Where an entry comes from, for messages and for the component's source."""
        return "/".join(value for value in entry.values() if value)

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The type as clients see it: names and the JSON Schema of a catalog's metadata."""
        return {"schema_name": cls.schema_name, "display_name": cls.display_name, "description": cls.description,
                "metadata_schema": metadata_schema(cls)}


def metadata_schema(connector: type[CatalogConnector]) -> dict[str, Any]:
    """The JSON Schema of a catalog's `metadata`: Elyra's common fields and the connector's own."""
    return {
        "type": "object",
        "properties": {
            "description": {"type": "string", "title": "Description"},
            "runtime_type": {"type": "string", "enum": [KUBEFLOW_PIPELINES], "title": "Runtime Type"},
            "categories": {"type": "array", "items": {"type": "string", "maxLength": 18},
                           "title": "Category Names"},
            **connector.metadata_properties,
        },
        "required": ["runtime_type", *connector.required_metadata],
    }
