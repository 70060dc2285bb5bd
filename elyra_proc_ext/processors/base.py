"""The public API for processors: subclass `PipelineProcessor`, register it under the entry point group
`elyra_proc_ext.processors`, and the server, the CLI and the UI can run pipelines on your runtime.

A processor receives a validated `Pipeline` (see `elyra_proc_ext.model`) and a `RunContext` through which it
reports node states and links; it never sees HTTP requests or the run database.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from traitlets.config import LoggingConfigurable

from ..errors import UnsupportedError
from ..model import GENERIC_OPS, Issue, Node, Pipeline


class RunStatus:
    PENDING = "pending"
    RUNNING = "running"
    SUBMITTED = "submitted"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"
    FINAL = frozenset({SUCCEEDED, FAILED, SKIPPED, CANCELLED, INTERRUPTED})


@dataclass
class RunOutcome:
    """What `PipelineProcessor.run` returns. `details` are merged into the run's result (run_url, ...)."""

    status: str
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class RemoteState:
    """A remote run's state as its runtime reports it: our status, node states by node id, its own word, and
    when nodes started and finished there (Unix times, None while unknown)."""

    status: str
    nodes: dict[str, str] = field(default_factory=dict)
    remote_status: str | None = None
    error: str | None = None
    node_times: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


@dataclass
class RunContext:
    """One run as a processor sees it: its id, a private directory for artifacts (created before `run` is
    called), the effective pipeline parameter values, and the callbacks through which it reports progress. Call
    the callbacks on the event loop `run` runs on (from a thread of your own: `loop.call_soon_threadsafe`)."""

    run_id: str
    run_dir: Path
    root_dir: Path
    parameters: dict[str, Any]
    runtime_config: dict[str, Any] | None
    on_node: Callable[..., None]
    on_progress: Callable[[str], None]
    options: dict[str, str] = field(default_factory=dict)
    on_details: Callable[[dict[str, Any]], None] = lambda details: None

    def node_state(self, node_id: str, status: str, *, error: str | None = None,
                   artifacts: dict[str, str] | None = None) -> None:
        """Record a node's new state; artifacts map a name ('log', 'notebook') to a file under `run_dir`."""
        self.on_node(node_id, status, error=error, artifacts=artifacts)

    def progress(self, message: str) -> None:
        """A one-line description of what the run is doing now, shown to the user while it works."""
        self.on_progress(message)

    def keep_details(self, **details: Any) -> None:
        """Details the user must see even if the run stops half-way, such as the ids of what was created."""
        self.on_details(details)

    def parameters_for(self, node: Node) -> dict[str, str]:
        """The pipeline parameters a node asked for, as environment variables (Elyra's 'env' pass method)."""
        return {name: "" if self.parameters.get(name) is None else str(self.parameters[name])
                for name in node.pipeline_parameters if name in self.parameters}


class PipelineProcessor(LoggingConfigurable):
    """Base class of every runtime. Configure subclasses with traitlets (`c.MyProcessor.option = ...`).

    Subclasses set `name` (equal to their entry point name), `display_name`, `runtime_type` and implement `run`.
    `run` is a coroutine on the server's event loop: do blocking I/O in threads and CPU work in Python in worker
    processes (`elyra_proc_ext.processes.WorkerPool`), so the server keeps answering.
    Cancellation arrives as `asyncio.CancelledError` inside `run`; clean up and let it propagate.
    When `run` returns, nodes never reported are marked skipped and nodes still running take the run's status.
    Failures the user can fix are raised as `elyra_proc_ext.processors` errors (`BadRequestError`,
    `UpstreamError`, ... or subclasses of them): their status reaches the client; any other exception is a 500.
    Processors are loaded once, when the server (or CLI) first needs them: install a new one, then restart.
    """

    name: ClassVar[str] = ""
    display_name: ClassVar[str] = ""
    runtime_type: ClassVar[str] = ""
    supported_ops: ClassVar[frozenset[str]] = frozenset(GENERIC_OPS)

    def __init__(self, root_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root_dir = root_dir

    def needs_runtime_image(self) -> bool:
        """Whether generic nodes must name a container image; container runtimes do, so this is the default."""
        return True

    def validate(self, pipeline: Pipeline, runtime_config: dict[str, Any] | None) -> list[Issue]:
        """Runtime-specific checks beyond the common ones; runs off the event loop."""
        return []

    async def run(self, pipeline: Pipeline, context: RunContext) -> RunOutcome:
        raise NotImplementedError

    async def refresh(self, result: dict[str, Any], runtime_config: dict[str, Any] | None) -> RemoteState | None:
        """For runs that go on elsewhere (status `submitted`): ask the runtime where the run stands now."""
        return None

    async def cancel(self, result: dict[str, Any], runtime_config: dict[str, Any] | None) -> None:
        """Stop a submitted run on the runtime that runs it."""
        raise UnsupportedError(f"the {self.name} runtime cannot cancel submitted runs")

    async def export(self, pipeline: Pipeline, context: RunContext, path: Path) -> dict[str, Any]:
        """Write the pipeline in this runtime's own format to `path`; returns details for the user."""
        raise UnsupportedError(f"the {self.name} runtime has no export format")

    async def test_connection(self, runtime_config: dict[str, Any]) -> str:
        """Reach the runtime with this configuration; a sentence saying what was checked, or an error."""
        raise UnsupportedError(f"the {self.name} runtime has no connection to test")

    async def close(self) -> None:
        """Release what the processor holds (worker processes, connections); called when the server or CLI stops."""

    def runtime_config_schema(self) -> dict[str, Any] | None:
        """JSON schema of this runtime's configurations; None when it takes none."""
        return None

    def check_runtime_config(self, metadata: dict[str, Any]) -> list[str]:
        """Rules across fields that a JSON schema cannot say; each message names the field to fix."""
        return []

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "display_name": self.display_name, "runtime_type": self.runtime_type,
                "supported_ops": sorted(self.supported_ops), "config_schema": self.runtime_config_schema()}
