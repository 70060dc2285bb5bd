"""`GET /pipeline/runs?source=&status=&runtime=` on a live server over a real run store, and run answers that
carry artifact URLs instead of server paths."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from conftest import api_call, node, pipeline_document

from elyra_proc_ext.model import Node, Pipeline
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.store import RunQuery, RunRecord, RunStore

# (label, source, runtime, runtime configuration, status), oldest first
SEEDED = [
    ("plain", "pipelines/flow.pipeline", "local", None, RunStatus.SUCCEEDED),
    ("dotted", "./pipelines/flow.pipeline", "local", None, RunStatus.FAILED),
    ("rooted", "/pipelines/flow.pipeline", "kfp", "prod", RunStatus.CANCELLED),
    ("deeper", "work/pipelines/flow.pipeline", "kfp", "staging", RunStatus.SUBMITTED),
    ("other", "other/flow.pipeline", "local", None, RunStatus.SUCCEEDED),
    ("lookalike", "xpipelines/flow.pipeline", "local", None, RunStatus.SUCCEEDED),
    ("unsaved", None, "local", None, RunStatus.RUNNING),
]


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


@pytest.fixture
def seeded(jp_data_dir: Path) -> dict[str, str]:
    """Runs written to the store before the server starts; label -> run id. Submitted (KFP) runs name runtime
    configurations that do not exist, so reading them answers their stored state."""
    store = RunStore(jp_data_dir / "elyra_proc_ext" / "runs.sqlite")
    pipeline = Pipeline(id="p", name="flow", nodes={"a": Node("a", "a", "execute-python-node", "python")})
    ids = {}
    for position, (label, source, runtime, config, status) in enumerate(SEEDED):
        record = RunRecord.new(pipeline, runtime, config, jp_data_dir / "runs")
        record.source, record.status, record.submitted = source, status, 1_000_000.0 + position
        store.save(record)
        ids[label] = record.id
    store.close()
    return ids


async def listed(jp_fetch: Any, ids: dict[str, str], **params: str) -> list[str]:
    """The labels of the runs a filtered listing answers, newest first."""
    code, answer = await api_call(jp_fetch, "GET", "runs", **params)
    assert code == 200, answer
    labels = {run_id: label for label, run_id in ids.items()}
    return [labels[run["id"]] for run in answer["runs"]]


async def test_source_filter_compares_paths_as_the_editor_does(seeded: dict[str, str], jp_fetch: Any) -> None:
    same_file = ["deeper", "rooted", "dotted", "plain"]
    assert await listed(jp_fetch, seeded, source="pipelines/flow.pipeline") == same_file
    assert await listed(jp_fetch, seeded, source="./pipelines/flow.pipeline") == same_file
    assert await listed(jp_fetch, seeded, source="/pipelines/flow.pipeline") == same_file
    assert await listed(jp_fetch, seeded, source="flow.pipeline") == ["lookalike", "other", *same_file]
    assert await listed(jp_fetch, seeded, source="nowhere/flow.pipeline") == []
    for blank in ("", "./", "/"):
        code, error = await api_call(jp_fetch, "GET", "runs", source=blank)
        assert code == 400 and "source" in error["message"], error


async def test_status_filter_takes_several_statuses(seeded: dict[str, str], jp_fetch: Any) -> None:
    assert await listed(jp_fetch, seeded, status="failed,cancelled") == ["rooted", "dotted"]
    repeated = await jp_fetch("pipeline", "runs", params=[("status", "failed"), ("status", "cancelled")])
    assert [run["status"] for run in json.loads(repeated.body)["runs"]] == ["cancelled", "failed"]
    assert await listed(jp_fetch, seeded, status="running") == ["unsaved"]
    code, error = await api_call(jp_fetch, "GET", "runs", status="failed,done")
    assert code == 400 and "'done'" in error["message"] and "succeeded" in error["message"], error


async def test_runtime_filter_names_a_processor_or_a_configuration(seeded: dict[str, str], jp_fetch: Any) -> None:
    assert await listed(jp_fetch, seeded, runtime="kfp") == ["deeper", "rooted"]
    assert await listed(jp_fetch, seeded, runtime="prod") == ["rooted"]
    assert await listed(jp_fetch, seeded, runtime="local", status="succeeded") == ["lookalike", "other", "plain"]
    code, error = await api_call(jp_fetch, "GET", "runs", runtime=" ")
    assert code == 400 and "runtime" in error["message"], error


async def test_filters_apply_before_limit_and_offset(seeded: dict[str, str], jp_fetch: Any) -> None:
    """The oldest run is the only `plain` one: found with limit 1, which it would not be if the newest page were
    read first and filtered afterwards."""
    assert await listed(jp_fetch, seeded, source="pipelines/flow.pipeline", status="succeeded", limit="1") == ["plain"]
    assert await listed(jp_fetch, seeded, source="pipelines/flow.pipeline", limit="2", offset="1") == [
        "rooted", "dotted"]


def test_store_query_reads_only_matching_runs(tmp_path: Path) -> None:
    """The store answers a filtered page from its query: with 300 newer runs elsewhere, `limit=1` still finds the
    one run of the pipeline."""
    store = RunStore(tmp_path / "runs.sqlite")
    pipeline = Pipeline(id="p", name="flow", nodes={"a": Node("a", "a", "execute-python-node", "python")})
    for position, source in enumerate(["mine/flow.pipeline"] + ["theirs/flow.pipeline"] * 300):
        record = RunRecord.new(pipeline, "local", None, tmp_path / "runs")
        record.source, record.status, record.submitted = source, RunStatus.SUCCEEDED, float(position)
        store.stage(record)
    store.flush()
    [found] = store.list(limit=1, query=RunQuery(source="mine/flow.pipeline"))
    assert found.source == "mine/flow.pipeline" and [n.id for n in found.nodes] == ["a"]
    assert len(store.list(limit=1000, query=RunQuery(source="flow.pipeline"))) == 301
    store.close()


async def test_run_answers_carry_artifact_urls_not_server_paths(jp_fetch: Any, jp_root_dir: Path, jp_data_dir: Path,
                                                                jp_base_url: str) -> None:
    (jp_root_dir / "ok.py").write_text("print('fine')\n")
    (jp_root_dir / "boom.py").write_text("raise SystemExit('the disk is on fire')\n")
    document = pipeline_document("p", [node("ok", "ok.py"), node("boom", "boom.py", ("ok",))])
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=document, wait="true")
    assert code == 200 and answer["run"]["status"] == "failed", answer
    run = answer["run"]
    nodes = {n["id"]: n for n in run["nodes"]}
    log_url = f"{jp_base_url}pipeline/runs/{run['id']}/nodes/boom/log"
    assert nodes["boom"]["artifacts"] == {"log": log_url}
    # The errors say the last line (the run's names the node); the log is linked as the node's artifact, not quoted.
    assert nodes["boom"]["error"] == "Failed with exit code 1: the disk is on fire"
    assert run["error"] == "Node 'boom' (boom.py) failed with exit code 1: the disk is on fire"
    code, listing = await api_call(jp_fetch, "GET", "runs")
    for body in (answer, listing):
        assert str(jp_data_dir) not in json.dumps(body) and "log.txt" not in json.dumps(body)
    log = await jp_fetch(*unquote(log_url.removeprefix(jp_base_url)).split("/"))
    assert b"the disk is on fire" in log.body
