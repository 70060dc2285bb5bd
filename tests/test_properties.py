"""The node property table: for every property, its form, the document schema, the parser, the validator and the
KFP compiler agree, and everything derived from the table (the pipeline schema, the editor's forms, the docs) is.

Each test is parametrized over `PROPERTIES`, and `CASES` must hold an entry for every property: a new property
fails here until it has a good value (that passes every stage and shows up in the compiled KFP spec) and a bad one
(rejected with an issue naming the node and the property).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from conftest import PROJECT, node, pipeline_document
from jsonschema import Draft7Validator, Draft202012Validator

from elyra_proc_ext.kfp.compiler import StagingPlan, compile_pipeline
from elyra_proc_ext.model import GENERIC_OPS, KubernetesSecret, Node, Pipeline, Toleration, VolumeMount
from elyra_proc_ext.parsing import parse, pipeline_schema
from elyra_proc_ext.properties import (
    INHERITABLE,
    PIPELINE_ONLY_DEFAULTS,
    PROPERTIES,
    NodeProperty,
    generic_parameters_schema,
    node_form,
    node_properties_markdown,
    palette,
    pipeline_form,
)
from elyra_proc_ext.validation import validate_pipeline

PARAMETERS = [{"name": "P", "description": "", "default_value": {"type": "String", "value": "x"}, "required": False}]
STAGING = StagingPlan("http://s3.example:9000", "bucket", "runs/p")


@dataclass(frozen=True)
class Case:
    good: Any  # as Elyra's editor saves it
    parsed: Any  # the Node attribute it becomes
    bad: Any  # rejected by the document schema or by validation
    in_kfp: str | None  # text of the compiled spec with the good value only; None: it acts through the archive
    also: dict[str, Any] = field(default_factory=dict)  # other parameters the good value needs to take effect


CASES: dict[str, Case] = {
    "filename": Case("b.py", "b.py", "../outside.py", "constant: b.py"),
    "runtime_image": Case("quay.io/org/image:2", "quay.io/org/image:2", "Not An Image!",
                          "image: quay.io/org/image:2"),
    "dependencies": Case(["data.csv"], ["data.csv"], ["missing.csv"], None),
    "include_subdirectories": Case(True, True, "yes", None, {"dependencies": ["*.csv"]}),
    "outputs": Case(["result.csv"], ["result.csv"], ["../result.csv"], "constant: result.csv"),
    "env_vars": Case([{"env_var": "GREETING", "value": "hello"}], {"GREETING": "hello"},
                     [{"env_var": "1BAD", "value": "v"}], '"GREETING": "hello"'),
    "cpu": Case(2, 2.0, -1, "resourceCpuRequest: '2'"),
    "cpu_limit": Case(3, 3.0, 0, "resourceCpuLimit: '3'"),
    "memory": Case(4, 4.0, "lots", "resourceMemoryRequest: 4G"),
    "memory_limit": Case(5, 5.0, -5, "resourceMemoryLimit: 5G"),
    "gpu": Case(1, 1.0, 1.5, "resourceCount: '1'"),
    "gpu_vendor": Case("amd.com/gpu", "amd.com/gpu", "Bad Vendor", "resourceType: amd.com/gpu", {"gpu": 1}),
    "kubernetes_secrets": Case([{"env_var": "TOKEN", "name": "api-secret", "key": "token"}],
                               [KubernetesSecret("TOKEN", "api-secret", "token")],
                               [{"env_var": "TOKEN", "name": "Bad_Name", "key": "token"}], "secretName: api-secret"),
    "mounted_volumes": Case([{"path": "/data", "pvc_name": "claim", "sub_path": "part", "read_only": True}],
                            [VolumeMount("/data", "claim", "part", True)], [{"path": "relative", "pvc_name": "c"}],
                            "mountPath: /data"),
    "kubernetes_tolerations": Case([{"key": "gpu", "operator": "Equal", "value": "yes", "effect": "NoSchedule"}],
                                   [Toleration("gpu", "Equal", "yes", "NoSchedule")],
                                   [{"key": "gpu", "operator": "Sometimes"}], "effect: NoSchedule"),
    "kubernetes_pod_labels": Case([{"key": "team", "value": "ml"}], {"team": "ml"},
                                  [{"key": "bad key", "value": "v"}], "team: ml"),
    "kubernetes_pod_annotations": Case([{"key": "example.com/owner", "value": "ana"}], {"example.com/owner": "ana"},
                                       [{"key": "bad key", "value": "v"}], "example.com/owner: ana"),
    "kubernetes_shared_mem_size": Case({"size": 2, "units": "G"}, 2.0, {"size": -2, "units": "G"}, "sizeLimit: 2G"),
    "disable_node_caching": Case("True", True, 3, "enableCache: false"),
    "pipeline_parameters": Case(["P"], ["P"], ["UNDEFINED"], "componentInputParameter: P"),
}
each_property = pytest.mark.parametrize("prop", PROPERTIES, ids=[prop.name for prop in PROPERTIES])
each_inheritable = pytest.mark.parametrize("prop", INHERITABLE, ids=[prop.name for prop in INHERITABLE])


@pytest.fixture
def root(tmp_path: Path) -> Path:
    for name in ("a.py", "b.py", "data.csv"):
        (tmp_path / name).write_text("print('x')\n" if name.endswith(".py") else "x\n")
    return tmp_path


def document(parameters: dict[str, Any], defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """One Python node 'a' with `parameters`, in a pipeline that defines parameter P."""
    inherits_image = defaults is not None and "runtime_image" not in parameters
    raw = node("a", parameters.pop("filename", "a.py"), **parameters)
    if inherits_image:
        raw["app_data"]["component_parameters"].pop("runtime_image")
    properties: dict[str, Any] = {"pipeline_parameters": PARAMETERS}
    if defaults is not None:
        properties["pipeline_defaults"] = defaults
    return pipeline_document("p", [raw], **properties)


def parsed(doc: dict[str, Any]) -> Pipeline:
    result = parse(doc, source="p.pipeline")
    assert result.pipeline is not None and not result.issues, [issue.message for issue in result.issues]
    return result.pipeline


def validated(pipeline: Pipeline, root: Path) -> list[str]:
    issues = validate_pipeline(pipeline, root, requires_runtime_image=True, supported_ops=GENERIC_OPS,
                               runtime_name="kfp")
    return [issue.message for issue in issues if issue.fatal]


@cache
def baseline_yaml() -> str:
    return compile_pipeline(parse(document({}), source="p.pipeline").pipeline, STAGING).to_yaml()  # type: ignore


def test_every_property_has_a_case_and_a_node_attribute() -> None:
    assert set(CASES) == {prop.name for prop in PROPERTIES}
    assert {prop.name for prop in PROPERTIES} <= {attribute.name for attribute in fields(Node)}


@each_property
def test_a_good_value_passes_every_stage(prop: NodeProperty, root: Path) -> None:
    case = CASES[prop.name]
    context_free_form = node_form("execute-python-node")["schema"]["properties"]["component_parameters"]
    assert Draft7Validator(context_free_form["properties"][prop.name]).is_valid(case.good), "editor form refuses it"
    assert Draft202012Validator(generic_parameters_schema()).is_valid({prop.name: case.good}), "schema refuses it"
    pipeline = parsed(document({prop.name: case.good, **case.also}))
    assert getattr(pipeline.nodes["a"], prop.name) == case.parsed
    assert validated(pipeline, root) == []
    compiled = compile_pipeline(pipeline, STAGING).to_yaml()
    if case.in_kfp is None:
        assert prop.kfp_task is None and prop.kfp_spec is None and prop.kfp_platform is None
        assert compiled == baseline_yaml()
    else:
        assert case.in_kfp in compiled and case.in_kfp not in baseline_yaml()


@each_property
def test_a_bad_value_is_rejected_naming_node_and_property(prop: NodeProperty, root: Path) -> None:
    result = parse(document({prop.name: CASES[prop.name].bad}), source="p.pipeline")
    issues = result.issues
    if result.pipeline is not None and not issues:
        issues = validate_pipeline(result.pipeline, root, requires_runtime_image=True, supported_ops=GENERIC_OPS,
                                   runtime_name="kfp")
    named = [issue for issue in issues if issue.fatal and issue.node_id == "a" and issue.property_name == prop.name]
    assert named and all("'a'" in issue.message for issue in named), [issue.to_json() for issue in issues]


@each_inheritable
def test_a_pipeline_default_applies_as_the_node_value_would(prop: NodeProperty, root: Path) -> None:
    case = CASES[prop.name]
    defaults = {"runtime_image": "python:3.11", prop.name: case.good}
    pipeline = parsed(document(dict(case.also), defaults))
    assert getattr(pipeline.nodes["a"], prop.name) == case.parsed
    assert validated(pipeline, root) == []


def test_merging_follows_the_declared_strategy() -> None:
    defaults = {"runtime_image": "default:1",
                "env_vars": [{"env_var": "A", "value": "1"}, {"env_var": "B", "value": "2"}],
                "kubernetes_tolerations": [{"key": "x", "operator": "Exists", "value": "", "effect": ""}]}
    own = {"runtime_image": "own:1", "env_vars": [{"env_var": "A", "value": "9"}],
           "kubernetes_tolerations": [{"key": "y", "operator": "Exists", "value": "", "effect": ""}]}
    node_a = parsed(document(dict(own), defaults)).nodes["a"]
    assert node_a.runtime_image == "own:1"  # override
    assert node_a.env_vars == {"A": "9", "B": "2"}  # merge-by-key
    assert [t.key for t in node_a.kubernetes_tolerations] == ["x", "y"]  # union
    blank = parsed(document({"runtime_image": "", "disable_node_caching": ""}, defaults)).nodes["a"]
    assert blank.runtime_image == "default:1"  # a cleared field inherits


def test_the_pipeline_schema_takes_node_parameters_from_the_table() -> None:
    served = pipeline_schema()["$defs"]["genericParameters"]
    assert served == generic_parameters_schema()
    assert list(served["properties"]) == [prop.name for prop in PROPERTIES]
    shipped = (PROJECT / "elyra_proc_ext" / "schemas" / "pipeline.schema.json").read_text()
    assert '"genericParameters"' not in shipped, "declared twice: the table generates it"
    Draft202012Validator.check_schema(pipeline_schema())


def single_types(schema: Any, path: str = "") -> list[str]:
    """Paths of `type` keywords that are not one JSON type (rjsf renders one type per field)."""
    if isinstance(schema, list):
        return [found for index, item in enumerate(schema) for found in single_types(item, f"{path}[{index}]")]
    if not isinstance(schema, dict):
        return []
    problems = [path] if not isinstance(schema.get("type", ""), str) else []
    for key, value in schema.items():
        if key in ("properties", "dependencies"):  # maps of names to schemas
            problems += [found for name, child in value.items() for found in single_types(child, f"{path}.{name}")]
        elif key not in ("examples", "uihints"):
            problems += single_types(value, f"{path}.{key}")
    return problems


@pytest.mark.parametrize("op", list(GENERIC_OPS))
def test_node_forms_are_valid_single_type_schemas(op: str) -> None:
    form = node_form(op, ["python:3.11", "quay.io/org/image:2"])
    Draft7Validator.check_schema(form["schema"])
    assert single_types(form["schema"]) == []
    parameters = form["schema"]["properties"]["component_parameters"]["properties"]
    assert list(parameters) == [prop.name for prop in PROPERTIES]
    assert {name for name, schema in parameters.items() if schema.get("x-pipeline-default")} == {
        prop.name for prop in INHERITABLE}
    extensions = next(t["extensions"] for t in palette()["categories"][0]["node_types"] if t["op"] == op)
    assert parameters["filename"]["uihints"] == {"ui:widget": "file", "extensions": extensions}
    assert parameters["runtime_image"]["examples"] == ["python:3.11", "quay.io/org/image:2"]
    ui = form["uiSchema"]["component_parameters"]
    assert ui["ui:order"] == list(parameters)
    assert ui["filename"] == {"ui:widget": "file", "ui:options": {"extensions": extensions}}
    assert ui["env_vars"]["items"]["env_var"] == {"ui:placeholder": "ENV_VAR"}


def test_the_pipeline_form_offers_every_inheritable_property_and_typed_parameters() -> None:
    form = pipeline_form(["python:3.11"])
    schema = form["schema"]
    Draft7Validator.check_schema(schema)
    assert single_types(schema) == []
    defaults = schema["properties"]["pipeline_defaults"]["properties"]
    assert list(defaults) == [prop.name for prop in INHERITABLE] + list(PIPELINE_ONLY_DEFAULTS)
    assert defaults["runtime_image"]["examples"] == ["python:3.11"]
    validator = Draft7Validator(schema)
    saved = {"name": "p", "description": "d", "pipeline_defaults": {"runtime_image": "python:3.11", "env_vars": [
        {"env_var": "A", "value": "1"}]}, "pipeline_parameters": [
        {"name": "N", "description": "", "default_value": {"type": "Integer", "value": 3}, "required": True},
        {"name": "F", "default_value": {"type": "Bool", "value": False}}]}
    assert not list(validator.iter_errors(saved))
    wrong = {"pipeline_parameters": [{"name": "N", "default_value": {"type": "Integer", "value": "three"}}]}
    assert list(validator.iter_errors(wrong))
    assert form["uiSchema"]["ui:order"] == ["name", "description", "pipeline_defaults", "pipeline_parameters"]


def test_unknown_node_types_have_no_form() -> None:
    with pytest.raises(Exception, match="'execute-java-node' is not a generic node type") as raised:
        node_form("execute-java-node")
    assert getattr(raised.value, "status", None) == 404


def test_the_committed_docs_are_current() -> None:
    generated = subprocess.run([sys.executable, "-m", "elyra_proc_ext.properties"], capture_output=True, text=True,
                               check=True, cwd=PROJECT).stdout
    assert generated == node_properties_markdown()
    committed = (PROJECT / "docs" / "node-properties.md").read_text(encoding="utf-8")
    assert committed == generated, "run: python -m elyra_proc_ext.properties > docs/node-properties.md"
    for prop in PROPERTIES:
        assert f"| `{prop.name}` |" in committed
