"""Worker processes for CPU work in Python (checking pipelines, compiling and submitting them).

In threads of the server such work competes with the event loop for the GIL, and a burst of it stalls every
request. In worker processes the server only waits on pipes. Workers fork from one forkserver, run at a lower
priority than the server so that answering requests comes first, and exit when the server is gone (even after a
SIGKILL), so no worker outlives it. A task can send messages back to its caller while it works (`report`) and
can see that its caller gave up on it (`cancelled`). In a pool made with `interrupt=True` (for tasks without side
effects, such as checks) a task its caller gave up on is stopped: a watcher thread in the worker raises
`TaskInterrupted` in it, and ends the worker when the task does not return to Python code within
`STOP_GRACE_SECONDS`, so a cancelled or overdue check stops using CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import multiprocessing
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

WORKER_NICENESS = 5
END_WAIT_SECONDS = 5.0
WATCH_INTERVAL_SECONDS = 0.1
STOP_GRACE_SECONDS = 2.0
INTERRUPT_SIGNAL = signal.SIGUSR1
_END = "elyra-proc-end-of-task"

_messages: Any = None  # in a worker: the queue back to the pool's owner
_markers: Path | None = None  # in a worker: where the owner marks tasks it cancelled
_task: int | None = None  # in a worker: the id of the task it runs now
_stopping: int | None = None  # in a worker: the task the watcher is interrupting


class TaskInterrupted(BaseException):
    """Raised inside a task its caller gave up on (a BaseException, so the task's `except Exception` lets it by)."""


class TaskStopped(Exception):
    """What an interrupted task answers (nobody waits for it any longer)."""


def report(message: Any) -> None:
    """From a task in a worker: hand `message` (picklable) to the caller's `on_message`."""
    if _messages is not None and _task is not None:
        _messages.put((_task, message))


def cancelled() -> bool:
    """From a task in a worker: whether the caller cancelled it (check between steps, then stop)."""
    return _markers is not None and _task is not None and (_markers / str(_task)).exists()


def _exit_with_parent() -> None:
    parent = multiprocessing.parent_process()
    if parent is not None:
        wait([parent.sentinel])
        os._exit(1)


def _interrupt(signum: int, frame: Any) -> None:
    if _task is not None and _task == _stopping:
        raise TaskInterrupted(_task)


def _watch_for_cancelled_tasks() -> None:
    """Interrupt the running task once its caller marked it cancelled; end the worker if it does not stop."""
    global _stopping
    main_thread = threading.main_thread().ident
    assert main_thread is not None
    while True:
        time.sleep(WATCH_INTERVAL_SECONDS)
        task = _task
        if task is None or not cancelled():
            continue
        _stopping = task
        signal.pthread_kill(main_thread, INTERRUPT_SIGNAL)
        give_up = time.monotonic() + STOP_GRACE_SECONDS
        while _task == task and time.monotonic() < give_up:
            time.sleep(WATCH_INTERVAL_SECONDS)
        if _task == task:  # stuck in C code that never returns to Python: the pool starts a fresh worker
            os._exit(1)


def _start(messages: Any, markers: str, interrupt: bool, initializer: Callable[..., None] | None,
           initargs: tuple[Any, ...]) -> None:
    global _messages, _markers
    _messages, _markers = messages, Path(markers)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the owner answers, cancelling tasks
    os.nice(WORKER_NICENESS)
    threading.Thread(target=_exit_with_parent, name="exit-with-server", daemon=True).start()
    if interrupt:
        signal.signal(INTERRUPT_SIGNAL, _interrupt)
        threading.Thread(target=_watch_for_cancelled_tasks, name="stop-cancelled-tasks", daemon=True).start()
    if initializer is not None:
        initializer(*initargs)


def _run_task(task: int, function: Callable[..., T], args: tuple[Any, ...]) -> T:
    global _task
    _task = task
    try:
        if cancelled():  # given up on while it waited for a worker
            raise TaskInterrupted(task)
        return function(*args)
    except TaskInterrupted:
        raise TaskStopped(f"task {task} was cancelled by its caller") from None
    finally:
        _task = None
        _messages.put((task, _END))  # after the task's last message: the caller waits for it before returning


def _ready() -> bool:
    return True


class WorkerPool:
    """A pool of worker processes started on first use; a worker that dies is replaced with a fresh pool."""

    def __init__(self, name: str, processes: int, initializer: Callable[..., None] | None = None,
                 initargs: tuple[Any, ...] = (), preload: tuple[str, ...] = (), interrupt: bool = False) -> None:
        self.name, self.processes, self.interrupt = name, processes, interrupt
        self.initializer, self.initargs, self.preload = initializer, initargs, preload
        self._pool: ProcessPoolExecutor | None = None
        self._context = multiprocessing.get_context("forkserver")
        self._messages: Any = None
        self._markers: Path | None = None
        self._handlers: dict[int, tuple[asyncio.AbstractEventLoop, Callable[[Any], None], asyncio.Event]] = {}
        self._task_ids = itertools.count(1)

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            if self._messages is None:
                self._messages = self._context.Queue()
                self._markers = Path(tempfile.mkdtemp(prefix=f"elyra-proc-{self.name}-"))
                threading.Thread(target=self._dispatch, args=(self._messages,), name=f"elyra-proc-{self.name}-messages",
                                 daemon=True).start()
            if self.preload:
                self._context.set_forkserver_preload(list(self.preload))
            self._pool = ProcessPoolExecutor(self.processes, mp_context=self._context, initializer=_start,
                                             initargs=(self._messages, str(self._markers), self.interrupt,
                                                       self.initializer, self.initargs))
        return self._pool

    def _dispatch(self, messages: Any) -> None:
        """Deliver the workers' messages on the loop of the call that is waiting for them; late ones are dropped."""
        while True:
            try:
                item = messages.get()
            except (EOFError, OSError, ValueError):
                return
            if item is None:
                return
            task, message = item
            handler = self._handlers.get(task)
            if handler is not None:
                loop, on_message, ended = handler
                try:
                    loop.call_soon_threadsafe(ended.set if message == _END else partial(on_message, message))
                except RuntimeError:  # that loop is closed: nobody waits any longer
                    self._handlers.pop(task, None)

    def warm_up(self) -> None:
        """Start the workers now rather than on the first task."""
        for _ in range(self.processes):
            self._executor().submit(_ready)

    async def call(self, function: Callable[..., T], *args: Any,
                   on_message: Callable[[Any], None] | None = None) -> T:
        """Run `function(*args)` (both picklable) in a worker; returns after `on_message` saw all its messages.
        Cancelling the call marks the task cancelled (and, with `interrupt`, stops it) and returns at once; raises
        BrokenProcessPool when its worker died (the next call starts fresh workers)."""
        task, loop, ended = next(self._task_ids), asyncio.get_running_loop(), asyncio.Event()
        if on_message is not None:
            self._handlers[task] = (loop, on_message, ended)
        try:
            result = await loop.run_in_executor(self._executor(), _run_task, task, function, args)
            if on_message is not None:
                with contextlib.suppress(TimeoutError):  # a message lost with a dying worker must not hang us
                    await asyncio.wait_for(ended.wait(), END_WAIT_SECONDS)
            return result
        except asyncio.CancelledError:
            assert self._markers is not None
            (self._markers / str(task)).touch()
            raise
        except BrokenProcessPool:
            self._pool = None
            raise
        finally:
            self._handlers.pop(task, None)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._messages is not None:
            self._messages.put(None)
            self._messages = None
        if self._markers is not None:
            shutil.rmtree(self._markers, ignore_errors=True)
            self._markers = None

