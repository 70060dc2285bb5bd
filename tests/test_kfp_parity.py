"""What Elyra puts in a compiled KFP pipeline, and what this project puts there too: Elyra's pod labels and
annotations, a run name unique per run, the KFP UI's metrics and visualizations as output artifacts, web identity
credentials in the pods, and a read-only volume flag that KFP cannot honour said out loud.

Runs go to the KFP API test server (tests/kfp_server: no Kubernetes here; it runs each task's command locally and
resolves `fieldPathAsEnv` from the pod labels KFP sets), with object storage on moto_server.
"""
# ruff: noqa: F811  (test functions take the imported `manager` fixture as an argument, as pytest intends)

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import kfp
import pytest
import yaml
from conftest import ManagerFactory, node, pipeline_document
from kfp_server import KfpTestServer
from s3_server import S3Server
from test_kfp import follow, kfp_config, manager, submit  # noqa: F401 (manager: test_kfp's KFP-configured fixture)

from elyra_proc_ext.kfp.compiler import label_value
from elyra_proc_ext.manager import ProcessorManager
from elyra_proc_ext.processors.base import RunStatus

SOURCE = "proj/parity.pipeline"
TRAIN_PY = """\
import json, os, pathlib
print("run name:", os.environ["ELYRA_RUN_NAME"])
pathlib.Path("mlpipeline-metrics.json").write_text(json.dumps({"metrics": [
    {"name": "accuracy-score", "numberValue": 0.875, "format": "PERCENTAGE"}, {"name": "loss", "numberValue": 2}]}))
pathlib.Path("mlpipeline-ui-metadata.json").write_text(json.dumps({"outputs": [
    {"type": "markdown", "storage": "inline", "source": "# Trained"}]}))
"""
REPORT_PY = 'print("no metrics from this node")\n'


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "workspace"
    (root / "proj" / "steps").mkdir(parents=True)
    (root / "proj" / "steps" / "train.py").write_text(TRAIN_PY)
    (root / "proj" / "report.py").write_text(REPORT_PY)
    document = pipeline_document("Parity pipeline!", [
        node("train", "steps/train.py", kubernetes_pod_labels=[
            {"key": "team", "value": "ml"}, {"key": "elyra/node-name", "value": "overridden"}],
            kubernetes_pod_annotations=[{"key": "owner", "value": "Ada Lovelace"}],
            mounted_volumes=[{"path": "/data", "pvc_name": "shared-data", "read_only": True}]),
        node("report", "report.py", ("train",))])
    document["pipelines"][0]["nodes"][0]["app_data"]["label"] = "Train / evaluate"
    (root / SOURCE).write_text(json.dumps(document))
    return root


def document_of(root: Path) -> dict[str, Any]:
    return json.loads((root / SOURCE).read_text())


def pod_metadata(spec: dict[str, Any], platform: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per task, the podMetadata of its executor's Kubernetes config."""
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    return {name: executors[spec["components"][task["componentRef"]["name"]]["executorLabel"]]["podMetadata"]
            for name, task in spec["root"]["dag"]["tasks"].items()}


async def test_pods_carry_elyras_labels_and_annotations_and_the_run_id(
        manager: ProcessorManager, root: Path, kfp_server: KfpTestServer) -> None:
    for submission in ("first", "second"):  # the second one is a new version of the pipeline, named by us
        record = await submit(manager, document_of(root), source=SOURCE, options={"experiment": "Team experiment"})
        assert record.status == RunStatus.SUBMITTED, record.error
        run_id = record.result["kfp_run_id"]
        final = await follow(manager, record.id)
        assert final.status == RunStatus.SUCCEEDED, (final.error, kfp_server.task_logs(run_id))
        run = kfp_server.runs[run_id]
        version = next(v for v in kfp_server.pipelines[record.result["pipeline_id"]].versions
                       if v.pipeline_version_id == record.result["pipeline_version_id"])
        assert (version.name == "Parity pipeline!") == (submission == "first")  # KFP names a first version
        shared = {"elyra/node-type": "notebook-script", "elyra/pipeline-name": "Parity_pipeline_a",
                  "elyra/pipeline-version": label_value(version.name), "elyra/experiment-name": "Team_experiment"}
        assert pod_metadata(run.pipeline_spec, run.platform_spec or {}) == {
            "train-evaluate": {
                "labels": {**shared, "team": "ml", "elyra/node-name": "Train_-_evaluate"},
                "annotations": {"owner": "Ada Lovelace", "elyra/node-file-name": "proj/steps/train.py",
                                "elyra/pipeline-source": "parity.pipeline"}},
            "report": {
                "labels": {**shared, "elyra/node-name": "report"},
                "annotations": {"elyra/node-file-name": "proj/report.py", "elyra/pipeline-source": "parity.pipeline"}}}
        assert all(task.env["ELYRA_RUN_NAME"] == run_id for task in run.tasks.values())
        assert f"run name: {run_id}" in run.tasks["train-evaluate"].log  # what the node's own process sees


def test_label_values_are_made_valid_as_elyra_makes_them() -> None:
    assert label_value("") == ""
    assert label_value("-my pipeline.") == "a-my_pipeline.a"
    assert label_value("x" * 62 + "!") == "x" * 62 + "a"
    assert label_value("é" + "y" * 70) == "a_" + "y" * 61  # cut to 63 characters


async def test_each_run_of_one_exported_file_has_its_own_run_name(
        manager: ProcessorManager, root: Path, kfp_server: KfpTestServer, s3_server: S3Server) -> None:
    submission = manager.check(document_of(root), source=SOURCE, runtime_config="test-kfp")
    target = root / "proj" / "parity.yaml"
    await manager.export(submission, target)
    client = kfp.Client(host=kfp_server.endpoint)
    credentials = {"cos_access_key": s3_server.access_key, "cos_secret_key": s3_server.secret_key}
    run_ids = [client.create_run_from_pipeline_package(str(target), arguments=credentials).run_id for _ in range(2)]
    for run_id in run_ids:
        run = kfp_server.wait_for_run(run_id)
        assert run.state == "SUCCEEDED", kfp_server.task_logs(run_id)
        assert f"run name: {run_id}" in run.tasks["train-evaluate"].log
    assert run_ids[0] != run_ids[1]
    exported = list(yaml.safe_load_all(target.read_text()))
    labels = pod_metadata(exported[0], exported[1])["report"]["labels"]
    assert labels["elyra/pipeline-version"] == labels["elyra/experiment-name"] == ""  # bound to neither on export


async def test_metrics_and_ui_metadata_are_kfp_output_artifacts(manager: ProcessorManager, root: Path,
                                                                kfp_server: KfpTestServer) -> None:
    record = await submit(manager, document_of(root), source=SOURCE)
    run_id = record.result["kfp_run_id"]
    assert (await follow(manager, record.id)).status == RunStatus.SUCCEEDED, kfp_server.task_logs(run_id)
    details = kfp.Client(host=kfp_server.endpoint).get_run(run_id).run_details.task_details
    listed = {task.display_name: sorted(task.outputs or {}) for task in details}
    assert listed == {name: ["mlpipeline_metrics", "mlpipeline_ui_metadata"] for name in ("train-evaluate", "report")}
    tasks = kfp_server.runs[run_id].tasks
    train, report = tasks["train-evaluate"], tasks["report"]
    assert json.loads(train.artifacts["mlpipeline_ui_metadata"].read_text())["outputs"][0]["source"] == "# Trained"
    assert json.loads(train.artifacts["mlpipeline_metrics"].read_text())["metrics"][0]["numberValue"] == 0.875
    assert train.artifact_metadata["mlpipeline_metrics"] == {"accuracy-score": 0.875, "loss": 2.0}  # the UI's table
    assert json.loads(report.artifacts["mlpipeline_metrics"].read_text()) == {"metrics": []}  # none written: empty
    assert report.artifact_metadata["mlpipeline_metrics"] == {}


def test_a_read_only_volume_is_mounted_read_write_with_a_warning(manager: ProcessorManager, root: Path) -> None:
    submission = manager.check(document_of(root), source=SOURCE, runtime_config="test-kfp")
    assert submission.accepted
    warnings = [issue.to_json() for issue in submission.issues if issue.type == "invalidVolumeMount"]
    assert len(warnings) == 1 and warnings[0]["severity"] == 2
    assert "volume 'shared-data' at '/data' is marked read-only, but Kubeflow Pipelines can only mount it " \
           "read-write" in warnings[0]["message"]


async def test_web_identity_credentials_reach_every_pod(
        make_manager: ManagerFactory, root: Path, kfp_server: KfpTestServer, s3_server: S3Server, bucket: str,
        tmp_path: Path) -> None:
    """cos_auth_type AWS_IAM_ROLES_FOR_SERVICE_ACCOUNTS: the spec carries no key; each pod assumes the role with its
    service account token (what EKS injects), and moto takes only the keys STS issued for the role."""
    token_file = tmp_path / "token"
    token_file.write_text("pod-service-account-token")
    manager = make_manager(root)
    manager.save_runtime_config({"name": "test-kfp", **kfp_config(
        kfp_server, s3_server, bucket, cos_auth_type="AWS_IAM_ROLES_FOR_SERVICE_ACCOUNTS")})
    with s3_server.web_identity_sts() as sts:
        kfp_server.task_env.update(AWS_ROLE_ARN=sts.role_arn, AWS_WEB_IDENTITY_TOKEN_FILE=str(token_file),
                                   AWS_ENDPOINT_URL_STS=sts.endpoint)
        record = await submit(manager, document_of(root), source=SOURCE)
        assert record.status == RunStatus.SUBMITTED, record.error
        final = await follow(manager, record.id)
    run = kfp_server.runs[record.result["kfp_run_id"]]
    assert final.status == RunStatus.SUCCEEDED, (final.error, kfp_server.task_logs(run.run_id))
    assert [call["RoleArn"] for call in sts.calls] == [sts.role_arn] * 2  # one per pod
    assert s3_server.secret_key not in json.dumps([run.pipeline_spec, run.platform_spec, run.runtime_config])
    assert all("pod-service-account-token" not in task.log for task in run.tasks.values())
