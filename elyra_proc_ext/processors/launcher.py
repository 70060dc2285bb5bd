"""Starts the local runtime's node processes from one long-lived helper process, the launcher.

Two reasons not to start them from the server directly. Notebooks: the launcher imports papermill once, then
forks a child per notebook node, which saves each node the 1.4 s a fresh Python spends importing it. Orphans: a
node runs in a session of its own (so that cancelling kills its kernel too), and if the server dies, even by
SIGKILL, nothing would stop it; the launcher sees its standard input close and stops every node it started.

Protocol, one JSON object per line. To the launcher: {"id", "cwd", "env", "log"} plus either "argv" (a command)
or "notebook" ({"source", "executed", "default_kernel"}); or {"prepare": "notebooks"}, sent when a run with
notebooks starts, so papermill is imported while its first nodes run (and never for runs without notebooks).
From it: {"id", "pid"} once started, {"id", "exit"} (the exit code, negative for a signal) when done, or
{"id", "error"} when it could not start.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

STOP_GRACE_SECONDS = 5


class LauncherGone(Exception):
    """The launcher process stopped; its nodes' outcomes are unknown."""


@dataclass
class LaunchedNode:
    """A node process started by the launcher: its pid (also its process group) and its exit code, once known."""

    pid: int
    exited: asyncio.Future[int] = field(repr=False)


class NodeLauncher:
    """The server's side: starts the launcher on first use and matches its answers to the nodes waiting for them."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._waiting: dict[str, tuple[asyncio.Future[int], asyncio.Future[int]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def _send(self, request: dict[str, Any]) -> None:
        if self._process is None or self._process.returncode is not None:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
            self._reader = asyncio.create_task(self._read(self._process))
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(request).encode() + b"\n")
        await self._process.stdin.drain()

    async def prepare_notebooks(self) -> None:
        await self._send({"prepare": "notebooks"})

    async def launch(self, request: dict[str, Any]) -> LaunchedNode:
        loop = asyncio.get_running_loop()
        started, exited = loop.create_future(), loop.create_future()
        self._waiting[request["id"]] = (started, exited)
        try:
            await self._send(request)
            return LaunchedNode(await asyncio.shield(started), exited)
        except asyncio.CancelledError:  # the node may start after all: stop it as soon as it does
            started.add_done_callback(_kill_when_started)
            raise

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            answer = json.loads(line)
            started, exited = self._waiting[answer["id"]]
            if "pid" in answer:
                started.set_result(answer["pid"])
            elif "exit" in answer:
                exited.set_result(answer["exit"])
                del self._waiting[answer["id"]]
            else:
                started.set_exception(OSError(answer["error"]))
                del self._waiting[answer["id"]]
        gone = LauncherGone("the local runtime's launcher process stopped; run the pipeline again")
        for started, exited in self._waiting.values():
            for future in (started, exited):
                if not future.done():
                    future.set_exception(gone)
        self._waiting.clear()

    async def close(self) -> None:
        """Closing its input makes the launcher stop what still runs and exit."""
        if self._process is not None and self._process.stdin is not None:
            self._process.stdin.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._process.wait(), 2 * STOP_GRACE_SECONDS)
            if self._reader is not None:
                await asyncio.gather(self._reader, return_exceptions=True)


def _kill_when_started(started: asyncio.Future[int]) -> None:
    if not started.cancelled() and started.exception() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(started.result(), signal.SIGKILL)


# --- the launcher process -------------------------------------------------------------------------------------


class Launcher:
    """Answers on a private copy of its standard output; anything else printed (warnings, a library's messages)
    goes to standard error, where it cannot garble an answer."""

    def __init__(self) -> None:
        self.answers = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        self.running: dict[int, str] = {}  # pid → request id
        self.commands: dict[int, subprocess.Popen[bytes]] = {}  # kept, so that only `_wait` reaps them
        self.lock = threading.Lock()  # one answer line at a time, from the main and the waiting threads
        self.importing: threading.Thread | None = None

    def answer(self, **fields: Any) -> None:
        with self.lock:
            self.answers.write(json.dumps(fields) + "\n")
            self.answers.flush()

    def serve(self) -> None:
        for line in sys.stdin:
            request = json.loads(line)
            if "prepare" in request:
                self._prepare_notebooks()
                continue
            try:
                pid = self._start(request)
            except OSError as error:
                self.answer(id=request["id"], error=str(error))
                continue
            with self.lock:
                self.running[pid] = request["id"]
            self.answer(id=request["id"], pid=pid)
            threading.Thread(target=self._wait, args=(pid,), daemon=True).start()
        self.stop_all()

    def _prepare_notebooks(self) -> threading.Thread:
        """Import papermill in the background, once; without it, each notebook node reports the ImportError."""
        if self.importing is None:
            self.importing = threading.Thread(target=importlib.import_module, args=("papermill",), daemon=True)
            self.importing.start()
        return self.importing

    def _start(self, request: dict[str, Any]) -> int:
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            if "argv" in request:
                command = subprocess.Popen(request["argv"], cwd=request["cwd"], env=request["env"], stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
                self.commands[command.pid] = command
                return command.pid
            self._prepare_notebooks().join()  # never fork while another thread is importing
            pid = os.fork()
            if pid == 0:
                self._notebook_child(request, log, self.answers.fileno())
            return pid
        finally:
            os.close(log)

    @staticmethod
    def _notebook_child(request: dict[str, Any], log: int, answers: int) -> None:
        """In the forked child: become the node (own session, log as output, its directory and environment)."""
        code = 1
        try:
            os.setsid()
            os.dup2(log, 1)
            os.dup2(log, 2)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            for descriptor in (null, log, answers):  # the server must see the launcher's answers end when the
                os.close(descriptor)                 # launcher does, not when this node does
            # Fresh streams, with nothing the launcher had buffered.
            sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
            sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            from .notebook_runner import run_notebook

            notebook = request["notebook"]
            code = run_notebook(notebook["source"], notebook["executed"], notebook["default_kernel"])
        except BaseException:
            traceback.print_exc()
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def _wait(self, pid: int) -> None:
        command = self.commands.get(pid)
        code = command.wait() if command else os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
        with self.lock:
            request_id = self.running.pop(pid)
            self.commands.pop(pid, None)
        self.answer(id=request_id, exit=code)

    def stop_all(self) -> None:
        """The server is gone or done: stop every node still running (its whole process group)."""
        for sig in (signal.SIGTERM, signal.SIGKILL):
            with self.lock:
                pids = list(self.running)
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pid, sig)
            deadline = time.monotonic() + STOP_GRACE_SECONDS
            while self.running and time.monotonic() < deadline:
                time.sleep(0.05)


if __name__ == "__main__":
    Launcher().serve()
