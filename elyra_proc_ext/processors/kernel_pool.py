"""Which notebook nodes of the local runtime get their kernel started ahead of time, how many, and for how long.

Why per node and not a pool per kernel spec. A kernel inherits its working directory and environment when it
starts, and a node's environment is its own: the server's, the node's environment variables, the pipeline
parameters it uses, the run's name (`ELYRA_RUN_NAME`) and the marker by which the launcher finds what the node
started. A kernel started before the run, or for another node, would differ; replacing its environment afterwards
would not reach what it already imported. All of it is known when a run starts, though, so a kernel is started for
one node, with that node's own request, while the nodes before it run (see "Warm notebook nodes" in `launcher`):
the next notebook nodes in topological order that wait for their parents. It is used once, by that node, and
stopped by the node's process as before, so a node never sees another node's kernel state and its executed
notebook is the same as a cold one's. (The kernel is chosen from the notebook's metadata when the node is warmed:
a predecessor that rewrites a successor's notebook to change its kernel would not be seen.)

Memory and CPU stay bounded: at most `size` warm nodes exist at once across all runs of the processor
(`c.LocalProcessor.warm_kernels`; 0 turns warming off); one not launched within `idle_seconds`
(`c.LocalProcessor.warm_kernel_idle_seconds`) is stopped and its node, when it comes, starts cold; a node that
will not run (an upstream node failed, the run ended or was cancelled) has its warm node stopped at once. A server
with no runs therefore holds no warm kernel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from .launcher import LauncherGone, NodeLauncher


class KernelWarmer:
    """The warm nodes of one event loop's launcher, by request id, each with the timer that discards it idle."""

    def __init__(self, launcher: NodeLauncher, size: Callable[[], int], idle_seconds: Callable[[], float]) -> None:
        self._launcher = launcher
        self._size = size  # read at each use, so a changed setting applies to the next warm-up
        self._idle_seconds = idle_seconds
        self._warm: dict[str, asyncio.TimerHandle] = {}
        self._discarding: set[asyncio.Task[None]] = set()

    def room(self) -> int:
        return max(0, self._size() - len(self._warm))

    async def warm(self, request: dict[str, Any]) -> None:
        """Start `request`'s node warm if there is room and it is not warm yet."""
        request_id = request["id"]
        if request_id in self._warm or not self.room():
            return
        loop = asyncio.get_running_loop()
        self._warm[request_id] = loop.call_later(self._idle_seconds(), self._discard_later, request_id)
        try:
            await self._launcher.warm(request)
        except (OSError, LauncherGone):
            self._forget(request_id)

    def launched(self, request_id: str) -> None:
        """The node is being launched: its warm process (if any) is the launcher's to use; room for another."""
        self._forget(request_id)

    async def discard(self, request_ids: Iterable[str]) -> None:
        """Stop these warm nodes (those that are warm): they will not be launched."""
        for request_id in request_ids:
            if self._forget(request_id):
                with contextlib.suppress(OSError, LauncherGone):
                    await self._launcher.discard(request_id)

    def _forget(self, request_id: str) -> bool:
        timer = self._warm.pop(request_id, None)
        if timer is not None:
            timer.cancel()
        return timer is not None

    def _discard_later(self, request_id: str) -> None:
        task = asyncio.ensure_future(self.discard([request_id]))
        self._discarding.add(task)
        task.add_done_callback(self._discarding.discard)
