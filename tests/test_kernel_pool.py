"""Kernels started ahead for notebook nodes (`c.LocalProcessor.warm_kernels`), on real kernels: they are used,
each by its own node only, the executed notebook is the same as without them, they are bounded and stopped when
idle or not needed, and a kernel's shutdown does not hold up the next node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from conftest import node, pipeline_document, write_notebook

from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.procfs import descendants
from elyra_proc_ext.store import RunRecord

KERNEL_FACTS = ("import json, os\n"
                "started = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])"
                " / os.sysconf('SC_CLK_TCK')\n"
                "facts = {'pid': os.getpid(), 'started': started, 'cwd': os.getcwd(), 'tag': os.environ.get('TAG'),"
                " 'seen': sorted(name for name in globals() if name.startswith('mine_'))}\n"
                "json.dump(facts, open(f\"facts-{os.environ['TAG']}.json\", 'w'))\n"
                "globals()['mine_' + os.environ['TAG']] = 1")


async def run(manager: ProcessorManager, document: dict[str, Any]) -> RunRecord:
    submission = manager.check(document, base_dir="")
    assert submission.accepted, submission.issues
    return await manager.wait((await manager.submit(submission)).id)


def settings(manager: ProcessorManager, **values: Any) -> None:
    local = manager.registry.get("local")
    for name, value in values.items():
        setattr(local, name, value)


def kernels() -> set[int]:
    """Kernel processes this test process started, through its launcher (alive)."""
    found = set()
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            if b"ipykernel_launcher" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
    return found


async def wait_until(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


def tagged(node_id: str, filename: str, parents: tuple[str, ...] = ()) -> dict[str, Any]:
    return node(node_id, filename, parents, env_vars=[{"env_var": "TAG", "value": node_id}])


async def test_successors_run_on_their_own_kernel_started_ahead(manager: ProcessorManager, workspace: Path) -> None:
    """The kernels of b and c start while a runs (a takes 3 s), in each node's folder with its environment; no node
    sees another's variables, and each kernel is used once."""
    settings(manager, warm_kernels=2)
    (workspace / "sub").mkdir()
    write_notebook(workspace / "a.ipynb", "import time\ntime.sleep(3)", KERNEL_FACTS)
    write_notebook(workspace / "sub" / "b.ipynb", KERNEL_FACTS)
    write_notebook(workspace / "c.ipynb", KERNEL_FACTS)
    record = await run(manager, pipeline_document("t", [tagged("a", "a.ipynb"), tagged("b", "sub/b.ipynb", ("a",)),
                                                        tagged("c", "c.ipynb", ("b",))]))
    assert record.status == RunStatus.SUCCEEDED, record.error
    facts = {tag: json.loads(path.read_text()) for tag, path in
             (("a", workspace / "facts-a.json"), ("b", workspace / "sub" / "facts-b.json"),
              ("c", workspace / "facts-c.json"))}
    assert len({fact["pid"] for fact in facts.values()}) == 3
    assert all(fact["seen"] == [] for fact in facts.values())
    assert {tag: (fact["tag"], fact["cwd"]) for tag, fact in facts.items()} == {
        "a": ("a", str(workspace)), "b": ("b", str(workspace / "sub")), "c": ("c", str(workspace))}
    for tag in ("b", "c"):  # started ahead, with a's kernel, rather than 3 s later
        assert facts[tag]["started"] - facts["a"]["started"] < 2, tag
    await wait_until(lambda: not kernels(), 10, "every kernel to stop")


async def test_without_warm_kernels_each_starts_with_its_node(manager: ProcessorManager, workspace: Path) -> None:
    settings(manager, warm_kernels=0)
    write_notebook(workspace / "a.ipynb", KERNEL_FACTS, "import time\ntime.sleep(3)")
    write_notebook(workspace / "b.ipynb", KERNEL_FACTS)
    record = await run(manager, pipeline_document("t", [tagged("a", "a.ipynb"), tagged("b", "b.ipynb", ("a",))]))
    assert record.status == RunStatus.SUCCEEDED, record.error
    a_kernel, b_kernel = (json.loads((workspace / f"facts-{tag}.json").read_text()) for tag in "ab")
    assert b_kernel["started"] - a_kernel["started"] >= 3


def comparable(path: str) -> dict[str, Any]:
    """An executed notebook without what differs between any two runs: times, papermill's run metadata (paths,
    times) and the random id of the cell papermill adds to point at the error."""
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata.pop("papermill")
    for cell in notebook.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "papermill-error-cell-tag" in cell.metadata.get("tags", []):
            cell.pop("id")
    return notebook


async def test_an_executed_notebook_is_the_same_with_or_without_warm_kernels(manager: ProcessorManager,
                                                                            workspace: Path) -> None:
    write_notebook(workspace / "first.ipynb", "import time\ntime.sleep(1.5)")
    write_notebook(workspace / "work.ipynb", "import os\nprint(os.environ['TAG'], os.getcwd())",
                   "len(os.getcwd()), 6 * 7", "from IPython.display import HTML\nHTML('<b>x</b>')",
                   "raise ValueError('no')")
    executed = {}
    for warm in (0, 2):
        settings(manager, warm_kernels=warm)
        record = await run(manager, pipeline_document("t", [node("first", "first.ipynb"),
                                                             tagged("work", "work.ipynb", ("first",))]))
        assert record.node("work").error == "Failed with exit code 1: Error in cell 4: ValueError: no"
        executed[warm] = comparable(record.node("work").artifacts["notebook"])
        log = Path(record.node("work").artifacts["log"]).read_text()
        assert "Executing notebook with kernel: python3" in log and f"work {workspace}" in log
    assert executed[2] == executed[0]
    (answer,) = [cell for cell in executed[0].cells if cell.source == "len(os.getcwd()), 6 * 7"]
    assert answer.outputs[0]["data"]["text/plain"] == f"({len(str(workspace))}, 42)"


async def test_warm_kernels_are_bounded_and_stopped_when_idle(manager: ProcessorManager, workspace: Path) -> None:
    """Four notebooks wait for a slow first node: only `warm_kernels` kernels start ahead, they are stopped after
    `warm_kernel_idle_seconds`, and the nodes then start their own kernels and succeed."""
    settings(manager, warm_kernels=2, warm_kernel_idle_seconds=2.0)
    (workspace / "slow.py").write_text("import os, time\nwhile not os.path.exists('go'):\n    time.sleep(0.05)\n")
    write_notebook(workspace / "n.ipynb", "x = 1")
    submission = manager.check(pipeline_document("t", [node("slow", "slow.py")] + [
        node(f"n{index}", "n.ipynb", ("slow",)) for index in range(4)]), base_dir="")
    record = await manager.submit(submission)
    await wait_until(lambda: len(kernels()) == 2, 60, "two kernels to start ahead")
    await asyncio.sleep(0.5)
    assert len(kernels()) == 2
    await wait_until(lambda: not kernels(), 10, "the idle kernels to be stopped")
    (workspace / "go").touch()
    record = await manager.wait(record.id)
    assert record.status == RunStatus.SUCCEEDED, record.error
    await wait_until(lambda: not kernels(), 10, "every kernel to stop")


async def test_a_node_that_will_not_run_has_its_warm_kernel_stopped(manager: ProcessorManager,
                                                                    workspace: Path) -> None:
    settings(manager, warm_kernels=2)
    (workspace / "fails.py").write_text("import os, time\nwhile not os.path.exists('go'):\n    time.sleep(0.05)\n"
                                        "raise SystemExit('upstream broke')\n")
    write_notebook(workspace / "n.ipynb", "open('ran', 'w')")
    submission = manager.check(pipeline_document("t", [node("fails", "fails.py"), node("n", "n.ipynb", ("fails",))]),
                               base_dir="")
    record = await manager.submit(submission)
    await wait_until(lambda: len(kernels()) == 1, 60, "the kernel to start ahead")
    (workspace / "go").touch()
    record = await manager.wait(record.id)
    assert {n.id: n.status for n in record.nodes} == {"fails": "failed", "n": "skipped"}
    await wait_until(lambda: not kernels(), 10, "the unneeded kernel to stop")
    assert not (workspace / "ran").exists()
    run_dir = Path(record.run_dir)
    await wait_until(lambda: sorted(path.name for path in run_dir.rglob("log.txt*")) == ["log.txt"], 10,
                     "only the failed node's log to be left")


async def test_cancelling_a_run_stops_its_warm_kernels(manager: ProcessorManager, workspace: Path) -> None:
    settings(manager, warm_kernels=2)
    (workspace / "wait.py").write_text("import time\ntime.sleep(300)\n")
    write_notebook(workspace / "n.ipynb", "x = 1")
    submission = manager.check(pipeline_document("t", [node("w", "wait.py"), node("n", "n.ipynb", ("w",))]),
                               base_dir="")
    record = await manager.submit(submission)
    await wait_until(lambda: len(kernels()) == 1, 60, "the kernel to start ahead")
    record = await manager.cancel(record.id)
    assert record.status == RunStatus.CANCELLED
    await wait_until(lambda: not kernels(), 10, "the warm kernel to stop")


async def test_what_a_notebook_left_open_is_written_before_its_successor_runs(manager: ProcessorManager,
                                                                              workspace: Path) -> None:
    write_notebook(workspace / "writer.ipynb", "leaked = open('leaked.txt', 'w')\nleaked.write('all of it')")
    write_notebook(workspace / "reader.ipynb", "assert open('leaked.txt').read() == 'all of it'")
    record = await run(manager, pipeline_document("t", [node("w", "writer.ipynb"),
                                                        node("r", "reader.ipynb", ("w",))]))
    assert record.status == RunStatus.SUCCEEDED, record.error


async def test_a_kernel_slow_to_exit_does_not_hold_up_the_next_node(manager: ProcessorManager,
                                                                    workspace: Path) -> None:
    """A kernel whose exit takes 2 s (an exit handler): the next node runs and the run ends meanwhile, and the handler
    still runs."""
    write_notebook(workspace / "slow_exit.ipynb",
                   "import atexit, time\natexit.register(lambda: (time.sleep(2), open('exited', 'w')))")
    write_notebook(workspace / "next.ipynb", "x = 1")
    record = await run(manager, pipeline_document("t", [node("s", "slow_exit.ipynb"),
                                                        node("n", "next.ipynb", ("s",))]))
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert not (workspace / "exited").exists()
    await wait_until(lambda: (workspace / "exited").exists(), 10, "the exit handler to run")


def test_the_cli_waits_for_its_last_kernel_to_exit(tmp_path: Path, workspace: Path) -> None:
    """A CLI run answered before its last kernel exited still lets that kernel's exit handlers run before it ends."""
    write_notebook(workspace / "last.ipynb",
                   "import atexit, time\natexit.register(lambda: (time.sleep(1), open('exited', 'w')))")
    (workspace / "p.pipeline").write_text(json.dumps(pipeline_document("p", [node("last", "last.ipynb")])))
    (tmp_path / "config").mkdir()
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0"}
    result = subprocess.run([sys.executable, "-m", "elyra_proc_ext.cli", "run", "p.pipeline"], cwd=workspace,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (workspace / "exited").exists()
