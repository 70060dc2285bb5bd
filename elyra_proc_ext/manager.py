"""The async processor manager: checks a pipeline against the runtime it will run on, starts runs in the
background, keeps their records, and cancels them. Blocking work (parsing, file checks, SQLite) runs in threads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from jupyter_core.paths import jupyter_data_dir
from traitlets.config import LoggingConfigurable

from .model import Issue, Pipeline
from .parsing import parse
from .processors.base import PipelineProcessor, RunContext, RunStatus
from .processors.registry import ProcessorRegistry
from .runtime_configs import RuntimeConfig, RuntimeConfigError, RuntimeConfigStore
from .store import NodeRecord, RunRecord, RunStore
from .validation import validate_pipeline

DEFAULT_RUNTIME = "local"
T = TypeVar("T")


class UnknownRunError(KeyError):
    """No run has this id."""


@dataclass
class Submission:
    """A pipeline checked against the processor that would run it; `accepted` when nothing fatal was found."""

    pipeline: Pipeline | None
    issues: list[Issue] = field(default_factory=list)
    processor: PipelineProcessor | None = None
    runtime_config: RuntimeConfig | None = None

    @property
    def accepted(self) -> bool:
        return self.pipeline is not None and self.processor is not None and not any(i.fatal for i in self.issues)


class ProcessorManager(LoggingConfigurable):
    def __init__(self, registry: ProcessorRegistry, store: RunStore, configs: RuntimeConfigStore, root_dir: Path,
                 runs_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.registry = registry
        self.store = store
        self.configs = configs
        self.root_dir = root_dir
        self.runs_dir = runs_dir
        self._records: dict[str, RunRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="elyra-proc-db")
        self.node_listeners: list[Callable[[RunRecord, NodeRecord], None]] = []

    async def _in_database(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._database, function, *args)

    def check(self, document: Any, *, source: str | None = None, base_dir: str | None = None,
              runtime: str | None = None, runtime_config: str | None = None,
              parameters: dict[str, str] | None = None) -> Submission:
        """Parse and validate; blocking (file system), so async callers use `prepare`."""
        parsed = parse(document, source=source, base_dir=base_dir)
        if parsed.pipeline is None:
            return Submission(None, parsed.issues)
        pipeline = parsed.pipeline
        if parameters:
            pipeline.parameters = [replace(p, value=parameters.get(p.name, p.value)) for p in pipeline.parameters]
            unknown = sorted(set(parameters) - {p.name for p in pipeline.parameters})
            parsed.issues += [Issue("invalidPipelineParameter", f"Parameter '{name}' was given a value but the "
                                    "pipeline does not define it.", property_name="pipeline_parameters", value=name)
                              for name in unknown]
        processor, config, runtime_issues = self._resolve_runtime(runtime, runtime_config or pipeline.runtime_config)
        submission = Submission(pipeline, parsed.issues + runtime_issues, processor, config)
        if processor is None:
            return submission
        flagged = {issue.node_id for issue in parsed.issues if issue.fatal}
        checked = replace(pipeline, nodes={k: n for k, n in pipeline.nodes.items() if k not in flagged})
        submission.issues += validate_pipeline(checked, self.root_dir, runtime_name=processor.name,
                                               requires_runtime_image=processor.needs_runtime_image(),
                                               supported_ops=processor.supported_ops)
        if submission.accepted:
            submission.issues += processor.validate(pipeline, config.metadata if config else None)
        return submission

    async def prepare(self, document: Any, **options: Any) -> Submission:
        return await asyncio.to_thread(self.check, document, **options)

    def _resolve_runtime(self, runtime: str | None, config_name: str | None
                         ) -> tuple[PipelineProcessor | None, RuntimeConfig | None, list[Issue]]:
        config = None
        if config_name and runtime != DEFAULT_RUNTIME:
            try:
                config = self.configs.load(config_name)
            except RuntimeConfigError as error:
                return None, None, [Issue("invalidRuntime", str(error), property_name="runtime_config",
                                          value=config_name)]
            if runtime and runtime != config.schema_name:
                return None, None, [Issue("invalidRuntime", f"Runtime configuration '{config_name}' is for the "
                                          f"'{config.schema_name}' runtime, not '{runtime}'.",
                                          property_name="runtime_config", value=config_name)]
        name = config.schema_name if config else (runtime or DEFAULT_RUNTIME)
        processor = self.registry.get(name)
        if processor is None:
            available = ", ".join(self.registry.names()) or "none"
            where = f" (named by runtime configuration '{config.name}')" if config else ""
            return None, config, [Issue("invalidRuntime", f"Runtime '{name}'{where} is not available on this "
                                        f"server (available: {available}); install or enable its processor.",
                                        property_name="runtime_config" if config else "runtime", value=name)]
        return processor, config, []

    async def submit(self, submission: Submission) -> RunRecord:
        """Record the run and start it in the background; returns at once."""
        if not submission.accepted:
            raise ValueError("only accepted submissions can run")
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None
        config_name = submission.runtime_config.name if submission.runtime_config else None
        record = RunRecord.new(pipeline, processor.name, config_name, self.runs_dir)
        await self._in_database(self.store.save, record)
        self._records[record.id] = record
        self._tasks[record.id] = asyncio.create_task(self._execute(record, submission))
        return record

    async def _execute(self, record: RunRecord, submission: Submission) -> None:
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None
        context = RunContext(
            run_id=record.id, run_dir=Path(record.run_dir), root_dir=self.root_dir,
            parameters=pipeline.parameter_values(),
            runtime_config=submission.runtime_config.metadata if submission.runtime_config else None,
            on_node=lambda node_id, status, **details: self._node_changed(record, node_id, status, **details),
            on_progress=lambda message: self._progressed(record, message))
        record.status, record.started = RunStatus.RUNNING, time.time()
        await self._in_database(self.store.save, record)
        await asyncio.to_thread(context.run_dir.mkdir, parents=True, exist_ok=True)
        try:
            outcome = await processor.run(pipeline, context)
            record.status, record.error = outcome.status, outcome.error
            record.result.update(outcome.details)
        except asyncio.CancelledError:
            record.status = RunStatus.CANCELLED if record.id in self._tasks else RunStatus.INTERRUPTED
            record.error = "Cancelled by the user." if record.status == RunStatus.CANCELLED else \
                "The server stopped while this run was in progress."
        except Exception as error:
            self.log.exception("Run %s on %s failed", record.id, processor.name)
            record.status, record.error = RunStatus.FAILED, f"{processor.name} processor error: {error}"
        finally:
            record.finished = time.time()
            for node in record.nodes:
                if node.status in (RunStatus.PENDING, RunStatus.RUNNING) and record.status != RunStatus.SUBMITTED:
                    node.status = record.status if node.status == RunStatus.RUNNING else RunStatus.SKIPPED
            record.progress = None
            await self._in_database(self.store.save, record)
            self._tasks.pop(record.id, None)

    def _node_changed(self, record: RunRecord, node_id: str, status: str, *, error: str | None = None,
                      artifacts: dict[str, str] | None = None) -> None:
        node = record.node(node_id)
        if node is None:
            raise KeyError(f"run {record.id} has no node '{node_id}'")
        node.status = status
        now = time.time()
        if status == RunStatus.RUNNING:
            node.started = now
        elif status in RunStatus.FINAL:
            node.finished = now
        node.error = error or node.error
        node.artifacts.update(artifacts or {})
        self._save_soon(record)
        for listener in self.node_listeners:
            listener(record, node)

    def _progressed(self, record: RunRecord, message: str) -> None:
        record.progress = message
        self._save_soon(record)

    def _save_soon(self, record: RunRecord) -> None:
        """Persist from a processor callback without waiting; a failed write is logged, not lost silently."""
        def report(future: Future[None]) -> None:
            if future.exception() is not None:
                self.log.error("Could not save run %s: %s", record.id, future.exception())

        self._database.submit(self.store.save, record).add_done_callback(report)

    async def wait(self, run_id: str) -> RunRecord:
        task = self._tasks.get(run_id)
        if task is not None:
            await asyncio.shield(task)
        return await self.get(run_id)

    async def cancel(self, run_id: str) -> RunRecord:
        task = self._tasks.get(run_id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        record = await self.get(run_id)
        if record.status not in RunStatus.FINAL:  # cancelled before its task first ran
            record.status, record.finished, record.error = RunStatus.CANCELLED, time.time(), "Cancelled by the user."
            await self._in_database(self.store.save, record)
        return record

    async def get(self, run_id: str) -> RunRecord:
        record = self._records.get(run_id) or await self._in_database(self.store.get, run_id)
        if record is None:
            raise UnknownRunError(run_id)
        return record

    async def list_runs(self, limit: int = 100, offset: int = 0) -> list[RunRecord]:
        stored = await self._in_database(self.store.list, limit, offset)
        return [self._records.get(record.id, record) for record in stored]

    async def recover(self) -> list[str]:
        """Mark runs that a dead process left unfinished as interrupted (call once at start-up)."""
        return await self._in_database(self.store.mark_interrupted)

    async def shutdown(self) -> None:
        """Stop in-flight runs, recording them as interrupted rather than cancelled by a user."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self._database.shutdown, wait=True)
        self.store.close()


def default_data_dir() -> Path:
    return Path(jupyter_data_dir()) / "elyra_proc_ext"


def default_runtime_configs_dir() -> Path:
    """Where Elyra keeps runtime configurations, so an Elyra user's existing ones are found."""
    return Path(jupyter_data_dir()) / "metadata" / "runtimes"


def create_manager(root_dir: Path, data_dir: Path, runtime_configs_dir: Path,
                   parent: LoggingConfigurable | None = None) -> ProcessorManager:
    """The one way the server and the CLI assemble the manager, so both see the same runs and runtimes."""
    registry = ProcessorRegistry(root_dir=root_dir, parent=parent)
    store = RunStore(data_dir / "runs.sqlite")
    return ProcessorManager(registry, store, RuntimeConfigStore(runtime_configs_dir), root_dir,
                            data_dir / "runs", parent=parent)
