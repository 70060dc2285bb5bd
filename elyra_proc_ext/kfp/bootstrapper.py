"""Run one node of an Elyra pipeline inside its container on Kubeflow Pipelines.

The compiled pipeline embeds this file as text and runs it as `python3 -c SOURCE ARGS...` in the node's runtime
image, so it uses the standard library only (Python 3.9+): nothing is downloaded or pip-installed when a pipeline
runs. Steps: fetch the node's dependency archive and its upstream nodes' outputs from S3-compatible storage, run
the notebook (papermill, else nbclient) or script, upload the executed notebook, the log and the declared outputs,
and hand the node's `mlpipeline-ui-metadata.json` / `mlpipeline-metrics.json` to KFP as output artifacts.
Credentials come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or --access-key/--secret-key, or with `--auth
web-identity` from STS AssumeRoleWithWebIdentity (AWS_ROLE_ARN, AWS_WEB_IDENTITY_TOKEN_FILE: IAM roles for service
accounts); none of them, nor the token, is ever printed.
"""

from __future__ import annotations

import argparse
import datetime
import fnmatch
import glob
import hashlib
import hmac
import http.client
import importlib.util
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
PART_SIZE = int(os.environ.get("ELYRA_PROC_PART_SIZE", str(128 * CHUNK)))
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CREDENTIAL_ERRORS = ("InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken")
RENEW_BEFORE = 300  # seconds before temporary credentials expire when they are renewed
KFP_OUTPUTS = {"ui-metadata": ("mlpipeline-ui-metadata.json", {"outputs": []}),
               "metrics": ("mlpipeline-metrics.json", {"metrics": []})}  # KFP's v1 file names, empty documents


class Failure(Exception):
    """Why the node failed, worded for the user (never holding a credential)."""


def log(message: str) -> None:
    print(f"[bootstrapper] {message}", flush=True)


def _sha256(path: Path, offset: int = 0, length: int = -1) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        reader = _Slice(stream, offset, length)
        for chunk in iter(lambda: reader.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Slice:
    """`length` bytes of an open file from `offset` (all of it when negative), read in chunks."""

    def __init__(self, stream: BinaryIO, offset: int, length: int) -> None:
        stream.seek(offset)
        self.stream, self.left = stream, length

    def read(self, size: int = -1) -> bytes:
        if self.left < 0:
            return self.stream.read(size)
        data = self.stream.read(self.left if size < 0 else min(size, self.left))
        self.left -= len(data)
        return data


def _xml_texts(data: bytes, name: str) -> list[str]:
    return [node.text or "" for node in ElementTree.fromstring(data).iter() if node.tag.split("}")[-1] == name]


class S3:
    """A minimal S3 client: AWS Signature Version 4, path-style URLs, files streamed in chunks, a few retries."""

    def __init__(self, endpoint: str, bucket: str, access_key: str, secret_key: str, region: str,
                 token: str | None = None, expires: float | None = None,
                 renew: Callable[[], tuple[str, str, str, float]] | None = None) -> None:
        parts = urllib.parse.urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Failure(f"object storage endpoint {endpoint!r} is not an http:// or https:// URL")
        self.endpoint, self.bucket, self.region, self.token = endpoint.rstrip("/"), bucket, region, token
        self.scheme, self.host, self.base = parts.scheme, parts.netloc, parts.path.rstrip("/")
        self._access_key, self._secret_key = access_key, secret_key
        self._expires, self._renew = expires, renew
        context = ssl.create_default_context(cafile=os.environ.get("ELYRA_PROC_CA_BUNDLE") or None)
        self.opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        self.timeout = float(os.environ.get("ELYRA_PROC_S3_TIMEOUT", "60"))

    def _headers(self, method: str, path: str, query: str, payload_hash: str) -> dict[str, str]:
        if self._renew and self._expires is not None and time.time() > self._expires - RENEW_BEFORE:
            self._access_key, self._secret_key, self.token, self._expires = self._renew()
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": self.host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        if self.token:
            headers["x-amz-security-token"] = self.token
        names = sorted(headers)
        canonical = "\n".join([method, path, query, "".join(f"{n}:{headers[n].strip()}\n" for n in names),
                               ";".join(names), payload_hash])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        key = ("AWS4" + self._secret_key).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self._access_key}/{scope}, "
                                    f"SignedHeaders={';'.join(names)}, Signature={signature}")
        return headers

    def request(self, method: str, key: str = "", params: dict[str, str] | None = None,
                body: bytes | tuple[Path, int, int] | None = None, what: str = "") -> http.client.HTTPResponse:
        """Send a signed request (a body is bytes or a file range), retrying connection errors and 5xx."""
        path = urllib.parse.quote(f"{self.base}/{self.bucket}" + (f"/{key}" if key else ""), safe="/~")
        query = "&".join(f"{urllib.parse.quote(k, safe='-_.~')}={urllib.parse.quote(v, safe='-_.~')}"
                         for k, v in sorted((params or {}).items()))
        url = f"{self.scheme}://{self.host}{path}" + (f"?{query}" if query else "")
        if isinstance(body, tuple):
            payload_hash, size = _sha256(*body), body[2]
        else:
            payload_hash, size = hashlib.sha256(body or b"").hexdigest(), len(body or b"")
        for attempt in range(1, 4):
            headers = self._headers(method, path, query, payload_hash)
            if body is not None:
                headers.update({"Content-Length": str(size), "Content-Type": "application/octet-stream"})
            stream = body[0].open("rb") if isinstance(body, tuple) else None
            data = _Slice(stream, body[1], body[2]) if isinstance(body, tuple) else body
            try:
                return self.opener.open(urllib.request.Request(url, data=data, headers=headers, method=method),
                                        timeout=self.timeout)
            except urllib.error.HTTPError as error:
                message, retry = self._http_failure(error, key, what), error.code >= 500
            except (urllib.error.URLError, OSError) as error:
                reason = getattr(error, "reason", error)
                if isinstance(reason, ssl.SSLError):
                    raise Failure(f"TLS verification failed for {self.endpoint} ({reason}): set ELYRA_PROC_CA_BUNDLE "
                                  "to the CA bundle that signed its certificate") from None
                kind = "did not answer in time" if isinstance(reason, socket.timeout) else "is not reachable"
                message, retry = f"object storage endpoint {self.endpoint} {kind} while {what} ({reason})", True
            finally:
                if stream is not None:
                    stream.close()
            if not retry or attempt == 3:
                raise Failure(message)
            log(f"{message}; retrying")
            time.sleep(2 * attempt)
        raise AssertionError("unreachable")

    def _http_failure(self, error: urllib.error.HTTPError, key: str, what: str) -> str:
        try:
            body = error.read()
            code, detail = (_xml_texts(body, "Code") or [""])[0], (_xml_texts(body, "Message") or [""])[0]
        except (ElementTree.ParseError, OSError):
            code, detail = "", ""
        if code == "NoSuchBucket":
            return f"bucket {self.bucket} does not exist at {self.endpoint}"
        if code == "NoSuchKey" or (error.code == 404 and key):
            return f"{self.endpoint}/{self.bucket}/{key} does not exist (while {what})"
        if code in CREDENTIAL_ERRORS or error.code == 403:
            return f"object storage rejected the credentials while {what} ({code or error.code}): check them"
        return f"object storage answered HTTP {error.code} {code} while {what}: {detail}".rstrip(": ")

    def download(self, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        response = self.request("GET", key, what=f"downloading {key}")
        try:
            with response, partial.open("wb") as out:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as error:
            raise Failure(f"downloading {key} from {self.endpoint} was interrupted ({error}): try again") from None
        os.replace(partial, path)

    def upload(self, path: Path, key: str) -> None:
        size = path.stat().st_size
        if size <= PART_SIZE:
            self.request("PUT", key, body=(path, 0, size), what=f"uploading {key}").close()
            return
        what = f"uploading {key} in parts"
        upload_id = _xml_texts(self.request("POST", key, {"uploads": ""}, what=what).read(), "UploadId")[0]
        try:
            parts = []
            for number, offset in enumerate(range(0, size, PART_SIZE), 1):
                part = (path, offset, min(PART_SIZE, size - offset))
                with self.request("PUT", key, {"partNumber": str(number), "uploadId": upload_id}, part, what) as answer:
                    parts.append(f"<Part><PartNumber>{number}</PartNumber><ETag>{answer.headers['ETag']}</ETag></Part>")
            done = f"<CompleteMultipartUpload>{''.join(parts)}</CompleteMultipartUpload>".encode()
            self.request("POST", key, {"uploadId": upload_id}, done, what).close()
        except Failure:
            try:
                self.request("DELETE", key, {"uploadId": upload_id}, what=f"aborting {what}").close()
            except Failure as abort:
                log(f"could not abort the partial upload: {abort}")
            raise

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        params = {"list-type": "2", "prefix": prefix}
        while True:
            data = self.request("GET", "", params, what=f"listing {prefix}").read()
            keys += _xml_texts(data, "Key")
            token = _xml_texts(data, "NextContinuationToken")
            if not token or _xml_texts(data, "IsTruncated") != ["true"]:
                return keys
            params["continuation-token"] = token[0]


def parse_args(argv: list[str], secrets: list[str]) -> argparse.Namespace:
    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> None:  # type: ignore[override]
            raise Failure(f"invalid arguments: {redact(message, secrets)}")

    parser = Parser(prog="bootstrapper", description="Run one Elyra pipeline node on Kubeflow Pipelines.",
                    allow_abbrev=False)
    for name in ("endpoint", "bucket", "prefix", "archive", "file", "pipeline-name"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--outputs", default="", help="';'-separated files (globs allowed) to upload")
    parser.add_argument("--inputs", default="", help="';'-separated upstream outputs to download")
    parser.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--env", default="", help="the node's environment variables, a JSON object")
    parser.add_argument("--access-key")
    parser.add_argument("--secret-key")
    parser.add_argument("--auth", choices=("keys", "web-identity"), default="keys",
                        help="web-identity: assume AWS_ROLE_ARN with the token in AWS_WEB_IDENTITY_TOKEN_FILE")
    for name in KFP_OUTPUTS:
        parser.add_argument(f"--{name}-output", metavar="PATH", help="where KFP collects this output artifact")
    parser.add_argument("--executor-output", metavar="PATH", help="KFP's executor output file (artifact metadata)")
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"))
    return parser.parse_args(argv)


def argv_secrets(argv: list[str]) -> list[str]:
    """Credential values, known before parsing so that even argument errors cannot echo them."""
    found = [os.environ.get("AWS_ACCESS_KEY_ID", ""), os.environ.get("AWS_SECRET_ACCESS_KEY", "")]
    for index, arg in enumerate(argv):
        for flag in ("--access-key", "--secret-key"):
            if arg == flag and index + 1 < len(argv):
                found.append(argv[index + 1])
            elif arg.startswith(flag + "="):
                found.append(arg.split("=", 1)[1])
    return sorted((value for value in found if value), key=len, reverse=True)


def redact(text: str, secrets: list[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def split_list(value: str) -> list[str]:
    items = [item.strip() for item in value.split(";") if item.strip()]
    for item in items:
        if os.path.isabs(item) or ".." in Path(item).parts:
            raise Failure(f"{item!r} must be a path relative to the node's directory")
    return items


def sts_endpoint(region: str | None) -> str:
    """Where STS is asked, as the AWS SDKs choose: AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, else the regional
    endpoint of the pod's region (the global one without a region or with AWS_STS_REGIONAL_ENDPOINTS=legacy)."""
    explicit = os.environ.get("AWS_ENDPOINT_URL_STS") or os.environ.get("AWS_ENDPOINT_URL")
    if explicit:
        return explicit.rstrip("/")
    if region and os.environ.get("AWS_STS_REGIONAL_ENDPOINTS", "regional").strip().lower() != "legacy":
        return f"https://sts.{region}.amazonaws.com" + (".cn" if region.startswith("cn-") else "")
    return "https://sts.amazonaws.com"


def _expiry(text: str) -> float:
    """STS's Expiration (ISO 8601 UTC, fractions optional) as a Unix time; Python 3.9 cannot parse it alone."""
    stamp = datetime.datetime.strptime(text.strip().rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def assume_role_with_web_identity(region: str | None, secrets: list[str]) -> tuple[str, str, str, float]:
    """Temporary keys for AWS_ROLE_ARN from STS AssumeRoleWithWebIdentity, with the pod's projected service
    account token: (access key, secret key, session token, expiry). The token and the keys join `secrets`, so no
    message can show them."""
    role_arn, token_file = os.environ.get("AWS_ROLE_ARN", ""), os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE", "")
    missing = [name for name, value in (("AWS_ROLE_ARN", role_arn), ("AWS_WEB_IDENTITY_TOKEN_FILE", token_file))
               if not value]
    if missing:
        raise Failure(f"cos_auth_type AWS_IAM_ROLES_FOR_SERVICE_ACCOUNTS needs {' and '.join(missing)} in the pod: "
                      "run it with a service account bound to an IAM role (on EKS, annotated with "
                      "eks.amazonaws.com/role-arn)")
    try:
        token = Path(token_file).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as error:
        raise Failure(f"cannot read the web identity token file {token_file} "
                      f"({getattr(error, 'strerror', None) or type(error).__name__})") from None
    if not token:
        raise Failure(f"the web identity token file {token_file} is empty")
    secrets.append(token)
    endpoint = sts_endpoint(region)
    body = urllib.parse.urlencode({
        "Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15", "RoleArn": role_arn,
        "RoleSessionName": os.environ.get("AWS_ROLE_SESSION_NAME") or f"elyra-{int(time.time())}",
        "WebIdentityToken": token}).encode()
    context = ssl.create_default_context(cafile=os.environ.get("AWS_CA_BUNDLE") or None)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    request = urllib.request.Request(f"{endpoint}/", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    what = f"STS at {endpoint} (AssumeRoleWithWebIdentity for {role_arn})"
    for attempt in range(1, 4):
        try:
            with opener.open(request, timeout=float(os.environ.get("ELYRA_PROC_S3_TIMEOUT", "60"))) as answer:
                data = answer.read()
            break
        except urllib.error.HTTPError as error:
            try:
                reply = error.read()
                code, detail = (_xml_texts(reply, "Code") or [""])[0], (_xml_texts(reply, "Message") or [""])[0]
            except (ElementTree.ParseError, OSError):
                code, detail = "", ""
            message, retry = f"{what} answered HTTP {error.code} {code}: {detail}".rstrip(": "), error.code >= 500
        except (urllib.error.URLError, OSError) as error:
            message, retry = f"{what} is not reachable ({getattr(error, 'reason', error)})", True
        if not retry or attempt == 3:
            raise Failure(redact(message, secrets))
        log(f"{redact(message, secrets)}; retrying")
        time.sleep(2 * attempt)
    try:
        found = {name: (_xml_texts(data, name) or [""])[0]
                 for name in ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration")}
        expires = _expiry(found["Expiration"])
    except (ElementTree.ParseError, ValueError):
        raise Failure(f"{what} answered something that is not an AssumeRoleWithWebIdentity result") from None
    if not all(found.values()):
        raise Failure(f"{what} answered without credentials")
    secrets.extend([found["SecretAccessKey"], found["SessionToken"]])
    log(f"assumed role {role_arn} with the pod's web identity (credentials valid until {found['Expiration']})")
    return found["AccessKeyId"], found["SecretAccessKey"], found["SessionToken"], expires


def connect(args: argparse.Namespace, secrets: list[str]) -> S3:
    region = args.region or "us-east-1"
    if args.auth == "web-identity":
        def renew() -> tuple[str, str, str, float]:
            return assume_role_with_web_identity(args.region, secrets)

        access_key, secret_key, token, expires = renew()
        return S3(args.endpoint, args.bucket, access_key, secret_key, region, token, expires, renew)
    if args.access_key or args.secret_key:
        access_key, secret_key, token = args.access_key, args.secret_key, None
    else:
        access_key, secret_key = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        token = os.environ.get("AWS_SESSION_TOKEN")
    if not access_key or not secret_key:
        raise Failure("no object storage credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                      "(the runtime configuration's cos_secret) or pass --access-key and --secret-key")
    return S3(args.endpoint, args.bucket, access_key, secret_key, region, token)


def check_tools(file: str) -> None:
    """Fail before any transfer when the image cannot run this kind of file, naming what is missing."""
    suffix = Path(file).suffix.lower()
    if suffix == ".ipynb":
        found = {name: importlib.util.find_spec(name) is not None for name in ("papermill", "nbclient", "nbformat")}
        if not found["papermill"] and not (found["nbclient"] and found["nbformat"]):
            missing = ", ".join(name for name, ok in found.items() if not ok)
            raise Failure(f"running notebooks needs papermill, or nbclient and nbformat, in the runtime image "
                          f"(missing: {missing}): use an image with Jupyter tooling, or install them in it")
    elif suffix == ".r":
        if shutil.which("Rscript") is None:
            raise Failure("R nodes need Rscript, which is not installed in the runtime image: use an image with R")
    elif suffix != ".py":
        raise Failure(f"cannot run {file}: only .ipynb, .py and .r files are supported")


def fetch_archive(storage: S3, key: str, work: Path) -> None:
    log(f"downloading {key}")
    with tempfile.TemporaryDirectory(prefix="elyra-archive-") as tmp:
        archive = Path(tmp) / "dependencies.tar.gz"
        storage.download(key, archive)
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            for member in members:
                target = (work / member.name).resolve()
                if not (member.isfile() or member.isdir()) or not target.is_relative_to(work):
                    raise Failure(f"refusing archive member {member.name!r}: links and paths leaving the work "
                                  "directory are not extracted")
            tar.extractall(work, members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))


def _key_matches(pattern: str, key: str) -> bool:
    """Glob semantics on object keys: `*` stays within one path segment, `**` crosses them."""
    if "**" in pattern:
        return fnmatch.fnmatchcase(key, pattern)
    parts, wanted = key.split("/"), pattern.split("/")
    return len(parts) == len(wanted) and all(fnmatch.fnmatchcase(parts[i], wanted[i]) for i in range(len(parts)))


def fetch_inputs(storage: S3, prefix: str, inputs: list[str], work: Path) -> None:
    for item in inputs:
        names = [item]
        if glob.has_magic(item):
            fixed = item[: min(item.find(c) for c in "*?[" if c in item)]
            keys = storage.list_keys(f"{prefix}/{fixed}")
            names = [key[len(prefix) + 1:] for key in keys if _key_matches(item, key[len(prefix) + 1:])]
            if not names:
                raise Failure(f"input {item!r} matches no object under {prefix}/: did the upstream node produce it?")
        for name in names:
            target = (work / name).resolve()
            if not target.is_relative_to(work):  # a listed key such as `prefix/../x` matched by `*/x`
                raise Failure(f"refusing input object {prefix}/{name}: it would be written outside the work directory")
            log(f"downloading input {prefix}/{name}")
            storage.download(f"{prefix}/{name}", target)


def run_notebook(source: Path, executed: Path, tee: Tee) -> str | None:
    """Execute with papermill (else nbclient); the executed notebook is written even when a cell fails."""
    try:
        import papermill
    except ImportError:
        papermill = None
    try:
        if papermill is not None:
            import logging

            handler = logging.StreamHandler(tee)  # type: ignore[arg-type]
            logger = logging.getLogger("papermill")
            logger.addHandler(handler)
            logger.setLevel(logging.INFO)
            logger.propagate = False  # stderr cells would otherwise be printed twice
            papermill.execute_notebook(str(source), str(executed), cwd=str(source.parent), log_output=True,
                                       progress_bar=False)
        else:
            import nbclient
            import nbformat

            notebook = nbformat.read(str(source), as_version=4)
            try:
                nbclient.NotebookClient(notebook, resources={"metadata": {"path": str(source.parent)}}).execute()
            finally:
                nbformat.write(notebook, str(executed))
                for output in (o for cell in notebook.cells for o in cell.get("outputs", [])):
                    tee.write(output.get("text", "") or "\n".join(output.get("traceback", [])) + "\n")
    except Exception as error:
        cell = getattr(error, "exec_count", None) or getattr(error, "cell_index", None)
        name, value = getattr(error, "ename", type(error).__name__), getattr(error, "evalue", str(error))
        where = f" in cell {cell}" if cell is not None else ""
        return f"notebook {source.name} failed{where}: {name}: {value}"
    return None


def run_script(command: list[str], cwd: Path, tee: Tee) -> str | None:
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    for line in iter(process.stdout.readline, b""):  # type: ignore[union-attr]
        tee.write(line)
    code = process.wait()
    return None if code == 0 else f"{command[-1]} exited with code {code} (see its log)"


class Tee:
    """The node's output, written both to its log file and to this container's stdout."""

    def __init__(self, path: Path) -> None:
        self.file = path.open("ab")

    def write(self, data: str | bytes) -> None:
        raw = data.encode() if isinstance(data, str) else data
        self.file.write(raw)
        self.file.flush()
        sys.stdout.buffer.write(raw)
        sys.stdout.flush()

    def flush(self) -> None:
        self.file.flush()


def export_environment(env: str, parameters: list[str], run_name: str) -> None:
    """The node's environment variables, then pipeline parameters (which win), as the local runtime does; then
    Elyra's own, which win over both, as in Elyra."""
    try:
        variables = json.loads(env or "{}")
    except ValueError:
        variables = None
    if not isinstance(variables, dict):
        raise Failure("--env must be a JSON object of NAME: VALUE")
    for parameter in parameters:
        name, equals, value = parameter.partition("=")
        if not equals or not name:
            raise Failure(f"--parameter {parameter!r} is not NAME=VALUE")
        variables[name] = value
    os.environ.update({str(name): str(value) for name, value in variables.items()})
    os.environ["ELYRA_RUNTIME_ENV"] = "kfp"
    os.environ["ELYRA_RUN_NAME"] = run_name


def collect_outputs(outputs: list[str], work: Path) -> list[str]:
    found: list[str] = []
    for pattern in outputs:
        matches = [p for p in sorted(work.glob(pattern)) if p.is_file()] if glob.has_magic(pattern) else (
            [work / pattern] if (work / pattern).is_file() else [])
        if not matches:
            raise Failure(f"declared output {pattern!r} was not produced by the node")
        found += [p.relative_to(work).as_posix() for p in matches if p.relative_to(work).as_posix() not in found]
    return found


def hand_over_kfp_outputs(args: argparse.Namespace, node_dir: Path) -> None:
    """Copy the node's `mlpipeline-ui-metadata.json` and `mlpipeline-metrics.json` to the paths where KFP collects
    its output artifacts (an empty document when the node wrote none, so that no task lists an artifact without
    content), and record the metrics as the metrics artifact's metadata, which is what the KFP UI shows."""
    metadata: dict[str, float] = {}
    for name, (file_name, empty) in KFP_OUTPUTS.items():
        target = getattr(args, f"{name.replace('-', '_')}_output")
        if not target:
            continue
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        written = node_dir / file_name
        if written.is_file():
            log(f"handing {file_name} to Kubeflow Pipelines")
            shutil.copyfile(written, target)
        else:
            Path(target).write_text(json.dumps(empty), encoding="utf-8")
        if name == "metrics" and written.is_file():
            metadata = _metric_values(written)
    if args.executor_output and metadata and args.metrics_output:
        Path(args.executor_output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.executor_output).write_text(json.dumps(
            {"artifacts": {"mlpipeline_metrics": {"artifacts": [{"metadata": metadata}]}}}), encoding="utf-8")


def _metric_values(path: Path) -> dict[str, float]:
    """`{"metrics": [{"name": ..., "numberValue": ...}]}` (KFP's v1 metrics file) as name: value; a file of another
    shape is still handed over, only without values, as KFP v1 showed none for it either."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8")).get("metrics") or []
        return {str(entry["name"]): float(entry["numberValue"]) for entry in entries}
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        log(f"{path.name} is not a KFP metrics file ({type(error).__name__}: {error}): its values are not shown")
        return {}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    secrets = argv_secrets(argv)
    try:
        args = parse_args(argv, secrets)
        prefix = args.prefix.strip("/")
        outputs, inputs = split_list(args.outputs), split_list(args.inputs)
        if not args.archive or args.archive.startswith(".") or Path(args.archive).name != args.archive:
            raise Failure(f"--archive {args.archive!r} must be a plain file name: it also names the node's log")
        check_tools(args.file)
        storage = connect(args, secrets)
        work = Path(os.environ.get("ELYRA_PROC_WORK_DIR", "elyra-work")).resolve()
        work.mkdir(parents=True, exist_ok=True)
        log(f"pipeline {args.pipeline_name}: running {args.file} in {work}")
        fetch_archive(storage, f"{prefix}/{args.archive}", work)
        fetch_inputs(storage, prefix, inputs, work)
        source = (work / args.file).resolve()
        if not source.is_file() or not source.is_relative_to(work):
            raise Failure(f"{args.file} is not in the dependency archive {args.archive}")
        # The pod's ELYRA_RUN_NAME is KFP's run id (see the compiler); run by hand, the run folder's name.
        export_environment(args.env, args.parameter, os.environ.get("ELYRA_RUN_NAME") or prefix.rsplit("/", 1)[-1])
        base = args.archive[: -len(".tar.gz")] if args.archive.endswith(".tar.gz") else Path(args.archive).stem
        with tempfile.TemporaryDirectory(prefix="elyra-results-") as tmp:
            log_path, executed = Path(tmp) / f"{base}.log", Path(tmp) / f"{base}-executed.ipynb"
            tee = Tee(log_path)
            suffix = source.suffix.lower()
            if suffix == ".ipynb":
                error = run_notebook(source, executed, tee)
            else:
                runner = [sys.executable, "-u"] if suffix == ".py" else [shutil.which("Rscript") or "Rscript"]
                error = run_script([*runner, str(source)], source.parent, tee)
            tee.file.close()
            for result in (executed, log_path):
                if result.exists():
                    log(f"uploading {prefix}/{result.name}")
                    storage.upload(result, f"{prefix}/{result.name}")
        if error:
            raise Failure(error)
        for name in collect_outputs(outputs, work):
            log(f"uploading output {prefix}/{name}")
            storage.upload(work / name, f"{prefix}/{name}")
        hand_over_kfp_outputs(args, source.parent)
    except Exception as error:  # every failure ends as one readable line, credentials removed
        text = str(error) if isinstance(error, Failure) else f"{type(error).__name__}: {error}"
        log(f"FAILED: {redact(text, secrets)}")
        return 1
    log("done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
