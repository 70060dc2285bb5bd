"""The in-container bootstrapper, run for real as `python -c SOURCE ARGS` against moto_server (credentials checked).

Archives are staged with `build_archive`, as the KFP processor stages them, and results are read back with boto3.
"""

from __future__ import annotations

import glob
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from s3_server import S3Server

from elyra_proc_ext.storage import build_archive

SOURCE = (Path(__file__).resolve().parents[1] / "elyra_proc_ext" / "kfp" / "bootstrapper.py").read_text()
FAKE_ACCESS_KEY = "AKIAELYRAPROCFAKEKEY7"
FAKE_SECRET_KEY = "elyra-proc-fake-secret/never-shown+42"

PROCESS_PY = """\
import json, os, pathlib
numbers = [int(line) for line in pathlib.Path("raw/numbers.csv").read_text().split()]
print("summing", len(numbers), "numbers")
pathlib.Path("out").mkdir(exist_ok=True)
pathlib.Path("out/total.txt").write_text(str(sum(numbers)))
pathlib.Path("out/count.txt").write_text(str(len(numbers)))
names = ("ALPHA", "GREETING", "NODE_VAR", "ELYRA_RUNTIME_ENV", "ELYRA_RUN_NAME")
pathlib.Path("summary.json").write_text(json.dumps({name: os.environ.get(name) for name in names}))
print("helper says", open("lib/helper.txt").read().strip())
"""
FAIL_PY = """\
print("about to fail", flush=True)
raise SystemExit(3)
"""
NOTEBOOK = {
    "nbformat": 4, "nbformat_minor": 5,
    "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    "cells": [
        {"cell_type": "code", "id": "c1", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "import os, pathlib\ntext = pathlib.Path('lib/helper.txt').read_text().strip()\n"
                   "print('notebook read', text, os.environ['ELYRA_RUNTIME_ENV'])\n"
                   "pathlib.Path('nb_out.txt').write_text(text.upper())"},
        {"cell_type": "code", "id": "c2", "metadata": {}, "execution_count": None, "outputs": [],
         "source": "if os.environ.get('BREAK') == 'yes':\n    raise ValueError('broken on purpose')"},
    ],
}


@dataclass
class Run:
    returncode: int
    output: str
    objects: dict[str, bytes]
    prefix: str


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    return s3_server.make_bucket()


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("workspace")
    (root / "proj" / "lib").mkdir(parents=True)
    (root / "proj" / "process.py").write_text(PROCESS_PY)
    (root / "proj" / "fail.py").write_text(FAIL_PY)
    (root / "proj" / "analysis.ipynb").write_text(json.dumps(NOTEBOOK))
    (root / "proj" / "lib" / "helper.txt").write_text("forty-two\n")
    return root


RunNode = Callable[..., Run]


@pytest.fixture
def run_node(s3_server: S3Server, bucket: str, workspace: Path, tmp_path: Path) -> RunNode:
    """Stage the node's archive (and upstream objects) under a fresh prefix, run the bootstrapper, collect results."""

    def run(file: str, *extra: str, upstream: dict[str, bytes] | None = None, env: dict[str, str] | None = None,
            credentials_in_env: bool = True, python: str = sys.executable, python_flags: tuple[str, ...] = (),
            archive: Path | None = None) -> Run:
        prefix = f"runs/demo-{uuid.uuid4().hex[:10]}"
        archive_name = f"{Path(file).stem}-{uuid.uuid4().hex[:6]}.tar.gz"
        if archive is None:
            archive = tmp_path / archive_name
            build_archive(workspace, f"proj/{file}", ["lib/*.txt"], False, archive)
        client = s3_server.client()
        client.upload_file(str(archive), bucket, f"{prefix}/{archive_name}")
        for key, content in (upstream or {}).items():
            client.put_object(Bucket=bucket, Key=f"{prefix}/{key}", Body=content)
        child_env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
        child_env["ELYRA_PROC_WORK_DIR"] = str(tmp_path / "work")
        if credentials_in_env:
            child_env.update(AWS_ACCESS_KEY_ID=s3_server.access_key, AWS_SECRET_ACCESS_KEY=s3_server.secret_key)
        child_env.update(env or {})
        command = [python, *python_flags, "-c", SOURCE, "--endpoint", s3_server.endpoint, "--bucket", bucket,
                   "--prefix", prefix, "--archive", archive_name, "--file", file, "--pipeline-name", "demo", *extra]
        (tmp_path / "container").mkdir(exist_ok=True)
        done = subprocess.run(command, cwd=tmp_path / "container", env=child_env, capture_output=True, text=True,
                              timeout=240)
        objects = s3_server.objects(bucket, prefix + "/")
        objects = {key[len(prefix) + 1:]: value for key, value in objects.items() if key != f"{prefix}/{archive_name}"}
        return Run(done.returncode, done.stdout + done.stderr, objects, archive_name[: -len(".tar.gz")])

    return run


def test_python_node_reads_inputs_and_uploads_outputs(run_node: RunNode) -> None:
    run = run_node("process.py", "--inputs", "raw/numbers.csv", "--outputs", "out/*.txt;summary.json",
                   upstream={"raw/numbers.csv": b"1\n2\n39\n"})
    assert run.returncode == 0, run.output
    base = run.prefix
    assert set(run.objects) == {"raw/numbers.csv", "out/total.txt", "out/count.txt", "summary.json", f"{base}.log"}
    assert run.objects["out/total.txt"] == b"42"
    assert run.objects["out/count.txt"] == b"3"
    assert run.objects[f"{base}.log"].decode() == "summing 3 numbers\nhelper says forty-two\n"
    assert "summing 3 numbers" in run.output  # the log is teed to the container's stdout
    assert "[bootstrapper] downloading input runs/demo-" in run.output
    assert run.output.rstrip().endswith("[bootstrapper] done")


def test_inputs_may_be_globs_of_upstream_outputs(run_node: RunNode, s3_server: S3Server) -> None:
    with s3_server.authentication_off():  # listing needs a prefix with '/', which moto cannot verify
        run = run_node("process.py", "--inputs", "raw/*.csv", "--outputs", "out/total.txt",
                       upstream={"raw/numbers.csv": b"5\n5\n", "raw/sub/other.csv": b"ignored", "raw/n.txt": b"x"})
    assert run.returncode == 0, run.output
    assert run.objects["out/total.txt"] == b"10"
    assert "downloading input" in run.output and "raw/sub/other.csv" not in run.output


def test_parameters_and_node_env_reach_the_script_as_environment_variables(run_node: RunNode) -> None:
    env = json.dumps({"NODE_VAR": "from the node", "ALPHA": "overridden by the parameter"})
    run = run_node("process.py", "--inputs", "raw/numbers.csv", "--outputs", "summary.json", "--env", env,
                   "--parameter", "ALPHA=1", "--parameter", "GREETING=hello = world",
                   upstream={"raw/numbers.csv": b"1\n"})
    assert run.returncode == 0, run.output
    run_name = json.loads(run.objects["summary.json"])["ELYRA_RUN_NAME"]
    assert json.loads(run.objects["summary.json"]) == {"ALPHA": "1", "GREETING": "hello = world",
                                                       "NODE_VAR": "from the node", "ELYRA_RUNTIME_ENV": "kfp",
                                                       "ELYRA_RUN_NAME": run_name}
    assert run_name.startswith("demo-")


def test_notebook_node_uploads_executed_notebook_log_and_outputs(run_node: RunNode) -> None:
    run = run_node("analysis.ipynb", "--outputs", "nb_out.txt")
    assert run.returncode == 0, run.output
    base = run.prefix
    assert set(run.objects) == {"nb_out.txt", f"{base}-executed.ipynb", f"{base}.log"}
    assert run.objects["nb_out.txt"] == b"FORTY-TWO"
    executed = json.loads(run.objects[f"{base}-executed.ipynb"])
    assert "".join(executed["cells"][0]["outputs"][0]["text"]) == "notebook read forty-two kfp\n"
    assert "notebook read forty-two kfp" in run.objects[f"{base}.log"].decode()


def test_notebook_runs_with_nbclient_when_papermill_is_absent(run_node: RunNode, tmp_path: Path) -> None:
    shadow = tmp_path / "shadow" / "papermill"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('papermill is hidden by this test')\n")
    run = run_node("analysis.ipynb", "--outputs", "nb_out.txt", env={"PYTHONPATH": str(shadow.parent)})
    assert run.returncode == 0, run.output
    assert run.objects["nb_out.txt"] == b"FORTY-TWO"
    executed = json.loads(run.objects[f"{run.prefix}-executed.ipynb"])
    assert "".join(executed["cells"][0]["outputs"][0]["text"]) == "notebook read forty-two kfp\n"
    assert "Executing Cell" not in run.output  # papermill's progress lines: it really was not used
    assert "notebook read forty-two kfp" in run.objects[f"{run.prefix}.log"].decode()


def test_failing_notebook_still_uploads_the_executed_notebook(run_node: RunNode) -> None:
    run = run_node("analysis.ipynb", "--outputs", "nb_out.txt", env={"BREAK": "yes"})
    assert run.returncode == 1
    base = run.prefix
    assert set(run.objects) == {f"{base}-executed.ipynb", f"{base}.log"}  # no outputs from a failed node
    executed = json.loads(run.objects[f"{base}-executed.ipynb"])
    errors = [output for cell in executed["cells"] for output in cell.get("outputs", []) if "ename" in output]
    assert [(error["ename"], error["evalue"]) for error in errors] == [("ValueError", "broken on purpose")]
    assert "FAILED: notebook analysis.ipynb failed in cell 2: ValueError: broken on purpose" in run.output


def test_failing_script_uploads_its_log_and_exits_non_zero(run_node: RunNode) -> None:
    run = run_node("fail.py", "--outputs", "never.txt")
    assert run.returncode == 1
    assert set(run.objects) == {f"{run.prefix}.log"}
    assert run.objects[f"{run.prefix}.log"] == b"about to fail\n"
    assert "[bootstrapper] FAILED: " in run.output and "fail.py exited with code 3 (see its log)" in run.output


def test_malformed_env_is_refused(run_node: RunNode) -> None:
    run = run_node("process.py", "--env", "NODE_VAR=1")
    assert run.returncode == 1
    assert "[bootstrapper] FAILED: --env must be a JSON object of NAME: VALUE" in run.output


def test_missing_declared_output_fails_with_its_name(run_node: RunNode) -> None:
    run = run_node("process.py", "--inputs", "raw/numbers.csv", "--outputs", "out/total.txt;results/*.parquet",
                   upstream={"raw/numbers.csv": b"1\n"})
    assert run.returncode == 1
    assert "[bootstrapper] FAILED: declared output 'results/*.parquet' was not produced by the node" in run.output
    assert f"{run.prefix}.log" in run.objects


def test_missing_input_fails_naming_the_object(run_node: RunNode, s3_server: S3Server) -> None:
    run = run_node("process.py", "--inputs", "raw/numbers.csv")
    assert run.returncode == 1
    assert "raw/numbers.csv does not exist (while downloading runs/demo-" in run.output


def test_credentials_passed_as_arguments_work_and_are_never_printed(run_node: RunNode,
                                                                     s3_server: S3Server) -> None:
    run = run_node("process.py", "--inputs", "raw/numbers.csv", "--outputs", "out/total.txt",
                   "--access-key", s3_server.access_key, "--secret-key", s3_server.secret_key,
                   upstream={"raw/numbers.csv": b"2\n"}, credentials_in_env=False)
    assert run.returncode == 0, run.output
    assert run.objects["out/total.txt"] == b"2"
    assert s3_server.secret_key not in run.output and s3_server.access_key not in run.output


def test_rejected_credentials_fail_without_being_printed(run_node: RunNode) -> None:
    run = run_node("process.py", "--access-key", FAKE_ACCESS_KEY, "--secret-key", FAKE_SECRET_KEY,
                   credentials_in_env=False)
    assert run.returncode == 1
    assert "object storage rejected the credentials while downloading" in run.output
    assert "InvalidAccessKeyId" in run.output
    assert FAKE_SECRET_KEY not in run.output and FAKE_ACCESS_KEY not in run.output


def test_argument_errors_do_not_echo_credentials(run_node: RunNode) -> None:
    run = run_node("process.py", "--secret-key", FAKE_SECRET_KEY, "--bogus", FAKE_SECRET_KEY)
    assert run.returncode == 1
    assert "[bootstrapper] FAILED: invalid arguments: unrecognized arguments: --bogus ***" in run.output
    assert FAKE_SECRET_KEY not in run.output


def test_missing_credentials_say_where_to_set_them(run_node: RunNode) -> None:
    run = run_node("process.py", credentials_in_env=False)
    assert run.returncode == 1
    assert "no object storage credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in run.output


def test_large_output_is_uploaded_in_parts(run_node: RunNode, workspace: Path, tmp_path: Path) -> None:
    (workspace / "proj" / "big.py").write_text(
        "import hashlib\nwith open('big.bin', 'wb') as out:\n"
        "    for i in range(12):\n        out.write(hashlib.sha256(bytes([i])).digest() * 32768)\n")
    run = run_node("big.py", "--outputs", "big.bin", env={"ELYRA_PROC_PART_SIZE": str(5 * 1024 * 1024)})
    assert run.returncode == 0, run.output
    expected = b"".join(__import__("hashlib").sha256(bytes([i])).digest() * 32768 for i in range(12))
    assert run.objects["big.bin"] == expected  # 12 MiB, sent as three signed parts


def test_archive_members_leaving_the_work_directory_are_refused(run_node: RunNode, tmp_path: Path) -> None:
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        for name, data in (("process.py", b"print('hi')\n"), ("../escaped.txt", b"gotcha")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    run = run_node("process.py", archive=evil)
    assert run.returncode == 1
    assert "refusing archive member '../escaped.txt'" in run.output
    assert not (tmp_path / "escaped.txt").exists()


def test_missing_notebook_tooling_is_named(run_node: RunNode) -> None:
    # `-S` leaves out site-packages: a Python with the standard library only, like a bare runtime image.
    run = run_node("analysis.ipynb", python_flags=("-S",))
    assert run.returncode == 1
    assert ("running notebooks needs papermill, or nbclient and nbformat, in the runtime image "
            "(missing: papermill, nbclient, nbformat)") in run.output
    assert "downloading" not in run.output  # found out before any transfer


def python39() -> str | None:
    candidates = ["python3.9", *glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9"))]
    for candidate in candidates:
        try:
            probe = subprocess.run([candidate, "-c", "import sys; print(sys.version_info[:2] == (3, 9))"],
                                   capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        if probe.stdout.strip() == "True":
            return candidate
    return None


@pytest.mark.skipif(python39() is None, reason="needs a Python 3.9 interpreter")
def test_runs_on_python_3_9(run_node: RunNode, s3_server: S3Server, tmp_path: Path) -> None:
    """With web identity credentials and KFP's output artifacts: every path added since 3.9 was the floor."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN)
    with s3_server.web_identity_sts() as sts:
        run = run_node("process.py", "--auth", "web-identity", "--inputs", "raw/numbers.csv", "--outputs",
                       "out/total.txt", "--metrics-output", str(tmp_path / "kfp" / "metrics"),
                       upstream={"raw/numbers.csv": b"4\n5\n"}, python=python39() or "", credentials_in_env=False,
                       env=web_identity_env(sts.role_arn, token_file, sts.endpoint))
    assert run.returncode == 0, run.output
    assert run.objects["out/total.txt"] == b"9"
    assert json.loads((tmp_path / "kfp" / "metrics").read_text()) == {"metrics": []}


def load_bootstrapper() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "bootstrapper"}
    exec(compile(SOURCE, "bootstrapper.py", "exec"), namespace)
    return namespace


@pytest.mark.parametrize(("method", "key", "params"), [
    ("GET", "", {"list-type": "2", "prefix": "runs/demo-1/raw/", "continuation-token": "a+b/c="}),
    ("PUT", "runs/demo-1/data/a b+ü~.csv", {"partNumber": "2", "uploadId": "x/y+z=="}),
    ("POST", "runs/demo-1/big.bin", {"uploads": ""}),
])
def test_signatures_match_botocore(method: str, key: str, params: dict[str, str]) -> None:
    """The bootstrapper's SigV4 equals botocore's, including the encodings moto cannot check (see s3_server)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    bootstrapper = load_bootstrapper()
    client = bootstrapper["S3"]("https://minio.example.com:9000/base", "bucket", FAKE_ACCESS_KEY, FAKE_SECRET_KEY,
                                "eu-west-1", token="session-token")
    path = quote(f"/base/bucket/{key}" if key else "/base/bucket", safe="/~")
    payload = "UNSIGNED-PAYLOAD" if method == "PUT" else bootstrapper["EMPTY_SHA256"]
    query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    ours = client._headers(method, path, query, payload)
    request = AWSRequest(method=method, url=f"https://minio.example.com:9000{path}", params=params,
                         headers={name: ours[name] for name in ours if name != "Authorization"})
    request.context["timestamp"] = ours["x-amz-date"]
    auth = S3SigV4Auth(Credentials(FAKE_ACCESS_KEY, FAKE_SECRET_KEY, "session-token"), "s3", "eu-west-1")
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    assert ours["Authorization"].endswith(f"Signature={expected}")
    assert "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token," in ours["Authorization"]


TOKEN = "eyJhbGciOiJSUzI1NiJ9.service-account-of-the-pod.signature"


def web_identity_env(role_arn: str, token_file: Path, sts_endpoint: str) -> dict[str, str]:
    """What EKS injects into a pod whose service account is bound to an IAM role, STS pointed at the test's."""
    return {"AWS_ROLE_ARN": role_arn, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token_file),
            "AWS_ENDPOINT_URL_STS": sts_endpoint}


def test_web_identity_assumes_the_role_and_signs_with_its_temporary_keys(run_node: RunNode, s3_server: S3Server,
                                                                         tmp_path: Path) -> None:
    """moto checks every S3 request's key, signature, session token and the role's policy: the node's archive,
    input and output only get through with the keys STS issued for the role."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    with s3_server.web_identity_sts() as sts:
        run = run_node("process.py", "--auth", "web-identity", "--inputs", "raw/numbers.csv", "--outputs",
                       "out/total.txt", upstream={"raw/numbers.csv": b"40\n2\n"}, credentials_in_env=False,
                       env=web_identity_env(sts.role_arn, token_file, sts.endpoint))
    assert run.returncode == 0, run.output
    assert run.objects["out/total.txt"] == b"42"
    assert [(call["Action"], call["Version"], call["RoleArn"], call["WebIdentityToken"]) for call in sts.calls] == [
        ("AssumeRoleWithWebIdentity", "2011-06-15", sts.role_arn, TOKEN)]
    assert f"assumed role {sts.role_arn} with the pod's web identity" in run.output
    assert TOKEN not in run.output


def test_web_identity_keys_alone_are_refused_by_the_storage(s3_server: S3Server) -> None:
    """The check above can fail: moto takes the role's temporary keys with their session token, not without."""
    import boto3
    from botocore.exceptions import ClientError

    with s3_server.web_identity_sts() as sts:
        keys = boto3.client("sts", endpoint_url=sts.endpoint, region_name="us-east-1").assume_role_with_web_identity(
            RoleArn=sts.role_arn, RoleSessionName="probe", WebIdentityToken=TOKEN)["Credentials"]
    bucket = s3_server.make_bucket()
    with_token = boto3.client("s3", endpoint_url=s3_server.endpoint, region_name="us-east-1",
                              aws_access_key_id=keys["AccessKeyId"], aws_secret_access_key=keys["SecretAccessKey"],
                              aws_session_token=keys["SessionToken"])
    with_token.put_object(Bucket=bucket, Key="ok.txt", Body=b"with the token")
    with pytest.raises(ClientError) as refused:
        s3_server.client(keys["AccessKeyId"], keys["SecretAccessKey"]).put_object(Bucket=bucket, Key="x", Body=b"")
    assert refused.value.response["Error"]["Code"] == "InvalidAccessKeyId"


@pytest.mark.parametrize(("env", "message"), [
    ({}, "cos_auth_type AWS_IAM_ROLES_FOR_SERVICE_ACCOUNTS needs AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE in "
         "the pod: run it with a service account bound to an IAM role"),
    ({"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x"}, "needs AWS_WEB_IDENTITY_TOKEN_FILE in the pod"),
    ({"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x", "AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token"},
     "cannot read the web identity token file /nonexistent/token (No such file or directory)"),
])
def test_web_identity_without_what_it_needs_says_so(run_node: RunNode, env: dict[str, str], message: str) -> None:
    run = run_node("process.py", "--auth", "web-identity", credentials_in_env=False, env=env)
    assert run.returncode == 1
    assert message in run.output
    assert "downloading" not in run.output


@pytest.mark.parametrize(("env", "region", "endpoint"), [
    ({"AWS_ENDPOINT_URL_STS": "https://sts.internal:8443/", "AWS_ENDPOINT_URL": "https://other"}, "eu-west-1",
     "https://sts.internal:8443"),
    ({"AWS_ENDPOINT_URL": "http://localstack:4566"}, "eu-west-1", "http://localstack:4566"),
    ({}, "eu-west-1", "https://sts.eu-west-1.amazonaws.com"),
    ({}, "cn-north-1", "https://sts.cn-north-1.amazonaws.com.cn"),
    ({"AWS_STS_REGIONAL_ENDPOINTS": "legacy"}, "eu-west-1", "https://sts.amazonaws.com"),
    ({}, None, "https://sts.amazonaws.com"),
])
def test_sts_endpoint_is_chosen_as_the_aws_sdks_choose_it(monkeypatch: pytest.MonkeyPatch, env: dict[str, str],
                                                          region: str | None, endpoint: str) -> None:
    for name in ("AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL", "AWS_STS_REGIONAL_ENDPOINTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert load_bootstrapper()["sts_endpoint"](region) == endpoint


def test_temporary_keys_are_renewed_before_they_expire() -> None:
    """A node running longer than the role session (an hour by default) signs its last uploads with fresh keys."""
    import time

    renewed = ("ASIARENEWED", "renewed-secret", "renewed-token", time.time() + 3600)
    client = load_bootstrapper()["S3"]("http://127.0.0.1:9", "bucket", "ASIAOLD", "old-secret", "us-east-1",
                                       "old-token", time.time() + 60, lambda: renewed)
    headers = client._headers("GET", "/bucket/key", "", "UNSIGNED-PAYLOAD")
    assert headers["x-amz-security-token"] == "renewed-token"
    assert "Credential=ASIARENEWED/" in headers["Authorization"]


def test_kfp_output_artifacts_are_handed_over_even_when_not_metrics(run_node: RunNode, workspace: Path,
                                                                    tmp_path: Path) -> None:
    """A metrics file KFP cannot read is still the node's artifact, without values for the UI."""
    (workspace / "proj" / "odd.py").write_text(
        "import pathlib\npathlib.Path('mlpipeline-metrics.json').write_text('accuracy: high')\n"
        "pathlib.Path('mlpipeline-ui-metadata.json').write_text('{\"outputs\": []}')\n")
    kfp = tmp_path / "kfp"
    run = run_node("odd.py", "--metrics-output", str(kfp / "metrics"), "--ui-metadata-output", str(kfp / "ui"),
                   "--executor-output", str(kfp / "executor_output.json"))
    assert run.returncode == 0, run.output
    assert (kfp / "metrics").read_text() == "accuracy: high"
    assert (kfp / "ui").read_text() == '{"outputs": []}'
    assert not (kfp / "executor_output.json").exists()  # no values to show
    assert "mlpipeline-metrics.json is not a KFP metrics file (JSONDecodeError" in run.output
