"""A real S3-protocol server (moto_server) on 127.0.0.1 for tests, with credentials that are really checked.

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
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

START_TIMEOUT = 30.0
REGION = "us-east-1"
ALLOW_S3 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}


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
