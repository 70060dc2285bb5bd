"""Custom-component nodes (Kubeflow Pipelines components from the catalogs): where their components are looked up,
and their checks with Elyra's issue types.

Components are looked up in the catalogs' cache only (`ComponentLookup`), which worker processes and the CLI build
from the same directories as the server, so nothing is fetched while a pipeline is checked. The catalogs package is
imported on the first look-up: checking a pipeline of notebooks and scripts never pays for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .model import ComponentValue, Issue, Node, Pipeline
from .properties import PROPERTIES

if TYPE_CHECKING:
    from .catalogs import CatalogComponent, ComponentCatalogs, ComponentInput

COMPONENT_RUNTIME_TYPE = "KUBEFLOW_PIPELINES"  # the runtime type whose processors run catalog components
# What Elyra's editor saves in a custom node's parameters besides the component's inputs and outputs
EDITOR_KEYS = frozenset({"label", "description", "component_description", "component_source",
                         "component_source_type", "image", "runtime", "runtime_image"})
ELYRA_PROPERTIES = frozenset(prop.name for prop in PROPERTIES)  # Elyra's node properties (Kubernetes settings...)


class ComponentLookup:
    """The components of the catalogs in `catalogs_dir` (None: Elyra's place in the Jupyter data dir), as cached
    under `data_dir`. Pickled as its two directories, so a worker process builds its own read-only view."""

    def __init__(self, catalogs_dir: Path | None, data_dir: Path) -> None:
        self.catalogs_dir, self.data_dir = catalogs_dir, data_dir
        self._catalogs: ComponentCatalogs | None = None

    def __reduce__(self) -> tuple[type[ComponentLookup], tuple[Path | None, Path]]:
        return ComponentLookup, (self.catalogs_dir, self.data_dir)

    @property
    def catalogs(self) -> ComponentCatalogs:
        if self._catalogs is None:
            from .catalogs import ComponentCatalogs, default_catalogs_dir

            self._catalogs = ComponentCatalogs(self.catalogs_dir or default_catalogs_dir(), self.data_dir)
        return self._catalogs

    def component_for(self, op: str) -> CatalogComponent | None:
        return self.catalogs.component_for(op)

    def catalog_names(self) -> list[str]:
        return self.catalogs.store.names()


def custom_node_issues(node: Node, pipeline: Pipeline, catalog_names: Callable[[], list[str]]) -> list[Issue]:
    """Elyra's checks of a custom node: its component is known, each input is set as the component needs
    (required ones, types, upstream outputs that are upstream and exist) and no setting is for an input the
    component does not have."""
    if node.component is None:
        searched = searched_catalogs(catalog_names())
        return [node.issue("invalidNodeType", f"Node '{node.name}' uses component '{node.op}', which no component "
                           f"catalog here offers (catalogs searched: {searched}). Add the catalog that holds it, or "
                           "refresh the catalog if the component was added to it since (elyra-proc catalog ...).",
                           "op", node.op)]
    spec = node.component.spec
    issues: list[Issue] = []
    for item in spec.inputs:
        saved = node.component_values.get(item.id)
        if saved is not None and saved.takes_output:
            issues += _reference_issues(node, item, saved, pipeline)
        elif saved is not None and saved.widget == "parameter":
            if not any(saved.value == parameter.name for parameter in pipeline.parameters):
                issues.append(node.issue("invalidPipelineParameter", f"Node '{node.name}': input '{item.name}' takes "
                                         f"pipeline parameter {saved.value!r}, which the pipeline does not define.",
                                         item.id, _shown(saved.value)))
        elif saved is None or _empty(saved):
            if not item.optional and item.default is None:
                issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': input '{item.name}' of "
                                         f"component '{spec.name}' is required but has no value.", item.id))
        elif (expected := _type_mismatch(item, saved.value)) is not None:
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': input '{item.name}' "
                                     f"({item.type}) takes {expected}; {saved.value!r} is not one.",
                                     item.id, _shown(saved.value)))
    known = {item.id for item in spec.inputs} | {output.id for output in spec.outputs} | EDITOR_KEYS | ELYRA_PROPERTIES
    for key, raw in node.component_parameters.items():
        if key not in known and raw not in (None, "", [], {}):
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': component '{spec.name}' has no "
                                     f"input '{key}' (its inputs: {', '.join(i.id for i in spec.inputs) or 'none'}); "
                                     "its value would be lost. Remove it, or refresh the catalog if the component "
                                     "changed.", key))
    return issues


def searched_catalogs(names: list[str]) -> str:
    """The catalogs an op id was looked up in, as messages name them."""
    return ", ".join(f"'{name}'" for name in names) or "none, as no catalog is configured"


def _reference_issues(node: Node, item: ComponentInput, saved: ComponentValue, pipeline: Pipeline) -> list[Issue]:
    """An input taking an upstream node's output: a well-formed reference to an upstream node and one of its
    outputs."""
    where = f"Node '{node.name}': input '{item.name}' takes the output of an upstream node"
    if saved.node_id is None or saved.output is None:
        return [node.issue("invalidNodeProperty", f"{where}, but the reference is malformed: it must name the node "
                           "('value') and its output ('option').", item.id, _shown(saved.value))]
    source = pipeline.nodes.get(saved.node_id)
    if source is None:
        return [node.issue("invalidNodeProperty", f"{where}, but node '{saved.node_id}' does not exist.", item.id,
                           saved.node_id)]
    if saved.node_id not in upstream_ids(pipeline, node):
        return [node.issue("invalidNodeProperty", f"{where}, but node '{source.name}' is not upstream of it: link "
                           f"'{source.name}' to '{node.name}' (directly or through other nodes).", item.id,
                           saved.node_id)]
    outputs = [output.id for output in source.component.spec.outputs] if source.component else None
    if outputs is not None and saved.output not in outputs:
        return [node.issue("invalidNodeProperty", f"{where}, but node '{source.name}' has no output "
                           f"'{saved.output}' (its outputs: {', '.join(outputs) or 'none'}).", item.id, saved.output)]
    return []


def upstream_ids(pipeline: Pipeline, node: Node) -> set[str]:
    """The ids of every node `node` depends on, through any number of links."""
    found: set[str] = set()
    pending = list(node.parent_ids)
    while pending:
        parent_id = pending.pop()
        if parent_id not in found and parent_id in pipeline.nodes:
            found.add(parent_id)
            pending.extend(pipeline.nodes[parent_id].parent_ids)
    return found


def _empty(saved: ComponentValue) -> bool:
    """No value: nothing entered, or the empty object Elyra's editor saves for an input never set."""
    return saved.value is None or saved.value == "" or (saved.widget is None and saved.value == {})


def _type_mismatch(item: ComponentInput, value: Any) -> str | None:
    """What the input takes, when `value` is not such a value; text counts when it reads as one (KFP passes
    every value as text)."""
    if item.json_type == "number":
        fits = _is_number(value) or (isinstance(value, str) and _is_number(_float(value)))
        return None if fits else "a number"
    if item.json_type == "boolean":
        fits = isinstance(value, bool) or (isinstance(value, str) and value.strip().lower() in ("true", "false"))
        return None if fits else "true or false"
    if item.json_type == "object":
        return None if isinstance(value, (dict, str)) else "an object"
    if item.json_type == "array":
        return None if isinstance(value, (list, str)) else "a list"
    return None if isinstance(value, (str, int, float)) else "text"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _float(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else repr(value)
