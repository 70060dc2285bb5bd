"""A real S3-protocol server (moto_server) on 127.0.0.1 for tests, with credentials that are really checked.
It also serves STS, for pods that assume a role with a web identity token (`S3Server.web_identity_sts`).

moto accepts any credentials by default, which would leave request signing (ours and the bootstrapper's) untested.
So the fixture creates an IAM user allowed `s3:*`, takes its access key, and then switches moto's authentication
on: from then on every S3 request must carry that key and a correct Signature Version 4, and wrong credentials
get S3's real `InvalidAccessKeyId` / `SignatureDoesNotMatch` answers.

The root conftest registers this module as a plugin, so any test can take the `s3_server` fixture.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT = 30.0
REGION = "us-east-1"
ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
ALLOW_STS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:*", "Resource": "*"}]}
TRUST_WEB_IDENTITY = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/oidc.example.com"},
    "Action": "sts:AssumeRoleWithWebIdentity"}]}


@dataclass
class WebIdentitySts:
    """An STS endpoint for AssumeRoleWithWebIdentity, the role it lets pods assume, and each call's form fields."""

    endpoint: str
    role_arn: str
    calls: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class S3Server:
    """Where the server listens and the credentials it accepts (the secret is kept out of reprs)."""

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)

    def client(self, access_key: str | None = None, secret_key: str | None = None) -> Any:
        """A boto3 S3 client for this server, with the accepted credentials unless others are given."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION,
            aws_access_key_id=access_key or self.access_key, aws_secret_access_key=secret_key or self.secret_key,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    def make_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh unique name unless given) and return its name."""
        bucket = name or f"test-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def objects(self, bucket: str, prefix: str = "") -> dict[str, bytes]:
        """Every object under `prefix` with its content, to assert what a test left in the bucket."""
        client = self.client()
        found: dict[str, bytes] = {}
        # No Prefix parameter: moto cannot check signatures of query values holding '/' (see authentication_off).
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                if item["Key"].startswith(prefix):
                    found[item["Key"]] = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
        return found

    @contextmanager
    def web_identity_sts(self) -> Iterator[WebIdentitySts]:
        """A role allowed s3:*, and an STS endpoint on 127.0.0.1 where pods assume it with a web identity token.

        moto answers an unsigned AssumeRoleWithWebIdentity (which is what STS gets from pods) with a 500 while its
        authentication is on: it reads every request's Authorization header. So this endpoint is a small proxy
        that signs each call with the keys of a user allowed `sts:*` and passes it on to moto, which then issues
        temporary keys for the role; moto checks those on every S3 request (key, signature, session token and the
        role's policy). Other actions are refused, and every call is recorded."""
        import boto3
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        suffix = uuid.uuid4().hex[:8]
        with self.authentication_off():
            iam = boto3.client("iam", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id="setup",
                               aws_secret_access_key="setup")
            role = iam.create_role(RoleName=f"pipelines-{suffix}",
                                   AssumeRolePolicyDocument=json.dumps(TRUST_WEB_IDENTITY))["Role"]
            iam.put_role_policy(RoleName=role["RoleName"], PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
            iam.create_user(UserName=f"sts-proxy-{suffix}")
            iam.put_user_policy(UserName=f"sts-proxy-{suffix}", PolicyName="sts",
                                PolicyDocument=json.dumps(ALLOW_STS))
            key = iam.create_access_key(UserName=f"sts-proxy-{suffix}")["AccessKey"]
        signer = SigV4Auth(Credentials(key["AccessKeyId"], key["SecretAccessKey"]), "sts", REGION)
        sts = WebIdentitySts("", role["Arn"])
        upstream = self.endpoint

        class Proxy(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                form = {name: values[0] for name, values in urllib.parse.parse_qs(body.decode()).items()}
                sts.calls.append(form)
                if form.get("Action") != "AssumeRoleWithWebIdentity":
                    self.send_error(400, "only AssumeRoleWithWebIdentity is served here")
                    return
                request = AWSRequest("POST", f"{upstream}/", data=body,
                                     headers={"Content-Type": self.headers.get("Content-Type", "")})
                signer.add_auth(request)
                forwarded = urllib.request.Request(f"{upstream}/", data=body, method="POST",
                                                   headers=dict(request.headers.items()))
                try:
                    with urllib.request.urlopen(forwarded, timeout=30) as answer:
                        status, reply = answer.status, answer.read()
                except urllib.error.HTTPError as error:
                    status, reply = error.code, error.read()
                self.send_response(status)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
        sts.endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield sts
        finally:
            server.shutdown()
            server.server_close()
            thread.join()

    @contextmanager
    def authentication_off(self) -> Iterator[None]:
        """Let moto accept any request for a while.

        Flask/werkzeug hand moto the request URL with `%2F` in query values already decoded to `/`, so moto
        computes a different canonical request than every correct SigV4 client for, e.g., a listing with
        `prefix=runs/x/` and answers SignatureDoesNotMatch. Such requests can only be tested with the check off
        (their signing is checked against botocore's in test_bootstrapper instead).
        """
        _set_authentication(self.endpoint, "inf")
        try:
            yield
        finally:
            _set_authentication(self.endpoint, "0")


def free_port() -> int:
    """A port nobody listens on right now (also used by tests that need a closed port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited with {process.returncode}: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{endpoint}/moto-api/data.json", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    raise RuntimeError(f"moto_server did not answer within {START_TIMEOUT}s: {log.read_text(errors='replace')}")


def _enable_authentication(endpoint: str) -> tuple[str, str]:
    """Create a user allowed s3:*, then make moto check every following request's credentials and signature."""
    import boto3

    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="bootstrap-only",
                       aws_secret_access_key="bootstrap-only")
    iam.create_user(UserName="elyra-proc-tests")
    iam.put_user_policy(UserName="elyra-proc-tests", PolicyName="s3", PolicyDocument=json.dumps(ALLOW_S3))
    key = iam.create_access_key(UserName="elyra-proc-tests")["AccessKey"]
    _set_authentication(endpoint, "0")
    return key["AccessKeyId"], key["SecretAccessKey"]


def _set_authentication(endpoint: str, unchecked_requests: str) -> None:
    """moto checks credentials after this many more requests ("0": from now on, "inf": never)."""
    request = urllib.request.Request(f"{endpoint}/moto-api/reset-auth", data=unchecked_requests.encode(),
                                     method="POST", headers={"Content-Type": "application/octet-stream"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        answer.read()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto_server on 127.0.0.1 and a free port for the whole session, stopped at teardown."""
    with running_s3_server() as server:
        yield server


@contextlib.contextmanager
def running_s3_server() -> Iterator[S3Server]:
    """moto_server on 127.0.0.1 with credential checks on, for tests and for scripts such as benchmarks."""
    with tempfile.TemporaryDirectory(prefix="moto-") as tmp:
        log = Path(tmp) / "moto.log"
        port = free_port()
        endpoint = f"http://127.0.0.1:{port}"
        with log.open("wb") as out:
            process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                       stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(endpoint, process, log)
            access_key, secret_key = _enable_authentication(endpoint)
            yield S3Server(endpoint, access_key, secret_key)
        finally:
            stop_process(process)


def stop_process(process: subprocess.Popen[Any], grace: float = 10) -> None:
    """Ask a helper server to stop, and kill it if it has not within `grace` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    """A new, empty bucket for one test."""
    return s3_server.make_bucket()
