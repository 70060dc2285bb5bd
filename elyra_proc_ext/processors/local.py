"""The embedded default runtime: runs each node as a process on this machine, independent nodes in parallel.

Every node runs in its own process group, started by the launcher (see `launcher`; notebooks through papermill),
so the server's event loop never blocks, a cancelled run kills everything it started, nothing a node starts
outlives it or a server that dies, and the source notebook is never overwritten: the executed copy and the node's
log (capped at `max_log_bytes`) are kept in the run's directory, in a folder named by `safe_name` of the node id,
so no id, however hostile, decides where anything is written. While nodes run, the next notebook nodes get their
process and kernel started ahead (`warm_kernels`; see `kernel_pool`), so a kernel's start and stop are off the
critical path of a chain of notebooks.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import posixpath
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any, ClassVar

from traitlets import Bool, Float, Int, Unicode

from ..model import Node, Pipeline
from ..names import safe_name
from .base import PipelineProcessor, RunContext, RunOutcome, RunStatus
from .kernel_pool import KernelWarmer
from .launcher import LaunchedNode, LauncherGone, NodeLauncher

KILL_GRACE_SECONDS = 5


class NodeFailure(Exception):
    """A node that did not succeed. The message names the node, for the run's error; `reason` is the node's own
    error, shown where the node is already named (the Runs panel, the CLI's node line), so it does not repeat it."""

    def __init__(self, node: Node, reason: str) -> None:
        super().__init__(f"Node '{node.name}' ({node.filename}) {reason}")
        self.reason = reason[:1].upper() + reason[1:]


class LocalProcessor(PipelineProcessor):
    name: ClassVar[str] = "local"
    display_name: ClassVar[str] = "Local (this Jupyter server)"
    runtime_type: ClassVar[str] = "LOCAL"

    max_parallel_nodes = Int(len(os.sched_getaffinity(0)), config=True,
                             help="How many nodes run at the same time on this machine, across all local runs "
                                  "(default: usable CPUs).")
    require_runtime_image = Bool(True, config=True,
                                 help="Reject nodes without a runtime image, as Elyra does even for local runs, so "
                                      "a pipeline that runs here also exports to container runtimes.")
    default_kernel = Unicode("python3", config=True,
                             help="Kernel for notebooks whose kernelspec is missing or not installed here.")
    rscript = Unicode("Rscript", config=True, help="Command that runs R scripts.")
    max_log_bytes = Int(50 * 2**20, min=2, config=True,
                        help="Most bytes kept of a node's log; beyond it the log keeps its first and last half, with a "
                             "line saying how much was left out between them.")

    warm_kernels = Int(2, min=0, config=True,
                       help="How many notebook nodes, across all local runs, may have their kernel started ahead "
                            "while the nodes before them run (each kernel is used once, by its node); 0 turns "
                            "this off.")
    warm_kernel_idle_seconds = Float(60.0, min=0.0, config=True,
                                     help="Seconds a kernel started ahead may wait for its node; after that it is "
                                          "stopped and the node starts its kernel when it runs.")

    def needs_runtime_image(self) -> bool:
        return self.require_runtime_image

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._per_loop: tuple[asyncio.AbstractEventLoop, asyncio.Semaphore, NodeLauncher, KernelWarmer] | None = None

    def _machine_slots(self) -> tuple[asyncio.Semaphore, NodeLauncher, KernelWarmer]:
        """One cap for every run on this loop, so fifty runs at once do not start fifty kernels at once, one
        launcher, and one bound on warm kernels."""
        loop = asyncio.get_running_loop()
        if self._per_loop is None or self._per_loop[0] is not loop:
            launcher = NodeLauncher()
            warmer = KernelWarmer(launcher, lambda: self.warm_kernels, lambda: self.warm_kernel_idle_seconds)
            self._per_loop = (loop, asyncio.Semaphore(max(1, self.max_parallel_nodes)), launcher, warmer)
        return self._per_loop[1:]

    async def close(self) -> None:
        if self._per_loop is not None and self._per_loop[0] is asyncio.get_running_loop():
            await self._per_loop[2].close()

    async def run(self, pipeline: Pipeline, context: RunContext) -> RunOutcome:
        slots, launcher, warmer = self._machine_slots()
        if any(node.kind == "notebook" for node in pipeline.nodes.values()):
            await launcher.prepare_notebooks()
        succeeded: dict[str, bool] = {}
        failures: list[str] = []
        waiting = {node.id: node for node in pipeline.topological_order()}
        running: dict[asyncio.Task[None], Node] = {}
        run_name = f"{pipeline.name}-{time.strftime('%m%d%H%M%S')}"
        warmed: set[str] = set()  # request ids of this run's nodes started warm (or tried)
        try:
            while waiting or running:
                for node in [n for n in waiting.values() if all(p in succeeded for p in n.parent_ids)]:
                    del waiting[node.id]
                    if all(succeeded[p] for p in node.parent_ids):
                        warmer.launched(_request_id(context, node))
                        running[asyncio.create_task(self._run_node(node, context, slots, launcher, run_name))] = node
                    else:
                        succeeded[node.id] = False
                        await warmer.discard([_request_id(context, node)])
                        context.node_state(node.id, RunStatus.SKIPPED, error="Not run: an upstream node failed.")
                if not running:
                    break
                await self._warm_ahead(waiting, succeeded, context, run_name, warmer, warmed)
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    node = running.pop(task)
                    error = task.exception()
                    succeeded[node.id] = error is None
                    if error is not None:
                        failures.append(str(error))
                        reason = error.reason if isinstance(error, NodeFailure) else str(error)
                        context.node_state(node.id, RunStatus.FAILED, error=reason)
                    else:
                        context.node_state(node.id, RunStatus.SUCCEEDED)
                context.progress(f"{sum(succeeded.values())} of {len(pipeline.nodes)} nodes done")
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
            await warmer.discard(warmed)
        if failures:
            return RunOutcome(RunStatus.FAILED, "; ".join(failures))
        return RunOutcome(RunStatus.SUCCEEDED)

    async def _warm_ahead(self, waiting: dict[str, Node], succeeded: dict[str, bool], context: RunContext,
                          run_name: str, warmer: KernelWarmer, warmed: set[str]) -> None:
        """Start the next waiting notebook nodes warm, nearest first, while there is room; each once (one whose warm
        kernel idled out starts cold), and not those that will be skipped (a parent failed)."""
        for node in waiting.values():
            if not warmer.room():
                return
            request_id = _request_id(context, node)
            if node.kind != "notebook" or request_id in warmed or \
                    any(not succeeded.get(parent, True) for parent in node.parent_ids):
                continue
            request, _ = self._request(node, context, run_name)
            await asyncio.to_thread(Path(request["log"]).parent.mkdir, parents=True, exist_ok=True)
            warmed.add(request_id)
            await warmer.warm(request)

    def _request(self, node: Node, context: RunContext, run_name: str) -> tuple[dict[str, Any], dict[str, str]]:
        """What the launcher is asked to start for the node, and the node's artifacts: the same whenever it is
        built, so a warm node's request matches its launch."""
        assert node.filename is not None
        source = context.root_dir / node.filename
        node_dir = context.run_dir / safe_name(node.id)
        log_path = node_dir / "log.txt"
        artifacts = {"log": str(log_path)}
        request = {"id": _request_id(context, node), "cwd": str(source.parent), "log": str(log_path),
                   "max_log_bytes": self.max_log_bytes,
                   "env": {**os.environ, **node.env_vars, **context.parameters_for(node),
                           "ELYRA_RUNTIME_ENV": "local", "ELYRA_RUN_NAME": run_name, "PYTHONUNBUFFERED": "1"},
                   **self._command(node, source, node_dir, artifacts)}
        return request, artifacts

    async def _run_node(self, node: Node, context: RunContext, slots: asyncio.Semaphore, launcher: NodeLauncher,
                        run_name: str) -> None:
        async with slots:
            request, artifacts = self._request(node, context, run_name)
            log_path = Path(request["log"])
            await asyncio.to_thread(log_path.parent.mkdir, parents=True, exist_ok=True)
            context.node_state(node.id, RunStatus.RUNNING, artifacts=artifacts)
            try:
                return_code = await _execute(launcher, request)
            except (OSError, LauncherGone) as error:
                raise NodeFailure(node, f"could not run: {error}") from None
            if return_code != 0:
                detail = await asyncio.to_thread(_last_line, log_path)
                # The log is the node's artifact, which every client links to: its server path is not repeated.
                raise NodeFailure(node, f"failed with exit code {return_code}: {detail or 'no output'}")
            cwd = Path(request["cwd"])
            missing = [output for output in node.outputs if not glob.glob(str(cwd / posixpath.normpath(output)))]
            if missing:
                raise NodeFailure(node, f"finished but did not produce its declared output(s): {', '.join(missing)}.")

    def _command(self, node: Node, source: Path, node_dir: Path, artifacts: dict[str, str]) -> dict[str, Any]:
        """What the launcher starts: a notebook it runs itself, or a command."""
        if node.kind == "notebook":
            executed = node_dir / f"{safe_name(source.stem)}.ipynb"
            artifacts["notebook"] = str(executed)
            return {"notebook": {"source": str(source), "executed": str(executed),
                                 "default_kernel": self.default_kernel}}
        if node.kind == "python":
            return {"argv": [sys.executable, str(source)]}
        rscript = shutil.which(self.rscript)
        if rscript is None:
            raise NodeFailure(node, f"cannot run: it is an R script and '{self.rscript}' is not installed on this "
                                    "server: install R (for example `apt-get install r-base-core`) or set "
                                    "c.LocalProcessor.rscript.")
        return {"argv": [rscript, str(source)]}


def _request_id(context: RunContext, node: Node) -> str:
    return f"{context.run_id}/{node.id}"


async def _execute(launcher: NodeLauncher, request: dict[str, Any]) -> int:
    """Start the node through the launcher and wait for its exit code; cancelled, stop it first."""
    node = await launcher.launch(request)
    try:
        return await asyncio.shield(node.exited)
    except asyncio.CancelledError:
        await _stop(node)
        raise


async def _stop(node: LaunchedNode) -> None:
    """Terminate the node's whole process group (a notebook's kernel too); kill whatever is left after a grace."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, signal.SIGTERM)
    with contextlib.suppress(asyncio.TimeoutError, LauncherGone):
        await asyncio.wait_for(asyncio.shield(node.exited), KILL_GRACE_SECONDS)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(node.pid, signal.SIGKILL)
    with contextlib.suppress(LauncherGone):
        await node.exited


def _last_line(path: Path, limit: int = 8192) -> str:
    """The last non-empty line of a log, where Python tracebacks and our notebook runner put the error."""
    with path.open("rb") as log:
        log.seek(max(0, log.seek(0, os.SEEK_END) - limit))
        lines = [line.strip() for line in log.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""

