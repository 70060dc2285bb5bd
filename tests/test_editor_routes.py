"""The routes the pipeline editor reads, on a real in-process Jupyter server: the palette, the node and pipeline
property forms and Elyra's runtime images, read from real metadata directories written here."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call

from elyra_proc_ext.properties import INHERITABLE, PIPELINE_ONLY_DEFAULTS, PROPERTIES

PALETTE = {"categories": [{"id": "generic", "label": "Generic nodes", "node_types": [
    {"op": "execute-notebook-node", "label": "Notebook", "description": "Run a notebook", "extensions": [".ipynb"]},
    {"op": "execute-python-node", "label": "Python script", "description": "Run a Python script",
     "extensions": [".py"]},
    {"op": "execute-r-node", "label": "R script", "description": "Run an R script", "extensions": [".r"]},
]}]}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


def image_file(directory: Path, name: str, content: Any) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_text(content if isinstance(content, str) else json.dumps(content))


def elyra_image(display_name: str, image_name: str, **metadata: str) -> dict[str, Any]:
    """A runtime image file as Elyra writes it."""
    return {"display_name": display_name, "schema_name": "runtime-image",
            "metadata": {"image_name": image_name, "tags": [], **metadata}}


@pytest.fixture
def images(jp_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Runtime images in the user's data dir and in a JUPYTER_PATH dir (which comes first), some broken."""
    user = jp_data_dir / "metadata" / "runtime-images"
    image_file(user, "pandas", elyra_image("Pandas", "amancevice/pandas:1.4.1", pull_policy="IfNotPresent"))
    image_file(user, "anaconda", elyra_image("Anaconda", "continuumio/anaconda3:2024.02"))
    image_file(user, "shared", elyra_image("Shared (user)", "user/shared:1"))
    image_file(user, "broken", '{"display_name": "Broken", "metadata": {"image_name": ')
    image_file(user, "a-runtime", {"display_name": "Not an image", "schema_name": "kfp", "metadata": {
        "image_name": "x:1"}})
    image_file(user, "no-image", {"display_name": "No image", "schema_name": "runtime-image", "metadata": {}})
    image_file(user, "a-list", ["not", "an", "object"])
    first = tmp_path / "jupyter-path"
    image_file(first / "metadata" / "runtime-images", "shared", elyra_image("Shared (first)", "first/shared:2"))
    monkeypatch.setenv("JUPYTER_PATH", str(first))
    return user


async def test_the_palette(jp_fetch: Any) -> None:
    assert await api_call(jp_fetch, "GET", "palette") == (200, PALETTE)


async def test_runtime_images_come_from_elyra_metadata(jp_fetch: Any, images: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        code, answer = await api_call(jp_fetch, "GET", "runtime-images")
    assert code == 200
    assert answer == {"runtime_images": [
        {"name": "anaconda", "display_name": "Anaconda", "image_name": "continuumio/anaconda3:2024.02"},
        {"name": "pandas", "display_name": "Pandas", "image_name": "amancevice/pandas:1.4.1",
         "pull_policy": "IfNotPresent"},
        {"name": "shared", "display_name": "Shared (first)", "image_name": "first/shared:2"},
    ]}
    warned = "\n".join(record.getMessage() for record in caplog.records)
    for skipped in ("broken", "a-runtime", "no-image", "a-list"):
        assert str(images / f"{skipped}.json") in warned


async def test_no_runtime_images_is_an_empty_list(jp_fetch: Any) -> None:
    assert await api_call(jp_fetch, "GET", "runtime-images") == (200, {"runtime_images": []})


@pytest.mark.parametrize("node_type", PALETTE["categories"][0]["node_types"], ids=lambda t: t["op"])
async def test_node_property_forms(jp_fetch: Any, images: Path, node_type: dict[str, Any]) -> None:
    code, form = await api_call(jp_fetch, "GET", "properties", "nodes", node_type["op"])
    assert code == 200 and set(form) == {"schema", "uiSchema"}
    schema = form["schema"]
    assert schema["type"] == "object" and list(schema["properties"]) == ["label", "component_parameters"]
    parameters = schema["properties"]["component_parameters"]
    assert parameters["title"] == "Node properties"
    assert list(parameters["properties"]) == [prop.name for prop in PROPERTIES]
    assert parameters["properties"]["filename"]["uihints"]["extensions"] == node_type["extensions"]
    assert parameters["properties"]["runtime_image"]["examples"] == [
        "continuumio/anaconda3:2024.02", "amancevice/pandas:1.4.1", "first/shared:2"]
    for prop in PROPERTIES:
        assert parameters["properties"][prop.name].get("x-pipeline-default", False) is prop.inheritable
    assert form["uiSchema"]["component_parameters"]["filename"]["ui:widget"] == "file"


async def test_unknown_node_types_are_not_found(jp_fetch: Any) -> None:
    code, error = await api_call(jp_fetch, "GET", "properties", "nodes", "execute-java-node")
    assert code == 404 and "'execute-java-node' is not a generic node type" in error["message"]


async def test_the_pipeline_property_form(jp_fetch: Any, images: Path) -> None:
    code, form = await api_call(jp_fetch, "GET", "properties", "pipeline")
    assert code == 200 and set(form) == {"schema", "uiSchema"}
    properties = form["schema"]["properties"]
    assert list(properties) == ["name", "description", "pipeline_defaults", "pipeline_parameters"]
    defaults = properties["pipeline_defaults"]["properties"]
    assert list(defaults) == [prop.name for prop in INHERITABLE] + list(PIPELINE_ONLY_DEFAULTS)
    assert "first/shared:2" in defaults["runtime_image"]["examples"]
    parameter = properties["pipeline_parameters"]["items"]["properties"]
    assert set(parameter) == {"name", "description", "default_value", "required"}
    assert parameter["default_value"]["properties"]["type"]["enum"] == ["String", "Integer", "Float", "Bool"]
