"""Run records survive a server killed with SIGKILL (during a local run and during a KFP submission), and none is
lost or duplicated under 50 concurrent submissions. The server is a real `jupyter server` process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import node, pipeline_document
from kfp_server import KfpTestServer
from s3_server import S3Server

TOKEN = "durability-token"


class Server:
    """A `jupyter server` subprocess with the extension, on a private data dir that outlives restarts."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root, self.home = root, home
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> Server:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.home.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "HOME": str(self.home), "JUPYTER_DATA_DIR": str(self.home / "data"),
               "JUPYTER_CONFIG_DIR": str(self.home / "config"), "JUPYTER_RUNTIME_DIR": str(self.home / "runtime")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_server", "--allow-root", "--no-browser", f"--port={port}",
             "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={self.root}",
             "--ServerApp.jpserver_extensions={'elyra_proc_ext': True}"],
            env=env, stdout=subprocess.DEVNULL, stderr=(self.home / "server.log").open("ab"), start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"
        wait_for(lambda: self._answers(), 60, "server start")
        return self

    def _answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/status", headers=self.headers, timeout=2).ok
        except requests.ConnectionError:
            return False

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"token {TOKEN}"}

    def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        response = requests.request(method, f"{self.url}/pipeline/{path}", json=body, params=params,
                                    headers=self.headers, timeout=60)
        assert response.status_code < 500, response.text
        return response.json()

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)  # the server only: node processes have sessions of their own
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


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
    time.sleep(0.5)  # the running state is written by the database thread right after it changes
    server.kill()
    orphan = int((server.root / "slow.pid").read_text())
    try:
        server.start()
        run = server.call("GET", f"runs/{run_id}")
        assert run["status"] == "interrupted" and "server stopped" in run["error"]
        assert [(n["id"], n["status"]) for n in run["nodes"]] == [("first", "succeeded"), ("slow", "interrupted")]
        assert [r["id"] for r in server.call("GET", "runs")["runs"]] == [run_id]
    finally:
        os.kill(orphan, signal.SIGKILL)


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
    server.kill()
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
