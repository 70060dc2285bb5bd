"""The OpenAPI document is the API's contract: it is valid OpenAPI, it lists exactly the routes the server has,
and real answers of a live in-process server, for success and for every error status, conform to it.

`Contract.check` finds the operation of each answer, fails when its status is not documented, and checks the
required headers, the content type and the body against the document's schema for that status. The last test
fails when a documented answer was never seen here.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from conftest import fill, node, pipeline_document
from jsonschema import Draft202012Validator
from kfp_server import KfpTestServer
from openapi_spec_validator import validate as validate_openapi
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from s3_server import S3Server
from test_bounded_checks import slow_document
from tornado.httpclient import HTTPResponse

from elyra_proc_ext.handlers import ROUTES
from elyra_proc_ext.model import GENERIC_OPS, Node, Pipeline
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.properties import generic_parameters_schema
from elyra_proc_ext.store import RunRecord, RunStore

DOCUMENT_URI = "urn:elyra-proc-ext:openapi"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SOURCE = "hello_pipeline/hello_pipeline.pipeline"
MAX_REQUEST_BYTES = 64 * 1024
NOT_EXERCISED = {
    "401": "Jupyter's identity provider answers 403 to a missing or wrong token; 401 is documented for identity "
           "providers and proxies that answer it.",
}


def shipped(name: str) -> dict[str, Any]:
    return json.loads(resources.files("elyra_proc_ext").joinpath(f"schemas/{name}").read_text())


def pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class Contract:
    """Checks real answers against the document and remembers which (path, method, status) were seen."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012))
        self.seen: set[tuple[str, str, str]] = set()
        self._templates = [(re.compile("/".join("[^/]+" if part.startswith("{") else re.escape(part)
                                                for part in template.split("/"))), template)
                           for template in document["paths"]]

    def operations(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for template, item in self.document["paths"].items():
            for method, operation in item.items():
                if method in HTTP_METHODS:
                    yield template, method, operation

    def template(self, path: str) -> str:
        """The documented path a request path falls under; the most literal one when several match."""
        matches = [template for regex, template in self._templates if regex.fullmatch(path)]
        assert matches, f"{path} is under no documented path"
        return max(matches, key=lambda template: template.count("/") - template.count("{"))

    def check(self, method: str, path: str, response: HTTPResponse) -> Any:
        """The decoded body, after checking the answer against the document; fails on any mismatch."""
        method = method.lower()
        template = self.template(path)
        operation = self.document["paths"][template].get(method)
        assert operation is not None, f"{method.upper()} {template} is not documented"
        status = str(response.code)
        text = response.body.decode(errors="replace")
        assert status in operation["responses"], (
            f"{method.upper()} {path} answered {status}, which the document does not list for it: {text[:2000]}")
        location = pointer("paths", template, method, "responses", status)
        documented = operation["responses"][status]
        if "$ref" in documented:
            location = documented["$ref"].removeprefix("#")
            documented = self.resolve(location)
        for name, header in documented.get("headers", {}).items():
            assert not header.get("required") or name in response.headers, f"{method} {path}: no {name} header"
        content = documented.get("content")
        if not content:
            assert not response.body, f"{method.upper()} {path} {status} should have no body: {text[:500]}"
            self.seen.add((template, method, status))
            return None
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        assert media_type in content, (
            f"{method.upper()} {path} {status} answered {media_type!r}, documented: {sorted(content)}")
        body = json.loads(response.body) if media_type.endswith("json") else text
        schema = {"$ref": f"{DOCUMENT_URI}#{location}{pointer('content', media_type, 'schema')}"}
        errors = sorted(Draft202012Validator(schema, registry=self.registry).iter_errors(body), key=str)
        assert not errors, (f"{method.upper()} {path} {status} does not match the document:\n"
                            + "\n".join(f"- {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
                            + f"\nbody: {text[:2000]}")
        self.seen.add((template, method, status))
        return body

    def resolve(self, location: str) -> dict[str, Any]:
        node: Any = self.document
        for part in location.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node


CONTRACT = Contract(shipped("openapi.json"))


async def call(jp_fetch: Any, method: str, *path: str, body: Any = None, **params: str) -> tuple[int, Any]:
    """Send a request with the test token; the answer is checked against the document before it is returned."""
    data = body if body is None or isinstance(body, bytes) else json.dumps(body).encode()
    if data is None and method in ("POST", "PUT"):
        data = b""
    response: HTTPResponse = await jp_fetch("pipeline", *path, method=method, body=data, params=params,
                                            raise_error=False, allow_nonstandard_methods=True)
    return response.code, CONTRACT.check(method, "/pipeline/" + "/".join(path), response)


def listening_socket(listen: bool) -> Iterator[str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        if listen:
            sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def dead_endpoint() -> Iterator[str]:
    """A port bound but not listening: connections are refused at once."""
    yield from listening_socket(listen=False)


@pytest.fixture
def hanging_endpoint() -> Iterator[str]:
    """A port that accepts connections (the kernel's backlog) and never answers: every call times out."""
    yield from listening_socket(listen=True)


@pytest.fixture
def jp_server_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The extension on; with `check_limits`, short check time limits, no waiting line and room for a slow (big)
    pipeline; with `small_disk`, run records on that disk (mounted before the server starts)."""
    config: dict[str, Any] = {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}},
                              "ElyraProcExt": {"max_request_bytes": MAX_REQUEST_BYTES}}
    if "check_limits" in request.fixturenames:
        config["ProcessorManager"] = {"check_timeout": 1.5, "check_processes": 2, "checks_queued_per_user": 0}
        config["ElyraProcExt"]["max_request_bytes"] = 8 * 1024 * 1024  # a slow pipeline is a big one
    if "small_disk" in request.fixturenames:
        config["ElyraProcExt"]["data_dir"] = str(request.getfixturevalue("small_disk") / "data")
    return config


@pytest.fixture
def check_limits() -> None:
    """Asks `jp_server_config` for short check time limits and one check per user, with no waiting line."""


def kfp_config(name: str, api_endpoint: str, cos_endpoint: str, bucket: str = "bucket", **metadata: Any
               ) -> dict[str, Any]:
    return {"name": name, "display_name": name, "schema_name": "kfp", "metadata": {
        "api_endpoint": api_endpoint, "cos_endpoint": cos_endpoint, "cos_bucket": bucket,
        "auth_type": "EXISTING_BEARER_TOKEN", "api_password": "token-1", "cos_auth_type": "USER_CREDENTIALS",
        "cos_username": "user", "cos_password": "secret-2", "timeout": 0.5, **metadata}}


@pytest.fixture
def remote_state(jp_data_dir: Path, dead_endpoint: str, hanging_endpoint: str) -> dict[str, str]:
    """Written before the server starts: runs handed to remote runtimes and configurations the REST API would
    refuse to write (a runtime without connection test, a runtime that is not installed)."""
    runtimes = jp_data_dir / "metadata" / "runtimes"
    runtimes.mkdir(parents=True)
    files = {
        "down": kfp_config("down", dead_endpoint, dead_endpoint),
        "slow": kfp_config("slow", hanging_endpoint, hanging_endpoint),
        "local-config": {"display_name": "local", "schema_name": "local", "metadata": {}},
        "gone-config": {"display_name": "gone", "schema_name": "gone", "metadata": {}},
    }
    for name, content in files.items():
        content.pop("name", None)
        (runtimes / f"{name}.json").write_text(json.dumps(content))
    store = RunStore(jp_data_dir / "elyra_proc_ext" / "runs.sqlite")
    pipeline = Pipeline(id="p", name="remote", nodes={"a": Node("a", "a", "execute-python-node", "python")})
    ids = {}
    for label, runtime, config in (("local", "local", None), ("gone", "gone", None), ("down", "kfp", "down"),
                                   ("slow", "kfp", "slow")):
        record = RunRecord.new(pipeline, runtime, config, jp_data_dir / "runs")
        record.status, record.result = RunStatus.SUBMITTED, {"kfp_run_id": f"kfp-{label}"}
        store.save(record)
        ids[label] = record.id
    store.close()
    return ids


def test_document_is_valid_openapi() -> None:
    document = shipped("openapi.json")
    validate_openapi(document)
    assert document["openapi"].startswith("3.")


def test_every_route_and_method_is_documented() -> None:
    routes = {}
    for route, handler in ROUTES:
        template = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
        routes[template] = {method for method in HTTP_METHODS if method in vars(handler)}
    documented = {template: {method for method in item if method in HTTP_METHODS}
                  for template, item in CONTRACT.document["paths"].items()}
    assert documented == routes


def test_kfp_configuration_schema_is_the_shipped_one() -> None:
    """The request schema of kfp configurations is a copy: it must not drift from runtime-kfp.schema.json."""
    shipped_metadata = shipped("runtime-kfp.schema.json")["properties"]["metadata"]
    assert CONTRACT.document["components"]["schemas"]["KfpRuntimeMetadata"] == shipped_metadata


def test_error_statuses_answer_the_error_shape() -> None:
    """Every documented 4xx/5xx answer is an `Error`, so clients read every failure the same way."""
    for template, method, operation in CONTRACT.operations():
        for status, answer in operation["responses"].items():
            if status[0] in "45":
                assert answer.get("$ref", "").startswith("#/components/responses/"), (template, method, status)
                content = CONTRACT.resolve(answer["$ref"].removeprefix("#"))["content"]
                assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def test_examples_match_their_schemas() -> None:
    for template, method, operation in CONTRACT.operations():
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            for name, example in content.get("examples", {}).items():
                location = pointer("paths", template, method, "requestBody", "content", media_type, "schema")
                validator = Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{location}"}, registry=CONTRACT.registry)
                errors = list(validator.iter_errors(CONTRACT.resolve(example["$ref"].removeprefix("#"))["value"]))
                assert not errors, (template, method, name, errors[0].message)


async def test_the_document_is_served(jp_fetch: Any) -> None:
    code, served = await call(jp_fetch, "GET", "openapi.json")
    assert code == 200 and served == shipped("openapi.json")
    code, schema = await call(jp_fetch, "GET", "schema")
    expected = shipped("pipeline.schema.json")
    expected["$defs"]["genericParameters"] = generic_parameters_schema()
    assert code == 200 and schema == expected
    code, runtimes = await call(jp_fetch, "GET", "runtimes")
    assert code == 200 and {r["name"] for r in runtimes["runtimes"]} >= {"local", "kfp"}


async def test_editor_routes(jp_fetch: Any, jp_data_dir: Path) -> None:
    images = jp_data_dir / "metadata" / "runtime-images"
    images.mkdir(parents=True)
    (images / "py.json").write_text(json.dumps({"display_name": "Python", "schema_name": "runtime-image",
                                                "metadata": {"image_name": "python:3.11", "pull_policy": "Always"}}))
    (images / "bad.json").write_text("{")
    code, palette = await call(jp_fetch, "GET", "palette")
    assert code == 200 and [t["op"] for t in palette["categories"][0]["node_types"]] == list(GENERIC_OPS)
    for op in GENERIC_OPS:
        code, form = await call(jp_fetch, "GET", "properties", "nodes", op)
        assert code == 200 and "component_parameters" in form["schema"]["properties"]
    code, error = await call(jp_fetch, "GET", "properties", "nodes", "no-such-op")
    assert code == 404 and "no-such-op" in error["message"]
    code, form = await call(jp_fetch, "GET", "properties", "pipeline")
    assert code == 200 and "pipeline_defaults" in form["schema"]["properties"]
    code, listed = await call(jp_fetch, "GET", "runtime-images")
    assert code == 200 and [image["name"] for image in listed["runtime_images"]] == ["py"]


async def test_migrate(jp_fetch: Any) -> None:
    old = json.loads(next((Path(__file__).parent / "fixtures" / "formats" / "v4").glob("*.pipeline")).read_text())
    code, answer = await call(jp_fetch, "POST", "migrate", body=old, path="v4/old.pipeline")
    assert code == 200 and answer["from_version"] == 4
    code, answer = await call(jp_fetch, "POST", "migrate", body=answer["pipeline"])
    assert code == 200 and answer["from_version"] is None
    code, error = await call(jp_fetch, "POST", "migrate", body={"pipelines": []})
    assert code == 400 and error["issues"]


async def test_validate_and_schedule(jp_fetch: Any, document: dict[str, Any], jp_root_dir: Path) -> None:
    code, checked = await call(jp_fetch, "POST", "validate", body=document, paths="pipeline")
    assert code == 200 and checked["valid"] is True
    code, checked = await call(jp_fetch, "POST", "validate", body=[], runtime="kfp")
    assert code == 200 and checked["valid"] is False and checked["issues"]
    code, error = await call(jp_fetch, "POST", "validate", body=b"{not json")
    assert code == 400 and error["issues"][0]["type"] == "malformedJSON"
    (jp_root_dir / "hello.py").write_text("print('hello')\n")
    example = CONTRACT.document["components"]["examples"]["HelloPipeline"]["value"]
    code, checked = await call(jp_fetch, "POST", "validate", body=example)
    assert code == 200 and checked == {**checked, "valid": True, "issues": []}, "the document's example must be valid"

    broken = pipeline_document("broken", [node("a", "missing.py")])
    code, error = await call(jp_fetch, "POST", "schedule", body=broken)
    assert code == 400 and error["issues"][0]["data"]["nodeID"] == "a"
    code, error = await call(jp_fetch, "POST", "schedule", body=b"\xff")
    assert code == 400 and error["issues"]

    (jp_root_dir / "quick.py").write_text("print('quick')\n")
    code, started = await call(jp_fetch, "POST", "schedule", body=pipeline_document("q", [node("q", "quick.py")]))
    assert code == 202 and started["status"] in ("pending", "running")
    code, finished = await call(jp_fetch, "POST", "schedule", body=document, paths="pipeline", wait="true")
    assert code == 200 and finished["run"]["status"] == "succeeded"
    for _ in range(300):
        code, run = await call(jp_fetch, "GET", "runs", started["run_id"])
        if run["status"] in RunStatus.FINAL:
            break
    assert code == 200 and run["status"] == "succeeded"

    code, runs = await call(jp_fetch, "GET", "runs", limit="1", offset="1")
    assert code == 200 and len(runs["runs"]) == 1
    code, error = await call(jp_fetch, "GET", "runs", limit="many")
    assert code == 400 and "whole numbers" in error["message"]
    code, runs = await call(jp_fetch, "GET", "runs", source=f"./{SOURCE}", status="succeeded,failed", runtime="local")
    assert code == 200 and [run["id"] for run in runs["runs"]] == [finished["run_id"]]
    code, error = await call(jp_fetch, "GET", "runs", status="finished")
    assert code == 400 and "'finished'" in error["message"]
    for method, path in (("GET", ("runs", "nope")), ("POST", ("runs", "nope", "cancel")),
                         ("GET", ("runs", finished["run_id"], "nodes", "summarize", "secrets"))):
        code, error = await call(jp_fetch, method, *path)
        assert code == 404 and ("'nope'" in error["message"] or "'secrets'" in error["message"]), error
    code, run = await call(jp_fetch, "POST", "runs", finished["run_id"], "cancel")
    assert code == 200 and run["status"] == "succeeded"


async def test_a_missing_file_names_the_paths_option(jp_fetch: Any, jp_root_dir: Path) -> None:
    """A pipeline file's content posted without `?paths=pipeline`: its file-relative paths are read from the root,
    and the missing-file issue says which option reads them as the file does."""
    (jp_root_dir / "pipelines").mkdir()
    (jp_root_dir / "pipelines" / "step.py").write_text("print('step')\n")
    document = pipeline_document("flow", [node("step", "step.py")])
    document["pipelines"][0]["app_data"]["source"] = "pipelines/flow.pipeline"
    code, checked = await call(jp_fetch, "POST", "validate", body=document)
    assert code == 200 and checked["valid"] is False
    [issue] = checked["issues"]
    assert "file 'step.py' does not exist" in issue["message"] and "?paths=pipeline" in issue["message"]
    code, checked = await call(jp_fetch, "POST", "validate", body=document, paths="pipeline")
    assert code == 200 and checked["valid"] is True
    document["pipelines"][0]["nodes"][0]["app_data"]["component_parameters"]["filename"] = "gone.py"
    code, checked = await call(jp_fetch, "POST", "validate", body=document, paths="pipeline")
    [issue] = checked["issues"]
    assert "'pipelines/'" in issue["message"] and "?paths=pipeline" not in issue["message"]


async def test_node_artifacts_are_served_as_documented(jp_fetch: Any, document: dict[str, Any]) -> None:
    code, finished = await call(jp_fetch, "POST", "schedule", body=document, paths="pipeline", wait="true")
    assert code == 200 and finished["status"] == "succeeded"
    code, log = await call(jp_fetch, "GET", "runs", finished["run_id"], "nodes", "per-station", "log")
    assert code == 200 and "unit: celsius" in log
    code, notebook = await call(jp_fetch, "GET", "runs", finished["run_id"], "nodes", "summarize", "notebook")
    assert code == 200 and notebook["cells"]
    summarize = next(node for node in finished["run"]["nodes"] if node["id"] == "summarize")
    assert sorted(summarize["artifacts"]) == ["log", "notebook"]
    for url in summarize["artifacts"].values():  # each artifact's URL is the artifact route under base_url
        code, _ = await call(jp_fetch, "GET", *url.split("/pipeline/", 1)[1].split("/"))
        assert code == 200, url


async def test_export_refusals(remote_state: dict[str, str], jp_fetch: Any, document: dict[str, Any]) -> None:
    request = {"pipeline": document, "export_format": "yaml", "export_path": "hello_pipeline/out.yaml"}
    code, error = await call(jp_fetch, "POST", "export", body=request, paths="pipeline")
    assert code == 400 and "no export format" in error["message"]
    code, error = await call(jp_fetch, "POST", "export", body={**request, "export_path": "../out.yaml"})
    assert code == 400 and "outside the server root" in error["message"]
    code, error = await call(jp_fetch, "POST", "export", body={"pipeline": document})
    assert code == 400 and "export_path" in error["message"]
    code, error = await call(jp_fetch, "POST", "export", body=request, paths="pipeline", runtime_config="down")
    assert code == 502 and "not reachable" in error["message"]


async def test_runtime_configurations(jp_fetch: Any, dead_endpoint: str) -> None:
    code, listing = await call(jp_fetch, "GET", "runtime-configs")
    assert code == 200 and listing["runtime_configs"] == []
    body = kfp_config("team", dead_endpoint, dead_endpoint)
    code, created = await call(jp_fetch, "POST", "runtime-configs", body=body)
    assert code == 201 and created["metadata"]["api_password"] == "********"
    code, error = await call(jp_fetch, "POST", "runtime-configs", body=body)
    assert code == 409 and "already exists" in error["message"]
    code, error = await call(jp_fetch, "POST", "runtime-configs", body={**body, "schema_name": "local"})
    assert code == 400 and "schema_name" in error["message"]
    code, error = await call(jp_fetch, "POST", "runtime-configs", body=b"[")
    assert code == 400 and "not valid JSON" in error["message"]
    code, config = await call(jp_fetch, "GET", "runtime-configs", "team")
    assert code == 200 and config["metadata"]["cos_password"] == "********"
    code, listing = await call(jp_fetch, "GET", "runtime-configs")
    assert code == 200 and [c["name"] for c in listing["runtime_configs"]] == ["team"]
    update = {**config, "metadata": {**config["metadata"], "description": "shared"}}
    code, updated = await call(jp_fetch, "PUT", "runtime-configs", "team", body=update)
    assert code == 200 and updated["metadata"]["description"] == "shared"
    code, error = await call(jp_fetch, "PUT", "runtime-configs", "team",
                             body={**update, "metadata": {**update["metadata"], "cos_bucket": "No Bucket"}})
    assert code == 400 and "cos_bucket" in error["message"]
    code, tested = await call(jp_fetch, "POST", "runtime-configs", "team", "test")
    assert code == 502 and "Cannot connect" in tested["message"]
    for method, body_ in (("GET", None), ("PUT", update), ("DELETE", None), ("POST", None)):
        path = ("runtime-configs", "bad name!") + (("test",) if method == "POST" else ())
        code, error = await call(jp_fetch, method, *path, body=body_)
        assert code == 400 and "not a valid runtime configuration name" in error["message"], (method, error)
        path = ("runtime-configs", "nothing") + (("test",) if method == "POST" else ())
        code, error = await call(jp_fetch, method, *path, body=body_)
        assert code == 404, (method, error)
    code, _ = await call(jp_fetch, "DELETE", "runtime-configs", "team")
    assert code == 204


async def test_component_catalogs(jp_fetch: Any, tmp_path: Path) -> None:
    """Every documented answer of the catalog routes (tests/test_catalogs_rest_cli.py checks what they do)."""
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "c.yaml").write_text(
        "name: C\ninputs: [{name: x}]\nimplementation: {container: {image: alpine, args: [{inputValue: x}]}}\n")
    code, listing = await call(jp_fetch, "GET", "catalogs")
    assert code == 200 and listing["catalogs"] == []
    body = {"display_name": "Team", "schema_name": "local-directory-catalog",
            "metadata": {"paths": [str(tmp_path / "components")]}}
    code, created = await call(jp_fetch, "POST", "catalogs", body=body)
    assert code == 201 and created["component_count"] == 1
    assert (await call(jp_fetch, "POST", "catalogs", body=body))[0] == 409
    assert (await call(jp_fetch, "POST", "catalogs", body={**body, "metadata": []}))[0] == 400
    code, palette = await call(jp_fetch, "GET", "palette", runtime_type="KUBEFLOW_PIPELINES")
    (component,) = [entry for category in palette["categories"][1:] for entry in category["node_types"]]
    assert code == 200 and component["catalog"] == "team"
    code, form = await call(jp_fetch, "GET", "properties", "nodes", component["op"])
    assert code == 200 and "x" in form["schema"]["properties"]["component_parameters"]["properties"]
    assert (await call(jp_fetch, "GET", "palette", runtime_type="NO_SUCH_RUNTIME"))[0] == 400
    for method, path, payload in (("GET", (), None), ("PUT", (), body), ("POST", ("refresh",), None),
                                  ("DELETE", (), None)):
        for name, status in (("bad name!", 400), ("nothing", 404), ("team", 204 if method == "DELETE" else 200)):
            code, answer = await call(jp_fetch, method, "catalogs", name, *path, body=payload)
            assert code == status, (method, name, answer)


async def test_runs_on_remote_runtimes(remote_state: dict[str, str], jp_fetch: Any) -> None:
    """Cancelling and reading runs handed to a runtime that cannot cancel, is not installed, is down or hangs."""
    expected = {"local": (400, "cannot cancel"), "gone": (409, "not available"),
                "down": (502, "Cannot connect"), "slow": (504, "did not answer")}
    for label, (status, message) in expected.items():
        code, error = await call(jp_fetch, "POST", "runs", remote_state[label], "cancel")
        assert code == status and message in error["message"], (label, error)
        code, run = await call(jp_fetch, "GET", "runs", remote_state[label])
        assert code == 200 and run["status"] == "submitted", (label, run)
    for name, (status, message) in {"local-config": (400, "no connection to test"), "gone-config": (409, "gone"),
                                    "slow": (504, "did not answer")}.items():
        code, error = await call(jp_fetch, "POST", "runtime-configs", name, "test")
        assert code == status and message in error["message"], (name, error)
    code, listing = await call(jp_fetch, "GET", "runtime-configs")
    assert code == 200 and len(listing["runtime_configs"]) == 4


async def test_kubeflow_pipelines_successes(jp_fetch: Any, document: dict[str, Any], kfp_server: KfpTestServer,
                                            s3_server: S3Server) -> None:
    body = kfp_config("team", kfp_server.endpoint, s3_server.endpoint, s3_server.make_bucket(), timeout=10,
                      auth_type="NO_AUTHENTICATION", api_password="", cos_username=s3_server.access_key,
                      cos_password=s3_server.secret_key)
    code, _ = await call(jp_fetch, "POST", "runtime-configs", body=body)
    assert code == 201
    code, tested = await call(jp_fetch, "POST", "runtime-configs", "team", "test")
    assert code == 200 and tested["ok"] is True
    request = {"pipeline": document, "export_format": "yaml", "export_path": "hello_pipeline/out.yaml"}
    code, exported = await call(jp_fetch, "POST", "export", body=request, paths="pipeline", runtime_config="team")
    assert code == 201 and exported["export_path"] == "hello_pipeline/out.yaml"
    code, error = await call(jp_fetch, "POST", "export", body=request, paths="pipeline", runtime_config="team")
    assert code == 409 and "overwrite" in error["message"]
    code, answer = await call(jp_fetch, "POST", "schedule", body=document, paths="pipeline", runtime_config="team",
                              experiment="contract", wait="true")
    assert code == 200 and answer["status"] == "submitted" and answer["experiment_name"] == "contract"
    code, run = await call(jp_fetch, "GET", "runs", answer["run_id"])
    assert code == 200 and run["result"]["kfp_run_id"] == answer["kfp_run_id"]


def every_request(base_url: str) -> Iterator[tuple[str, str, str]]:
    """(method, request path under base_url, documented path) for every operation, path parameters filled in."""
    for template, method, _ in CONTRACT.operations():
        yield method.upper(), base_url + re.sub(r"\{\w+\}", "some-id", template).lstrip("/"), template


async def test_every_operation_refuses_strangers(jp_serverapp: Any, http_server_client: Any,
                                                 jp_base_url: str) -> None:
    for method, url, template in every_request(jp_base_url):
        for headers in ({}, {"Authorization": "token wrong"}):
            response = await http_server_client.fetch(url, method=method, headers=headers, raise_error=False,
                                                      body=b"{}" if method in ("POST", "PUT") else None,
                                                      allow_nonstandard_methods=True)
            assert response.code == 403, (method, template)
            CONTRACT.check(method, url.removeprefix(jp_base_url.rstrip("/")), response)


async def test_every_operation_refuses_oversized_bodies(jp_serverapp: Any, http_server_client: Any,
                                                        jp_base_url: str, jp_auth_header: dict[str, str]) -> None:
    huge = b'{"padding": "' + b"x" * MAX_REQUEST_BYTES + b'"}'
    for method, url, template in every_request(jp_base_url):
        response = await http_server_client.fetch(url, method=method, headers=jp_auth_header, body=huge,
                                                  raise_error=False, allow_nonstandard_methods=True)
        assert response.code == 413, (method, template)
        error = CONTRACT.check(method, url.removeprefix(jp_base_url.rstrip("/")), response)
        assert "max_request_bytes" in error["message"]


async def test_huge_run_list_offsets_are_not_server_errors(jp_fetch: Any) -> None:
    code, _ = await call(jp_fetch, "GET", "runs", offset=str(10**30))
    assert code in (200, 400)


async def test_runtime_configuration_names_may_not_end_with_a_newline(jp_fetch: Any, jp_data_dir: Path,
                                                                      dead_endpoint: str) -> None:
    code, _ = await call(jp_fetch, "POST", "runtime-configs", body=kfp_config("nl\n", dead_endpoint, dead_endpoint))
    assert code == 400
    assert not list((jp_data_dir / "metadata" / "runtimes").glob("nl*"))
    code, _ = await call(jp_fetch, "GET", "runtime-configs", "nl\n")
    assert code == 400


async def test_out_of_range_timeouts_are_not_server_errors(jp_fetch: Any, dead_endpoint: str) -> None:
    code, _ = await call(jp_fetch, "POST", "runtime-configs", body=kfp_config("t", dead_endpoint, dead_endpoint,
                                                                              timeout=1e300))
    if code == 201:
        code, _ = await call(jp_fetch, "POST", "runtime-configs", "t", "test")
        assert code in (502, 504)
    else:
        assert code == 400


async def test_time_outs_are_answered_504(jp_fetch: Any, document: dict[str, Any], hanging_endpoint: str,
                                          dead_endpoint: str) -> None:
    """A runtime or storage that does not answer in time is a 504 whatever the step: authentication, storage."""
    unauthenticated = kfp_config("kfp-slow", hanging_endpoint, dead_endpoint, auth_type="NO_AUTHENTICATION",
                                 api_password="")
    storage_slow = kfp_config("storage-slow", dead_endpoint, hanging_endpoint)
    for body in (unauthenticated, storage_slow):
        assert (await call(jp_fetch, "POST", "runtime-configs", body=body))[0] == 201
    code, error = await call(jp_fetch, "POST", "runtime-configs", "kfp-slow", "test")
    assert code == 504, error
    request = {"pipeline": document, "export_path": "hello_pipeline/out.yaml"}
    code, error = await call(jp_fetch, "POST", "export", body=request, paths="pipeline",
                             runtime_config="storage-slow")
    assert code == 504, error


async def test_check_limits_are_answered_as_documented(check_limits: None, jp_fetch: Any, jp_root_dir: Path) -> None:
    """A check past its time limit is 422 on every route that checks; a second check of the same user while one
    runs is 429 with Retry-After."""
    slow = slow_document(jp_root_dir)
    export = {"pipeline": slow, "export_format": "yaml", "export_path": "slow.yaml"}
    for route, body in (("validate", slow), ("schedule", slow), ("export", export)):
        running = asyncio.ensure_future(call(jp_fetch, "POST", "validate", body=slow))
        await asyncio.sleep(0.3)
        code, refused = await call(jp_fetch, "POST", route, body=body)
        assert code == 429 and "running or waiting" in refused["message"], (route, refused)
        code, stopped = await running
        assert code == 422 and "check_timeout" in stopped["message"], stopped
        code, stopped = await call(jp_fetch, "POST", route, body=body)
        assert code == 422 and "took longer than 1.5 s" in stopped["message"], (route, stopped)


async def test_a_full_disk_refuses_new_runs_as_documented(small_disk: Path, jp_fetch: Any, jp_root_dir: Path
                                                          ) -> None:
    (jp_root_dir / "a.py").write_text("print('a')\n")
    filler = fill(small_disk)
    try:
        code, refused = await call(jp_fetch, "POST", "schedule", body=pipeline_document("p", [node("a", "a.py")]))
        assert code == 507 and "is full" in refused["message"], refused
    finally:
        filler.unlink()
    code, answer = await call(jp_fetch, "POST", "schedule", body=pipeline_document("p", [node("a", "a.py")]))
    assert code == 202, answer


def test_every_documented_answer_was_seen(request: pytest.FixtureRequest) -> None:
    """Runs last: every documented (operation, status) pair was answered by the tests above, except 401."""
    here = [item for item in request.session.items if item.module is request.module and item is not request.node]
    if len(here) != len([name for name in globals() if name.startswith("test_")]) - 1:
        pytest.skip("only meaningful when every test of this module runs")
    missing = sorted((template, method, status) for template, method, operation in CONTRACT.operations()
                     for status in operation["responses"]
                     if status not in NOT_EXERCISED and (template, method, status) not in CONTRACT.seen)
    assert not missing, "documented but never answered in these tests:\n" + "\n".join(map(str, missing))
