"""Load on a live server: concurrent validations of a 200-node pipeline and concurrent KFP submissions, while a
probe measures `GET /api/status` latency (its worst latency is the longest event-loop stall).

Not a test: it prints throughput, p50/p99 latency, errors and the probe's figures. Everything runs on 127.0.0.1:
a real `jupyter server` process with the extension, the KFP API test server (tests/kfp_server, a stand-in for
Kubeflow Pipelines; it does not execute the submitted runs here) and moto_server for object storage.

    python benchmarks/load.py
    python benchmarks/load.py --validations 100 --submissions 40
"""

from __future__ import annotations

import argparse
import contextlib
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


def timed_calls(calls: list[Callable[[], int]], workers: int) -> tuple[list[float], list[int], float]:
    """Run the calls from `workers` threads at once; latencies, status codes and wall time."""
    latencies: list[float] = []
    codes: list[int] = []

    def one(call: Callable[[], int]) -> None:
        start = time.perf_counter()
        code = call()
        latencies.append(time.perf_counter() - start)
        codes.append(code)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, calls))
    return latencies, codes, time.perf_counter() - start


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


def report(name: str, latencies: list[float], codes: list[int], wall: float) -> str:
    errors = sum(code >= 400 for code in codes)
    return (f"| {name} | {len(codes)} | {len(codes) / wall:.1f}/s | {percentile(latencies, 0.5) * 1000:.0f} | "
            f"{percentile(latencies, 0.99) * 1000:.0f} | {errors} |")


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
        server = Server(root, work / "home").start()
        stack.callback(server.stop)
        s3 = stack.enter_context(running_s3_server())
        kfp = KfpTestServer(workdir=work / "kfp", start_delay=3600).start()  # accepted runs wait, never execute
        stack.callback(kfp.stop)
        server.call("POST", "runtime-configs", {"display_name": "load", "schema_name": "kfp", "metadata": {
            "api_endpoint": kfp.endpoint, "cos_endpoint": s3.endpoint, "cos_bucket": s3.make_bucket("load"),
            "cos_username": s3.access_key, "cos_password": s3.secret_key}})

        def post(path: str, body: Any, **params: str) -> int:
            return requests.post(f"{server.url}/pipeline/{path}", data=json.dumps(body), params=params,
                                 headers=server.headers, timeout=300).status_code

        with Probe(server) as probe:
            latencies, codes, wall = timed_calls([lambda: post("validate", document)] * args.validations,
                                                 args.validations)
            rows.append(report(f"validate, {args.nodes} nodes", latencies, codes, wall))
            tiny = pipeline_document("tiny", [node("t", "tiny.py")])
            latencies, codes, wall = timed_calls(
                [lambda: post("schedule", tiny, runtime_config="load", wait="true")] * args.submissions,
                args.submissions)
            rows.append(report("KFP submission (wait for submitted)", latencies, codes, wall))
        stall = max(probe.latencies)
        print(f"CPUs: {os.cpu_count()}, Python {sys.version.split()[0]}", file=sys.stderr)
        print("| Load | Requests | Throughput | p50 (ms) | p99 (ms) | Errors |")
        print("|---|---:|---:|---:|---:|---:|")
        print("\n".join(rows))
        p50, p99 = statistics.median(probe.latencies) * 1000, percentile(probe.latencies, 0.99) * 1000
        print(f"\nProbe GET /api/status during the load: {len(probe.latencies)} requests, p50 {p50:.1f} ms, "
              f"p99 {p99:.1f} ms, longest (event-loop stall) {stall * 1000:.0f} ms.")
        runs = server.call("GET", "runs", limit="1000")["runs"]
        statuses = sorted({run["status"] for run in runs})
        print(f"Run records: {len(runs)} (statuses: {', '.join(statuses)})")


if __name__ == "__main__":
    main()
