"""Figures for checking large pipelines: the full check (parse + validate, as `elyra-proc validate` does) of a
ring of N nodes against a chain of N nodes. A linear check costs about the same for both; before cycle detection
was made linear, the ring grew quadratically (a search from every blocked node).

Then cycle detection alone on the ring, the code before this change (`elyra_proc_ext/model.py` at --before-ref,
by default the last commit with the quadratic search, for rings of at most 4,000 nodes: beyond, it takes minutes)
against the current one; and a repeated `**` dependency pattern over a deep folder tree,
`glob.glob` (used before) against the bounded matcher.
This is a measurement, not a test: it asserts nothing about the figures.

    python benchmarks/validation_scale.py [--sizes 1000 10000] [--repeat 3] [--before-ref REV] [--depths 12 16 20]
"""

from __future__ import annotations

import argparse
import glob
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

from elyra_proc_ext.checker import PipelineChecker
from elyra_proc_ext.globbing import bounded_glob
from elyra_proc_ext.parsing import parse
from elyra_proc_ext.processors.registry import ProcessorRegistry
from elyra_proc_ext.runtime_configs import RuntimeConfigStore

QUADRATIC_REF = "bd49790"  # the last commit whose cycle detection searched from every blocked node
BEFORE_LIMIT = 4000


def shaped_document(size: int, ring: bool) -> dict[str, Any]:
    """A version-8 pipeline of `size` script nodes, each linked to the one before (the first to the last: ring)."""
    nodes = []
    for index in range(size):
        parents = [index - 1] if index else ([size - 1] if ring else [])
        nodes.append({
            "id": f"n{index}", "type": "execution_node", "op": "execute-python-node",
            "app_data": {"label": f"n{index}", "component_parameters": {
                "filename": "step.py", "runtime_image": "python:3.11"}},
            "inputs": [{"id": "inPort", "links": [{"id": f"l{p}-{index}", "node_id_ref": f"n{p}",
                                                   "port_id_ref": "outPort"} for p in parents]}],
            "outputs": [{"id": "outPort"}]})
    return {"doc_type": "pipeline", "version": "3.0", "id": "doc", "primary_pipeline": "primary", "schemas": [],
            "pipelines": [{"id": "primary", "nodes": nodes, "app_data": {"version": 8, "name": "scale",
                                                                          "properties": {"name": "scale"}}}]}


def timed_check(checker: PipelineChecker, document: dict[str, Any], repeat: int) -> tuple[float, list[str]]:
    """Median seconds of a full check, and the issue types it found."""
    times, types = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        submission = checker.check(document, base_dir="")
        times.append(time.perf_counter() - started)
        types = sorted({issue.type for issue in submission.issues})
    return statistics.median(times), types


def old_cycle_detection(ref: str) -> types.FunctionType | None:
    """`Pipeline.nodes_in_cycles` as it was at git `ref`, or None when git cannot show it."""
    try:
        source = subprocess.run(["git", "show", f"{ref}:elyra_proc_ext/model.py"], capture_output=True, text=True,
                                check=True, cwd=Path(__file__).resolve().parents[1]).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    module = sys.modules["model_before"] = types.ModuleType("model_before")  # dataclasses look it up there
    exec(compile(source, "model_before.py", "exec"), module.__dict__)  # our own file, from git
    return module.Pipeline.nodes_in_cycles


def seconds(function: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before-ref", default=QUADRATIC_REF, help="git revision holding the code before the change")
    parser.add_argument("--depths", type=int, nargs="+", default=[12, 16, 20],
                        help="folder depths for the `**` pattern figures (glob.glob grows steeply: keep them low)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        (root / "step.py").write_text("print('step')\n")
        checker = PipelineChecker(ProcessorRegistry(root_dir=root), RuntimeConfigStore(root / "runtimes"), root)
        timed_check(checker, shaped_document(10, ring=False), 1)  # compile the schemas outside the figures
        print("Full check (parse + validate), median of", arguments.repeat)
        print(f"{'nodes':>7} {'chain s':>9} {'ring s':>9} {'ring/chain':>10}  ring issues")
        for size in arguments.sizes:
            chain, _ = timed_check(checker, shaped_document(size, ring=False), arguments.repeat)
            ring, types_found = timed_check(checker, shaped_document(size, ring=True), arguments.repeat)
            print(f"{size:>7} {chain:>9.3f} {ring:>9.3f} {ring / chain:>10.1f}  {', '.join(types_found)}")
        before = old_cycle_detection(arguments.before_ref)
        print(f"\nCycle detection alone on the ring (before: {arguments.before_ref})")
        print(f"{'nodes':>7} {'before s':>9} {'after s':>9}")
        for size in arguments.sizes:
            pipeline = parse(shaped_document(size, ring=True), base_dir="").pipeline
            assert pipeline is not None
            after = seconds(pipeline.nodes_in_cycles, arguments.repeat)
            measured = before is not None and size <= BEFORE_LIMIT
            old = f"{seconds(lambda: before(pipeline), 1):>9.3f}" if measured else f"{'skipped':>9}"  # noqa: B023
            print(f"{size:>7} {old} {after:>9.3f}")
        pattern = "**/**/**/**/*.py"
        print(f"\nDependency pattern {pattern!r} over a folder chain")
        print(f"{'depth':>7} {'glob s':>9} {'bounded s':>9}")
        for depth in arguments.depths:
            deep = root / f"deep{depth}"
            for level in range(depth):
                deep = deep / f"d{level}"
            deep.mkdir(parents=True)
            (deep / "leaf.py").write_text("")
            base = root / f"deep{depth}"
            unbounded = seconds(lambda: glob.glob(pattern, root_dir=base, recursive=True), 1)  # noqa: B023
            bounded = seconds(lambda: bounded_glob(base, pattern, recursive=True), arguments.repeat)  # noqa: B023
            print(f"{depth:>7} {unbounded:>9.3f} {bounded:>9.3f}")


if __name__ == "__main__":
    main()
