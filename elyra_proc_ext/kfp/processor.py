"""The `kfp` processor: stage each node's files to object storage, compile, and submit to Kubeflow Pipelines.

Submission is a sequence of small steps (connect, check storage, upload archives, compile, upload the pipeline,
experiment, run), each reported as progress and each failing with its own message. When a step fails after
others succeeded, the error names what was already created, so nothing is orphaned silently.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from ..model import Issue, Pipeline
from ..processors.base import PipelineProcessor, RemoteState, RunContext, RunOutcome, RunStatus
from .compiler import CompiledPipeline, StagingPlan, archive_name, compile_pipeline

KFP_STATES = {"SUCCEEDED": RunStatus.SUCCEEDED, "FAILED": RunStatus.FAILED, "ERROR": RunStatus.FAILED,
              "CANCELED": RunStatus.CANCELLED, "SKIPPED": RunStatus.SKIPPED}
TASK_STATES = {**KFP_STATES, "RUNNING": RunStatus.RUNNING, "PENDING": RunStatus.PENDING,
               "CANCELING": RunStatus.RUNNING}
SESSION_SECONDS = 300
CREDENTIAL_MODES = {"USER_CREDENTIALS": "arguments", "KUBERNETES_SECRET": "secret",
                    "AWS_IAM_ROLES_FOR_SERVICE_ACCOUNTS": "ambient"}


class SubmissionCancelled(Exception):
    """The user cancelled while the submission's steps were still running."""


@cache
def kfp_config_schema() -> dict[str, Any]:
    text = resources.files("elyra_proc_ext").joinpath("schemas/runtime-kfp.schema.json").read_text()
    return json.loads(text)


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


class KfpProcessor(PipelineProcessor):
    name: ClassVar[str] = "kfp"
    display_name: ClassVar[str] = "Kubeflow Pipelines"
    runtime_type: ClassVar[str] = "KUBEFLOW_PIPELINES"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Submissions are partly CPU work in Python (compile, clients): two threads at a time keep the GIL, and so
        # the server's event loop, from being fought over when many are submitted at once.
        self._submitters = ThreadPoolExecutor(max_workers=2, thread_name_prefix="elyra-proc-kfp")
        self._sessions: dict[str, tuple[Any, float]] = {}
        self._sessions_lock = threading.Lock()

    def runtime_config_schema(self) -> dict[str, Any] | None:
        return kfp_config_schema()

    def check_runtime_config(self, metadata: dict[str, Any]) -> list[str]:
        problems = []
        auth_type = metadata.get("auth_type") or "NO_AUTHENTICATION"
        has_credentials = bool(metadata.get("api_username") or metadata.get("api_password"))
        if auth_type in ("DEX_STATIC_PASSWORDS", "DEX_LDAP", "DEX_LEGACY") and not (
                metadata.get("api_username") and metadata.get("api_password")):
            problems.append(f"api_username and api_password are required with auth_type {auth_type}.")
        if auth_type in ("NO_AUTHENTICATION", "KUBERNETES_SERVICE_ACCOUNT_TOKEN") and has_credentials:
            problems.append(f"api_username and api_password must be empty with auth_type {auth_type}.")
        if auth_type == "EXISTING_BEARER_TOKEN" and not metadata.get("api_password"):
            problems.append("api_password must hold the token with auth_type EXISTING_BEARER_TOKEN.")
        cos_auth_type = metadata.get("cos_auth_type") or "USER_CREDENTIALS"
        if cos_auth_type in ("USER_CREDENTIALS", "KUBERNETES_SECRET") and not (
                metadata.get("cos_username") and metadata.get("cos_password")):
            problems.append(f"cos_username and cos_password are required with cos_auth_type {cos_auth_type}.")
        if cos_auth_type == "KUBERNETES_SECRET" and not metadata.get("cos_secret"):
            problems.append("cos_secret (the Kubernetes secret holding the storage keys) is required with "
                            "cos_auth_type KUBERNETES_SECRET.")
        return problems

    def validate(self, pipeline: Pipeline, runtime_config: dict[str, Any] | None) -> list[Issue]:
        if runtime_config is None:
            return [Issue("invalidRuntime", "Kubeflow Pipelines needs a runtime configuration: choose one (or create "
                          "it with `elyra-proc config create`).", property_name="runtime_config")]
        if importlib.util.find_spec("kfp") is None or importlib.util.find_spec("kfp.kubernetes") is None:
            return [Issue("invalidRuntime", "The kfp SDK is not installed on this server: pip install "
                          "'elyra_proc_ext[kfp]'.", property_name="runtime")]
        return [Issue("invalidRuntime", f"Runtime configuration: {problem}", property_name="runtime_config")
                for problem in self.check_runtime_config(runtime_config)]

    async def run(self, pipeline: Pipeline, context: RunContext) -> RunOutcome:
        loop = asyncio.get_running_loop()
        cancelled = threading.Event()
        submitted = Submitted()

        def progress(message: str) -> None:
            loop.call_soon_threadsafe(context.progress, message)

        work = loop.run_in_executor(self._submitters, self._submit, pipeline, context, submitted, loop, progress,
                                    cancelled)
        try:
            await asyncio.shield(work)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        except Exception as error:
            status = RunStatus.CANCELLED if isinstance(error, SubmissionCancelled) else RunStatus.FAILED
            return RunOutcome(status, f"{error}{submitted.created()}", submitted.details)
        return RunOutcome(RunStatus.SUBMITTED, None, submitted.details)

    def _submit(self, pipeline: Pipeline, context: RunContext, submitted: Submitted, loop: asyncio.AbstractEventLoop,
                progress: Callable[[str], None], cancelled: threading.Event) -> None:
        from .auth import connect
        from .session import KfpSession

        metadata = context.runtime_config or {}

        def step(message: str) -> None:
            if cancelled.is_set():
                raise SubmissionCancelled("Cancelled by the user before the submission finished.")
            loop.call_soon_threadsafe(lambda details=dict(submitted.details): context.keep_details(**details))
            progress(message)

        step(f"Connecting to Kubeflow Pipelines at {metadata['api_endpoint']}")
        session = KfpSession(connect(metadata), metadata.get("user_namespace"))
        session.check_namespace()
        staging = self._stage(pipeline, context, metadata, submitted, step)
        step("Compiling the pipeline")
        compiled = compile_pipeline(pipeline, staging)
        submitted.details["display_names"] = {name: node_id for node_id, name in compiled.display_names.items()}
        submitted.details["task_names"] = {name: node_id for node_id, name in compiled.task_names.items()}
        package = context.run_dir / f"{pipeline.name}.yaml"
        package.write_text(compiled.to_yaml(), encoding="utf-8")
        stamp = staging.prefix.rsplit("/", 1)[-1].removeprefix(f"{pipeline.name}-")
        step("Uploading the pipeline to Kubeflow Pipelines")
        pipeline_id, version_id = session.upload(str(package), pipeline.name, f"{pipeline.name}-{stamp}",
                                                 pipeline.description or f"Elyra pipeline {pipeline.name}")
        submitted.details.update(pipeline_id=pipeline_id, pipeline_version_id=version_id)
        experiment_name = context.options.get("experiment") or pipeline.name
        step(f"Creating or reusing experiment '{experiment_name}'")
        experiment_id = session.experiment(experiment_name)
        submitted.details.update(experiment_id=experiment_id, experiment_name=experiment_name)
        step("Starting the run")
        parameters = self._run_parameters(pipeline, context, metadata, staging)
        kfp_run_id = session.start_run(experiment_id, f"{pipeline.name}-{stamp}", pipeline_id, version_id,
                                       parameters)
        submitted.details.update(kfp_run_id=kfp_run_id, run_url=run_url(metadata, kfp_run_id))
        progress(f"Submitted to Kubeflow Pipelines as run {kfp_run_id}")

    def _stage(self, pipeline: Pipeline, context: RunContext, metadata: dict[str, Any], submitted: Submitted,
               step: Callable[[str], None]) -> StagingPlan:
        """Archive each node's file and dependencies and upload them under this run's own prefix."""
        from ..storage import build_archive

        storage = self._storage(metadata)
        step(f"Checking object storage bucket '{metadata['cos_bucket']}'")
        storage.check()
        run_folder = f"{pipeline.name}-{time.strftime('%m%d%H%M%S')}-{context.run_id[:6]}"  # unique per run
        prefix = "/".join(part.strip("/") for part in (pipeline.cos_object_prefix or "", run_folder) if part)
        public = str(metadata.get("public_cos_endpoint") or metadata["cos_endpoint"]).rstrip("/")
        submitted.details.update(object_storage_url=public,
                                 object_storage_path=f"/{metadata['cos_bucket']}/{prefix}")
        archives = Path(tempfile.mkdtemp(prefix="archives-", dir=context.run_dir))
        nodes = list(pipeline.nodes.values())
        for index, node in enumerate(nodes, start=1):
            step(f"Uploading dependencies of '{node.name}' ({index} of {len(nodes)})")
            archive = archives / archive_name(node)
            build_archive(context.root_dir, node.filename or "", node.dependencies, node.include_subdirectories,
                          archive)
            storage.upload_file(archive, f"{prefix}/{archive.name}")
            archive.unlink()
        mode = CREDENTIAL_MODES[metadata.get("cos_auth_type") or "USER_CREDENTIALS"]
        return StagingPlan(endpoint=str(metadata["cos_endpoint"]).rstrip("/"), bucket=metadata["cos_bucket"],
                           prefix=prefix, credentials=mode, secret_name=metadata.get("cos_secret"))

    def _storage(self, metadata: dict[str, Any]) -> Any:
        from ..storage import ObjectStorage
        from .auth import tls_verify

        return ObjectStorage(str(metadata["cos_endpoint"]), metadata["cos_bucket"], metadata.get("cos_username"),
                             metadata.get("cos_password"), verify=tls_verify(metadata),
                             timeout=float(metadata.get("timeout") or 60))

    @staticmethod
    def _run_parameters(pipeline: Pipeline, context: RunContext, metadata: dict[str, Any],
                        staging: StagingPlan) -> dict[str, Any]:
        parameters = {name: value for name, value in context.parameters.items() if value is not None}
        if staging.credentials == "arguments":
            parameters.update(cos_access_key=metadata.get("cos_username"), cos_secret_key=metadata.get("cos_password"))
        return parameters

    async def refresh(self, result: dict[str, Any], runtime_config: dict[str, Any] | None) -> RemoteState | None:
        if not result.get("kfp_run_id") or runtime_config is None:
            return None
        state = await asyncio.to_thread(lambda: self._session(runtime_config).run_state(result["kfp_run_id"]))
        by_display, by_task = result.get("display_names") or {}, result.get("task_names") or {}
        nodes = {by_display.get(name) or by_task[name]: TASK_STATES.get(task_state, RunStatus.PENDING)
                 for name, task_state in state.tasks.items() if name in by_display or name in by_task}
        return RemoteState(KFP_STATES.get(state.state, RunStatus.SUBMITTED), nodes, state.state, state.error)

    async def cancel(self, result: dict[str, Any], runtime_config: dict[str, Any] | None) -> None:
        if not result.get("kfp_run_id") or runtime_config is None:
            raise NotImplementedError("this run never reached Kubeflow Pipelines")
        await asyncio.to_thread(lambda: self._session(runtime_config).terminate(result["kfp_run_id"]))

    async def test_connection(self, runtime_config: dict[str, Any]) -> str:
        def check() -> str:
            session = self._session(runtime_config)
            session.check_namespace()
            self._storage(runtime_config).check()
            namespace = f" (namespace {session.namespace})" if session.namespace else ""
            return (f"Connected to Kubeflow Pipelines at {session.connection.host}{namespace}; object storage bucket "
                    f"'{runtime_config['cos_bucket']}' is reachable.")

        return await asyncio.to_thread(check)

    def _session(self, metadata: dict[str, Any]) -> Any:
        """A session per configuration, reused for a while: the Runs panel polls every second, and a Dex login
        and a health check per poll would load the cluster and this server for nothing."""
        from .auth import connect
        from .session import KfpSession

        key = json.dumps(metadata, sort_keys=True, default=str)
        with self._sessions_lock:
            cached = self._sessions.get(key)
            if cached and time.monotonic() - cached[1] < SESSION_SECONDS:
                return cached[0]
        session = KfpSession(connect(metadata), metadata.get("user_namespace"))
        with self._sessions_lock:
            self._sessions[key] = (session, time.monotonic())
        return session

    async def export(self, pipeline: Pipeline, context: RunContext, path: Path) -> dict[str, Any]:
        """Stage the archives (the exported pipeline must find them) and write the compiled YAML."""
        submitted = Submitted()
        loop = asyncio.get_running_loop()

        def work() -> CompiledPipeline:
            staging = self._stage(pipeline, context, context.runtime_config or {}, submitted,
                                  lambda message: loop.call_soon_threadsafe(context.progress, message))
            compiled = compile_pipeline(pipeline, staging)
            path.write_text(compiled.to_yaml(), encoding="utf-8")
            return compiled

        compiled = await asyncio.to_thread(work)
        return {**submitted.details, "tasks": len(compiled.task_names)}
