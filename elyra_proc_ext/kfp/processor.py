"""The `kfp` processor: stage each node's files to object storage, compile, and submit to Kubeflow Pipelines.

The submission itself (see `submission`) runs in worker processes; this class checks configurations and
pipelines, hands submissions and exports to those workers, and follows and cancels runs already on the cluster.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from functools import cache, partial
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from traitlets import Int

from ..errors import BadRequestError, UnsupportedError
from ..model import Issue, Pipeline, Severity
from ..processes import WorkerPool
from ..processors.base import PipelineProcessor, RemoteState, RunContext, RunOutcome, RunStatus
from . import submission

KFP_STATES = {"SUCCEEDED": RunStatus.SUCCEEDED, "FAILED": RunStatus.FAILED, "ERROR": RunStatus.FAILED,
              "CANCELED": RunStatus.CANCELLED, "SKIPPED": RunStatus.SKIPPED}
TASK_STATES = {**KFP_STATES, "RUNNING": RunStatus.RUNNING, "PENDING": RunStatus.PENDING,
               "CANCELING": RunStatus.RUNNING}
SESSION_SECONDS = 300
WORKER_DIED = ("The worker process submitting this pipeline stopped unexpectedly (out of memory?); submit again, "
               "and check the server log if it happens again.")


@cache
def sdk_installed() -> bool:
    """Whether the kfp SDK and kfp-kubernetes are installed, asked of their package metadata: finding the spec of
    `kfp.kubernetes` imports all of kfp, seconds in each fresh check worker."""
    try:
        importlib.metadata.distribution("kfp")
        importlib.metadata.distribution("kfp-kubernetes")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@cache
def kfp_config_schema() -> dict[str, Any]:
    text = resources.files("elyra_proc_ext").joinpath("schemas/runtime-kfp.schema.json").read_text()
    return json.loads(text)


def read_write_mount_warnings(pipeline: Pipeline) -> list[Issue]:
    """KFP's platform spec has no read-only PVC mount (kfp-kubernetes' PvcMount, the backend driver), so a volume
    marked read-only is mounted read-write: said, rather than silently dropped."""
    return [node.issue("invalidVolumeMount", f"Node '{node.name}': volume '{volume.pvc_name}' at '{volume.path}' is "
                       "marked read-only, but Kubeflow Pipelines can only mount it read-write: the node must not "
                       "write to it.", "mounted_volumes", volume.pvc_name, severity=Severity.WARNING)
            for node in pipeline.nodes.values() for volume in node.mounted_volumes if volume.read_only]


def custom_nodes_refusal(pipeline: Pipeline) -> str | None:
    """Catalog components are validated but not compiled yet: why a pipeline holding them cannot be submitted or
    exported, said before anything is staged."""
    custom = [node for node in pipeline.nodes.values() if not node.is_generic]
    if not custom:
        return None
    names = ", ".join(f"'{node.name}' ({node.op})" for node in custom)
    return (f"This pipeline validates, but its catalog component nodes ({names}) cannot be compiled for Kubeflow "
            "Pipelines yet: compiling custom components is coming. Until then, run notebook and script nodes only.")


class KfpProcessor(PipelineProcessor):
    name: ClassVar[str] = "kfp"
    display_name: ClassVar[str] = "Kubeflow Pipelines"
    runtime_type: ClassVar[str] = "KUBEFLOW_PIPELINES"

    submit_processes = Int(2, min=1, config=True,
                           help="Worker processes that stage, compile and submit pipelines (CPU work in Python "
                                "that would otherwise hold up the server); more submissions wait in line.")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._submitters = WorkerPool("kfp", self.submit_processes, submission.warm_up)
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
        if not sdk_installed():
            return [Issue("invalidRuntime", "The kfp SDK is not installed on this server: pip install "
                          "'elyra_proc_ext[kfp]'.", property_name="runtime")]
        issues = [Issue("invalidRuntime", f"Runtime configuration: {problem}", property_name="runtime_config")
                  for problem in self.check_runtime_config(runtime_config)]
        try:
            submission.object_prefix(pipeline.cos_object_prefix)
        except BadRequestError as error:
            issues.append(Issue("invalidPipeline", str(error), property_name="cos_object_prefix",
                                value=pipeline.cos_object_prefix, pipeline_id=pipeline.id))
        return issues + read_write_mount_warnings(pipeline)

    async def run(self, pipeline: Pipeline, context: RunContext) -> RunOutcome:
        refusal = custom_nodes_refusal(pipeline)
        if refusal:
            return RunOutcome(RunStatus.FAILED, refusal)
        created = submission.Submitted()

        def on_message(message: tuple[str, Any]) -> None:
            submission.deliver(context, message)
            if message[0] == "details":
                created.details.update(message[1])

        try:
            return await self._submitters.call(submission.submit, pipeline, submission.for_worker(context),
                                               on_message=on_message)
        except BrokenProcessPool:
            return RunOutcome(RunStatus.FAILED, f"{WORKER_DIED}{created.created()}", created.details)

    async def refresh(self, result: dict[str, Any], runtime_config: dict[str, Any] | None) -> RemoteState | None:
        if not result.get("kfp_run_id") or runtime_config is None:
            return None
        state = await asyncio.to_thread(lambda: self._session(runtime_config).run_state(result["kfp_run_id"]))
        by_display, by_task = result.get("display_names") or {}, result.get("task_names") or {}
        node_ids = {name: by_display.get(name) or by_task[name] for name in state.tasks
                    if name in by_display or name in by_task}
        nodes = {node_ids[name]: TASK_STATES.get(state.tasks[name], RunStatus.PENDING) for name in node_ids}
        times = {node_ids[name]: state.times[name] for name in node_ids if name in state.times}
        return RemoteState(KFP_STATES.get(state.state, RunStatus.SUBMITTED), nodes, state.state, state.error, times)

    async def cancel(self, result: dict[str, Any], runtime_config: dict[str, Any] | None) -> None:
        if not result.get("kfp_run_id") or runtime_config is None:
            raise UnsupportedError("this run never reached Kubeflow Pipelines")
        await asyncio.to_thread(lambda: self._session(runtime_config).terminate(result["kfp_run_id"]))

    async def test_connection(self, runtime_config: dict[str, Any]) -> str:
        def check() -> str:
            session = self._session(runtime_config)
            session.check_namespace()
            submission.object_storage(runtime_config).check()
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
        refusal = custom_nodes_refusal(pipeline)
        if refusal:
            raise BadRequestError(refusal)
        return await self._submitters.call(submission.export, pipeline, submission.for_worker(context), path,
                                           on_message=partial(submission.deliver, context))

    async def close(self) -> None:
        self._submitters.shutdown()
