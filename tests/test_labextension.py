"""The JupyterLab extension: built by the package build, installed as shared data, served by a real JupyterLab.

`pip install .` / `pip install -e .` build it (hatch-jupyter-builder runs `jlpm install` and `jlpm build:prod`)
and install it to `<prefix>/share/jupyter/labextensions/elyra-proc-ext`. These tests look at what was installed,
then start JupyterLab in-process and check that its page lists the extension and that it serves the extension's
entry point, as the browser would load it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jupyter_core.paths import jupyter_path

NAME = "elyra-proc-ext"
PROJECT = Path(__file__).resolve().parents[1]
# Read before pytest-jupyter points the Jupyter paths at temporary directories.
LABEXTENSION_DIRS = [Path(d) for d in jupyter_path("labextensions")]


def installed_extension() -> Path:
    for directory in LABEXTENSION_DIRS:
        if (directory / NAME / "package.json").is_file():
            return directory / NAME
    pytest.fail(f"{NAME} is not installed in any of {[str(d) for d in LABEXTENSION_DIRS]}: install the package "
                "with `pip install -e .` (it builds the extension; Node.js is needed).")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_built_extension_is_installed() -> None:
    extension = installed_extension()
    built = read_json(extension / "package.json")
    source = read_json(PROJECT / "package.json")
    assert (built["name"], built["version"]) == (source["name"], source["version"]) == (NAME, source["version"])
    load = built["jupyterlab"]["_build"]["load"]
    assert re.fullmatch(r"static/remoteEntry\.[0-9a-f]+\.js", load), load
    assert (extension / load).is_file()
    assert (extension / "static" / "style.js").is_file()
    assert read_json(extension / "install.json")["packageName"] == "elyra_proc_ext"


@pytest.fixture
def jp_env_jupyter_path() -> str:
    """The real `<prefix>/share/jupyter`, where the extension is installed, instead of pytest-jupyter's empty one."""
    return str(installed_extension().parents[1])


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyterlab": True}}}


def page_config(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert match, "JupyterLab's page has no page config"
    return json.loads(match.group(1))


async def test_jupyterlab_serves_the_extension(jp_fetch: Any) -> None:
    response = await jp_fetch("lab", method="GET")
    config = page_config(response.body.decode())
    entries = {entry["name"]: entry for entry in config["federated_extensions"]}
    assert NAME in entries, sorted(entries)
    assert NAME not in config.get("disabledExtensions", [])
    load = entries[NAME]["load"]
    assert load == read_json(installed_extension() / "package.json")["jupyterlab"]["_build"]["load"]

    entry_point = await jp_fetch("lab", "extensions", NAME, *load.split("/"), method="GET")
    assert entry_point.code == 200
    assert NAME in entry_point.body.decode()
