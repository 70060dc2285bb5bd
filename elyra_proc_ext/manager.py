"""The async processor manager: checks a pipeline against the runtime it will run on, starts runs in the
background, keeps their records, and cancels them. Parsing and validating run in worker processes (`workers`),
SQLite and file checks in threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from jupyter_core.paths import jupyter_data_dir
from traitlets import Float, Int
from traitlets.config import LoggingConfigurable

from .checker import PipelineChecker, Submission
from .custom_nodes import ComponentLookup
from .errors import BadRequestError, ConflictError, InsufficientStorageError, UnknownRunError
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
from .store import NodeRecord, RunQuery, RunRecord, RunStore, is_disk_full
from .workers import CheckWorkers

T = TypeVar("T")
STOPPED = "The server stopped while this run was in progress."
NAME_MAX, PATH_MAX = 255, 4096  # Linux's limits on one path component and a whole path, in bytes


class OrphanedRunError(ConflictError):
    """A submitted run's runtime configuration was deleted: the run can no longer be followed or stopped from here."""


class ProcessorManager(LoggingConfigurable):
    check_processes = Int(2, config=True, help="Worker processes that parse and validate posted pipelines, so that "
                                               "work never holds up the server's event loop (0: threads instead).")
    storage_retry_seconds = Float(5.0, config=True, help="How often run records that could not be written (a full "
                                                         "disk) are written again, until they are.")
    check_timeout = Float(30.0, config=True, help="Seconds one check of a posted pipeline may take before it is "
                                                  "stopped and answered with 422.")
    checks_per_user = Int(0, config=True, help="Checks one user may have running at once; more wait in line. 0: one "
                                               "fewer than check_processes (at least 1), so one user cannot hold "
                                               "every check worker.")
    checks_queued_per_user = Int(64, config=True, help="Checks of one user that may wait for a free slot; more are "
                                                      "answered with 429.")

    def __init__(self, registry: ProcessorRegistry, store: RunStore, configs: RuntimeConfigStore, root_dir: Path,
                 runs_dir: Path, components: ComponentLookup | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.registry = registry
        self.store = store
        self.configs = configs
        self.root_dir = root_dir
        self.checker = PipelineChecker(registry, configs, root_dir, components)
        self.workers = CheckWorkers(root_dir, configs.directory, self.config, self.check_processes,
                                    time_limit=self.check_timeout, components=components,
                                    per_owner=self.checks_per_user or max(1, self.check_processes - 1),
                                    queued_per_owner=self.checks_queued_per_user)
        self.runs_dir = runs_dir
        self._records: dict[str, RunRecord] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._database = ThreadPoolExecutor(max_workers=1, thread_name_prefix="elyra-proc-db")
        self._failures: dict[str, str] = {}  # runs being stopped because their records cannot be written, and why
        self._flush_wanted = False
        self._flusher: asyncio.Task[None] | None = None
        self._retrying: asyncio.Task[None] | None = None
        self._stopped = False  # after shutdown's last write: what changes later stays unwritten, as the store is closed
        self.listeners: list[Callable[[RunRecord, NodeRecord | None], None]] = []

    async def _in_database(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._database, function, *args)

    def check(self, document: Any, **options: Any) -> Submission:
        """Parse and validate here, blocking; the server uses `prepare`, which does it in worker processes."""
        return self.checker.check(document, **options)

    async def prepare(self, posted: Any, *, owner: str | None = None, **options: Any) -> Submission:
        """`PipelineChecker.check_posted` in worker processes: the server's event loop never parses a pipeline.
        Limited in time (`check_timeout`) and, per `owner`, in number (`checks_per_user` running,
        `checks_queued_per_user` waiting)."""
        return await self.workers.check(self.checker, posted, options, owner)

    async def submit(self, submission: Submission) -> RunRecord:
        """Record the run and start it in the background; returns at once."""
        if not submission.accepted:
            raise ValueError("only accepted submissions can run")
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None
        config_name = submission.runtime_config.name if submission.runtime_config else None
        record = RunRecord.new(pipeline, processor.name, config_name, self.runs_dir)
        self.store.stage(record)
        try:
            await self._write()
        except Exception as error:
            self.store.discard(record.id)  # a run that was refused must not appear once space returns
            if is_disk_full(error):
                raise InsufficientStorageError(f"{self._disk_full_message(error)} New runs are refused until "
                                               "there is space again.") from None
            raise
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
        """Run the pipeline; whatever happens, a cancel at its first await included, the run ends in a final state."""
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None
        try:
            context = self._context(record, submission)
            record.status, record.started = RunStatus.RUNNING, time.time()
            self._save_soon(record, nodes=())
            await asyncio.to_thread(context.run_dir.mkdir, parents=True, exist_ok=True)
            outcome = await processor.run(pipeline, context)
            record.result.update(outcome.details)
            status, error = outcome.status, outcome.error
            if status == RunStatus.FAILED and await asyncio.to_thread(_no_space_left, context.run_dir):
                error = f"{self._disk_full_message('no space left on the device')} The run failed with: {error}"
        except asyncio.CancelledError:
            status, error = self._stop_reason(record.id)
        except Exception as exception:
            status = RunStatus.FAILED
            if is_disk_full(exception):
                error = self._disk_full_message(exception)
            else:
                self.log.exception("Run %s on %s failed", record.id, processor.name)
                error = f"{processor.name} processor error: {exception}"
        self._conclude(record, status, error)
        await self._written()

    def _stop_reason(self, run_id: str) -> tuple[str, str]:
        """Why a run's task was cancelled: its records could not be written, a user cancelled it (it is still in
        `_tasks`), or the server is stopping (`shutdown` empties `_tasks` first)."""
        if run_id in self._failures:
            return RunStatus.FAILED, self._failures[run_id]
        if run_id in self._tasks:
            return RunStatus.CANCELLED, "Cancelled by the user."
        return RunStatus.INTERRUPTED, STOPPED

    def _conclude(self, record: RunRecord, status: str, error: str | None) -> None:
        record.conclude(status, error)
        self._tasks.pop(record.id, None)
        self._failures.pop(record.id, None)
        self._save_soon(record)

    def _disk_full_message(self, cause: object) -> str:
        return (f"The disk holding the run records and artifacts ({self.store.path.parent}) is full ({cause}); "
                "free space there.")

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
        self._save_soon(record, nodes=(node,), run=False)
        for listener in self.listeners:
            listener(record, node)

    def _progressed(self, record: RunRecord, message: str) -> None:
        record.progress = message
        self._save_soon(record, nodes=())
        for listener in self.listeners:
            listener(record, None)

    def _detailed(self, record: RunRecord, details: dict[str, Any]) -> None:
        record.result.update(details)
        self._save_soon(record, nodes=())

    def _save_soon(self, record: RunRecord, nodes: tuple[NodeRecord, ...] | None = None, run: bool = True) -> None:
        """Stage what changed (the run's row when `run`, the given nodes' rows, all when None) and write it soon,
        batched with the changes made meanwhile, without waiting: a node's change writes that node alone."""
        self.store.stage(record, nodes, run)
        self._flush_wanted = True
        if not self._stopped and (self._flusher is None or self._flusher.done()):
            self._flusher = asyncio.get_running_loop().create_task(self._flush_staged())

    async def _flush_staged(self) -> None:
        """The one background writer: one transaction per round, for everything staged since the last."""
        while self._flush_wanted:
            self._flush_wanted = False  # changes staged from now on need another round
            try:
                await self._write()
            except Exception:  # reported by _write; the rows stay staged and are retried
                return

    async def _write(self) -> None:
        """Write the staged rows on the database thread. When that fails, the runs whose changes could not be
        written fail (a full disk) and the rows are written again later; once written, runs that are over leave
        memory, and reads come from the store."""
        try:
            await self._in_database(self.store.flush)
        except Exception as error:
            self.log.error("Could not write run records to %s: %s; trying again in %s s", self.store.path, error,
                           self.storage_retry_seconds)
            if is_disk_full(error):
                message = self._disk_full_message(error)
                for run_id in self.store.staged_run_ids() & self._tasks.keys():
                    self._failures[run_id] = message
                    self._tasks[run_id].cancel()
            if not self._stopped and (self._retrying is None or self._retrying.done()):
                self._retrying = asyncio.get_running_loop().create_task(self._retry_writes())
            raise
        staged = self.store.staged_run_ids()
        for run_id in [run_id for run_id in self._records if run_id not in self._tasks and run_id not in staged]:
            del self._records[run_id]

    async def _written(self) -> None:
        """Return once what is staged now is written, so a run's end is on disk when `wait` or `cancel` returns; a
        failure is reported and retried by `_write`."""
        with contextlib.suppress(Exception):
            await self._write()

    async def _retry_writes(self) -> None:
        """Write what failed to be written until it is, so a full disk heals by itself once space returns and no
        finished run is later taken for interrupted."""
        while self.store.staged_run_ids():
            await asyncio.sleep(self.storage_retry_seconds)
            await self._written()

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
            await self._refresh(record)
        elif record.status not in RunStatus.FINAL:  # cancelled before its task first ran
            self._conclude(record, RunStatus.CANCELLED, "Cancelled by the user.")
            await self._written()
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
            try:
                config = await asyncio.to_thread(self.configs.load, record.runtime_config)
            except RuntimeConfigError as error:
                if error.status != 404:
                    raise
                raise self._orphaned(record) from None
        return processor, config.metadata if config else None

    def _orphaned(self, record: RunRecord) -> OrphanedRunError:
        """End a submitted run whose runtime configuration is gone (interrupted, saying why): nothing here can follow
        or stop it any more, and the user learns where to stop it."""
        where = record.result.get("run_url")
        message = (f"The runtime configuration '{record.runtime_config}' of run {record.id} was deleted, so this "
                   "server can no longer follow or stop the run. It may still be running on the cluster: stop it "
                   + (f"at {where}." if where else "in the runtime's own interface."))
        self._conclude(record, RunStatus.INTERRUPTED, message)
        return OrphanedRunError(message)

    async def _refresh(self, record: RunRecord) -> None:
        try:
            processor, metadata = await self._remote(record)
            state = await processor.refresh(record.result, metadata)
        except OrphanedRunError:
            return
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
        self._save_soon(record)

    async def export(self, submission: Submission, path: Path, overwrite: bool = False) -> dict[str, Any]:
        """Compile to the runtime's own format at `path`; an impossible target is refused before anything is
        compiled or uploaded (400), an existing file unless `overwrite` (409)."""
        pipeline, processor = submission.pipeline, submission.processor
        assert pipeline is not None and processor is not None and submission.accepted
        await asyncio.to_thread(check_export_target, path, overwrite)
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

    async def list_runs(self, limit: int = 100, offset: int = 0, query: RunQuery | None = None) -> list[RunRecord]:
        stored = await self._in_database(self.store.list, limit, offset, query)
        return [self._records.get(record.id, record) for record in stored]

    async def shutdown(self) -> None:
        """Stop in-flight runs, recording them as interrupted rather than cancelled by a user."""
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for record in list(self._records.values()):  # tasks cancelled before they first ran
            if record.status in (RunStatus.PENDING, RunStatus.RUNNING):
                self._conclude(record, RunStatus.INTERRUPTED, STOPPED)
        if self._retrying is not None:
            self._retrying.cancel()
        await asyncio.gather(*(task for task in (self._flusher, self._retrying) if task), return_exceptions=True)
        self._stopped = True
        try:
            await self._in_database(self.store.flush)
        except Exception as error:
            self.log.error("Run records of %s could not be written before stopping: %s", ", ".join(
                sorted(self.store.staged_run_ids())), error)
        await asyncio.to_thread(self._database.shutdown, wait=True)
        self.workers.shutdown()
        await self.registry.close()
        self.store.close()


def check_export_name(name: str) -> None:
    """Refuse a target name no file system takes (control characters, over-long names) with `BadRequestError`;
    a string check, so callers run it before resolving the path."""
    if any(ord(character) < 32 or ord(character) == 127 for character in name):
        raise BadRequestError(f"export path {name!r} holds a control character (NUL, newline, ...): choose "
                              "another name.")
    try:
        encoded = os.fsencode(name)
    except UnicodeEncodeError:
        raise BadRequestError(f"export path {name!r} cannot be encoded as a file name.") from None
    if len(encoded) >= PATH_MAX:
        raise BadRequestError(f"export path is {len(encoded)} bytes long; paths are limited to {PATH_MAX - 1}.")
    if any(len(component) > NAME_MAX for component in encoded.split(b"/")):
        raise BadRequestError(f"export path {name[:80]!r}... has a name longer than {NAME_MAX} bytes.")


def check_export_target(path: Path, overwrite: bool) -> None:
    """Where an export may write: an existing directory holds it, and it is not a directory (blocking: stats)."""
    check_export_name(str(path))
    if not path.parent.is_dir():
        raise BadRequestError(f"export path {path}: directory {path.parent} does not exist.")
    if path.is_dir():
        raise BadRequestError(f"export path {path} is a directory: name the file to write.")
    if path.exists() and not overwrite:
        raise ConflictError(f"{path} exists; choose another path or overwrite it.")


def _no_space_left(path: Path) -> bool:
    """Whether the file system holding `path` is full, which is why a node could not write its log or outputs."""
    return os.statvfs(path).f_bavail == 0


def default_data_dir() -> Path:
    return Path(jupyter_data_dir()) / "elyra_proc_ext"


def default_runtime_configs_dir() -> Path:
    """Where Elyra keeps runtime configurations, so an Elyra user's existing ones are found."""
    return Path(jupyter_data_dir()) / "metadata" / "runtimes"


def create_manager(root_dir: Path, data_dir: Path, runtime_configs_dir: Path,
                   parent: LoggingConfigurable | None = None, catalogs_dir: Path | None = None) -> ProcessorManager:
    """The one way the server and the CLI assemble the manager, so both see the same runs, runtimes and component
    catalogs (`catalogs_dir`, cached under `data_dir`; None: Elyra's place in the Jupyter data dir)."""
    registry = ProcessorRegistry(root_dir=root_dir, parent=parent)
    store = RunStore(data_dir / "runs.sqlite")
    return ProcessorManager(registry, store, RuntimeConfigStore(runtime_configs_dir), root_dir,
                            data_dir / "runs", ComponentLookup(catalogs_dir, data_dir), parent=parent)
