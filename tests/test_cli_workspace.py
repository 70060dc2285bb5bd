"""`elyra-proc`'s default workspace root on real layouts: a pipeline in `pipelines/` whose nodes use
`../notebooks/...`, run from the project, from inside `pipelines/` and from elsewhere; `--root` pins it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import node, pipeline_document, write_notebook
from test_cli import cli, private_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return private_env(tmp_path)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """project/pipelines/flow.pipeline: a notebook in ../notebooks/ with a dependency beside it, then a script."""
    root = tmp_path / "project"
    write_notebook(root / "notebooks" / "explore.ipynb", "import helper\nprint('rows', helper.ROWS)")
    (root / "notebooks" / "helper.py").write_text("ROWS = 7\n")
    (root / "pipelines").mkdir()
    (root / "pipelines" / "report.py").write_text("print('report done')\n")
    write_flow(root, "../notebooks/explore.ipynb")
    return root


def write_flow(project: Path, notebook: str) -> Path:
    document = pipeline_document("flow", [node("explore", notebook, dependencies=["helper.py"]),
                                          node("report", "report.py", ("explore",))])
    path = project / "pipelines" / "flow.pipeline"
    path.write_text(json.dumps(document))
    return path


def source_of_last_run(env: dict[str, str], cwd: Path) -> str:
    [record] = json.loads(cli(env, cwd, "runs", "--json", "--limit", "1").stdout)
    return record["source"]


def test_run_from_the_project_uses_it_as_root_silently(env: dict[str, str], project: Path) -> None:
    result = cli(env, project, "run", "pipelines/flow.pipeline")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert any(line.startswith("Run ") and " succeeded in " in line for line in result.stdout.splitlines())
    assert source_of_last_run(env, project) == "pipelines/flow.pipeline"


def test_run_from_inside_pipelines_chooses_the_project_and_says_so(env: dict[str, str], project: Path) -> None:
    result = cli(env, project / "pipelines", "run", "flow.pipeline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.splitlines() == [f"elyra-proc: workspace root {project} (it holds flow.pipeline and the "
                                          "files its nodes reference; --root pins another)"]
    assert source_of_last_run(env, project) == "pipelines/flow.pipeline"
    elsewhere = project.parent / "elsewhere"
    elsewhere.mkdir()
    validated = cli(env, elsewhere, "validate", "../project/pipelines/flow.pipeline")
    assert validated.returncode == 0 and f"workspace root {project} " in validated.stderr


def test_root_option_pins_the_root(env: dict[str, str], project: Path) -> None:
    pinned = cli(env, project / "pipelines", "validate", "flow.pipeline", "--root", ".")
    assert pinned.returncode == 1 and pinned.stderr == ""
    assert "file '../notebooks/explore.ipynb' is outside the workspace root" in pinned.stdout


def test_a_missing_file_says_where_paths_are_read_from(env: dict[str, str], project: Path) -> None:
    write_flow(project, "../notebooks/exploer.ipynb")
    result = cli(env, project, "validate", "pipelines/flow.pipeline")
    assert result.returncode == 1
    assert ("file 'notebooks/exploer.ipynb' does not exist. The pipeline's paths are read relative to the pipeline "
            "file's folder, 'pipelines/' (shown here from the workspace root): correct the node's path or create the "
            "file.") in result.stdout


@pytest.mark.parametrize("reference", ["/etc/explore.ipynb", "../" * 40 + "explore.ipynb"])
def test_a_reference_outside_any_sensible_root_is_refused(env: dict[str, str], project: Path, reference: str) -> None:
    write_flow(project, reference)
    result = cli(env, project / "pipelines", "run", "flow.pipeline")
    assert result.returncode == 1 and result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"elyra-proc: node 'explore' references '{reference}'")
    assert "--root" in line
