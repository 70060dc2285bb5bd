"""Elyra pipeline JSON in, `Pipeline` out: decode, check the document's shape, migrate old formats, flatten.

Everything wrong with the document itself (bad JSON, schema violations, unknown format versions, dangling links)
is returned as issues, never raised: the caller decides whether to answer 400 or print them.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import fastjsonschema

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError

    from .catalogs import CatalogComponent

from .migration import CURRENT_VERSION, NewerVersionError, migrate
from .model import (
    GENERIC_OPS,
    UPSTREAM_WIDGETS,
    ComponentValue,
    Issue,
    Node,
    Pipeline,
    PipelineParameter,
    strongly_connected,
)
from .properties import PROPERTIES, ParseContext, PropertyValueError, generic_parameters_schema

SCHEMA_VERSION = "3.0"
ELYRA_OUTPUT_PREFIX = "elyra_"  # Elyra's editor saves an upstream output as `elyra_<output id>`
PASS_THROUGH_TYPES = {"super_node", "binding", "binding_entry_node", "binding_exit_node"}


@dataclass
class ParseResult:
    pipeline: Pipeline | None
    issues: list[Issue] = field(default_factory=list)
    migrated_from: int | None = None


@cache
def pipeline_schema() -> dict[str, Any]:
    """The shipped document schema, with `$defs/genericParameters` generated from the property table."""
    schema = json.loads(resources.files(__package__).joinpath("schemas/pipeline.schema.json").read_text())
    schema["$defs"]["genericParameters"] = generic_parameters_schema()
    return schema


@dataclass(frozen=True)
class _SchemaCheck:
    """A compiled fast check for the common case (valid input), and jsonschema to name every error when not;
    jsonschema is imported only then, as importing it is a good part of the CLI's start-up."""

    fast: Callable[[Any], Any]
    schema: dict[str, Any]

    def issues(self, instance: Any, prefix: str = "") -> list[Issue]:
        try:
            self.fast(instance)
            return []
        except fastjsonschema.JsonSchemaException:
            from jsonschema import Draft202012Validator

            return _schema_issues(Draft202012Validator(self.schema).iter_errors(instance), prefix)


@cache
def _validators() -> tuple[_SchemaCheck, _SchemaCheck]:
    schema, generic = pipeline_schema(), generic_parameters_schema()
    return _SchemaCheck(fastjsonschema.compile(schema), schema), _SchemaCheck(fastjsonschema.compile(generic), generic)


def json_path(parts: Iterable[str | int], prefix: str = "") -> str:
    path = prefix
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(document)"


def _schema_issues(errors: Iterator[ValidationError], prefix: str = "") -> list[Issue]:
    """Each problem once: jsonschema reports a `required` error per missing field (each of which lists them all
    here), and the branches of `oneOf`/`anyOf` or a shared `$ref` can repeat the same finding."""
    issues: dict[tuple[str, str], Issue] = {}
    for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path))):
        if error.validator == "required":  # name the missing field itself, not the object holding it
            for name in [key for key in error.validator_value if key not in error.instance]:
                path = json_path([*error.absolute_path, name], prefix)
                issues.setdefault((path, "required"), Issue("invalidJSON", f"{path} is required but missing.",
                                                            property_name=path))
            continue
        path = json_path(error.absolute_path, prefix)
        issues.setdefault((path, error.message), Issue("invalidJSON", f"{path}: {error.message}", property_name=path))
    return list(issues.values())


def decode(text: str | bytes) -> tuple[Any, list[Issue]]:
    """Parse JSON text, reporting where it breaks instead of raising."""
    try:
        return json.loads(text), []
    except json.JSONDecodeError as error:
        return None, [Issue("malformedJSON", f"The pipeline is not valid JSON: {error.msg} at line {error.lineno}, "
                                             f"column {error.colno}.")]
    except UnicodeDecodeError as error:
        return None, [Issue("malformedJSON", f"The pipeline is not UTF-8 text: {error.reason}.")]
    except RecursionError:
        return None, [Issue("malformedJSON", "The pipeline is nested too deeply to be read.")]
    except ValueError as error:  # e.g. a number with more digits than Python converts
        return None, [Issue("malformedJSON", f"The pipeline cannot be read: {str(error)[:200]}")]


def _primary_pipeline(document: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Issue]]:
    primary_id = document["primary_pipeline"]
    primary = next((p for p in document["pipelines"] if p["id"] == primary_id), None)
    if primary is None:
        return None, [Issue("invalidJSON", f"primary_pipeline: no pipeline has the id '{primary_id}'.",
                            property_name="primary_pipeline", value=primary_id)]
    app_data = primary.get("app_data")
    if not isinstance(app_data, dict):
        return None, [Issue("invalidJSON", "The primary pipeline has no app_data: this file was not saved by "
                                           "Elyra's pipeline editor.", property_name="app_data",
                            pipeline_id=primary_id)]
    if "version" not in app_data:
        return None, [Issue("invalidJSON", "The primary pipeline has no app_data.version: pipelines saved before "
                                           "Elyra 1.0 must be opened and saved once in Elyra's editor.",
                            property_name="app_data.version", pipeline_id=primary_id)]
    if type(app_data["version"]) is not int:
        return None, [Issue("invalidPipeline", "app_data.version must be a whole number such as 8.",
                            property_name="app_data.version", pipeline_id=primary_id)]
    if app_data["version"] < 1:
        return None, [Issue("invalidPipeline", f"Pipeline format version {app_data['version']} is not supported.",
                            property_name="app_data.version", value=app_data["version"], pipeline_id=primary_id)]
    return primary, []


ComponentFinder = Callable[[str], "CatalogComponent | None"]


def parse(document: Any, *, source: str | None = None, base_dir: str | None = None,
          components: ComponentFinder | None = None) -> ParseResult:
    """Turn a pipeline document into a `Pipeline`.

    `source` is the .pipeline file's path relative to the workspace root; node filenames are resolved against
    `base_dir` (root-relative; defaults to the directory of `source`, as in a file on disk). `components` finds a
    custom node's component by op id (none found: the node's `component` stays None, for validation to report).
    """
    try:
        return _parse(document, source, base_dir, components)
    except RecursionError:  # hundreds of nested lists or supernodes: no pipeline anyone drew
        return ParseResult(None, [Issue("invalidJSON", "The pipeline is nested too deeply (values or supernodes "
                                                       "hundreds of levels deep) to be processed.")])


@dataclass
class Migration:
    """A document brought to the current format version; `document` is None when it is not a pipeline (`issues`)."""

    document: dict[str, Any] | None
    from_version: int | None = None
    issues: list[Issue] = field(default_factory=list)


def migrated(document: Any, source: str | None = None) -> Migration:
    """Check the document's structure and migrate it to the current format version, as runs and the editor see it."""
    document_check, _ = _validators()
    issues = document_check.issues(document)
    if issues:
        return Migration(None, issues=issues)
    if document["version"] != SCHEMA_VERSION:
        return Migration(None, issues=[Issue("invalidPipeline", f"Unsupported pipeline-flow schema version "
                                                                f"'{document['version']}': expected "
                                                                f"'{SCHEMA_VERSION}'.", property_name="version",
                                             value=document["version"])])
    primary, issues = _primary_pipeline(document)
    if primary is None:
        return Migration(None, issues=issues)
    try:
        document, steps = migrate(document, source)
    except NewerVersionError as error:
        return Migration(None, issues=[Issue("invalidPipeline", f"Pipeline format version {error.version} was "
                                             f"written by a newer Elyra than this server understands (newest: "
                                             f"{error.current}); upgrade elyra_proc_ext.",
                                             property_name="app_data.version", value=error.version)])
    return Migration(document, steps[0] - 1 if steps else None)


def _parse(document: Any, source: str | None, base_dir: str | None,
           components: ComponentFinder | None) -> ParseResult:
    migration = migrated(document, source)
    if migration.document is None:
        return ParseResult(None, migration.issues)
    document = migration.document
    if base_dir is None:
        base_dir = posixpath.dirname(source) if source else ""
    builder = _PipelineBuilder(document, base_dir, components)
    pipeline = builder.build()
    pipeline.source = source
    pipeline.version = CURRENT_VERSION
    return ParseResult(pipeline, builder.issues, migration.from_version)


class _PipelineBuilder:
    """Walks the primary pipeline and its supernode subflows, collecting nodes and structural issues."""

    def __init__(self, document: dict[str, Any], base_dir: str, components: ComponentFinder | None) -> None:
        self.components = components
        self.pipelines = {p["id"]: p for p in document["pipelines"]}
        self.primary = self.pipelines[document["primary_pipeline"]]
        app_data = self.primary["app_data"]
        self.properties = app_data.get("properties") or {}
        self.base_dir = base_dir
        self.issues: list[Issue] = []
        self.defaults = self._checked_defaults(self.properties.get("pipeline_defaults") or {})
        self.raw_parents: dict[str, list[str]] = {}
        self.pass_through: dict[str, list[str]] = {}
        self.nodes: dict[str, Node] = {}

    def _checked_defaults(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """Pipeline defaults obey the same types as node parameters; wrong ones are reported, not applied."""
        _, generic_check = _validators()
        problems = generic_check.issues(defaults, "pipeline_defaults")
        for issue in problems:
            self.issues.append(replace(issue, type="invalidNodeProperty", pipeline_id=self.primary["id"]))
        return {} if problems else defaults

    def build(self) -> Pipeline:
        self._walk(self.primary, None, set())
        position = {node_id: index for index, node_id in enumerate(self.nodes)}
        behind = self._behind_pass_through()
        for node in self.nodes.values():
            parents = set().union(*(behind.get(parent_id, {parent_id}) for parent_id in self.raw_parents[node.id]))
            node.parent_ids = sorted(parents, key=lambda p: (position.get(p, len(position)), p))
        app_data = self.primary["app_data"]
        if not self.nodes:
            self.issues.append(Issue("invalidJSON", "The pipeline has no nodes: add at least one notebook or script.",
                                     property_name="nodes", pipeline_id=self.primary["id"]))
        return Pipeline(
            id=self.primary["id"],
            name=app_data.get("name") or self.properties.get("name") or "untitled",
            nodes=self.nodes,
            runtime_config=app_data.get("runtime_config") or None,
            runtime_type=app_data.get("runtime_type") or None,
            description=self.properties.get("description") or "",
            parameters=self._parameters(),
            cos_object_prefix=self.defaults.get("cos_object_prefix") or None,
        )

    def _parameters(self) -> list[PipelineParameter]:
        parameters = []
        for raw in self.properties.get("pipeline_parameters") or []:
            default = raw.get("default_value") or {}
            parameters.append(PipelineParameter(
                name=raw["name"], description=raw.get("description") or "", type=default.get("type") or "String",
                default_value=default.get("value"), value=raw.get("value"), required=bool(raw.get("required"))))
        return parameters

    def _walk(self, pipeline: dict[str, Any], supernode_parents: list[str] | None, seen: set[str]) -> None:
        """Collect execution nodes; supernodes and bindings become pass-through entries resolved later."""
        seen = seen | {pipeline["id"]}
        for node in pipeline["nodes"]:
            node_id = node["id"]
            if node_id in self.raw_parents:
                self.issues.append(Issue("invalidJSON", f"Node id '{node_id}' is used more than once.",
                                         node_id=node_id, property_name="id", pipeline_id=pipeline["id"]))
                continue
            parents = [link["node_id_ref"] for port in node.get("inputs", []) for link in port.get("links", [])]
            if node["type"] in ("binding", "binding_entry_node") and not parents and supernode_parents is not None:
                parents = supernode_parents
            self.raw_parents[node_id] = parents
            if node["type"] == "execution_node":
                self.nodes[node_id] = self._node(node, pipeline["id"])
            elif node["type"] == "super_node":
                self._walk_supernode(node, pipeline["id"], seen)
            else:
                self.pass_through[node_id] = parents

    def _walk_supernode(self, node: dict[str, Any], pipeline_id: str, seen: set[str]) -> None:
        subflow_id = node["subflow_ref"]["pipeline_id_ref"]
        subflow = self.pipelines.get(subflow_id)
        if subflow is None or subflow_id in seen:
            problem = "does not exist" if subflow is None else "contains itself"
            self.issues.append(Issue("invalidJSON", f"Supernode '{node['id']}' refers to pipeline '{subflow_id}', "
                                     f"which {problem}.", node_id=node["id"], property_name="subflow_ref",
                                     value=subflow_id, pipeline_id=pipeline_id))
            self.pass_through[node["id"]] = []
            return
        own_parents = self.raw_parents[node["id"]]
        self._walk(subflow, own_parents, {pipeline_id} | seen)
        exits = [n["id"] for n in subflow["nodes"] if n["type"] in ("binding", "binding_exit_node")
                 and any(port.get("links") for port in n.get("inputs", []))]
        self.pass_through[node["id"]] = exits

    def _behind_pass_through(self) -> dict[str, frozenset[str]]:
        """For each supernode and binding, the execution nodes behind it (and dangling links, kept so validation
        names them). Computed once per strongly connected group, each after the groups it leads to, so a long
        chain of bindings shared by thousands of nodes is walked once rather than once per node; a group with a
        single source shares its set."""
        links = {entry: [p for p in parents if p in self.pass_through] for entry, parents in self.pass_through.items()}
        behind: dict[str, frozenset[str]] = {}
        for group in strongly_connected(self.pass_through, links):
            members = set(group)
            direct = {p for entry in group for p in self.pass_through[entry] if p not in self.pass_through}
            inherited = {behind[p] for entry in group for p in links[entry] if p not in members}
            if not direct and len(inherited) == 1:
                shared = next(iter(inherited))
            else:
                shared = frozenset(direct).union(*inherited)
            behind.update(dict.fromkeys(group, shared))
        return behind

    def _node(self, raw: dict[str, Any], pipeline_id: str) -> Node:
        app_data = raw.get("app_data") or {}
        params = app_data.get("component_parameters")
        op = raw["op"]
        kind = GENERIC_OPS.get(op, "custom")
        ui_data = app_data.get("ui_data") if isinstance(app_data.get("ui_data"), dict) else {}
        label = app_data.get("label") or ui_data.get("label")
        filename = params.get("filename") if isinstance(params, dict) else None
        if not label and isinstance(filename, str):
            label = posixpath.basename(filename)
        component = self.components(op) if kind == "custom" and self.components else None
        if not label and component is not None:
            label = component.spec.name
        node = Node(id=raw["id"], name=label or raw["id"], op=op, kind=kind, pipeline_id=pipeline_id,
                    component=component)
        if not isinstance(params, dict):
            self.issues.append(node.issue("invalidJSON", f"Node '{node.name}' has no app_data.component_parameters.",
                                          "component_parameters"))
            return node
        node.component_parameters = params
        if kind == "custom":
            node.component_values = {key: saved_component_value(value) for key, value in params.items()}
        else:
            self._generic(node, params)
        return node

    def _generic(self, node: Node, params: dict[str, Any]) -> None:
        _, generic_check = _validators()
        type_issues = generic_check.issues(params)
        if type_issues:
            self.issues.extend(node.issue("invalidNodeProperty", f"Node '{node.name}': {issue.message}",
                                          issue.property_name.split(".")[0].split("[")[0]) for issue in type_issues)
            return
        context = ParseContext(self.base_dir)
        for prop in PROPERTIES:
            raw = prop.raw_value(params, self.defaults)
            try:
                setattr(node, prop.name, prop.parse(raw, context))
            except PropertyValueError as error:
                self.issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': {prop.name} {error}",
                                              prop.name, error.value))


def saved_component_value(raw: Any) -> ComponentValue:
    """A custom node's input as Elyra's editor saves it: `{"widget": "string", "value": "x"}`, an upstream output
    `{"widget": "inputpath", "value": {"value": <node id>, "option": "elyra_<output id>"}}`, or (older formats, and
    an input never set: `{}`) a bare value."""
    if not isinstance(raw, dict) or not isinstance(raw.get("widget"), str):
        return ComponentValue(None, raw)
    widget, value = raw["widget"], raw.get("value")
    if widget not in UPSTREAM_WIDGETS:
        return ComponentValue(widget, value)
    reference = value if isinstance(value, dict) else {}
    node_id, option = reference.get("value"), reference.get("option")
    return ComponentValue(widget, value, node_id if isinstance(node_id, str) and node_id else None,
                          option.removeprefix(ELYRA_OUTPUT_PREFIX) if isinstance(option, str) and option else None)
