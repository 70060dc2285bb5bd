"""Component catalogs: component YAML read as Elyra reads it, Elyra's op ids, the catalog types (URLs served by a
real HTTP server on 127.0.0.1), the catalog files (0600, secrets masked) and the cache that is all checks and runs
read. The project's own component files are in fixtures/components; the corpus parts skip where it is absent."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, load_json, needs_corpus

from elyra_proc_ext.catalogs import ComponentCatalogs, ReadLimits, op_id, parse_component
from elyra_proc_ext.catalogs.components import json_type
from elyra_proc_ext.catalogs.examples import ElyraExamplesConnector
from elyra_proc_ext.errors import CatalogError, ComponentSpecError
from elyra_proc_ext.migration import migrate

COMPONENTS = Path(__file__).resolve().parent / "fixtures" / "components"
needs_examples = pytest.mark.skipif(not ElyraExamplesConnector.available(),
                                    reason="elyra-examples-kfp-catalog is not installed (pip install it, or '.[test]')")


@dataclass
class ComponentServer:
    """A real HTTP server on 127.0.0.1: each path answers a file of fixtures/components, behind basic auth when
    `credentials` are set; `/hang/...` never answers (until the server stops), `/trickle/...` sends a byte every
    0.2 s, `/big.yaml` is larger than any catalog entry may be."""

    credentials: tuple[str, str] | None = None
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization header)
    stopping: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> ComponentServer:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                authorization = self.headers.get("Authorization")
                owner.requests.append((self.path, authorization))
                if owner.credentials and authorization != "Basic " + base64.b64encode(
                        ":".join(owner.credentials).encode()).decode():
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="components"')
                    self.end_headers()
                    return
                if self.path.startswith("/hang/"):
                    owner.stopping.wait(30)
                    return
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", self.path.removeprefix("/redirect"))
                    self.end_headers()
                    return
                if self.path == "/big.yaml":
                    self.answer(b"#" * (2 * 1024 * 1024))
                    return
                if self.path.startswith("/trickle/"):
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.end_headers()
                    while not owner.stopping.wait(0.2):
                        self.wfile.write(b"#")
                        self.wfile.flush()
                    return
                file = COMPONENTS / self.path.lstrip("/")
                if not file.is_file():
                    self.send_error(404)
                    return
                self.answer(file.read_bytes())

            def answer(self, body: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/yaml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def component_server() -> Iterator[ComponentServer]:
    server = ComponentServer(credentials=("reader", "s3cret-pass")).start()
    yield server
    server.stop()


@pytest.fixture
def catalogs(tmp_path: Path) -> ComponentCatalogs:
    return ComponentCatalogs(tmp_path / "component-catalogs", tmp_path / "data", ReadLimits(seconds=1.0))


def by_name(answer: dict[str, Any]) -> dict[str, str]:
    """Component name -> op id of a catalog answer."""
    return {component["name"]: component["op"] for component in answer["components"]}


# Component specifications


def test_kfp_v1_component_as_elyra_reads_it() -> None:
    spec = parse_component((COMPONENTS / "echo_text.yaml").read_text(), "echo_text.yaml")
    assert (spec.name, spec.description) == ("Echo text", "Writes a greeting and a text to its output.")
    text, greeting, times = spec.inputs
    assert (text.id, text.type, text.kind, text.json_type, text.optional) == ("text", "String", "path", "string", False)
    assert (greeting.kind, greeting.default, greeting.description) == ("value", "Hello", "Said first")
    assert (times.id, times.json_type, times.optional, times.default) == ("times", "number", True, "1")
    assert [(output.name, output.id) for output in spec.outputs] == [("Echoed text", "output_echoed_text")]
    assert spec.container["image"] == "alpine:3.19" and spec.container["command"][-1] == {"outputPath": "Echoed text"}
    assert spec.input("greeting") is greeting and spec.input("Greeting") is None


def test_kfp_v2_component_placeholders_and_typed_defaults() -> None:
    spec = parse_component((COMPONENTS / "count_lines.yaml").read_bytes(), "count_lines.yaml")
    inputs = {item.id: item for item in spec.inputs}
    assert {name: (item.json_type, item.kind) for name, item in inputs.items()} == {
        "dataset": ("string", "path"), "minimum": ("number", "value"), "ratio": ("number", "value"),
        "strict": ("boolean", "value"), "options": ("string", "value"), "labels": ("array", "value")}
    assert (inputs["minimum"].default, inputs["ratio"].default, inputs["strict"].default) == (3, 0.5, True)
    assert [output.id for output in spec.outputs] == ["output_count", "output_report"]
    assert spec.container["env"] == {"MODE": "batch"}
    assert type(spec).from_json(json.loads(json.dumps(spec.to_json()))) == spec  # as the cache stores it


@pytest.mark.parametrize(("written", "expected"), [
    ("String", "string"), ("str", "string"), ("Integer", "number"), ("Float", "number"), ("Bool", "boolean"),
    ("Boolean", "boolean"), ("Dict", "object"), ("a dictionary of key/value pairs", "object"), ("List", "array"),
    ("JsonArray", "array"), ("JsonObject", "string"), ("URI", "string"), ("GCSPath", "string")])
def test_type_names_are_read_with_elyras_rules(written: str, expected: str) -> None:
    assert json_type(written) == expected


CONTAINER = "implementation: {container: {image: alpine, command: [sh]}}"


@pytest.mark.parametrize(("text", "message"), [
    ("name: x\ninputs: [\n", "spec.yaml: not valid YAML at line 3, column 1"),
    ("- just\n- a list\n", "spec.yaml: a component specification is a YAML mapping"),
    (f"description: no name\n{CONTAINER}", "spec.yaml: name is missing"),
    (f"name: x\ninputs: {{a: 1}}\n{CONTAINER}", "spec.yaml: inputs must be a list"),
    (f"name: x\ninputs: [{{name: a}}, {{name: a}}]\n{CONTAINER}", "spec.yaml: inputs[1]: name 'a' is declared twice"),
    (f"name: x\ninputs: [{{name: a, optional: maybe}}]\n{CONTAINER}", "inputs[0] (a): optional must be true or false"),
    (f"name: x\noutputs: [{{type: String}}]\n{CONTAINER}", "spec.yaml: outputs[0]: name is missing"),
    ("name: x\nimplementation: {graph: {}}\n", "spec.yaml: implementation.container is missing"),
    ("name: x\nimplementation: {container: {command: [sh]}}\n", "implementation.container: image is missing"),
    ("name: x\nimplementation: {container: {image: a, command: [{inputValue: nope}]}}\n",
     "implementation.container.command[0]: inputValue 'nope' names no declared input"),
    ("name: x\noutputs: [{name: o}]\nimplementation: {container: {image: a, args: [{concat: [{outputPath: p}]}]}}",
     "implementation.container.args[0].concat[0]: outputPath 'p' names no declared output"),
    ("name: x\nimplementation: {container: {image: a, args: [{inputPathz: a}]}}\n", "unknown placeholder 'inputPathz'"),
    ("name: x\nimplementation: {container: {image: a, env: {A: [1]}}}\n", "implementation.container.env must map"),
])
def test_unusable_specs_are_refused_naming_file_and_field(text: str, message: str) -> None:
    with pytest.raises(ComponentSpecError) as refused:
        parse_component(text, "spec.yaml")
    assert message in str(refused.value) and refused.value.status == 400


# Op ids


def test_op_ids_are_elyras() -> None:
    """The values the corpus README gives (Elyra's `compute_unique_id`), and its rules: empty hash keys are left out,
    several are joined by ':'."""
    assert op_id("elyra-kfp-examples-catalog", {"component-id": "download_data.yaml"}, ("component-id",)) == \
        "elyra-kfp-examples-catalog:a08014f9252f"
    assert op_id("local-directory-catalog", {"base_dir": "/elsewhere", "path": "input/input-url.yaml"}, ("path",)) == \
        "local-directory-catalog:fdb001a1cf3d"
    entry = {"path": "input/input-url.yaml", "extra": ""}
    assert op_id("local-directory-catalog", entry, ("extra", "path")) == "local-directory-catalog:fdb001a1cf3d"
    assert op_id("t", {"a": "x", "b": "y"}, ("a", "b")) != op_id("t", {"a": "x"}, ("a",))


@needs_corpus
def test_corpus_directory_catalog_gives_the_ops_its_pipeline_uses(catalogs: ComponentCatalogs, tmp_path: Path) -> None:
    """The CLAIMED case's component library, moved to another directory (as on the author's machine, it was
    elsewhere), gives the op ids its pipeline's nodes use."""
    case = CORPUS / "valid" / "claimed__gharchive_kfp"
    library = shutil.copytree(case / "component-library", tmp_path / "somewhere" / "component-library")
    answer = catalogs.save({"display_name": "CLAIMED", "schema_name": "local-directory-catalog",
                            "metadata": {"paths": [str(library)], "include_subdirs": True}})
    assert answer["errors"] == [] and sorted(by_name(answer).values()) == sorted(load_json(case / "case.json")["ops"])
    pipeline = load_json(case / "pipelines" / "gharchive_kfp.pipeline")
    for node in pipeline["pipelines"][0]["nodes"]:
        component = catalogs.component_for(node["op"])
        assert component is not None, node["op"]
        reference = json.loads(node["app_data"]["component_source"])["component_ref"]
        assert component.reference["path"] == reference["path"]
        assert set(node["app_data"]["component_parameters"]) >= {item.id for item in component.spec.inputs}


@needs_corpus
@needs_examples
def test_corpus_example_ops_are_found_in_elyras_examples_package(catalogs: ComponentCatalogs) -> None:
    """Every example op of the corpus index and of its pipelines, legacy op names of formats up to 5 migrated as
    Elyra's editor migrates them, is served by the installed package, with the spec of the vendored file (the
    README: byte-identical to the package's)."""
    answer = catalogs.save({"display_name": "Examples", "schema_name": "elyra-kfp-examples-catalog",
                            "metadata": {"categories": ["examples"]}})
    assert answer["errors"] == [] and answer["component_count"] == 4
    index = load_json(CORPUS / "components" / "index.json")["components"]
    examples = {op: file for op, file in index.items() if op.startswith("elyra-kfp-examples-catalog:")}
    migrated = [migrate(load_json(path))[0] for path in CORPUS.glob("valid/*/**/*.pipeline")]
    used = {node["op"] for document in migrated for pipeline in document["pipelines"] for node in pipeline["nodes"]
            if node.get("op", "").startswith("elyra-kfp-examples-catalog:")}
    assert len(examples) == 4 and len(used) >= 3 and used <= set(examples)
    for op, file in examples.items():
        component = catalogs.component_for(op)
        assert component is not None and component.reference == {"component-id": Path(file).name}
        assert component.spec == parse_component((CORPUS / "components" / file).read_text(), file)


# Catalog types


def test_local_file_catalog_hashes_paths_from_its_base(catalogs: ComponentCatalogs) -> None:
    answer = catalogs.save({"display_name": "Files", "schema_name": "local-file-catalog", "metadata": {
        "base_path": str(COMPONENTS), "paths": ["echo_text.yaml", "nested/upper_text.yaml", "missing.yaml"]}})
    assert by_name(answer) == {"Echo text": op_id("local-file-catalog", {"path": "echo_text.yaml"}, ("path",)),
                               "Upper text": op_id("local-file-catalog", {"path": "nested/upper_text.yaml"}, ("path",))}
    assert answer["errors"] == [f"{COMPONENTS / 'missing.yaml'}: no such file."]
    absolute = str(COMPONENTS / "count_lines.yaml")
    answer = catalogs.save({"display_name": "Absolute", "schema_name": "local-file-catalog",
                            "metadata": {"paths": [absolute]}})
    assert by_name(answer) == {"Count lines": op_id("local-file-catalog", {"path": absolute}, ("path",))}
    with pytest.raises(CatalogError, match="metadata: 'paths' is a required property"):
        catalogs.save({"display_name": "No paths", "schema_name": "local-file-catalog", "metadata": {}})


def test_only_regular_files_are_read_and_names_are_bounded(catalogs: ComponentCatalogs, tmp_path: Path) -> None:
    """A FIFO would block the read and a device never end: both are refused, naming them; so is a name no file
    system takes."""
    os.mkfifo(tmp_path / "pipe.yaml")
    answer = catalogs.save({"display_name": "Odd", "schema_name": "local-file-catalog",
                            "metadata": {"paths": [str(tmp_path / "pipe.yaml"), "/dev/zero"]}})
    assert answer["errors"] == [f"{tmp_path / 'pipe.yaml'}: not a regular file.", "/dev/zero: not a regular file."]
    with pytest.raises(CatalogError, match="is not a valid component catalog name") as refused:
        catalogs.save({"display_name": "x" * 300, "schema_name": "local-file-catalog", "metadata": {"paths": ["a"]}})
    assert refused.value.status == 400 and not list((tmp_path / "component-catalogs").glob("x*"))


def test_local_directory_catalog_with_and_without_subdirectories(catalogs: ComponentCatalogs) -> None:
    flat = catalogs.save({"display_name": "Flat", "schema_name": "local-directory-catalog",
                          "metadata": {"paths": [str(COMPONENTS)]}})
    assert sorted(by_name(flat)) == ["Count lines", "Echo text"] and flat["errors"] == []
    deep = catalogs.save({"display_name": "Deep", "schema_name": "local-directory-catalog",
                          "metadata": {"paths": [str(COMPONENTS) + "/"], "include_subdirs": True}})
    assert by_name(deep)["Upper text"] == op_id("local-directory-catalog", {"path": "nested/upper_text.yaml"},
                                                ("path",))
    assert by_name(deep)["Echo text"] == by_name(flat)["Echo text"]  # the path from the directory, either way
    assert len(deep["errors"]) == 2  # the broken files, each named, do not fail the catalog
    assert any("broken/unclosed.yaml: not valid YAML at line 3" in error for error in deep["errors"])
    assert any("broken/graph.yaml: implementation.container is missing" in error for error in deep["errors"])
    missing = catalogs.save({"display_name": "Gone", "schema_name": "local-directory-catalog",
                             "metadata": {"paths": [str(COMPONENTS / "gone")]}})
    assert missing["component_count"] == 0 and missing["errors"] == [f"{COMPONENTS / 'gone'} is not a directory."]


def test_url_catalog_reads_a_real_server_with_credentials(catalogs: ComponentCatalogs,
                                                           component_server: ComponentServer) -> None:
    urls = [f"{component_server.url}/echo_text.yaml", f"{component_server.url}/nested/upper_text.yaml"]
    answer = catalogs.save({"display_name": "Remote", "schema_name": "url-catalog", "metadata": {
        "paths": urls, "auth_id": "reader", "auth_password": "s3cret-pass"}})
    assert answer["errors"] == [] and by_name(answer) == {
        "Echo text": op_id("url-catalog", {"url": urls[0]}, ("url",)),
        "Upper text": op_id("url-catalog", {"url": urls[1]}, ("url",))}
    assert answer["metadata"]["auth_password"] == "********"
    answer = catalogs.save({**answer, "metadata": {**answer["metadata"], "auth_password": "wrong"}}, "remote")
    assert answer["component_count"] == 0
    assert answer["errors"] == [f"{url}: the server answered 401 Unauthorized." for url in urls]
    assert "wrong" not in json.dumps(answer)


def test_url_catalog_credentials_go_to_its_urls_only(catalogs: ComponentCatalogs,
                                                      component_server: ComponentServer) -> None:
    component_server.credentials = None
    catalogs.save({"display_name": "Moved", "schema_name": "url-catalog", "metadata": {
        "paths": [f"{component_server.url}/redirect/echo_text.yaml"], "auth_id": "reader", "auth_password": "pw"}})
    assert [authorization is not None for _, authorization in component_server.requests] == [True, False]
    assert catalogs.component_for(op_id("url-catalog", {"url": f"{component_server.url}/redirect/echo_text.yaml"},
                                        ("url",))) is not None


def test_slow_huge_and_unreachable_urls_are_skipped_in_bounded_time(catalogs: ComponentCatalogs,
                                                                     component_server: ComponentServer) -> None:
    component_server.credentials = None
    good = f"{component_server.url}/echo_text.yaml"
    paths = [good, f"{component_server.url}/hang/x.yaml", f"{component_server.url}/trickle/x.yaml",
             f"{component_server.url}/big.yaml", f"{component_server.url}/absent.yaml", "http://127.0.0.1:1/x.yaml",
             "ftp://example.com/x.yaml"]
    started = time.monotonic()
    answer = catalogs.save({"display_name": "Mixed", "schema_name": "url-catalog", "metadata": {"paths": paths[:-1]}})
    assert time.monotonic() - started < 4  # 1 s limit: a silent server 1 s, a trickling one 1 s more at most
    assert list(by_name(answer).values()) == [op_id("url-catalog", {"url": good}, ("url",))]
    errors = dict(error.split(": ", 1) for error in answer["errors"])
    assert errors == {paths[1]: "did not answer within 1 s.", paths[2]: "did not answer within 1 s.",
                      paths[3]: "larger than 1048576 bytes; component files are small.",
                      paths[4]: "the server answered 404 Not Found.",
                      paths[5]: "cannot be read ([Errno 111] Connection refused)."}
    with pytest.raises(CatalogError, match=r"metadata\.paths\.0: 'ftp://example.com/x.yaml' does not match"):
        catalogs.save({"display_name": "Ftp", "schema_name": "url-catalog", "metadata": {"paths": paths[-1:]}})
    with pytest.raises(CatalogError, match=r"metadata\.auth_id: '' should be non-empty"):
        catalogs.save({"display_name": "Half", "schema_name": "url-catalog", "metadata": {"paths": [good],
                                                                                          "auth_id": ""}})


@needs_examples
def test_examples_catalog_reads_package_data_without_importing_elyra(catalogs: ComponentCatalogs) -> None:
    answer = catalogs.save({"display_name": "Examples", "schema_name": "elyra-kfp-examples-catalog"})
    assert by_name(answer)["Download data"] == "elyra-kfp-examples-catalog:a08014f9252f"
    assert by_name(answer)["Filter text"] == "elyra-kfp-examples-catalog:737915b826e9"
    assert answer["components"][0]["source"].startswith("elyra-examples-kfp-catalog:")
    import sys

    assert "kfp_examples_connector" not in sys.modules and "elyra" not in sys.modules


# Catalog files and the cache


def test_catalog_files_are_private_and_secrets_never_leave(catalogs: ComponentCatalogs, tmp_path: Path,
                                                            component_server: ComponentServer) -> None:
    component_server.credentials = None
    with_credentials = component_server.url.replace("http://", "http://user:url-pass@") + "/echo_text.yaml"
    answer = catalogs.save({"display_name": "Secret", "schema_name": "url-catalog", "metadata": {
        "paths": [with_credentials, "http://user:url-pass@127.0.0.1:1/x.yaml"], "auth_id": "reader",
        "auth_password": "s3cret-pass", "api_token": "tok-3n"}})
    directory = tmp_path / "component-catalogs"
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(directory / "secret.json").st_mode) == 0o600
    stored = load_json(directory / "secret.json")
    assert stored == {"display_name": "Secret", "schema_name": "url-catalog", "metadata": {
        "runtime_type": "KUBEFLOW_PIPELINES", "categories": [], "paths": stored["metadata"]["paths"],
        "auth_id": "reader", "auth_password": "s3cret-pass", "api_token": "tok-3n"}}
    for shown in (answer, catalogs.get("secret"), *catalogs.list()):
        text = json.dumps(shown)
        assert "s3cret-pass" not in text and "url-pass" not in text and "tok-3n" not in text, text
    assert answer["metadata"]["api_token"] == "********"  # named like a secret: masked, whatever the type
    cache_text = "".join(path.read_text() for path in (tmp_path / "data" / "catalog-cache").glob("*.json"))
    assert "url-pass" not in cache_text and "s3cret-pass" not in cache_text
    assert answer["errors"] == ["http://***@127.0.0.1:1/x.yaml: cannot be read ([Errno 111] Connection refused)."]
    # What answers show, sent back, keeps the stored secrets and URLs; so does an update without metadata.
    catalogs.save({**answer, "metadata": {**answer["metadata"], "description": "kept"}}, "secret")
    assert load_json(directory / "secret.json")["metadata"] == {**stored["metadata"], "description": "kept"}
    catalogs.save({"display_name": "Renamed"}, "secret")
    assert load_json(directory / "secret.json")["metadata"] == {**stored["metadata"], "description": "kept"}
    with pytest.raises(CatalogError) as refused:
        catalogs.save({"metadata": {**stored["metadata"], "auth_password": 73310042}}, "secret")
    assert "metadata.auth_password: must be a string" in str(refused.value) and "73310042" not in str(refused.value)


def test_elyra_catalog_files_are_read_unchanged(catalogs: ComponentCatalogs, tmp_path: Path) -> None:
    """Files as Elyra writes them (no runtime_type default applied, an Airflow catalog among them) are listed and
    refreshed; Airflow components are not read, and the answer says why."""
    directory = tmp_path / "component-catalogs"
    directory.mkdir()
    (directory / "team_components.json").write_text(json.dumps({
        "display_name": "Team components", "schema_name": "local-directory-catalog", "metadata": {
            "description": "ours", "runtime_type": "KUBEFLOW_PIPELINES", "categories": ["team"],
            "paths": [str(COMPONENTS)], "include_subdirs": False}}))
    (directory / "airflow.json").write_text(json.dumps({
        "display_name": "Airflow", "schema_name": "local-file-catalog", "metadata": {
            "runtime_type": "APACHE_AIRFLOW", "paths": ["x.py"]}}))
    (directory / "broken.json").write_text("{")
    assert [(c["name"], c["refreshed"]) for c in catalogs.list()] == [("airflow", None), ("team_components", None)]
    assert catalogs.refresh("team_components")["component_count"] == 2
    assert catalogs.refresh("airflow")["errors"] == [
        "runtime_type APACHE_AIRFLOW: only Kubeflow Pipelines components are read here."]
    with pytest.raises(CatalogError, match=r"'broken' \(.*broken.json\) cannot be read") as unreadable:
        catalogs.refresh("broken")
    assert unreadable.value.status == 400
    for name, status in (("nothing", 404), ("../x", 400)):
        with pytest.raises(CatalogError) as refused:
            catalogs.refresh(name)
        assert refused.value.status == status


def test_lookups_read_only_the_cache(catalogs: ComponentCatalogs, tmp_path: Path) -> None:
    """Once read, a catalog's components are found with its sources gone (an air-gapped server), by another
    process's view of the same data dir too; a refresh replaces them, a removal removes them."""
    source = shutil.copytree(COMPONENTS, tmp_path / "source", ignore=shutil.ignore_patterns("broken"))
    catalogs.save({"display_name": "Mine", "schema_name": "local-directory-catalog",
                   "metadata": {"paths": [str(source)]}})
    echo = op_id("local-directory-catalog", {"path": "echo_text.yaml"}, ("path",))
    shutil.rmtree(source)
    other_process = ComponentCatalogs(tmp_path / "component-catalogs", tmp_path / "data")
    for view in (catalogs, other_process):
        component = view.component_for(echo)
        assert component is not None and component.spec.name == "Echo text" and component.catalog == "mine"
    assert catalogs.component_for("local-directory-catalog:000000000000") is None
    catalogs.store.path("mine").rename(tmp_path / "elsewhere.json")  # deleted with Elyra: no longer counts
    assert catalogs.component_for(echo) is None
    (tmp_path / "elsewhere.json").rename(catalogs.store.path("mine"))
    assert catalogs.refresh("mine")["errors"] == [f"{source} is not a directory."]
    assert other_process.component_for(echo) is None
    catalogs.delete("mine")
    assert not list((tmp_path / "data" / "catalog-cache").iterdir()) and catalogs.list() == []


def test_a_damaged_cache_file_is_ignored_until_the_next_refresh(catalogs: ComponentCatalogs, tmp_path: Path,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    catalogs.save({"display_name": "Mine", "schema_name": "local-file-catalog",
                   "metadata": {"paths": [str(COMPONENTS / "echo_text.yaml")]}})
    cache_file = tmp_path / "data" / "catalog-cache" / "mine.json"
    cache_file.write_text('{"format": 1, "name": "mine"}')
    assert catalogs.get("mine")["refreshed"] is None
    assert re.search(r"Ignoring the component catalog cache .*mine.json .*refresh the catalog", caplog.text)
    assert catalogs.refresh("mine")["component_count"] == 1
