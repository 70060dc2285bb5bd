"""Pipeline checks in worker processes (see `processes`): a burst of fifty validations of a 200-node pipeline
in threads stalled `GET /api/status` for seconds. Each worker builds its own registry from the same configuration;
the forkserver has the checker imported already, so starting a worker costs milliseconds.

No check can hold the workers: each has a time limit, after which it is stopped in its worker and answered with
`CheckTimeoutError`; a check whose caller goes away is stopped too; and one owner (a user) has at most
`per_owner` checks in flight, so others' checks still find a free worker. An owner's further checks wait in a line
of at most `queued_per_owner` (a notebook posting fifty pipelines at once is served, in turn); beyond it they
are refused with `ChecksInFlightError`.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traitlets.config import Config, LoggingConfigurable

from . import lean
from .checker import PipelineChecker, Submission
from .custom_nodes import ComponentLookup
from .errors import CheckTimeoutError, TooManyRequestsError
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


def _start(root_dir: str, configs_dir: str, config: Config, components: ComponentLookup | None) -> None:
    global _checker
    registry = ProcessorRegistry(root_dir=Path(root_dir), parent=LoggingConfigurable(config=config))
    _checker = PipelineChecker(registry, RuntimeConfigStore(Path(configs_dir)), Path(root_dir), components)


def _check(posted: Any, options: dict[str, Any]) -> CheckResult:
    assert _checker is not None
    submission = _checker.check_posted(posted, **options)
    return CheckResult(submission.pipeline, submission.issues,
                       submission.processor.name if submission.processor else None,
                       submission.runtime_config.name if submission.runtime_config else None, submission.options)


class ChecksInFlightError(TooManyRequestsError):
    """An owner already has as many checks running and waiting as allowed."""


class CheckWorkers:
    def __init__(self, root_dir: Path, configs_dir: Path, config: Config, processes: int, *,
                 time_limit: float, per_owner: int, queued_per_owner: int,
                 components: ComponentLookup | None = None) -> None:
        self.processes, self.time_limit = processes, time_limit
        self.per_owner, self.queued_per_owner = per_owner, queued_per_owner
        self._pool = WorkerPool("checks", processes, _start, (str(root_dir), str(configs_dir), config, components),
                                preload=(lean.__name__, __name__), interrupt=True)
        self._admitted: Counter[str] = Counter()  # per owner: checks running or waiting for one of its slots
        self._slots: dict[str, asyncio.Semaphore] = {}

    def warm_up(self) -> None:
        """Start the workers now rather than on the first request."""
        if self.processes:
            self._pool.warm_up()

    async def check(self, checker: PipelineChecker, posted: Any, options: dict[str, Any],
                    owner: str | None = None) -> Submission:
        """`PipelineChecker.check_posted` in a worker process, within the time limit; `owner` (a user name) has
        at most `per_owner` checks running and `queued_per_owner` waiting. Cancelling it stops the check in its
        worker."""
        if owner is None:
            return await self._limited(self._check(checker, posted, options))
        if self._admitted[owner] >= self.per_owner + self.queued_per_owner:
            raise ChecksInFlightError(f"You already have {self._admitted[owner]} pipeline checks running or waiting, "
                                      "as many as one user may have at once; wait for them, then try again.")
        self._admitted[owner] += 1
        slots = self._slots.setdefault(owner, asyncio.Semaphore(self.per_owner))
        try:
            async with slots:
                return await self._limited(self._check(checker, posted, options))
        finally:
            self._admitted[owner] -= 1
            if not self._admitted[owner]:
                del self._admitted[owner], self._slots[owner]

    async def _limited(self, check: Awaitable[Submission]) -> Submission:
        try:
            return await asyncio.wait_for(check, self.time_limit)
        except TimeoutError:
            raise CheckTimeoutError(
                f"Checking the pipeline took longer than {self.time_limit:g} s and was stopped. A dependency pattern "
                "over a very large folder tree (such as '**/*' at the top of the workspace) or a pipeline of many "
                "thousands of nodes takes this long: name the dependency folders or files, or split the pipeline. "
                "Administrators set the limit with c.ProcessorManager.check_timeout.") from None

    async def _check(self, checker: PipelineChecker, posted: Any, options: dict[str, Any]) -> Submission:
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
