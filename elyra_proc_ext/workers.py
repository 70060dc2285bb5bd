"""Pipeline checks in worker processes.

Parsing and validating is CPU work in Python. In threads of the server it competes with the event loop for the
GIL: a burst of fifty validations of a 200-node pipeline stalled `GET /api/status` for seconds. In worker
processes the server only waits on a pipe. Workers fork from a forkserver that has the checker already
imported, so starting one costs milliseconds, and each builds its own registry from the same configuration.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets.config import Config, LoggingConfigurable

from .checker import PipelineChecker, Submission
from .model import Issue, Pipeline
from .processors.registry import ProcessorRegistry
from .runtime_configs import RuntimeConfigStore

_checker: PipelineChecker | None = None


@dataclass
class CheckResult:
    """A `Submission` as it crosses the process boundary: processor and configuration by name."""

    pipeline: Pipeline | None
    issues: list[Issue]
    processor: str | None
    runtime_config: str | None
    options: dict[str, str] = field(default_factory=dict)


def _start(root_dir: str, configs_dir: str, config: Config) -> None:
    global _checker
    registry = ProcessorRegistry(root_dir=Path(root_dir), parent=LoggingConfigurable(config=config))
    _checker = PipelineChecker(registry, RuntimeConfigStore(Path(configs_dir)), Path(root_dir))


def _check(document: Any, options: dict[str, Any]) -> CheckResult:
    assert _checker is not None
    submission = _checker.check(document, **options)
    return CheckResult(submission.pipeline, submission.issues,
                       submission.processor.name if submission.processor else None,
                       submission.runtime_config.name if submission.runtime_config else None, submission.options)


def _ready() -> bool:
    return True


class CheckWorkers:
    def __init__(self, root_dir: Path, configs_dir: Path, config: Config, processes: int) -> None:
        self.root_dir, self.configs_dir, self.config = root_dir, configs_dir, config
        self.processes = processes
        self._pool: ProcessPoolExecutor | None = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([__name__])
            self._pool = ProcessPoolExecutor(self.processes, mp_context=context, initializer=_start,
                                             initargs=(str(self.root_dir), str(self.configs_dir), self.config))
        return self._pool

    def warm_up(self) -> None:
        """Start the workers now rather than on the first request."""
        if self.processes:
            for _ in range(self.processes):
                self._executor().submit(_ready)

    async def check(self, checker: PipelineChecker, document: Any, options: dict[str, Any]) -> Submission:
        if not self.processes:
            return await asyncio.to_thread(checker.check, document, **options)
        try:
            result = await asyncio.get_running_loop().run_in_executor(self._executor(), _check, document, options)
        except BrokenProcessPool:  # a worker died (killed, out of memory): check here, start fresh workers next time
            self._pool = None
            return await asyncio.to_thread(checker.check, document, **options)
        config = await asyncio.to_thread(checker.configs.load, result.runtime_config) if result.runtime_config \
            else None
        processor = checker.registry.get(result.processor) if result.processor else None
        return Submission(result.pipeline, result.issues, processor, config, result.options)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
