"""The REST API on a real in-process Jupyter server (pytest-jupyter), with a real kernel behind local runs."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLE, api_call, load_json, node, pipeline_document

from elyra_proc_ext.handlers import ROUTES
from elyra_proc_ext.model import Node, Pipeline
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.store import RunRecord, RunStore


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


@pytest.fixture
def editor_document(jp_root_dir: Path) -> dict[str, Any]:
    """The example pipeline as Elyra's editor posts it: node paths relative to the server root, source set."""
    shutil.copytree(EXAMPLE, jp_root_dir / "hello_pipeline", ignore=shutil.ignore_patterns("output"))
    document = load_json(jp_root_dir / "hello_pipeline" / "hello_pipeline.pipeline")
    primary = document["pipelines"][0]
    primary["app_data"]["source"] = "hello_pipeline/hello_pipeline.pipeline"
    for raw in primary["nodes"]:
        parameters = raw["app_data"]["component_parameters"]
        parameters["filename"] = f"hello_pipeline/{parameters['filename']}"
    return document


async def wait_for_final(jp_fetch: Any, run_id: str, timeout: float = 120) -> dict[str, Any]:
    for _ in range(int(timeout / 0.2)):
        code, run = await api_call(jp_fetch, "GET", "runs", run_id)
        assert code == 200
        if run["status"] in ("succeeded", "failed", "cancelled", "interrupted"):
            return run
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish")


async def test_schedule_answers_at_once_and_the_run_completes(jp_fetch: Any, editor_document: dict,
                                                              jp_root_dir: Path) -> None:
    code, body = await api_call(jp_fetch, "POST", "schedule", body=editor_document)
    assert code == 202
    assert body["platform"] == "LOCAL" and body["runtime"] == "local"
    assert body["status"] in ("pending", "running")
    assert body["run_url"].endswith(f"/pipeline/runs/{body['run_id']}")
    run = await wait_for_final(jp_fetch, body["run_id"])
    assert run["status"] == "succeeded", run["error"]
    assert [n["status"] for n in run["nodes"]] == ["succeeded"] * 4
    assert run["source"] == "hello_pipeline/hello_pipeline.pipeline" and run["duration"] > 0
    assert (jp_root_dir / "hello_pipeline" / "output" / "report.txt").read_text().startswith("200 measurements")
    response = await jp_fetch("pipeline", "runs", body["run_id"], "nodes", "per-station", "log")
    assert "unit: celsius" in response.body.decode()
    response = await jp_fetch("pipeline", "runs", body["run_id"], "nodes", "summarize", "notebook")
    output = json.loads(response.body)["cells"][1]["outputs"][0]["data"]["text/plain"]
    assert "".join(output).startswith("{'count': 200")
    code, missing = await api_call(jp_fetch, "GET", "runs", body["run_id"], "nodes", "summarize", "secrets")
    assert code == 404 and "no artifact 'secrets'" in missing["message"]
    code, listing = await api_call(jp_fetch, "GET", "runs")
    assert code == 200 and [r["id"] for r in listing["runs"]] == [body["run_id"]]


async def test_schedule_with_wait_and_file_relative_paths(jp_fetch: Any, jp_root_dir: Path) -> None:
    shutil.copytree(EXAMPLE, jp_root_dir / "hello_pipeline", ignore=shutil.ignore_patterns("output"))
    document = load_json(jp_root_dir / "hello_pipeline" / "hello_pipeline.pipeline")
    document["pipelines"][0]["app_data"]["source"] = "hello_pipeline/hello_pipeline.pipeline"
    code, body = await api_call(jp_fetch, "POST", "schedule", body=document, wait="true", paths="pipeline")
    assert code == 200
    assert body["status"] == "succeeded" and body["run"]["nodes"][-1]["status"] == "succeeded"


async def test_invalid_pipeline_gets_400_with_issues(jp_fetch: Any, jp_root_dir: Path) -> None:
    document = pipeline_document("bad", [node("n1", "missing.py", env_vars=[{"env_var": "BAD NAME", "value": "1"}])])
    code, body = await api_call(jp_fetch, "POST", "schedule", body=document)
    assert code == 400
    assert body["reason"] == "Bad Request" and body["message"] == "Errors found in pipeline" and body["timestamp"]
    found = {(i["type"], i["data"]["nodeID"], i["data"]["propertyName"]) for i in body["issues"]}
    assert found == {("invalidFilePath", "n1", "filename"), ("invalidEnvironmentVariable", "n1", "env_vars")}
    code, runs = await api_call(jp_fetch, "GET", "runs")
    assert runs["runs"] == []


@pytest.mark.parametrize("payload", [b"{not json", b"\xff\xfe", b"[]", b'{"pipelines": "x"}', b""])
async def test_bad_bodies_get_400_not_500(jp_fetch: Any, payload: bytes) -> None:
    for route in ("schedule", "validate"):
        code, body = await api_call(jp_fetch, "POST", route, body=payload)
        expected = 200 if route == "validate" and payload not in (b"{not json", b"\xff\xfe", b"") else 400
        assert code == expected, (route, payload, body)
        assert body["issues"] and "Traceback" not in json.dumps(body)


async def test_validate_reports_issues_with_elyra_shape(jp_fetch: Any, jp_root_dir: Path) -> None:
    (jp_root_dir / "a.py").write_text("print(1)\n")
    document = pipeline_document("v", [node("a", "a.py"), node("b", "a.py")])
    code, body = await api_call(jp_fetch, "POST", "validate", body=document)
    assert code == 200 and body["valid"] is True
    assert [(i["severity"], i["type"], i["data"]["nodeID"]) for i in body["issues"]] == [
        (2, "singletonReference", "a"), (2, "singletonReference", "b")]
    assert body["issues"][0]["source"] == "Elyra Pipeline Validation Service"


async def test_runtimes_schema_and_unknown_runs(jp_fetch: Any) -> None:
    code, body = await api_call(jp_fetch, "GET", "runtimes")
    assert code == 200 and sorted(r["name"] for r in body["runtimes"]) == ["kfp", "local"]
    assert body["runtime_configs"] == []
    code, schema = await api_call(jp_fetch, "GET", "schema")
    assert code == 200 and schema["title"].startswith("Elyra pipeline")
    for method, path in (("GET", ("runs", "nope")), ("POST", ("runs", "nope", "cancel"))):
        code, body = await api_call(jp_fetch, method, *path, body=b"" if method == "POST" else None)
        assert code == 404 and body["message"] == "No run with id 'nope'."
    code, body = await api_call(jp_fetch, "GET", "runs", limit="many")
    assert code == 400 and "whole numbers" in body["message"]


async def test_cancel_over_rest(jp_fetch: Any, jp_root_dir: Path) -> None:
    (jp_root_dir / "slow.py").write_text("import time\ntime.sleep(60)\n")
    code, body = await api_call(jp_fetch, "POST", "schedule", body=pipeline_document("s", [node("s", "slow.py")]))
    assert code == 202
    await asyncio.sleep(0.5)
    code, run = await api_call(jp_fetch, "POST", "runs", body["run_id"], "cancel", body=b"")
    assert code == 200 and run["status"] == "cancelled" and run["nodes"][0]["status"] == "cancelled"


async def test_every_route_requires_authentication(jp_serverapp: Any, http_server_client: Any,
                                                   jp_base_url: str) -> None:
    for route, _ in ROUTES:
        path = jp_base_url + re.sub(r"\(\?P<\w+>\[\^/\]\+\)", "some-id", route)
        for headers in ({}, {"Authorization": "token wrong-token"}):
            for method in ("GET", "POST", "PUT", "DELETE"):
                response = await http_server_client.fetch(path, method=method, headers=headers, raise_error=False,
                                                          body=b"{}" if method in ("POST", "PUT") else None)
                assert response.code in (403, 405), (route, method, headers, response.code)
                if response.code == 403:
                    assert b"Traceback" not in response.body


@pytest.fixture
def run_left_by_a_dead_server(jp_data_dir: Path) -> str:
    """A run record as a server killed mid-run leaves it: running, owned by a process that no longer exists."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store = RunStore(jp_data_dir / "elyra_proc_ext" / "runs.sqlite")
    pipeline = Pipeline(id="p", name="stale", nodes={"a": Node("a", "a", "execute-python-node", "python"),
                                                      "b": Node("b", "b", "execute-python-node", "python", ["a"])})
    record = RunRecord.new(pipeline, "local", None, jp_data_dir / "runs")
    record.status, record.started, record.owner_pid = RunStatus.RUNNING, record.submitted, dead.pid
    record.nodes[0].status, record.nodes[1].status = RunStatus.SUCCEEDED, RunStatus.RUNNING
    store.save(record)
    store.close()
    return record.id


async def test_restart_marks_unfinished_runs_interrupted(run_left_by_a_dead_server: str, jp_fetch: Any) -> None:
    code, run = await api_call(jp_fetch, "GET", "runs", run_left_by_a_dead_server)
    assert code == 200 and run["status"] == "interrupted" and run["finished"]
    assert [n["status"] for n in run["nodes"]] == ["succeeded", "interrupted"]


async def test_oversized_bodies_get_413_before_parsing(jp_fetch: Any) -> None:
    huge = b'{"doc_type": "pipeline", "padding": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    for route in ("schedule", "validate", "runtime-configs"):
        code, body = await api_call(jp_fetch, "POST", route, body=huge)
        assert code == 413 and "max_request_bytes" in body["message"] and body["reason"] == "Request Entity Too Large"


async def test_cookie_posts_need_the_xsrf_token(jp_serverapp: Any, http_server_client: Any, jp_base_url: str) -> None:
    """A browser session (cookie) may not POST without the XSRF token: cross-site requests cannot schedule runs."""
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(f"{jp_base_url}lab?token={token}", raise_error=False,
                                           follow_redirects=False)
    cookies = "; ".join(value.split(";", 1)[0] for value in login.headers.get_list("Set-Cookie"))
    assert "_xsrf=" in cookies and "username-" in cookies
    xsrf = next(part.split("=", 1)[1] for part in cookies.split("; ") if part.startswith("_xsrf="))
    document = json.dumps(pipeline_document("x", [node("a", "a.py")])).encode()
    refused = await http_server_client.fetch(f"{jp_base_url}pipeline/validate", method="POST", body=document,
                                             headers={"Cookie": cookies}, raise_error=False)
    assert refused.code == 403 and b"_xsrf' argument missing" in refused.body
    accepted = await http_server_client.fetch(f"{jp_base_url}pipeline/validate", method="POST", body=document,
                                              headers={"Cookie": cookies, "X-XSRFToken": xsrf}, raise_error=False)
    assert accepted.code == 200
