"""Starts the local runtime's node processes from one long-lived helper process, the launcher.

Why not from the server directly. Notebooks: the launcher imports papermill once, then forks a child per notebook
node, which saves each node the 1.4 s a fresh Python spends importing it. Orphans: a node runs in a session of its
own (so that cancelling kills its kernel too), and if the server dies, even by SIGKILL, nothing would stop it; the
launcher sees its standard input close and stops every node it started.

Nothing a node starts outlives it. The launcher is a child subreaper (Linux `PR_SET_CHILD_SUBREAPER`), so whatever a
node leaves behind (background children, double-forked daemons, children in sessions of their own) stays among its
descendants, and each node carries a marker in its environment (`ELYRA_PROC_NODE`). When a node's main process
ends, the launcher stops every descendant that carries the node's marker, and their descendants (SIGTERM, then
SIGKILL after a grace); when its input closes, it stops all its descendants.

A node's output goes through a pipe that a thread drains into the node's log, capped at the request's
"max_log_bytes": the first half is written as it comes (so the log can be read while the node runs), the last half
is kept in memory and written when the node ends, after a line saying how much was left out between them.

The launcher runs in a session of its own and ignores SIGINT: Ctrl-C is for the CLI or server to answer, and a
signal that kills the CLI's process group leaves the launcher alive to stop the nodes once its input closes.
It answers any request it cannot start (a NUL in the environment, a missing directory or log folder, a failed fork)
with an error for that node and goes on serving.

Warm notebook nodes. Starting a kernel takes about a second, and stopping one can stall; both are taken off the
critical path (see `kernel_pool` for which nodes are warmed and when). A warm request forks the node's process
ahead of time, exactly as it would be started (its session, marker, directory, environment, log pipe), and that
process starts the notebook's kernel and waits until it answers, then waits for its go. The node's launch request,
when it comes and is the same request, gives the go and the node is answered as started at once; a launch that
finds no usable warm node starts it cold, as before. A node's kernel is used once, for that node: isolation is the
same as without warm nodes. Until its go, a warm node's output goes to a file beside its log ("log.txt.warm"),
renamed to the log at the go, so a node never run leaves no log; a warm node discarded (or whose go never
comes because the server is gone) is stopped like any node, without an answer. A notebook node that succeeded
says so on a pipe of its own once its executed notebook is written and the files it left open are flushed (see
`notebook_runner.run_notebook`), and is answered then: its kernel's exit (about 0.2 s, sometimes seconds) and the
stopping of what it left behind follow the answer instead of delaying the next node.

Protocol, one JSON object per line. To the launcher: {"id", "cwd", "env", "log", "max_log_bytes"} plus either
"argv" (a command) or "notebook" ({"source", "executed", "default_kernel"}); {"warm": <such a notebook request>};
{"discard": id} for a warm node that will not be launched; or {"prepare": "notebooks"}, sent when a run with
notebooks starts, so papermill is imported while its first nodes run (and never for runs without notebooks).
From it: {"id", "pid"} once started, {"id", "exit"} (the exit code, negative for a signal) when done and its log is
complete (for a notebook node that succeeded: when it says so, above), or {"id", "error"} when it could not start.
Warm and discard requests are never answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import io
import json
import logging
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import lean  # noqa: F401  # before papermill, which imports jsonschema
from ..procfs import descendants

STOP_GRACE_SECONDS = 5
NODE_MARKER = "ELYRA_PROC_NODE"
READ_SIZE = 64 * 1024
PIPE_BYTES = 1024 * 1024
PR_SET_CHILD_SUBREAPER = 36
LOG_SETTING = "c.LocalProcessor.max_log_bytes"
WARM_LOG_SUFFIX = ".warm"
GO = b"g"
SUCCEEDED = b"0"

log = logging.getLogger(__name__)


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
        self._starting = asyncio.Lock()  # nodes ready at once must not each start a launcher

    async def _send(self, request: dict[str, Any]) -> None:
        async with self._starting:
            if self._process is None or self._process.returncode is not None:
                self._process = await asyncio.create_subprocess_exec(  # a session of its own: a signal to the
                    sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE,  # CLI's group (Ctrl-C, a kill)
                    stdout=asyncio.subprocess.PIPE, start_new_session=True)  # leaves it to stop the nodes
                self._reader = asyncio.create_task(self._read(self._process))
            process = self._process
        assert process.stdin is not None
        process.stdin.write(json.dumps(request).encode() + b"\n")
        await process.stdin.drain()

    async def prepare_notebooks(self) -> None:
        await self._send({"prepare": "notebooks"})

    async def warm(self, request: dict[str, Any]) -> None:
        """Start a notebook node ahead of its launch with this same request, its kernel ready (a hint: never
        answered; a warm node that cannot start is started cold by its launch)."""
        await self._send({"warm": request})

    async def discard(self, request_id: str) -> None:
        """Stop a warm node that will not be launched."""
        await self._send({"discard": request_id})

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
        except BaseException:
            self._waiting.pop(request["id"], None)
            raise

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        try:
            async for line in process.stdout:
                try:
                    self._answered(json.loads(line))
                except Exception:  # one garbled or unexpected answer must not leave every later node waiting
                    log.warning("The local runtime's launcher sent an unexpected answer: %r", line[:300])
        finally:
            gone = LauncherGone("the local runtime's launcher process stopped; run the pipeline again")
            for started, exited in self._waiting.values():
                for future in (started, exited):
                    if not future.done():
                        future.set_exception(gone)
            self._waiting.clear()

    def _answered(self, answer: dict[str, Any]) -> None:
        started, exited = self._waiting[answer["id"]]
        if "pid" in answer:
            started.set_result(answer["pid"])
        elif "exit" in answer:
            exited.set_result(answer["exit"])
            del self._waiting[answer["id"]]
        else:
            started.set_exception(OSError(answer["error"]))
            del self._waiting[answer["id"]]

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


class CappedLog:
    """A node's output: a pipe whose reading end a thread drains into the log file, keeping at most `limit` bytes
    (the head as it comes, the tail when the node ends, a marker line between them)."""

    def __init__(self, path: str, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.file = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            self.read_end, self.write_end = os.pipe()
            with contextlib.suppress(OSError):  # a roomier pipe: a fast writer waits less often for the thread
                fcntl.fcntl(self.write_end, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            os.close(self.file)
            raise
        self.head_room = limit // 2
        self.tail_limit = limit - limit // 2
        self.tail: deque[bytes] = deque()
        self.tail_size = 0
        self.left_out = 0
        self.ends_line = True
        self.unwritable: OSError | None = None  # a full disk: keep draining, so the node never blocks on output
        self.stop_at: float | None = None
        self.thread = threading.Thread(target=self._drain, daemon=True)

    def start(self) -> None:
        """The node has its own copy of the writing end: close ours, so the pipe ends when the node's does."""
        os.close(self.write_end)
        self.thread.start()

    def abandon(self) -> None:
        """The node never started."""
        for descriptor in (self.read_end, self.write_end, self.file):
            os.close(descriptor)

    def finish(self, grace: float = 1.0) -> None:
        """Wait for the output to end; a process outside the node still holding the pipe gets `grace` seconds."""
        self.stop_at = time.monotonic() + grace
        self.thread.join()

    def _drain(self) -> None:
        poller = select.poll()
        poller.register(self.read_end, select.POLLIN)
        try:
            while self.stop_at is None or time.monotonic() < self.stop_at:
                if poller.poll(200):
                    chunk = os.read(self.read_end, READ_SIZE)
                    if not chunk:
                        break
                    self._keep(chunk)
            self._write(b"".join(self._cut_tail()))
        finally:
            os.close(self.read_end)
            os.close(self.file)

    def _keep(self, chunk: bytes) -> None:
        """Write what fits in the head; keep the rest as the tail, forgetting whole chunks no longer needed (the
        exact cut is made once, at the end, so a flood costs no copying)."""
        if self.head_room:
            head, chunk = chunk[:self.head_room], chunk[self.head_room:]
            self.head_room -= len(head)
            self._write(head)
        if chunk:
            self.tail.append(chunk)
            self.tail_size += len(chunk)
            while self.tail_size - len(self.tail[0]) >= self.tail_limit:
                self.tail_size -= len(self.tail[0])
                self.left_out += len(self.tail.popleft())

    def _cut_tail(self) -> list[bytes]:
        """The last `tail_limit` bytes from a line's start, behind a marker line when output was left out."""
        excess = max(0, self.tail_size - self.tail_limit)
        tail = b"".join(self.tail)[excess:]
        self.left_out += excess
        if not self.left_out:
            return [tail]
        newline = tail.find(b"\n")
        if 0 <= newline < len(tail) - 1:
            self.left_out += newline + 1
            tail = tail[newline + 1:]
        marker = (f"[elyra-proc: {self.left_out} bytes of output were left out here; the log keeps the first and "
                  f"last part of at most {LOG_SETTING} = {self.limit} bytes]\n")
        return [b"" if self.ends_line else b"\n", marker.encode(), tail]

    def _write(self, data: bytes) -> None:
        if not data:
            return
        self.ends_line = data.endswith(b"\n")
        view = memoryview(data)
        while view and self.unwritable is None:
            try:
                view = view[os.write(self.file, view):]
            except OSError as error:
                self.unwritable = error


@dataclass(eq=False)
class RunningNode:
    """A node the launcher started: whom to answer, the marker its processes carry, its log. A warm node also
    keeps its request and the pipe its go is written to, and is not answered until it is launched."""

    request_id: str
    pid: int
    marker: str
    output: CappedLog
    command: subprocess.Popen[bytes] | None
    warm_request: dict[str, Any] | None = None
    go: int | None = None
    launched: bool = True
    answered: bool = False  # its exit: a notebook node that succeeded is answered before its kernel has exited


class Launcher:
    """Answers on a private copy of its standard output; anything else printed (warnings, a library's messages)
    goes to standard error, where it cannot garble an answer."""

    def __init__(self) -> None:
        self.answers = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        self.by_pid: dict[int, RunningNode] = {}  # main processes not reaped yet
        self.warm: dict[str, RunningNode] = {}  # warm nodes waiting for their launch, by request id
        self.unfinished: set[RunningNode] = set()  # nodes not ended yet (warm ones included)
        self.lock = threading.Condition()  # starting and reaping; notified when a child was started
        self.spawned = False
        self.writing = threading.Lock()  # one answer line at a time
        self.importing: threading.Thread | None = None

    def answer(self, **fields: Any) -> None:
        with self.writing, contextlib.suppress(OSError):  # the server may be gone; nodes are stopped regardless
            self.answers.write(json.dumps(fields) + "\n")
            self.answers.flush()

    def serve(self) -> None:
        threading.Thread(target=self._reap, daemon=True).start()
        for line in sys.stdin:
            self._handle(line)
        self.stop_all()

    def _handle(self, line: str) -> None:
        """Start one node; any failure to start it is that node's answer, never the launcher's end."""
        request_id = None
        try:
            request = json.loads(line)
            if "prepare" in request:
                self._prepare_notebooks()
                return
            if "warm" in request:
                with contextlib.suppress(Exception):  # a hint: its launch will start the node cold
                    self._start(request["warm"], warm=True)
                return
            if "discard" in request:
                self._discard(request["discard"])
                return
            request_id = request["id"]
            if not self._go(request):
                self._start(request)
        except Exception as error:
            self.answer(id=request_id, error=str(error) or type(error).__name__)

    def _prepare_notebooks(self) -> threading.Thread:
        """Import papermill (and compile what notebook nodes need) in the background, once; without papermill,
        each notebook node reports the ImportError."""
        if self.importing is None:
            self.importing = threading.Thread(target=_preload_notebooks, daemon=True)
            self.importing.start()
        return self.importing

    def _start(self, request: dict[str, Any], warm: bool = False) -> None:
        _refuse_unusable(request)
        env = {**request["env"], NODE_MARKER: secrets.token_hex(8)}
        if "argv" not in request:
            self._prepare_notebooks().join()  # never fork while another thread is importing
        elif warm:
            raise ValueError("only notebook nodes are started warm")
        output = CappedLog(request["log"] + (WARM_LOG_SUFFIX if warm else ""), request["max_log_bytes"])
        go_read, go_write = os.pipe() if warm else (None, None)
        done_read, done_write = os.pipe() if "argv" not in request else (None, None)
        with self.lock:  # held until the node is known: the reaper must find it when it ends, however soon
            try:
                pid, command = self._spawn(request, env, output.write_end, go_read, done_write)
            except BaseException:
                output.abandon()
                for descriptor in (go_write, done_read):
                    if descriptor is not None:
                        os.close(descriptor)
                raise
            finally:
                for descriptor in (go_read, done_write):  # the node's ends
                    if descriptor is not None:
                        os.close(descriptor)
            output.start()
            node = RunningNode(request["id"], pid, env[NODE_MARKER], output, command,
                               warm_request=request if warm else None, go=go_write, launched=not warm)
            self.by_pid[pid] = node
            self.unfinished.add(node)
            if warm:
                self.warm[node.request_id] = node
            self.spawned = True
            self.lock.notify()
            if not warm:
                self.answer(id=node.request_id, pid=pid)  # before the reaper can answer its exit
        if done_read is not None:
            threading.Thread(target=self._await_success, args=(node, done_read), daemon=True).start()

    def _await_success(self, node: RunningNode, done: int) -> None:
        """A notebook node says when it succeeded, before its kernel has exited: answer then (see `run_notebook`).
        The pipe ends without a word when it failed or was never launched; `_finish` answers then."""
        with os.fdopen(done, "rb") as pipe:
            succeeded = pipe.read() == SUCCEEDED
        with self.lock:
            if not succeeded or not node.launched or node.answered:
                return
            node.answered = True
            self.answer(id=node.request_id, exit=0)

    def _go(self, request: dict[str, Any]) -> bool:
        """Launch the node's warm process if there is one for this very request and it still runs."""
        with self.lock:
            node = self.warm.pop(request["id"], None)
            if node is None:
                return False
            usable = node.warm_request == request and node.pid in self.by_pid
            if usable:
                with contextlib.suppress(OSError):  # a missing folder: the node is started cold, which says so
                    os.rename(request["log"] + WARM_LOG_SUFFIX, request["log"])
                    node.launched = True
                    self.answer(id=node.request_id, pid=node.pid)  # under the lock: before its exit is answered
        if not node.launched:
            self._close_go(node, b"")
            return False
        self._close_go(node, GO)
        return True

    def _discard(self, request_id: str) -> None:
        with self.lock:
            node = self.warm.pop(request_id, None)
        if node is not None:
            self._close_go(node, b"")

    @staticmethod
    def _close_go(node: RunningNode, message: bytes) -> None:
        """Write the go (or nothing) and close the pipe: closed without a go, a warm node stops its kernel and
        exits, and `_finish` stops the rest."""
        if node.go is None:
            return
        go, node.go = node.go, None
        with contextlib.suppress(OSError):  # the node may be gone already
            if message:
                os.write(go, message)
        os.close(go)

    @staticmethod
    def _spawn(request: dict[str, Any], env: dict[str, str], output: int, go: int | None,
               done: int | None) -> tuple[int, subprocess.Popen[bytes] | None]:
        """The node's main process, in a session of its own, writing to `output`: a command, or a forked child
        that runs the notebook (a warm one once `go` says so) and says on `done` when it succeeded."""
        if "argv" in request:
            command = subprocess.Popen(request["argv"], cwd=request["cwd"], env=env, stdout=output, stderr=output,
                                       stdin=subprocess.DEVNULL, start_new_session=True)
            return command.pid, command
        pid = os.fork()
        if pid == 0:
            _notebook_child(request, env, output, go, done)
        return pid, None

    def _reap(self) -> None:
        """Reap every child, the nodes and the orphans re-parented to the launcher; a node's end is then answered.
        The only caller of `waitpid`, so no exit status goes astray."""
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                with self.lock:
                    self.lock.wait_for(lambda: self.spawned)
                    self.spawned = False
                continue
            with self.lock:
                node = self.by_pid.pop(pid, None)
            if node is not None:
                code = os.waitstatus_to_exitcode(status)
                if node.command is not None:
                    node.command.returncode = code  # reaped here: the Popen must not wait for it again
                threading.Thread(target=self._finish, args=(node, code), daemon=True).start()

    def _finish(self, node: RunningNode, code: int) -> None:
        """The node's main process ended: stop what it left running, complete its log, answer."""
        stop_processes(lambda pid: _marker(pid) == node.marker)
        node.output.finish()
        with self.lock:
            self.unfinished.discard(node)
            self.lock.notify_all()  # `stop_all` may be waiting for it
            if self.warm.get(node.request_id) is node:
                del self.warm[node.request_id]
            launched, answered, node.answered = node.launched, node.answered, True
            if launched and not answered:
                self.answer(id=node.request_id, exit=code)
        if not launched:  # a warm node that was never launched: no answer, no log
            self._close_go(node, b"")
            with contextlib.suppress(OSError):
                os.unlink(node.output.path)

    def stop_all(self) -> None:
        """The server is gone or done: stop every node still running and everything they started. Nodes answered
        already (a notebook whose kernel is exiting) get a grace to end on their own, as they would have before
        their answer."""
        with self.lock:
            self.lock.wait_for(lambda: not any(node.answered for node in self.unfinished), STOP_GRACE_SECONDS)
            for node in self.unfinished:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.pid, signal.SIGTERM)
        stop_processes(lambda pid: True)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        while self.unfinished and time.monotonic() < deadline:  # let their logs be completed
            time.sleep(0.05)


def _preload_notebooks() -> None:
    from .notebook_runner import preload

    preload()


def _refuse_unusable(request: dict[str, Any]) -> None:
    """Name the field the OS would refuse, rather than let a fork fail with 'embedded null byte'."""
    for name, value in request["env"].items():
        if "\0" in name or "\0" in value:
            raise ValueError(f"environment variable {name!r} holds a NUL character, which no process accepts")
    if not os.path.isdir(request["cwd"]):
        raise FileNotFoundError(f"the node's directory {request['cwd']} does not exist")


def _notebook_child(request: dict[str, Any], env: dict[str, str], output: int, go: int | None, done: int) -> None:
    """In the forked child: become the node (own session, the log pipe as output, its directory and environment).
    Warm (with a `go` pipe), start the kernel first and run the notebook once the go comes; without one, stop."""
    code = 1
    try:
        os.setsid()
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.dup2(output, 1)
        os.dup2(output, 2)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for descriptor in os.listdir("/proc/self/fd"):  # the launcher's answers, other nodes' pipes: theirs
            with contextlib.suppress(OSError):
                if int(descriptor) > 2 and int(descriptor) not in (go, done):
                    os.close(int(descriptor))
        # Fresh streams, with nothing the launcher had buffered.
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(env)
        from .notebook_runner import PreparedKernel, prepare_kernel, run_notebook

        notebook = request["notebook"]
        prepared: PreparedKernel | None = None
        if go is not None:
            with contextlib.suppress(Exception):  # started cold at the go, the same failure is then reported
                prepared = prepare_kernel(notebook["source"], notebook["default_kernel"])
            if os.read(go, 1) != GO:
                code = 0
                if prepared is not None:
                    prepared.stop()
                return
        code = run_notebook(notebook["source"], notebook["executed"], notebook["default_kernel"], prepared,
                            on_success=lambda: _say(done, SUCCEEDED))
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _say(pipe: int, message: bytes) -> None:
    with contextlib.suppress(OSError):  # the launcher may be gone
        os.write(pipe, message)
    os.close(pipe)


def stop_processes(belongs: Callable[[int], bool]) -> None:
    """SIGTERM the launcher's living descendants for which `belongs(pid)` holds, with their own descendants, then
    SIGKILL what is left after a grace; processes they start meanwhile are found on the next look."""
    signalled: set[int] = set()
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while True:
        targets = _select_subtrees(descendants(os.getpid()), belongs)
        if not targets:
            return
        late = time.monotonic() > deadline
        for pid in targets if late else targets - signalled:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL if late else signal.SIGTERM)
        signalled |= targets
        time.sleep(0.05)


def _select_subtrees(tree: dict[int, list[int]], belongs: Callable[[int], bool]) -> set[int]:
    selected: set[int] = set()
    frontier = [pid for pid in tree if belongs(pid)]
    while frontier:
        selected.update(frontier)
        frontier = [child for pid in frontier for child in tree.get(pid, []) if child not in selected]
    return selected


def _marker(pid: int) -> str | None:
    """The node marker in the environment a process started with (unsetting it later does not hide it)."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            variables = environ.read().split(b"\0")
    except OSError:
        return None
    prefix = f"{NODE_MARKER}=".encode()
    return next((v[len(prefix):].decode() for v in variables if v.startswith(prefix)), None)


def _become_subreaper() -> None:
    """Orphans of our nodes become our children (not init's), so they can be found and stopped."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"elyra-proc launcher: not a subreaper ({os.strerror(ctypes.get_errno())}); processes a node leaves "
              "behind may outlive it", file=sys.stderr)


def main() -> None:
    signal.signal(signal.SIGINT, lambda signum, frame: None)  # the CLI or server decides; closing stdin stops us
    _become_subreaper()
    Launcher().serve()


if __name__ == "__main__":
    main()
