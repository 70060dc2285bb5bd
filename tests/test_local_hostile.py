"""The local runtime against hostile and unlucky input, on real processes: node ids that look like paths, requests
the OS refuses, floods of output, processes that try to outlive their node, Ctrl-C."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import node, pipeline_document, write_notebook
from live_server import Server, wait_for

from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.processors.launcher import NodeLauncher
from elyra_proc_ext.procfs import children_of, descendants, running
from elyra_proc_ext.store import RunRecord

LAUNCHER_MODULE = "elyra_proc_ext.processors.launcher"
MARKER_LINE = re.compile(rb"\[elyra-proc: (\d+) bytes of output were left out here; .*max_log_bytes = (\d+) bytes\]\n")


async def run(manager: ProcessorManager, document: dict[str, Any]) -> RunRecord:
    submission = manager.check(document, base_dir="")
    assert submission.accepted, submission.issues
    return await manager.wait((await manager.submit(submission)).id)


def snapshot(root: Path, outside_of: Path) -> dict[str, tuple[str, int] | str]:
    """Every directory and file under `root` but `outside_of` (with the folders holding it) and the run database:
    path → content hash and mtime."""
    found: dict[str, tuple[str, int] | str] = {}
    for path in root.rglob("*"):
        if path.is_relative_to(outside_of) or outside_of.is_relative_to(path) or path.name.startswith("runs.sqlite"):
            continue
        found[str(path)] = "dir" if path.is_dir() else (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                         path.stat().st_mtime_ns)
    return found


def launchers() -> set[int]:
    """Launcher processes this test process started (alive)."""
    found = set()
    for pid in children_of().get(os.getpid(), []):
        with contextlib.suppress(OSError):
            if LAUNCHER_MODULE.encode() in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
    return found


# --- 1. node ids never become paths -----------------------------------------------------------------------------


async def test_hostile_node_ids_never_become_paths(manager: ProcessorManager, workspace: Path, tmp_path: Path) -> None:
    (workspace / "tag.py").write_text("import os\nprint('node', os.environ['TAG'])\n")
    write_notebook(workspace / "hello_pipeline" / "own.ipynb", "import os\nprint('notebook', os.environ['TAG'])")
    absolute = f"/tmp/elyra-hostile-{uuid.uuid4().hex}"
    into_source_folder = "../" + os.path.relpath(workspace / "hello_pipeline", manager.runs_dir)
    ids = ["../..", "../../x", absolute, "..", ".", "x" * 300, "Node", "node", "a/b", "a:b", "a?b", "ノード", "é",
           "a\x00b", into_source_folder + "/log", "~", "-", " "]
    nodes = [node(node_id, "tag.py", env_vars=[{"env_var": "TAG", "value": f"tag-{index}"}])
             for index, node_id in enumerate(ids)]
    nodes.append(node(into_source_folder, "hello_pipeline/own.ipynb",
                      env_vars=[{"env_var": "TAG", "value": f"tag-{len(ids)}"}]))
    before = snapshot(tmp_path, outside_of=manager.runs_dir)
    record = await run(manager, pipeline_document("hostile", nodes))
    assert record.status == RunStatus.SUCCEEDED, record.error
    run_dir = Path(record.run_dir).resolve()
    assert snapshot(tmp_path, outside_of=run_dir) == before
    assert not Path(absolute).exists()
    logs = []
    for index, node_id in enumerate([*ids, into_source_folder]):
        artifacts = record.node(node_id).artifacts
        for path in artifacts.values():
            assert Path(path).resolve().is_relative_to(run_dir), (node_id, path)
        logs.append(Path(artifacts["log"]).resolve())
        assert f"tag-{index}\n" in logs[-1].read_text(), node_id
    assert len(set(logs)) == len(logs)
    assert "notebook tag-" in Path(record.node(into_source_folder).artifacts["notebook"]).read_text()


# --- 2. one bad node never fails another -------------------------------------------------------------------------


def bad_requests(tmp_path: Path) -> dict[str, tuple[dict[str, Any], str]]:
    """Requests the OS refuses, each with what the error must say."""
    env = dict(os.environ)
    command = {"cwd": str(tmp_path), "env": env, "log": str(tmp_path / "log.txt"), "max_log_bytes": 2**20,
               "argv": [sys.executable, "-c", "print('ok')"]}
    return {
        "NUL in an env value": ({**command, "env": {**env, "GREETING": "a\0b"}}, "'GREETING' holds a NUL"),
        "NUL in an env name": ({**command, "env": {**env, "GREE\0TING": "b"}}, "holds a NUL character"),
        "NUL in argv": ({**command, "argv": [sys.executable, "-c", "print(1)\0"]}, "null"),
        "unencodable env value": ({**command, "env": {**env, "GREETING": "\ud800"}}, "surrogate"),
        "missing cwd": ({**command, "cwd": str(tmp_path / "gone")}, "gone does not exist"),
        "missing log folder": ({**command, "log": str(tmp_path / "gone" / "log.txt")}, "No such file"),
        "log is a folder": ({**command, "log": str(tmp_path / "a-folder")}, "Is a directory"),
        "missing program": ({**command, "argv": ["/no/such/program"]}, "No such file"),
        "env not a mapping": ({**command, "env": ["A=1"]}, "items"),
        "no log field": ({key: value for key, value in command.items() if key != "log"}, "log"),
        "notebook in a missing cwd": ({**command, "argv": None, "cwd": str(tmp_path / "gone"),
                                       "notebook": {"source": "x.ipynb", "executed": "y.ipynb",
                                                    "default_kernel": "python3"}}, "gone does not exist"),
    }


BAD_REQUEST_NAMES = list(bad_requests(Path("/nowhere")))


async def launch_and_wait(launcher: NodeLauncher, request: dict[str, Any]) -> int:
    return await (await launcher.launch(request)).exited


@pytest.mark.parametrize("case", BAD_REQUEST_NAMES)
async def test_launcher_answers_a_request_it_cannot_start_and_keeps_serving(tmp_path: Path, case: str) -> None:
    (tmp_path / "a-folder").mkdir()
    request, says = bad_requests(tmp_path)[case]
    if request.get("argv") is None:
        request.pop("argv")
    good = {"cwd": str(tmp_path), "env": dict(os.environ), "log": str(tmp_path / "good.txt"), "max_log_bytes": 2**20,
            "argv": [sys.executable, "-c", "import os; print(os.getppid())"]}
    launcher = NodeLauncher()
    try:
        assert await launch_and_wait(launcher, {**good, "id": "before"}) == 0
        first_launcher = (tmp_path / "good.txt").read_text()
        with pytest.raises(OSError, match=re.escape(says)):
            await launcher.launch({**request, "id": "bad"})
        assert await launch_and_wait(launcher, {**good, "id": "after"}) == 0
        assert (tmp_path / "good.txt").read_text() == first_launcher  # the same launcher served it
    finally:
        await launcher.close()


async def test_the_reader_survives_answers_that_fit_no_node() -> None:
    launcher = NodeLauncher()
    loop = asyncio.get_running_loop()
    waiting = launcher._waiting["n"] = (loop.create_future(), loop.create_future())
    stdout = asyncio.StreamReader()
    reading = asyncio.create_task(launcher._read(SimpleNamespace(stdout=stdout)))  # type: ignore[arg-type]
    for line in (b"not json\n", b"[1, 2]\n", b'{"no": "id"}\n', b'{"id": "unknown", "exit": 0}\n', b"\xff\xfe\n",
                 b'{"id": "n"}\n', b'{"id": "n", "pid": 7}\n', b'{"id": "n", "pid": 8}\n', b'{"id": "n", "exit": 3}\n'):
        stdout.feed_data(line)
    stdout.feed_eof()
    await reading
    assert await waiting[0] == 7 and await waiting[1] == 3


@pytest.mark.parametrize("how", ["env value longer than exec takes", "node folder removed after the check"])
async def test_a_node_that_cannot_start_fails_alone(manager: ProcessorManager, workspace: Path, how: str) -> None:
    (workspace / "sub").mkdir()
    (workspace / "sub" / "a.py").write_text("print('a')\n")
    (workspace / "b.py").write_text("print('b')\n")
    before = launchers()  # other tests' managers may still hold theirs
    too_long = how.startswith("env value")
    env_vars = [{"env_var": "GREETING", "value": "x" * 200_000}] if too_long else []
    submission = manager.check(pipeline_document("t", [node("a", "sub/a.py", env_vars=env_vars),
                                                       node("b", "b.py")]), base_dir="")
    assert submission.accepted, submission.issues
    if how.startswith("node folder"):
        shutil.rmtree(workspace / "sub")
    record = await manager.wait((await manager.submit(submission)).id)
    assert record.status == RunStatus.FAILED
    assert record.node("b").status == RunStatus.SUCCEEDED
    says = "Argument list too long" if too_long else "sub does not exist"
    assert record.node("a").error.startswith("Could not run: ") and says in record.node("a").error
    assert record.error.startswith("Node 'a' (sub/a.py) could not run: ")
    (workspace / "sub").mkdir(exist_ok=True)
    (workspace / "sub" / "a.py").write_text("print('a')\n")
    again = await run(manager, pipeline_document("t", [node("a", "sub/a.py"), node("b", "b.py")]))
    assert again.status == RunStatus.SUCCEEDED, again.error
    (launcher,) = launchers() - before
    assert not descendants(launcher)


# --- 3. one launcher ---------------------------------------------------------------------------------------------


async def test_nodes_ready_at_once_share_one_launcher(manager: ProcessorManager, workspace: Path) -> None:
    (workspace / "ppid.py").write_text("import os, sys\nopen(sys.argv[0] + os.environ['N'], 'w')"
                                       ".write(str(os.getppid()))\n")
    before = launchers()
    record = await run(manager, pipeline_document(
        "t", [node(f"n{i}", "ppid.py", env_vars=[{"env_var": "N", "value": str(i)}]) for i in range(4)]))
    assert record.status == RunStatus.SUCCEEDED, record.error
    started = launchers() - before
    assert len(started) == 1
    assert {int((workspace / f"ppid.py{i}").read_text()) for i in range(4)} == started


# --- 4. logs capped on disk --------------------------------------------------------------------------------------


FLOOD = "for i in range({lines}):\n    print(f'line {{i:08d}} ' + 'x' * 50)\n"


@pytest.mark.parametrize("kind, cap, lines", [("python", 2**20, 131072), ("notebook", 2**16, 4096)])
async def test_a_flooding_node_keeps_head_and_tail(manager: ProcessorManager, workspace: Path, kind: str, cap: int,
                                                  lines: int) -> None:
    manager.registry.get("local").max_log_bytes = cap
    flood = FLOOD.format(lines=lines)
    if kind == "python":
        (workspace / "flood.py").write_text(flood + "raise SystemExit('final words')\n")
    else:
        write_notebook(workspace / "flood.ipynb", flood, "raise ValueError('final words')")
    record = await run(manager, pipeline_document("t", [node("f", f"flood.{'py' if kind == 'python' else 'ipynb'}")]))
    assert record.status == RunStatus.FAILED
    assert "final words" in record.node("f").error
    log = Path(record.node("f").artifacts["log"]).read_bytes()
    marker = MARKER_LINE.search(log)
    assert marker is not None and int(marker.group(2)) == cap
    assert len(log) <= cap + len(marker.group(0)) + 1
    assert b"line 00000000 " in log[:marker.start()] and f"line {lines - 1:08d} ".encode() in log[marker.end():]
    if kind == "python":  # every byte is accounted for: kept as it was written, or counted as left out
        written = "".join(f"line {i:08d} " + "x" * 50 + "\n" for i in range(lines)).encode() + b"final words\n"
        head, tail = log[:marker.start()], log[marker.end():]
        if not written.startswith(head):  # the marker starts on a line of its own
            head = head[:-1]
            assert head[-1:] != b"\n" and written.startswith(head)
        assert written.endswith(tail) and tail.startswith(b"line ")  # the tail starts at a line's start
        assert len(head) + int(marker.group(1)) + len(tail) == len(written)


async def test_a_log_under_the_cap_is_whole_and_readable_while_the_node_runs(manager: ProcessorManager,
                                                                             workspace: Path) -> None:
    (workspace / "wait.py").write_text("import os, time\nprint('first line', flush=True)\n"
                                       "while not os.path.exists('go'):\n    time.sleep(0.05)\nprint('last line')\n")
    submission = manager.check(pipeline_document("t", [node("w", "wait.py")]), base_dir="")
    record = await manager.submit(submission)
    wait_until = time.monotonic() + 60
    while "log" not in record.node("w").artifacts or not Path(record.node("w").artifacts["log"]).exists() or \
            "first line" not in Path(record.node("w").artifacts["log"]).read_text():
        assert time.monotonic() < wait_until, "the log's first line never appeared while the node ran"
        await asyncio.sleep(0.05)
    assert record.node("w").status == RunStatus.RUNNING
    (workspace / "go").touch()
    record = await manager.wait(record.id)
    assert record.status == RunStatus.SUCCEEDED
    assert Path(record.node("w").artifacts["log"]).read_text() == "first line\nlast line\n"


# --- 5. nothing a node starts outlives it ------------------------------------------------------------------------


ESCAPE = """\
import os, subprocess, sys, time
quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
pids = [subprocess.Popen(["sleep", "300"]).pid,  # holds the node's output open too
        subprocess.Popen(["sleep", "300"], start_new_session=True, **quiet).pid,
        subprocess.Popen(["setsid", "sleep", "300"], **quiet).pid,
        subprocess.Popen([sys.executable, "-c", "import signal, time\\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)"
                          "\\ntime.sleep(300)"], start_new_session=True, **quiet).pid,
        int(subprocess.run("sleep 300 >/dev/null 2>&1 & echo $!", shell=True, capture_output=True, text=True).stdout)]
read, write = os.pipe()
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.write(write, str(os.getpid()).encode())
        os.execvp("sleep", ["sleep", "300"])
    os._exit(0)
os.close(write)
pids.append(int(os.read(read, 32)))
time.sleep(0.5)  # the TERM-ignoring child has set its handler
open("escapees.txt", "w").write(" ".join(map(str, pids)))
"""
LINGER = "time.sleep(300)\n"


def escapees(workspace: Path) -> list[int]:
    wait_for(lambda: (workspace / "escapees.txt").exists(), 120, "the node to start its children")
    pids = [int(pid) for pid in (workspace / "escapees.txt").read_text().split()]
    assert len(pids) == 6 and all(running(pid) for pid in pids)
    return pids


@pytest.fixture
def reap_escapees(workspace: Path) -> Iterator[None]:
    """Whatever the outcome, kill what the test's nodes started."""
    yield
    if (workspace / "escapees.txt").exists():
        for pid in (workspace / "escapees.txt").read_text().split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                continue


def all_stopped(pids: list[int]) -> Callable[[], bool]:
    return lambda: not any(running(pid) for pid in pids)


@pytest.mark.parametrize("kind", ["python", "notebook"])
async def test_what_a_node_starts_ends_with_it(manager: ProcessorManager, workspace: Path, kind: str,
                                               reap_escapees: None) -> None:
    if kind == "python":
        (workspace / "escape.py").write_text(ESCAPE)
    else:
        write_notebook(workspace / "escape.ipynb", ESCAPE)
    record = await run(manager, pipeline_document("t", [node("e", f"escape.{'py' if kind == 'python' else 'ipynb'}")]))
    assert record.status == RunStatus.SUCCEEDED, record.error
    pids = [int(pid) for pid in (workspace / "escapees.txt").read_text().split()]
    assert len(pids) == 6
    await asyncio.to_thread(wait_for, all_stopped(pids), 10, "the node's children to be stopped")


async def test_cancel_stops_what_a_node_started(manager: ProcessorManager, workspace: Path,
                                                reap_escapees: None) -> None:
    (workspace / "escape.py").write_text(ESCAPE + LINGER)
    record = await manager.submit(manager.check(pipeline_document("t", [node("e", "escape.py")]), base_dir=""))
    pids = await asyncio.to_thread(escapees, workspace)
    record = await manager.cancel(record.id)
    assert record.status == RunStatus.CANCELLED
    await asyncio.to_thread(wait_for, all_stopped(pids), 10, "the node's children to be stopped")


def test_a_killed_server_leaves_nothing_a_node_started(tmp_path: Path, reap_escapees: None, workspace: Path) -> None:
    server = Server(workspace, tmp_path / "home")
    try:
        (workspace / "escape.py").write_text(ESCAPE + LINGER)
        server.start().call("POST", "schedule", pipeline_document("k", [node("e", "escape.py")]))
        pids = escapees(workspace)
        server.kill()
        wait_for(all_stopped(pids), 30, "the node's children to be stopped with their dead server")
    finally:
        server.stop()


# --- 6. Ctrl-C ----------------------------------------------------------------------------------------------------


def test_ctrl_c_on_a_cli_run_prints_no_traceback(tmp_path: Path, workspace: Path) -> None:
    (workspace / "nap.py").write_text("import os, time\nopen('nap.pid', 'w').write(str(os.getpid()))\n"
                                      "time.sleep(300)\n")
    (workspace / "p.pipeline").write_text(json.dumps(pipeline_document("p", [node("nap", "nap.py")])))
    (tmp_path / "config").mkdir()
    env = {**os.environ, "JUPYTER_DATA_DIR": str(tmp_path / "data"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0"}
    cli = subprocess.Popen([sys.executable, "-m", "elyra_proc_ext.cli", "run", "p.pipeline"], cwd=workspace, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        wait_for(lambda: (workspace / "nap.pid").exists(), 60, "the node to start")
        node_pid = int((workspace / "nap.pid").read_text())
        os.killpg(cli.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole foreground group
        _, stderr = cli.communicate(timeout=60)
        assert "Traceback" not in stderr, stderr
        wait_for(lambda: not running(node_pid), 10, "the node to be stopped")
    finally:
        if cli.poll() is None:
            os.killpg(cli.pid, signal.SIGKILL)
            cli.wait()
