"""The real pipelines in shared/pipelines are the yardstick: old formats migrate as Elyra's editor migrates them,
valid ones validate (and the runnable ones run), invalid ones are rejected with the issue type Elyra's own tests
expect.

The corpus is not part of this repository: these tests skip unless it is at ../shared/pipelines or in the directory
named by ELYRA_PROC_CORPUS. The project's own pipelines of every format (tests/fixtures/formats) need no corpus.
"""

from __future__ import annotations

import copy
import fnmatch
import json
import posixpath
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, CORPUS_MISSING, HAS_CORPUS, load_json
from test_custom_nodes import kfp_manager
from test_migration import assert_became_current, execution_nodes, params, primary

from elyra_proc_ext.catalogs import ComponentCatalogs
from elyra_proc_ext.catalogs.examples import ElyraExamplesConnector
from elyra_proc_ext.checker import Submission
from elyra_proc_ext.manager import create_manager
from elyra_proc_ext.migration import CURRENT_VERSION, migrate
from elyra_proc_ext.model import GENERIC_OPS
from elyra_proc_ext.parsing import decode
from elyra_proc_ext.processors.base import RunStatus

if not HAS_CORPUS:
    pytest.skip(CORPUS_MISSING, allow_module_level=True)

VALID_CASES = sorted(CORPUS.glob("valid/*/case.json"))
INVALID_CASES = sorted(CORPUS.glob("invalid/*.pipeline"))

# Cases whose expected issue comes from an Airflow operator's property definitions. Airflow is out of scope, so
# these are rejected, fatally, with invalidNodeType instead: the runtime-specific component cannot run here at all.
NEEDS_AIRFLOW_CATALOG = {"elyra__aa_operator_same_name", "elyra__aa_parent_node_missing_xcom"}
# Invalid cases about KFP component inputs: checked on Kubeflow Pipelines with the catalogs their components are in.
KFP_COMPONENT_CASES = {"elyra__kf_invalid_inputpath_parameter", "elyra__kf_invalid_inputpath_missing_connection",
                       "elyra__kf_invalid_node_property_in_component"}
CLAIMED_LIBRARY = CORPUS / "valid" / "claimed__gharchive_kfp" / "component-library"


def check(root: Path, pipeline_file: str, tmp_path: Path) -> Submission:
    manager = create_manager(root, tmp_path / "data", tmp_path / "runtimes")
    document, issues = decode((root / pipeline_file).read_bytes())
    return Submission(None, issues) if issues else manager.check(document, source=pipeline_file, runtime="local")


def check_on_kfp(root: Path, pipeline_file: str, tmp_path: Path) -> Submission:
    """Checked against a Kubeflow Pipelines runtime configuration, with the catalogs the corpus pipelines were
    built on: Elyra's examples package (installed here) and the CLAIMED case's own component library."""
    if not ElyraExamplesConnector.available():
        pytest.skip("the elyra-examples-kfp-catalog package, whose catalog serves these components, is not installed")
    jupyter_data_dir = tmp_path / "jupyter"
    catalogs = ComponentCatalogs(jupyter_data_dir / "metadata" / "component-catalogs",
                                 jupyter_data_dir / "elyra_proc_ext")
    catalogs.save({"name": "examples", "display_name": "Examples", "schema_name": "elyra-kfp-examples-catalog"})
    catalogs.save({"name": "claimed", "display_name": "CLAIMED", "schema_name": "local-directory-catalog",
                   "metadata": {"paths": [str(CLAIMED_LIBRARY)], "include_subdirs": True}})
    document, issues = decode((root / pipeline_file).read_bytes())
    if issues:
        return Submission(None, issues)
    return kfp_manager(root, jupyter_data_dir).check(document, source=pipeline_file, runtime_config="kfp-test")


def absent_files(case: dict[str, Any]) -> list[str]:
    files = case["files"]
    return files["referenced_but_absent_in_source"] + files["not_copied_too_large"]


def is_generic(case: dict[str, Any]) -> bool:
    return set(case["ops"]) <= set(GENERIC_OPS)


def is_kfp_custom(case: dict[str, Any]) -> bool:
    """A Kubeflow Pipelines pipeline with catalog component nodes."""
    return case["runtime_declared"] == "kfp" and not is_generic(case)


@pytest.mark.parametrize("case_file", VALID_CASES, ids=lambda p: p.parent.name)
def test_valid_case_validates(case_file: Path, tmp_path: Path) -> None:
    case = load_json(case_file)
    submission = (check_on_kfp if is_kfp_custom(case) else check)(case_file.parent, case["pipeline_file"], tmp_path)
    assert submission.pipeline is not None, submission.issues
    assert len(submission.pipeline.nodes) == case["nodes"]["execution"]
    fatal = [issue for issue in submission.issues if issue.fatal]
    if is_kfp_custom(case):
        assert all(node.component is not None for node in submission.pipeline.nodes.values() if not node.is_generic)
    elif not is_generic(case):
        # Airflow operators cannot run locally: one clear issue per such node, no crash.
        custom = [n for n in submission.pipeline.nodes.values() if not n.is_generic]
        assert {issue.type for issue in fatal} == {"invalidNodeType"}
        assert sorted(issue.node_id for issue in fatal) == sorted(n.id for n in custom)
        assert all("runtime-specific component" in issue.message for issue in fatal)
        return
    absent = absent_files(case)
    unexplained = [issue for issue in fatal if not (
        issue.type == "invalidFilePath" and any(fnmatch.fnmatch(name, f"*{Path(str(issue.value)).name}")
                                                for name in absent))]
    assert unexplained == []
    assert bool(fatal) == bool(absent)


@pytest.mark.parametrize("case_file", INVALID_CASES, ids=lambda p: p.stem)
def test_invalid_case_is_rejected_with_the_expected_type(case_file: Path, tmp_path: Path) -> None:
    expect = load_json(case_file.with_name(case_file.stem + ".expect.json"))["expected"]
    submission = (check_on_kfp if case_file.stem in KFP_COMPONENT_CASES else check)(case_file.parent, case_file.name,
                                                                                    tmp_path)
    wanted = {issue["type"] for issue in expect["issues"]}
    reported = {issue.type for issue in submission.issues if issue.fatal == expect["fatal"]}
    if expect["outcome"] == "warn":
        assert wanted <= reported
        assert not any(i.fatal and i.type != "invalidFilePath" for i in submission.issues)
        return
    assert not submission.accepted
    if case_file.stem in NEEDS_AIRFLOW_CATALOG:
        assert "invalidNodeType" in reported
    elif wanted == {"parseError"}:
        # Elyra's parser raises; we report the same defect as an issue that names the field.
        fields = ("id", "type", "filename", "cpu_limit", "runtime_image", "app_data")
        assert any(issue.fatal and any(f in (issue.property_name or "") for f in fields)
                   for issue in submission.issues)
    else:
        assert wanted <= reported
        for expected in expect["issues"]:
            name, node_id = expected.get("data", {}).get("propertyName"), expected.get("data", {}).get("nodeID")
            matching = [i for i in submission.issues if i.type == expected["type"]]
            assert name is None or name in {i.property_name for i in matching}
            assert node_id is None or node_id in {i.node_id for i in matching}
    if case_file.stem in KFP_COMPONENT_CASES:  # exactly Elyra's findings, as its own tests count them
        assert sorted((i.type, i.node_id) for i in submission.issues if i.fatal) == sorted(
            (issue["type"], issue["data"]["nodeID"]) for issue in expect["issues"])


def test_issue_inside_a_supernode_names_its_subflow(tmp_path: Path) -> None:
    name = "elyra__kf_invalid_node_op_with_supernode"
    expected = load_json(CORPUS / "invalid" / f"{name}.expect.json")["expected"]["issues"][0]["data"]
    submission = check(CORPUS / "invalid", f"{name}.pipeline", tmp_path)
    issue = next(i for i in submission.issues if i.node_id == expected["nodeID"] and i.fatal)
    assert (issue.type, issue.value) == ("invalidNodeType", "invalid_node_op")
    assert issue.to_json()["data"]["pipelineID"] == expected["pipelineId"]


def test_execution_order_matches_elyra(tmp_path: Path) -> None:
    case_dir = CORPUS / "valid" / "elyra__pipeline_dependency_complex"
    submission = check(case_dir, "pipeline_dependency_complex.pipeline", tmp_path)
    assert submission.pipeline is not None
    order = submission.pipeline.topological_order()
    assert [node.name for node in order] == ["a", "b", "c", "d", "e", "f", "x", "y", "g", "h"]
    assert all(node.env_vars["OP_NAME"] == node.name for node in order)


def test_supernode_is_flattened(tmp_path: Path) -> None:
    case_dir = CORPUS / "valid" / "elyra__pipeline_with_supernode"
    submission = check(case_dir, "pipeline_with_supernode.pipeline", tmp_path)
    assert submission.pipeline is not None
    parents = {node_id[:8]: sorted(p[:8] for p in node.parent_ids)
               for node_id, node in submission.pipeline.nodes.items()}
    assert parents == {"db9f3f5b": [], "f6584209": [], "079c0e12": ["db9f3f5b", "f6584209"],
                       "7628306d": ["079c0e12"]}


RUNNABLE = [path for path in VALID_CASES if is_generic(case := load_json(path)) and not absent_files(case)]


@pytest.mark.parametrize("case_file", RUNNABLE, ids=lambda p: p.parent.name)
async def test_generic_case_runs_locally(case_file: Path, tmp_path: Path) -> None:
    """Every generic case whose files are all present runs end to end on real kernels, old formats included."""
    case = load_json(case_file)
    root = tmp_path / "workspace"
    shutil.copytree(case_file.parent, root)
    manager = create_manager(root, tmp_path / "data", tmp_path / "runtimes")
    try:
        submission = check(root, case["pipeline_file"], tmp_path)
        assert submission.accepted, submission.issues
        record = await manager.wait((await manager.submit(submission)).id)
    finally:
        await manager.shutdown()
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert {node.status for node in record.nodes} == {RunStatus.SUCCEEDED}
    for node in submission.pipeline.nodes.values():
        node_dir = root / Path(node.filename).parent
        assert all(list(node_dir.glob(output)) for output in node.outputs), node.outputs


LEGACY_OPS = load_json(CORPUS / "components" / "index.json")[
    "legacy_ops (pipeline format <= v5; mapped by pipeline-editor migrateV5/migrateV6)"]


def load(case_name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    case_dir = CORPUS / "valid" / case_name
    case = load_json(case_dir / "case.json")
    return case, load_json(case_dir / case["pipeline_file"])


def migrated(case_name: str, pipeline_path: str | None = "") -> tuple[dict[str, Any], dict[str, Any]]:
    """The case's original document and its migration (pipeline_path defaults to the case's own)."""
    case, document = load(case_name)
    result, _ = migrate(document, case["pipeline_file"] if pipeline_path == "" else pipeline_path)
    return document, result


def test_corpus_has_every_old_version() -> None:
    versions = {load_json(case_file)["format"]["app_data_version"] for case_file in VALID_CASES}
    assert set(range(1, CURRENT_VERSION + 1)) <= versions


@pytest.mark.parametrize("case_file", VALID_CASES, ids=lambda p: p.parent.name)
def test_valid_case_migrates_to_current(case_file: Path) -> None:
    case, document = load(case_file.parent.name)
    original = copy.deepcopy(document)
    result, steps = migrate(document, case["pipeline_file"])

    assert document == original
    assert_became_current(original, result, steps, case["format"]["app_data_version"], case["pipeline_file"])
    pipeline_dir = posixpath.dirname(case["pipeline_file"])
    known_files = set(case["files"]["copied"]) | set(case["files"]["referenced_but_absent_in_source"])
    for node in execution_nodes(result):
        if node["op"] in GENERIC_OPS:
            path = posixpath.normpath(posixpath.join(pipeline_dir, params(node)["filename"]))
            assert path in known_files
            assert (path in case["files"]["copied"]) == (case_file.parent / path).is_file()
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
    index = load_json(CORPUS / "components" / "index.json")["components"]
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

