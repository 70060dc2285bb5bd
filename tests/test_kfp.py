"""Kubeflow Pipelines end to end: the real kfp SDK against the KFP API test server (tests/kfp_server, a stand-in:
no Kubernetes here), object storage on a real S3-protocol server (moto_server on 127.0.0.1), real notebooks.

A submitted run is executed by the test server, which runs each compiled task's bootstrapper command locally; so
these tests prove that archives are staged, the spec compiles and uploads, and outputs flow between nodes
through object storage.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CORPUS, ManagerFactory, load_json, needs_corpus
from kfp_server import KfpTestServer
from s3_server import S3Server

from elyra_proc_ext.errors import ConflictError
from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.names import safe_name
from elyra_proc_ext.processors.base import RunStatus
from elyra_proc_ext.store import RunRecord

SOURCE = "hello_pipeline/hello_pipeline.pipeline"


@pytest.fixture
def root(workspace: Path) -> Path:
    """The workspace holding a fresh copy of the example pipeline (conftest)."""
    return workspace


def kfp_config(kfp_server: KfpTestServer, s3_server: S3Server, bucket: str, **overrides: Any) -> dict[str, Any]:
    metadata = {"api_endpoint": kfp_server.endpoint, "public_api_endpoint": "https://kubeflow.example.com/pipeline",
                "cos_endpoint": s3_server.endpoint, "cos_bucket": bucket, "cos_auth_type": "USER_CREDENTIALS",
                "cos_username": s3_server.access_key, "cos_password": s3_server.secret_key, "timeout": 20}
    metadata.update(overrides)
    return {"display_name": "Test KFP", "schema_name": "kfp", "metadata": metadata}


@pytest.fixture
def manager(make_manager: ManagerFactory, root: Path, kfp_server: KfpTestServer, s3_server: S3Server,
            bucket: str) -> ProcessorManager:
    manager = make_manager(root)
    manager.save_runtime_config({"name": "test-kfp", **kfp_config(kfp_server, s3_server, bucket)})
    return manager


async def submit(manager: ProcessorManager, document: dict[str, Any], source: str = SOURCE,
                 **options: Any) -> RunRecord:
    submission = manager.check(document, source=source, runtime_config="test-kfp", **options)
    assert submission.accepted, [issue.to_json() for issue in submission.issues]
    return await manager.wait((await manager.submit(submission)).id)


async def submit_until(manager: ProcessorManager, root: Path, progress: str) -> RunRecord:
    """Submit the example and return once its submission reports `progress`."""
    submission = manager.check(load_json(root / SOURCE), source=SOURCE, runtime_config="test-kfp")
    record = await manager.submit(submission)
    while record.progress != progress:
        assert record.status in (RunStatus.PENDING, RunStatus.RUNNING), record.error
        await asyncio.sleep(0.05)
    return record


async def follow(manager: ProcessorManager, run_id: str, timeout: float = 180) -> RunRecord:
    deadline = time.monotonic() + timeout
    record = await manager.get(run_id)
    while record.status == RunStatus.SUBMITTED and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        record = await manager.get(run_id)
    return record


async def test_example_runs_on_kfp_and_data_flows_through_object_storage(
        manager: ProcessorManager, root: Path, kfp_server: KfpTestServer, s3_server: S3Server, bucket: str) -> None:
    record = await submit(manager, load_json(root / SOURCE), parameters={"ROWS": "40"}, options={"experiment": "demo"})
    assert record.status == RunStatus.SUBMITTED, record.error
    result = record.result
    assert result["run_url"] == f"https://kubeflow.example.com/pipeline/#/runs/details/{result['kfp_run_id']}"
    assert result["experiment_name"] == "demo" and result["experiment_id"] in kfp_server.experiments
    assert result["pipeline_id"] in kfp_server.pipelines and result["pipeline_version_id"]
    assert result["object_storage_url"] == s3_server.endpoint
    prefix = result["object_storage_path"].split("/", 2)[2]
    assert result["object_storage_path"] == f"/{bucket}/{prefix}" and prefix.startswith("hello_pipeline-")

    final = await follow(manager, record.id)
    assert final.status == RunStatus.SUCCEEDED, (final.error, kfp_server.task_logs(result["kfp_run_id"]))
    assert {node.name: node.status for node in final.nodes} == dict.fromkeys(
        ["Generate data", "Summarize", "Per station", "Report"], RunStatus.SUCCEEDED)
    times = {node.name: (node.started, node.finished) for node in final.nodes}  # from KFP's task details
    assert all(started and finished and started <= finished for started, finished in times.values()), times
    assert times["Report"][0] >= times["Summarize"][1] >= times["Generate data"][1]  # downstream starts after
    objects = s3_server.objects(bucket, prefix)
    report = objects[f"{prefix}/output/report.txt"].decode()
    assert report.startswith("40 measurements")  # computed from two notebooks' outputs, downloaded by report.py
    executed = json.loads(objects[f"{prefix}/{safe_name('summarize/summarize')}-executed.ipynb"])
    assert any("'count': 40" in "".join(o.get("data", {}).get("text/plain", "")) for cell in executed["cells"]
               for o in cell.get("outputs", []))
    assert "unit: celsius" in objects[f"{prefix}/{safe_name('per_station/per-station')}.log"].decode()
    assert not (root / "hello_pipeline" / "output").exists()  # nothing ran in the workspace itself


@needs_corpus
async def test_corpus_pipeline_with_kubernetes_secret_credentials(
        make_manager: ManagerFactory, tmp_path: Path, kfp_server: KfpTestServer, s3_server: S3Server,
        bucket: str) -> None:
    """The corpus's producer/consumer pipeline (notebooks and scripts in two directories), storage keys from a
    Kubernetes secret: the pipeline spec and the run carry no credential at all."""
    case = CORPUS / "valid" / "elyra__producer-consumer"
    root = tmp_path / "case"
    shutil.copytree(case, root)
    manager = make_manager(root)
    kfp_server.secrets["cos-credentials"] = {"AWS_ACCESS_KEY_ID": s3_server.access_key,
                                             "AWS_SECRET_ACCESS_KEY": s3_server.secret_key}
    manager.save_runtime_config({"name": "test-kfp", **kfp_config(
        kfp_server, s3_server, bucket, cos_auth_type="KUBERNETES_SECRET", cos_secret="cos-credentials")})
    source = load_json(case / "case.json")["pipeline_file"]
    record = await submit(manager, load_json(root / source), source=source)
    assert record.status == RunStatus.SUBMITTED, record.error
    final = await follow(manager, record.id)
    logs = kfp_server.task_logs(record.result["kfp_run_id"])
    assert final.status == RunStatus.SUCCEEDED, (final.error, logs)
    prefix = record.result["object_storage_path"].split("/", 2)[2]
    objects = s3_server.objects(bucket, prefix)
    for output in ("input-1.csv", "input-2.csv", "output-1.csv", "output-2.csv", "output-3.csv", "output-4.csv"):
        assert f"{prefix}/{output}" in objects
    consumer_log = next(log for name, log in logs.items() if name.startswith("consumer"))
    assert all(name in consumer_log for name in ("output-1.csv", "output-3.csv", "input-1.csv"))
    package = (Path(record.run_dir) / f"{safe_name(final.name)}.yaml").read_text()
    run = kfp_server.runs[record.result["kfp_run_id"]]
    for secret in (s3_server.secret_key, s3_server.access_key):
        assert secret not in package and secret not in json.dumps([run.runtime_config, run.pipeline_spec])


async def test_submission_reuses_pipeline_and_experiment(manager: ProcessorManager, root: Path,
                                                         kfp_server: KfpTestServer) -> None:
    first = await submit(manager, load_json(root / SOURCE))
    second = await submit(manager, load_json(root / SOURCE))
    assert first.result["pipeline_id"] == second.result["pipeline_id"]
    assert first.result["pipeline_version_id"] != second.result["pipeline_version_id"]
    assert first.result["experiment_id"] == second.result["experiment_id"]
    assert len(kfp_server.pipelines[first.result["pipeline_id"]].versions) == 2


async def test_cancel_terminates_the_kfp_run(manager: ProcessorManager, root: Path,
                                             kfp_server: KfpTestServer) -> None:
    (root / "hello_pipeline" / "generate_data.py").write_text("import time\ntime.sleep(60)\n")
    record = await submit(manager, load_json(root / SOURCE))
    kfp_run = kfp_server.runs[record.result["kfp_run_id"]]
    deadline = time.monotonic() + 30
    while kfp_run.state != "RUNNING" and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await manager.cancel(record.id)
    final = await follow(manager, record.id, timeout=30)
    assert final.status == RunStatus.CANCELLED and kfp_run.state == "CANCELED"


async def test_cancel_during_the_submission_stops_its_steps(manager: ProcessorManager, root: Path,
                                                            kfp_server: KfpTestServer) -> None:
    """The submission runs in a worker process: cancelling answers at once, and the worker takes no further step
    (no experiment, no run) once the step it was in ends."""
    kfp_server.hang["upload_pipeline"] = 2
    record = await submit_until(manager, root, "Uploading the pipeline to Kubeflow Pipelines")
    cancelled = await manager.cancel(record.id)
    assert cancelled.status == RunStatus.CANCELLED and cancelled.error == "Cancelled by the user."
    assert cancelled.result["object_storage_path"]  # what the worker reported before the cancel is kept
    deadline = time.monotonic() + 30
    while not kfp_server.pipelines and time.monotonic() < deadline:  # the hanging upload completes on the server
        await asyncio.sleep(0.1)
    assert kfp_server.pipelines
    await asyncio.sleep(1)  # time enough for a worker that missed the cancel to create the experiment
    assert not kfp_server.experiments and not kfp_server.runs


async def test_a_submission_whose_worker_dies_fails_and_names_what_exists(manager: ProcessorManager, root: Path,
                                                                          kfp_server: KfpTestServer) -> None:
    """A submitting worker process killed half-way (out of memory, say) fails its run with a message naming what was
    already created; the next submission gets a fresh worker."""
    kfp_server.hang["upload_pipeline"] = 5
    record = await submit_until(manager, root, "Uploading the pipeline to Kubeflow Pipelines")
    processor = manager.registry.get("kfp")
    for worker in list(processor._submitters._pool._processes.values()):  # the ProcessPoolExecutor's workers
        worker.kill()
    record = await manager.wait(record.id)
    assert record.status == RunStatus.FAILED
    assert "stopped unexpectedly" in record.error
    assert f"object storage path {record.result['object_storage_path']}" in record.error
    kfp_server.hang.clear()
    assert (await submit(manager, load_json(root / SOURCE))).status == RunStatus.SUBMITTED


async def test_export_writes_the_compiled_yaml(manager: ProcessorManager, root: Path, s3_server: S3Server,
                                               bucket: str) -> None:
    submission = manager.check(load_json(root / SOURCE), source=SOURCE, runtime_config="test-kfp")
    target = root / "hello_pipeline" / "hello_pipeline.yaml"
    details = await manager.export(submission, target)
    documents = list(yaml.safe_load_all(target.read_text()))
    spec = documents[0]
    assert sorted(spec["root"]["dag"]["tasks"]) == ["generate-data", "per-station", "report", "summarize"]
    assert sorted(spec["root"]["dag"]["tasks"]["report"]["dependentTasks"]) == ["per-station", "summarize"]
    # An executor per node, for its own `elyra/node-name` label; one shared command, so the bootstrapper is in the
    # file once (a YAML anchor and aliases), not once per node.
    assert len(spec["components"]) == 4 and len(spec["deploymentSpec"]["executors"]) == 4
    assert target.read_text().count("def hand_over_kfp_outputs(") == 1
    assert len({id(executor["container"]["command"]) for executor in spec["deploymentSpec"]["executors"].values()}) == 1
    assert spec["root"]["inputDefinitions"]["parameters"]["ROWS"]["defaultValue"] == 200
    assert s3_server.secret_key not in target.read_text()
    prefix = details["object_storage_path"].split("/", 2)[2]
    assert f"{prefix}/{safe_name('report/report')}.tar.gz" in s3_server.objects(bucket, prefix)
    with pytest.raises(ConflictError):
        await manager.export(submission, target)


async def test_progress_is_visible_and_the_event_loop_stays_free(manager: ProcessorManager, root: Path,
                                                                 kfp_server: KfpTestServer) -> None:
    kfp_server.hang["upload_pipeline"] = 1.5  # a slow upload, as over a slow link to a remote cluster
    submission = manager.check(load_json(root / SOURCE), source=SOURCE, runtime_config="test-kfp")
    record = await manager.submit(submission)
    seen, worst = set(), 0.0
    while record.status in (RunStatus.PENDING, RunStatus.RUNNING):
        before = time.perf_counter()
        await asyncio.sleep(0.01)
        worst = max(worst, time.perf_counter() - before - 0.01)
        seen.add(record.progress)
    assert record.status == RunStatus.SUBMITTED, record.error
    assert {"Compiling the pipeline", "Uploading the pipeline to Kubeflow Pipelines"} <= seen
    assert "Uploading the dependencies of 4 nodes" in seen
    # Not a performance target (those live in benchmarks/): the 1.5 s upload must not block the loop.
    assert worst < 1.0, f"event loop stalled {worst:.3f} s during submission"


async def test_kfp_hanging_past_the_timeout(manager: ProcessorManager, root: Path, kfp_server: KfpTestServer,
                                            s3_server: S3Server, bucket: str) -> None:
    manager.save_runtime_config(kfp_config(kfp_server, s3_server, bucket, timeout=1.5), "test-kfp")
    kfp_server.hang["create_run"] = 20
    started = time.monotonic()
    record = await submit(manager, load_json(root / SOURCE))
    assert time.monotonic() - started < 10
    assert record.status == RunStatus.FAILED
    assert "did not answer within 1.5 s while creating the run" in record.error
    assert f"pipeline id {record.result['pipeline_id']}" in record.error


async def test_concurrent_submissions_share_pipeline_and_experiment(manager: ProcessorManager, root: Path,
                                                                     kfp_server: KfpTestServer) -> None:
    """Submitted in the same second: no name clash in KFP, and no run overwrites another's archives."""
    kfp_server.start_delay = 3600  # accepted runs wait; only the submissions matter here
    records = await asyncio.gather(*(submit(manager, load_json(root / SOURCE)) for _ in range(5)))
    assert [record.status for record in records] == [RunStatus.SUBMITTED] * 5, [r.error for r in records]
    assert len({record.result["pipeline_id"] for record in records}) == 1
    assert len({record.result["experiment_id"] for record in records}) == 1
    assert len({record.result["object_storage_path"] for record in records}) == 5
    assert len(kfp_server.pipelines[records[0].result["pipeline_id"]].versions) == 5
