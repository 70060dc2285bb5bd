"""Wire-format helpers: request bodies checked against the `kfp_server_api` models, responses pruned like KFP's gateway.

The real API server decodes bodies with protojson, so an unknown field or a wrong JSON type is a 400 there; checking
against the generated client models (the same swagger the gateway is built from) catches the same mistakes here.
Responses are emitted without unpopulated fields (no empty lists, zero totals, empty strings), because that is what
clients really receive: `None` where one might expect `[]` or `0`.
"""

from __future__ import annotations

import io
import json
import re
import tarfile
import zipfile
from datetime import datetime
from typing import Any

import yaml
from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
from kfp_server_api import models as api_models

_LIST = re.compile(r"list\[(.+)\]$")
_DICT = re.compile(r"dict\(str, (.+)\)$")
_INT = re.compile(r"-?\d+$")

# Filter operations by number, as in KFP's filter.proto (4 is unused there); the kfp client sends numbers.
FILTER_OPERATIONS = {0: "OPERATION_UNSPECIFIED", 1: "EQUALS", 2: "NOT_EQUALS", 3: "GREATER_THAN",
                     5: "GREATER_THAN_EQUALS", 6: "LESS_THAN", 7: "LESS_THAN_EQUALS", 8: "IN", 9: "IS_SUBSTRING"}


class WireError(ValueError):
    """A body or parameter the real server would reject with InvalidArgument (HTTP 400, gRPC code 3)."""


def _model(type_name: str) -> Any:
    return getattr(api_models, type_name)


def _is_enum(klass: Any) -> bool:
    return not klass.openapi_types and hasattr(klass, "allowable_values")


def check_body(value: Any, type_name: str, path: str = "") -> None:
    """Raise WireError where `value` (decoded JSON) does not fit the kfp_server_api type `type_name`."""
    where = path or type_name
    if value is None or type_name == "object":
        return  # JSON null leaves a proto field unset; `object` is a google.protobuf.Value/Struct: any JSON
    if type_name == "str":
        if not isinstance(value, str):
            raise WireError(f"proto: ({where}): invalid value for string type: {json.dumps(value)}")
    elif type_name == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and _INT.match(value))):
            raise WireError(f"proto: ({where}): invalid value for int64 type: {json.dumps(value)}")
    elif type_name == "bool":
        if not isinstance(value, bool):
            raise WireError(f"proto: ({where}): invalid value for bool type: {json.dumps(value)}")
    elif type_name == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise WireError(f"proto: ({where}): invalid value for double type: {json.dumps(value)}")
    elif type_name == "datetime":
        if not isinstance(value, str) or parse_time(value) is None:
            raise WireError(f"proto: ({where}): invalid google.protobuf.Timestamp value {json.dumps(value)}")
    elif match := _LIST.match(type_name):
        if not isinstance(value, list):
            raise WireError(f"proto: ({where}): invalid value for list field: {json.dumps(value)}")
        for index, item in enumerate(value):
            check_body(item, match.group(1), f"{where}[{index}]")
    elif match := _DICT.match(type_name):
        if not isinstance(value, dict):
            raise WireError(f"proto: ({where}): invalid value for map field: {json.dumps(value)}")
        for key, item in value.items():
            check_body(item, match.group(1), f"{where}[{key!r}]")
    else:
        klass = _model(type_name)
        if _is_enum(klass):
            values = klass.allowable_values
            if not ((isinstance(value, str) and value in values)
                    or (isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(values))):
                raise WireError(f"proto: ({where}): invalid value for enum type: {json.dumps(value)}")
            return
        if not isinstance(value, dict):
            raise WireError(f"proto: ({where}): invalid value for message {type_name}: {json.dumps(value)}")
        fields = {json_key: attr for attr, json_key in klass.attribute_map.items()}
        for key, item in value.items():
            if key not in fields:
                raise WireError(f'proto: ({where}): unknown field "{key}"')
            check_body(item, klass.openapi_types[fields[key]], f"{path}.{key}" if path else key)


def render(value: Any, type_name: str) -> Any:
    """The JSON the real gateway emits for `value`: unpopulated fields (None, "", 0, False, [], {}) left out.

    Also asserts that the server itself only emits fields the client models know, so the stand-in cannot drift.
    """
    if type_name == "object" or value is None:
        return value
    if match := _LIST.match(type_name):
        return [render(item, match.group(1)) for item in value]
    if match := _DICT.match(type_name):
        return {key: render(item, match.group(1)) for key, item in value.items()}
    if type_name in ("str", "int", "bool", "float", "datetime"):
        return value
    klass = _model(type_name)
    if _is_enum(klass):
        return value
    out: dict[str, Any] = {}
    for attr, item in value.items():
        if attr not in klass.openapi_types:
            raise AssertionError(f"test server bug: {type_name} has no field {attr!r}")
        field_type = klass.openapi_types[attr]
        if item is None or (field_type != "object" and item in ("", 0, False, [], {})):
            continue
        if field_type not in ("object", "str") and _is_unspecified(item, field_type):
            continue
        out[klass.attribute_map[attr]] = render(item, field_type)
    return out


def _is_unspecified(item: Any, field_type: str) -> bool:
    """Enum zero values (`..._UNSPECIFIED`) are unpopulated in proto3 and so left out too."""
    if field_type in ("int", "bool", "float", "datetime") or _LIST.match(field_type) or _DICT.match(field_type):
        return False
    klass = _model(field_type)
    return _is_enum(klass) and item == klass.allowable_values[0]


def parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def parse_filter(raw: str | None) -> list[dict[str, Any]]:
    """Predicates of a `filter` query parameter, keys snake_cased and operations named (protojson accepts both)."""
    if not raw:
        return []
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise WireError(f"Invalid input error: Failed to parse filter {raw!r}: {error}") from error
    if not isinstance(data, dict):
        raise WireError(f"Invalid input error: Failed to parse filter {raw!r}: not a JSON object")
    data = _snake_keys(data)
    check_body(data, "V2beta1Filter", "filter")
    predicates = []
    for predicate in data.get("predicates") or []:
        operation = predicate.get("operation", 0)
        if isinstance(operation, int):
            operation = FILTER_OPERATIONS.get(operation, "OPERATION_UNSPECIFIED")
        if operation == "OPERATION_UNSPECIFIED":
            raise WireError(f"Invalid input error: Invalid filter operation in predicate {json.dumps(predicate)}")
        predicates.append({**predicate, "operation": operation})
    return predicates


def _snake_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower(): _snake_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_snake_keys(item) for item in value]
    return value


def predicate_matches(predicate: dict[str, Any], record: dict[str, Any]) -> bool:
    """Whether `record` (a response dict before pruning) satisfies one filter predicate."""
    key = predicate.get("key", "")
    if key not in record:
        raise WireError(f"Invalid input error: Filter key {key!r} is not supported")
    actual = record[key]
    operation = predicate["operation"]
    if operation == "IN":
        for field in ("string_values", "int_values", "long_values"):
            if predicate.get(field):
                return actual in [type(actual)(v) for v in predicate[field]["values"] or []]
        return False
    wanted: Any = next((predicate[f] for f in ("string_value", "int_value", "long_value", "timestamp_value")
                        if f in predicate), "")
    if isinstance(actual, int) and not isinstance(wanted, int):
        wanted = int(wanted)
    actual_s, wanted_s = (str(actual), str(wanted)) if operation == "IS_SUBSTRING" else (actual, wanted)
    compare = {
        "EQUALS": lambda a, b: a == b, "NOT_EQUALS": lambda a, b: a != b, "GREATER_THAN": lambda a, b: a > b,
        "GREATER_THAN_EQUALS": lambda a, b: a >= b, "LESS_THAN": lambda a, b: a < b,
        "LESS_THAN_EQUALS": lambda a, b: a <= b, "IS_SUBSTRING": lambda a, b: b in a,
    }[operation]
    return bool(compare(actual_s, wanted_s))


def read_package(data: bytes) -> str:
    """The pipeline YAML inside an uploaded package (plain YAML/JSON, .tar.gz/.tgz or .zip), like the real server."""
    if data[:2] == b"\x1f\x8b":
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith((".yaml", ".yml", ".json"))]
            if len(members) != 1:
                raise WireError("Invalid package: the archive must hold exactly one pipeline YAML file")
            handle = tar.extractfile(members[0])
            assert handle is not None
            return handle.read().decode("utf-8")
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if n.endswith((".yaml", ".yml", ".json"))]
            if len(names) != 1:
                raise WireError("Invalid package: the archive must hold exactly one pipeline YAML file")
            return archive.read(names[0]).decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WireError(f"Invalid package: not UTF-8 text: {error}") from error


def parse_pipeline_yaml(text: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Split a compiled package into (pipeline spec, platform spec or None), both checked against the KFP protos."""
    try:
        docs = [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as error:
        raise WireError(f"Invalid pipeline spec: not YAML: {error}") from error
    if not docs or not all(isinstance(doc, dict) for doc in docs):
        raise WireError("Invalid pipeline spec: expected a YAML mapping")
    platform: dict[str, Any] | None = None
    for doc in docs[1:]:
        platform = {**(platform or {}), **doc}
    check_pipeline_spec(docs[0], platform)
    return docs[0], platform


def check_pipeline_spec(spec: Any, platform: Any = None) -> None:
    """Raise WireError unless `spec` parses as a KFP PipelineSpec (and `platform` as a PlatformSpec)."""
    if not isinstance(spec, dict):
        raise WireError("Invalid pipeline spec: expected a JSON object")
    try:
        parsed = json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
        if platform is not None:
            json_format.ParseDict(platform, pipeline_spec_pb2.PlatformSpec())
    except json_format.ParseError as error:
        raise WireError(f"Invalid pipeline spec: {error}") from error
    if not parsed.pipeline_info.name:
        raise WireError("Invalid pipeline spec: pipelineInfo.name is missing")
    if not parsed.HasField("root"):
        raise WireError("Invalid pipeline spec: root is missing")


def split_run_spec(value: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A run's inline `pipeline_spec`: the spec itself, or `{pipeline_spec, platform_spec}` as kfp sends with one."""
    if isinstance(value, dict) and "pipeline_spec" in value and "root" not in value:
        extra = set(value) - {"pipeline_spec", "platform_spec"}
        if extra:
            raise WireError(f"Invalid pipeline spec: unexpected keys {sorted(extra)}")
        spec, platform = value["pipeline_spec"], value.get("platform_spec")
    else:
        spec, platform = value, None
    check_pipeline_spec(spec, platform)
    return spec, platform
