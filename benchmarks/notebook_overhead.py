"""Per-notebook-node overhead of the local runtime, in a server and from the CLI.

Overhead per node = (wall time of a chain of N trivial notebooks - wall time of one such notebook) / (N - 1): what
each further notebook node costs, with the fixed cost of a run (and of the first kernel) taken out. The notebooks
have one cell, `x = 1` (or `--cell CODE`), on the python3 kernel.

- server: one manager in one event loop, as a Jupyter server holds it; an untimed run first starts its launcher
  and imports papermill, as a server's first notebook run would. Wall time from `submit` to `wait` returning.
- cli: `elyra-proc run PIPELINE` as a fresh process each time (the console script beside this Python), in a private
  Jupyter data and config directory; wall time of the whole command.

The 1-node and N-node runs alternate, so a change in the machine's load hits both. `--warm-kernels K` sets
`c.LocalProcessor.warm_kernels` (0: every kernel starts and stops on the critical path). Reports the median of
each, the overhead per node, and the load average before and after, since the figures depend on it. A
measurement, not a test: it asserts nothing.

    python benchmarks/notebook_overhead.py                       # both modes, N = 8, 5 repeats, default pool
    python benchmarks/notebook_overhead.py --warm-kernels 0      # without warm kernels
    python benchmarks/notebook_overhead.py --mode cli --nodes 6 --repeat 3
    python benchmarks/notebook_overhead.py --mode server --cell "import time; time.sleep(1)"  # kernels hidden?
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from local_runs import Workload, machine_facts, write_workload
from traitlets.config import Config, LoggingConfigurable

from elyra_proc_ext.manager import ProcessorManager, create_manager
from elyra_proc_ext.processors.base import RunStatus

CLI = Path(sys.executable).parent / "elyra-proc"


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def local_settings(warm_kernels: int | None) -> dict[str, int]:
    return {} if warm_kernels is None else {"warm_kernels": warm_kernels}


async def _server_runs(workloads: dict[int, Workload], root: Path, data_dir: Path, warm_kernels: int | None,
                       repeat: int) -> dict[int, list[float]]:
    parent = LoggingConfigurable(config=Config({"LocalProcessor": local_settings(warm_kernels)}))
    manager = create_manager(root, data_dir, data_dir / "runtimes", parent=parent)
    times: dict[int, list[float]] = {count: [] for count in workloads}
    try:
        await _run(manager, workloads[min(workloads)], root)  # the launcher starts, papermill is imported
        for index in range(repeat):
            for count, workload in workloads.items():
                times[count].append(await _run(manager, workload, root))
                progress("server", count, index, repeat, times[count][-1])
    finally:
        await manager.shutdown()
        manager.store.close()
    return times


async def _run(manager: ProcessorManager, workload: Workload, root: Path) -> float:
    submission = manager.check(json.loads(workload.pipeline.read_text(encoding="utf-8")),
                               source=workload.pipeline.relative_to(root).as_posix(), runtime="local")
    if not submission.accepted:
        raise SystemExit(f"benchmark pipeline {workload.name} was rejected: {submission.issues}")
    start = time.perf_counter()
    record = await manager.wait((await manager.submit(submission)).id)
    wall = time.perf_counter() - start
    if record.status != RunStatus.SUCCEEDED:
        raise SystemExit(f"benchmark run of {workload.name} ended {record.status}: {record.error}")
    return wall


def _cli_runs(workloads: dict[int, Workload], root: Path, workspace: Path, warm_kernels: int | None,
              repeat: int) -> dict[int, list[float]]:
    config_dir = workspace / "cli-config"
    config_dir.mkdir()
    (config_dir / "jupyter_server_config.json").write_text(
        json.dumps({"LocalProcessor": local_settings(warm_kernels)}), encoding="utf-8")
    env = {**os.environ, "JUPYTER_DATA_DIR": str(workspace / "cli-data"), "JUPYTER_CONFIG_DIR": str(config_dir),
           "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0"}
    times: dict[int, list[float]] = {count: [] for count in workloads}
    for index in range(repeat):
        for count, workload in workloads.items():
            start = time.perf_counter()
            result = subprocess.run([str(CLI), "run", str(workload.pipeline.relative_to(root))], cwd=root, env=env,
                                    capture_output=True, text=True)
            times[count].append(time.perf_counter() - start)
            if result.returncode != 0:
                raise SystemExit(f"elyra-proc run {workload.name} failed:\n{result.stdout}\n{result.stderr}")
            progress("cli", count, index, repeat, times[count][-1])
    return times


def progress(mode: str, count: int, index: int, repeat: int, seconds: float) -> None:
    print(f"  {mode}: chain of {count}, run {index + 1}/{repeat}: {seconds:.2f} s", file=sys.stderr, flush=True)


def overhead_row(mode: str, times: dict[int, list[float]]) -> str:
    one, many = sorted(times)
    single, chain = statistics.median(times[one]), statistics.median(times[many])
    return (f"| {mode} | {single:.2f} | {chain:.2f} | {(chain - single) / (many - one):.3f} | "
            f"{min(times[many]):.2f} |")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog="Example: python benchmarks/notebook_overhead.py --warm-kernels 0")
    parser.add_argument("--mode", choices=["server", "cli", "both"], default="both")
    parser.add_argument("--nodes", type=int, default=8, metavar="N", help="notebooks in the chain (default: 8)")
    parser.add_argument("--repeat", type=int, default=5, metavar="R", help="runs of each chain (default: 5)")
    parser.add_argument("--cell", default="x = 1", metavar="CODE",
                        help="the one cell of every notebook (default: x = 1); its own time is in the overhead")
    parser.add_argument("--warm-kernels", type=int, metavar="K",
                        help="c.LocalProcessor.warm_kernels (default: the processor's default)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.nodes < 2 or args.repeat < 1:
        raise SystemExit("notebook_overhead.py: --nodes must be at least 2 and --repeat at least 1")
    workspace = Path(tempfile.mkdtemp(prefix="elyra-proc-nb-overhead-")).resolve()
    try:
        root, data_dir = workspace / "root", workspace / "data"
        root.mkdir()
        data_dir.mkdir()
        workloads = {count: write_workload(root, f"chain_{count}", "notebook", count, args.cell, chained=True)
                     for count in (1, args.nodes)}
        modes: dict[str, Callable[[], dict[int, list[float]]]] = {
            "server": lambda: asyncio.run(_server_runs(workloads, root, data_dir, args.warm_kernels, args.repeat)),
            "cli": lambda: _cli_runs(workloads, root, workspace, args.warm_kernels, args.repeat)}
        load_before = load_average()
        rows = [overhead_row(mode, run()) for mode, run in modes.items() if args.mode in (mode, "both")]
        load_after = load_average()
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    facts = [f"- {name}: {value}" for name, value in machine_facts().items()]
    setting = "default" if args.warm_kernels is None else str(args.warm_kernels)
    print("\n".join([
        "# Per-notebook-node overhead", "", *facts,
        f"- c.LocalProcessor.warm_kernels: {setting}", f"- Cell: `{args.cell}`",
        f"- Load average (1, 5, 15 min) before: {load_before}; after: {load_after}", "",
        f"| Runs in | 1 notebook, median (s) | chain of {args.nodes}, median (s) | Overhead per further node (s) | "
        f"chain of {args.nodes}, min (s) |",
        "|---|---:|---:|---:|---:|", *rows, "",
        f"Medians of {args.repeat} alternating runs of each; overhead = (chain - one) / ({args.nodes} - 1)."]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
