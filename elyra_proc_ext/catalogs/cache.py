"""What each catalog held when it was last read: `<data dir>/catalog-cache/<catalog name>.json` (`<data dir>` is the
extension's, `<jupyter data dir>/elyra_proc_ext` by default).

A catalog's sources (files, URLs, packages) are read only when it is added or refreshed; everything else (the
palette, checks and runs of pipelines, in any process) reads this cache, so no request waits on a slow URL and
air-gapped servers run what they once read. Cache files are read again only when one changed (its size or
modification time), so a look-up by op id is a dictionary look-up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from ..metadata_store import INSTANCE_NAME, write_json_atomically
from .components import ComponentSpec

CACHE_FORMAT = 1
CACHE_DIRECTORY = "catalog-cache"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CatalogComponent:
    """A component as a catalog offered it: its op id, where it came from, and its parsed spec."""

    op: str
    catalog: str  # the catalog's name
    source: str  # the file, URL or package file it was read from (credentials masked)
    reference: dict[str, str]  # the catalog entry, credentials in URLs masked (its hash keys made the op id)
    spec: ComponentSpec

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "catalog": self.catalog, "source": self.source, "reference": self.reference,
                "spec": self.spec.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CatalogComponent:
        return cls(data["op"], data["catalog"], data["source"], data["reference"],
                   ComponentSpec.from_json(data["spec"]))


@dataclass(frozen=True)
class CachedCatalog:
    name: str
    display_name: str
    categories: tuple[str, ...]
    refreshed: float
    components: tuple[CatalogComponent, ...]
    errors: tuple[str, ...] = field(default=())

    @cached_property
    def by_op(self) -> dict[str, CatalogComponent]:
        return {component.op: component for component in self.components}

    def summary(self) -> dict[str, Any]:
        return {"refreshed": self.refreshed, "component_count": len(self.components), "errors": list(self.errors)}

    def to_json(self) -> dict[str, Any]:
        return {"format": CACHE_FORMAT, "name": self.name, "display_name": self.display_name,
                "categories": list(self.categories), "refreshed": self.refreshed,
                "components": [component.to_json() for component in self.components], "errors": list(self.errors)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CachedCatalog:
        return cls(data["name"], data["display_name"], tuple(data["categories"]), data["refreshed"],
                   tuple(CatalogComponent.from_json(item) for item in data["components"]), tuple(data["errors"]))


class CatalogCache:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._catalogs: dict[str, CachedCatalog] = {}

    def path(self, name: str) -> Path:
        assert INSTANCE_NAME.fullmatch(name), name  # catalog names were checked by the store
        return self.directory / f"{name}.json"

    def write(self, catalog: CachedCatalog) -> None:
        write_json_atomically(self.path(catalog.name), catalog.to_json())

    def remove(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()

    def catalogs(self) -> dict[str, CachedCatalog]:
        """Every cached catalog by name, read again only when a cache file changed."""
        self._refresh_index()
        return self._catalogs

    def _refresh_index(self) -> None:
        signature = self._signature_now()
        if signature == self._signature:
            return
        with self._lock:
            catalogs: dict[str, CachedCatalog] = {}
            for name, _, _ in signature:
                loaded = self._load(self.directory / f"{name}.json")
                if loaded is not None:
                    catalogs[name] = loaded
            self._catalogs, self._signature = catalogs, signature

    def _signature_now(self) -> tuple[tuple[str, int, int], ...]:
        entries = []
        with contextlib.suppress(FileNotFoundError), os.scandir(self.directory) as found:
            for entry in found:
                if entry.name.endswith(".json") and not entry.name.startswith("."):
                    with contextlib.suppress(FileNotFoundError):
                        stat = entry.stat()
                        entries.append((entry.name[:-5], stat.st_mtime_ns, stat.st_size))
        return tuple(sorted(entries))

    @staticmethod
    def _load(path: Path) -> CachedCatalog | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if data.get("format") != CACHE_FORMAT:
                raise ValueError(f"format {data.get('format')!r}, not {CACHE_FORMAT}")
            return CachedCatalog.from_json(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            log.warning("Ignoring the component catalog cache %s (%s): refresh the catalog to rebuild it.", path, error)
            return None
