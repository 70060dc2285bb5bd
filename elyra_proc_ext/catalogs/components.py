"""Kubeflow Pipelines component specifications (component YAML), read as Elyra reads them.

A spec is `name`, `description`, `inputs` and `outputs` (each `{name, type?, default?, optional?, description?}`)
and `implementation.container` (`image`, `command`, `args`, `env`), whose command and arguments consume inputs and
outputs through placeholders: `{inputValue: x}`, `{inputPath: x}`, `{outputPath: x}`, and those of KFP v2
(`inputUri`, `outputUri`, `inputMetadata`, `outputMetadata`, `executorInput`), anywhere inside `concat` and
`if: {cond, then, else}`. The input types are read with Elyra's rules, so the editor offers the same widgets:
a type naming a dict is an object, a list/array/set an array, str a string, int/number/float a number, bool a
boolean, anything else (URI, GCSPath, JsonObject) a string; an input consumed as a path takes a file, whatever its
type. Property ids are Elyra's too (`name` lower-cased, spaces as `_`; outputs `output_<id>`), so saved pipelines
keep their values. A spec that is not such YAML is refused with `ComponentSpecError` naming the file and field.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml

from ..errors import ComponentSpecError

VALUE, PATH = "value", "path"
INPUT_PLACEHOLDERS = {"inputValue": VALUE, "inputPath": PATH, "inputUri": PATH, "inputMetadata": PATH}
OUTPUT_PLACEHOLDERS = ("outputPath", "outputUri", "outputMetadata")
SIMPLE_PLACEHOLDERS = ("executorInput",)
CONTAINER_TYPES = {"dictionary": "object", "dict": "object", "set": "array", "list": "array", "array": "array",
                   "arr": "array"}
SCALAR_TYPES = ((("str", "string"), "string"), (("int", "integer", "number"), "number"), (("float",), "number"),
                (("bool", "boolean"), "boolean"))


@dataclass(frozen=True)
class ComponentInput:
    name: str
    id: str  # Elyra's property id of the input in a node's component_parameters
    type: str  # as written; "String" when the spec gives none (KFP's and Elyra's default)
    json_type: str  # string | number | boolean | object | array
    kind: str  # VALUE (the container receives the value) or PATH (it receives a file: an upstream output)
    optional: bool
    default: Any = None
    description: str = ""


@dataclass(frozen=True)
class ComponentOutput:
    name: str
    id: str  # Elyra's property id: output_<id>
    type: str
    description: str = ""


@dataclass(frozen=True)
class ComponentSpec:
    name: str
    description: str
    inputs: tuple[ComponentInput, ...]
    outputs: tuple[ComponentOutput, ...]
    container: dict[str, Any] = field(default_factory=dict)  # image, command, args, env as written

    def input(self, input_id: str) -> ComponentInput | None:
        return next((item for item in self.inputs if item.id == input_id), None)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ComponentSpec:
        return cls(name=data["name"], description=data["description"],
                   inputs=tuple(ComponentInput(**item) for item in data["inputs"]),
                   outputs=tuple(ComponentOutput(**item) for item in data["outputs"]), container=data["container"])


def property_id(name: str) -> str:
    """Elyra's id of a spec's input or output in a node's parameters."""
    return name.lower().replace(" ", "_")


def json_type(written: str) -> str:
    """Elyra's reading of a KFP type name as a JSON type (`ComponentParser.determine_type_information`)."""
    lowered = written.lower()
    for word, kind in CONTAINER_TYPES.items():
        if word in lowered:
            return kind
    return next((kind for words, kind in SCALAR_TYPES if any(word in lowered for word in words)), "string")


def parse_component(text: str | bytes, source: str) -> ComponentSpec:
    """The spec in `text` (read from `source`, a path or URL quoted in errors)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ComponentSpecError(f"{source}: not valid YAML{where}: {problem}.") from None
    except (UnicodeDecodeError, RecursionError):
        raise ComponentSpecError(f"{source}: not UTF-8 YAML text.") from None
    if not isinstance(document, dict):
        raise ComponentSpecError(f"{source}: a component specification is a YAML mapping with name, inputs, outputs "
                                 "and implementation; this is not one.")
    name = _text(document, "name", source, required=True)
    inputs = _declarations(document, "inputs", source)
    outputs = _declarations(document, "outputs", source)
    container = _container(document, source)
    used = dict(_placeholders(container, source, {item["name"] for item in inputs}, {item["name"] for item in outputs}))
    return ComponentSpec(
        name=name, description=" ".join(_text(document, "description", source).split()),
        inputs=tuple(_input(item, used.get(item["name"], VALUE)) for item in inputs),
        outputs=tuple(ComponentOutput(item["name"], f"output_{property_id(item['name'])}", item["type"],
                                      item["description"]) for item in outputs),
        container=container)


def _input(item: dict[str, Any], kind: str) -> ComponentInput:
    return ComponentInput(name=item["name"], id=property_id(item["name"]), type=item["type"],
                          json_type=json_type(item["type"]) if kind == VALUE else "string", kind=kind,
                          optional=item["optional"], default=item["default"], description=item["description"])


def _text(mapping: dict[str, Any], key: str, where: str, required: bool = False) -> str:
    value = mapping.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        problem = "is missing" if value is None else "must be a non-empty string"
        raise ComponentSpecError(f"{where}: {key} {problem}.")
    return value


def _declarations(document: dict[str, Any], key: str, source: str) -> list[dict[str, Any]]:
    """The inputs or outputs, each checked: a unique string name, a string type, a boolean `optional`."""
    items = document.get(key) or []
    if not isinstance(items, list):
        raise ComponentSpecError(f"{source}: {key} must be a list of {{name, type, description}} entries.")
    declared: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        where = f"{source}: {key}[{index}]"
        if not isinstance(item, dict):
            raise ComponentSpecError(f"{where} must be a mapping with a name.")
        name = _text(item, "name", where, required=True)
        if any(previous["name"] == name for previous in declared):
            raise ComponentSpecError(f"{where}: name '{name}' is declared twice.")
        written_type = item.get("type", "String")
        if isinstance(written_type, dict):  # KFP v1 typed artifacts, e.g. {GCSPath: {openapi_schema_validator: ..}}
            written_type = next(iter(written_type), "String")
        if not isinstance(written_type, str):
            raise ComponentSpecError(f"{where} ({name}): type must be a type name such as String or Integer.")
        optional = item.get("optional", False)
        if not isinstance(optional, bool):
            raise ComponentSpecError(f"{where} ({name}): optional must be true or false.")
        default = item.get("default")
        if default is not None and not isinstance(default, (str, int, float, bool, list, dict)):
            default = str(default)  # YAML dates and the like: the text KFP would pass
        declared.append({"name": name, "type": written_type, "optional": optional, "default": default,
                         "description": " ".join(_text(item, "description", f"{where} ({name})").split())})
    return declared


def _container(document: dict[str, Any], source: str) -> dict[str, Any]:
    implementation = document.get("implementation")
    container = implementation.get("container") if isinstance(implementation, dict) else None
    if not isinstance(container, dict):
        raise ComponentSpecError(f"{source}: implementation.container is missing; only container components can "
                                 "run (graph components cannot).")
    where = f"{source}: implementation.container"
    _text(container, "image", where, required=True)
    for key in ("command", "args"):
        if not isinstance(container.get(key, []), list):
            raise ComponentSpecError(f"{where}.{key} must be a list of strings and placeholders.")
    env = container.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(value, str) for value in env.values()):
        raise ComponentSpecError(f"{where}.env must map variable names to strings.")
    return {key: container[key] for key in ("image", "command", "args", "env") if key in container}


def _placeholders(container: dict[str, Any], source: str, inputs: set[str], outputs: set[str]
                  ) -> Iterator[tuple[str, str]]:
    """(input name, VALUE or PATH) of each input placeholder, after checking that every placeholder is one KFP knows
    and names a declared input or output. An input consumed both ways is a path (the container needs the file)."""
    kinds: dict[str, str] = {}
    for key in ("command", "args"):
        for index, item in enumerate(container.get(key, [])):
            for placeholder, name, where in _walk(item, f"{source}: implementation.container.{key}[{index}]"):
                if placeholder in INPUT_PLACEHOLDERS:
                    if name not in inputs:
                        raise ComponentSpecError(f"{where}: {placeholder} '{name}' names no declared input.")
                    kinds[name] = PATH if PATH in (kinds.get(name), INPUT_PLACEHOLDERS[placeholder]) else VALUE
                elif placeholder in OUTPUT_PLACEHOLDERS and name not in outputs:
                    raise ComponentSpecError(f"{where}: {placeholder} '{name}' names no declared output.")
    yield from kinds.items()


def _walk(item: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """(placeholder, name, location) of every input/output placeholder in one command or argument item."""
    if isinstance(item, (str, int, float)):
        return
    if not isinstance(item, dict) or len(item) != 1:
        raise ComponentSpecError(f"{where}: must be a string or one placeholder such as {{inputValue: name}}.")
    (placeholder, value), = item.items()
    if placeholder in INPUT_PLACEHOLDERS or placeholder in OUTPUT_PLACEHOLDERS:
        if not isinstance(value, str):
            raise ComponentSpecError(f"{where}: {placeholder} must name an input or output.")
        yield placeholder, value, where
    elif placeholder == "concat" and isinstance(value, list):
        for index, part in enumerate(value):
            yield from _walk(part, f"{where}.concat[{index}]")
    elif placeholder == "if" and isinstance(value, dict) and isinstance(value.get("cond"), (dict, bool, str)):
        yield from _condition(value["cond"], f"{where}.if.cond")
        for branch in ("then", "else"):
            parts = value.get(branch, [])
            for index, part in enumerate(parts if isinstance(parts, list) else [parts]):
                yield from _walk(part, f"{where}.if.{branch}[{index}]")
    elif placeholder not in SIMPLE_PLACEHOLDERS:
        raise ComponentSpecError(f"{where}: unknown placeholder '{placeholder}' (KFP knows inputValue, inputPath, "
                                 "outputPath, inputUri, outputUri, concat, if, executorInput...).")


def _condition(cond: Any, where: str) -> Iterator[tuple[str, str, str]]:
    """`isPresent: name` checks an input without consuming it; other conditions may hold placeholders."""
    if isinstance(cond, dict) and "isPresent" in cond:
        return
    if isinstance(cond, dict) and len(cond) == 1 and next(iter(cond)) in ("equal", "notEqual", "and", "or", "not"):
        operands = next(iter(cond.values()))
        for index, operand in enumerate(operands if isinstance(operands, list) else [operands]):
            yield from _condition(operand, f"{where}[{index}]")
        return
    yield from _walk(cond, where)
