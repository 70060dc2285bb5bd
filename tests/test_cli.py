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

from elyra_proc_ext.store import RunStore


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
    assert lines[-1].endswith("succeeded in " + lines[-1].split(" in ")[-1])
    assert (workspace / "hello_pipeline" / "output" / "report.txt").read_text().startswith("12 measurements")
    run_id = lines[0].split()[1].rstrip(":")

    listing = json.loads(cli(env, workspace, "runs", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listing] == [(run_id, "succeeded")]
    status = cli(env, workspace, "status", run_id)
    assert status.returncode == 0 and "succeeded" in status.stdout and "notebook:" in status.stdout
    detail = json.loads(cli(env, workspace, "status", run_id, "--json").stdout)
    assert [n["status"] for n in detail["nodes"]] == ["succeeded"] * 4
    assert cli(env, workspace, "status", "no-such-run").returncode == 1


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
