"""Figures for run records: what a run whose nodes all change at once costs the run database.

A processor that reports every node running and then every node succeeded, in one go, runs pipelines of 1,000
and 10,000 independent nodes through a real manager (`create_manager`, the server's and the CLI's); per size this
prints the bytes the process passed to write calls while the run went on and was written (`wchar` of
/proc/self/io: the database, its WAL and anything else), the bytes it caused to reach storage (`write_bytes`),
the CPU time of all its threads, the wall time, and the size of runs.sqlite and its WAL afterwards. Everything lives
in a temporary directory. This is a measurement, not a test: it asserts nothing about the figures.

    python benchmarks/run_records.py [--nodes 1000 10000]

Run it with PYTHONPATH pointing at another checkout (e.g. `git archive HEAD elyra_proc_ext | tar -x -C /tmp/old`)
to compare with that code.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import elyra_proc_ext
from elyra_proc_ext.manager import create_manager
from elyra_proc_ext.processors import RunStatus

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from burst_processor import BurstProcessor


def io_counters() -> dict[str, int]:
    return {key: int(value) for key, value in (line.split(": ") for line in
                                               Path("/proc/self/io").read_text().splitlines())}


def document(nodes: int) -> dict:
    return {"doc_type": "pipeline", "version": "3.0", "id": "bench", "primary_pipeline": "primary", "schemas": [],
            "pipelines": [{"id": "primary", "app_data": {"version": 8, "name": "bench", "properties": {}}, "nodes": [
                {"id": f"n{i}", "type": "execution_node", "op": "execute-python-node",
                 "app_data": {"label": f"n{i}", "component_parameters": {"filename": "t.py"}},
                 "inputs": [{"id": "inPort"}], "outputs": [{"id": "outPort"}]} for i in range(nodes)]}]}


async def measure(nodes: int, directory: Path) -> dict[str, float]:
    root = directory / "root"
    root.mkdir()
    (root / "t.py").write_text("print('t')\n")
    manager = create_manager(root, directory / "data", directory / "runtimes")
    manager.registry.processors["burst"] = BurstProcessor(root_dir=root, parent=manager.registry)
    submission = manager.check(document(nodes), runtime="burst")
    assert submission.accepted, [issue.message for issue in submission.issues]
    before, cpu, wall = io_counters(), time.process_time(), time.perf_counter()
    record = await manager.wait((await manager.submit(submission)).id)
    await manager.shutdown()  # writes whatever is still pending
    after, cpu, wall = io_counters(), time.process_time() - cpu, time.perf_counter() - wall
    assert record.status == RunStatus.SUCCEEDED, record.error
    database = directory / "data" / "runs.sqlite"
    wal = database.with_name("runs.sqlite-wal")
    return {"nodes": nodes, "written_MiB": (after["wchar"] - before["wchar"]) / 2**20,
            "to_storage_MiB": (after["write_bytes"] - before["write_bytes"]) / 2**20, "cpu_s": cpu, "wall_s": wall,
            "database_MiB": database.stat().st_size / 2**20,
            "wal_MiB": wal.stat().st_size / 2**20 if wal.exists() else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    print(f"elyra_proc_ext from {Path(elyra_proc_ext.__file__).parent}, Python {sys.version.split()[0]}")
    print(f"{'nodes':>7} {'written MiB':>12} {'to storage MiB':>15} {'CPU s':>7} {'wall s':>7} {'db MiB':>7} "
          f"{'WAL MiB':>8} {'written B/node':>15}")
    for nodes in args.nodes:
        with tempfile.TemporaryDirectory(prefix="elyra-proc-bench-") as directory:
            figures = asyncio.run(measure(nodes, Path(directory)))
        print(f"{nodes:>7} {figures['written_MiB']:>12.2f} {figures['to_storage_MiB']:>15.2f} "
              f"{figures['cpu_s']:>7.2f} {figures['wall_s']:>7.2f} {figures['database_MiB']:>7.2f} "
              f"{figures['wal_MiB']:>8.2f} {figures['written_MiB'] * 2**20 / nodes:>15.0f}", flush=True)


if __name__ == "__main__":
    main()
