"""A processor that reports every node running, then every node succeeded, in one go: the most node changes a run
can make at once. Shared by the run-record tests and `benchmarks/run_records.py`; it imports only the public
processor API, so the benchmark can also measure an older checkout."""

from __future__ import annotations

from typing import ClassVar

from elyra_proc_ext.processors import Pipeline, PipelineProcessor, RunContext, RunOutcome, RunStatus


class BurstProcessor(PipelineProcessor):
    name: ClassVar[str] = "burst"
    display_name: ClassVar[str] = "Burst"
    runtime_type: ClassVar[str] = "BURST"
    node_error: ClassVar[str | None] = None  # reported with every node change, when set

    def needs_runtime_image(self) -> bool:
        return False

    async def run(self, pipeline: Pipeline, context: RunContext) -> RunOutcome:
        for status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
            for node_id in pipeline.nodes:
                context.node_state(node_id, status, error=self.node_error)
        return RunOutcome(RunStatus.SUCCEEDED)
