"""Start-up time of `elyra-proc`: `--help`, and `validate` of the small example pipeline, each run N times.

Runs the installed console script (the `elyra-proc` beside this Python, not a shell shim such as pyenv's, which
adds its own start-up) with `subprocess.run`, in a private Jupyter data and config directory, and prints the
minimum and median wall time and the CPU time (user + system) of each command. CPU time shows the cost on a busy
machine, where wall time also counts waiting for a core. A measurement, not a test: it asserts nothing.

Python's bytecode cache is on, in the temporary directory (PYTHONPYCACHEPREFIX), as for an installed package;
`--no-bytecode-cache` measures what an environment with PYTHONDONTWRITEBYTECODE=1 and no cache pays on top
(every module compiled at every start).

    python benchmarks/cli_startup.py            # 10 runs each
    python benchmarks/cli_startup.py --runs 30
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SCRIPT = Path(sys.executable).parent / "elyra-proc"
COMMANDS = {
    "elyra-proc --help": ["--help"],
    "elyra-proc validate examples/hello_pipeline/hello_pipeline.pipeline": [
        "validate", "examples/hello_pipeline/hello_pipeline.pipeline"],
}


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds of each run; a run that fails stops the measurement (its output is shown)."""
    walls, cpus = [], []
    for _ in range(runs):
        cpu_before, start = children_cpu_seconds(), time.perf_counter()
        result = subprocess.run([str(SCRIPT), *args], cwd=PROJECT, env=env, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu_seconds() - cpu_before)
        if result.returncode != 0:
            sys.exit(f"{' '.join(args)} failed ({result.returncode}): {result.stdout}{result.stderr}")
    return walls, cpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="runs of each command (default 10)")
    parser.add_argument("--no-bytecode-cache", action="store_true", help="no .pyc files: compile every module")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cli-startup-") as private:
        env = {**os.environ, "JUPYTER_DATA_DIR": f"{private}/data", "JUPYTER_CONFIG_DIR": f"{private}/config",
               "JUPYTER_CONFIG_PATH": "", "JUPYTER_PLATFORM_DIRS": "0"}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        if options.no_bytecode_cache:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
            env["PYTHONPYCACHEPREFIX"] = f"{private}/no-pycache"  # an empty cache: nothing is read from elsewhere
        else:
            env["PYTHONPYCACHEPREFIX"] = f"{private}/pycache"
        cache = "no bytecode cache" if options.no_bytecode_cache else "bytecode cached"
        print(f"Python {platform.python_version()}, {platform.platform()}, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.2f}; {cache}; {options.runs} runs each, after one unmeasured warm-up run\n")
        print("| Command | Wall min (s) | Wall median (s) | CPU min (s) | CPU median (s) |")
        print("|---|---:|---:|---:|---:|")
        for label, args in COMMANDS.items():
            measure(args, 1, env)  # warm the file cache and __pycache__
            walls, cpus = measure(args, options.runs, env)
            print(f"| `{label}` | {min(walls):.3f} | {statistics.median(walls):.3f} | {min(cpus):.3f} | "
                  f"{statistics.median(cpus):.3f} |", flush=True)


if __name__ == "__main__":
    main()
