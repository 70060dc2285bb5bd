"""Migration of old Elyra pipeline formats, checked on the real pipelines of the acceptance corpus."""

from __future__ import annotations

import copy
import json
import posixpath
from pathlib import Path
from typing import Any

import pytest

from elyra_proc_ext.migration import CURRENT_VERSION, NewerVersionError, migrate

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "pipelines"
VALID_CASES = sorted(path.parent for path in (CORPUS / "valid").glob("*/case.json"))
GENERIC_OPS = {"execute-notebook-node", "execute-python-node", "execute-r-node"}
# Keys the items of these lists may have in format 8 (the editor leaves out empty ones).
KEY_VALUE_ITEM_KEYS = {
    "env_vars": {"env_var", "value"},
    "kubernetes_secrets": {"env_var", "name", "key"},
    "mounted_volumes": {"path", "pvc_name", "sub_path", "read_only"},
    "kubernetes_tolerations": {"key", "operator", "value", "effect"},
    "kubernetes_pod_annotations": {"key", "value"},
    "kubernetes_pod_labels": {"key", "value"},
}
LEGACY_OPS = json.loads((CORPUS / "components" / "index.json").read_text())[
    "legacy_ops (pipeline format <= v5; mapped by pipeline-editor migrateV5/migrateV6)"]


def load(case_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    case_dir = CORPUS / "valid" / case_name
    case = json.loads((case_dir / "case.json").read_text())
    return case, json.loads((case_dir / case["pipeline_file"]).read_text())


def migrated(case_name: str, pipeline_path: str | None = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """The case's original document and its migration (pipeline_path defaults to the case's own)."""
    case, document = load(case_name)
    result, _ = migrate(document, case["pipeline_file"] if pipeline_path == "" else pipeline_path)
    return document, result


def primary(document: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in document["pipelines"] if p["id"] == document["primary_pipeline"])


def execution_nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for p in document["pipelines"] for node in p["nodes"] if node["type"] == "execution_node"]


def params(node: dict[str, Any]) -> dict[str, Any]:
    return node["app_data"]["component_parameters"]


def test_corpus_has_every_old_version() -> None:
    versions = {load(case.name)[0]["format"]["app_data_version"] for case in VALID_CASES}
    assert set(range(1, CURRENT_VERSION + 1)) <= versions


@pytest.mark.parametrize("case_dir", VALID_CASES, ids=lambda path: path.name)
def test_valid_case_becomes_current(case_dir: Path) -> None:
    case, document = load(case_dir.name)
    original = copy.deepcopy(document)
    result, steps = migrate(document, case["pipeline_file"])

    assert document == original
    version = case["format"]["app_data_version"]
    assert steps == list(range(version + 1, CURRENT_VERSION + 1))
    assert primary(result)["app_data"]["version"] == CURRENT_VERSION
    declared = [p["app_data"]["version"] for p in result["pipelines"] if "version" in p["app_data"]]
    assert declared == [CURRENT_VERSION] * len(declared)
    assert migrate(result, case["pipeline_file"]) == (result, [])

    pipeline_dir = posixpath.dirname(case["pipeline_file"])
    known_files = set(case["files"]["copied"]) | set(case["files"]["referenced_but_absent_in_source"])
    for node in execution_nodes(result):
        if node["op"] in GENERIC_OPS:
            path = posixpath.normpath(posixpath.join(pipeline_dir, params(node)["filename"]))
            assert path in known_files
            assert (path in case["files"]["copied"]) == (case_dir / path).is_file()
        assert "activeControl" not in json.dumps(params(node))
    properties = primary(result)["app_data"].get("properties", {})
    for container in [properties.get("pipeline_defaults", {})] + [params(n) for n in execution_nodes(result)]:
        for name, keys in KEY_VALUE_ITEM_KEYS.items():
            items = container.get(name)
            if isinstance(items, list):
                assert all(isinstance(item, dict) and item and item.keys() <= keys for item in items), name

    for before, after in zip(execution_nodes(original), execution_nodes(result), strict=True):
        assert after["op"] == LEGACY_OPS.get(before["op"], before["op"])


def test_v1_filenames_move_from_workspace_root_to_pipeline_directory() -> None:
    case, _ = load("elyra-examples__analyze_NOAA_weather_data_v1")
    pipeline_dir = posixpath.dirname(case["pipeline_file"])
    document, result = migrated("elyra-examples__analyze_NOAA_weather_data_v1")

    before = [node["app_data"]["filename"] for node in execution_nodes(document)]
    after = [params(node)["filename"] for node in execution_nodes(result)]
    assert all(name.startswith(pipeline_dir + "/") for name in before)
    assert after == [posixpath.relpath(name, pipeline_dir) for name in before]
    case_dir = CORPUS / "valid" / "elyra-examples__analyze_NOAA_weather_data_v1"
    assert all((case_dir / pipeline_dir / name).is_file() for name in after)
    # the same example saved one format later
    _, v2 = migrated("elyra-examples__analyze_NOAA_weather_data_v2")
    assert after == [params(node)["filename"] for node in execution_nodes(v2)]


def test_v1_filenames_with_other_pipeline_locations() -> None:
    document, at_root = migrated("elyra-examples__analyze_NOAA_weather_data_v1", None)
    _, elsewhere = migrated("elyra-examples__analyze_NOAA_weather_data_v1", "other/dir/moved.pipeline")

    before = [node["app_data"]["filename"] for node in execution_nodes(document)]
    assert [params(node)["filename"] for node in execution_nodes(at_root)] == before
    assert [params(node)["filename"] for node in execution_nodes(elsewhere)] == ["../../" + n for n in before]


def test_v3_parameters_move_into_component_parameters() -> None:
    document, result = migrated("codait-flight-delays__flight_delays")

    for before, after in zip(execution_nodes(document), execution_nodes(result), strict=True):
        app_data = after["app_data"]
        assert set(app_data) == {"label", "component_parameters", "ui_data"}
        assert app_data["ui_data"] == before["app_data"]["ui_data"]
        assert app_data["label"] == before["app_data"]["ui_data"]["label"]
        old_params = {k: v for k, v in before["app_data"].items() if k not in ("ui_data", "env_vars")}
        assert old_params.items() <= app_data["component_parameters"].items()


def test_nodes_already_in_v4_shape_are_not_wrapped_again() -> None:
    """An Elyra test file says version 1 but its nodes (and a version 5 subflow) use component_parameters."""
    document, result = migrated("elyra__pipeline_with_supernode")

    for before, after in zip(execution_nodes(document), execution_nodes(result), strict=True):
        assert params(after) == params(before)
    assert [p["app_data"]["version"] for p in result["pipelines"]] == [CURRENT_VERSION, CURRENT_VERSION]
    assert primary(result)["app_data"]["runtime_type"] == "KUBEFLOW_PIPELINES"


def test_v5_kfp_example_matches_the_example_saved_in_v7() -> None:
    _, from_v5 = migrated("elyra-examples__run_notebook_using_papermill_v5")
    _, from_v7 = migrated("elyra-examples__run_notebook_using_papermill")

    app_data = primary(from_v5)["app_data"]
    assert app_data["runtime_type"] == "KUBEFLOW_PIPELINES"
    assert "runtime" not in app_data
    for old, new in zip(execution_nodes(from_v5), execution_nodes(from_v7), strict=True):
        assert old["op"] == new["op"]
        assert old["app_data"]["component_source"] == new["app_data"]["component_source"]
        assert params(old).keys() == params(new).keys()
        for name, value in params(old).items():
            assert type(value) is type(params(new)[name])
            if isinstance(value, dict):
                assert value["widget"] == params(new)[name]["widget"]
    assert params(execution_nodes(from_v5)[1])["notebook"] == {"widget": "inputpath", "value": {
        "value": "5093aaa3-7ce0-4654-93c8-ea67ebe3fb83", "option": "elyra_output_data"}}


def test_v4_airflow_example_gets_catalog_op_and_typed_values() -> None:
    document, result = migrated("elyra-examples__aa_bash_operator_example")

    app_data = primary(result)["app_data"]
    assert app_data["runtime_type"] == "APACHE_AIRFLOW"
    assert "runtime" not in app_data
    (node,) = execution_nodes(result)
    assert node["op"] == "elyra-airflow-examples-catalog:3a55d015ea96"
    source = {"catalog_type": "elyra-airflow-examples-catalog",
              "component_ref": {"component-id": "bash_operator.py"}}
    assert json.loads(node["app_data"]["component_source"]) == source
    index = json.loads((CORPUS / "components" / "index.json").read_text())["components"]
    assert index[node["op"]].endswith("/bash_operator.py")
    old_params = params(execution_nodes(document)[0])
    assert params(node) == {
        "bash_command": {"widget": "string", "value": old_params["bash_command"]},
        "xcom_push": {"widget": "boolean", "value": True},
        "env": {"widget": "string", "value": old_params["env"]},
        "output_encoding": {"widget": "string", "value": "utf-8"},
    }


def test_unknown_legacy_op_is_left_alone() -> None:
    document, result = migrated("elyra-examples__aa_bash_operator_example_v3_pr47")

    (before,), (after,) = execution_nodes(document), execution_nodes(result)
    assert after["op"] == before["op"] == "bash-operator"
    assert params(after)["component_source"] == before["app_data"]["component_source"]


def test_v6_kfp_subflow_nodes_and_labelled_parent_outputs() -> None:
    _, result = migrated("elyra__kf_supernode_valid")

    subflow = next(p for p in result["pipelines"] if p["id"] != result["primary_pipeline"])
    by_op = {node["op"]: params(node) for node in subflow["nodes"] if "op" in node}
    filter_text = by_op["elyra-kfp-examples-catalog:737915b826e9"]
    assert filter_text["pattern"] == {"widget": "string", "value": ".*"}
    assert filter_text["text"] == {"widget": "inputpath", "value": {
        "value": "2ccb6e75-3a57-4cc1-8a96-8e19ce15c7a5", "option": "elyra_output_data",
        "label": "Download data: Data"}}
    assert "version" not in subflow["app_data"]


def test_v7_env_var_strings_become_objects() -> None:
    document, result = migrated("elyra-examples__analyze_NOAA_weather_data")

    for before, after in zip(execution_nodes(document), execution_nodes(result), strict=True):
        pairs = [text.split("=", 1) for text in params(before)["env_vars"]]
        assert params(after)["env_vars"] == [{"env_var": name, "value": value} for name, value in pairs]
    assert params(execution_nodes(result)[0])["env_vars"][0]["env_var"] == "DATASET_URL"

    _, codenet = migrated("claimed__codenet_classification")
    assert {"env_var": "api_key", "value": ""} in params(execution_nodes(codenet)[2])["env_vars"]


def key_value_strings() -> dict[str, list[str]]:
    return {
        "env_vars": ["A=1", "URLS=http://a?x=1,http://b", "BARE"],
        "kubernetes_secrets": ["PASSWORD=db-secret:password"],
        "mounted_volumes": ["/mnt/data=data-pvc"],
        "kubernetes_tolerations": ["T1=gpu:Equal:true:NoSchedule", "T2=spot:Exists::", "T3=odd:::a:b",
                                   "T4=x"],
        "kubernetes_pod_annotations": ["team=ml"],
        "kubernetes_pod_labels": ["app=train"],
    }


KEY_VALUE_OBJECTS = {
    "env_vars": [{"env_var": "A", "value": "1"}, {"env_var": "URLS", "value": "http://a?x=1,http://b"},
                 {"env_var": "BARE", "value": ""}],
    "kubernetes_secrets": [{"env_var": "PASSWORD", "name": "db-secret", "key": "password"}],
    "mounted_volumes": [{"path": "/mnt/data", "pvc_name": "data-pvc"}],
    "kubernetes_tolerations": [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
                               {"key": "spot", "operator": "Exists", "value": "", "effect": ""},
                               {"key": "odd", "operator": "", "value": "", "effect": "a:b"},
                               {"key": "x", "operator": "", "value": "", "effect": ""}],
    "kubernetes_pod_annotations": [{"key": "team", "value": "ml"}],
    "kubernetes_pod_labels": [{"key": "app", "value": "train"}],
}


def small_document(version: int) -> dict[str, Any]:
    """A pipeline with key-value strings in its defaults and in its one node."""
    node_params = {"filename": "train.py", "runtime_image": "python:3.11", **key_value_strings()}
    return {
        "doc_type": "pipeline", "version": "3.0", "id": "doc", "primary_pipeline": "main",
        "pipelines": [{
            "id": "main", "runtime_ref": "",
            "app_data": {"version": version, "properties": {"pipeline_defaults": key_value_strings()}},
            "nodes": [{"id": "n1", "type": "execution_node", "op": "execute-python-node",
                       "app_data": {"label": "train", "component_parameters": node_params, "ui_data": {}}}],
        }],
    }


def test_v7_key_value_lists_in_defaults_and_nodes() -> None:
    result, steps = migrate(small_document(7), "pipelines/train.pipeline")

    assert steps == [8]
    assert result["pipelines"][0]["app_data"]["properties"]["pipeline_defaults"] == KEY_VALUE_OBJECTS
    node_params = params(result["pipelines"][0]["nodes"][0])
    assert {name: node_params[name] for name in KEY_VALUE_OBJECTS} == KEY_VALUE_OBJECTS
    assert node_params["filename"] == "train.py"


def test_newer_version_is_refused() -> None:
    newer = CORPUS / "invalid" / "elyra__derived_version_newer_than_supported.pipeline"
    document = json.loads(newer.read_text())
    assert primary(document)["app_data"]["version"] == CURRENT_VERSION + 1

    with pytest.raises(NewerVersionError) as raised:
        migrate(document)
    assert isinstance(raised.value, ValueError)
    assert (raised.value.version, raised.value.current) == (CURRENT_VERSION + 1, CURRENT_VERSION)
    assert str(CURRENT_VERSION + 1) in str(raised.value) and str(CURRENT_VERSION) in str(raised.value)


def test_current_version_gives_an_independent_copy() -> None:
    _, document = load("elyra__generic-test")
    result, steps = migrate(document)

    assert (result, steps) == (document, [])
    params(execution_nodes(result)[0])["filename"] = "changed.ipynb"
    assert params(execution_nodes(document)[0])["filename"] != "changed.ipynb"


@pytest.mark.parametrize("version", range(1, CURRENT_VERSION))
def test_junk_inside_the_document_is_left_for_the_validator(version: int) -> None:
    document = small_document(version)
    main = document["pipelines"][0]
    main["app_data"].update(runtime=["kfp"], properties={"pipeline_defaults": "none"})
    main["nodes"] += [
        "not a node",
        {"id": "n2", "type": "execution_node", "op": ["bash-operator_BashOperator"], "app_data": None},
        {"id": "n3", "type": "execution_node", "op": "filter-text",
         "app_data": {"component_parameters": "text", "component_source": 42, "ui_data": "x"}},
        {"id": "n4", "type": "execution_node", "op": "component_Downloaddata",
         "app_data": {"component_parameters": {"url": {"activeControl": ["x"]}, "env_vars": [1, None, "A=b"],
                                               "mounted_volumes": "m"}}},
        {"id": "n5", "type": "execution_node", "app_data": {"filename": 7, "env_vars": {"A": "b"}}},
    ]
    document["pipelines"] += ["not a pipeline", {"id": "sub", "nodes": "none", "app_data": []}]
    original = copy.deepcopy(document)

    result, steps = migrate(document, "dir/x.pipeline")

    assert document == original
    assert steps == list(range(version + 1, CURRENT_VERSION + 1))
    nodes = {node["id"]: node for node in result["pipelines"][0]["nodes"] if isinstance(node, dict)}
    assert "not a node" in result["pipelines"][0]["nodes"]
    assert nodes["n2"]["app_data"] is None
    n3_params = nodes["n3"]["app_data"] if version >= 4 else nodes["n3"]["app_data"]["component_parameters"]
    assert n3_params["component_parameters"] == "text"
    n4_params = nodes["n4"]["app_data"]["component_parameters"]
    assert n4_params["url"] == {"activeControl": ["x"]}
    assert n4_params["env_vars"] == [1, None, {"env_var": "A", "value": "b"}]
    assert n4_params["mounted_volumes"] == "m"
    n5 = nodes["n5"]["app_data"] if version >= 4 else nodes["n5"]["app_data"]["component_parameters"]
    assert (n5["filename"], n5["env_vars"]) == (7, {"A": "b"})
    assert result["pipelines"][1:] == original["pipelines"][1:]


@pytest.mark.parametrize("change", [
    lambda doc: doc.update(primary_pipeline="missing"),
    lambda doc: doc.update(pipelines="none"),
    lambda doc: doc["pipelines"][0].update(app_data="none"),
    lambda doc: doc["pipelines"][0]["app_data"].update(version="7"),
    lambda doc: doc["pipelines"][0]["app_data"].update(version=True),
    lambda doc: doc["pipelines"][0]["app_data"].update(version=0),
    lambda doc: doc["pipelines"][0]["app_data"].pop("version"),
])
def test_documents_without_a_usable_version_are_returned_unchanged(change: Any) -> None:
    document = small_document(7)
    change(document)

    assert migrate(document) == (document, [])
