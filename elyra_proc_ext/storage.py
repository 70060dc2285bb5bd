"""S3-compatible object storage for remote runtimes, and the per-node dependency archives stored there.

Remote runtimes (Kubeflow Pipelines) cannot see the Jupyter workspace, so each node's file and declared
dependencies travel as a tar.gz through the runtime configuration's object storage (`cos_endpoint`,
`cos_bucket`, `cos_username`/`cos_password`). Every failure becomes a `StorageError` whose message says which
setting to fix and never contains a credential. boto3 is imported only when storage is used, so importing this
module stays cheap for servers that never run remotely.
"""

from __future__ import annotations

import os
import posixpath
import tarfile
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import StorageError
from .globbing import bounded_glob, has_magic

MIB = 1024 * 1024
MULTIPART_THRESHOLD = 64 * MIB
_SESSION_LOCK = threading.Lock()  # boto3 sessions may not create clients from two threads at once
CREDENTIAL_ERRORS = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
                     "InvalidClientTokenId", "AccessDenied", "Forbidden", "403"}
MISSING_OBJECT_ERRORS = {"NoSuchKey", "NotFound", "404"}


class ObjectStorage:
    """One bucket of an S3-compatible store (AWS S3, MinIO, Ceph, ...), addressed path-style."""

    def __init__(self, endpoint: str, bucket: str, access_key: str | None, secret_key: str | None, *,
                 verify: bool | str = True, timeout: float = 30.0, region: str | None = None) -> None:
        parts = urlsplit(endpoint.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise StorageError(f"object storage endpoint {endpoint!r} is not an http:// or https:// URL: "
                               "fix cos_endpoint")
        if not bucket:
            raise StorageError("no object storage bucket is configured: set cos_bucket")
        self.endpoint = endpoint.strip().rstrip("/")
        self.bucket = bucket
        self.timeout = timeout
        self.region = region or "us-east-1"
        self._access_key = access_key
        self._secret_key = secret_key
        self._verify = verify
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()  # one client per retry policy, shared by uploads in parallel

    def __repr__(self) -> str:
        return f"ObjectStorage({self.endpoint!r}, {self.bucket!r})"

    def _client(self, attempts: int = 3) -> Any:
        """A boto3 client; `check` uses a single attempt so that a dead endpoint fails within about `timeout`."""
        with self._clients_lock:
            if attempts not in self._clients:
                self._clients[attempts] = self._new_client(attempts)
            return self._clients[attempts]

    def _new_client(self, attempts: int) -> Any:
        try:
            from botocore.config import Config

            session = _boto3_session()
        except ImportError:
            raise StorageError("object storage needs the Python package boto3: pip install boto3") from None
        options: dict[str, Any] = {
            "connect_timeout": self.timeout, "read_timeout": self.timeout, "signature_version": "s3v4",
            "retries": {"total_max_attempts": attempts, "mode": "standard"}, "s3": {"addressing_style": "path"},
            "max_pool_connections": 16,
        }
        if "request_checksum_calculation" in Config.OPTION_DEFAULTS:
            # Newer botocore adds CRC trailers by default, which older MinIO/Ceph releases reject.
            options.update(request_checksum_calculation="when_required",
                           response_checksum_validation="when_required")
        with _SESSION_LOCK:
            return session.client(
                "s3", endpoint_url=self.endpoint, region_name=self.region, verify=self._verify,
                aws_access_key_id=self._access_key or None, aws_secret_access_key=self._secret_key or None,
                config=Config(**options))

    def check(self) -> None:
        """Fail early, before anything is compiled or submitted: endpoint, bucket and credentials all work."""
        try:
            self._client(attempts=1).list_objects_v2(Bucket=self.bucket, MaxKeys=1)
        except Exception as error:
            raise self._error(error, f"checking bucket {self.bucket}") from None

    def upload_file(self, path: Path, key: str) -> None:
        """Stream a local file to `key`, never holding it whole in memory: one request below 64 MiB (a transfer
        manager with its own threads costs more than the upload of a typical archive), multipart above."""
        from boto3.s3.transfer import TransferConfig

        path = Path(path)
        if not path.is_file():
            raise StorageError(f"cannot upload {path}: no such file")
        try:
            if path.stat().st_size < MULTIPART_THRESHOLD:
                with path.open("rb") as body:
                    self._client().put_object(Bucket=self.bucket, Key=key, Body=body)
            else:
                config = TransferConfig(multipart_threshold=MULTIPART_THRESHOLD,
                                        multipart_chunksize=MULTIPART_THRESHOLD)
                self._client().upload_file(str(path), self.bucket, key, Config=config)
        except Exception as error:
            raise self._error(error, f"uploading {path.name} to {self.url(key)}", key) from None

    def download_file(self, key: str, path: Path) -> None:
        """Stream `key` into a local file (written under a temporary name, so a failure leaves no partial file)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._client().download_file(self.bucket, key, str(path))
        except Exception as error:
            raise self._error(error, f"downloading {self.url(key)}", key) from None

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""
        try:
            self._client().head_object(Bucket=self.bucket, Key=key)
        except Exception as error:
            if _error_code(error) in MISSING_OBJECT_ERRORS:
                return False
            raise self._error(error, f"looking up {self.url(key)}", key) from None
        return True

    def url(self, key: str = "") -> str:
        """endpoint/bucket/key, for links shown to users."""
        return f"{self.endpoint}/{self.bucket}/{quote(key, safe='/~')}" if key else f"{self.endpoint}/{self.bucket}"

    def _error(self, error: BaseException, action: str, key: str | None = None) -> StorageError:
        """Translate boto3/botocore failures into a message naming the setting to fix, with secrets removed."""
        from botocore import exceptions as boto

        cause = _root_cause(error)
        code = _error_code(cause)
        where = self.endpoint
        if isinstance(cause, boto.NoCredentialsError | boto.PartialCredentialsError):
            message = "no object storage credentials are configured: set cos_username and cos_password"
        elif isinstance(cause, boto.SSLError):
            message = (f"TLS verification failed for object storage endpoint {where} while {action}: check "
                       "cos_endpoint, or trust its certificate authority")
        elif isinstance(cause, boto.ConnectTimeoutError):
            message = (f"object storage endpoint {where} did not answer within {self.timeout:g}s while {action}: "
                       "check cos_endpoint and the network between this server and it")
        elif isinstance(cause, boto.ReadTimeoutError):
            message = (f"object storage endpoint {where} stopped answering (no reply within {self.timeout:g}s) "
                       f"while {action}: try again, or check the storage service's health")
        elif isinstance(cause, boto.EndpointConnectionError | boto.ConnectionClosedError | ConnectionError):
            message = f"object storage endpoint {where} is not reachable: check cos_endpoint"
        elif code == "NoSuchBucket":
            message = f"bucket {self.bucket} does not exist at {where}: create it or fix cos_bucket"
        elif code in MISSING_OBJECT_ERRORS and key is not None:
            message = f"object {self.url(key)} does not exist"
        elif code in CREDENTIAL_ERRORS:
            reason = "access denied" if code in ("AccessDenied", "Forbidden", "403") else code
            message = (f"object storage rejected the credentials (cos_username/cos_password) while {action} "
                       f"({reason}): check that they are right and allowed to read and write bucket {self.bucket}")
        elif code in ("AuthorizationHeaderMalformed", "InvalidRegion", "IllegalLocationConstraintException"):
            message = f"object storage at {where} expects another region while {action} ({code}): fix the region"
        elif isinstance(cause, boto.ParamValidationError) and "Bucket" in str(cause):
            message = f"bucket name {self.bucket!r} is not valid: fix cos_bucket"
        elif code:
            message = f"object storage at {where} answered {code} while {action}: {_error_message(cause)}"
        else:
            message = f"object storage failure at {where} while {action}: {type(cause).__name__}: {cause}"
        timed_out = isinstance(cause, boto.ConnectTimeoutError | boto.ReadTimeoutError)
        return StorageError(self._scrub(message), 504 if timed_out else 502)

    def _scrub(self, text: str) -> str:
        for secret in (self._secret_key, self._access_key):
            if secret:
                text = text.replace(secret, "***")
        return text


@cache
def _boto3_session() -> Any:
    """One session per process: a new session parses botocore's service models again (about 0.15 s of CPU, and
    enough allocations to set off a full garbage collection) where a shared one has them loaded."""
    import boto3

    return boto3.session.Session()


def _root_cause(error: BaseException) -> BaseException:
    """The botocore error behind boto3's transfer wrappers (S3UploadFailedError, RetriesExceededError)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if type(current).__module__.startswith("botocore") or isinstance(current, OSError):
            return current
        current = getattr(current, "last_exception", None) or current.__cause__ or current.__context__
    return error


def _error_code(error: BaseException) -> str:
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _error_message(error: BaseException) -> str:
    response = getattr(error, "response", None)
    message = response.get("Error", {}).get("Message", "") if isinstance(response, dict) else ""
    return str(message or error)


def build_archive(root: Path, node_file: str, dependencies: list[str], include_subdirectories: bool,
                  destination: Path) -> list[str]:
    """Write the node's file and declared dependencies to a tar.gz at `destination`; return the member names.

    Members are relative to the node file's directory (the container runs the file from there, as in Elyra).
    Dependencies are paths, globs or directories relative to that directory; `include_subdirectories` makes globs
    recurse and adds directories whole. Files are streamed into the archive; nothing whose real path (symlinks
    resolved) lies outside `root` is ever included.
    """
    root = Path(root).resolve()
    source = root / node_file
    node_dir = source.parent
    real_source = _inside_root(root, source, node_file)
    if not real_source.is_file():
        raise StorageError(f"node file {node_file} does not exist under {root}")
    members: dict[str, Path] = {source.name: real_source}
    for dependency in dependencies:
        for arcname, real in _expand(root, node_dir, dependency.strip(), include_subdirectories, node_file):
            members.setdefault(arcname, real)
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(str(destination), "w|gz") as tar:  # stream mode wants a str name
        for arcname in sorted(members):
            info = tar.gettarinfo(str(members[arcname]), arcname=arcname)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            with members[arcname].open("rb") as content:
                tar.addfile(info, content)
    return sorted(members)


def _inside_root(root: Path, path: Path, dependency: str) -> Path:
    real = path.resolve()
    if not real.is_relative_to(root):
        raise StorageError(f"dependency {dependency!r} resolves to {real}, outside the workspace root {root}: "
                           "only files inside the workspace can be sent to the runtime")
    return real


def _expand(root: Path, node_dir: Path, dependency: str, recursive: bool,
            node_file: str) -> Iterator[tuple[str, Path]]:
    """(member name, real path) of every file a dependency declares."""
    if not dependency:
        return
    normalized = posixpath.normpath(dependency.replace("\\", "/"))
    if posixpath.isabs(normalized) or normalized == ".." or normalized.startswith("../"):
        raise StorageError(f"dependency {dependency!r} of {node_file} is outside the node file's directory: "
                           "dependencies must be in that directory or below it")
    if has_magic(normalized):
        patterns = {normalized}
        if recursive and "**" not in normalized:
            head, tail = posixpath.split(normalized)
            patterns.add(posixpath.join(head, "**", tail))
        matches = sorted({m for p in patterns for m in bounded_glob(node_dir, p, recursive=recursive)})
        # A directory a pattern matches is taken whole only with include_subdirectories, and once: not again
        # for each folder inside it that the pattern matches too.
        taken: set[str] = set()
        candidates = []
        for match in matches:  # sorted: a folder comes before what is inside it
            if not (recursive and _ancestors(match) & taken):
                candidates.append((node_dir / match, recursive))
                taken.add(match)
    else:
        candidates = [(node_dir / normalized, True)]
    found = False
    for path, take_directory in candidates:
        if path.is_dir() and take_directory:
            for item in _walk(root, node_dir, path, recursive, dependency):
                found = True
                yield item
        elif path.is_file():
            found = True
            yield _member(root, node_dir, path, dependency)
    if not found:
        _inside_root(root, node_dir / normalized, dependency)  # a link leading outside is named as such
        raise StorageError(f"dependency {dependency!r} of {node_file} matches no file in {node_dir}: "
                           "fix the node's dependencies")


def _ancestors(relative: str) -> set[str]:
    """The folders above a '/'-separated relative path: 'a/b/c' -> {'a', 'a/b'}."""
    parts = relative.split("/")
    return {"/".join(parts[:index]) for index in range(1, len(parts))}


def _walk(root: Path, node_dir: Path, directory: Path, recursive: bool,
          dependency: str) -> Iterator[tuple[str, Path]]:
    """Files under `directory` (following links, each checked against the root, each real directory once)."""
    visited: set[Path] = set()
    for current, dirnames, filenames in os.walk(directory, followlinks=True):
        real_dir = _inside_root(root, Path(current), dependency)
        if real_dir in visited:  # a link loop
            dirnames[:] = []
            continue
        visited.add(real_dir)
        dirnames[:] = sorted(dirnames) if recursive else []
        for name in sorted(filenames):
            arcname, real = _member(root, node_dir, Path(current) / name, dependency)
            if real.is_file():
                yield arcname, real


def _member(root: Path, node_dir: Path, path: Path, dependency: str) -> tuple[str, Path]:
    return Path(os.path.relpath(path, node_dir)).as_posix(), _inside_root(root, path, dependency)
