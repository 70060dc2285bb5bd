"""Figures for the pipeline editor on large pipelines, in a real JupyterLab and Debian's Chromium (headless).

For pipelines of 100, 500 and 2,000 notebook and script nodes (labels, files, a few environment variables, links
forming a layered DAG, positions saved in `app_data.ui_data` as Elyra saves them) and a 500-node copy without
positions (the editor lays it out with dagre), it measures in a freshly loaded JupyterLab, after a small pipeline
was opened once (a warm editor):

- open: from `docmanager:open` until the canvas is still (nodes visible; the number of drawn nodes and the canvas
  transform unchanged between two frames), with the long tasks and Chromium's script/layout/style time;
- the nodes drawn (React Flow draws only those in view above 200 nodes) at the zoom it opened with and at ~100 %;
- panning: the empty canvas dragged 400 px and back in 60 mouse steps, frame times from requestAnimationFrame:
  frames, median, 95th percentile, frames over 16.7 ms (at least one 60 Hz frame dropped; counted as > 20 ms, as
  frame times come in whole 16.7 ms intervals with jitter) and over 33 ms (> 36.7 ms); at both zooms;
- select: from the mouse press on a node until it is drawn selected; move: from releasing a dragged node until
  the document model holds the edit, plus one frame.

With `--elyra-venv DIR` (a virtualenv with `elyra-pipeline-editor-extension` and JupyterLab, never the project's
environment) the same files are opened in Elyra's editor on a second server. This is a measurement, not a test:
it asserts nothing about the figures. The browser half is `editor_scale.cjs` (playwright-core from
ui-tests/node_modules: run `npm ci` in ui-tests/ once; no browser is downloaded).

    python benchmarks/editor_scale.py                        # our editor: 100, 500, 2,000 and 500 unplaced
    python benchmarks/editor_scale.py --sizes 500 --unplaced  # fewer files
    python benchmarks/editor_scale.py --elyra-venv /tmp/elyra-venv --elyra-sizes 500 2000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "ui-tests"))

from servers import JupyterLab  # noqa: E402  (ui-tests/ on sys.path first)

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DRIVER = HERE / "editor_scale.cjs"
ROWS = 10  # nodes per layer of the DAG
LAYER_SPACING, ROW_SPACING = 300, 120
SHARED_FILES = 20  # notebooks and scripts the nodes run, shared as in real large pipelines
NOTEBOOK = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
                       "source": "x = 1"}],
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
            "nbformat": 4, "nbformat_minor": 5}


def node_document(index: int, node_id: str, parents: list[str], placed: bool) -> dict[str, Any]:
    """One node as Elyra writes it: a notebook (every third) or a script, with env vars and its position."""
    notebook = index % 3 == 0
    filename = f"steps/step_{index % SHARED_FILES}.{'ipynb' if notebook else 'py'}"
    label = f"{'Analyse' if notebook else 'Prepare'} part {index}"
    ui_data: dict[str, Any] = {"label": label, "image": "", "x_pos": (index // ROWS) * LAYER_SPACING,
                               "y_pos": (index % ROWS) * ROW_SPACING}
    if not placed:
        del ui_data["x_pos"], ui_data["y_pos"]
    return {
        "id": node_id, "type": "execution_node", "op": "execute-notebook-node" if notebook else "execute-python-node",
        "app_data": {
            "label": label,
            "component_parameters": {
                "filename": filename, "runtime_image": "quay.io/jupyter/scipy-notebook:2024-05-27",
                "env_vars": [{"env_var": "PART", "value": str(index)}, {"env_var": "MODE", "value": "full"},
                             {"env_var": "SEED", "value": str(index * 7 % 101)}],
                "dependencies": [], "include_subdirectories": False, "outputs": [],
            },
            "ui_data": ui_data,
        },
        "inputs": [{"id": "inPort", "app_data": {"ui_data": {"cardinality": {"min": 0, "max": -1},
                                                             "label": "Input Port"}},
                    "links": [{"id": f"{parent}-{node_id}", "node_id_ref": parent, "port_id_ref": "outPort"}
                              for parent in parents]}],
        "outputs": [{"id": "outPort", "app_data": {"ui_data": {"cardinality": {"min": 0, "max": -1},
                                                               "label": "Output Port"}}}],
    }


def layered_pipeline(size: int, placed: bool, seed: int = 10) -> dict[str, Any]:
    """`size` nodes in layers of ten; each node after the first layer depends on one or two of the layer before
    (and now and then one two layers back)."""
    rng = random.Random(seed)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(size)]
    nodes = []
    for index, node_id in enumerate(ids):
        layer = index // ROWS
        parents: list[str] = []
        if layer:
            previous = ids[(layer - 1) * ROWS:layer * ROWS]
            parents = rng.sample(previous, rng.choice((1, 1, 2)))
            if layer > 1 and rng.random() < 0.1:
                parents.append(ids[(layer - 2) * ROWS + rng.randrange(ROWS)])
        nodes.append(node_document(index, node_id, parents, placed))
    name = f"scale_{size}{'' if placed else '_unplaced'}"
    return {
        "doc_type": "pipeline", "version": "3.0",
        "json_schema": "http://api.dataplatform.ibm.com/schemas/common-pipeline/pipeline-flow/"
                       "pipeline-flow-v3-schema.json",
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "primary_pipeline": "primary",
        "pipelines": [{"id": "primary", "nodes": nodes, "runtime_ref": "", "app_data": {
            "version": 8, "ui_data": {"comments": []},
            "properties": {"name": name, "runtime": "Generic", "pipeline_defaults": {
                "runtime_image": "quay.io/jupyter/scipy-notebook:2024-05-27"}}}}],
        "schemas": [],
    }


def make_workspace(root: Path, sizes: list[int], unplaced: list[int]) -> list[dict[str, Any]]:
    """The pipelines and the files their nodes run; the warm-up pipeline is the first entry."""
    steps = root / "steps"
    steps.mkdir()
    for index in range(SHARED_FILES):
        (steps / f"step_{index}.py").write_text(f"print('step {index}')\n", encoding="utf-8")
        (steps / f"step_{index}.ipynb").write_text(json.dumps(NOTEBOOK), encoding="utf-8")
    files = [{"path": "warmup.pipeline", "nodes": 12, "placed": True}]
    files += [{"path": f"scale_{size}.pipeline", "nodes": size, "placed": True} for size in sizes]
    files += [{"path": f"scale_{size}_unplaced.pipeline", "nodes": size, "placed": False} for size in unplaced]
    for file in files:
        document = layered_pipeline(file["nodes"], file["placed"])
        (root / file["path"]).write_text(json.dumps(document, indent=2), encoding="utf-8")
    return files


class BenchLab(JupyterLab):
    """JupyterLab whose app object is reachable from the page (`window.jupyterapp`), with this Python or another."""

    def __init__(self, work: Path, root: Path, python: str | None = None) -> None:
        super().__init__(work, root)
        self.python = python
        if python:
            self.probe_path = "/api/status"  # our extension is not there to answer

    def command(self) -> list[str]:
        command = [*super().command(), "--LabApp.expose_app_in_browser=True"]
        if self.python:
            command = [self.python] + [arg for arg in command[1:] if not arg.startswith("--ServerApp.jpserver_")]
        return command


def run_browser(lab: JupyterLab, editor: str, factory: str | None, files: list[dict[str, Any]],
                timeout: float) -> list[dict]:
    """Measure `files[1:]` in one editor (`files[0]` warms it up); one dict of figures per file."""
    options = {"url": lab.url, "token": lab.token, "chromium": CHROMIUM, "editor": editor, "factory": factory,
               "warmup": files[0]["path"], "files": files[1:], "timeout_s": timeout}
    answer = subprocess.run(["node", str(DRIVER), json.dumps(options)], stdout=subprocess.PIPE, text=True,
                            check=False)
    results = [json.loads(line) for line in answer.stdout.splitlines() if line.startswith("{")]
    if answer.returncode:
        print(f"editor_scale.cjs exited with {answer.returncode}", file=sys.stderr)
    return results


def measure(work: Path, root: Path, name: str, editor: str, factory: str | None, files: list[dict[str, Any]],
            repeat: int, timeout: float, python: str | None = None) -> list[dict[str, Any]]:
    (work / name).mkdir()
    lab = BenchLab(work / name, root, python)
    print(f"starting {name} JupyterLab…", file=sys.stderr)
    lab.start()
    try:
        runs = [run_browser(lab, editor, factory, files, timeout) for _ in range(repeat)]
    finally:
        lab.stop()
    measured = [[run[index] for run in runs if index < len(run)] for index in range(len(files) - 1)]
    return [median_run(found) if found else {**file, "file": file["path"], "editor": editor, "error": "no figures"}
            for file, found in zip(files[1:], measured, strict=True)]


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The repeat with the median open time (its other figures kept together with it)."""
    done = sorted((run for run in runs if "open_ms" in run), key=lambda run: run["open_ms"])
    return done[(len(done) - 1) // 2] if done else runs[0]


def cell(value: Any, digits: int = 0) -> str:
    return "-" if value is None or value != value else f"{value:,.{digits}f}"


def pan_cell(figures: dict[str, Any] | None) -> str:
    if not figures or "frames" not in figures:
        return (figures or {}).get("error", "-")
    return (f"{cell(figures['median_ms'], 1)} / {cell(figures['p95_ms'], 1)}; "
            f"{figures['over_16_7']} / {figures['over_33']} of {figures['frames']}")


def table(rows: list[dict[str, Any]]) -> str:
    """The figures as Markdown: one row per editor and file, then where the opening time went."""
    lines = ["| Editor | Nodes | Positions | Open (ms) | Longest task (ms) | Drawn at open (zoom) "
             "| Pan at open: median / p95 ms; frames > 16.7 / > 33 ms of all | Drawn at ~100 % "
             "| Pan at ~100 % | Select (ms) | Move applied (ms) |", "|" + "---|" * 11]
    costs = ["| Editor | Nodes | Positions | File loaded (ms) | Script / layout / style while opening (s) "
             "| DOM elements | JS heap (MB) |", "|" + "---|" * 7]
    for row in rows:
        name = "ours" if row["editor"] == "ours" else "Elyra"
        where = "saved" if row["placed"] else "dagre"
        if "open_ms" not in row:
            lines.append(f"| {name} | {row['nodes']:,} | {where} | {row.get('error', 'failed')} |" + " |" * 7)
            continue
        lines.append(
            f"| {name} | {row['nodes']:,} | {where} | {cell(row['open_ms'])} | {cell(row['longest_task_ms'])} "
            f"| {row['drawn_at_open']} ({cell(row['scale_at_open'], 2)}) | {pan_cell(row.get('pan_fit'))} "
            f"| {row.get('drawn_zoomed', '-')} ({cell(row.get('scale_zoomed'), 2)}) "
            f"| {pan_cell(row.get('pan_zoomed'))} "
            f"| {cell(row.get('select_ms'))} | {cell(row.get('move_ms'))} |")
        costs.append(
            f"| {name} | {row['nodes']:,} | {where} | {cell(row['load_ms'])} | {cell(row['script_s'], 2)} / "
            f"{cell(row['layout_s'], 2)} / {cell(row['style_s'], 2)} | {row['dom_elements']:,} "
            f"| {cell(row['heap_mb'])} |")
    return "\n".join(lines) + "\n\n" + "\n".join(costs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000], help="nodes (saved positions)")
    parser.add_argument("--unplaced", type=int, nargs="*", default=[500], help="nodes (no positions: dagre)")
    parser.add_argument("--repeat", type=int, default=1, help="browser runs per editor; the median open is shown")
    parser.add_argument("--elyra-venv", type=Path, help="a virtualenv with Elyra's pipeline editor and JupyterLab")
    parser.add_argument("--elyra-sizes", type=int, nargs="*", default=[500, 2000], help="files opened in Elyra")
    parser.add_argument("--timeout", type=float, default=180, help="seconds to wait for a page, an open, a click")
    parser.add_argument("--skip-ours", action="store_true", help="only Elyra's editor")
    parser.add_argument("--json", type=Path, help="also write every figure to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, workspace)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="elyra-proc-editor-scale-"))
    root = work / "workspace"
    root.mkdir()
    rows: list[dict[str, Any]] = []
    try:
        files = make_workspace(root, sorted(set(args.sizes) | set(args.elyra_sizes)), args.unplaced)
        ours = [files[0]] + [f for f in files[1:] if f["nodes"] in args.sizes or not f["placed"]]
        if not args.skip_ours:
            rows += measure(work, root, "ours", "ours", "elyra-proc-pipeline-editor", ours, args.repeat, args.timeout)
        if args.elyra_venv:
            os.environ["IBM_TELEMETRY_DISABLED"] = "true"
            elyra = [files[0]] + [f for f in files[1:] if f["placed"] and f["nodes"] in args.elyra_sizes]
            rows += measure(work, root, "elyra", "elyra", None, elyra, args.repeat, args.timeout,
                            python=str(args.elyra_venv / "bin" / "python"))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2), encoding="utf-8")
    print(f"CPUs: {os.cpu_count()}; Chromium: {CHROMIUM} (headless, --disable-gpu); viewport 1440x900; "
          f"median of {args.repeat} run(s) by open time")
    print(table(rows))
    for row in rows:
        if "error" in row or "page_errors" in row:
            print(f"{row['editor']} {row['file']}: {row.get('error', '')} {row.get('page_errors', '')}")


if __name__ == "__main__":
    main()
