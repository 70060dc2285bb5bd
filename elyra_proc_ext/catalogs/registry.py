"""The catalog types on offer: ours, and those of installed packages through the `elyra_proc_ext.catalog_connectors`
entry point group (entry point name = the type's `schema_name`, value = a `CatalogConnector` subclass). A plug-in
that fails to load, or claims a type already served, is logged and left out: it must not take the server down."""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points

from .connector import CatalogConnector
from .examples import ElyraExamplesConnector
from .local import LocalDirectoryConnector, LocalFileConnector
from .url import UrlConnector

ENTRY_POINT_GROUP = "elyra_proc_ext.catalog_connectors"
BUILT_IN: tuple[type[CatalogConnector], ...] = (LocalFileConnector, LocalDirectoryConnector, UrlConnector)
log = logging.getLogger(__name__)


@cache
def connector_types() -> dict[str, type[CatalogConnector]]:
    """Catalog type name -> connector class, loaded once per process."""
    types = {connector.schema_name: connector for connector in BUILT_IN}
    if ElyraExamplesConnector.available():
        types[ElyraExamplesConnector.schema_name] = ElyraExamplesConnector
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        try:
            connector = entry_point.load()
            if not (isinstance(connector, type) and issubclass(connector, CatalogConnector)):
                raise TypeError(f"{entry_point.value} is not a CatalogConnector subclass")
            if connector.schema_name != entry_point.name:
                raise TypeError(f"its schema_name is '{connector.schema_name}'; it must equal the entry point name")
            if entry_point.name in types:
                raise TypeError(f"catalog type '{entry_point.name}' is already served by {types[entry_point.name]}")
            types[entry_point.name] = connector
        except Exception as error:
            log.error("Component catalog type '%s' (%s) could not be loaded: %s", entry_point.name, entry_point.value,
                      error)
    return types
