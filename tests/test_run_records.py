"""Run records that stay bounded and honest: a node's change writes that node, finished runs leave the server's
memory, a full disk (a real 2 MiB tmpfs) fails runs clearly and heals by itself, a cancel racing a schedule leaves
no node pending, a KFP run whose configuration was deleted ends saying where to stop it, and a run whose process
died shows interrupted at once. Managers, servers, node processes and the CLI are real."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ClassVar

import pytest
from burst_processor import BurstProcessor
from conftest import ManagerFactory, api_call, fill, node, pipeline_document
from kfp_server import KfpTestServer
from s3_server import S3Server
from test_cli import cli, private_env

from elyra_proc_ext.checker import Submission
from elyra_proc_ext.errors import InsufficientStorageError
from elyra_proc_ext.manager import ProcessorManager, create_manager
from elyra_proc_ext.processors import Pipeline, RunContext, RunOutcome, RunStatus
from elyra_proc_ext.store import NodeRecord, RunRecord, RunStore, owner_alive, process_start_time

FINAL = RunStatus.FINAL


class CredentialBurstProcessor(BurstProcessor):
    """Each node change carries a URL with credentials, which must never reach the database."""

    node_error: ClassVar[str | None] = "see https://user:s3cret@example.com/x"


class StallProcessor(CredentialBurstProcessor):
    """Starts the first node and then waits to be cancelled, awaiting at several points on the way."""

    name: ClassVar[str] = "stall"

    async def run(self, pipeline: Pipeline, context: RunContext) -> RunOutcome:
        await asyncio.sleep(0)
        context.node_state(next(iter(pipeline.nodes)), RunStatus.RUNNING)
        await asyncio.to_thread(time.sleep, 0)
        await asyncio.Event().wait()
        raise AssertionError("never reached")


def with_processors(manager: ProcessorManager) -> ProcessorManager:
    for processor_class in (CredentialBurstProcessor, StallProcessor):
        manager.registry.processors[processor_class.name] = processor_class(root_dir=manager.root_dir,
                                                                           parent=manager.registry)
    return manager


def submission_of(manager: ProcessorManager, root: Path, nodes: int, runtime: str) -> Submission:
    (root / "t.py").write_text("print('t')\n")
    document = pipeline_document("many", [node(f"n{i}", "t.py") for i in range(nodes)])
    submission = manager.check(document, runtime=runtime)
    assert submission.accepted, [issue.message for issue in submission.issues]
    return submission


async def eventually(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def written_bytes() -> int:
    """Bytes this process passed to write calls (all threads, the database thread included)."""
    return int(dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())["wchar"])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "root").mkdir()
    return tmp_path / "root"


# 1. A node's change writes that node.

V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, source TEXT, runtime TEXT NOT NULL, runtime_config TEXT,
    status TEXT NOT NULL, submitted REAL NOT NULL, started REAL, finished REAL, error TEXT, progress TEXT,
    nodes TEXT NOT NULL, result TEXT NOT NULL, run_dir TEXT NOT NULL, owner_pid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (submitted DESC);
"""  # as elyra_proc_ext/store.py wrote it before nodes got their own table
V1_NODE_IDS = [["a"], ["x", "y'; DROP TABLE runs; --", "ü 🚀", ""], [f"n{i}" for i in range(300)], []]


def test_database_written_by_the_previous_schema_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.executescript(V1_SCHEMA)
        for number, node_ids in enumerate(V1_NODE_IDS):
            nodes = [{"id": node_id, "name": f"name {node_id}", "kind": "python", "filename": f"{node_id}.py",
                      "parent_ids": node_ids[:position], "status": "succeeded", "started": 1.0, "finished": 2.0,
                      "error": None, "artifacts": {"log": f"/runs/{node_id}/log.txt"}}
                     for position, node_id in enumerate(node_ids)]
            old.execute("INSERT INTO runs VALUES (?, ?, NULL, 'local', NULL, 'succeeded', ?, 1.0, 2.0, NULL, NULL, ?, "
                        "?, '/runs', 1)", (f"run{number}", f"p{number}", 100.0 + number, json.dumps(nodes),
                                          json.dumps({"run_url": f"u{number}"})))
        old.commit()
    with ThreadPoolExecutor(max_workers=4) as pool:  # a server and CLIs opening the old file at once
        stores = list(pool.map(RunStore, [path] * 4))
    for store in [*stores, RunStore(path)]:  # and a later open, which finds the new schema
        listed = store.list()
        assert [record.id for record in listed] == [f"run{n}" for n in reversed(range(len(V1_NODE_IDS)))]
        for record in listed:
            node_ids = V1_NODE_IDS[int(record.id[3:])]
            assert [n.id for n in record.nodes] == node_ids
            assert [n.parent_ids for n in record.nodes] == [node_ids[:p] for p in range(len(node_ids))]
            assert all(n.artifacts == {"log": f"/runs/{n.id}/log.txt"} for n in record.nodes)
            assert record.result == {"run_url": f"u{record.id[3:]}"} and record.status == "succeeded"
        store.close()
    with contextlib.closing(sqlite3.connect(path)) as migrated:
        assert "nodes" not in {row[1] for row in migrated.execute("PRAGMA table_info(runs)")}
        assert migrated.execute("SELECT count(*) FROM nodes").fetchone()[0] == sum(map(len, V1_NODE_IDS))


async def test_bytes_written_grow_with_the_nodes_not_their_square(make_manager: ManagerFactory, root: Path) -> None:
    manager = with_processors(make_manager(root))
    written = {}
    for nodes in (100, 1000):
        submission = submission_of(manager, root, nodes, "burst")
        before = written_bytes()
        record = await manager.wait((await manager.submit(submission)).id)
        await eventually(lambda: not manager._records, 30, "the run to be written")
        written[nodes] = written_bytes() - before
        assert record.status == RunStatus.SUCCEEDED and {n.status for n in record.nodes} == {RunStatus.SUCCEEDED}
    assert written[1000] < 25 * written[100], written  # linear: 10 times; a whole-record rewrite: 100 times
    assert written[1000] < 2000 * 1000, written  # a few hundred bytes per node, not the whole record per change
    with contextlib.closing(sqlite3.connect(manager.store.path)) as db:  # credentials in errors never land on disk
        errors = {row[0] for row in db.execute("SELECT error FROM nodes")}
    assert errors == {"see https://***@example.com/x"}


# 2. Finished runs leave memory and are still served.

async def test_finished_runs_leave_memory_and_are_still_served(make_manager: ManagerFactory, root: Path) -> None:
    manager = with_processors(make_manager(root))
    submission = submission_of(manager, root, 50, "burst")
    run_ids = [(await manager.submit(submission)).id for _ in range(8)]
    for run_id in run_ids:
        await manager.wait(run_id)
    await eventually(lambda: not manager._records, 30, "finished runs to leave memory")
    for run_id in run_ids:
        record = await manager.get(run_id)
        assert record.status == RunStatus.SUCCEEDED and len(record.nodes) == 50
        assert {n.status for n in record.nodes} == {RunStatus.SUCCEEDED}
    assert {record.id for record in await manager.list_runs()} == set(run_ids)
    assert not manager._records


# 3. A full disk.

GATE = "import pathlib, time\nwhile not pathlib.Path('go').exists():\n    time.sleep(0.05)\nprint('x' * 200000)\n"


def gated_document(root: Path) -> dict[str, Any]:
    """A node that waits for the file `go`, then writes a log bigger than the disk's room; a second after it."""
    (root / "gate.py").write_text(GATE)
    (root / "after.py").write_text("print('after')\n")
    return pipeline_document("gated", [node("gate", "gate.py"), node("after", "after.py", ("gate",))])


async def test_full_disk_fails_the_run_refuses_new_ones_and_heals(small_disk: Path, tmp_path: Path,
                                                                  root: Path) -> None:
    manager = create_manager(root, small_disk / "data", tmp_path / "runtimes")
    manager.storage_retry_seconds = 0.2
    try:
        submission = manager.check(gated_document(root))
        first = await manager.submit(submission)
        await eventually(lambda: (manager.store.get(first.id) or first).nodes[0].status == RunStatus.RUNNING, 60,
                         "the gate node's running state to be written")
        filler = fill(small_disk)
        (root / "go").touch()
        record = await manager.wait(first.id)
        assert record.status == RunStatus.FAILED, record.error
        assert "is full" in record.error and str(small_disk / "data") in record.error
        assert all(n.status in FINAL for n in record.nodes), [n.status for n in record.nodes]
        for _ in range(3):
            with pytest.raises(InsufficientStorageError, match="is full") as refused:
                await manager.submit(submission)
            assert refused.value.status == 507
        assert (await manager.get(first.id)).status == RunStatus.FAILED  # still served, from memory
        filler.unlink()
        await eventually(lambda: not manager._records, 30, "the failed run to be written once space returned")
        quick = manager.check(pipeline_document("quick", [node("after", "after.py")]))
        assert (await manager.wait((await manager.submit(quick)).id)).status == RunStatus.SUCCEEDED
    finally:
        await manager.shutdown()
    store = RunStore(small_disk / "data" / "runs.sqlite")
    stored = {record.id: record for record in store.list()}
    store.close()
    assert len(stored) == 2  # the refused runs left nothing behind
    assert stored[first.id].status == RunStatus.FAILED and "is full" in stored[first.id].error
    assert [n.status for n in stored[first.id].nodes] == [n.status for n in record.nodes]


@pytest.fixture
def jp_server_config(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """The extension on; checks in threads, so processors added to the server's registry are seen; run records on
    the small disk when the test asks for one, mounted before the server starts."""
    config: dict[str, Any] = {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}},
                              "ProcessorManager": {"storage_retry_seconds": 0.2, "check_processes": 0}}
    if "small_disk" in request.fixturenames:
        config["ElyraProcExt"] = {"data_dir": str(request.getfixturevalue("small_disk") / "data")}
    return config


async def wait_for_run(jp_fetch: Any, run_id: str, condition: Callable[[dict[str, Any]], bool],
                       timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        code, run = await api_call(jp_fetch, "GET", "runs", run_id)
        assert code == 200, run
        if condition(run):
            return run
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.1)


async def test_full_disk_through_the_rest_api(small_disk: Path, jp_fetch: Any, jp_root_dir: Path) -> None:
    document = gated_document(jp_root_dir)
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=document)
    assert code == 202, answer
    run_id = answer["run_id"]
    await wait_for_run(jp_fetch, run_id, lambda run: run["nodes"][0]["status"] == "running")
    await asyncio.sleep(0.5)  # the running state is written by the database thread right after it changes
    filler = fill(small_disk)
    try:
        (jp_root_dir / "go").touch()
        run = await wait_for_run(jp_fetch, run_id, lambda run: run["status"] in FINAL)
        assert run["status"] == "failed" and "is full" in run["error"] and str(small_disk / "data") in run["error"]
        assert all(n["status"] in FINAL for n in run["nodes"])
        for _ in range(3):
            code, refused = await api_call(jp_fetch, "POST", "schedule", body=document)
            assert code == 507 and "is full" in refused["message"], refused
            code, listed = await api_call(jp_fetch, "GET", "runs")  # the server keeps answering
            assert code == 200 and [r["status"] for r in listed["runs"]] == ["failed"]
    finally:
        filler.unlink()
    quick = pipeline_document("quick", [node("after", "after.py")])
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=quick, wait="true")
    assert code == 200 and answer["status"] == "succeeded", answer
    code, listed = await api_call(jp_fetch, "GET", "runs")
    assert [(r["id"], r["status"]) for r in listed["runs"]] == [(answer["run_id"], "succeeded"), (run_id, "failed")]
    store = RunStore(small_disk / "data" / "runs.sqlite")  # written, not only held in memory
    assert [(r.id, r.status) for r in store.list()] == [(answer["run_id"], "succeeded"), (run_id, "failed")]
    store.close()


# 4. Schedule, then cancel at once.

@pytest.mark.parametrize("yields", [0, 1, 2, 3, 4, 6, 10])
async def test_cancel_racing_the_start_leaves_every_node_final(yields: int, make_manager: ManagerFactory,
                                                               root: Path) -> None:
    """`yields` event-loop turns between submit and cancel: 0 cancels a task that never ran, the others land at
    each await of the run's start (its first write, its directory, the processor's own awaits)."""
    manager = with_processors(make_manager(root))
    submission = submission_of(manager, root, 3, "stall")
    run_ids = []
    for _ in range(15):
        record = await manager.submit(submission)
        for _ in range(yields):
            await asyncio.sleep(0)
        cancelled = await manager.cancel(record.id)
        assert cancelled.status == RunStatus.CANCELLED and cancelled.error == "Cancelled by the user."
        assert [n.status for n in cancelled.nodes][1:] == [RunStatus.SKIPPED] * 2
        assert cancelled.nodes[0].status in (RunStatus.SKIPPED, RunStatus.CANCELLED)
        run_ids.append(record.id)
    await eventually(lambda: not manager._records, 30, "cancelled runs to be written")
    for record in await manager.list_runs():
        assert record.id in run_ids and record.status == RunStatus.CANCELLED
        assert all(n.status in FINAL for n in record.nodes)


async def test_cancel_racing_the_start_through_rest(jp_fetch: Any, jp_serverapp: Any, jp_root_dir: Path) -> None:
    manager = with_processors(jp_serverapp.web_app.settings["elyra_proc_ext_manager"])
    (jp_root_dir / "t.py").write_text("print('t')\n")
    document = pipeline_document("many", [node(f"n{i}", "t.py") for i in range(3)])
    run_ids = []
    for _ in range(15):
        code, answer = await api_call(jp_fetch, "POST", "schedule", body=document, runtime="stall")
        assert code == 202, answer
        code, run = await api_call(jp_fetch, "POST", "runs", answer["run_id"], "cancel")
        assert code == 200 and run["status"] == "cancelled", run
        assert all(n["status"] in FINAL for n in run["nodes"]), run["nodes"]
        run_ids.append(answer["run_id"])
    await eventually(lambda: not manager._records, 30, "cancelled runs to be written")
    code, listed = await api_call(jp_fetch, "GET", "runs")
    assert sorted(r["id"] for r in listed["runs"]) == sorted(run_ids)
    assert {r["status"] for r in listed["runs"]} == {"cancelled"}
    assert {n["status"] for r in listed["runs"] for n in r["nodes"]} <= FINAL


# 5. A KFP run whose runtime configuration was deleted.

async def test_kfp_run_whose_configuration_was_deleted(jp_fetch: Any, document: dict[str, Any],
                                                       kfp_server: KfpTestServer, s3_server: S3Server) -> None:
    kfp_server.start_delay = 120  # the runs stay on the cluster while the configuration goes
    body = {"display_name": "Gone", "schema_name": "kfp", "metadata": {
        "api_endpoint": kfp_server.endpoint, "cos_endpoint": s3_server.endpoint, "cos_bucket": s3_server.make_bucket(),
        "cos_auth_type": "USER_CREDENTIALS", "cos_username": s3_server.access_key,
        "cos_password": s3_server.secret_key, "timeout": 5}}
    assert (await api_call(jp_fetch, "POST", "runtime-configs", body=body))[0] == 201
    submitted = []
    for _ in range(2):
        code, answer = await api_call(jp_fetch, "POST", "schedule", body=document, paths="pipeline",
                                      runtime_config="gone", wait="true")
        assert code == 200 and answer["status"] == "submitted", answer
        submitted.append((answer["run_id"], answer["run_url"]))
    assert (await api_call(jp_fetch, "DELETE", "runtime-configs", "gone"))[0] == 204
    (cancelled, cancelled_url), (refreshed, _) = submitted
    code, refusal = await api_call(jp_fetch, "POST", "runs", cancelled, "cancel")
    assert code == 409, refusal
    assert "'gone'" in refusal["message"] and "deleted" in refusal["message"]
    assert "may still be running" in refusal["message"] and cancelled_url in refusal["message"]
    for run_id, url in submitted:  # the cancelled one as the cancel left it, the other on its next read
        code, run = await api_call(jp_fetch, "GET", "runs", run_id)
        assert code == 200 and run["status"] == "interrupted", run
        assert "deleted" in run["error"] and url in run["error"]
        assert all(n["status"] in FINAL for n in run["nodes"])
    code, run = await api_call(jp_fetch, "POST", "runs", refreshed, "cancel")  # over: nothing left to refuse
    assert code == 200 and run["status"] == "interrupted"


# 6. A run whose process is gone shows interrupted at once.

@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return private_env(tmp_path)


def cli_json(env: dict[str, str], cwd: Path, *args: str) -> Any:
    result = cli(env, cwd, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_killed_cli_run_shows_interrupted_at_once(env: dict[str, str], root: Path) -> None:
    (root / "first.py").write_text("print('first')\n")
    (root / "slow.py").write_text("import os, time\nopen('slow.pid', 'w').write(str(os.getpid()))\ntime.sleep(120)\n")
    (root / "last.py").write_text("print('last')\n")
    (root / "p.pipeline").write_text(json.dumps(pipeline_document("p", [
        node("first", "first.py"), node("slow", "slow.py", ("first",)), node("last", "last.py", ("slow",))])))
    run = subprocess.Popen([sys.executable, "-m", "elyra_proc_ext.cli", "run", "p.pipeline"], cwd=root, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not (root / "slow.pid").exists() or not (runs := cli_json(env, root, "runs")) or \
                runs[0]["nodes"][1]["status"] != "running":
            assert time.monotonic() < deadline and run.poll() is None, "the slow node never ran"
            time.sleep(0.2)
        assert runs[0]["status"] == "running"  # its process lives: not taken for interrupted
        run.kill()
        run.wait()
        (listed,) = cli_json(env, root, "runs")
        shown = cli_json(env, root, "status", listed["id"])
    finally:
        run.kill()
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            os.kill(int((root / "slow.pid").read_text()), signal.SIGKILL)
    for record in (listed, shown):
        assert record["status"] == "interrupted" and f"pid {run.pid}" in record["error"]
        assert [(n["id"], n["status"]) for n in record["nodes"]] == [
            ("first", "succeeded"), ("slow", "interrupted"), ("last", "skipped")]
    text = cli(env, root, "runs").stdout
    assert "interrupted" in text and "running" not in text


@pytest.mark.parametrize("owner", ["reused pid", "gone pid", "zombie"])
def test_run_owned_by_a_gone_process_reads_interrupted(owner: str, tmp_path: Path) -> None:
    """A reused pid (same pid, other start time), a pid no process has, and an exited child not yet reaped."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while (stat := Path(f"/proc/{child.pid}/stat").read_text())[stat.rindex(")") + 2] != "Z":  # exited, unreaped
        assert time.monotonic() < deadline
        time.sleep(0.01)
    pid, started = {"reused pid": (os.getpid(), (process_start_time(os.getpid()) or 0) + 1),
                    "gone pid": (2**22 + 1, None), "zombie": (child.pid, process_start_time(child.pid))}[owner]
    assert not owner_alive(pid, started)
    assert owner_alive(os.getpid(), process_start_time(os.getpid()))
    store = RunStore(tmp_path / "runs.sqlite")
    pipeline = Pipeline("p", "p", {})
    record = RunRecord.new(pipeline, "local", None, tmp_path / "runs")
    record.nodes = [NodeRecord("a", "a", "python", "a.py", [], RunStatus.SUCCEEDED),
                    NodeRecord("b", "b", "python", "b.py", ["a"], RunStatus.RUNNING),
                    NodeRecord("c", "c", "python", "c.py", ["b"])]
    record.status, record.owner_pid, record.owner_started = RunStatus.RUNNING, pid, started
    store.save(record)
    shown = store.get(record.id)
    assert shown is not None and shown.status == RunStatus.INTERRUPTED
    assert [n.status for n in shown.nodes] == [RunStatus.SUCCEEDED, RunStatus.INTERRUPTED, RunStatus.SKIPPED]
    assert store.mark_interrupted() == []  # already written back
    store.close()
    child.wait()
