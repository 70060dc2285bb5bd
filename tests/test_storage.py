"""Object storage against a real S3-protocol server (moto_server, credentials checked), and dependency archives."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import tarfile
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from s3_server import S3Server, free_port

from elyra_proc_ext import storage as storage_module
from elyra_proc_ext.storage import ObjectStorage, StorageError, build_archive

FAKE_ACCESS_KEY = "AKIAELYRAPROCFAKEKEY7"
FAKE_SECRET_KEY = "elyra-proc-fake-secret/never-shown+42"


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server) -> str:
    return s3_server.make_bucket()


def storage_for(server: S3Server, bucket: str, **options: object) -> ObjectStorage:
    return ObjectStorage(server.endpoint, bucket, server.access_key, server.secret_key, **options)  # type: ignore


def failure(storage: ObjectStorage, *secrets: str) -> str:
    """check()'s error message, asserting that no credential leaks into it."""
    with pytest.raises(StorageError) as caught:
        storage.check()
    message = str(caught.value)
    for secret in secrets:
        assert secret not in message
        assert secret not in repr(caught.value.args)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    return message


def test_check_accepts_a_working_configuration(s3_server: S3Server, bucket: str) -> None:
    storage_for(s3_server, bucket).check()


def test_missing_bucket_says_to_create_it(s3_server: S3Server) -> None:
    message = failure(storage_for(s3_server, "no-such-bucket-here"), s3_server.secret_key, s3_server.access_key)
    assert message == (f"bucket no-such-bucket-here does not exist at {s3_server.endpoint}: "
                       "create it or fix cos_bucket")


def test_closed_port_says_endpoint_unreachable() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    message = failure(ObjectStorage(endpoint, "bucket", FAKE_ACCESS_KEY, FAKE_SECRET_KEY, timeout=5),
                      FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    assert message == f"object storage endpoint {endpoint} is not reachable: check cos_endpoint"
    assert time.monotonic() - started < 5


def test_unresolvable_host_says_endpoint_unreachable() -> None:
    message = failure(ObjectStorage("http://no-such-host.invalid:9000", "bucket", FAKE_ACCESS_KEY, FAKE_SECRET_KEY,
                                    timeout=5), FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    assert "no-such-host.invalid:9000 is not reachable: check cos_endpoint" in message


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A TCP port that accepts connections (kernel backlog) but never answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_silent_endpoint_fails_within_about_the_timeout(silent_endpoint: str) -> None:
    started = time.monotonic()
    message = failure(ObjectStorage(silent_endpoint, "bucket", FAKE_ACCESS_KEY, FAKE_SECRET_KEY, timeout=1),
                      FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    assert time.monotonic() - started < 4
    assert message.startswith(f"object storage endpoint {silent_endpoint} stopped answering (no reply within 1s)")


def test_unknown_access_key_is_rejected_without_showing_it(s3_server: S3Server, bucket: str) -> None:
    # The fixture switched moto's authentication on, so this is the server's real InvalidAccessKeyId answer.
    message = failure(ObjectStorage(s3_server.endpoint, bucket, FAKE_ACCESS_KEY, FAKE_SECRET_KEY),
                      FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    assert message.startswith("object storage rejected the credentials (cos_username/cos_password) while checking")
    assert "InvalidAccessKeyId" in message


def test_wrong_secret_is_rejected_without_showing_it(s3_server: S3Server, bucket: str) -> None:
    storage = ObjectStorage(s3_server.endpoint, bucket, s3_server.access_key, FAKE_SECRET_KEY)
    message = failure(storage, s3_server.access_key, FAKE_SECRET_KEY, s3_server.secret_key)
    assert message.startswith("object storage rejected the credentials (cos_username/cos_password)")
    assert "SignatureDoesNotMatch" in message
    assert FAKE_SECRET_KEY not in repr(storage)


def test_endpoint_must_be_an_http_url() -> None:
    with pytest.raises(StorageError, match="is not an http:// or https:// URL: fix cos_endpoint"):
        ObjectStorage("minio:9000", "bucket", None, None)


def test_multi_megabyte_roundtrip_streams_in_parts(s3_server: S3Server, bucket: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage_module, "MULTIPART_THRESHOLD", 5 * storage_module.MIB)
    source = tmp_path / "big.bin"
    with source.open("wb") as out:
        for index in range(12):
            out.write(hashlib.sha256(str(index).encode()).digest() * (storage_module.MIB // 32))
    storage = storage_for(s3_server, bucket)
    assert not storage.exists("runs/big.bin")
    storage.upload_file(source, "runs/big.bin")
    assert storage.exists("runs/big.bin")
    head = s3_server.client().head_object(Bucket=bucket, Key="runs/big.bin")
    assert head["ContentLength"] == 12 * storage_module.MIB
    assert head["ETag"].strip('"').endswith("-3")  # three 5 MiB parts: a multipart upload
    target = tmp_path / "back" / "big.bin"
    storage.download_file("runs/big.bin", target)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()


def test_download_of_a_missing_object_names_it(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    storage = storage_for(s3_server, bucket)
    with pytest.raises(StorageError) as caught:
        storage.download_file("runs/absent.csv", tmp_path / "absent.csv")
    assert str(caught.value) == f"object {s3_server.endpoint}/{bucket}/runs/absent.csv does not exist"
    assert not (tmp_path / "absent.csv").exists()


def test_upload_with_wrong_credentials_is_a_storage_error(s3_server: S3Server, bucket: str,
                                                          tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("x")
    storage = ObjectStorage(s3_server.endpoint, bucket, FAKE_ACCESS_KEY, FAKE_SECRET_KEY)
    with pytest.raises(StorageError, match="rejected the credentials") as caught:
        storage.upload_file(tmp_path / "x.txt", "runs/x.txt")
    assert FAKE_SECRET_KEY not in str(caught.value) and FAKE_ACCESS_KEY not in str(caught.value)


def test_url_is_endpoint_bucket_key() -> None:
    storage = ObjectStorage("https://minio.example.com:9000/", "elyra", None, None)
    assert storage.url() == "https://minio.example.com:9000/elyra"
    assert storage.url("runs/p-1/a b.csv") == "https://minio.example.com:9000/elyra/runs/p-1/a%20b.csv"


# --- dependency archives ---------------------------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A workspace root with a node in proj/, plus a directory outside the root."""
    root = tmp_path / "root"
    files = {
        "proj/node.py": "print('node')\n", "proj/helper.py": "X = 1\n", "proj/notes.md": "notes\n",
        "proj/data/a.csv": "a\n", "proj/data/b.txt": "b\n", "proj/data/sub/c.csv": "c\n",
        "proj/data/sub/deep/d.csv": "d\n", "other/shared.py": "SHARED = 1\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("not for the archive\n")
    return root


def archive(tree: Path, dependencies: list[str], include_subdirectories: bool, tmp_path: Path) -> list[str]:
    destination = tmp_path / "out" / "node.tar.gz"
    names = build_archive(tree, "proj/node.py", dependencies, include_subdirectories, destination)
    with tarfile.open(destination, "r:gz") as tar:
        assert sorted(tar.getnames()) == names
        assert all(member.isfile() for member in tar.getmembers())
        node = tar.extractfile("node.py")
        assert node is not None and node.read() == b"print('node')\n"
    return names


@pytest.mark.parametrize(("dependencies", "recursive", "expected"), [
    ([], False, ["node.py"]),
    (["helper.py", "data/*.csv"], False, ["data/a.csv", "helper.py", "node.py"]),
    (["helper.py", "data/*.csv"], True, ["data/a.csv", "data/sub/c.csv", "data/sub/deep/d.csv", "helper.py",
                                         "node.py"]),
    (["data"], False, ["data/a.csv", "data/b.txt", "node.py"]),
    (["data/"], True, ["data/a.csv", "data/b.txt", "data/sub/c.csv", "data/sub/deep/d.csv", "node.py"]),
    (["*"], False, ["helper.py", "node.py", "notes.md"]),
    (["*.csv"], True, ["data/a.csv", "data/sub/c.csv", "data/sub/deep/d.csv", "node.py"]),
    (["data/**/*.csv"], True, ["data/a.csv", "data/sub/c.csv", "data/sub/deep/d.csv", "node.py"]),
    (["./helper.py", "helper.py", "node.py"], False, ["helper.py", "node.py"]),
])
def test_archive_members_are_relative_to_the_node_directory(tree: Path, tmp_path: Path, dependencies: list[str],
                                                            recursive: bool, expected: list[str]) -> None:
    assert archive(tree, dependencies, recursive, tmp_path) == expected


def test_symlink_to_a_file_outside_the_root_is_refused(tree: Path, tmp_path: Path) -> None:
    (tree / "proj" / "evil.txt").symlink_to(tmp_path / "outside" / "secret.txt")
    for dependency in ("evil.txt", "*.txt"):
        with pytest.raises(StorageError, match=f"dependency '{dependency.replace('*', '[*]')}' resolves to .*outside"):
            archive(tree, [dependency], False, tmp_path)


def test_symlinked_directory_outside_the_root_is_refused(tree: Path, tmp_path: Path) -> None:
    (tree / "proj" / "data" / "sub" / "linked").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(StorageError, match=r"dependency 'data' resolves to .*outside the workspace root"):
        archive(tree, ["data"], True, tmp_path)
    assert "data/sub/linked/secret.txt" not in archive(tree, ["data"], False, tmp_path)


def test_broken_link_outside_the_root_is_refused(tree: Path, tmp_path: Path) -> None:
    (tree / "proj" / "gone.txt").symlink_to(tmp_path / "outside" / "missing.txt")
    with pytest.raises(StorageError, match=r"dependency 'gone\.txt' resolves to .*outside"):
        archive(tree, ["gone.txt"], False, tmp_path)


def test_symlink_inside_the_root_is_archived_as_its_content(tree: Path, tmp_path: Path) -> None:
    (tree / "proj" / "shared.py").symlink_to(tree / "other" / "shared.py")
    assert archive(tree, ["shared.py"], False, tmp_path) == ["node.py", "shared.py"]
    with tarfile.open(tmp_path / "out" / "node.tar.gz", "r:gz") as tar:
        member = tar.extractfile("shared.py")
        assert member is not None and member.read() == b"SHARED = 1\n"


def test_dependency_above_the_node_directory_is_refused(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=re.escape("'../other/shared.py' of proj/node.py is outside")):
        archive(tree, ["../other/shared.py"], False, tmp_path)


def test_dependency_matching_nothing_is_an_error(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=re.escape("dependency 'data/*.parquet' of proj/node.py matches no file")):
        archive(tree, ["data/*.parquet"], True, tmp_path)


def test_missing_node_file_is_an_error(tree: Path, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match=re.escape("node file proj/absent.py does not exist")):
        build_archive(tree, "proj/absent.py", [], False, tmp_path / "a.tar.gz")


def test_archive_streams_large_files(tree: Path, tmp_path: Path) -> None:
    with (tree / "proj" / "data" / "big.bin").open("wb") as out:
        for _ in range(48):
            out.write(os.urandom(1024 * 1024))
    tracemalloc.start()
    try:
        build_archive(tree, "proj/node.py", ["data/big.bin"], False, tmp_path / "big.tar.gz")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024  # a 48 MiB file went through without being held in memory
    with tarfile.open(tmp_path / "big.tar.gz", "r:gz") as tar:
        assert tar.getmember("data/big.bin").size == 48 * 1024 * 1024
