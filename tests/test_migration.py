"""Migration of old Elyra pipeline formats, on the project's own pipelines of every format version.

`tests/fixtures/formats/vN/` is a workspace holding pipelines in the shape Elyra's editor of that era saved them
(format 1 filenames from the workspace root, flat node `app_data`, example-component ops, "K=V" string lists,
OneOf values, pipeline defaults, supernodes, parameters) and the small scripts and notebooks they run. Each one is
migrated and its fields compared exactly, parsed, validated and, unless it needs a component catalog, run locally.
The real pipelines of the shared corpus are checked in test_corpus.py.
"""

from __future__ import annotations

import copy
import json
import posixpath
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import load_json

from elyra_proc_ext.manager import create_manager
from elyra_proc_ext.migration import CURRENT_VERSION, NewerVersionError, migrate
from elyra_proc_ext.model import GENERIC_OPS, KubernetesSecret, Node, Toleration, VolumeMount
from elyra_proc_ext.parsing import parse
from elyra_proc_ext.processors.base import RunStatus

FORMATS = Path(__file__).resolve().parent / "fixtures" / "formats"
# Keys the items of these lists may have in format 8 (the editor leaves out empty ones).
KEY_VALUE_ITEM_KEYS = {
    "env_vars": {"env_var", "value"},
    "kubernetes_secrets": {"env_var", "name", "key"},
    "mounted_volumes": {"path", "pvc_name", "sub_path", "read_only"},
    "kubernetes_tolerations": {"key", "operator", "value", "effect"},
    "kubernetes_pod_annotations": {"key", "value"},
    "kubernetes_pod_labels": {"key", "value"},
}


@dataclass(frozen=True)
class Fixture:
    """One pipeline of tests/fixtures/formats: `pipeline_file` is relative to its workspace root `vN/`."""

    version: int
    pipeline_file: str

    @property
    def root(self) -> Path:
        return FORMATS / f"v{self.version}"

    @property
    def name(self) -> str:
        return f"v{self.version}/{self.pipeline_file}"

    def document(self) -> dict[str, Any]:
        return load_json(self.root / self.pipeline_file)


RUNNABLE = [Fixture(1, "pipelines/weather/weather.pipeline"), Fixture(2, "pipelines/flights.pipeline"),
            Fixture(3, "analysis.pipeline"), Fixture(4, "hello.pipeline"), Fixture(5, "train.pipeline"),
            Fixture(6, "words.pipeline"), Fixture(7, "configure.pipeline"), Fixture(8, "greet.pipeline")]
# Custom components of Elyra's example catalogs: migrated and validated, but no catalog runs them locally.
COMPONENTS = [Fixture(version, "components.pipeline") for version in (4, 5, 6, 7)]
FIXTURES = RUNNABLE + COMPONENTS
RUNNABLE_IN = {fixture.version: fixture for fixture in RUNNABLE}


def primary(document: dict[str, Any]) -> dict[str, Any]:
    return next(p for p in document["pipelines"] if p["id"] == document["primary_pipeline"])


def execution_nodes(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [node for p in document["pipelines"] for node in p["nodes"] if node["type"] == "execution_node"]


def params(node: dict[str, Any]) -> dict[str, Any]:
    return node["app_data"]["component_parameters"]


def assert_became_current(original: dict[str, Any], result: dict[str, Any], steps: list[int], version: int,
                          pipeline_file: str) -> None:
    """What holds for every migrated document: the input untouched, each step once, version 8 everywhere it was
    declared, nothing left to migrate, no OneOf values and every key-value list made of objects."""
    assert steps == list(range(version + 1, CURRENT_VERSION + 1))
    assert primary(result)["app_data"]["version"] == CURRENT_VERSION
    declared = [p["app_data"]["version"] for p in result["pipelines"] if "version" in p["app_data"]]
    assert declared == [CURRENT_VERSION] * len(declared)
    assert migrate(result, pipeline_file) == (result, [])
    assert [node["id"] for node in execution_nodes(result)] == [node["id"] for node in execution_nodes(original)]
    properties = primary(result)["app_data"].get("properties", {})
    for container in [properties.get("pipeline_defaults", {})] + [params(n) for n in execution_nodes(result)]:
        assert "activeControl" not in json.dumps(container)
        for name, keys in KEY_VALUE_ITEM_KEYS.items():
            items = container.get(name)
            if isinstance(items, list):
                assert all(isinstance(item, dict) and item and item.keys() <= keys for item in items), name


def string(value: str) -> dict[str, Any]:
    return {"widget": "string", "value": value}


def boolean(value: bool) -> dict[str, Any]:
    return {"widget": "boolean", "value": value}


def parent_output(node_id: str, **label: str) -> dict[str, Any]:
    return {"widget": "inputpath", "value": {"value": node_id, "option": "elyra_output_data", **label}}


def env(**pairs: str) -> list[dict[str, str]]:
    return [{"env_var": name, "value": value} for name, value in pairs.items()]


def catalog_source(catalog: str, file_name: str) -> str:
    return json.dumps({"catalog_type": catalog, "component_ref": {"component-id": file_name}}, separators=(",", ":"))


def generic(filename: str, image: str | None, outputs: list[str], env_vars: list[dict[str, str]],
            **more: Any) -> dict[str, Any]:
    """Migrated parameters of a generic node of formats 1 to 3 (which always saved these four keys)."""
    return {"filename": filename, **({} if image is None else {"runtime_image": image}), "env_vars": env_vars,
            "include_subdirectories": False, "outputs": outputs, **more}


KFP, AIRFLOW = "elyra-kfp-examples-catalog", "elyra-airflow-examples-catalog"
# Per fixture: the migrated primary pipeline's app_data (without ui_data), and per execution node its op, label,
# component_source (absent for generic nodes) and parameters. Everything is compared exactly.
EXPECTED: dict[str, tuple[dict[str, Any], dict[str, dict[str, Any]]]] = {
    # 1 -> 2: filenames from the workspace root become relative to the pipeline's directory.
    "v1/pipelines/weather/weather.pipeline": ({"version": 8}, {
        "0b6f3c1e-5d0a-4b8e-9a51-1f2e3d4c5b6a": {"op": "execute-notebook-node", "label": "fetch",
                                                 "component_parameters": generic(
            "fetch.ipynb", "amancevice/pandas:1.0.3", ["data/readings.csv"], env(STATION="JFK", UNITS="celsius"),
            dependencies=["stations.txt"], invalidNodeError=None)},
        "7d2e4f60-8a1b-4c3d-9e5f-6a7b8c9d0e1f": {"op": "execute-notebook-node", "label": "summarize",
                                                 "component_parameters": generic(
            "summarize.ipynb", "amancevice/pandas:1.0.3", ["data/summary.txt"], [], dependencies=[],
            invalidNodeError=None)},
    }),
    # Already relative to the pipeline (here outside its directory): the filename stays; a value holding "=".
    "v2/pipelines/flights.pipeline": ({"version": 8}, {
        "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f": {"op": "execute-notebook-node", "label": "delays",
                                                 "component_parameters": generic(
            "../notebooks/delays.ipynb", "amancevice/pandas:1.1.1", ["delays.txt"],
            env(DATASET_URL="https://example.com/flights.csv?year=2020&month=1"), invalidNodeError=None)},
    }),
    # 3 -> 4: flat app_data moves into component_parameters, the label comes from ui_data.
    "v3/analysis.pipeline": ({"version": 8}, {
        "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d": {"op": "execute-python-node", "label": "prepare",
                                                 "component_parameters": generic(
            "prepare.py", "amancevice/pandas:1.1.1", ["prepared.csv"], env(ROWS="3"), dependencies=["lookup.json"],
            invalidNodeError=None)},
        "1e2f3a4b-5c6d-4e7f-9a8b-7c6d5e4f3a2b": {"op": "execute-python-node", "label": "analyze",
                                                 "component_parameters": generic(
            "analyze.py", "amancevice/pandas:1.1.1", ["analysis.txt"], [], invalidNodeError=None)},
    }),
    # Generic nodes keep everything but their "K=V" strings (an empty value included).
    "v4/hello.pipeline": ({"version": 8, "properties": {"name": "hello", "runtime": "Generic"}}, {
        "2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "hello.py", "runtime_image": "python:3.9", "outputs": ["greeting.txt"],
            "env_vars": env(GREETING="hello", UNSET=""), "dependencies": [], "include_subdirectories": False}},
        "8c9d0e1f-2a3b-4c4d-8e5f-6a7b8c9d0e1f": {"op": "execute-python-node", "label": "Say world",
                                                 "component_parameters": {
            "filename": "world.py", "runtime_image": "python:3.9", "outputs": ["world.txt"], "env_vars": [],
            "dependencies": [], "include_subdirectories": False}},
    }),
    # 4 -> 5 -> 6: Airflow example ops renamed, then catalog ids; component_source a catalog reference; `runtime`
    # becomes `runtime_type`; Airflow values typed in step 6 (booleans too), widgets in step 8.
    "v4/components.pipeline": ({"version": 8, "properties": {"name": "components", "runtime": "Apache Airflow"},
                                "runtime_type": "APACHE_AIRFLOW"}, {
        "a80d21f5-1111-4496-a396-be7ef677797f": {
            "op": f"{AIRFLOW}:3a55d015ea96", "label": "",
            "component_source": catalog_source(AIRFLOW, "bash_operator.py"),
            "component_parameters": {"bash_command": string("echo $GREETING"), "xcom_push": boolean(True),
                                     "env": string('{"GREETING": "hello"}'), "output_encoding": string("utf-8")}},
        "b91e32a6-2222-45a7-b4a7-cf8f07788a80": {
            "op": f"{AIRFLOW}:b94cd49692e2", "label": "Check the service",
            "component_source": catalog_source(AIRFLOW, "http_operator.py"),
            "component_parameters": {"endpoint": string("status"), "method": string("GET"), "data": string(""),
                                     "headers": string(""), "response_check": string(""),
                                     "extra_options": string(""), "xcom_push": boolean(False),
                                     "http_conn_id": string("http_default"), "log_response": boolean(True)}},
    }),
    # 5 -> 6: a generic pipeline declared for KFP gets its runtime_type and runs anywhere.
    "v5/train.pipeline": ({"version": 8, "properties": {"name": "train", "runtime": "Kubeflow Pipelines"},
                           "runtime_type": "KUBEFLOW_PIPELINES"}, {
        "4d5e6f7a-8b9c-4d0e-8f1a-2b3c4d5e6f7a": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "scripts/train.py", "runtime_image": "python:3.9", "outputs": ["model.txt"],
            "env_vars": env(EPOCHS="2"), "dependencies": [], "include_subdirectories": False}},
        "6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "scripts/evaluate.py", "runtime_image": "python:3.9", "outputs": ["metrics.json"],
            "env_vars": [], "dependencies": [], "include_subdirectories": False}},
    }),
    # 5 -> 6 -> 7: KFP example ops become catalog ids (".../component.yaml" gets its catalog file name), values
    # are typed in step 7, a parent's output becomes an inputpath; outputs stay plain.
    "v5/components.pipeline": ({"version": 8, "properties": {"name": "components", "runtime": "Kubeflow Pipelines"},
                                "runtime_type": "KUBEFLOW_PIPELINES"}, {
        "5093aaa3-3333-4654-93c8-ea67ebe3fb83": {
            "op": f"{KFP}:a08014f9252f", "label": "", "component_source": catalog_source(KFP, "download_data.yaml"),
            "component_parameters": {"url": string("https://example.com/data.csv"),
                                     "curl_options": string("--location"), "output_data": ""}},
        "071d49de-4444-40da-8e2f-494a2ed19e22": {
            "op": f"{KFP}:737915b826e9", "label": "",
            "component_source": catalog_source(KFP, "filter_text_using_shell_and_grep.yaml"),
            "component_description": "Filter input text according to the given regex pattern using shell and grep.",
            "component_parameters": {"text": parent_output("5093aaa3-3333-4654-93c8-ea67ebe3fb83"),
                                     "pattern": string("odd"), "output_filtered_text": ""}},
    }),
    # A supernode's subflow is migrated too (and gets no version it did not declare).
    "v6/words.pipeline": ({"version": 8, "properties": {"name": "words", "runtime": "Generic"}}, {
        "1a2b3c4d-0001-4e5f-8a9b-0c1d2e3f4a5b": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "split.py", "runtime_image": "python:3.10", "outputs": ["words.txt"],
            "env_vars": env(TEXT="to be or not to be"), "dependencies": [], "include_subdirectories": False}},
        "9023de3e-0004-4cb4-9b63-0ae842e926ee": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "report.py", "runtime_image": "python:3.10", "outputs": ["report.txt"], "env_vars": [],
            "dependencies": [], "include_subdirectories": False}},
        "5bd9bfbb-0003-4ee5-b49e-ebcac2e7c185": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "count.py", "runtime_image": "python:3.10", "outputs": ["counts.json"],
            "env_vars": env(MIN_COUNT="2"), "dependencies": [], "include_subdirectories": False}},
    }),
    # 6 -> 7: catalog components of a KFP pipeline get typed values; their component_source stays as saved.
    "v6/components.pipeline": ({"version": 8, "runtime_type": "KUBEFLOW_PIPELINES",
                                "properties": {"name": "components", "runtime": "Kubeflow Pipelines"}}, {
        "2ccb6e75-0008-4cc1-8a96-8e19ce15c7a5": {
            "op": f"{KFP}:a08014f9252f", "label": "", "component_source":
                "https://raw.githubusercontent.com/kubeflow/pipelines/1.6.0/components/web/Download/component.yaml",
            "component_parameters": {"url": string("https://example.com/data.csv"),
                                     "curl_options": string("--location"), "output_data": ""}},
        "51036094-0009-4b2a-a652-a84b0871786a": {
            "op": f"{KFP}:d68ec7fcdf46", "label": "", "component_source": "kfp/calculate_hash.yaml",
            "component_parameters": {"hash_algorithm": string("SHA256"), "output_hash": "", "data": parent_output(
                "2ccb6e75-0008-4cc1-8a96-8e19ce15c7a5", label="Download data: Data")}},
    }),
    # 7 -> 8: "K=V" strings in the pipeline defaults and the nodes become objects (nodes without an image keep
    # none: the defaults' one applies).
    "v7/configure.pipeline": ({"version": 8, "properties": {
        "pipeline_defaults": {
            "runtime_image": "python:3.11", "env_vars": env(REGION="eu-west", MODE="default"),
            "kubernetes_secrets": [{"env_var": "DB_PASSWORD", "name": "db-credentials", "key": "password"}],
            "mounted_volumes": [{"path": "/mnt/shared", "pvc_name": "shared-data"}],
            "kubernetes_tolerations": [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
            "kubernetes_pod_annotations": [{"key": "team", "value": "data"}],
            "kubernetes_pod_labels": [{"key": "app", "value": "configure"}]},
        "name": "configure", "runtime": "Generic", "description": "Pipeline defaults, overridden per node"}}, {
        "3e4f5a6b-0010-4c7d-8e9f-0a1b2c3d4e5f": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "configure.py", "outputs": ["config.txt"], "env_vars": env(MODE="override"),
            "kubernetes_secrets": [], "dependencies": [], "include_subdirectories": False,
            "mounted_volumes": [{"path": "/mnt/scratch", "pvc_name": "scratch"}],
            "kubernetes_pod_labels": [{"key": "tier", "value": "1"}]}},
        "7b8c9d0e-0011-4f1a-8b2c-3d4e5f6a7b8c": {"op": "execute-python-node", "label": "", "component_parameters": {
            "filename": "apply.py", "outputs": ["applied.txt"], "env_vars": [], "kubernetes_secrets": [],
            "dependencies": [], "include_subdirectories": False, "mounted_volumes": []}},
    }),
    # 7 -> 8: OneOf values (a parent's output in either saved form) become widgets.
    "v7/components.pipeline": ({"version": 8, "runtime_type": "KUBEFLOW_PIPELINES",
                                "properties": {"name": "components", "runtime": "Kubeflow Pipelines"}}, {
        "74580e2e-0013-4ffe-aa57-6dd15da778cf": {
            "op": f"{KFP}:a08014f9252f", "label": "", "component_source": catalog_source(KFP, "download_data.yaml"),
            "component_parameters": {"url": string("https://example.com/a.ipynb"),
                                     "curl_options": string("--location"), "output_data": ""}},
        "3bf1e56e-0014-4b6c-aec2-b50fae92f6cc": {
            "op": f"{KFP}:61e6f4141f65", "label": "",
            "component_source": catalog_source(KFP, "run_notebook_using_papermill.yaml"),
            "component_parameters": {"notebook": parent_output("74580e2e-0013-4ffe-aa57-6dd15da778cf"),
                                     "parameters": string("{'multiplier': 2}"),
                                     "packages_to_install": string("['pandas']"),
                                     "input_data": parent_output("74580e2e-0013-4ffe-aa57-6dd15da778cf"),
                                     "output_notebook": "", "output_output_data": ""}},
    }),
}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_declares_its_version(fixture: Fixture) -> None:
    assert primary(fixture.document())["app_data"]["version"] == fixture.version


def test_every_format_version_has_a_runnable_fixture() -> None:
    assert sorted(fixture.version for fixture in RUNNABLE) == list(range(1, CURRENT_VERSION + 1))
    assert set(EXPECTED) == {fixture.name for fixture in FIXTURES if fixture.version < CURRENT_VERSION}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda f: f.name)
def test_fixture_becomes_current(fixture: Fixture) -> None:
    document = fixture.document()
    original = copy.deepcopy(document)
    result, steps = migrate(document, fixture.pipeline_file)

    assert document == original
    assert_became_current(original, result, steps, fixture.version, fixture.pipeline_file)
    pipeline_dir = posixpath.dirname(fixture.pipeline_file)
    for node in execution_nodes(result):
        if node["op"] in GENERIC_OPS:
            assert (fixture.root / pipeline_dir / params(node)["filename"]).is_file()


@pytest.mark.parametrize("fixture", [f for f in FIXTURES if f.version < CURRENT_VERSION], ids=lambda f: f.name)
def test_migrated_fields_are_exact(fixture: Fixture) -> None:
    original = fixture.document()
    result, _ = migrate(original, fixture.pipeline_file)
    app_data, nodes = EXPECTED[fixture.name]

    assert {key: value for key, value in primary(result)["app_data"].items() if key != "ui_data"} == app_data
    assert primary(result)["app_data"]["ui_data"] == primary(original)["app_data"]["ui_data"]  # comments kept
    for before, after in zip(execution_nodes(original), execution_nodes(result), strict=True):
        migrated = {key: value for key, value in after["app_data"].items() if key != "ui_data"}
        assert {"op": after["op"], **migrated} == nodes[after["id"]]
        assert after["app_data"]["ui_data"] == before["app_data"]["ui_data"]
        assert {key: after[key] for key in ("inputs", "outputs")} == {key: before[key] for key in ("inputs", "outputs")}


@pytest.mark.parametrize(("pipeline_path", "prefix"), [
    (None, "pipelines/weather/"), ("weather.pipeline", "pipelines/weather/"),
    ("other/dir/moved.pipeline", "../../pipelines/weather/"), ("pipelines/weather/copy.pipeline", ""),
])
def test_v1_filenames_follow_where_the_pipeline_is(pipeline_path: str | None, prefix: str) -> None:
    """Format 1 names files from the workspace root; migrated, they are relative to the pipeline's directory."""
    result, _ = migrate(RUNNABLE_IN[1].document(), pipeline_path)
    assert [params(node)["filename"] for node in execution_nodes(result)] == [
        prefix + "fetch.ipynb", prefix + "summarize.ipynb"]


# Per format version, the runnable fixture's nodes after parsing, by name: root-relative file, runtime image (the
# pipeline defaults' one where the node has none), environment (defaults merged, empty values dropped), parents.
PARSED_NODES: dict[int, dict[str, tuple[str, str, dict[str, str], list[str]]]] = {
    1: {"fetch": ("pipelines/weather/fetch.ipynb", "amancevice/pandas:1.0.3",
                  {"STATION": "JFK", "UNITS": "celsius"}, []),
        "summarize": ("pipelines/weather/summarize.ipynb", "amancevice/pandas:1.0.3", {}, ["fetch"])},
    2: {"delays": ("notebooks/delays.ipynb", "amancevice/pandas:1.1.1",
                   {"DATASET_URL": "https://example.com/flights.csv?year=2020&month=1"}, [])},
    3: {"prepare": ("prepare.py", "amancevice/pandas:1.1.1", {"ROWS": "3"}, []),
        "analyze": ("analyze.py", "amancevice/pandas:1.1.1", {}, ["prepare"])},
    4: {"hello.py": ("hello.py", "python:3.9", {"GREETING": "hello"}, []),
        "Say world": ("world.py", "python:3.9", {}, ["hello.py"])},
    5: {"train.py": ("scripts/train.py", "python:3.9", {"EPOCHS": "2"}, []),
        "evaluate.py": ("scripts/evaluate.py", "python:3.9", {}, ["train.py"])},
    6: {"split.py": ("split.py", "python:3.10", {"TEXT": "to be or not to be"}, []),
        "count.py": ("count.py", "python:3.10", {"MIN_COUNT": "2"}, ["split.py"]),
        "report.py": ("report.py", "python:3.10", {}, ["count.py"])},
    7: {"configure.py": ("configure.py", "python:3.11", {"REGION": "eu-west", "MODE": "override"}, []),
        "apply.py": ("apply.py", "python:3.11", {"REGION": "eu-west", "MODE": "default"}, ["configure.py"])},
    8: {"greet.py": ("greet.py", "python:3.11", {"NAME": "Ada", "PUNCTUATION": "!"}, []),
        "shout": ("shout.py", "python:3.12", {"NAME": "nobody", "PUNCTUATION": "!"}, ["greet.py"])},
}


@pytest.mark.parametrize("fixture", RUNNABLE, ids=lambda f: f.name)
def test_fixture_parses_and_validates(fixture: Fixture, tmp_path: Path) -> None:
    document = fixture.document()
    parsed = parse(document, source=fixture.pipeline_file)
    assert parsed.migrated_from == (None if fixture.version == CURRENT_VERSION else fixture.version)

    manager = create_manager(fixture.root, tmp_path / "data", tmp_path / "runtimes")
    submission = manager.check(document, source=fixture.pipeline_file, runtime="local")
    assert submission.accepted and submission.issues == []
    nodes = submission.pipeline.nodes
    names = {node_id: node.name for node_id, node in nodes.items()}
    assert {node.name: (node.filename, node.runtime_image, node.env_vars, [names[p] for p in node.parent_ids])
            for node in nodes.values()} == PARSED_NODES[fixture.version]


def by_name(nodes: dict[str, Node]) -> dict[str, Node]:
    return {node.name: node for node in nodes.values()}


def test_v7_pipeline_defaults_merge_into_each_node(tmp_path: Path) -> None:
    fixture = RUNNABLE_IN[7]
    manager = create_manager(fixture.root, tmp_path / "data", tmp_path / "runtimes")
    nodes = by_name(manager.check(fixture.document(), source=fixture.pipeline_file, runtime="local").pipeline.nodes)

    configure, apply = nodes["configure.py"], nodes["apply.py"]
    secret = [KubernetesSecret("DB_PASSWORD", "db-credentials", "password")]
    toleration = [Toleration("gpu", "Equal", "true", "NoSchedule")]
    assert (configure.kubernetes_secrets, apply.kubernetes_secrets) == (secret, secret)
    shared = VolumeMount("/mnt/shared", "shared-data")
    assert (configure.mounted_volumes, apply.mounted_volumes) == ([shared, VolumeMount("/mnt/scratch", "scratch")],
                                                                  [shared])
    assert (configure.kubernetes_tolerations, apply.kubernetes_tolerations) == (toleration, toleration)
    assert configure.kubernetes_pod_labels == {"app": "configure", "tier": "1"}
    assert apply.kubernetes_pod_labels == {"app": "configure"}
    assert configure.kubernetes_pod_annotations == apply.kubernetes_pod_annotations == {"team": "data"}


def test_v6_supernode_is_flattened_into_its_subflow() -> None:
    fixture = RUNNABLE_IN[6]
    pipeline = parse(fixture.document(), source=fixture.pipeline_file).pipeline
    count = by_name(pipeline.nodes)["count.py"]
    assert count.pipeline_id == "94c57961-0007-486b-a50b-26231d7a451f"
    assert [node.name for node in pipeline.topological_order()] == ["split.py", "count.py", "report.py"]


def test_v8_parameters_and_defaults() -> None:
    fixture = RUNNABLE_IN[8]
    pipeline = parse(fixture.document(), source=fixture.pipeline_file).pipeline
    assert pipeline.parameter_values() == {"GREETING": "hello"}
    assert pipeline.cos_object_prefix == "formats/v8"
    assert by_name(pipeline.nodes)["greet.py"].pipeline_parameters == ["GREETING"]


@pytest.mark.parametrize("fixture", COMPONENTS, ids=lambda f: f.name)
def test_component_fixture_is_refused_locally_per_node(fixture: Fixture, tmp_path: Path) -> None:
    """Migrated catalog components cannot run here: one fatal issue per node, naming it and its op."""
    manager = create_manager(fixture.root, tmp_path / "data", tmp_path / "runtimes")
    submission = manager.check(fixture.document(), source=fixture.pipeline_file, runtime="local")

    assert not submission.accepted
    migrated = {node_id: expected["op"] for node_id, expected in EXPECTED[fixture.name][1].items()}
    assert {issue.node_id: issue.value for issue in submission.issues} == migrated
    for issue in submission.issues:
        node = submission.pipeline.nodes[issue.node_id]
        assert issue.fatal and issue.type == "invalidNodeType" and issue.property_name == "op"
        assert f"Node '{node.name}'" in issue.message and node.op in issue.message


# What the last node of each runnable fixture writes, from what its parents wrote and the variables it was given.
FINAL_OUTPUT = {
    1: ("pipelines/weather/data/summary.txt", "1 reading(s): JFK,celsius\n"),
    2: ("notebooks/delays.txt", "flights of 2020-1\n"),
    3: ("analysis.txt", "sum=30\n"),
    4: ("world.txt", "hello, world\n"),
    5: ("scripts/metrics.json", '{"model": "trained for 2 epochs", "accuracy": 0.5}'),
    6: ("report.txt", "be=2 to=2\n"),
    7: ("applied.txt", "applied eu-west\n"),
    8: ("shout.txt", "HELLO, ADA!\n"),
}


@pytest.mark.parametrize("fixture", RUNNABLE, ids=lambda f: f.name)
async def test_fixture_runs_locally(fixture: Fixture, tmp_path: Path) -> None:
    """Each format runs end to end on real processes and kernels; the scripts fail on any wrong variable."""
    root = tmp_path / "workspace"
    shutil.copytree(fixture.root, root)
    manager = create_manager(root, tmp_path / "data", tmp_path / "runtimes")
    try:
        submission = manager.check(load_json(root / fixture.pipeline_file), source=fixture.pipeline_file,
                                   runtime="local")
        assert submission.accepted, submission.issues
        record = await manager.wait((await manager.submit(submission)).id)
    finally:
        await manager.shutdown()
    assert record.status == RunStatus.SUCCEEDED, record.error
    assert [node.status for node in record.nodes] == [RunStatus.SUCCEEDED] * len(submission.pipeline.nodes)
    path, content = FINAL_OUTPUT[fixture.version]
    assert (root / path).read_text() == content


def key_value_strings() -> dict[str, list[str]]:
    return {
        "env_vars": ["A=1", "URLS=http://a?x=1,http://b", "BARE"],
        "kubernetes_secrets": ["PASSWORD=db-secret:password"],
        "mounted_volumes": ["/mnt/data=data-pvc"],
        "kubernetes_tolerations": ["T1=gpu:Equal:true:NoSchedule", "T2=spot:Exists::", "T3=odd:::a:b",
                                   "T4=x"],
        "kubernetes_pod_annotations": ["team=ml"],
        "kubernetes_pod_labels": ["app=train"],
    }


KEY_VALUE_OBJECTS = {
    "env_vars": [{"env_var": "A", "value": "1"}, {"env_var": "URLS", "value": "http://a?x=1,http://b"},
                 {"env_var": "BARE", "value": ""}],
    "kubernetes_secrets": [{"env_var": "PASSWORD", "name": "db-secret", "key": "password"}],
    "mounted_volumes": [{"path": "/mnt/data", "pvc_name": "data-pvc"}],
    "kubernetes_tolerations": [{"key": "gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"},
                               {"key": "spot", "operator": "Exists", "value": "", "effect": ""},
                               {"key": "odd", "operator": "", "value": "", "effect": "a:b"},
                               {"key": "x", "operator": "", "value": "", "effect": ""}],
    "kubernetes_pod_annotations": [{"key": "team", "value": "ml"}],
    "kubernetes_pod_labels": [{"key": "app", "value": "train"}],
}


def small_document(version: int) -> dict[str, Any]:
    """A pipeline with key-value strings in its defaults and in its one node."""
    node_params = {"filename": "train.py", "runtime_image": "python:3.11", **key_value_strings()}
    return {
        "doc_type": "pipeline", "version": "3.0", "id": "doc", "primary_pipeline": "main",
        "pipelines": [{
            "id": "main", "runtime_ref": "",
            "app_data": {"version": version, "properties": {"pipeline_defaults": key_value_strings()}},
            "nodes": [{"id": "n1", "type": "execution_node", "op": "execute-python-node",
                       "app_data": {"label": "train", "component_parameters": node_params, "ui_data": {}}}],
        }],
    }


def test_v7_key_value_lists_in_defaults_and_nodes() -> None:
    result, steps = migrate(small_document(7), "pipelines/train.pipeline")

    assert steps == [8]
    assert result["pipelines"][0]["app_data"]["properties"]["pipeline_defaults"] == KEY_VALUE_OBJECTS
    node_params = params(result["pipelines"][0]["nodes"][0])
    assert {name: node_params[name] for name in KEY_VALUE_OBJECTS} == KEY_VALUE_OBJECTS
    assert node_params["filename"] == "train.py"


def test_newer_version_is_refused() -> None:
    document = RUNNABLE_IN[8].document()
    primary(document)["app_data"]["version"] = CURRENT_VERSION + 1

    with pytest.raises(NewerVersionError) as raised:
        migrate(document)
    assert isinstance(raised.value, ValueError)
    assert (raised.value.version, raised.value.current) == (CURRENT_VERSION + 1, CURRENT_VERSION)
    assert str(CURRENT_VERSION + 1) in str(raised.value) and str(CURRENT_VERSION) in str(raised.value)


def test_current_version_gives_an_independent_copy() -> None:
    document = RUNNABLE_IN[8].document()
    result, steps = migrate(document)

    assert (result, steps) == (document, [])
    params(execution_nodes(result)[0])["filename"] = "changed.py"
    assert params(execution_nodes(document)[0])["filename"] == "greet.py"


@pytest.mark.parametrize("version", range(1, CURRENT_VERSION))
def test_junk_inside_the_document_is_left_for_the_validator(version: int) -> None:
    document = small_document(version)
    main = document["pipelines"][0]
    main["app_data"].update(runtime=["kfp"], properties={"pipeline_defaults": "none"})
    main["nodes"] += [
        "not a node",
        {"id": "n2", "type": "execution_node", "op": ["bash-operator_BashOperator"], "app_data": None},
        {"id": "n3", "type": "execution_node", "op": "filter-text",
         "app_data": {"component_parameters": "text", "component_source": 42, "ui_data": "x"}},
        {"id": "n4", "type": "execution_node", "op": "component_Downloaddata",
         "app_data": {"component_parameters": {"url": {"activeControl": ["x"]}, "env_vars": [1, None, "A=b"],
                                               "mounted_volumes": "m"}}},
        {"id": "n5", "type": "execution_node", "app_data": {"filename": 7, "env_vars": {"A": "b"}}},
    ]
    document["pipelines"] += ["not a pipeline", {"id": "sub", "nodes": "none", "app_data": []}]
    original = copy.deepcopy(document)

    result, steps = migrate(document, "dir/x.pipeline")

    assert document == original
    assert steps == list(range(version + 1, CURRENT_VERSION + 1))
    nodes = {node["id"]: node for node in result["pipelines"][0]["nodes"] if isinstance(node, dict)}
    assert "not a node" in result["pipelines"][0]["nodes"]
    assert nodes["n2"]["app_data"] is None
    n3_params = nodes["n3"]["app_data"] if version >= 4 else nodes["n3"]["app_data"]["component_parameters"]
    assert n3_params["component_parameters"] == "text"
    n4_params = nodes["n4"]["app_data"]["component_parameters"]
    assert n4_params["url"] == {"activeControl": ["x"]}
    assert n4_params["env_vars"] == [1, None, {"env_var": "A", "value": "b"}]
    assert n4_params["mounted_volumes"] == "m"
    n5 = nodes["n5"]["app_data"] if version >= 4 else nodes["n5"]["app_data"]["component_parameters"]
    assert (n5["filename"], n5["env_vars"]) == (7, {"A": "b"})
    assert result["pipelines"][1:] == original["pipelines"][1:]


@pytest.mark.parametrize("change", [
    lambda doc: doc.update(primary_pipeline="missing"),
    lambda doc: doc.update(pipelines="none"),
    lambda doc: doc["pipelines"][0].update(app_data="none"),
    lambda doc: doc["pipelines"][0]["app_data"].update(version="7"),
    lambda doc: doc["pipelines"][0]["app_data"].update(version=True),
    lambda doc: doc["pipelines"][0]["app_data"].update(version=0),
    lambda doc: doc["pipelines"][0]["app_data"].pop("version"),
])
def test_documents_without_a_usable_version_are_returned_unchanged(change: Any) -> None:
    document = small_document(7)
    change(document)

    assert migrate(document) == (document, [])
