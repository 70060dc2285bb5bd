"""Load on a live server: concurrent validations of a 200-node pipeline and concurrent KFP submissions, apart and
then both at once, while a probe measures `GET /api/status` latency (its worst latency is the longest event-loop
stall).

Not a test: it prints throughput, p50/p99 latency and errors per load (a submission counts as an error unless
its run reached `submitted`), the probe's figures per load, and whether every submission has one run record.
Everything runs on 127.0.0.1: a real `jupyter server` process with the extension, the KFP API test server
(tests/kfp_server, a stand-in for Kubeflow Pipelines; it does not execute the submitted runs here) and
moto_server for object storage.

    python benchmarks/load.py
    python benchmarks/load.py --validations 100 --submissions 40
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from conftest import node, pipeline_document  # noqa: E402
from kfp_server import KfpTestServer  # noqa: E402
from live_server import Server  # noqa: E402
from s3_server import running_s3_server  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def wide_pipeline(root: Path, size: int) -> dict[str, Any]:
    """`size` script nodes in layers of 10, each layer depending on the one above: realistic validation work."""
    (root / "steps").mkdir(parents=True, exist_ok=True)
    nodes = []
    for index in range(size):
        (root / "steps" / f"s{index}.py").write_text("print('step')\n")
        parents = tuple(f"n{index - 10 - k}" for k in range(2) if index - 10 - k >= 0 and index >= 10)
        nodes.append(node(f"n{index}", f"steps/s{index}.py", parents))
    return pipeline_document(f"wide-{size}", nodes)


def timed_calls(calls: list[Callable[[], bool]]) -> tuple[list[float], list[bool], float]:
    """Run all the calls at once, each from its own thread; latencies, successes and wall time."""
    latencies: list[float] = []
    successes: list[bool] = []

    def one(call: Callable[[], bool]) -> None:
        start = time.perf_counter()
        succeeded = call()
        latencies.append(time.perf_counter() - start)
        successes.append(succeeded)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        list(pool.map(one, calls))
    return latencies, successes, time.perf_counter() - start


class Probe:
    """GETs /api/status in a loop; its latencies show how long the server's event loop is ever busy."""

    def __init__(self, server: Server, interval: float = 0.01) -> None:
        self.server, self.interval = server, interval
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                start = time.perf_counter()
                session.get(f"{self.server.url}/api/status", headers=self.server.headers, timeout=30)
                self.latencies.append(time.perf_counter() - start)
                self._stop.wait(self.interval)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def report(name: str, latencies: list[float], successes: list[bool], wall: float) -> str:
    return (f"| {name} | {len(successes)} | {len(successes) / wall:.1f}/s | {percentile(latencies, 0.5) * 1000:.0f} | "
            f"{percentile(latencies, 0.99) * 1000:.0f} | {successes.count(False)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--validations", type=int, default=50, help="concurrent validate calls (default 50)")
    parser.add_argument("--nodes", type=int, default=200, help="nodes of the validated pipeline (default 200)")
    parser.add_argument("--submissions", type=int, default=20, help="concurrent KFP submissions (default 20)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="elyra-proc-load-"))
    root = work / "root"
    root.mkdir()
    document = wide_pipeline(root, args.nodes)
    (root / "tiny.py").write_text("print('tiny')\n")
    rows = []
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, work, ignore_errors=True)
        # The script's clients share one token but stand for many users: let one token use every check worker.
        server = Server(root, work / "home").start("--ProcessorManager.checks_per_user=2")
        stack.callback(server.stop)
        s3 = stack.enter_context(running_s3_server())
        kfp = KfpTestServer(workdir=work / "kfp", start_delay=3600).start()  # accepted runs wait, never execute
        stack.callback(kfp.stop)
        server.call("POST", "runtime-configs", {"display_name": "load", "schema_name": "kfp", "metadata": {
            "api_endpoint": kfp.endpoint, "cos_endpoint": s3.endpoint, "cos_bucket": s3.make_bucket("load"),
            "cos_username": s3.access_key, "cos_password": s3.secret_key}})

        def validate() -> bool:
            return requests.post(f"{server.url}/pipeline/validate", data=json.dumps(document),
                                 headers=server.headers, timeout=300).ok

        def submit() -> bool:
            """Succeeds when the run was created on KFP (`submitted`), not merely answered."""
            answer = requests.post(f"{server.url}/pipeline/schedule", data=json.dumps(tiny), headers=server.headers,
                                   params={"runtime_config": "load", "wait": "true"}, timeout=300)
            return answer.ok and answer.json()["status"] == "submitted"

        tiny = pipeline_document("tiny", [node("t", "tiny.py")])
        validations, submissions = [validate] * args.validations, [submit] * args.submissions
        phases = {f"{args.validations} validations, {args.nodes} nodes": validations,
                  f"{args.submissions} KFP submissions (until `submitted`)": submissions,
                  "both at once": [call for pair in itertools.zip_longest(validations, submissions)
                                   for call in pair if call]}
        probes = []
        for name, calls in phases.items():
            with Probe(server) as probe:
                latencies, successes, wall = timed_calls(calls)
            rows.append(report(name, latencies, successes, wall))
            probes.append((name, probe.latencies))
        print(f"CPUs: {os.cpu_count()}, Python {sys.version.split()[0]}", file=sys.stderr)
        print("| Load | Requests | Throughput | p50 (ms) | p99 (ms) | Errors |")
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
        print("\nProbe GET /api/status during each load (its longest answer is the longest event-loop stall):")
        for name, samples in [*probes, ("all", [sample for _, phase in probes for sample in phase])]:
            print(f"- {name}: {len(samples)} requests, p50 {statistics.median(samples) * 1000:.1f} ms, "
                  f"p99 {percentile(samples, 0.99) * 1000:.1f} ms, longest {max(samples) * 1000:.0f} ms")
        runs = server.call("GET", "runs", limit="1000")["runs"]
        statuses = sorted({run["status"] for run in runs})
        print(f"\nRun records: {len(runs)} of {2 * args.submissions} submissions, {len({r['id'] for r in runs})} "
              f"distinct (statuses: {', '.join(statuses)})")
        for run in runs:
            if run["status"] != "submitted":
                print(f"- run {run['id']} {run['status']}: {run.get('error')}")


if __name__ == "__main__":
    main()
