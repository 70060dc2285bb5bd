"""Kubeflow Pipelines over the REST API of a real Jupyter server: runtime configurations, submission answers,
failure modes and export. KFP is the KFP API test server (a stand-in, see tests/kfp_server); S3 is moto_server.

Every failure test uses distinctive secret values and checks they appear in no response and no log line.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from conftest import api_call
from kfp_server import KfpTestServer
from s3_server import S3Server

API_SECRET = "api-Secret-7f3a9c"
SOURCE = "hello_pipeline/hello_pipeline.pipeline"


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


def config_body(kfp_server: KfpTestServer, s3_server: S3Server, bucket: str, **metadata: Any) -> dict[str, Any]:
    return {"display_name": "Team KFP", "schema_name": "kfp", "metadata": {
        "api_endpoint": kfp_server.endpoint, "cos_endpoint": s3_server.endpoint, "cos_bucket": bucket,
        "cos_auth_type": "USER_CREDENTIALS", "cos_username": s3_server.access_key,
        "cos_password": s3_server.secret_key, "timeout": 5, **metadata}}


async def test_runtime_configuration_lifecycle(jp_fetch: Any, jp_data_dir: Path, kfp_server: KfpTestServer,
                                               s3_server: S3Server) -> None:
    kfp_server.require_token = API_SECRET
    body = config_body(kfp_server, s3_server, "bucket", auth_type="EXISTING_BEARER_TOKEN", api_password=API_SECRET)
    code, created = await api_call(jp_fetch, "POST", "runtime-configs", body=body)
    assert code == 201 and created["name"] == "team_kfp"
    assert created["metadata"]["api_password"] == "********" and created["metadata"]["cos_password"] == "********"
    path = jp_data_dir / "metadata" / "runtimes" / "team_kfp.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text())["metadata"]["api_password"] == API_SECRET  # Elyra's format, as Elyra reads
    code, again = await api_call(jp_fetch, "POST", "runtime-configs", body=body)
    assert code == 409 and "already exists" in again["message"]
    code, listing = await api_call(jp_fetch, "GET", "runtime-configs")
    assert code == 200 and API_SECRET not in json.dumps(listing)

    update = {**created, "metadata": {**created["metadata"], "description": "shared cluster"}}
    code, updated = await api_call(jp_fetch, "PUT", "runtime-configs", "team_kfp", body=update)
    assert code == 200 and updated["metadata"]["description"] == "shared cluster"
    assert json.loads(path.read_text())["metadata"]["api_password"] == API_SECRET  # the mask kept the secret

    bad = {**update, "metadata": {**update["metadata"], "cos_bucket": "Not A Bucket", "auth_type": "DEX_LDAP"}}
    code, error = await api_call(jp_fetch, "PUT", "runtime-configs", "team_kfp", body=bad)
    assert code == 400 and "metadata.cos_bucket" in error["message"]
    unknown_auth = {**update, "metadata": {**update["metadata"], "auth_type": "DEX_OIDC"}}
    code, error = await api_call(jp_fetch, "PUT", "runtime-configs", "team_kfp", body=unknown_auth)
    assert code == 400 and "metadata.auth_type: 'DEX_OIDC' is not one of ['NO_AUTHENTICATION'," in error["message"]
    code, error = await api_call(jp_fetch, "POST", "runtime-configs", body={"display_name": "x", "schema_name": "local",
                                                                        "metadata": {}})
    assert code == 400 and "schema_name must name a runtime that takes configurations: kfp" in error["message"]

    code, tested = await api_call(jp_fetch, "POST", "runtime-configs", "team_kfp", "test", body={})
    assert code == 502 and "bucket bucket does not exist" in tested["message"]
    s3_server.make_bucket("bucket")
    code, tested = await api_call(jp_fetch, "POST", "runtime-configs", "team_kfp", "test", body={})
    assert code == 200 and tested["ok"] is True and "bucket 'bucket' is reachable" in tested["message"]
    code, runtimes = await api_call(jp_fetch, "GET", "runtimes")
    kfp = next(r for r in runtimes["runtimes"] if r["name"] == "kfp")
    fields = kfp["config_schema"]["properties"]["metadata"]["properties"]
    assert fields["api_password"]["writeOnly"] is True
    assert {"const": "DEX_STATIC_PASSWORDS", "title": "Dex static passwords"} in fields["auth_type"]["oneOf"]
    assert runtimes["runtime_configs"] == ["team_kfp"]
    assert (await api_call(jp_fetch, "DELETE", "runtime-configs", "team_kfp"))[0] == 204
    assert (await api_call(jp_fetch, "GET", "runtime-configs", "team_kfp"))[0] == 404


async def test_schedule_answers_with_kfp_details(jp_fetch: Any, document: dict, kfp_server: KfpTestServer,
                                                 s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket()
    kfp_server.require_token = API_SECRET
    body = config_body(kfp_server, s3_server, bucket, auth_type="EXISTING_BEARER_TOKEN", api_password=API_SECRET)
    assert (await api_call(jp_fetch, "POST", "runtime-configs", body=body))[0] == 201
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=document, paths="pipeline",
                              runtime_config="team_kfp", wait="true", experiment="nightly")
    assert code == 200, answer
    assert answer["platform"] == "KUBEFLOW_PIPELINES" and answer["status"] == "submitted"
    assert answer["experiment_name"] == "nightly" and answer["experiment_id"] in kfp_server.experiments
    assert answer["run_url"].endswith(f"/#/runs/details/{answer['kfp_run_id']}")
    for key in ("pipeline_id", "pipeline_version_id", "object_storage_url", "object_storage_path"):
        assert answer[key], key
    kfp_server.wait_for_run(answer["kfp_run_id"], timeout=120)
    code, run = await api_call(jp_fetch, "GET", "runs", answer["run_id"])
    assert code == 200 and run["status"] == "succeeded" and run["result"]["remote_status"] == "SUCCEEDED"
    assert {n["status"] for n in run["nodes"]} == {"succeeded"}
    assert API_SECRET not in json.dumps(answer) + json.dumps(run)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


FAILURES = {
    "wrong credentials": ({"auth_type": "EXISTING_BEARER_TOKEN", "api_password": API_SECRET},
                          {"require_token": "the-right-token"}, "refused access (HTTP 40"),
    "endpoint down": ({"api_endpoint": "http://127.0.0.1:{port}/pipeline"}, {}, "Cannot connect"),
    "namespace missing": ({"user_namespace": "team-b"}, {"multi_user": True, "namespaces": {"team-a"}},
                          "Namespace 'team-b' was not accepted"),
    "bucket missing": ({"cos_bucket": "no-such-bucket"}, {}, "bucket no-such-bucket does not exist"),
    "kfp answers 500": ({}, {"fail": {"create_run": 500}}, "answered HTTP 500 while creating the run"),
    "kfp answers 401 mid-way": ({}, {"fail": {"create_experiment": 401}}, "refused access (HTTP 401) while creating"),
    "kfp hangs past the timeout": ({"timeout": 1}, {"hang": {"upload_pipeline": 15}},
                                   "did not answer within 1 s while uploading the pipeline"),
    "storage down": ({"cos_endpoint": "http://127.0.0.1:{port}"}, {}, "is not reachable"),
    "storage denies access": ({"cos_password": "wrong-Storage-Secret-55"}, {}, "rejected the credentials"),
}


@pytest.mark.parametrize("case", FAILURES, ids=list(FAILURES))
async def test_failures_give_clear_errors_and_keep_secrets(case: str, jp_fetch: Any, document: dict, jp_data_dir: Path,
                                                           kfp_server: KfpTestServer, s3_server: S3Server,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    metadata, server_settings, expected = FAILURES[case]
    caplog.set_level(logging.DEBUG)
    for name, value in server_settings.items():
        setattr(kfp_server, name, value)
    metadata = {key: value.format(port=closed_port()) if isinstance(value, str) else value
                for key, value in metadata.items()}
    body = config_body(kfp_server, s3_server, s3_server.make_bucket(), **metadata)
    assert (await api_call(jp_fetch, "POST", "runtime-configs", body=body))[0] == 201
    code, answer = await api_call(jp_fetch, "POST", "schedule", body=document, paths="pipeline",
                              runtime_config="team_kfp", wait="true")
    assert code == 200 and answer["status"] == "failed"
    code, run = await api_call(jp_fetch, "GET", "runs", answer["run_id"])
    assert run["status"] == "failed" and expected in run["error"], run["error"]
    if case in ("kfp answers 500", "kfp answers 401 mid-way"):
        assert f"pipeline id {run['result']['pipeline_id']}" in run["error"]
    if case == "kfp answers 500":
        assert "experiment id" in run["error"]
    code, _ = await api_call(jp_fetch, "GET", "runtimes")  # the server kept serving throughout
    assert code == 200
    stored = "".join(path.read_text(errors="replace") for path in jp_data_dir.rglob("*")
                     if path.is_file() and "runtimes" not in path.parts and path.suffix != ".tar.gz")
    everything = json.dumps(answer) + json.dumps(run) + caplog.text + stored
    for secret in (API_SECRET, s3_server.secret_key, "wrong-Storage-Secret-55"):
        assert secret not in everything


async def test_kfp_validation_and_export(jp_fetch: Any, document: dict, jp_root_dir: Path,
                                         kfp_server: KfpTestServer, s3_server: S3Server) -> None:
    bucket = s3_server.make_bucket()
    code, _ = await api_call(jp_fetch, "POST", "runtime-configs", body=config_body(kfp_server, s3_server, bucket))
    assert code == 201
    without_image = json.loads(json.dumps(document))
    del without_image["pipelines"][0]["app_data"]["properties"]["pipeline_defaults"]["runtime_image"]
    without_image["pipelines"][0]["nodes"][0]["app_data"]["component_parameters"]["cpu"] = -1
    code, checked = await api_call(jp_fetch, "POST", "validate", body=without_image, paths="pipeline",
                               runtime_config="team_kfp")
    found = {(i["type"], i["data"].get("nodeID"), i["data"].get("propertyName")) for i in checked["issues"]}
    assert ("invalidNodeProperty", "generate", "cpu") in found
    assert ("invalidNodeProperty", "report", "runtime_image") in found

    request = {"pipeline": document, "export_format": "yaml", "export_path": "hello_pipeline/exported.yaml"}
    response = await jp_fetch("pipeline", "export", method="POST", body=json.dumps(request), raise_error=False,
                              params={"paths": "pipeline", "runtime_config": "team_kfp"})
    assert response.code == 201, response.body
    assert response.headers["Location"].endswith("/api/contents/hello_pipeline/exported.yaml")
    assert "deploymentSpec" in (jp_root_dir / "hello_pipeline" / "exported.yaml").read_text()
    code, again = await api_call(jp_fetch, "POST", "export", body=request, paths="pipeline", runtime_config="team_kfp")
    assert code == 409 and "overwrite" in again["message"]
    for outside in ("../escape.yaml", "/tmp/escape.yaml", "missing-dir/x.yaml"):
        code, refused = await api_call(jp_fetch, "POST", "export", body={**request, "export_path": outside},
                                   paths="pipeline", runtime_config="team_kfp")
        assert code == 400 and "outside the server root" in refused["message"]
    await asyncio.sleep(0)


IMPOSSIBLE_TARGETS = {
    "a directory": ("hello_pipeline", "is a directory"),
    "a directory, with a slash": ("hello_pipeline/", "is a directory"),
    "NUL": ("hello_pipeline/a\x00b.yaml", "control character"),
    "newline": ("hello_pipeline/a\nb.yaml", "control character"),
    "tab": ("hello_pipeline/a\tb.yaml", "control character"),
    "a name over 255 bytes": ("hello_pipeline/" + "n" * 251 + ".yaml", "longer than 255 bytes"),
    "a name over 255 bytes in UTF-8": ("hello_pipeline/" + "é" * 128 + ".yaml", "longer than 255 bytes"),
    "a path over PATH_MAX": ("hello_pipeline/" + "./" * 2100 + "x.yaml", "paths are limited to 4095"),
}


async def test_impossible_export_targets_are_refused_before_upload(jp_fetch: Any, document: dict,
                                                                   jp_root_dir: Path, kfp_server: KfpTestServer,
                                                                   s3_server: S3Server) -> None:
    """Each answered 400 before any archive reaches the bucket (they used to be 500s after the upload)."""
    bucket = s3_server.make_bucket()
    code, _ = await api_call(jp_fetch, "POST", "runtime-configs", body=config_body(kfp_server, s3_server, bucket))
    assert code == 201
    before = sorted(jp_root_dir.rglob("*"))
    for case, (export_path, expected) in IMPOSSIBLE_TARGETS.items():
        for overwrite in (False, True):
            request = {"pipeline": document, "export_path": export_path, "overwrite": overwrite}
            code, refused = await api_call(jp_fetch, "POST", "export", body=request, paths="pipeline",
                                           runtime_config="team_kfp")
            assert code == 400 and expected in refused["message"], (case, code, refused)
            assert s3_server.objects(bucket) == {}, case
    assert sorted(jp_root_dir.rglob("*")) == before
    request = {"pipeline": document, "export_path": "hello_pipeline/" + "n" * 250 + ".yaml"}  # 255 bytes: fine
    code, exported = await api_call(jp_fetch, "POST", "export", body=request, paths="pipeline",
                                    runtime_config="team_kfp")
    assert code == 201 and s3_server.objects(bucket), exported


def with_credentials(url: str, user: str, password: str) -> str:
    return url.replace("://", f"://{user}:{password}@", 1)


URL_PASSWORDS = {"api_endpoint": "Api-Url-pw-71c2", "cos_endpoint": "Cos-Url-pw-52e9",
                 "public_api_endpoint": "PubApi-Url-pw-33d1", "public_cos_endpoint": "PubCos-Url-pw-94b7"}


async def test_credentials_inside_urls_never_leave_the_server(jp_fetch: Any, document: dict, jp_data_dir: Path,
                                                              jp_root_dir: Path, kfp_server: KfpTestServer,
                                                              s3_server: S3Server,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    """Every URL field carries `user:password@`: no answer, log line or file under the data dir other than the
    0600 configuration file holds one of the passwords, through create/get/list, a connection test, a
    succeeding and a failing submission and an export."""
    caplog.set_level(logging.DEBUG)
    bucket = s3_server.make_bucket()
    endpoints = {"api_endpoint": kfp_server.endpoint, "cos_endpoint": s3_server.endpoint,
                 "public_api_endpoint": "https://kfp.example.com/pipeline",
                 "public_cos_endpoint": "https://minio.example.com"}
    metadata = {field: with_credentials(url, field.replace("_", ""), URL_PASSWORDS[field])
                for field, url in endpoints.items()}
    answers = []

    async def call(method: str, *path: str, body: Any = None, expected: int = 200, **params: str) -> Any:
        code, answer = await api_call(jp_fetch, method, *path, body=body, **params)
        assert code == expected, (path, code, answer)
        answers.append(answer)
        return answer

    await call("POST", "runtime-configs", body=config_body(kfp_server, s3_server, bucket, **metadata), expected=201)
    config = await call("GET", "runtime-configs", "team_kfp")
    assert config["metadata"]["public_api_endpoint"] == "https://***@kfp.example.com/pipeline"
    await call("PUT", "runtime-configs", "team_kfp", body=config)  # sent back masked: the stored URLs are kept
    await call("GET", "runtime-configs")
    await call("POST", "runtime-configs", "team_kfp", "test", body={})
    succeeded = await call("POST", "schedule", body=document, paths="pipeline", runtime_config="team_kfp", wait="true")
    assert succeeded["status"] == "submitted" and succeeded["run_url"].startswith("https://***@kfp.example.com/")
    kfp_server.wait_for_run(succeeded["kfp_run_id"], timeout=120)
    assert (await call("GET", "runs", succeeded["run_id"]))["status"] == "succeeded"  # the pods reached storage
    kfp_server.fail = {"create_run": 500}
    failed = await call("POST", "schedule", body=document, paths="pipeline", runtime_config="team_kfp", wait="true")
    assert failed["status"] == "failed"
    assert "answered HTTP 500 while creating the run" in (await call("GET", "runs", failed["run_id"]))["error"]
    await call("GET", "runs")
    await call("POST", "export", body={"pipeline": document, "export_path": "hello_pipeline/out.yaml"},
               paths="pipeline", runtime_config="team_kfp", expected=201)

    configuration = jp_data_dir / "metadata" / "runtimes" / "team_kfp.json"
    kept = json.loads(configuration.read_text())["metadata"]
    assert kept == {**kept, **metadata}  # the masked URLs sent back by the update kept the stored ones
    assert stat.S_IMODE(configuration.stat().st_mode) == 0o600
    stored = b"".join(path.read_bytes() for path in jp_data_dir.rglob("*") if path.is_file() and path != configuration)
    everything = json.dumps(answers) + caplog.text + stored.decode(errors="replace")
    assert "https://***@kfp.example.com" in everything and "://***@127.0.0.1" in caplog.text  # there, masked
    for password in URL_PASSWORDS.values():
        assert password not in everything, password
