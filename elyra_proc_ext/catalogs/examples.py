"""`elyra-kfp-examples-catalog`: the example components of Elyra's `elyra-examples-kfp-catalog` package, offered
when that package is installed. Its files are read as package data through `importlib.metadata`, without importing
the package (which imports Elyra). Op ids hash the file's path inside the package's `resources` directory, as its
own connector does, so pipelines built on Elyra's examples find them."""

from __future__ import annotations

from importlib.metadata import Distribution, PackageNotFoundError, distribution
from typing import Any, ClassVar

from .connector import CatalogConnector, CatalogReadError, ReadLimits
from .local import read_file

DISTRIBUTION = "elyra-examples-kfp-catalog"
RESOURCES = "kfp_examples_connector/resources/"


def examples_distribution() -> Distribution | None:
    try:
        return distribution(DISTRIBUTION)
    except PackageNotFoundError:
        return None


class ElyraExamplesConnector(CatalogConnector):
    schema_name = "elyra-kfp-examples-catalog"
    display_name = "Kubeflow Pipelines example components catalog"
    description = f"Elyra's example components for Kubeflow Pipelines (the {DISTRIBUTION} package)"
    hash_keys = ("component-id",)
    metadata_properties: ClassVar[dict[str, Any]] = {}

    @staticmethod
    def available() -> bool:
        return examples_distribution() is not None

    def entries(self, metadata: dict[str, Any]) -> list[dict[str, str]]:
        found = examples_distribution()
        if found is None:
            raise CatalogReadError(f"The {DISTRIBUTION} package is not installed: pip install {DISTRIBUTION}.")
        return [{"component-id": str(file)[len(RESOURCES):]} for file in sorted(found.files or [], key=str)
                if str(file).startswith(RESOURCES) and str(file).endswith(".yaml")]

    def read(self, entry: dict[str, str], metadata: dict[str, Any], limits: ReadLimits) -> bytes:
        found = examples_distribution()
        if found is None:
            raise CatalogReadError(f"The {DISTRIBUTION} package is not installed: pip install {DISTRIBUTION}.")
        return read_file(str(found.locate_file(RESOURCES + entry["component-id"])), limits)

    def location(self, entry: dict[str, str]) -> str:
        return f"{DISTRIBUTION}:{entry['component-id']}"
