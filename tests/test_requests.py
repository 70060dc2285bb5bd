"""Hostile and unlucky requests: one error hierarchy whose statuses reach the client (custom processors' errors too,
and across process boundaries), every typed field of every route held to the OpenAPI document's type, and node
artifacts streamed with flat server memory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import pickle
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest
import requests
from conftest import ManagerFactory, api_call, node, pipeline_document
from kfp_server import KfpTestServer
from live_server import Server
from s3_server import S3Server
from test_custom_processor import echo_installed  # noqa: F401 (module-wide: installs the echo processor)

from elyra_proc_ext import errors
from elyra_proc_ext.app import redact_every_log_record
from elyra_proc_ext.handlers import openapi_document
from elyra_proc_ext.store import RunStore

MIB = 1024 * 1024
DOCUMENT = openapi_document()
SCHEMAS = DOCUMENT["components"]["schemas"]
SECRET = "Secret-pw-61d0"
WRONG_JSON = {"boolean": ["false", "true", 0, 1, None, [], {}], "integer": [1.5, "5", None, [], True],
              "number": ["5", None, [], True, {}], "string": [5, None, [], True, {}],
              "array": ["x", None, 5, {}], "object": ["x", None, 5, []]}
WRONG_QUERY = {"boolean": ["maybe", "", "2", "truee", "on"], "enum": ["elsewhere", "", "root/"],
               "integer": ["1.5", "-1", "abc", "", "1e3", "\u0663", "0x10", "5 5", "+1", "{maximum_plus_one}"]}


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


# --- one error hierarchy -------------------------------------------------------------------------------------------

ERROR_CLASSES = [getattr(errors, name) for name in errors.__all__]


@pytest.fixture(scope="module")
def worker_process() -> Iterator[ProcessPoolExecutor]:
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        yield pool


@pytest.mark.parametrize("error_class", ERROR_CLASSES, ids=[c.__name__ for c in ERROR_CLASSES])
def test_errors_cross_process_boundaries_with_their_status(error_class: type[errors.ElyraProcError],
                                                           worker_process: ProcessPoolExecutor) -> None:
    """Made in another process and sent back, as a worker's failure is (pickled the same way)."""
    status = error_class.status + 7  # a status of its own, not the class default
    made = worker_process.submit(error_class, f"failed at https://user:{SECRET}@cluster.example/x", status).result()
    assert type(made) is error_class and made.status == status
    assert str(made) == "failed at https://***@cluster.example/x"
    assert error_class.status >= 400 and issubclass(error_class, errors.ElyraProcError)
    restored = pickle.loads(pickle.dumps(error_class("plain")))
    assert restored.status == error_class.status and str(restored) == "plain"


def test_kfp_conflicts_survive_pickling() -> None:
    restored = pickle.loads(pickle.dumps(errors.KfpError("exists", conflict=True)))
    assert restored.conflict and restored.status == 502


async def test_statuses_reach_the_client_by_class(jp_fetch: Any, jp_root_dir: Path) -> None:
    """A custom processor's own error subclass (echo's 422), the base class's `UnsupportedError` (local has no
    export format) and `UnknownRunError` are answered with their class's status and message."""
    (jp_root_dir / "a.py").write_text("print('a')\n")
    pipeline = pipeline_document("echoed", [node("a", "a.py")])
    request = {"pipeline": pipeline, "export_path": "out.yaml"}
    code, error = await api_call(jp_fetch, "POST", "export", body=request, runtime="echo")
    assert code == 422 and error["message"] == "the echo runtime exports text: name the file .txt, not 'out.yaml'"
    code, error = await api_call(jp_fetch, "POST", "export", body=request)
    assert code == 400 and "the local runtime has no export format" in error["message"]
    code, exported = await api_call(jp_fetch, "POST", "export", body={**request, "export_path": "out.txt"},
                                    runtime="echo")
    assert code == 201 and exported["nodes"] == 1 and (jp_root_dir / "out.txt").read_text().startswith("a a.py")
    code, error = await api_call(jp_fetch, "POST", "runs", "no-such-run", "cancel")
    assert code == 404 and "no-such-run" in error["message"]
    assert not (jp_root_dir / "out.yaml").exists()


@pytest.mark.parametrize("logger_name", ["kfp.client.client", "urllib3.connectionpool", "botocore.endpoint",
                                         "tornado.application", "ServerApp", "elyra_proc_ext.manager"])
def test_log_records_are_redacted_whoever_logs_them(logger_name: str, caplog: pytest.LogCaptureFixture) -> None:
    """Child loggers of libraries too: the redaction runs where records are made, not on chosen loggers."""
    redact_every_log_record()
    redact_every_log_record()  # installed once, however often the extension starts
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=logger_name)  # libraries (kfp) quieten some loggers when imported
    url = f"https://user:{SECRET}@cluster.example/pipeline"
    logger = logging.getLogger(logger_name)
    logger.debug("connecting to %s", url)
    logger.info(f"connecting to {url}")
    logger.warning("%(endpoint)s refused", {"endpoint": url})
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        logger.exception("failed")
    unfit = logger.makeRecord(logger_name, logging.INFO, __file__, 1, "%s %s", (url,), None)  # left to logging
    assert unfit.args == (url,)
    assert SECRET not in caplog.text and caplog.text.count("https://***@cluster.example") == 4


# --- types as the OpenAPI document says ----------------------------------------------------------------------------

def typed_query_parameters() -> list[tuple[str, str, str, str]]:
    """(method, path under /pipeline/, parameter, kind) for every boolean, integer or enum query parameter."""
    found = []
    for template, item in DOCUMENT["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                parameter = DOCUMENT["components"]["parameters"][parameter["$ref"].rsplit("/", 1)[1]] \
                    if "$ref" in parameter else parameter
                schema = parameter["schema"]
                kind = "enum" if "enum" in schema else schema.get("type")
                if parameter["in"] == "query" and kind in WRONG_QUERY:
                    found.append((method.upper(), template.removeprefix("/pipeline/"), parameter["name"], kind))
    return found


def typed_fields(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted field, JSON type) for every property with a type, nested objects' (`then` included) too. A posted
    pipeline is left out: the pipeline checks answer its problems as issues."""
    for part in (schema, schema.get("then", {})):
        for name, field in part.get("properties", {}).items():
            field = SCHEMAS[field["$ref"].rsplit("/", 1)[1]] if "$ref" in field else field
            if name == "pipeline":
                continue
            if "properties" in field:
                yield from typed_fields(field, f"{prefix}{name}.")
            elif field.get("type") in WRONG_JSON:
                yield f"{prefix}{name}", field["type"]


def disk_state(*roots: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for root in roots
            for path in sorted(root.rglob("*")) if path.is_file()}


def with_field(body: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(body))
    *parents, last = dotted.split(".")
    target = changed
    for part in parents:
        target = target[part]
    target[last] = value
    return changed


def kfp_config(endpoint: str) -> dict[str, Any]:
    return {"display_name": "Team", "schema_name": "kfp", "metadata": {
        "api_endpoint": endpoint, "cos_endpoint": endpoint, "cos_bucket": "bucket", "auth_type": "DEX_LDAP",
        "api_username": "me", "api_password": SECRET, "cos_username": "key", "cos_password": SECRET, "timeout": 5,
        "verify_tls": True, "tags": ["a"]}}


def test_the_document_has_typed_fields_to_check() -> None:
    """The lists below come from the document; this fails if a refactoring emptied them."""
    assert {name for _, _, name, _ in typed_query_parameters()} == {"wait", "limit", "offset", "paths"}
    assert dict(typed_fields(SCHEMAS["ExportRequest"])) == {"export_format": "string", "export_path": "string",
                                                  "overwrite": "boolean"}
    fields = dict(typed_fields(SCHEMAS["RuntimeConfigInput"]))
    assert fields["metadata.verify_tls"] == "boolean" and fields["metadata.timeout"] == "number"
    assert fields["display_name"] == fields["name"] == fields["metadata.api_password"] == "string"


async def test_wrong_query_types_are_refused_before_anything_happens(jp_fetch: Any, jp_root_dir: Path,
                                                                     jp_data_dir: Path) -> None:
    (jp_root_dir / "a.py").write_text("print('a')\n")
    pipeline = pipeline_document("typed", [node("a", "a.py")])
    bodies = {"schedule": pipeline, "validate": pipeline, "export": {"pipeline": pipeline, "export_path": "x.txt"}}
    before = disk_state(jp_root_dir, jp_data_dir)
    checked = 0
    for method, path, name, kind in typed_query_parameters():
        schema = DOCUMENT["components"]["parameters"][name]["schema"]
        for value in WRONG_QUERY[kind]:
            value = value.format(maximum_plus_one=schema.get("maximum", 0) + 1)
            code, error = await api_call(jp_fetch, method, path, body=bodies.get(path), runtime="echo",
                                         **{name: value})
            assert code == 400 and f"option {name} must be" in error["message"], (path, name, value, error)
            checked += 1
    assert checked >= 30  # wait, limit, offset and paths on three routes
    assert disk_state(jp_root_dir, jp_data_dir) == before
    code, runs = await api_call(jp_fetch, "GET", "runs")
    assert code == 200 and runs["runs"] == []


async def test_wrong_export_body_types_are_refused(jp_fetch: Any, jp_root_dir: Path, jp_data_dir: Path) -> None:
    """`"overwrite": "false"` used to overwrite the file; now every wrong type is a 400 naming the field."""
    (jp_root_dir / "a.py").write_text("print('a')\n")
    target = jp_root_dir / "out.txt"
    target.write_text("original")
    request = {"pipeline": pipeline_document("typed", [node("a", "a.py")]), "export_format": "txt",
               "export_path": "out.txt", "overwrite": False}
    before = disk_state(jp_root_dir, jp_data_dir)
    for field, kind in typed_fields(SCHEMAS["ExportRequest"]):
        for value in WRONG_JSON[kind]:
            code, error = await api_call(jp_fetch, "POST", "export", body=with_field(request, field, value),
                                         runtime="echo")
            assert code == 400 and f"{field}: " in error["message"], (field, value, error)
    code, error = await api_call(jp_fetch, "POST", "export", body={"export_path": "out.txt"}, runtime="echo")
    assert code == 400 and "'pipeline' is a required property" in error["message"]
    assert disk_state(jp_root_dir, jp_data_dir) == before
    code, _ = await api_call(jp_fetch, "POST", "export", body=request, runtime="echo")
    assert code == 409 and target.read_text() == "original"
    code, _ = await api_call(jp_fetch, "POST", "export", body={**request, "overwrite": True}, runtime="echo")
    assert code == 201 and target.read_text().startswith("a a.py")


async def test_wrong_runtime_configuration_types_are_refused(jp_fetch: Any, jp_data_dir: Path) -> None:
    body = kfp_config("http://127.0.0.1:9/pipeline")
    code, _ = await api_call(jp_fetch, "POST", "runtime-configs", body={**body, "display_name": "Kept"})
    assert code == 201
    before = disk_state(jp_data_dir)
    for field, kind in typed_fields(SCHEMAS["RuntimeConfigInput"]):
        for value in WRONG_JSON[kind]:
            changed = with_field(body, field, value)
            for method, path in (("POST", ("runtime-configs",)), ("PUT", ("runtime-configs", "kept"))):
                code, error = await api_call(jp_fetch, method, *path, body=changed)
                assert code == 400 and f"{field}: " in error["message"], (method, field, value, error)
                assert SECRET not in error["message"]
    assert disk_state(jp_data_dir) == before


async def test_export_checks_its_target_for_the_cli_too(make_manager: ManagerFactory, workspace: Path,
                                                      kfp_server: KfpTestServer, s3_server: S3Server) -> None:
    """`elyra-proc export --output` reaches `ProcessorManager.export` without the REST checks: it refuses the same
    targets itself, before any archive is uploaded."""
    manager = make_manager(workspace)
    bucket = s3_server.make_bucket()
    manager.save_runtime_config({"name": "team", "display_name": "Team", "schema_name": "kfp", "metadata": {
        "api_endpoint": kfp_server.endpoint, "cos_endpoint": s3_server.endpoint, "cos_bucket": bucket,
        "cos_username": s3_server.access_key, "cos_password": s3_server.secret_key, "timeout": 5}})
    source = "hello_pipeline/hello_pipeline.pipeline"
    submission = manager.check(json.loads((workspace / source).read_text()), source=source, runtime_config="team")
    folder = workspace / "hello_pipeline"
    for target, expected in ((folder, "is a directory"), (folder / "a\nb.yaml", "control character"),
                             (folder / ("n" * 256), "longer than 255 bytes"), (workspace / "gone" / "x.yaml",
                                                                               "does not exist")):
        with pytest.raises(errors.BadRequestError, match=expected):
            await manager.export(submission, target)
    assert s3_server.objects(bucket) == {}


# --- artifacts streamed --------------------------------------------------------------------------------------------

def resident_bytes(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) * 1024


def finished_run_with_log(server: Server, size: int) -> tuple[str, Path]:
    """A real local run of one node whose log is then grown to `size` bytes (sparse: written in no time)."""
    (server.root / "a.py").write_text("print('a')\n")
    answer = server.call("POST", "schedule", pipeline_document("big", [node("a", "a.py")]), wait="true")
    assert answer["status"] == "succeeded", answer
    store = RunStore(server.home / "data" / "elyra_proc_ext" / "runs.sqlite")  # answers give URLs, not paths
    record = store.get(answer["run_id"])
    store.close()
    assert record is not None
    log = Path(record.nodes[0].artifacts["log"])
    with log.open("r+b") as file:
        file.truncate(size)
    return answer["run_id"], log


def download_watching_memory(server: Server, url: str, stop_after: int | None = None) -> dict[str, float]:
    """Download `url` (or its first `stop_after` bytes) while sampling the server's RSS and timing /api/status."""
    assert server.process is not None
    pid = server.process.pid
    baseline, peak, status_times = resident_bytes(pid), 0, []
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, resident_bytes(pid))
            started = time.monotonic()
            assert requests.get(f"{server.url}/api/status", headers=server.headers, timeout=10).ok
            status_times.append(time.monotonic() - started)
            done.wait(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    received, started = 0, time.monotonic()
    try:
        with requests.get(url, headers=server.headers, stream=True, timeout=60) as response:
            assert response.status_code == 200, response.text[:500]
            length = int(response.headers["Content-Length"])
            for chunk in response.iter_content(MIB):
                received += len(chunk)
                if stop_after is not None and received >= stop_after:
                    break
    finally:
        done.set()
        watcher.join()
    return {"length": length, "received": received, "seconds": time.monotonic() - started,
            "growth": max(peak - baseline, 0), "status_answers": len(status_times),
            "slowest_status": max(status_times, default=0.0)}


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Server]:
    root = tmp_path / "root"
    root.mkdir()
    server = Server(root, tmp_path / "home").start()
    yield server
    server.stop()


def test_large_artifacts_stream_with_flat_memory(live_server: Server) -> None:
    size = 300 * MIB
    run_id, _ = finished_run_with_log(live_server, size)
    url = f"{live_server.url}/pipeline/runs/{run_id}/nodes/a/log"
    measured = download_watching_memory(live_server, url)
    print(f"\n300 MiB artifact: server RSS growth {measured['growth'] / MIB:.1f} MiB, "
          f"{size / MIB / measured['seconds']:.0f} MiB/s, /api/status answered {measured['status_answers']} times "
          f"(slowest {measured['slowest_status'] * 1000:.0f} ms)")
    assert measured["length"] == measured["received"] == size
    assert measured["growth"] < 64 * MIB
    assert measured["status_answers"] >= 2 and measured["slowest_status"] < 5

    partial = download_watching_memory(live_server, url, stop_after=8 * MIB)  # the client goes away early
    assert partial["received"] < size and partial["growth"] < 64 * MIB
    assert live_server.call("GET", f"runs/{run_id}")["status"] == "succeeded"  # and the server carries on
