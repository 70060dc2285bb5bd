"""Run records survive a server killed with SIGKILL (during a local run and during a KFP submission), no node or
worker process outlives it, and no record is lost or duplicated under 50 concurrent submissions. The server is a real
`jupyter server` process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import node, pipeline_document
from kfp_server import KfpTestServer
from live_server import Server, wait_for
from s3_server import S3Server

from elyra_proc_ext.procfs import running


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "root"
    root.mkdir()
    server = Server(root, tmp_path / "home")
    yield server
    server.stop()


def test_killed_during_a_local_run(server: Server) -> None:
    (server.root / "first.py").write_text("print('first')\n")
    (server.root / "slow.py").write_text("import os, time\nopen('slow.pid', 'w').write(str(os.getpid()))\n"
                                         "time.sleep(120)\n")
    document = pipeline_document("k", [node("first", "first.py"), node("slow", "slow.py", ("first",))])
    run_id = server.start().call("POST", "schedule", document)["run_id"]
    wait_for(lambda: server.call("GET", f"runs/{run_id}")["nodes"][1]["status"] == "running", 60, "slow node")
    wait_for(lambda: (server.root / "slow.pid").exists(), 60, "slow node's pid")
    time.sleep(0.5)  # the running state is written by the database thread right after it changes
    server.kill()
    node_process = int((server.root / "slow.pid").read_text())
    try:
        wait_for(lambda: not running(node_process), 30, "the node process to be stopped with its dead server")
        server.start()
        run = server.call("GET", f"runs/{run_id}")
        assert run["status"] == "interrupted" and "server stopped" in run["error"]
        assert [(n["id"], n["status"]) for n in run["nodes"]] == [("first", "succeeded"), ("slow", "interrupted")]
        assert [r["id"] for r in server.call("GET", "runs")["runs"]] == [run_id]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(node_process, signal.SIGKILL)


def test_killed_during_a_kfp_submission(server: Server, kfp_server: KfpTestServer, s3_server: S3Server) -> None:
    (server.root / "a.py").write_text("print('a')\n")
    kfp_server.hang["upload_pipeline"] = 30
    server.start()
    config = {"display_name": "kfp", "schema_name": "kfp", "metadata": {
        "api_endpoint": kfp_server.endpoint, "cos_endpoint": s3_server.endpoint, "cos_bucket": s3_server.make_bucket(),
        "cos_username": s3_server.access_key, "cos_password": s3_server.secret_key}}
    server.call("POST", "runtime-configs", config)
    document = pipeline_document("k", [node("a", "a.py")])
    run_id = server.call("POST", "schedule", document, runtime_config="kfp")["run_id"]
    wait_for(lambda: server.call("GET", f"runs/{run_id}")["progress"] == "Uploading the pipeline to Kubeflow Pipelines",
             60, "pipeline upload")
    time.sleep(0.5)
    workers = server.descendants()
    assert len(workers) >= 3  # the forkserver, the check workers and the submitting worker
    server.kill()
    wait_for(lambda: not any(running(pid) for pid in workers), 30, "the server's worker processes to exit")
    server.start()
    run = server.call("GET", f"runs/{run_id}")
    assert run["status"] == "interrupted"
    assert run["result"]["object_storage_path"].startswith("/")  # what was created before the kill is named
    assert [r["id"] for r in server.call("GET", "runs")["runs"]] == [run_id]


def test_fifty_concurrent_submissions(server: Server) -> None:
    (server.root / "tiny.py").write_text("print('tiny')\n")
    document = pipeline_document("tiny", [node("t", "tiny.py")])
    server.start()
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: server.call("POST", "schedule", document), range(50)))
    run_ids = [answer["run_id"] for answer in answers]
    assert len(set(run_ids)) == 50
    wait_for(lambda: all(server.call("GET", f"runs/{i}")["status"] == "succeeded" for i in run_ids), 240, "50 runs")
    listed = [run["id"] for run in server.call("GET", "runs", limit="1000")["runs"]]
    assert sorted(listed) == sorted(run_ids)
    assert json.dumps(listed).count(run_ids[0]) == 1
