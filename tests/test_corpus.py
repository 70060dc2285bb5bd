"""The real pipelines in shared/pipelines are the yardstick: valid ones validate (and the runnable ones run),
invalid ones are rejected with the issue type Elyra's own tests expect."""

from __future__ import annotations

import fnmatch
import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, load_json

from elyra_proc_ext.checker import Submission
from elyra_proc_ext.manager import create_manager
from elyra_proc_ext.model import GENERIC_OPS
from elyra_proc_ext.parsing import decode
from elyra_proc_ext.processors.base import RunStatus

if not CORPUS.is_dir():
    pytest.skip(f"pipeline corpus not found at {CORPUS}", allow_module_level=True)

VALID_CASES = sorted(CORPUS.glob("valid/*/case.json"))
INVALID_CASES = sorted(CORPUS.glob("invalid/*.pipeline"))

# Cases whose expected issue comes from a component catalog's property definitions (Airflow operators, KFP
# component inputs). No catalog is available to the local runtime, so these are rejected, fatally, with
# invalidNodeType instead: the runtime-specific component cannot run here at all.
NEEDS_COMPONENT_CATALOG = {
    "elyra__aa_operator_same_name", "elyra__aa_parent_node_missing_xcom", "elyra__kf_invalid_inputpath_parameter",
    "elyra__kf_invalid_inputpath_missing_connection", "elyra__kf_invalid_node_property_in_component",
}


def check(root: Path, pipeline_file: str, tmp_path: Path) -> Submission:
    manager = create_manager(root, tmp_path / "data", tmp_path / "runtimes")
    document, issues = decode((root / pipeline_file).read_bytes())
    return Submission(None, issues) if issues else manager.check(document, source=pipeline_file, runtime="local")


def absent_files(case: dict[str, Any]) -> list[str]:
    files = case["files"]
    return files["referenced_but_absent_in_source"] + files["not_copied_too_large"]


def is_generic(case: dict[str, Any]) -> bool:
    return set(case["ops"]) <= set(GENERIC_OPS)


@pytest.mark.parametrize("case_file", VALID_CASES, ids=lambda p: p.parent.name)
def test_valid_case_validates(case_file: Path, tmp_path: Path) -> None:
    case = load_json(case_file)
    submission = check(case_file.parent, case["pipeline_file"], tmp_path)
    assert submission.pipeline is not None, submission.issues
    assert len(submission.pipeline.nodes) == case["nodes"]["execution"]
    fatal = [issue for issue in submission.issues if issue.fatal]
    if not is_generic(case):
        # Custom components and Airflow operators cannot run locally: one clear issue per such node, no crash.
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
    submission = check(case_file.parent, case_file.name, tmp_path)
    wanted = {issue["type"] for issue in expect["issues"]}
    reported = {issue.type for issue in submission.issues if issue.fatal == expect["fatal"]}
    if expect["outcome"] == "warn":
        assert wanted <= reported
        assert not any(i.fatal and i.type != "invalidFilePath" for i in submission.issues)
        return
    assert not submission.accepted
    if case_file.stem in NEEDS_COMPONENT_CATALOG:
        assert "invalidNodeType" in reported
    elif wanted == {"parseError"}:
        # Elyra's parser raises; we report the same defect as an issue that names the field.
        fields = ("id", "type", "filename", "cpu_limit", "runtime_image", "app_data")
        assert any(issue.fatal and any(f in (issue.property_name or "") for f in fields)
                   for issue in submission.issues)
    else:
        assert wanted <= reported
        for expected in expect["issues"]:
            name = expected.get("data", {}).get("propertyName")
            matching = [i for i in submission.issues if i.type == expected["type"]]
            assert name is None or name in {i.property_name for i in matching}


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
