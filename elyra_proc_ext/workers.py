"""Pipeline checks in worker processes (see `processes`): a burst of fifty validations of a 200-node pipeline
in threads stalled `GET /api/status` for seconds. Each worker builds its own registry from the same configuration;
the forkserver has the checker imported already, so starting a worker costs milliseconds.
"""

from __future__ import annotations

import asyncio
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets.config import Config, LoggingConfigurable

from .checker import PipelineChecker, Submission
from .model import Issue, Pipeline
from .processes import WorkerPool
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


def _check(posted: Any, options: dict[str, Any]) -> CheckResult:
    assert _checker is not None
    submission = _checker.check_posted(posted, **options)
    return CheckResult(submission.pipeline, submission.issues,
                       submission.processor.name if submission.processor else None,
                       submission.runtime_config.name if submission.runtime_config else None, submission.options)


class CheckWorkers:
    def __init__(self, root_dir: Path, configs_dir: Path, config: Config, processes: int) -> None:
        self.processes = processes
        self._pool = WorkerPool("checks", processes, _start, (str(root_dir), str(configs_dir), config),
                                preload=(__name__,))

    def warm_up(self) -> None:
        """Start the workers now rather than on the first request."""
        if self.processes:
            self._pool.warm_up()

    async def check(self, checker: PipelineChecker, posted: Any, options: dict[str, Any]) -> Submission:
        """`PipelineChecker.check_posted` in a worker process."""
        if not self.processes:
            return await asyncio.to_thread(checker.check_posted, posted, **options)
        try:
            result = await self._pool.call(_check, posted, options)
        except BrokenProcessPool:  # a worker died (killed, out of memory): check here, start fresh workers next time
            return await asyncio.to_thread(checker.check_posted, posted, **options)
        config = await asyncio.to_thread(checker.configs.load, result.runtime_config) if result.runtime_config \
            else None
        processor = checker.registry.get(result.processor) if result.processor else None
        return Submission(result.pipeline, result.issues, processor, config, result.options)

    def shutdown(self) -> None:
        self._pool.shutdown()
