"""Parsing and validation of hand-made pipelines: each check fires on its defect and names node and field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import node, pipeline_document

from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.model import Issue, Severity
from elyra_proc_ext.parsing import decode, parse


@pytest.fixture
def root(workspace: Path) -> Path:
    (workspace / "a.py").write_text("print('a')\n")
    (workspace / "b.py").write_text("print('b')\n")
    (workspace / "data").mkdir()
    (workspace / "data" / "x.csv").write_text("1\n")
    return workspace


def issues_of(manager: ProcessorManager, *nodes: dict, **properties) -> list[Issue]:
    return manager.check(pipeline_document("t", list(nodes), **properties), base_dir="").issues


def only(issues: list[Issue], type_: str) -> list[Issue]:
    return [issue for issue in issues if issue.type == type_]


async def test_clean_pipeline_has_no_issues(manager: ProcessorManager, root: Path) -> None:
    assert issues_of(manager, node("a", "a.py"), node("b", "b.py", ("a",))) == []


@pytest.mark.parametrize("filename", ["../outside.py", "/etc/hostname.py", "data/../../x.py"])
async def test_files_outside_the_root_are_refused(manager: ProcessorManager, root: Path, filename: str) -> None:
    [issue] = only(issues_of(manager, node("a", filename)), "invalidFilePath")
    assert (issue.node_id, issue.property_name, issue.value) == ("a", "filename", filename.lstrip("/") and issue.value)
    assert "outside the workspace root" in issue.message


async def test_symlink_out_of_the_root_is_refused(manager: ProcessorManager, root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("print('outside')\n")
    (root / "link.py").symlink_to(secret)
    [issue] = only(issues_of(manager, node("a", "link.py")), "invalidFilePath")
    assert "outside the workspace root" in issue.message


async def test_missing_file_and_wrong_extension(manager: ProcessorManager, root: Path) -> None:
    issues = issues_of(manager, node("a", "missing.py"), node("b", "b.py", ("a",)))
    assert [(i.type, i.node_id, i.property_name) for i in issues if i.fatal] == [
        ("invalidFilePath", "a", "filename")]
    wrong = node("c", "a.py")
    wrong["op"] = "execute-notebook-node"
    [issue] = only(issues_of(manager, wrong), "invalidFileType")
    assert issue.node_id == "c" and ".ipynb" in issue.message


async def test_dependencies_globs_and_confinement(manager: ProcessorManager, root: Path) -> None:
    assert issues_of(manager, node("a", "a.py", dependencies=["data/*.csv", "b.py"])) == []
    issues = issues_of(manager, node("a", "a.py", dependencies=["data/*.parquet", "../x", "nope.txt"]))
    assert [(i.type, i.property_name, i.value) for i in issues] == [
        ("invalidFilePath", "dependencies", "data/*.parquet"), ("invalidFilePath", "dependencies", "../x"),
        ("invalidFilePath", "dependencies", "nope.txt")]


async def test_cycle_is_one_issue_naming_its_nodes(manager: ProcessorManager, root: Path) -> None:
    issues = issues_of(manager, node("a", "a.py", ("b",)), node("b", "b.py", ("a",)), node("c", "a.py", ("b",)))
    [cycle] = only(issues, "circularReference")
    assert sorted(cycle.value) == ["a", "b"] and "'a'" in cycle.message and "'b'" in cycle.message


async def test_structural_defects(manager: ProcessorManager, root: Path) -> None:
    dangling = issues_of(manager, node("a", "a.py", ("ghost",)))
    assert [(i.type, i.node_id, i.value) for i in dangling] == [("invalidJSON", "a", "ghost")]
    duplicate = issues_of(manager, node("a", "a.py"), node("a", "b.py"))
    assert [(i.type, i.property_name) for i in duplicate] == [("invalidJSON", "id")]
    empty = manager.check(pipeline_document("t", []), base_dir="").issues
    assert [(i.type, i.property_name) for i in empty] == [("invalidJSON", "nodes")]


async def test_singleton_is_a_warning(manager: ProcessorManager, root: Path) -> None:
    issues = issues_of(manager, node("a", "a.py"), node("b", "b.py"))
    assert {(i.type, i.severity) for i in issues} == {("singletonReference", Severity.WARNING)}
    assert manager.check(pipeline_document("t", [node("a", "a.py"), node("b", "b.py")]), base_dir="").accepted


async def test_node_property_checks(manager: ProcessorManager, root: Path) -> None:
    bad = node("a", "a.py", runtime_image="bad image", cpu=2, cpu_limit=1, memory=-1, gpu=1.5, gpu_vendor="N V/gpu",
               env_vars=[{"env_var": "OK", "value": "1"}, {"env_var": "1BAD", "value": "x"},
                         {"env_var": "EMPTY", "value": ""}],
               kubernetes_secrets=[{"env_var": "S", "name": "Bad_Name", "key": "k"}],
               mounted_volumes=[{"path": "relative", "pvc_name": "claim"}],
               kubernetes_tolerations=[{"key": "k", "operator": "Exists", "value": "v", "effect": "NoSchedule"}],
               kubernetes_pod_labels=[{"key": "ok", "value": "not valid!"}],
               kubernetes_pod_annotations=[{"key": "Bad Key", "value": "v"}])
    found = {(i.type, i.property_name) for i in issues_of(manager, bad)}
    assert found == {
        ("invalidNodeProperty", "runtime_image"), ("invalidNodeProperty", "cpu_limit"),
        ("invalidNodeProperty", "memory"), ("invalidNodeProperty", "gpu"), ("invalidNodeProperty", "gpu_vendor"),
        ("invalidEnvironmentVariable", "env_vars"), ("invalidKubernetesSecret", "kubernetes_secrets"),
        ("invalidVolumeMount", "mounted_volumes"), ("invalidKubernetesToleration", "kubernetes_tolerations"),
        ("invalidKubernetesLabel", "kubernetes_pod_labels"),
        ("invalidKubernetesAnnotation", "kubernetes_pod_annotations")}


async def test_wrong_types_name_node_and_field(manager: ProcessorManager, root: Path) -> None:
    issues = issues_of(manager, node("a", "a.py", dependencies="data", cpu="lots"))
    assert {(i.type, i.node_id, i.property_name) for i in issues} == {("invalidNodeProperty", "a", "dependencies")}
    issues = issues_of(manager, node("a", "a.py", cpu="lots"))
    assert [(i.type, i.property_name, i.value) for i in issues] == [("invalidNodeProperty", "cpu", "lots")]


async def test_runtime_image_policy(manager: ProcessorManager, root: Path) -> None:
    without = node("a", "a.py")
    del without["app_data"]["component_parameters"]["runtime_image"]
    [issue] = issues_of(manager, without)
    assert (issue.type, issue.property_name) == ("invalidNodeProperty", "runtime_image")
    assert issues_of(manager, without, pipeline_defaults={"runtime_image": "python:3.11"}) == []
    manager.registry.get("local").require_runtime_image = False
    assert issues_of(manager, without) == []


async def test_pipeline_defaults_and_parameters(manager: ProcessorManager, root: Path) -> None:
    document = pipeline_document(
        "t", [node("a", "a.py", env_vars=[{"env_var": "B", "value": "node"}], pipeline_parameters=["P"])],
        pipeline_defaults={"env_vars": [{"env_var": "A", "value": "default"}, {"env_var": "B", "value": "x"}],
                           "kubernetes_pod_labels": [{"key": "team", "value": "ml"}]},
        pipeline_parameters=[{"name": "P", "default_value": {"type": "String", "value": "d"}, "required": True}])
    submission = manager.check(document, base_dir="", parameters={"P": "given"})
    assert submission.accepted
    assert submission.pipeline.nodes["a"].env_vars == {"A": "default", "B": "node"}
    assert submission.pipeline.nodes["a"].kubernetes_pod_labels == {"team": "ml"}
    assert submission.pipeline.parameter_values() == {"P": "given"}
    unknown = manager.check(document, base_dir="", parameters={"Q": "1"}).issues
    assert [(i.type, i.value) for i in unknown] == [("invalidPipelineParameter", "Q")]
    document["pipelines"][0]["app_data"]["properties"]["pipeline_parameters"][0]["default_value"]["value"] = ""
    missing = manager.check(document, base_dir="").issues
    assert [(i.type, i.value) for i in missing] == [("invalidPipelineParameter", "P")]
    document["pipelines"][0]["nodes"][0]["app_data"]["component_parameters"]["pipeline_parameters"] = ["Z"]
    undefined = [i for i in manager.check(document, base_dir="", parameters={"P": "1"}).issues]
    assert [(i.type, i.node_id, i.value) for i in undefined] == [("invalidPipelineParameter", "a", "Z")]


async def test_unknown_runtime_and_configuration(manager: ProcessorManager, root: Path) -> None:
    document = pipeline_document("t", [node("a", "a.py")])
    [issue] = manager.check(document, base_dir="", runtime="nosuch").issues
    assert issue.type == "invalidRuntime" and "available: kfp, local" in issue.message
    [issue] = manager.check(document, base_dir="", runtime_config="missing-config").issues
    assert issue.type == "invalidRuntime" and "missing-config" in issue.message and "create it" in issue.message


def test_malformed_json_and_versions() -> None:
    _, [issue] = decode(b'{"doc_type": "pipeline",,}')
    assert issue.type == "malformedJSON" and "line 1" in issue.message
    document = pipeline_document("t", [node("a", "a.py")])
    document["pipelines"][0]["app_data"]["version"] = 9
    [issue] = parse(document).issues
    assert issue.type == "invalidPipeline" and "9" in issue.message and "8" in issue.message
    document["version"] = "2.0"
    [issue] = parse(document).issues
    assert issue.type == "invalidPipeline" and issue.property_name == "version"


def test_schema_errors_name_the_json_path() -> None:
    document = pipeline_document("t", [node("a", "a.py")])
    document["pipelines"][0]["nodes"][0]["type"] = "foo"
    del document["pipelines"][0]["nodes"][0]["id"]
    paths = {issue.property_name for issue in parse(json.loads(json.dumps(document))).issues}
    assert paths == {"pipelines[0].nodes[0].type", "pipelines[0].nodes[0].id"}


def test_paths_in_files_are_relative_to_the_pipeline() -> None:
    document = pipeline_document("t", [node("a", "../scripts/a.py", dependencies=["lib/*.py"])])
    parsed = parse(document, source="project/pipelines/t.pipeline")
    assert parsed.pipeline.nodes["a"].filename == "project/scripts/a.py"
    assert parse(document, source="project/pipelines/t.pipeline", base_dir="").pipeline.nodes["a"].filename == \
        "../scripts/a.py"
