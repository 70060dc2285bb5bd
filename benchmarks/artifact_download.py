"""Downloading a large node artifact from a live server: the server's peak RSS growth during the download, the
throughput, and the worst `GET /api/status` latency meanwhile (the event loop must stay free).

Not a test: it prints the figures. The artifact is the log of a real finished local run, grown (sparse) to the
size asked for; everything runs on 127.0.0.1 against a real `jupyter server` process with the extension.

    python benchmarks/artifact_download.py
    python benchmarks/artifact_download.py --mib 4096
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from live_server import Server  # noqa: E402
from test_requests import MIB, download_watching_memory, finished_run_with_log  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mib", type=int, default=1024, help="artifact size in MiB (default 1024)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="artifact-bench-") as scratch:
        root = Path(scratch) / "root"
        root.mkdir()
        server = Server(root, Path(scratch) / "home").start()
        try:
            run_id, _ = finished_run_with_log(server, args.mib * MIB)
            measured = download_watching_memory(server, f"{server.url}/pipeline/runs/{run_id}/nodes/a/log")
        finally:
            server.stop()
    assert measured["received"] == args.mib * MIB, measured
    print(f"artifact {args.mib} MiB: peak server RSS growth {measured['growth'] / MIB:.1f} MiB, "
          f"{args.mib / measured['seconds']:.0f} MiB/s ({measured['seconds']:.1f} s), /api/status answered "
          f"{measured['status_answers']} times, slowest {measured['slowest_status'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()
