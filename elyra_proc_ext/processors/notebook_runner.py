"""Runs one notebook with papermill, in a node process the launcher forked (see `launcher`), or on its own:

`python -m elyra_proc_ext.processors.notebook_runner SOURCE EXECUTED [--default-kernel NAME]`
The kernel is the one named in the notebook's metadata when it is installed here, else the default. On failure
the last line printed says which cell raised what, and EXECUTED still holds the notebook with its outputs.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path


def choose_kernel(notebook: Path, default: str) -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    wanted = json.loads(notebook.read_text(encoding="utf-8")).get("metadata", {}).get("kernelspec", {}).get("name")
    if not wanted:
        return default
    try:
        KernelSpecManager().get_kernel_spec(wanted)
        return wanted
    except NoSuchKernel:
        print(f"Kernel '{wanted}' is not installed here; using '{default}'.", flush=True)
        return default


def run_notebook(source: str | Path, executed: str | Path, default_kernel: str) -> int:
    """Execute `source` into `executed`; the exit code for the node (0 when every cell ran)."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)
    source = Path(source)
    kernel = choose_kernel(source, default_kernel)
    try:
        papermill.execute_notebook(str(source), str(executed), kernel_name=kernel, cwd=str(source.parent),
                                   log_output=True, progress_bar=False)
    except PapermillExecutionError as error:
        print(f"Error in cell {error.exec_count}: {error.ename}: {error.evalue}", flush=True)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("executed", type=Path)
    parser.add_argument("--default-kernel", default="python3")
    args = parser.parse_args(argv)
    return run_notebook(args.source, args.executed, args.default_kernel)


if __name__ == "__main__":
    sys.exit(main())
