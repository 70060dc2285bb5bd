"""A third-party runtime plugs in through the entry point group alone.

The `elyra-proc-echo` package in `fixtures/echo_processor` is really installed (pip, into a temporary target put on
`sys.path`), then found, run, disabled and selected by a runtime configuration like any installed processor.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from conftest import ManagerFactory
from traitlets.config import Config, LoggingConfigurable

from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.processors import RunStatus
from elyra_proc_ext.processors.registry import ENTRY_POINT_GROUP, ProcessorRegistry

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "echo_processor"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "hello_pipeline"
SOURCE = "hello_pipeline/hello_pipeline.pipeline"


@pytest.fixture(scope="module", autouse=True)
def echo_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`pip install` the echo package into a private target and make its entry point visible to this process."""
    target = tmp_path_factory.mktemp("echo_site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--disable-pip-version-check", "--target", str(target), str(FIXTURE)],
                   check=True, capture_output=True, text=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(target))  # also calls importlib.invalidate_caches()
        importlib.invalidate_caches()
        yield target
    for module in [name for name in sys.modules if name.split(".")[0] == "elyra_proc_echo"]:
        del sys.modules[module]
    importlib.invalidate_caches()


@pytest.fixture
def root(workspace: Path) -> Path:
    """The workspace holding a fresh copy of the example pipeline (conftest)."""
    return workspace


@pytest.fixture
def document(root: Path) -> dict[str, Any]:
    return json.loads((root / SOURCE).read_text())


@pytest.fixture
def manager(make_manager: ManagerFactory, root: Path) -> ProcessorManager:
    return make_manager(root)


def test_registry_lists_echo_beside_local(echo_installed: Path, root: Path) -> None:
    (entry_point,) = entry_points(group=ENTRY_POINT_GROUP, name="echo")
    assert entry_point.dist is not None and entry_point.dist.name == "elyra-proc-echo"
    assert Path(entry_point.dist.locate_file("elyra_proc_echo")).is_relative_to(echo_installed)

    registry = ProcessorRegistry(root_dir=root)
    assert {"echo", "local"} <= set(registry.names())
    echo = registry.get("echo")
    assert echo is not None
    assert echo.describe()["runtime_type"] == "ECHO"
    assert echo.needs_runtime_image() is False


async def test_pipeline_runs_on_echo(manager: ProcessorManager, document: dict[str, Any]) -> None:
    document["pipelines"][0]["app_data"]["source"] = SOURCE  # where the editor saved it; node paths are relative to it
    submission = await manager.prepare(document, relative_to_pipeline=True, runtime="echo")
    assert submission.accepted, [issue.to_json() for issue in submission.issues]
    assert submission.processor is not None and submission.processor.name == "echo"

    record = await manager.submit(submission)
    record = await manager.wait(record.id)

    assert record.status == RunStatus.SUCCEEDED, record.error
    assert record.runtime == "echo"
    assert {node.name: node.status for node in record.nodes} == dict.fromkeys(
        ["Generate data", "Summarize", "Per station", "Report"], RunStatus.SUCCEEDED)
    assert all(node.started is not None and node.finished is not None for node in record.nodes)

    echo_file = Path(record.result["echo_file"])
    assert echo_file.parent == Path(record.run_dir)
    lines = echo_file.read_text().splitlines()
    assert lines[0] == 'Generate data hello_pipeline/generate_data.py {"ROWS": "200"}'
    assert sorted(lines[1:3]) == ["Per station hello_pipeline/per_station.ipynb {}",
                                  "Summarize hello_pipeline/summarize.ipynb {}"]
    assert lines[3] == "Report hello_pipeline/report.py {}"

    stored = await manager.get(record.id)
    assert stored.result["echo_file"] == str(echo_file)


def test_disabled_runtime_is_not_offered(make_manager: ManagerFactory, root: Path, document: dict[str, Any]) -> None:
    assert "echo" not in ProcessorRegistry(root_dir=root, disabled_runtimes=["echo"]).names()

    # The way a server is configured: c.ProcessorRegistry.disabled_runtimes = ["echo"]
    parent = LoggingConfigurable(config=Config({"ProcessorRegistry": {"disabled_runtimes": ["echo"]}}))
    manager = make_manager(root, parent=parent)
    available = manager.registry.names()
    submission = manager.check(document, source=SOURCE, runtime="echo")

    assert "local" in available and "echo" not in available
    assert not submission.accepted
    assert submission.processor is None
    (issue,) = [issue for issue in submission.issues if issue.type == "invalidRuntime"]
    assert issue.value == "echo"
    assert f"(available: {', '.join(available)})" in issue.message


async def test_runtime_configuration_selects_echo(tmp_path: Path, manager: ProcessorManager,
                                                  document: dict[str, Any]) -> None:
    configs = tmp_path / "runtimes"
    configs.mkdir()
    (configs / "my-echo.json").write_text(json.dumps({"display_name": "My echo", "schema_name": "echo",
                                                      "metadata": {}}))

    submission = manager.check(document, source=SOURCE, runtime_config="my-echo")

    assert submission.accepted, [issue.to_json() for issue in submission.issues]
    assert submission.processor is not None and submission.processor.name == "echo"
    assert submission.runtime_config is not None
    assert (submission.runtime_config.name, submission.runtime_config.display_name) == ("my-echo", "My echo")

    record = await manager.wait((await manager.submit(submission)).id)
    assert (record.status, record.runtime, record.runtime_config) == (RunStatus.SUCCEEDED, "echo", "my-echo")
