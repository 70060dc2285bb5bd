"""Component catalogs as the REST API and `elyra-proc catalog` use them: list, create, update, delete, refresh.

Creating, updating or refreshing a catalog reads its sources (a few entries at once, each within `ReadLimits`) and
caches what they hold; the calls block, so the server runs them in a thread. An entry that cannot be read or
parsed does not fail the catalog: the others are offered and the answer lists each problem, naming the entry.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CatalogError, CatalogReadError, ComponentSpecError
from ..metadata_store import keep_unchanged_secrets, name_from_display_name
from ..redaction import redact_credentials
from ..runtime_configs import violations
from .cache import CACHE_DIRECTORY, CachedCatalog, CatalogCache, CatalogComponent
from .components import parse_component
from .connector import KUBEFLOW_PIPELINES, CatalogConnector, ReadLimits, metadata_schema, op_id
from .registry import connector_types
from .store import Catalog, CatalogStore

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

PARALLEL_READS = 4
log = logging.getLogger(__name__)


class ComponentCatalogs:
    """The catalogs of `catalogs_dir`, cached under `data_dir` (the extension's: run records are there too)."""

    def __init__(self, catalogs_dir: Path, data_dir: Path, limits: ReadLimits | None = None) -> None:
        self.store = CatalogStore(catalogs_dir)
        self.cache = CatalogCache(data_dir / CACHE_DIRECTORY)
        self.limits = limits or ReadLimits()

    @staticmethod
    def types() -> list[dict[str, Any]]:
        return [connector.describe() for connector in connector_types().values()]

    def describe(self, catalog: Catalog, components: bool = False) -> dict[str, Any]:
        """The catalog, secrets masked, with what its last read found (no read yet: `refreshed` null)."""
        cached = self.cache.catalogs().get(catalog.name)
        found = cached.summary() if cached else {"refreshed": None, "component_count": 0, "errors": []}
        answer = {**catalog.to_json(), **found}
        if components:
            answer["components"] = [{"op": item.op, "name": item.spec.name, "description": item.spec.description,
                                     "source": item.source} for item in (cached.components if cached else ())]
        return answer

    def list(self) -> list[dict[str, Any]]:
        return [self.describe(catalog) for catalog in self.store.list()]

    def get(self, name: str) -> dict[str, Any]:
        return self.describe(self.store.load(name), components=True)

    def save(self, body: Any, name: str | None = None) -> dict[str, Any]:
        """Create (`name` None: named after the body) or update a catalog after checking it against its type's
        schema, then read it."""
        if not isinstance(body, dict):
            raise CatalogError("The body must be a JSON object with display_name, schema_name and metadata.")
        previous = self.store.load(name) if name else None
        name = name or str(body.get("name") or name_from_display_name(str(body.get("display_name") or ""), "catalog"))
        self.store.path(name)  # a bad name is refused before anything else
        schema_name = body.get("schema_name") or (previous.schema_name if previous else None)
        connector = connector_types().get(schema_name) if isinstance(schema_name, str) else None
        if connector is None:
            raise CatalogError(f"schema_name must name a catalog type: {', '.join(sorted(connector_types()))}.")
        metadata = body.get("metadata", previous.metadata if previous else {})
        if isinstance(metadata, dict):
            metadata = {"runtime_type": KUBEFLOW_PIPELINES, "categories": [], **metadata}
            if previous:
                metadata = keep_unchanged_secrets(metadata, previous.metadata, Catalog(name, "", schema_name,
                                                                                       previous.metadata).secret_fields)
        display_name = body.get("display_name") or (previous.display_name if previous else name)
        catalog = Catalog(name, display_name, schema_name, metadata if isinstance(metadata, dict) else {})
        document = {"display_name": display_name, "schema_name": schema_name, "metadata": metadata}
        errors = violations(catalog_validator(connector), document, "(catalog)", catalog.secret_fields)
        if errors:
            raise CatalogError(f"Invalid component catalog '{name}': {'; '.join(errors)}")
        self.store.save(catalog, create=previous is None)
        self.refresh(name)
        return self.get(name)

    def delete(self, name: str) -> None:
        self.store.delete(name)
        self.cache.remove(name)

    def refresh(self, name: str) -> dict[str, Any]:
        """Read the catalog's sources again and cache what they hold; the catalog as `get` answers it."""
        catalog = self.store.load(name)
        self.cache.write(read_catalog(catalog, self.limits))
        return self.get(name)

    def component_for(self, op: str) -> CatalogComponent | None:
        """The cached component of op id `op`, from the first catalog by name that offers it; nothing is read from
        a catalog's sources here. A catalog deleted outside this server (with Elyra) no longer counts."""
        cached = self.cache.catalogs()
        for name in self.store.names():
            component = cached[name].by_op.get(op) if name in cached else None
            if component is not None:
                return component
        return None

    def read_unread(self) -> None:
        """Read every catalog that has no cache yet (created with Elyra, or before this server ran), so that they
        work without a refresh; the server runs it in the background once it starts. What an entry lacks is in the
        cache, as for any read; a catalog that cannot be read at all is logged."""
        cached = self.cache.catalogs()
        for name in self.store.names():
            if name not in cached:
                try:
                    self.refresh(name)
                except Exception as error:  # an unreadable catalog file, a full disk: the others are still read
                    log.warning("Component catalog '%s' could not be read: %s", name, error)


def catalog_validator(connector: type[CatalogConnector]) -> Validator:
    from jsonschema import Draft202012Validator  # here, when a catalog is saved: CLI commands that list stay quick

    return Draft202012Validator({
        "type": "object", "required": ["display_name", "schema_name", "metadata"],
        "properties": {"display_name": {"type": "string", "minLength": 1}, "schema_name": {"type": "string"},
                       "metadata": metadata_schema(connector)}})


def read_catalog(catalog: Catalog, limits: ReadLimits) -> CachedCatalog:
    """Everything `catalog` offers now, with a message for each entry that could not be used."""
    categories = tuple(item for item in catalog.metadata.get("categories") or () if isinstance(item, str))
    components: dict[str, CatalogComponent] = {}
    errors: list[str] = []
    connector_class = connector_types().get(catalog.schema_name)
    runtime_type = catalog.metadata.get("runtime_type", KUBEFLOW_PIPELINES)
    if connector_class is None:
        errors.append(f"Catalog type '{catalog.schema_name}' is not installed here; installed: "
                      f"{', '.join(sorted(connector_types()))}.")
    elif runtime_type != KUBEFLOW_PIPELINES:
        errors.append(f"runtime_type {runtime_type}: only Kubeflow Pipelines components are read here.")
    else:
        connector = connector_class()
        try:
            entries = connector.entries(catalog.metadata)
        except Exception as error:  # a plug-in connector's own failure too: reported, not a crash
            entries = []
            errors.append(failure("The catalog cannot be listed", error))
        with ThreadPoolExecutor(max_workers=PARALLEL_READS, thread_name_prefix="elyra-proc-catalog") as pool:
            results = list(pool.map(lambda entry: read_entry(connector, catalog, entry, limits), entries))
        for result in results:
            if isinstance(result, str):
                errors.append(result)
            elif result.op in components:
                errors.append(f"{result.source} has the op id {result.op} of {components[result.op].source}; the "
                              "first is kept.")
            else:
                components[result.op] = result
    return CachedCatalog(catalog.name, catalog.display_name, categories, round(time.time(), 3),
                         tuple(components.values()), tuple(errors))


def read_entry(connector: CatalogConnector, catalog: Catalog, entry: dict[str, str],
               limits: ReadLimits) -> CatalogComponent | str:
    """The component of one entry, or why it cannot be offered."""
    source = redact_credentials(connector.location(entry))
    try:
        spec = parse_component(connector.read(entry, catalog.metadata, limits), source)
    except Exception as error:
        return failure(f"{source}: cannot be read", error)
    return CatalogComponent(op_id(catalog.schema_name, entry, connector.hash_keys), catalog.name, source,
                            redact_credentials(dict(entry)), spec)


def failure(what: str, error: Exception) -> str:
    """The message of an entry or catalog that could not be read: ours say what to fix; a plug-in connector's other
    exceptions are reported with their type, not raised (one broken entry must not fail the catalog)."""
    if isinstance(error, (CatalogReadError, ComponentSpecError)):
        return str(error)
    return f"{what} ({type(error).__name__}: {redact_credentials(str(error))})."
