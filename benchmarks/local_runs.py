"""Figures for the local runtime: how much parallelism buys, and what each node costs on top of the work it does.

Elyra runs local pipelines one node at a time; `LocalProcessor` runs independent nodes at the same time and
wraps every node in a process of its own started by its launcher, a run record and, for notebooks, papermill
with its own kernel. This script measures both effects against the floor of running the same files with
`subprocess.run` by hand:

1. 8 independent Python nodes that each sleep 1 s, with the default `max_parallel_nodes` (CPU count) and with 8;
2. a chain of 8 Python nodes that do nothing: per-node overhead = wall time / 8;
3. the same chain of 8 notebook nodes (one cell `x = 1`): per-notebook overhead, mostly kernel start;
4. the floor: the same files run one after the other with `subprocess.run`.

Everything (pipelines, scripts, run records, run artifacts) lives in a temporary directory, so the user's run
history is left alone. This is a measurement, not a test: it asserts nothing about the figures.

    python benchmarks/local_runs.py [--repeat N] [--nodes N] [--sleep S] [--skip-notebooks]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

from traitlets.config import Config, LoggingConfigurable

from elyra_proc_ext.manager import create_manager
from elyra_proc_ext.processors.base import RunStatus

RUNTIME_IMAGE = "quay.io/jupyter/scipy-notebook:2024-05-27"  # required by validation, unused by local runs
NOTEBOOK_RUNNER = [sys.executable, "-m", "elyra_proc_ext.processors.notebook_runner"]


@dataclass
class Measurement:
    """Wall times of one scenario over all repeats; `per_node` divides by the node count (chains only)."""

    scenario: str
    kind: str
    nodes: int
    parallel: str
    seconds: list[float] = field(default_factory=list)
    in_nodes: list[float] = field(default_factory=list)
    per_node: bool = False

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def best(self) -> float:
        return min(self.seconds)


# --- generating the workspace ----------------------------------------------------------------------------------


def _node(node_id: str, op: str, filename: str, parent: str | None) -> dict[str, Any]:
    """One execution node in pipeline-flow v3 form, linked to `parent` when given (a chain)."""
    links = [{"id": f"link-{parent}-{node_id}", "node_id_ref": parent, "port_id_ref": "outPort"}] if parent else []
    return {
        "id": node_id,
        "type": "execution_node",
        "op": op,
        "app_data": {
            "label": node_id,
            "component_parameters": {"filename": filename, "outputs": [], "env_vars": [], "dependencies": [],
                                     "include_subdirectories": False},
            "ui_data": {"label": node_id, "x_pos": 0, "y_pos": 0},
        },
        "inputs": [{"id": "inPort", "app_data": {"ui_data": {"label": "Input Port"}}, "links": links}],
        "outputs": [{"id": "outPort", "app_data": {"ui_data": {"label": "Output Port"}}}],
    }


def pipeline_document(name: str, op: str, filenames: Sequence[str], chained: bool) -> dict[str, Any]:
    """An Elyra pipeline (pipeline-flow v3, app_data.version 8) running `filenames`, in a chain or side by side."""
    nodes = []
    for index, filename in enumerate(filenames):
        parent = f"n{index - 1}" if chained and index else None
        nodes.append(_node(f"n{index}", op, filename, parent))
    return {
        "doc_type": "pipeline",
        "version": "3.0",
        "json_schema": "http://api.dataplatform.ibm.com/schemas/common-pipeline/pipeline-flow/"
                       "pipeline-flow-v3-schema.json",
        "id": name,
        "primary_pipeline": "primary",
        "pipelines": [{
            "id": "primary",
            "runtime_ref": "",
            "nodes": nodes,
            "app_data": {
                "version": 8,
                "ui_data": {"comments": []},
                "properties": {"name": name, "runtime": "Generic",
                               "pipeline_defaults": {"runtime_image": RUNTIME_IMAGE}},
            },
        }],
        "schemas": [],
    }


def notebook_json(source: str) -> dict[str, Any]:
    """A one-cell nbformat 4 notebook on the python3 kernel."""
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "cell-0", "metadata": {}, "outputs": [],
                   "source": [source]}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


@dataclass
class Workload:
    """Files of one scenario inside the workspace, and its pipeline file."""

    name: str
    kind: str
    files: list[Path]
    pipeline: Path


def write_workload(root: Path, name: str, kind: str, count: int, body: str, chained: bool) -> Workload:
    """Write `count` scripts or notebooks running `body` and the pipeline linking them."""
    directory = root / name
    directory.mkdir()
    suffix, op = (".ipynb", "execute-notebook-node") if kind == "notebook" else (".py", "execute-python-node")
    files = []
    for index in range(count):
        path = directory / f"step_{index}{suffix}"
        text = json.dumps(notebook_json(body), indent=1) if kind == "notebook" else body + "\n"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    pipeline = directory / f"{name}.pipeline"
    document = pipeline_document(name, op, [path.name for path in files], chained)
    pipeline.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return Workload(name, kind, files, pipeline)


# --- running --------------------------------------------------------------------------------------------------


def _parent(max_parallel_nodes: int | None) -> LoggingConfigurable | None:
    """A configurable parent carrying `c.LocalProcessor.max_parallel_nodes`, as the server's app would."""
    if max_parallel_nodes is None:
        return None
    return LoggingConfigurable(config=Config({"LocalProcessor": {"max_parallel_nodes": max_parallel_nodes}}))


async def _run_once(workload: Workload, root: Path, data_dir: Path, parent: LoggingConfigurable | None
                    ) -> tuple[float, float]:
    """One run through the manager, as `elyra-proc run` does it; returns (wall, summed node time).

    The wall time runs from `submit` to `wait` returning, so it includes the run records being written but not
    parsing and validation, which are timed apart (they do not depend on the runtime).
    """
    manager = create_manager(root, data_dir, data_dir / "runtimes", parent=parent)
    try:
        submission = manager.check(json.loads(workload.pipeline.read_text(encoding="utf-8")),
                                   source=workload.pipeline.relative_to(root).as_posix(), runtime="local")
        if not submission.accepted:
            problems = "; ".join(issue.message for issue in submission.issues if issue.fatal)
            raise SystemExit(f"benchmark pipeline {workload.name} was rejected: {problems}")
        start = time.perf_counter()
        record = await manager.submit(submission)
        record = await manager.wait(record.id)
        wall = time.perf_counter() - start
    finally:
        await manager.shutdown()
        manager.store.close()
    if record.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"benchmark run of {workload.name} ended {record.status}: {record.error}")
    in_nodes = sum((node.finished or 0) - (node.started or 0) for node in record.nodes)
    return wall, in_nodes


def _direct_once(workload: Workload, scratch: Path) -> float:
    """The floor: the same files one after the other, scripts with the interpreter, notebooks with the notebook
    runner as a fresh Python (papermill imported each time), with no manager, records or scheduling."""
    start = time.perf_counter()
    for path in workload.files:
        if workload.kind == "notebook":
            command = [*NOTEBOOK_RUNNER, str(path), str(scratch / path.name)]
        else:
            command = [sys.executable, str(path)]
        subprocess.run(command, cwd=path.parent, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def measure(measurement: Measurement, repeat: int, once: Callable[[], tuple[float, float]]) -> Measurement:
    """Run `once` `repeat` times, reporting progress on stderr so stdout stays a clean report."""
    for index in range(repeat):
        wall, in_nodes = once()
        measurement.seconds.append(wall)
        measurement.in_nodes.append(in_nodes)
        print(f"  {measurement.scenario} [{measurement.kind}, parallel {measurement.parallel}] "
              f"run {index + 1}/{repeat}: {wall:.2f} s", file=sys.stderr, flush=True)
    return measurement


def time_check(workload: Workload, root: Path, data_dir: Path, repeat: int) -> float:
    """Median seconds for parsing and validating the pipeline (the part every runtime pays before running)."""
    manager = create_manager(root, data_dir, data_dir / "runtimes")
    document = json.loads(workload.pipeline.read_text(encoding="utf-8"))
    source = workload.pipeline.relative_to(root).as_posix()
    manager.check(document, source=source, runtime="local")  # loads processors and the JSON schema once
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        manager.check(document, source=source, runtime="local")
        times.append(time.perf_counter() - start)
    asyncio.run(manager.shutdown())
    manager.store.close()
    return statistics.median(times)


# --- reporting ------------------------------------------------------------------------------------------------


def machine_facts() -> dict[str, str]:
    """What the figures depend on, printed with them so they can be compared across machines."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "CPUs (os.cpu_count / usable)": f"{os.cpu_count()} / {usable}",
        "Python": f"{platform.python_version()} ({platform.python_implementation()})",
        "Platform": platform.platform(),
        "elyra_proc_ext": version("elyra_proc_ext"),
        "papermill": version("papermill"),
    }


def markdown_table(measurements: Sequence[Measurement], repeat: int) -> str:
    """The results as a Markdown table, ready to paste into docs/benchmarks.md."""
    lines = ["| Scenario | Runs as | Max parallel | Median (s) | Min (s) | Per node, median (s) | "
             "Inside nodes, median (s) |",
             "|---|---|---|---:|---:|---:|---:|"]
    for m in measurements:
        per_node = f"{m.median / m.nodes:.3f}" if m.per_node else ""
        inside = f"{statistics.median(m.in_nodes):.2f}" if m.per_node and any(m.in_nodes) else ""
        lines.append(f"| {m.scenario} | {m.kind} | {m.parallel} | {m.median:.2f} | {m.best:.2f} | {per_node} | "
                     f"{inside} |")
    lines.append("")
    lines.append(f"Median and minimum of {repeat} repeat(s), wall-clock seconds from submit to the run's end. "
                 "'Inside nodes' (chains) sums each node's running time as the run record has it, from its "
                 "subprocess being started to its end being noticed; the rest of the wall time is scheduling "
                 "between nodes.")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Measure the local runtime of elyra_proc_ext: wall time of parallel sleeping nodes, per-node "
                    "overhead of Python and notebook chains, and the floor of running the same files directly. "
                    "Everything runs in a temporary directory; your run history is not touched. Progress goes to "
                    "stderr, the report (with a Markdown table) to stdout.",
        epilog="Example: python benchmarks/local_runs.py --repeat 5 > results.md")
    parser.add_argument("--repeat", type=int, default=3, metavar="N",
                        help="runs per measurement; median and minimum are reported (default: 3)")
    parser.add_argument("--nodes", type=int, default=8, metavar="N",
                        help="nodes per pipeline (default: 8)")
    parser.add_argument("--sleep", type=float, default=1.0, metavar="SECONDS",
                        help="how long each node of the parallel scenario sleeps (default: 1.0)")
    parser.add_argument("--parallel", type=int, action="append", metavar="N",
                        help="a c.LocalProcessor.max_parallel_nodes value for the parallel scenario, repeatable "
                             "(default: the processor's own default, CPU count, and then --nodes)")
    parser.add_argument("--skip-notebooks", action="store_true",
                        help="leave out the notebook chain (the slowest part: one kernel start per node)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary workspace (pipelines, run logs) and print where it is")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.repeat < 1 or args.nodes < 1:
        raise SystemExit("local_runs.py: --repeat and --nodes must be at least 1")
    workspace = Path(tempfile.mkdtemp(prefix="elyra-proc-bench-")).resolve()
    try:
        report = run_all(args, workspace)
    finally:
        if args.keep:
            print(f"Workspace kept in {workspace}", file=sys.stderr)
        else:
            shutil.rmtree(workspace, ignore_errors=True)
    print(report)
    return 0


def run_all(args: argparse.Namespace, workspace: Path) -> str:
    """Every scenario in `workspace`; returns the report (facts and table) as Markdown."""
    root, data_dir, scratch = workspace / "root", workspace / "data", workspace / "scratch"
    for directory in (root, data_dir, scratch):
        directory.mkdir()
    count, repeat = args.nodes, args.repeat

    sleeping = write_workload(root, "parallel_sleep", "python", count, f"import time\ntime.sleep({args.sleep})",
                              chained=False)
    python_chain = write_workload(root, "python_chain", "python", count, "pass", chained=True)
    notebook_chain = None if args.skip_notebooks else \
        write_workload(root, "notebook_chain", "notebook", count, "x = 1", chained=True)

    def pipeline_run(workload: Workload, parallel: int | None) -> Callable[[], tuple[float, float]]:
        return lambda: asyncio.run(_run_once(workload, root, data_dir, _parent(parallel)))

    def direct_run(workload: Workload) -> Callable[[], tuple[float, float]]:
        return lambda: (_direct_once(workload, scratch), 0.0)

    measurements = []
    sleep_label = f"{count} independent nodes, sleep {args.sleep:g} s"
    for parallel in args.parallel or [None, count]:
        label = f"default ({os.cpu_count()})" if parallel is None else str(parallel)
        measurements.append(measure(Measurement(sleep_label, "pipeline", count, label), repeat,
                                    pipeline_run(sleeping, parallel)))
    measurements.append(measure(Measurement(sleep_label, "subprocess.run, serial", count, "1"), repeat,
                                direct_run(sleeping)))
    chains = [python_chain] + ([notebook_chain] if notebook_chain else [])
    for workload in chains:
        what = "Python (`pass`)" if workload.kind == "python" else "notebook (`x = 1`)"
        label = f"chain of {count} {what}"
        measurements.append(measure(Measurement(label, "pipeline", count, "1 (chain)", per_node=True), repeat,
                                    pipeline_run(workload, None)))
        measurements.append(measure(Measurement(label, "subprocess.run, serial", count, "1", per_node=True),
                                    repeat, direct_run(workload)))
    check_seconds = time_check(python_chain, root, data_dir, max(repeat, 5))

    facts = [f"- {name}: {value}" for name, value in machine_facts().items()]
    facts.append(f"- Parse + validate a {count}-node pipeline (not in the times below): {check_seconds * 1000:.1f} ms")
    return "\n".join(["# elyra_proc_ext local runtime benchmark", "", *facts, "",
                      markdown_table(measurements, repeat)])

if __name__ == "__main__":
    sys.exit(main())
