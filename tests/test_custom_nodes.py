"""Custom-component nodes in Kubeflow Pipelines pipelines: parsed with their catalog components and saved values,
and checked with Elyra's issue types, the same way in the manager, through the server's worker processes and in
`elyra-proc validate`. The components are the project's fixtures (tests/fixtures/components), in a catalog created
in a temporary Jupyter data dir."""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call, load_json
from test_cli import cli, private_env

from elyra_proc_ext.catalogs import ComponentCatalogs
from elyra_proc_ext.manager import ProcessorManager, create_manager
from elyra_proc_ext.model import ComponentValue

FIXTURES = Path(__file__).resolve().parent / "fixtures"
COMPONENTS = FIXTURES / "components"
PIPELINE = FIXTURES / "custom_components" / "custom_components.pipeline"
ECHO, COUNT = "local-file-catalog:eb4dbc2aaca9", "local-file-catalog:c7f34e67d454"
CONFIG = {"name": "kfp-test", "display_name": "KFP test", "schema_name": "kfp", "metadata": {
    "api_endpoint": "http://127.0.0.1:1/pipeline", "cos_endpoint": "http://127.0.0.1:1", "cos_bucket": "bucket",
    "cos_auth_type": "USER_CREDENTIALS", "cos_username": "user", "cos_password": "password"}}
Edit = Callable[[dict[str, dict[str, Any]]], None]


def add_fixture_catalog(jupyter_data_dir: Path) -> dict[str, Any]:
    """The fixture components as a local-file catalog, where Elyra keeps catalogs in `jupyter_data_dir`."""
    catalogs = ComponentCatalogs(jupyter_data_dir / "metadata" / "component-catalogs",
                                 jupyter_data_dir / "elyra_proc_ext")
    return catalogs.save({"name": "fixtures", "display_name": "Fixtures", "schema_name": "local-file-catalog",
                          "metadata": {"base_path": str(COMPONENTS), "paths": ["echo_text.yaml", "count_lines.yaml"]}})


def kfp_manager(root: Path, jupyter_data_dir: Path) -> ProcessorManager:
    """A manager over `root` seeing the catalogs and runtime configurations of `jupyter_data_dir`, with a KFP
    runtime configuration (checks never connect to it)."""
    manager = create_manager(root, jupyter_data_dir / "elyra_proc_ext", jupyter_data_dir / "metadata" / "runtimes",
                             catalogs_dir=jupyter_data_dir / "metadata" / "component-catalogs")
    manager.save_runtime_config(CONFIG)
    return manager


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    shutil.copytree(PIPELINE.parent, root)
    return root


@pytest.fixture
def checker(root: Path, tmp_path: Path) -> ProcessorManager:
    add_fixture_catalog(tmp_path / "jupyter")
    return kfp_manager(root, tmp_path / "jupyter")


def edited(edit: Edit) -> dict[str, Any]:
    """The fixture pipeline with `edit` applied to its nodes (by id)."""
    document = copy.deepcopy(load_json(PIPELINE))
    edit({node["id"]: node for node in document["pipelines"][0]["nodes"]})
    return document


def params(node: dict[str, Any]) -> dict[str, Any]:
    return node["app_data"]["component_parameters"]


def test_custom_nodes_carry_their_component_and_saved_values(checker: ProcessorManager) -> None:
    submission = checker.check(load_json(PIPELINE), source=PIPELINE.name, runtime_config="kfp-test")
    assert submission.accepted, [issue.to_json() for issue in submission.issues]
    nodes = submission.pipeline.nodes
    assert (nodes["echo"].kind, nodes["echo"].component.op, nodes["echo"].component.catalog) == ("custom", ECHO,
                                                                                               "fixtures")
    assert nodes["count"].component.spec.name == "Count lines" and nodes["prepare"].component is None
    assert nodes["echo"].component_values["times"] == ComponentValue("number", 2)
    assert nodes["count"].component_values["dataset"] == ComponentValue(
        "inputpath", {"value": "echo", "option": "elyra_output_echoed_text"}, "echo", "output_echoed_text")


def unlink_count(nodes: dict[str, dict[str, Any]]) -> None:
    nodes["count"]["inputs"][0]["links"] = []


def link_count_to_prepare(nodes: dict[str, dict[str, Any]]) -> None:
    nodes["count"]["inputs"][0]["links"][0]["node_id_ref"] = "prepare"


@pytest.mark.parametrize(("edit", "node_id", "field", "says"), [
    (unlink_count, "count", "dataset", "node 'Echo' is not upstream of it"),
    (link_count_to_prepare, "count", "dataset", "node 'Echo' is not upstream of it"),
    (lambda nodes: params(nodes["count"])["dataset"]["value"].pop("option"), "count", "dataset", "malformed"),
    (lambda nodes: params(nodes["count"])["dataset"]["value"].update(value="gone"), "count", "dataset",
     "node 'gone' does not exist"),
    (lambda nodes: params(nodes["count"])["dataset"]["value"].update(option="elyra_output_nope"), "count",
     "dataset", "has no output 'output_nope' (its outputs: output_echoed_text)"),
    (lambda nodes: params(nodes["echo"]).pop("text"), "echo", "text", "input 'Text' of component 'Echo text' is "
     "required but has no value"),
    (lambda nodes: params(nodes["echo"]).update(text={}), "echo", "text", "required but has no value"),
    (lambda nodes: params(nodes["count"]).update(minimum={"widget": "number", "value": "many"}), "count",
     "minimum", "input 'minimum' (Integer) takes a number; 'many' is not one"),
    (lambda nodes: params(nodes["count"]).update(strict={"widget": "boolean", "value": 3}), "count", "strict",
     "takes true or false"),
    (lambda nodes: params(nodes["echo"]).update(greeting={"widget": "string", "value": ["a"]}), "echo",
     "greeting", "takes text"),
    (lambda nodes: params(nodes["echo"]).update(colour={"widget": "string", "value": "red"}), "echo", "colour",
     "component 'Echo text' has no input 'colour' (its inputs: text, greeting, times)"),
])
def test_each_misfit_is_refused_naming_node_and_input(checker: ProcessorManager, edit: Edit, node_id: str,
                                                      field: str, says: str) -> None:
    submission = checker.check(edited(edit), source=PIPELINE.name, runtime_config="kfp-test")
    fatal = [issue for issue in submission.issues if issue.fatal]
    assert [(issue.type, issue.node_id, issue.property_name) for issue in fatal] == [
        ("invalidNodeProperty", node_id, field)]
    assert says in fatal[0].message and f"Node '{fatal[0].node_name}'" in fatal[0].message


def test_values_read_as_their_type_and_empty_optional_inputs_pass(checker: ProcessorManager) -> None:
    def edit(nodes: dict[str, dict[str, Any]]) -> None:
        params(nodes["count"]).update(minimum={"widget": "string", "value": "7"}, strict="true",
                                      ratio={"widget": "number", "value": ""}, options={})
        params(nodes["echo"]).pop("times")

    submission = checker.check(edited(edit), source=PIPELINE.name, runtime_config="kfp-test")
    assert submission.accepted, [issue.to_json() for issue in submission.issues]


def test_inputs_take_pipeline_parameters_the_pipeline_defines(checker: ProcessorManager) -> None:
    def edit(nodes: dict[str, dict[str, Any]]) -> None:
        params(nodes["echo"])["greeting"] = {"widget": "parameter", "value": "who"}

    document = edited(edit)
    issues = [i for i in checker.check(document, runtime_config="kfp-test").issues if i.fatal]
    assert [(i.type, i.node_id, i.property_name) for i in issues] == [("invalidPipelineParameter", "echo", "greeting")]
    assert "input 'Greeting' takes pipeline parameter 'who', which the pipeline does not define" in issues[0].message
    document["pipelines"][0]["app_data"]["properties"]["pipeline_parameters"] = [
        {"name": "who", "default_value": {"type": "String", "value": "world"}}]
    submission = checker.check(document, runtime_config="kfp-test")
    assert submission.accepted, [issue.to_json() for issue in submission.issues]


def test_unknown_component_names_the_op_and_the_catalogs_searched(checker: ProcessorManager, root: Path,
                                                                   tmp_path: Path) -> None:
    def edit(nodes: dict[str, dict[str, Any]]) -> None:
        nodes["echo"]["op"] = "local-file-catalog:000000000000"

    (issue,) = [i for i in checker.check(edited(edit), runtime_config="kfp-test").issues if i.fatal]
    assert (issue.type, issue.node_id, issue.property_name, issue.value) == (
        "invalidNodeType", "echo", "op", "local-file-catalog:000000000000")
    assert "uses component 'local-file-catalog:000000000000'" in issue.message
    assert "catalogs searched: 'fixtures'" in issue.message
    without_catalogs = kfp_manager(root, tmp_path / "bare")
    issues = [i for i in without_catalogs.check(load_json(PIPELINE), runtime_config="kfp-test").issues if i.fatal]
    assert [(i.type, i.node_id) for i in issues] == [("invalidNodeType", "echo"), ("invalidNodeType", "count")]
    assert "catalogs searched: none, as no catalog is configured" in issues[0].message


def test_the_local_runtime_still_refuses_custom_nodes(checker: ProcessorManager) -> None:
    issues = [i for i in checker.check(load_json(PIPELINE), runtime="local").issues if i.fatal]
    assert [(i.type, i.node_id) for i in issues] == [("invalidNodeType", "echo"), ("invalidNodeType", "count")]
    assert "runtime-specific component" in issues[0].message


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


async def test_server_checks_custom_nodes_in_its_workers(jp_fetch: Any, jp_root_dir: Path) -> None:
    """Catalog and configuration made through the REST API; checks run in the worker processes, which find the
    components in the same cache; refusals are 400s naming node and input; compiling is refused, honestly."""
    shutil.copytree(PIPELINE.parent, jp_root_dir, dirs_exist_ok=True)
    code, catalog = await api_call(jp_fetch, "POST", "catalogs", body={
        "display_name": "Fixtures", "schema_name": "local-file-catalog",
        "metadata": {"base_path": str(COMPONENTS), "paths": ["echo_text.yaml", "count_lines.yaml"]}})
    assert code == 201 and catalog["component_count"] == 2
    code, _ = await api_call(jp_fetch, "POST", "runtime-configs", body=CONFIG)
    assert code == 201
    code, answer = await api_call(jp_fetch, "POST", "validate", body=load_json(PIPELINE), runtime_config="kfp-test")
    assert code == 200 and answer["valid"], answer["issues"]

    code, error = await api_call(jp_fetch, "POST", "schedule", body=edited(unlink_count), runtime_config="kfp-test")
    assert code == 400
    (issue,) = [issue for issue in error["issues"] if issue["severity"] == 1]
    assert issue["type"] == "invalidNodeProperty" and issue["data"]["nodeID"] == "count"
    assert issue["data"]["propertyName"] == "dataset" and "Node 'Count'" in issue["message"]

    code, error = await api_call(jp_fetch, "POST", "export", runtime_config="kfp-test", body={
        "pipeline": load_json(PIPELINE), "export_format": "yaml", "export_path": "out.yaml", "overwrite": False})
    assert code == 400 and "cannot be compiled for Kubeflow Pipelines yet" in error["message"]
    assert "'Echo' (local-file-catalog:eb4dbc2aaca9)" in error["message"]
    assert not (jp_root_dir / "out.yaml").exists()
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=load_json(PIPELINE), runtime_config="kfp-test",
                                  wait="true")
    assert code == 200 and answer["status"] == "failed"
    assert "cannot be compiled for Kubeflow Pipelines yet" in answer["run"]["error"]


def test_cli_validate_uses_the_same_catalogs(tmp_path: Path, root: Path) -> None:
    env = private_env(tmp_path)
    jupyter_data_dir = Path(env["JUPYTER_DATA_DIR"])
    add_fixture_catalog(jupyter_data_dir)
    kfp_manager(root, jupyter_data_dir)
    good = cli(env, root, "validate", PIPELINE.name, "--runtime-config", "kfp-test")
    assert good.returncode == 0, good.stdout + good.stderr
    (root / "bad.pipeline").write_text(json.dumps(edited(unlink_count)))
    bad = cli(env, root, "validate", "bad.pipeline", "--runtime-config", "kfp-test")
    assert bad.returncode == 1 and "error: invalidNodeProperty [node Count] (dataset)" in bad.stdout
    answer = json.loads(cli(env, root, "validate", "bad.pipeline", "--runtime-config", "kfp-test", "--json").stdout)
    issues = [issue for issue in answer["issues"] if issue["severity"] == 1]
    assert answer["valid"] is False and [(i["type"], i["data"]["nodeID"], i["data"]["propertyName"])
                                         for i in issues] == [("invalidNodeProperty", "count", "dataset")]
