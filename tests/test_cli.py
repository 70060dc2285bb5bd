"""`elyra-proc` as users call it: a real subprocess, its exit codes, its text and --json output."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import node, pipeline_document

from elyra_proc_ext.model import Node, Pipeline
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.store import RunRecord, RunStore


def private_env(tmp_path: Path) -> dict[str, str]:
    """A private Jupyter data and config dir, so runs and settings do not leak between tests or to the user."""
    (tmp_path / "config").mkdir()
    return {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
            "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return private_env(tmp_path)


def cli(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "elyra_proc_ext.cli", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=300)


def test_run_shows_progress_and_records_the_run(env: dict[str, str], workspace: Path) -> None:
    result = cli(env, workspace, "run", "hello_pipeline/hello_pipeline.pipeline", "--param", "ROWS=12")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Run ") and "hello_pipeline on local, 4 node(s)" in lines[0]
    for name in ("Generate data", "Summarize", "Per station", "Report"):
        assert any(line.strip().startswith(f"▶ {name}: running") for line in lines)
        assert any(line.strip().startswith(f"✔ {name}: succeeded") for line in lines)
    assert (workspace / "hello_pipeline" / "output" / "report.txt").read_text().startswith("12 measurements")
    run_id = lines[0].split()[1].rstrip(":")
    [end] = [position for position, line in enumerate(lines) if line.startswith(f"Run {run_id} succeeded in ")]
    where: dict[tuple[str, str], Path] = {}  # after the outcome: "  <node>:", then "      <artifact>: <path>" lines
    node_name = ""
    for line in lines[end + 1:]:
        if line.startswith("      "):
            artifact, path = line.strip().split(": ", 1)
            where[node_name, artifact] = Path(path)
        else:
            node_name = line.strip().rstrip(":")
    assert {name for name, _ in where} == {"Generate data", "Summarize", "Per station", "Report"}
    assert where["Summarize", "notebook"].suffix == ".ipynb" and all(path.is_file() for path in where.values())
    assert "unit: celsius" in where["Per station", "log"].read_text()

    listing = json.loads(cli(env, workspace, "runs", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listing] == [(run_id, "succeeded")]
    status = cli(env, workspace, "status", run_id[:6])
    assert status.returncode == 0 and "succeeded" in status.stdout and "notebook:" in status.stdout
    detail = json.loads(cli(env, workspace, "status", run_id, "--json").stdout)
    assert [n["status"] for n in detail["nodes"]] == ["succeeded"] * 4
    missing = cli(env, workspace, "status", "no-such-run")
    assert missing.returncode == 2 and "'no-such-run'" in missing.stderr


def test_failing_run_exits_non_zero_with_the_cause(env: dict[str, str], workspace: Path) -> None:
    (workspace / "boom.py").write_text("raise SystemExit('disk is full')\n")
    (workspace / "p.pipeline").write_text(json.dumps(pipeline_document("p", [node("boom", "boom.py")])))
    result = cli(env, workspace, "run", "p.pipeline", "--json")
    assert result.returncode == 1
    record = json.loads(result.stdout)
    assert record["status"] == "failed" and "disk is full" in record["nodes"][0]["error"]


def test_validate_exit_codes_and_json(env: dict[str, str], workspace: Path) -> None:
    (workspace / "p.pipeline").write_text(json.dumps(pipeline_document("p", [node("a", "nowhere.py")])))
    result = cli(env, workspace, "validate", "p.pipeline")
    assert result.returncode == 1
    assert "error: invalidFilePath [node a] (filename)" in result.stdout
    issues = json.loads(cli(env, workspace, "validate", "p.pipeline", "--json").stdout)
    assert issues["valid"] is False and issues["issues"][0]["data"]["nodeID"] == "a"
    good = cli(env, workspace, "validate", "hello_pipeline/hello_pipeline.pipeline")
    assert good.returncode == 0 and "valid" in good.stdout
    unknown = cli(env, workspace, "validate", "hello_pipeline/hello_pipeline.pipeline", "--runtime-config", "kf")
    assert unknown.returncode == 1 and "invalidRuntime" in unknown.stdout
    (workspace / "broken.pipeline").write_text("{")
    assert "malformedJSON" in cli(env, workspace, "validate", "broken.pipeline").stdout


def test_runtimes_and_help(env: dict[str, str], workspace: Path) -> None:
    runtimes = json.loads(cli(env, workspace, "runtimes", "--json").stdout)
    assert sorted(r["name"] for r in runtimes["runtimes"]) == ["kfp", "local"]
    help_text = cli(env, workspace, "--help").stdout
    for command in ("run", "validate", "runs", "status", "runtimes"):
        assert command in help_text


def test_server_config_applies_to_the_cli(env: dict[str, str], workspace: Path) -> None:
    config = Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json"
    config.write_text(json.dumps({"ProcessorRegistry": {"disabled_runtimes": ["local"]}}))
    result = cli(env, workspace, "validate", "hello_pipeline/hello_pipeline.pipeline")
    assert result.returncode == 1 and "Runtime 'local' is not available" in result.stdout


def test_killed_run_is_marked_interrupted_on_restart(env: dict[str, str], workspace: Path, tmp_path: Path) -> None:
    """SIGKILL the process running a pipeline: the record survives, and reads show it interrupted at once."""
    (workspace / "first.py").write_text("print('done')\n")
    (workspace / "slow.py").write_text("import time\ntime.sleep(120)\n")
    document = pipeline_document("k", [node("first", "first.py"), node("slow", "slow.py", ("first",))])
    (workspace / "k.pipeline").write_text(json.dumps(document))
    process = subprocess.Popen([sys.executable, "-m", "elyra_proc_ext.cli", "run", "k.pipeline"], cwd=workspace,
                               env=env, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "slow: running" not in process.stdout.readline():
        pass
    time.sleep(0.5)  # the state is written by the database thread just after it is printed
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    store = RunStore(tmp_path / "data" / "elyra_proc_ext" / "runs.sqlite")
    [record] = store.list()  # its owner is gone: written back as interrupted by this read
    assert store.mark_interrupted() == []
    record = store.get(record.id)
    assert record is not None and record.status == "interrupted"
    assert {n.id: n.status for n in record.nodes} == {"first": "succeeded", "slow": "interrupted"}
    assert "server stopped" in record.error
    store.close()
    shutil.rmtree(workspace)


def seed_runs(env: dict[str, str], ids: list[str], status: str) -> None:
    """Runs with the given ids in the run store the CLI reads, owned by this (live) test process."""
    store = RunStore(Path(env["JUPYTER_DATA_DIR"]) / "elyra_proc_ext" / "runs.sqlite")
    pipeline = Pipeline(id="p", name="seeded", nodes={"a": Node("a", "a", "execute-python-node", "python")})
    for run_id in ids:
        record = RunRecord.new(pipeline, "local", None, Path(env["JUPYTER_DATA_DIR"]) / "runs")
        record.id, record.status = run_id, status
        store.save(record)
    store.close()


def test_status_and_cancel_take_a_unique_prefix(env: dict[str, str], tmp_path: Path) -> None:
    seed_runs(env, ["aaaa1111", "aaaa2222", "b0b0b0b0"], RunStatus.SUCCEEDED)
    shown = cli(env, tmp_path, "status", "aaaa1")
    assert shown.returncode == 0 and shown.stdout.startswith("Run aaaa1111: seeded on local: succeeded")
    for command in ("status", "cancel"):
        ambiguous = cli(env, tmp_path, command, "aaaa")
        assert ambiguous.returncode == 2 and "aaaa1111, aaaa2222" in ambiguous.stderr, ambiguous.stderr
        unknown = cli(env, tmp_path, command, "ab")
        assert unknown.returncode == 2 and "no run id begins with 'ab'" in unknown.stderr
    ended = cli(env, tmp_path, "cancel", "b0")
    assert ended.returncode == 0 and ended.stdout == "Run b0b0b0b0 had already ended: succeeded.\n"
    assert json.loads(cli(env, tmp_path, "status", "aaaa2222", "--json").stdout)["id"] == "aaaa2222"


def test_cancel_refuses_a_run_another_kind_of_process_holds(env: dict[str, str], tmp_path: Path) -> None:
    """A run this test process "runs" (as a Jupyter server would): its nodes are not the CLI's to stop."""
    seed_runs(env, ["c0ffee00"], RunStatus.RUNNING)
    refused = cli(env, tmp_path, "cancel", "c0ff")
    assert refused.returncode == 1 and f"process {os.getpid()}" in refused.stderr
    assert "pipeline/runs/c0ffee00/cancel" in refused.stderr


def test_cancel_stops_another_cli_run_as_ctrl_c_would(env: dict[str, str], workspace: Path) -> None:
    (workspace / "slow.py").write_text("import time\ntime.sleep(120)\n")
    (workspace / "s.pipeline").write_text(json.dumps(pipeline_document("s", [node("slow", "slow.py")])))
    script = str(Path(sys.executable).parent / "elyra-proc")
    process = subprocess.Popen([script, "run", "s.pipeline"], cwd=workspace, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert process.stdout is not None
    run_id = process.stdout.readline().split()[1].rstrip(":")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "slow: running" not in process.stdout.readline():
        pass
    cancelled = cli(env, workspace, "cancel", run_id[:8])
    assert cancelled.returncode == 0 and cancelled.stdout == f"Run {run_id}: cancelled.\n", cancelled.stderr
    assert process.wait(timeout=60) == 130
    assert json.loads(cli(env, workspace, "status", run_id, "--json").stdout)["nodes"][0]["status"] == "cancelled"
