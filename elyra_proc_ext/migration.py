"""Bring pipeline documents written by older Elyra releases up to the current format, in memory.

Elyra's back end refuses any primary pipeline whose `app_data.version` is not current; its JupyterLab
editor migrates older files when it opens them (elyra-ai/pipeline-editor, `pipeline-services/src/migration`).
This module repeats those steps, one function per format version, so that old files run as they are.
Documents are untrusted: a step skips any value of an unexpected type and leaves it for the validator.
"""

from __future__ import annotations

import copy
import json
import posixpath
from collections.abc import Callable, Iterator
from typing import Any

CURRENT_VERSION: int = 8


class NewerVersionError(ValueError):
    """The document was written by a newer format than we understand."""

    def __init__(self, version: int, current: int = CURRENT_VERSION) -> None:
        super().__init__(f"Pipeline format version {version} is newer than the newest version understood "
                         f"here ({current}).")
        self.version = version
        self.current = current


# Example-component op ids renamed by format 5, then replaced by catalog ids in format 6.
_V5_OPS = {
    "run-notebook-using-papermill": "run_notebook_using_papermill_Runnotebookusingpapermill",
    "filter-text": "filter_text_using_shell_and_grep_Filtertext",
    "bash-operator_BashOperator": "bash_operator_BashOperator",
    "email-operator_EmailOperator": "email_operator_EmailOperator",
    "http-operator_SimpleHttpOperator": "http_operator_SimpleHttpOperator",
    "spark-sql-operator_SparkSqlOperator": "spark_sql_operator_SparkSqlOperator",
    "spark-submit-operator_SparkSubmitOperator": "spark_submit_operator_SparkSubmitOperator",
    "slack-operator_SlackAPIPostOperator": "slack_operator_SlackAPIPostOperator",
}
_KFP = "elyra-kfp-examples-catalog:"
_AIRFLOW = "elyra-airflow-examples-catalog:"
_V6_OPS = {
    "run_notebook_using_papermill_Runnotebookusingpapermill": _KFP + "61e6f4141f65",
    "filter_text_using_shell_and_grep_Filtertext": _KFP + "737915b826e9",
    "component_Downloaddata": _KFP + "a08014f9252f",
    "component_Calculatedatahash": _KFP + "d68ec7fcdf46",
    "bash_operator_BashOperator": _AIRFLOW + "3a55d015ea96",
    "email_operator_EmailOperator": _AIRFLOW + "a043648d3897",
    "http_operator_SimpleHttpOperator": _AIRFLOW + "b94cd49692e2",
    "spark_sql_operator_SparkSqlOperator": _AIRFLOW + "3b639742748f",
    "spark_submit_operator_SparkSubmitOperator": _AIRFLOW + "b29c25ec8bd6",
    "slack_operator_SlackAPIPostOperator": _AIRFLOW + "16a204f716a2",
}
# Two KFP components were fetched as ".../component.yaml" before they got catalog file names.
_CATALOG_FILE_NAMES = {_KFP + "a08014f9252f": "download_data.yaml",
                       _KFP + "d68ec7fcdf46": "calculate_hash.yaml"}
_RUNTIME_TYPES = {"kfp": "KUBEFLOW_PIPELINES", "airflow": "APACHE_AIRFLOW"}

# Parameters that the format 7 palette edited with a OneOfControl (a typed value or a parent's output), per
# catalog op. Their control is StringControl unless _NON_STRING_CONTROLS says otherwise.
_ONE_OF_PARAMETERS = {
    _KFP + "a08014f9252f": "url curl_options",
    _KFP + "737915b826e9": "pattern",
    _KFP + "d68ec7fcdf46": "hash_algorithm",
    _KFP + "61e6f4141f65": "parameters packages_to_install input_data",
    _AIRFLOW + "3a55d015ea96": "bash_command xcom_push env output_encoding",
    _AIRFLOW + "a043648d3897": "to subject html_content files cc bcc mime_subtype mime_charset",
    _AIRFLOW + "b94cd49692e2": "endpoint method data headers response_check extra_options xcom_push "
                               "http_conn_id log_response",
    _AIRFLOW + "3b639742748f": "sql conf conn_id total_executor_cores executor_cores executor_memory keytab "
                               "principal master name num_executors verbose yarn_queue",
    _AIRFLOW + "b29c25ec8bd6": "application conf conn_id files py_files archives driver_class_path jars "
                               "java_class packages exclude_packages repositories total_executor_cores "
                               "executor_cores executor_memory driver_memory keytab principal proxy_user "
                               "name num_executors status_poll_interval application_args env_vars verbose "
                               "spark_binary",
    _AIRFLOW + "16a204f716a2": "slack_conn_id token api_params channel username text icon_url attachments "
                               "blocks",
}
_NON_STRING_CONTROLS = {
    "xcom_push": "BooleanControl", "log_response": "BooleanControl", "verbose": "BooleanControl",
    "total_executor_cores": "NumberControl", "executor_cores": "NumberControl",
    "num_executors": "NumberControl", "status_poll_interval": "NumberControl",
}
_WIDGETS = {"StringControl": "string", "NumberControl": "number", "BooleanControl": "boolean",
            "NestedEnumControl": "inputpath"}

Pipelines = list[dict[str, Any]]
Step = Callable[[dict[str, Any], Pipelines, str], None]


def _nodes(pipelines: Pipelines) -> Iterator[dict[str, Any]]:
    """Nodes (dicts with a dict `app_data`) of the given pipelines."""
    for pipeline in pipelines:
        nodes = pipeline.get("nodes")
        for node in nodes if isinstance(nodes, list) else []:
            if isinstance(node, dict) and isinstance(node.get("app_data"), dict):
                yield node


def _catalog_op(node: dict[str, Any], ops: dict[str, Any]) -> str | None:
    op = node.get("op")
    return op if isinstance(op, str) and op in ops else None


def _to_v2(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Make node filenames relative to the pipeline file's directory instead of the workspace root.

    Upstream does this through a callback that Elyra's editor supplies (without it: base name only).
    Parameters are looked up in `component_parameters` too, as some Elyra test files declare version 1 but
    have v4 nodes.
    """
    for node in _nodes([primary]):
        params = node["app_data"].get("component_parameters")
        params = params if isinstance(params, dict) else node["app_data"]
        filename = params.get("filename")
        if isinstance(filename, str) and filename:
            params["filename"] = posixpath.relpath(filename.lstrip("/") or ".", pipeline_dir or ".")


def _to_v3(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Nothing to change: the new number only keeps Elyra < 1.2 from opening files with Python nodes."""


def _to_v4(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Move execution-node parameters into `app_data.component_parameters` and give each node a `label`."""
    for node in _nodes(pipelines):
        app_data = node["app_data"]
        if node.get("type") != "execution_node" or isinstance(app_data.get("component_parameters"), dict):
            continue  # supernodes and bindings keep their app_data; v4-shaped nodes are already done
        ui_data = app_data.pop("ui_data", None)
        ui_data = {} if ui_data is None else ui_data
        label = ui_data.get("label") if isinstance(ui_data, dict) else None
        node["app_data"] = {"label": "" if label is None else label, "component_parameters": app_data,
                            "ui_data": ui_data}


def _to_v5(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Rename the example components' ops to the names their catalog connectors generated."""
    for node in _nodes(pipelines):
        if op := _catalog_op(node, _V5_OPS):
            node["op"] = _V5_OPS[op]


def _wrap_one_of(node: dict[str, Any]) -> None:
    """Store OneOfControl parameters as `{"activeControl": control, control: value}` (format 7 palette)."""
    params = node["app_data"].get("component_parameters")
    if not isinstance(params, dict):
        return
    for name in _ONE_OF_PARAMETERS[node["op"]].split():
        if name in params:
            control = _NON_STRING_CONTROLS.get(name, "StringControl")
            params[name] = {"activeControl": control, control: params[name]}


def _to_v6(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Replace `runtime` by `runtime_type`, example ops by catalog ids, `component_source` by a catalog ref.

    Airflow parameters switch to the OneOf format here, KFP ones in the next step.
    """
    app_data = primary["app_data"]
    runtime = app_data.pop("runtime", None)
    if isinstance(runtime, str) and runtime in _RUNTIME_TYPES:
        app_data["runtime_type"] = _RUNTIME_TYPES[runtime]
    for node in _nodes(pipelines):
        if not (op := _catalog_op(node, _V6_OPS)):
            continue
        node["op"] = new_op = _V6_OPS[op]
        source = node["app_data"].get("component_source")
        if isinstance(source, str):
            file_name = posixpath.basename(source.rstrip("/"))
            if file_name == "component.yaml":
                file_name = _CATALOG_FILE_NAMES.get(new_op, file_name)
            ref = {"catalog_type": new_op.split(":")[0], "component_ref": {"component-id": file_name}}
            node["app_data"]["component_source"] = json.dumps(ref, separators=(",", ":"))
        if app_data.get("runtime_type") == "APACHE_AIRFLOW":
            _wrap_one_of(node)


def _to_v7(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Switch catalog components' parameters to the OneOf format in Kubeflow Pipelines pipelines."""
    if primary["app_data"].get("runtime_type") == "KUBEFLOW_PIPELINES":
        for node in _nodes(pipelines):
            if _catalog_op(node, _ONE_OF_PARAMETERS):
                _wrap_one_of(node)


def _pair(first: str, second: str) -> Callable[[str], dict[str, str]]:
    def parse(item: str) -> dict[str, str]:
        left, _, right = item.partition("=")
        return {first: left.strip(), second: right.strip()}
    return parse


def _secret(item: str) -> dict[str, str]:
    env_var, _, reference = item.partition("=")
    name, _, key = reference.partition(":")
    return {"env_var": env_var.strip(), "name": name.strip(), "key": key.strip()}


def _toleration(item: str) -> dict[str, str]:
    parts = [part.strip() for part in item.split("=", 1)[-1].split(":", 3)]
    return dict(zip(("key", "operator", "value", "effect"), parts + [""] * (4 - len(parts)), strict=True))


# "K=V" strings of format 7 and the objects format 8 stores instead. Strings are split where Elyra < 3.12
# split them to run the pipeline (first "=", then ":"); the editor's regular expressions garble values
# that contain a comma.
_KEY_VALUE_LISTS: dict[str, Callable[[str], dict[str, str]]] = {
    "env_vars": _pair("env_var", "value"),
    "mounted_volumes": _pair("path", "pvc_name"),
    "kubernetes_pod_annotations": _pair("key", "value"),
    "kubernetes_pod_labels": _pair("key", "value"),
    "kubernetes_secrets": _secret,
    "kubernetes_tolerations": _toleration,
}


def _split_key_value_lists(properties: dict[str, Any]) -> None:
    for name, parse in _KEY_VALUE_LISTS.items():
        items = properties.get(name)
        if isinstance(items, list):
            properties[name] = [parse(item) if isinstance(item, str) else item for item in items]


def _widget_value(value: Any) -> Any:
    """A format 7 parameter value in the format 8 `{"widget": ..., "value": ...}` form (others unchanged)."""
    if isinstance(value, dict):
        control = value.get("activeControl")
        if isinstance(control, str) and control in _WIDGETS:
            return {"widget": _WIDGETS[control], "value": value.get(control)}
        # A parent's output; Elyra 3.x files may carry the display label along.
        if value.keys() - {"label"} == {"option", "value"}:
            return {"widget": "inputpath", "value": value}
    return value


def _to_v8(primary: dict[str, Any], pipelines: Pipelines, pipeline_dir: str) -> None:
    """Store parameter values as `{widget, value}` and "K=V" string lists as lists of objects."""
    for pipeline in pipelines:
        properties = pipeline.get("app_data")
        properties = properties.get("properties") if isinstance(properties, dict) else None
        defaults = properties.get("pipeline_defaults") if isinstance(properties, dict) else None
        if isinstance(defaults, dict):
            _split_key_value_lists(defaults)
    for node in _nodes(pipelines):
        params = node["app_data"].get("component_parameters")
        if isinstance(params, dict):
            for name in list(params):
                params[name] = _widget_value(params[name])
            _split_key_value_lists(params)


_STEPS: tuple[tuple[int, Step], ...] = (
    (2, _to_v2), (3, _to_v3), (4, _to_v4), (5, _to_v5), (6, _to_v6), (7, _to_v7), (8, _to_v8),
)


def migrate(document: dict, pipeline_path: str | None = None) -> tuple[dict, list[int]]:
    """Return a migrated deep copy (every pipeline in `pipelines`, including supernode subflows) and the list
    of versions it was migrated to (empty when already current).

    `pipeline_path` is the .pipeline file's path relative to the workspace root (None: at the root).
    """
    result = copy.deepcopy(document)
    pipelines = result.get("pipelines")
    pipelines = [p for p in pipelines if isinstance(p, dict)] if isinstance(pipelines, list) else []
    primary = next((p for p in pipelines if p.get("id") == result.get("primary_pipeline")), None)
    app_data = primary.get("app_data") if primary is not None else None
    version = app_data.get("version") if isinstance(app_data, dict) else None
    if primary is None or not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return result, []  # nothing we can migrate: the caller's checks report it
    if version > CURRENT_VERSION:
        raise NewerVersionError(version)
    if version == CURRENT_VERSION:
        return result, []
    pipeline_dir = posixpath.dirname(pipeline_path.lstrip("/")) if pipeline_path else ""
    applied = []
    for target, step in _STEPS:
        if version < target:
            step(primary, pipelines, pipeline_dir)
            applied.append(target)
    for pipeline in pipelines:  # a subflow gets a version only if it already declared one
        sub_app_data = pipeline.get("app_data")
        if isinstance(sub_app_data, dict) and (pipeline is primary or "version" in sub_app_data):
            sub_app_data["version"] = CURRENT_VERSION
    return result, applied
