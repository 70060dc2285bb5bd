"""Runs one notebook with papermill, in a node process the launcher forked (see `launcher`), or on its own:

`python -m elyra_proc_ext.processors.notebook_runner SOURCE EXECUTED [--default-kernel NAME]`
The kernel is the one named in the notebook's metadata when it is installed here, else the default. On failure
the last line printed says which cell raised what, and EXECUTED still holds the notebook with its outputs.

The kernel is started here rather than by nbclient, so that it can be started before the notebook runs (a warm
node, see `launcher`) and stopped without nbclient's polling: `prepare_kernel` starts it exactly as nbclient would
(the same kernel manager class, arguments and working directory, this process's environment) and waits until it
answers; `run_notebook` hands it to papermill, which then neither starts nor stops a kernel, and stops it after the
executed notebook is written. A node started cold runs the same two steps one after the other, so a notebook run
with or without a warm kernel is executed by the same code. A node that succeeded tells the launcher so before its
kernel has exited (`on_success`, after `PreparedKernel.release`), which keeps the kernel's exit off the critical
path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from traitlets import Bool

STARTUP_TIMEOUT = 60  # papermill's start_timeout, which it hands to nbclient
KERNEL_EXIT_GRACE = 2.5  # when nbclient stops waiting for a kernel to exit after its shutdown request
RELEASE_CODE = """\
def _elyra_proc_flush():
    import gc, io
    for stream in gc.get_objects():
        if isinstance(stream, io.IOBase):
            try:
                if not stream.closed and stream.writable():
                    stream.flush()
            except Exception:
                pass
_elyra_proc_flush()
"""
RELEASE_TIMEOUT = 5.0
EXIT_POLL_SECONDS = 0.01


def preload() -> None:
    """What every notebook node needs, loaded once by the launcher before it forks them: papermill, and nbformat's
    compiled validator for the notebook version papermill writes (about 0.1 s per node otherwise)."""
    import papermill  # noqa: F401
    from nbformat.validator import get_validator

    get_validator()


def choose_kernel(notebook: Path, default: str) -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    wanted = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get("kernelspec", {}).get("name")
    if not wanted:
        return default
    try:
        KernelSpecManager().get_kernel_spec(wanted)
        return wanted
    except NoSuchKernel:
        print(f"Kernel '{wanted}' is not installed here; using '{default}'.", flush=True)
        return default


class ReadyKernelClient(AsyncKernelClient):
    """A client that waits for its kernel to be ready once: jupyter_client's check ends with 0.2 s of silence on
    IOPub each time, which nbclient would otherwise pay again after `prepare_kernel` has paid it."""

    ready = Bool(False)

    def start_channels(self, *args: Any, **kwargs: Any) -> None:
        if not self.channels_running:
            super().start_channels(*args, **kwargs)

    async def wait_for_ready(self, timeout: float | None = None) -> None:
        if not self.ready:
            await super().wait_for_ready(timeout)
            self.ready = True


class OneNotebookKernelManager(AsyncKernelManager):
    """The kernel of one notebook: its first client, made ready by `prepare_kernel`, is the one nbclient gets; it
    remembers the clients it made (nbclient leaves its own open when it does not own the kernel manager), so that
    stopping the kernel closes them too."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.client_factory = ReadyKernelClient
        self.clients: list[ReadyKernelClient] = []

    def client(self, **kwargs: Any) -> ReadyKernelClient:
        if self.clients and self.clients[0].ready:
            return self.clients[0]
        client = super().client(**kwargs)
        self.clients.append(client)
        return client


@dataclass
class PreparedKernel:
    """A started kernel that answered, for one notebook, used once."""

    name: str
    manager: OneNotebookKernelManager

    def release(self) -> bool:
        """Flush every file the notebook left open, so that what it wrote is on disk before a successor starts,
        as the kernel's exit would have it, while the kernel's exit itself (its exit handlers, its namespace
        cleared, its files closed) happens off the critical path. Only flushing: nothing changes for the exit
        handlers, which still run in order. Silent: no output, no execution count, and the executed notebook is
        already written. Only IPython kernels; whether it was done."""
        if not (self.manager.ipykernel and self.manager.clients):
            return False
        run_sync(_release)(self.manager.clients[0])
        return True

    def stop(self) -> None:
        run_sync(_stop_kernel)(self.manager)


def prepare_kernel(source: str | Path, default_kernel: str) -> PreparedKernel:
    """Start the notebook's kernel in its folder, with this process's environment, as nbclient would."""
    source = Path(source)
    name = choose_kernel(source, default_kernel)
    manager = OneNotebookKernelManager(kernel_name=name)
    run_sync(_start_kernel)(manager, str(source.parent))
    return PreparedKernel(name, manager)


async def _start_kernel(manager: OneNotebookKernelManager, cwd: str) -> None:
    arguments = ["--HistoryManager.hist_file=:memory:"] if manager.ipykernel else []  # nbclient's default
    await manager.start_kernel(extra_arguments=arguments, cwd=cwd)
    client = manager.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=STARTUP_TIMEOUT)
    except BaseException:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)
        raise


async def _release(client: ReadyKernelClient) -> None:
    with contextlib.suppress(TimeoutError):  # stuck: the kernel's exit (or its kill) will have to do
        await client.execute(RELEASE_CODE, silent=True, store_history=False, reply=True, timeout=RELEASE_TIMEOUT)


async def _stop_kernel(manager: OneNotebookKernelManager) -> None:
    """Ask the kernel to shut down and wait for it to exit, checking often (nbclient checks every 0.1 s); one that
    does not exit within the grace is killed."""
    for client in manager.clients:
        if client.channels_running:
            client.stop_channels()
    if not manager.has_kernel:
        return
    await manager.request_shutdown()
    deadline = time.monotonic() + KERNEL_EXIT_GRACE
    while await manager.is_alive() and time.monotonic() < deadline:
        await asyncio.sleep(EXIT_POLL_SECONDS)
    if await manager.is_alive():
        await manager.shutdown_kernel(now=True)
        return
    assert manager.provisioner is not None
    await manager.provisioner.wait()
    await manager.cleanup_resources()


def run_notebook(source: str | Path, executed: str | Path, default_kernel: str,
                 prepared: PreparedKernel | None = None, on_success: Callable[[], None] | None = None) -> int:
    """Execute `source` into `executed` (with `prepared`, already started, else a kernel started now); the exit
    code for the node (0 when every cell ran). When every cell ran on an IPython kernel, `on_success` is called
    before the kernel is stopped, once the files the notebook left open are flushed (see `PreparedKernel.release`);
    with another kernel, the node's end is its process's end, after the kernel's."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    source = Path(source)
    kernel = prepared or prepare_kernel(source, default_kernel)
    try:
        papermill.execute_notebook(str(source), str(executed), kernel_name=kernel.name, cwd=str(source.parent),
                                   log_output=True, progress_bar=False, start_timeout=STARTUP_TIMEOUT,
                                   km=kernel.manager)
        if on_success is not None and kernel.release():
            on_success()
    except PapermillExecutionError as error:
        print(f"Error in cell {error.exec_count}: {error.ename}: {error.evalue}", flush=True)
        return 1
    finally:
        kernel.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("executed", type=Path)
    parser.add_argument("--default-kernel", default="python3")
    args = parser.parse_args(argv)
    return run_notebook(args.source, args.executed, args.default_kernel)


if __name__ == "__main__":
    sys.exit(main())
