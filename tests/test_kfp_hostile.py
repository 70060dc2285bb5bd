"""Kubeflow Pipelines staging with hostile node ids, pipeline names and object prefixes: they are data, never paths.

A node id such as `../../../../decoy-node` once decided where a dependency archive was written (and then deleted),
and a pipeline name where the compiled package was written and which object storage folder a run used. These tests
submit and export such pipelines to the KFP API test server (tests/kfp_server: each task runs its bootstrapper here)
with object storage on moto_server, put a decoy file exactly where the old code wrote, and compare every file of
the test's directory before and after: only the run's own folders may change, every object key lies in the run's
folder, and the run still completes with each node's outputs reaching the nodes downstream.
"""

from __future__ import annotations

import io
import json
import os
import posixpath
import re
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest
from conftest import ManagerFactory, api_call, node, pipeline_document, write_notebook
from kfp_server import KfpTestServer
from s3_server import S3Server
from test_kfp import follow, kfp_config

from elyra_proc_ext.kfp.compiler import bootstrapper_source
from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.names import safe_name
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.store import RunRecord

SOURCE = "hostile/hostile.pipeline"
RUN = "<the run's id>"  # stands for the run folder's name, unknown before the submission
LONG_UNICODE = "données météo ü/" * 20  # 320 characters, more than 255 bytes: too long for one file name
CLIMBING_ID = "../../../../decoy-node"
ABSOLUTE_ID = "/../../../../absolute-decoy"
# (node id, file, parents, declared outputs); the two "a?b" ids share their slug and their file's stem.
NODES: list[tuple[str, str, tuple[str, ...], list[str]]] = [
    (CLIMBING_ID, "produce.py", (), ["data/numbers.txt"]),
    (ABSOLUTE_ID, "double.py", (CLIMBING_ID,), ["doubled.txt"]),
    (LONG_UNICODE, "report.ipynb", (ABSOLUTE_ID,), ["report.txt"]),
    ("a/b", "one/echo.py", (ABSOLUTE_ID,), ["from-one.txt"]),
    ("a b", "two/echo.py", (ABSOLUTE_ID,), ["from-two.txt"]),
    ("..", "collect.py", (LONG_UNICODE, "a/b", "a b"), ["final.txt"]),
]
SCRIPTS = {
    "produce.py": "import os\nos.makedirs('data')\nopen('data/numbers.txt', 'w').write('1\\n2\\n3\\n')\n",
    "double.py": "numbers = open('data/numbers.txt').read().split()\n"
                 "open('doubled.txt', 'w').write(''.join(f'{2 * int(n)}\\n' for n in numbers))\n",
    "one/echo.py": "open('from-one.txt', 'w').write('one:' + open('doubled.txt').read().replace('\\n', ','))\n",
    "two/echo.py": "open('from-two.txt', 'w').write('two:' + open('doubled.txt').read().replace('\\n', ','))\n",
    "collect.py": "parts = [open(name).read() for name in ('report.txt', 'from-one.txt', 'from-two.txt')]\n"
                  "open('final.txt', 'w').write(' | '.join(parts))\n",
}
REPORT_CELLS = ("numbers = [int(n) for n in open('data/numbers.txt').read().split()]\n"
                "doubled = [int(n) for n in open('doubled.txt').read().split()]\n"
                "open('report.txt', 'w').write(f'sum {sum(numbers)} doubled {sum(doubled)}')",
                "print('report:', open('report.txt').read())")
FINAL = "sum 6 doubled 12 | one:2,4,6, | two:2,4,6,"
PIPELINE_NAMES = {"climbing": "../../../decoy", "absolute": "{tmp}/absolute-decoy", "dot-dot": "..",
                  "long unicode": LONG_UNICODE}


@pytest.fixture
def manager(make_manager: ManagerFactory, workspace: Path, kfp_server: KfpTestServer, s3_server: S3Server,
            bucket: str, tmp_path: Path) -> ProcessorManager:
    """A manager over a workspace holding the hostile pipeline's files; pods keep their temporary files in
    `pod-tmp` so that the snapshot sees them too."""
    for name, text in SCRIPTS.items():
        (workspace / "hostile" / name).parent.mkdir(parents=True, exist_ok=True)
        (workspace / "hostile" / name).write_text(text)
    write_notebook(workspace / "hostile" / "report.ipynb", *REPORT_CELLS)
    (tmp_path / "pod-tmp").mkdir()
    kfp_server.task_env["TMPDIR"] = str(tmp_path / "pod-tmp")
    manager = make_manager(workspace)
    manager.save_runtime_config({"name": "test-kfp", **kfp_config(kfp_server, s3_server, bucket)})
    manager.runs_dir.mkdir(parents=True, exist_ok=True)  # as on any server that ran something before
    return manager


def hostile_pipeline(name: str, **defaults: Any) -> dict[str, Any]:
    nodes = [node(node_id, filename, parents, outputs=outputs) for node_id, filename, parents, outputs in NODES]
    return pipeline_document(name, nodes, pipeline_defaults=defaults)


def where_the_old_code_wrote(runs_dir: Path, in_run_dir: str) -> Path | None:
    """The path the old code used for `run_dir / in_run_dir`, when it lies outside the run's folder whatever the
    run's id (lexically resolved, as the kernel does once the old code had made the directories)."""
    path = Path(os.path.normpath(runs_dir / RUN / in_run_dir))
    return None if RUN in path.parts else path


def plant_decoys(runs_dir: Path, pipeline_name: str | None) -> list[Path]:
    """A file where the old code wrote each node's archive (then deleted it) and, for a submission, the package."""
    wanted = [f"archives-x/{Path(filename).stem}-{node_id}.tar.gz" for node_id, filename, _, _ in NODES]
    if pipeline_name is not None:
        wanted.append(f"{pipeline_name}.yaml")
    decoys = [path for path in (where_the_old_code_wrote(runs_dir, relative) for relative in wanted) if path]
    for decoy in decoys:
        decoy.parent.mkdir(parents=True, exist_ok=True)
        decoy.write_text(f"decoy at {decoy.name}")
    return decoys


def snapshot(top: Path, owned: list[Path]) -> dict[str, bytes | None]:
    """Every file (with its content) and directory (None) under `top`, but for the `owned` folders and files."""
    found: dict[str, bytes | None] = {}
    for path in sorted(top.rglob("*")):
        if not any(path == mine or path.is_relative_to(mine) for mine in owned):
            found[path.relative_to(top).as_posix()] = None if path.is_dir() and not path.is_symlink() else (
                path.read_bytes())
    return found


def run_store(manager: ProcessorManager) -> list[Path]:
    """The run records' database and its journal files, which every run changes."""
    return list(manager.runs_dir.parent.glob("runs.sqlite*"))


def assert_keys_in_run_folder(s3_server: S3Server, bucket: str, record: RunRecord, pipeline_name: str,
                              expected_prefix: str = "") -> dict[str, bytes]:
    """Every object of the (fresh) bucket lies in the run's one folder, named after the safe pipeline name."""
    prefix = record.result["object_storage_path"].removeprefix(f"/{bucket}/")
    folder = prefix.removeprefix(expected_prefix)
    assert prefix == expected_prefix + folder and folder.startswith(f"{safe_name(pipeline_name)}-"), prefix
    assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9_.-]*", folder), folder
    objects = s3_server.objects(bucket)
    assert objects
    for key in objects:
        segments = key.split("/")
        assert key.startswith(f"{prefix}/") and posixpath.normpath(key) == key, key
        assert not {".", "..", ""} & set(segments), key
    return objects


def archive_keys(objects: dict[str, bytes]) -> list[str]:
    return [key for key in objects if key.endswith(".tar.gz")]


async def test_hostile_node_ids_and_pipeline_name_stay_in_the_run_and_the_run_completes(
        manager: ProcessorManager, tmp_path: Path, kfp_server: KfpTestServer, s3_server: S3Server,
        bucket: str) -> None:
    name = PIPELINE_NAMES["climbing"]
    decoys = plant_decoys(manager.runs_dir, name)
    assert len(decoys) == 3  # the climbing and absolute ids' archives, the package: all outside the run's folder
    before = snapshot(tmp_path, run_store(manager))
    submission = manager.check(hostile_pipeline(name), source=SOURCE, runtime_config="test-kfp")
    assert submission.accepted, [issue.to_json() for issue in submission.issues]
    record = await manager.wait((await manager.submit(submission)).id)
    assert record.status == RunStatus.SUBMITTED, record.error
    kfp_run_id = record.result["kfp_run_id"]
    final = await follow(manager, record.id)
    assert final.status == RunStatus.SUCCEEDED, (final.error, kfp_server.task_logs(kfp_run_id))
    assert {node.id: node.status for node in final.nodes} == {node_id: RunStatus.SUCCEEDED for node_id, *_ in NODES}

    task_folder = kfp_server.workdir / kfp_run_id
    after = snapshot(tmp_path, [*run_store(manager), Path(record.run_dir), task_folder])
    assert after == before  # decoys, workspace, data dir, pod temporary files: all untouched
    assert (Path(record.run_dir) / f"{safe_name(name)}.yaml").is_file()
    for task in kfp_server.runs[kfp_run_id].tasks.values():  # the test server's pods work in their own folder
        assert re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", task.name), task.name
        assert task.workdir is not None and task.workdir.is_relative_to(task_folder / "tasks" / task.name)

    objects = assert_keys_in_run_folder(s3_server, bucket, record, name)
    prefix = record.result["object_storage_path"].removeprefix(f"/{bucket}/")
    assert objects[f"{prefix}/final.txt"].decode() == FINAL  # every node's outputs reached the nodes downstream
    assert len(archive_keys(objects)) == len(NODES)  # the two "a?b" nodes did not share an archive
    assert b"report: sum 6 doubled 12" in objects[f"{prefix}/{safe_name(f'report/{LONG_UNICODE}')}-executed.ipynb"]


@pytest.mark.parametrize("case", ["absolute", "dot-dot", "long unicode"])
async def test_hostile_pipeline_names_decide_no_path(case: str, manager: ProcessorManager, tmp_path: Path,
                                                     kfp_server: KfpTestServer, s3_server: S3Server,
                                                     bucket: str) -> None:
    """Staging, the package and the KFP names; the run itself waits (the full run is the test above)."""
    name = PIPELINE_NAMES[case].format(tmp=tmp_path)
    kfp_server.start_delay = 3600
    plant_decoys(manager.runs_dir, name)
    before = snapshot(tmp_path, run_store(manager))
    submission = manager.check(hostile_pipeline(name), source=SOURCE, runtime_config="test-kfp")
    record = await manager.wait((await manager.submit(submission)).id)
    assert record.status == RunStatus.SUBMITTED, record.error
    assert snapshot(tmp_path, [*run_store(manager), Path(record.run_dir)]) == before
    assert [path.name for path in Path(record.run_dir).iterdir()] == [f"{safe_name(name)}.yaml"]
    assert len(archive_keys(assert_keys_in_run_folder(s3_server, bucket, record, name))) == len(NODES)
    run = kfp_server.runs[record.result["kfp_run_id"]]
    assert run.display_name.startswith(f"{name}-")  # what KFP shows keeps the user's text
    assert record.result["experiment_name"] == name


async def test_export_with_hostile_ids_and_name_writes_only_the_export(
        manager: ProcessorManager, workspace: Path, tmp_path: Path, s3_server: S3Server, bucket: str) -> None:
    name = PIPELINE_NAMES["climbing"]
    decoys = plant_decoys(manager.runs_dir, None)
    assert len(decoys) == 2
    before = snapshot(tmp_path, run_store(manager))
    submission = manager.check(hostile_pipeline(name), source=SOURCE, runtime_config="test-kfp")
    target = workspace / "hostile" / "exported.yaml"
    details = await manager.export(submission, target)
    assert details["tasks"] == len(NODES)
    export_folders = [path for path in manager.runs_dir.iterdir() if path.is_dir()]
    assert len(export_folders) == 1
    assert snapshot(tmp_path, [*run_store(manager), target, *export_folders]) == before
    objects = s3_server.objects(bucket)
    prefix = details["object_storage_path"].removeprefix(f"/{bucket}/")
    assert prefix.startswith(f"{safe_name(name)}-") and "/" not in prefix
    assert sorted(objects) == sorted(f"{prefix}/{key.rsplit('/', 1)[-1]}" for key in archive_keys(objects))
    assert len(objects) == len(NODES)


async def test_object_prefix_segments_are_kept_without_empty_ones(
        manager: ProcessorManager, kfp_server: KfpTestServer, s3_server: S3Server, bucket: str) -> None:
    kfp_server.start_delay = 3600
    name = "plain"
    # ASCII only: moto checks signatures of keys with spaces or accents wrongly (see S3Server.authentication_off)
    document = hostile_pipeline(name, cos_object_prefix="//team-one//runs/2026.12/")
    submission = manager.check(document, source=SOURCE, runtime_config="test-kfp")
    record = await manager.wait((await manager.submit(submission)).id)
    assert record.status == RunStatus.SUBMITTED, record.error
    assert_keys_in_run_folder(s3_server, bucket, record, name, expected_prefix="team-one/runs/2026.12/")


HOSTILE_PREFIXES = ["..", "../../elsewhere", "team/../../x", "./runs", "runs/.", "a\\..\\..\\b", "runs\nx",
                    "tab\there", "x" * 600, 42, ["a", "b"]]


@pytest.mark.parametrize("prefix", HOSTILE_PREFIXES, ids=[repr(p)[:20] for p in HOSTILE_PREFIXES])
async def test_a_climbing_object_prefix_is_refused_naming_the_pipeline_default(
        prefix: Any, manager: ProcessorManager) -> None:
    submission = manager.check(hostile_pipeline("plain", cos_object_prefix=prefix), source=SOURCE,
                               runtime_config="test-kfp")
    assert not submission.accepted
    issues = [issue for issue in submission.issues if issue.fatal]
    assert [issue.property_name for issue in issues] == ["cos_object_prefix"], [i.to_json() for i in issues]
    assert issues[0].type == "invalidPipeline" and "pipeline default cos_object_prefix" in issues[0].message


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"elyra_proc_ext": True}}}


async def test_rest_submission_names_a_climbing_object_prefix(jp_fetch: Any, jp_root_dir: Path,
                                                              kfp_server: KfpTestServer, s3_server: S3Server,
                                                              bucket: str) -> None:
    """Over the REST API the answer is a 400 whose issue names the pipeline default; nothing is staged."""
    for name, text in SCRIPTS.items():
        (jp_root_dir / "hostile" / name).parent.mkdir(parents=True, exist_ok=True)
        (jp_root_dir / "hostile" / name).write_text(text)
    write_notebook(jp_root_dir / "hostile" / "report.ipynb", *REPORT_CELLS)
    body = kfp_config(kfp_server, s3_server, bucket)
    assert (await api_call(jp_fetch, "POST", "runtime-configs", body=body))[0] == 201
    document = hostile_pipeline("plain", cos_object_prefix="team/../../x")
    document["pipelines"][0]["app_data"]["source"] = SOURCE
    # A fresh server starts its check workers on the first request: slow on a loaded machine, hence the timeout.
    response = await jp_fetch("pipeline", "schedule", method="POST", body=json.dumps(document), raise_error=False,
                              params={"paths": "pipeline", "runtime_config": "test_kfp"}, request_timeout=120)
    answer = json.loads(response.body)
    assert response.code == 400 and [issue["data"]["propertyName"] for issue in answer["issues"]] == [
        "cos_object_prefix"], answer
    assert "pipeline default cos_object_prefix" in answer["issues"][0]["message"]
    assert not s3_server.objects(bucket)


def node_archive() -> bytes:
    """A dependency archive holding `node.py`, which prints a line."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        script = b"print('ran')\n"
        info = tarfile.TarInfo("node.py")
        info.size = len(script)
        tar.addfile(info, io.BytesIO(script))
    return archive.getvalue()


def run_bootstrapper(tmp_path: Path, s3_server: S3Server, bucket: str, archive: str, *extra: str) -> tuple[int, str]:
    """The bootstrapper as a pod runs it (`python3 -c SOURCE ...`), working in `pod`, its temporary files in
    `pod-tmp`, after staging `node_archive()` under `run/{archive}` (S3 keys are not paths: `run/../x` is a key)."""
    for folder in ("pod", "pod-tmp"):
        (tmp_path / folder).mkdir(exist_ok=True)
    s3_server.client().put_object(Bucket=bucket, Key=f"run/{archive}", Body=node_archive())
    env = {**os.environ, "AWS_ACCESS_KEY_ID": s3_server.access_key, "AWS_SECRET_ACCESS_KEY": s3_server.secret_key,
           "TMPDIR": str(tmp_path / "pod-tmp")}
    env.pop("ELYRA_PROC_WORK_DIR", None)
    command = [sys.executable, "-c", bootstrapper_source(), "--endpoint", s3_server.endpoint, "--bucket", bucket,
               "--prefix", "run", "--archive", archive, "--file", "node.py", "--pipeline-name", "../../x", *extra]
    with s3_server.authentication_off():  # moto misreads signed URLs holding '..' or listings with '/' in a prefix
        done = subprocess.run(command, cwd=tmp_path / "pod", env=env, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


@pytest.mark.parametrize("archive", ["../node.tar.gz", "../../../node", "{tmp}/absolute/node.tar.gz", "..", ".",
                                     "", "sub/../../node.tar.gz", ".hidden.tar.gz"])
def test_the_bootstrapper_refuses_an_archive_name_that_is_a_path(archive: str, tmp_path: Path,
                                                                  s3_server: S3Server, bucket: str) -> None:
    """The archive's name also names the node's log and executed notebook in the pod and in object storage."""
    archive = archive.format(tmp=tmp_path)
    returncode, output = run_bootstrapper(tmp_path, s3_server, bucket, archive)
    assert returncode == 1 and f"--archive {archive!r} must be a plain file name" in output, output
    assert snapshot(tmp_path, []) == {"pod": None, "pod-tmp": None}
    assert list(s3_server.objects(bucket)) == [f"run/{archive}"]


def test_the_bootstrapper_refuses_an_input_key_that_climbs(tmp_path: Path, s3_server: S3Server,
                                                          bucket: str) -> None:
    """A key such as `run/../escaped.txt` matches the input `*/escaped.txt`; it must not be downloaded above the
    pod's work directory."""
    s3_server.client().put_object(Bucket=bucket, Key="run/../escaped.txt", Body=b"outside")
    returncode, output = run_bootstrapper(tmp_path, s3_server, bucket, "node.tar.gz", "--inputs", "*/escaped.txt")
    assert returncode == 1 and "refusing input object run/../escaped.txt" in output, output
    assert not list(tmp_path.rglob("escaped.txt"))
