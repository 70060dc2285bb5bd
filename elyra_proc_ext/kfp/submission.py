"""One Kubeflow Pipelines submission or export, step by step, as it runs in a worker process (see `processes`).

Submission is a sequence of small steps (connect, check storage, upload archives, compile, upload the pipeline,
experiment, run), each reported as progress and each failing with its own message. When a step fails after
others succeeded, the error names what was already created, so nothing is orphaned silently. Everything here is
blocking and CPU-heavy (the kfp compiler and client, boto3), which is why it runs in a worker process: in a
thread of the server it held the event loop up for hundreds of milliseconds at a time.
"""

from __future__ import annotations

import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .. import processes
from ..errors import BadRequestError
from ..model import Node, Pipeline
from ..names import safe_name
from ..processors.base import RunContext, RunOutcome, RunStatus
from ..redaction import without_credentials
from .compiler import RunNames, StagingPlan, archive_name, compile_pipeline

CREDENTIAL_MODES = {"USER_CREDENTIALS": "arguments", "KUBERNETES_SECRET": "secret",
                    "AWS_IAM_ROLES_FOR_SERVICE_ACCOUNTS": "ambient"}
PARALLEL_UPLOADS = 8
PROGRESS_INTERVAL = 0.2  # seconds between two "uploaded k of n" messages: each one is saved with the run record
PREFIX_LIMIT = 512  # UTF-8 bytes of cos_object_prefix: S3 keys end at 1024, and the run folder and names follow


class SubmissionCancelled(Exception):
    """The user cancelled while the submission's steps were still running."""


@dataclass
class Submitted:
    """What exists so far on the cluster and in object storage; reported whether or not the submission ends well."""

    details: dict[str, Any] = field(default_factory=dict)

    def created(self) -> str:
        names = {"object_storage_path": "object storage path", "pipeline_id": "pipeline id",
                 "pipeline_version_id": "pipeline version id", "experiment_id": "experiment id"}
        found = [f"{label} {self.details[key]}" for key, label in names.items() if self.details.get(key)]
        return f" Already created: {', '.join(found)}." if found else ""


def run_url(metadata: dict[str, Any], run_id: str) -> str:
    base = str(metadata.get("public_api_endpoint") or metadata["api_endpoint"]).rstrip("/")
    return f"{base}/#/runs/details/{run_id}"


def warm_up() -> None:
    """Worker initializer: import the kfp SDK and boto3 once per worker, not on a user's first submission."""
    import boto3  # noqa: F401
    import kfp.client
    import kfp.kubernetes  # noqa: F401

    from . import auth, session  # noqa: F401


def _forward_node(node_id: str, status: str, **details: Any) -> None:
    processes.report(("node", (node_id, status, details)))


def _forward_progress(message: str) -> None:
    processes.report(("progress", message))


def _forward_details(details: dict[str, Any]) -> None:
    processes.report(("details", details))


def for_worker(context: RunContext) -> RunContext:
    """A picklable copy of `context` whose reports travel back to the server through the pool's messages."""
    return replace(context, on_node=_forward_node, on_progress=_forward_progress, on_details=_forward_details)


def deliver(context: RunContext, message: tuple[str, Any]) -> None:
    """In the server: apply a report a worker sent through a `for_worker` context."""
    kind, payload = message
    if kind == "node":
        node_id, status, details = payload
        context.node_state(node_id, status, **details)
    elif kind == "progress":
        context.progress(payload)
    else:
        context.keep_details(**payload)


def submit(pipeline: Pipeline, context: RunContext) -> RunOutcome:
    """Stage, compile and submit; the outcome names what was created even when a step failed."""
    submitted = Submitted()
    try:
        _submit(pipeline, context, submitted)
    except SubmissionCancelled as error:
        return RunOutcome(RunStatus.CANCELLED, f"{error}{submitted.created()}", submitted.details)
    except Exception as error:
        return RunOutcome(RunStatus.FAILED, f"{error}{submitted.created()}", submitted.details)
    return RunOutcome(RunStatus.SUBMITTED, None, submitted.details)


def export(pipeline: Pipeline, context: RunContext, path: Path) -> dict[str, Any]:
    """Stage the archives (the exported pipeline must find them) and write the compiled YAML to `path`."""
    submitted = Submitted()
    staging = _stage(pipeline, context, submitted, _run_stamp(context))
    compiled = compile_pipeline(pipeline, staging)
    path.write_text(compiled.to_yaml(), encoding="utf-8")
    return {**submitted.details, "tasks": len(compiled.task_names)}


def _submit(pipeline: Pipeline, context: RunContext, submitted: Submitted) -> None:
    from .auth import connect
    from .session import KfpSession

    metadata = context.runtime_config or {}

    def step(message: str) -> None:
        _step(context, submitted, message)

    step(f"Connecting to Kubeflow Pipelines at {metadata['api_endpoint']}")
    session = KfpSession(connect(metadata), metadata.get("user_namespace"))
    session.check_namespace()
    stamp = _run_stamp(context)
    staging = _stage(pipeline, context, submitted, stamp)
    step("Compiling the pipeline")
    pipeline_id = session.pipeline_id(pipeline.name)  # known before compiling: the version name is in pod labels
    version_name, experiment_name = f"{pipeline.name}-{stamp}", context.options.get("experiment") or pipeline.name
    labelled_version = version_name if pipeline_id else pipeline.name  # KFP names a first version after the pipeline
    compiled = compile_pipeline(pipeline, staging, RunNames(labelled_version, experiment_name))
    submitted.details["display_names"] = {name: node_id for node_id, name in compiled.display_names.items()}
    submitted.details["task_names"] = {name: node_id for node_id, name in compiled.task_names.items()}
    package = context.run_dir / f"{safe_name(pipeline.name)}.yaml"
    package.write_text(compiled.to_yaml(), encoding="utf-8")
    step("Uploading the pipeline to Kubeflow Pipelines")
    pipeline_id, version_id = session.upload(str(package), pipeline.name, version_name,
                                             pipeline.description or f"Elyra pipeline {pipeline.name}", pipeline_id)
    submitted.details.update(pipeline_id=pipeline_id, pipeline_version_id=version_id)
    step(f"Creating or reusing experiment '{experiment_name}'")
    experiment_id = session.experiment(experiment_name)
    submitted.details.update(experiment_id=experiment_id, experiment_name=experiment_name)
    step("Starting the run")
    kfp_run_id = session.start_run(experiment_id, f"{pipeline.name}-{stamp}", pipeline_id, version_id,
                                   _run_parameters(context, metadata, staging))
    submitted.details.update(kfp_run_id=kfp_run_id, run_url=run_url(metadata, kfp_run_id))
    context.progress(f"Submitted to Kubeflow Pipelines as run {kfp_run_id}")


def _checkpoint() -> None:
    if processes.cancelled():
        raise SubmissionCancelled("Cancelled by the user before the submission finished.")


def _step(context: RunContext, submitted: Submitted, message: str) -> None:
    """Between two steps: stop if cancelled, keep what was created so far, say what comes next."""
    _checkpoint()
    context.keep_details(**submitted.details)
    context.progress(message)


def _run_stamp(context: RunContext) -> str:
    """Unique per run: names its object storage folder and, after the pipeline name, its KFP version and run."""
    return f"{time.strftime('%m%d%H%M%S')}-{context.run_id[:6]}"


def object_prefix(raw: object) -> str:
    """The pipeline default `cos_object_prefix` as a key prefix ('' when unset); empty segments (a leading,
    trailing or doubled '/') are dropped. Segments `.` and `..`, backslashes and control characters are refused,
    not rewritten: storage front ends and tools that normalise paths would let them climb out of the prefix, and a
    silently different prefix would put the run where its user does not look."""
    if raw is not None and not isinstance(raw, str):
        raise BadRequestError(f"The pipeline default cos_object_prefix must be text, not {type(raw).__name__}.")
    segments = [segment for segment in (raw or "").split("/") if segment]
    prefix = "/".join(segments)
    if any(segment in (".", "..") for segment in segments):
        problem = "has a '.' or '..' segment: object keys are not paths to climb, remove it"
    elif any(character == "\\" or not character.isprintable() for character in prefix):
        problem = "holds a backslash or a control character: separate segments with '/'"
    elif len(prefix.encode("utf-8", "surrogatepass")) > PREFIX_LIMIT:
        problem = f"is longer than {PREFIX_LIMIT} bytes: object keys end at 1024, shorten it"
    else:
        return prefix
    raise BadRequestError(f"The pipeline default cos_object_prefix {prefix[:80]!r} {problem}.")


def _stage(pipeline: Pipeline, context: RunContext, submitted: Submitted, stamp: str) -> StagingPlan:
    """Archive each node's file and dependencies and upload them under this run's own folder, several at once
    (each upload mostly waits on the network). Keys are made of safe names only: the raw pipeline name and
    node ids never decide a path, here or in the pods."""
    from ..storage import build_archive

    metadata = context.runtime_config or {}
    storage = object_storage(metadata)
    _step(context, submitted, f"Checking object storage bucket '{metadata['cos_bucket']}'")
    storage.check()
    run_folder = f"{safe_name(pipeline.name)}-{stamp}"
    prefix = "/".join(part for part in (object_prefix(pipeline.cos_object_prefix), run_folder) if part)
    public = str(metadata.get("public_cos_endpoint") or metadata["cos_endpoint"]).rstrip("/")
    submitted.details.update(object_storage_url=public, object_storage_path=f"/{metadata['cos_bucket']}/{prefix}")
    archives = Path(tempfile.mkdtemp(prefix="archives-", dir=context.run_dir))
    nodes = list(pipeline.nodes.values())

    def upload(node: Node) -> None:
        archive = archives / archive_name(node)
        build_archive(context.root_dir, node.filename or "", node.dependencies, node.include_subdirectories, archive)
        storage.upload_file(archive, f"{prefix}/{archive.name}")
        archive.unlink()

    _step(context, submitted, f"Uploading the dependencies of {len(nodes)} node{'s' if len(nodes) != 1 else ''}")
    with ThreadPoolExecutor(max_workers=PARALLEL_UPLOADS, thread_name_prefix="elyra-proc-upload") as uploads:
        pending = [uploads.submit(upload, node) for node in nodes]
        reported = time.monotonic()
        try:
            for done, future in enumerate(as_completed(pending), start=1):
                future.result()
                _checkpoint()
                if time.monotonic() - reported >= PROGRESS_INTERVAL:
                    context.progress(f"Uploaded the dependencies of {done} of {len(nodes)} nodes")
                    reported = time.monotonic()
        finally:
            for future in pending:
                future.cancel()
    archives.rmdir()
    mode = CREDENTIAL_MODES[metadata.get("cos_auth_type") or "USER_CREDENTIALS"]
    return StagingPlan(endpoint=without_credentials(str(metadata["cos_endpoint"]).rstrip("/")),  # pods sign with keys
                       bucket=metadata["cos_bucket"],
                       prefix=prefix, credentials=mode, secret_name=metadata.get("cos_secret"))


def object_storage(metadata: dict[str, Any]) -> Any:
    from ..storage import ObjectStorage
    from .auth import tls_verify

    return ObjectStorage(str(metadata["cos_endpoint"]), metadata["cos_bucket"], metadata.get("cos_username"),
                         metadata.get("cos_password"), verify=tls_verify(metadata),
                         timeout=float(metadata.get("timeout") or 60))


def _run_parameters(context: RunContext, metadata: dict[str, Any], staging: StagingPlan) -> dict[str, Any]:
    parameters = {name: value for name, value in context.parameters.items() if value is not None}
    if staging.credentials == "arguments":
        parameters.update(cos_access_key=metadata.get("cos_username"), cos_secret_key=metadata.get("cos_password"))
    return parameters
