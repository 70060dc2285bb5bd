"""The local processor on real subprocesses and real kernels: parallelism, failures, outputs, cancellation."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import nbformat
from conftest import load_json, node, pipeline_document, write_notebook

from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.store import RunRecord


async def run(manager: ProcessorManager, document: dict, **options) -> RunRecord:
    submission = manager.check(document, base_dir="", **options)
    assert submission.accepted, submission.issues
    return await manager.wait((await manager.submit(submission)).id)


async def test_example_pipeline_runs_with_fan_out(manager: ProcessorManager, workspace: Path) -> None:
    pipeline_file = workspace / "hello_pipeline" / "hello_pipeline.pipeline"
    source_notebook = (workspace / "hello_pipeline" / "summarize.ipynb").read_bytes()
    submission = manager.check(load_json(pipeline_file), source="hello_pipeline/hello_pipeline.pipeline",
                               parameters={"ROWS": "30"})
    record = await manager.wait((await manager.submit(submission)).id)
    assert record.status == RunStatus.SUCCEEDED, record.error
    nodes = {n.name: n for n in record.nodes}
    assert {n.status for n in nodes.values()} == {RunStatus.SUCCEEDED}
    # the two notebooks depend only on "Generate data" and overlap in time
    summarize, per_station = nodes["Summarize"], nodes["Per station"]
    assert summarize.started < per_station.finished and per_station.started < summarize.finished
    assert nodes["Report"].started >= max(summarize.finished, per_station.finished)
    report = (workspace / "hello_pipeline" / "output" / "report.txt").read_text()
    assert report.startswith("30 measurements")
    executed = nbformat.read(summarize.artifacts["notebook"], as_version=4)
    assert executed.cells[1].outputs[0]["data"]["text/plain"].startswith("{'count': 30")
    assert (workspace / "hello_pipeline" / "summarize.ipynb").read_bytes() == source_notebook
    assert "unit: celsius" in Path(per_station.artifacts["log"]).read_text()


async def test_env_vars_and_parameters_reach_scripts_and_kernels(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "env.py").write_text(
        "import json, os\njson.dump({k: os.environ.get(k) for k in ('GREETING', 'ELYRA_RUNTIME_ENV', 'SIZE', "
        "'OTHER')}, open('env.json', 'w'))\n")
    write_notebook(workspace / "env.ipynb", "import os\nopen('nb.txt', 'w').write(os.environ['GREETING'] + "
                   "os.getcwd())")
    document = pipeline_document(
        "t", [node("s", "env.py", env_vars=[{"env_var": "GREETING", "value": "hi"}], pipeline_parameters=["SIZE"]),
              node("n", "env.ipynb", ("s",), env_vars=[{"env_var": "GREETING", "value": "nb"}])],
        pipeline_parameters=[{"name": "SIZE", "default_value": {"type": "Integer", "value": 3}},
                             {"name": "OTHER", "default_value": {"type": "String", "value": "x"}}])
    record = await run(manager, document, parameters={"SIZE": "5"})
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert json.loads((workspace / "env.json").read_text()) == {
        "GREETING": "hi", "ELYRA_RUNTIME_ENV": "local", "SIZE": "5", "OTHER": None}
    assert (workspace / "nb.txt").read_text() == f"nb{workspace.resolve()}"


async def test_failure_skips_dependents_and_names_the_node(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "ok.py").write_text("print('fine')\n")
    (workspace / "boom.py").write_text("raise ValueError('the input is wrong')\n")
    write_notebook(workspace / "bad.ipynb", "x = 1", "1 / 0")
    document = pipeline_document("t", [node("boom", "boom.py"), node("after", "ok.py", ("boom",)),
                                       node("bad", "bad.ipynb"), node("independent", "ok.py")])
    record = await run(manager, document)
    states = {n.id: n.status for n in record.nodes}
    assert states == {"boom": "failed", "after": "skipped", "bad": "failed", "independent": "succeeded"}
    assert record.status == RunStatus.FAILED
    # A failed node's error is its exit code and last error line (its record names it); the run's error names
    # each failed node and its file. No server path: the log is the node's artifact, which clients link to.
    boom, bad = record.node("boom"), record.node("bad")
    assert boom.error == "Failed with exit code 1: ValueError: the input is wrong"
    assert bad.error == "Failed with exit code 1: Error in cell 2: ZeroDivisionError: division by zero"
    assert sorted(record.error.split("; ")) == [
        "Node 'bad' (bad.ipynb) failed with exit code 1: Error in cell 2: ZeroDivisionError: division by zero",
        "Node 'boom' (boom.py) failed with exit code 1: ValueError: the input is wrong"]
    executed = nbformat.read(bad.artifacts["notebook"], as_version=4)
    errors = [o["ename"] for cell in executed.cells for o in cell.get("outputs", []) if o["output_type"] == "error"]
    assert errors == ["ZeroDivisionError"]


async def test_declared_outputs_are_checked(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "writes.py").write_text("open('made.txt', 'w').write('x')\n")
    record = await run(manager, pipeline_document("t", [node("w", "writes.py", outputs=["made.txt", "lost.csv"])]))
    assert record.status == RunStatus.FAILED
    assert "did not produce its declared output(s): lost.csv" in record.node("w").error


async def test_missing_kernel_falls_back_to_the_default(manager: ProcessorManager, workspace: Path) -> None:
    write_notebook(workspace / "k.ipynb", "print('ran')", kernel="conda-env-that-is-not-here")
    record = await run(manager, pipeline_document("t", [node("k", "k.ipynb")]))
    assert record.status == RunStatus.SUCCEEDED, record.error
    log = Path(record.node("k").artifacts["log"]).read_text()
    assert "Kernel 'conda-env-that-is-not-here' is not installed here; using 'python3'" in log


async def test_r_node_without_rscript_fails_clearly(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "x.r").write_text("print(1)\n")
    manager.registry.get("local").rscript = "Rscript-not-installed"
    record = await run(manager, pipeline_document("t", [node("r", "x.r")]))
    assert record.status == RunStatus.FAILED
    assert "'Rscript-not-installed' is not installed on this server: install R" in record.node("r").error


async def test_parallelism_is_capped(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "nap.py").write_text("import time\ntime.sleep(0.5)\n")
    manager.registry.get("local").max_parallel_nodes = 2
    record = await run(manager, pipeline_document("t", [node(f"n{i}", "nap.py") for i in range(4)]))
    assert record.status == RunStatus.SUCCEEDED
    events = sorted([(n.started, 1) for n in record.nodes] + [(n.finished, -1) for n in record.nodes])
    running, peak = 0, 0
    for _, change in events:
        running += change
        peak = max(peak, running)
    assert peak == 2


async def test_cancel_kills_running_nodes(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "slow.py").write_text("import os, time\nopen('pid', 'w').write(str(os.getpid()))\ntime.sleep(60)\n")
    (workspace / "never.py").write_text("open('never-ran', 'w')\n")
    submission = manager.check(pipeline_document("t", [node("slow", "slow.py"), node("next", "never.py", ("slow",))]),
                               base_dir="")
    record = await manager.submit(submission)
    deadline = time.monotonic() + 20
    while not (workspace / "pid").exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    pid = int((workspace / "pid").read_text())
    record = await manager.cancel(record.id)
    assert record.status == RunStatus.CANCELLED
    assert {n.id: n.status for n in record.nodes} == {"slow": "cancelled", "next": "skipped"}
    await asyncio.sleep(0.2)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    assert not (workspace / "never-ran").exists()
    stored = manager.store.get(record.id)
    assert stored is not None and stored.status == RunStatus.CANCELLED


async def test_event_loop_stays_free_during_a_run(manager: ProcessorManager, workspace: Path) -> None:
    write_notebook(workspace / "busy.ipynb", "import time\ntime.sleep(1)")
    submission = manager.check(pipeline_document("t", [node("b", "busy.ipynb")]), base_dir="")
    record = await manager.submit(submission)
    worst = 0.0
    while record.status not in RunStatus.FINAL:
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        worst = max(worst, time.perf_counter() - before - 0.01)
    assert record.status == RunStatus.SUCCEEDED
    assert worst < 0.5, f"event loop stalled for {worst:.3f} s"
    assert os.environ.get("ELYRA_RUNTIME_ENV") is None
