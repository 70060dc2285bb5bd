"""Catalog components in the pipeline editor, on a real in-process Jupyter server: their palette entries (Kubeflow
Pipelines pipelines only) and their property forms, derived from the component specs in the catalogs' cache. The
forms are checked against the values the editor saves: the project's fixture pipeline and a real corpus pipeline."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, CORPUS_MISSING, HAS_CORPUS, api_call, load_json
from jsonschema import Draft7Validator
from test_custom_nodes import COMPONENTS, COUNT, ECHO, PIPELINE
from test_editor_routes import PALETTE

from elyra_proc_ext.catalogs import ComponentCatalogs
from elyra_proc_ext.catalogs.examples import ElyraExamplesConnector
from elyra_proc_ext.properties import POD_PROPERTIES

KFP = {"runtime_type": "KUBEFLOW_PIPELINES"}
FIXTURE_CATALOG = {"name": "fixtures", "display_name": "Fixtures", "schema_name": "local-file-catalog",
                   "metadata": {"base_path": str(COMPONENTS), "paths": ["echo_text.yaml", "count_lines.yaml"],
                                "categories": ["Text", "Counting"]}}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


def save_catalog(jupyter_data_dir: Path, body: dict[str, Any]) -> dict[str, Any]:
    """A catalog created and read where the server finds catalogs and their cache (Elyra's place)."""
    catalogs = ComponentCatalogs(jupyter_data_dir / "metadata" / "component-catalogs",
                                 jupyter_data_dir / "elyra_proc_ext")
    return catalogs.save(body)


@pytest.fixture
def fixture_catalog(jp_data_dir: Path) -> dict[str, Any]:
    catalog = save_catalog(jp_data_dir, FIXTURE_CATALOG)
    assert catalog["component_count"] == 2, catalog
    return catalog


def fixture_node(node_id: str) -> dict[str, Any]:
    (node,) = [node for node in load_json(PIPELINE)["pipelines"][0]["nodes"] if node["id"] == node_id]
    return node


def form_errors(form: dict[str, Any], app_data: dict[str, Any]) -> list[str]:
    """What the form's schema finds wrong in a node's saved `app_data` (label and component parameters)."""
    saved = {"label": app_data.get("label") or "", "component_parameters": app_data["component_parameters"]}
    return [f"{'/'.join(map(str, error.path))}: {error.message}" for error in Draft7Validator(form["schema"])
            .iter_errors(saved)]


async def test_kfp_palettes_list_the_cached_components_by_catalog_and_category(jp_fetch: Any,
                                                                               fixture_catalog: dict[str, Any]) -> None:
    code, palette = await api_call(jp_fetch, "GET", "palette", **KFP)
    assert code == 200 and palette["categories"][0] == PALETTE["categories"][0]
    entries = [{"op": ECHO, "label": "Echo text", "description": "Writes a greeting and a text to its output.",
                "extensions": [], "catalog": "fixtures", "catalog_display_name": "Fixtures"},
               {"op": COUNT, "label": "Count lines", "description": "Counts the lines of a dataset.",
                "extensions": [], "catalog": "fixtures", "catalog_display_name": "Fixtures"}]
    assert palette["categories"][1:] == [
        {"id": "fixtures/Text", "label": "Text (Fixtures)", "node_types": entries},
        {"id": "fixtures/Counting", "label": "Counting (Fixtures)", "node_types": entries}]


async def test_components_are_only_offered_where_they_run(jp_fetch: Any, fixture_catalog: dict[str, Any]) -> None:
    assert await api_call(jp_fetch, "GET", "palette") == (200, PALETTE)
    assert await api_call(jp_fetch, "GET", "palette", runtime_type="LOCAL") == (200, PALETTE)
    code, error = await api_call(jp_fetch, "GET", "palette", runtime_type="AIRFLOW")
    assert code == 400 and "runtime_type" in error["message"] and "KUBEFLOW_PIPELINES" in error["message"]


async def test_a_catalog_without_categories_is_one_palette_category(jp_fetch: Any, jp_data_dir: Path) -> None:
    body = copy.deepcopy(FIXTURE_CATALOG)
    body["metadata"]["categories"] = []
    save_catalog(jp_data_dir, body)
    code, palette = await api_call(jp_fetch, "GET", "palette", **KFP)
    assert code == 200 and [(c["id"], c["label"], len(c["node_types"])) for c in palette["categories"][1:]] == [
        ("fixtures", "Fixtures", 2)]


async def test_a_component_form_has_its_inputs_outputs_and_the_pod_settings(jp_fetch: Any,
                                                                          fixture_catalog: dict[str, Any]) -> None:
    code, form = await api_call(jp_fetch, "GET", "properties", "nodes", COUNT)
    assert code == 200 and set(form) == {"schema", "uiSchema"}
    assert form["schema"]["properties"]["label"]["uihints"]["ui:placeholder"] == "Count lines"
    parameters = form["schema"]["properties"]["component_parameters"]
    fields = parameters["properties"]
    inputs = ["dataset", "minimum", "ratio", "strict", "options", "labels"]
    assert list(fields) == inputs + ["output_count", "output_report"] + [prop.name for prop in POD_PROPERTIES]
    assert parameters["required"] == ["dataset"]  # the others have defaults or are optional

    def choice(name: str, widget: str) -> dict[str, Any]:
        (found,) = [option for option in fields[name]["oneOf"] if option["properties"]["widget"]["enum"] == [widget]]
        return found["properties"]["value"]

    assert [option["properties"]["widget"]["enum"] for option in fields["dataset"]["oneOf"]] == [["inputpath"],
                                                                                               ["string"]]
    assert fields["dataset"]["description"].startswith("The file to count (type Dataset; takes a file")
    assert choice("dataset", "inputpath")["required"] == ["value", "option"]
    assert choice("minimum", "number") == {"type": "number", "title": "Value", "default": 3}
    assert choice("ratio", "number")["default"] == 0.5 and choice("strict", "boolean")["default"] is True
    assert choice("labels", "string")["default"] == "[]" and choice("options", "string")["type"] == "string"
    assert "inputvalue" in [option["properties"]["widget"]["enum"][0] for option in fields["minimum"]["oneOf"]]
    assert fields["minimum"]["default"] == {"widget": "number", "value": 3}
    assert fields["output_report"] == {"type": "string", "title": "report", "readOnly": True,
                                       "description": "Output (Artifact)."}
    assert fields["mounted_volumes"]["x-pipeline-default"] is True
    assert form["uiSchema"]["component_parameters"]["minimum"]["widget"] == {"ui:widget": "hidden"}

    code, echo = await api_call(jp_fetch, "GET", "properties", "nodes", ECHO)
    times = echo["schema"]["properties"]["component_parameters"]["properties"]["times"]
    assert code == 200 and times["default"] == {"widget": "number", "value": 1}  # the spec's '1', read as a number


@pytest.mark.parametrize("node_id", ["echo", "count"])
async def test_the_forms_hold_what_the_editor_saved(jp_fetch: Any, fixture_catalog: dict[str, Any],
                                                    node_id: str) -> None:
    node = fixture_node(node_id)
    code, form = await api_call(jp_fetch, "GET", "properties", "nodes", node["op"])
    assert code == 200 and form_errors(form, node["app_data"]) == []
    wrong = copy.deepcopy(node["app_data"])
    first_input = form["schema"]["properties"]["component_parameters"]["required"][0]
    wrong["component_parameters"][first_input] = {"widget": "inputpath", "value": {"value": "prepare"}}  # no option
    assert [error.split(":")[0] for error in form_errors(form, wrong)] == [f"component_parameters/{first_input}"]


async def test_unknown_ops_name_the_catalogs_searched(jp_fetch: Any, fixture_catalog: dict[str, Any]) -> None:
    code, error = await api_call(jp_fetch, "GET", "properties", "nodes", "local-file-catalog:000000000000")
    assert code == 404
    assert error["message"] == ("'local-file-catalog:000000000000' is not a generic node type (execute-notebook-node, "
                                "execute-python-node, execute-r-node) nor a component of the catalogs here (catalogs "
                                "searched: 'fixtures').")


async def test_with_no_catalog_unknown_ops_say_so(jp_fetch: Any) -> None:
    code, error = await api_call(jp_fetch, "GET", "properties", "nodes", "elyra-kfp-examples-catalog:a08014f9252f")
    assert code == 404 and "catalogs searched: none, as no catalog is configured" in error["message"]


@pytest.mark.skipif(not HAS_CORPUS, reason=CORPUS_MISSING)
async def test_the_forms_hold_a_corpus_pipelines_component_nodes(jp_fetch: Any) -> None:
    """Elyra's own saved values (format 8): strings, JSON text for a list input, upstream outputs as inputpath."""
    if not ElyraExamplesConnector.available():
        pytest.skip("the elyra-examples-kfp-catalog package, whose catalog serves these components, is not installed")
    code, _ = await api_call(jp_fetch, "POST", "catalogs", body={"display_name": "Examples",
                                                                 "schema_name": "elyra-kfp-examples-catalog"})
    assert code == 201
    document = load_json(next((CORPUS / "valid" / "elyra__kf_inputpath_parameter").glob("*.pipeline")))
    nodes = document["pipelines"][0]["nodes"]
    assert len(nodes) == 3
    for node in nodes:
        code, form = await api_call(jp_fetch, "GET", "properties", "nodes", node["op"])
        assert code == 200 and form_errors(form, node["app_data"]) == [], node["op"]
    code, palette = await api_call(jp_fetch, "GET", "palette", **KFP)
    offered = {entry["op"] for category in palette["categories"][1:] for entry in category["node_types"]}
    assert code == 200 and {node["op"] for node in nodes} <= offered
