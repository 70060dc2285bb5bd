"""Schema-driven fuzzing: schemathesis generates requests from the shipped OpenAPI document and sends them to a
real `jupyter server` process; every answer must be documented (status, content type, headers, body schema),
enforce authentication, and never be a 5xx.

Every operation of the document is fuzzed, nothing excluded: from the document's request examples (the example
pipeline runs, so schedule's 202/200 are reached), in positive and negative generation modes, and, for operations
with path parameters, again with ones that name real objects (a finished run, its node and log, a runtime
configuration whose cluster is down), so both the "unknown" and the "found" branches of each handler are reached.
Generation is derandomized, so a run is reproducible. Generated runtime configurations always point at a closed
port on 127.0.0.1: no generated request makes the server reach beyond this machine. Runs stay small: generated
pipelines name no existing file (400), the example runs one print.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookiejar import DefaultCookiePolicy
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from conftest import EXAMPLE, node, pipeline_document
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from s3_server import stop_process
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

TOKEN = "fuzz-token-4d1c"
AUTH = {"Authorization": f"token {TOKEN}"}
MIN_REQUESTS = 1000
EXAMPLES = 50  # per operation, mode and variant (examples, generated, known); ~1,700 requests in all
MAX_GENERATED_ITEMS = 2
UPSTREAM_FAILURES = (502, 504)
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
ENDPOINT_FIELDS = ("api_endpoint", "public_api_endpoint", "cos_endpoint", "public_cos_endpoint")


def no_server_error(ctx: Any, response: Any, case: Case) -> bool | None:
    """schemathesis' not_a_server_error, except for 502/504 where the operation documents them: the answer the API
    owes when the runtime behind it fails (the seeded configuration's cluster is down)."""
    status = response.status_code
    if status in UPSTREAM_FAILURES and str(status) in case.operation.responses.status_codes:
        return None
    return not_a_server_error(ctx, response, case)


CHECKS = [no_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, ignored_auth]


@dataclass
class Server:
    """A `jupyter server` process with the extension enabled, on 127.0.0.1, and what was seeded into it."""

    url: str
    log: Path
    dead_endpoint: str
    known: dict[str, dict[str, str]] = field(default_factory=dict)

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.url}/{path}", headers=AUTH, timeout=60, **kwargs)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def closed_port() -> Iterator[int]:
    """A port bound but never listening: connections to it are refused at once, for as long as the module runs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, closed_port: int) -> Iterator[Server]:
    base = tmp_path_factory.mktemp("fuzz-server")
    root, config_dir = base / "root", base / "config"
    for directory in (root, config_dir, base / "home"):
        directory.mkdir()
    shutil.copytree(EXAMPLE, root / "hello_pipeline", ignore=shutil.ignore_patterns("output"))
    port = free_port()
    (config_dir / "jupyter_server_config.json").write_text(json.dumps({
        "ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}, "root_dir": str(root), "ip": "127.0.0.1",
                      "port": port, "port_retries": 0, "open_browser": False, "allow_root": True},
        "IdentityProvider": {"token": TOKEN}}))
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config_dir), "JUPYTER_DATA_DIR": str(base / "data"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "HOME": str(base / "home"), "JUPYTER_PLATFORM_DIRS": "1"}
    log = base / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "jupyter_server"], cwd=root, env=env, stdout=output,
                                   stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url, process, log)
        dead = f"http://127.0.0.1:{closed_port}"
        yield seed(Server(url, log, dead), root)
    finally:
        stop_process(process, grace=20)


def wait_until_up(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"jupyter server exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            status = requests.get(f"{url}/pipeline/runtimes", headers=AUTH, timeout=2).status_code
            if status == 200:
                return
            if status == 404:
                pytest.fail(f"jupyter server runs without the extension:\n{log.read_text()[-4000:]}")
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"jupyter server did not start within {timeout} s:\n{log.read_text()[-4000:]}")


def seed(server: Server, root: Path) -> Server:
    """A finished local run with a log, and a runtime configuration whose cluster is down, for the fuzzer to find."""
    (root / "fuzz").mkdir()
    (root / "fuzz" / "a.py").write_text("print('fuzzed')\n")
    (root / "hello.py").write_text("print('hello')\n")  # the document's example pipeline runs it
    answer = server.call("POST", "pipeline/schedule", params={"wait": "true"},
                         json=pipeline_document("seed", [node("a", "fuzz/a.py")]))
    assert answer.status_code == 200 and answer.json()["status"] == "succeeded", answer.text
    config = {"display_name": "down", "schema_name": "kfp", "metadata": {
        "api_endpoint": server.dead_endpoint, "cos_endpoint": server.dead_endpoint, "cos_bucket": "bucket",
        "auth_type": "EXISTING_BEARER_TOKEN", "api_password": "token-x", "cos_username": "user",
        "cos_password": "secret-y", "timeout": 2}}
    created = server.call("POST", "pipeline/runtime-configs", json=config)
    assert created.status_code == 201, created.text
    run_id = answer.json()["run_id"]
    server.known = {
        "getRun": {"run_id": run_id}, "cancelRun": {"run_id": run_id},
        "getNodeArtifact": {"run_id": run_id, "node_id": "a", "name": "log"},
        "getRuntimeConfig": {"name": "down"}, "updateRuntimeConfig": {"name": "down"},
        "testRuntimeConfig": {"name": "down"}, "deleteRuntimeConfig": {"name": "down"},  # last: see plan()
    }
    return server


def openapi() -> dict[str, Any]:
    return json.loads(resources.files("elyra_proc_ext").joinpath("schemas/openapi.json").read_text())


def bounded(document: dict[str, Any]) -> dict[str, Any]:
    """The document with every array in a request body capped at a few items.

    Only generation changes: pipelines of hundreds of random nodes make hypothesis slow (a second per example)
    without reaching other code. Responses are checked against the document's response schemas, untouched.
    """
    document = copy.deepcopy(document)

    def cap(schema: Any) -> None:
        if isinstance(schema, dict):
            if schema.get("type") == "array":
                schema.setdefault("maxItems", MAX_GENERATED_ITEMS)
            for value in schema.values():
                cap(value)
        elif isinstance(schema, list):
            for value in schema:
                cap(value)

    request_schemas = ("PipelineDocument", "Pipeline", "PipelineNode", "Port", "ExportRequest",
                       "KfpRuntimeMetadata", "RuntimeConfigInput")
    for name in request_schemas:
        cap(document["components"]["schemas"][name])
    return document


def stay_local(case: Case, dead_endpoint: str) -> None:
    """Point every endpoint of a generated runtime configuration at the closed port, so that testing or using it
    later never sends traffic off this machine (generated URLs name arbitrary hosts)."""
    metadata = case.body.get("metadata") if isinstance(case.body, dict) else None
    if isinstance(metadata, dict):
        for key in ENDPOINT_FIELDS:
            if key in metadata:
                metadata[key] = dead_endpoint


@dataclass
class Tally:
    generated: Counter[tuple[str, int]] = field(default_factory=Counter)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    nothing_to_negate: list[str] = field(default_factory=list)


def fuzz(server: Server, tally: Tally, case_source: Any, label: str, mode: GenerationMode) -> None:
    session = requests.Session()
    session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # the token authenticates, never a cookie

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None, print_blob=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=case_source)
    def run(case: Case) -> None:
        stay_local(case, server.dead_endpoint)
        response = case.call(base_url=server.url, session=session, headers=AUTH, timeout=60)
        tally.generated[(label, response.status_code)] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=AUTH,
                                   transport_kwargs={"base_url": server.url, "session": session, "headers": AUTH})
        except FailureGroup as failures:
            titles = ", ".join(sorted({failure.title for failure in failures.exceptions}))
            tally.failures.setdefault((label, titles), f"[{mode.value}] {failures.args[0]}")

    try:
        run()
    except Unsatisfiable:
        if mode != GenerationMode.NEGATIVE:
            raise
        tally.nothing_to_negate.append(label)  # no parameter and no body: every request would be a valid one


def plan(schema: Any, server: Server) -> Iterator[tuple[str, GenerationMode, Any]]:
    """Every operation: from the document's request examples (other parts generated), then generated in both
    modes, then, for operations with path parameters, generated with known ones. Deleting the known runtime
    configuration comes last, so the others still find it."""
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = [method for item in openapi()["paths"].values() for method in item if method in HTTP_METHODS]
    assert len(operations) == len(documented), "an operation of the document could not be loaded"
    for operation in operations:
        for strategy in operation.get_strategies_from_examples():
            yield f"{operation.label} (example)", GenerationMode.POSITIVE, strategy
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            yield operation.label, mode, operation.as_strategy(generation_mode=mode)
    with_known = [op for op in operations if op.definition.raw.get("operationId") in server.known]
    with_known.sort(key=lambda op: op.definition.raw["operationId"] == "deleteRuntimeConfig")
    for operation in with_known:
        known = server.known[operation.definition.raw["operationId"]]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            yield (f"{operation.label} (known)", mode,
                   operation.as_strategy(generation_mode=mode, path_parameters=known))


def test_fuzz_the_live_server_against_the_document(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    schema = schemathesis.openapi.from_dict(bounded(openapi()))
    # The token is sent on every request (and ignored_auth checks answers without it): generated Authorization
    # values would only turn the requests into 403s before they reach a handler.
    schema.config.generation.update(with_security_parameters=False)
    tally = Tally()
    started = time.monotonic()
    for label, mode, strategy in plan(schema, server):
        fuzz(server, tally, strategy, label, mode)
    elapsed = time.monotonic() - started
    total = sum(tally.generated.values())
    by_status = Counter(status for _, status in tally.generated.elements())
    with capsys.disabled():
        print(f"\nschemathesis: {total} generated requests in {elapsed:.0f} s, by status "
              f"{dict(sorted(by_status.items()))}; nothing to negate in {len(tally.nothing_to_negate)} operations "
              "without parameters or body")
    assert not tally.failures, "\n\n".join(f"{label}: {titles}\n{report}"
                                           for (label, titles), report in tally.failures.items())
    assert total >= MIN_REQUESTS, f"only {total} requests were generated"
    log = server.log.read_text(errors="replace")
    crash = log.find("Traceback")
    assert crash < 0, f"the server logged a crash:\n{log[max(0, crash - 1500):crash + 4000]}"
