"""Shared fixtures: the pipeline corpus, a workspace holding the example pipeline, a manager, a live server and a
small real disk that fills up."""

from __future__ import annotations

import asyncio
import errno
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import LoggingConfigurable

from elyra_proc_ext.manager import ProcessorManager, create_manager

pytest_plugins = ["pytest_jupyter.jupyter_server", "s3_server", "kfp_server.fixture"]

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "examples" / "hello_pipeline"
ManagerFactory = Callable[..., ProcessorManager]
# The shared acceptance corpus of real Elyra pipelines (optional): its tests skip, with this reason, where it is absent.
CORPUS = Path(os.environ.get("ELYRA_PROC_CORPUS") or PROJECT.parent / "shared" / "pipelines")
CORPUS_MISSING = (f"pipeline corpus not found at {CORPUS}: put it at ../shared/pipelines beside the project or set "
                  "ELYRA_PROC_CORPUS to its directory")
HAS_CORPUS = (CORPUS / "valid").is_dir()
needs_corpus = pytest.mark.skipif(not HAS_CORPUS, reason=CORPUS_MISSING)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace root holding a fresh copy of the example pipeline under hello_pipeline/."""
    root = tmp_path / "workspace"
    shutil.copytree(EXAMPLE, root / "hello_pipeline", ignore=shutil.ignore_patterns("output"))
    return root


@pytest.fixture
def make_manager(tmp_path: Path, jp_asyncio_loop: asyncio.AbstractEventLoop) -> Iterator[ManagerFactory]:
    """Managers over `root` with this test's data and runtime-configuration dirs, shut down afterwards.

    Async tests run on pytest-jupyter's loop (the one its server uses), so teardown runs there too.
    """
    made: list[ProcessorManager] = []

    def make(root: Path, parent: LoggingConfigurable | None = None) -> ProcessorManager:
        made.append(create_manager(root, tmp_path / "data", tmp_path / "runtimes", parent=parent))
        return made[-1]

    yield make
    for manager in made:
        jp_asyncio_loop.run_until_complete(manager.shutdown())


@pytest.fixture
def manager(make_manager: ManagerFactory, workspace: Path) -> ProcessorManager:
    return make_manager(workspace)


def pipeline_document(name: str, nodes: list[dict[str, Any]], **properties: Any) -> dict[str, Any]:
    """A version-8 pipeline document, as Elyra's editor saves it, from short node descriptions."""
    return {
        "doc_type": "pipeline", "version": "3.0", "id": f"{name}-doc", "primary_pipeline": "primary",
        "pipelines": [{"id": "primary", "nodes": nodes, "app_data": {
            "version": 8, "name": name, "properties": {"name": name, **properties}}}],
        "schemas": [],
    }


def node(node_id: str, filename: str, parents: tuple[str, ...] = (), **parameters: Any) -> dict[str, Any]:
    """An execution node; the op follows the file's extension and parents become input links."""
    op = {".ipynb": "execute-notebook-node", ".py": "execute-python-node", ".r": "execute-r-node"}[
        Path(filename).suffix.lower()]
    parameters.setdefault("runtime_image", "python:3.11")
    return {
        "id": node_id, "type": "execution_node", "op": op,
        "app_data": {"label": node_id, "component_parameters": {"filename": filename, **parameters}},
        "inputs": [{"id": "inPort", "links": [{"id": f"{p}-{node_id}", "node_id_ref": p, "port_id_ref": "outPort"}
                                              for p in parents]}],
        "outputs": [{"id": "outPort"}],
    }


def write_notebook(path: Path, *sources: str, kernel: str = "python3") -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    notebook = new_notebook(cells=[new_code_cell(source) for source in sources])
    notebook.metadata["kernelspec"] = {"name": kernel, "display_name": kernel, "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path


async def api_call(jp_fetch: Any, method: str, *path: str, body: Any = None, **params: str) -> tuple[int, Any]:
    """One request under /pipeline/ of the test server: (status, decoded JSON or None), errors included."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    response = await jp_fetch("pipeline", *path, method=method, body=data, params=params, raise_error=False,
                              allow_nonstandard_methods=True)
    return response.code, json.loads(response.body) if response.body else None


@pytest.fixture
def document(jp_root_dir: Path) -> dict[str, Any]:
    """The example pipeline in the server root, as a client posts a file's content (with `paths=pipeline`)."""
    shutil.copytree(EXAMPLE, jp_root_dir / "hello_pipeline", ignore=shutil.ignore_patterns("output"))
    document = load_json(jp_root_dir / "hello_pipeline" / "hello_pipeline.pipeline")
    document["pipelines"][0]["app_data"]["source"] = "hello_pipeline/hello_pipeline.pipeline"
    return document


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs, so the disk really fills (ENOSPC from the kernel, SQLITE_FULL from SQLite)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)], capture_output=True,
                             text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}); the disk-full tests need one (root)")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=True)


def fill(disk: Path) -> Path:
    """Write a file until the disk holds no more; returns it, to delete when space must return."""
    filler = disk / "filler"
    with filler.open("wb", buffering=0) as file, pytest.raises(OSError) as full:
        while True:
            file.write(b"\0" * 4096)
    assert full.value.errno == errno.ENOSPC
    return filler
