"""The async processor manager: checks a pipeline against the runtime it will run on, starts runs in the
background, keeps their records, and cancels them. Parsing and validating run in worker processes (`workers`),
SQLite and file checks in threads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from jupyter_core.paths import jupyter_data_dir
from traitlets import Int
from traitlets.config import LoggingConfigurable

from .checker import PipelineChecker, Submission
from .processors.base import PipelineProcessor, RunContext, RunStatus
from .processors.registry import ProcessorRegistry
from .runtime_configs import (
    RuntimeConfig,
    RuntimeConfigError,
    RuntimeConfigStore,
    keep_unchanged_secrets,
    name_from_display_name,
    schema_errors,
)
from .store import NodeRecord, RunRecord, RunStore
from .workers import CheckWorkers

T = TypeVar("T")


class UnknownRunError(KeyError):
    """No run has this id."""


class ProcessorManager(LoggingConfigurable):
    check_processes = Int(2, config=True, help="Worker processes that parse and validate posted pipelines, so that "
                                               "work never holds up the server's event loop (0: threads instead).")

    def __init__(self, registry: ProcessorRegistry, store: RunStore, configs: RuntimeConfigStore, root_dir: Path,
                 runs_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.registry = registry
        self.store = store
        self.configs = configs
        self.root_dir = root_dir
        self.checker = PipelineChecker(registry, configs, root_dir)
        self.workers = CheckWorkers(root_dir, configs.directory, self.config, self.check_processes)
        self.runs_dir = runs_dir
        self._records: dict[str, RunRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="elyra-proc-db")
        self.listeners: list[Callable[[RunRecord, NodeRecord | None], None]] = []

    async def _in_database(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._database, function, *args)

    def check(self, document: Any, **options: Any) -> Submission:
        """Parse and validate here, blocking; the server uses `prepare`, which does it in worker processes."""
        return self.checker.check(document, **options)

    async def prepare(self, posted: Any, **options: Any) -> Submission:
        """`PipelineChecker.check_posted` in worker processes: the server's event loop never parses a pipeline."""
        return await self.workers.check(self.checker, posted, options)

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

    def _context(self, record: RunRecord, submission: Submission) -> RunContext:
        assert submission.pipeline is not None
        return RunContext(
            run_id=record.id, run_dir=Path(record.run_dir), root_dir=self.root_dir,
            parameters=submission.pipeline.parameter_values(),
            runtime_config=submission.runtime_config.metadata if submission.runtime_config else None,
            on_node=lambda node_id, status, **details: self._node_changed(record, node_id, status, **details),
            on_progress=lambda message: self._progressed(record, message), options=submission.options,
            on_details=lambda details: self._detailed(record, details))

    async def _execute(self, record: RunRecord, submission: Submission) -> None:
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None
        context = self._context(record, submission)
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
        for listener in self.listeners:
            listener(record, node)

    def _progressed(self, record: RunRecord, message: str) -> None:
        record.progress = message
        self._save_soon(record)
        for listener in self.listeners:
            listener(record, None)

    def _detailed(self, record: RunRecord, details: dict[str, Any]) -> None:
        record.result.update(details)
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
        record = await self.get(run_id, refresh=False)
        if record.status == RunStatus.SUBMITTED:
            processor, metadata = await self._remote(record)
            await processor.cancel(record.result, metadata)
            record.progress = "Cancelling on the runtime"
            return await self.get(run_id)
        if record.status not in RunStatus.FINAL:  # cancelled before its task first ran
            record.status, record.finished, record.error = RunStatus.CANCELLED, time.time(), "Cancelled by the user."
            await self._in_database(self.store.save, record)
        return record

    async def get(self, run_id: str, refresh: bool = True) -> RunRecord:
        """The run's record; a run going on elsewhere (submitted) is first refreshed from its runtime."""
        record = self._records.get(run_id) or await self._in_database(self.store.get, run_id)
        if record is None:
            raise UnknownRunError(run_id)
        if refresh and record.status == RunStatus.SUBMITTED:
            await self._refresh(record)
        return record

    async def _remote(self, record: RunRecord) -> tuple[PipelineProcessor, dict[str, Any] | None]:
        processor = self.registry.get(record.runtime)
        if processor is None:
            raise RuntimeConfigError(f"The '{record.runtime}' runtime of run {record.id} is not available.", 409)
        config = None
        if record.runtime_config:
            config = await asyncio.to_thread(self.configs.load, record.runtime_config)
        return processor, config.metadata if config else None

    async def _refresh(self, record: RunRecord) -> None:
        try:
            processor, metadata = await self._remote(record)
            state = await processor.refresh(record.result, metadata)
        except Exception as error:  # the runtime being unreachable must not make the record unreadable
            record.progress = f"Could not read the run's state from its runtime: {error}"
            return
        if state is None:
            return
        record.result["remote_status"] = state.remote_status
        record.progress = None
        for node in record.nodes:
            node.status = state.nodes.get(node.id, node.status)
            started, finished = state.node_times.get(node.id, (None, None))
            node.started, node.finished = started or node.started, finished or node.finished
        if state.status != RunStatus.SUBMITTED:
            record.status, record.finished, record.error = state.status, time.time(), state.error
        await self._in_database(self.store.save, record)

    async def export(self, submission: Submission, path: Path, overwrite: bool = False) -> dict[str, Any]:
        """Compile to the runtime's own format at `path` (inside the root; refused when it exists)."""
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None and submission.accepted
        if path.exists() and not overwrite:
            raise FileExistsError(f"{path} exists; choose another path or overwrite it.")
        record = RunRecord.new(pipeline, processor.name, None, self.runs_dir)
        context = self._context(record, submission)
        context.on_node = lambda *args, **kwargs: None
        context.on_details = lambda details: None
        context.on_progress = lambda message: self.log.info("Export of %s: %s", pipeline.name, message)
        await asyncio.to_thread(context.run_dir.mkdir, parents=True, exist_ok=True)
        return await processor.export(pipeline, context, path)

    async def test_runtime_config(self, name: str) -> str:
        config = await asyncio.to_thread(self.configs.load, name)
        processor = self.registry.get(config.schema_name)
        if processor is None:
            raise RuntimeConfigError(f"The '{config.schema_name}' runtime of '{name}' is not available here.", 409)
        return await processor.test_connection(config.metadata)

    async def artifact(self, run_id: str, node_id: str, name: str) -> Path:
        """A file a node's run left (its log, its executed notebook), by the name the processor gave it."""
        record = await self.get(run_id, refresh=False)
        node = record.node(node_id)
        path = node.artifacts.get(name) if node else None
        if path is None or not await asyncio.to_thread(Path(path).is_file):
            raise UnknownRunError(f"{run_id}/{node_id}/{name}")
        return Path(path)

    def runtime_configs(self) -> list[RuntimeConfig]:
        return self.configs.list()

    def save_runtime_config(self, body: Any, name: str | None = None) -> RuntimeConfig:
        """Create (`name` None: named after the body) or update a configuration, after the processor's checks."""
        if not isinstance(body, dict):
            raise RuntimeConfigError("The body must be a JSON object with display_name, schema_name and metadata.")
        previous = self.configs.load(name) if name else None
        name = name or str(body.get("name") or name_from_display_name(str(body.get("display_name") or "")))
        schema_name = body.get("schema_name") or (previous.schema_name if previous else None)
        processor = self.registry.get(schema_name) if isinstance(schema_name, str) else None
        schema = processor.runtime_config_schema() if processor else None
        if processor is None or schema is None:
            takes = [n for n, p in self.registry.processors.items() if p.runtime_config_schema()]
            raise RuntimeConfigError(f"schema_name must name a runtime that takes configurations: "
                                     f"{', '.join(takes) or 'none is installed'}.")
        metadata = body.get("metadata")
        if isinstance(metadata, dict) and previous:
            metadata = keep_unchanged_secrets(metadata, previous.metadata)
        document = {"schema_name": schema_name, "metadata": metadata,
                    "display_name": body.get("display_name") or (previous.display_name if previous else None)}
        errors = schema_errors(document, schema)
        errors += processor.check_runtime_config(metadata) if not errors else []
        if errors:
            raise RuntimeConfigError(f"Invalid runtime configuration '{name}': {'; '.join(errors)}")
        config = RuntimeConfig(name, document["display_name"], schema_name, metadata)
        self.configs.save(config, create=previous is None)
        return config

    async def list_runs(self, limit: int = 100, offset: int = 0) -> list[RunRecord]:
        stored = await self._in_database(self.store.list, limit, offset)
        return [self._records.get(record.id, record) for record in stored]

    async def shutdown(self) -> None:
        """Stop in-flight runs, recording them as interrupted rather than cancelled by a user."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.to_thread(self._database.shutdown, wait=True)
        self.workers.shutdown()
        await self.registry.close()
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
