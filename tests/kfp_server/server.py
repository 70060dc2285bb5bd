"""The KFP v2beta1 REST API test server: HTTP, state, auth (bearer token, Dex login) and fault injection.

A stand-in for a Kubeflow Pipelines API server, because a real one needs Kubernetes, which this machine does not
have. It speaks the wire protocol the real `kfp` client uses, so code under test talks to it unchanged.
"""

from __future__ import annotations

import email.parser
import email.policy
import html
import json
import re
import secrets as secrets_module
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from .executor import FINAL_STATES, RunRecord, TaskRecord, execute_run, kill_tasks, make_shim_dir, now
from .models import (
    WireError,
    check_body,
    parse_filter,
    parse_pipeline_yaml,
    predicate_matches,
    read_package,
    render,
    split_run_spec,
)

API = "/apis/v2beta1"
GRPC_CODES = {400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 409: 6, 429: 8, 500: 13, 501: 12, 503: 14, 504: 4}
UPLOAD_OPERATIONS = frozenset({"upload_pipeline", "upload_pipeline_version"})
SESSION_COOKIE = "authservice_session"
DEFAULT_PAGE_SIZE = 20


class ApiError(Exception):
    """An error answer: HTTP status plus a message, rendered in the real server's error body shape."""

    def __init__(self, status: int, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = GRPC_CODES.get(status, 2) if code is None else code


@dataclass
class RecordedRequest:
    """One request as received, for tests that assert on what a client sent."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    operation: str = ""

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class PipelineVersion:
    pipeline_version_id: str
    pipeline_id: str
    name: str
    display_name: str
    description: str
    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None
    created_at: str = field(default_factory=now)

    def spec_body(self) -> dict[str, Any]:
        """`pipeline_spec` as the server returns it: wrapped with the platform spec when the package had one."""
        if self.platform_spec:
            return {"pipeline_spec": self.pipeline_spec, "platform_spec": self.platform_spec}
        return self.pipeline_spec

    def to_api(self) -> dict[str, Any]:
        return {"pipeline_id": self.pipeline_id, "pipeline_version_id": self.pipeline_version_id, "name": self.name,
                "display_name": self.display_name, "description": self.description, "created_at": self.created_at,
                "pipeline_spec": self.spec_body()}


@dataclass
class Pipeline:
    pipeline_id: str
    name: str
    display_name: str
    description: str
    namespace: str
    created_at: str = field(default_factory=now)
    versions: list[PipelineVersion] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {"pipeline_id": self.pipeline_id, "name": self.name, "display_name": self.display_name,
                "description": self.description, "namespace": self.namespace, "created_at": self.created_at}


@dataclass
class Experiment:
    experiment_id: str
    display_name: str
    description: str
    namespace: str
    created_at: str = field(default_factory=now)
    last_run_created_at: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {"experiment_id": self.experiment_id, "display_name": self.display_name,
                "description": self.description, "namespace": self.namespace, "created_at": self.created_at,
                "last_run_created_at": self.last_run_created_at, "storage_state": "AVAILABLE"}


def _status(message: str | None, code: int = 2) -> dict[str, Any] | None:
    return {"code": code, "message": message} if message else None


def _history(entries: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"update_time": at, "state": state} for at, state in entries]


def task_to_api(run: RunRecord, task: TaskRecord) -> dict[str, Any]:
    """A `PipelineTaskDetail`; `outputs` names each output artifact with its id, as the real server lists them."""
    return {"run_id": run.run_id, "task_id": task.task_id, "display_name": task.name,
            "create_time": task.create_time, "start_time": task.start_time, "end_time": task.end_time,
            "state": task.state, "error": _status(task.error), "state_history": _history(task.state_history),
            "outputs": {name: {"artifact_ids": [artifact_id]} for name, artifact_id in task.artifact_ids.items()}}


def run_to_api(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id, "display_name": run.display_name, "experiment_id": run.experiment_id,
        "description": run.description, "storage_state": run.storage_state,
        "pipeline_version_id": (run.version_ref or {}).get("pipeline_version_id"),
        "pipeline_version_reference": run.version_ref, "pipeline_spec": run.inline_spec,
        "runtime_config": run.runtime_config, "service_account": run.service_account,
        "created_at": run.created_at, "scheduled_at": run.scheduled_at, "finished_at": run.finished_at,
        "state": run.state, "error": _status(run.error), "state_history": _history(run.state_history),
        "run_details": {"task_details": [task_to_api(run, t) for t in run.tasks.values()]},
    }


class KfpTestServer:
    """An in-process KFP API server on 127.0.0.1 (thread-based); every option is also a mutable attribute.

    Auth: `require_token` demands `Authorization: Bearer <token>` (missing or wrong → 401; 403 is for an
    authenticated caller outside the configured namespaces); a non-empty
    `dex_users` ({login: password}) demands an `authservice_session` cookie obtained through the emulated Dex login,
    and unauthenticated requests are redirected there. If both are set, either credential is accepted.
    Faults: `fail[operation] = status` answers that status; `hang[operation] = seconds` stalls before answering
    (operation names are listed in `OPERATIONS`; "*" matches every operation).
    Cluster: `secrets` / `config_maps` ({name: {key: value}}) feed kfp-kubernetes `secretAsEnv` / `configMapAsEnv`.
    """

    def __init__(self, *, port: int = 0, path_prefix: str = "/pipeline", multi_user: bool = False,
                 namespaces: Iterable[str] = ("kubeflow-user-example-com",),
                 secrets: dict[str, dict[str, str]] | None = None,
                 config_maps: dict[str, dict[str, str]] | None = None, require_token: str | None = None,
                 dex_users: dict[str, str] | None = None, dex_connectors: tuple[str, ...] = ("local", "ldap"),
                 task_timeout: float = 120.0, max_parallel_tasks: int = 4, start_delay: float = 0.0,
                 task_env: dict[str, str] | None = None, workdir: Path | None = None) -> None:
        self.path_prefix = "/" + path_prefix.strip("/") if path_prefix.strip("/") else ""
        self.multi_user = multi_user
        self.namespaces = set(namespaces)
        self.secrets: dict[str, dict[str, str]] = dict(secrets or {})
        self.config_maps: dict[str, dict[str, str]] = dict(config_maps or {})
        self.require_token = require_token
        self.dex_users: dict[str, str] = dict(dex_users or {})
        self.dex_connectors = dex_connectors
        self.task_timeout = task_timeout
        self.max_parallel_tasks = max_parallel_tasks
        self.start_delay = start_delay
        self.task_env: dict[str, str] = dict(task_env or {})
        self.fail: dict[str, int] = {}
        self.hang: dict[str, float] = {}
        self.sessions: dict[str, str] = {}  # authservice_session cookie value → login
        self.requests: list[RecordedRequest] = []
        self.pipelines: dict[str, Pipeline] = {}
        self.experiments: dict[str, Experiment] = {}
        self.runs: dict[str, RunRecord] = {}
        self.lock = threading.RLock()
        self._own_workdir = workdir is None
        self.workdir = Path(tempfile.mkdtemp(prefix="kfp-test-server-")) if workdir is None else Path(workdir)
        self.shim_dir = make_shim_dir(self.workdir / "bin")
        self._port = port
        self._httpd: ThreadingHTTPServer | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._dex_states: dict[str, str] = {}
        self._dex_codes: dict[str, tuple[str, str]] = {}

    # lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> KfpTestServer:
        handler = type("Handler", (_Handler,), {"app": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._httpd.daemon_threads = True
        thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                  name="kfp-test-server", daemon=True)
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, kill every task still running and remove the work directory if it was ours."""
        self._stopping.set()
        with self.lock:
            runs = list(self.runs.values())
        for run in runs:
            run.cancel.set()
            kill_tasks(run)
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        for thread in self._threads:
            thread.join(timeout=10)
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> KfpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """The server root, e.g. http://127.0.0.1:PORT (the API answers at /apis/v2beta1 here too)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def endpoint(self) -> str:
        """The Kubeflow-style API endpoint ending in the path prefix, e.g. http://127.0.0.1:PORT/pipeline."""
        return self.url + self.path_prefix

    # helpers for tests -------------------------------------------------------------------------------------------

    def wait_for_run(self, run_id: str, timeout: float = 60.0) -> RunRecord:
        """Block until the run reaches a final state (CANCELED included, unlike kfp's wait_for_run_completion)."""
        run = self.runs[run_id]
        if not run.done.wait(timeout):
            raise TimeoutError(f"run {run_id} still {run.state} after {timeout} s")
        return run

    def task_logs(self, run_id: str) -> dict[str, str]:
        """{task name: stdout + stderr} of a run's tasks."""
        with self.lock:
            return {name: task.log for name, task in self.runs[run_id].tasks.items()}

    def login(self, user: str = "user@example.com") -> str:
        """A valid `authservice_session` cookie value without going through the Dex pages."""
        token = secrets_module.token_urlsafe(24)
        with self.lock:
            self.sessions[token] = user
        return token

    # request dispatch ------------------------------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append(request)

    def _authenticated(self, headers: dict[str, str]) -> tuple[bool, bool]:
        """(authenticated, a bearer token was presented)."""
        if not self.require_token and not self.dex_users:
            return True, False
        bearer = headers.get("authorization", "")
        presented = bearer.lower().startswith("bearer ")
        if self.require_token and presented and bearer[7:].strip() == self.require_token:
            return True, True
        if self.dex_users:
            with self.lock:
                if _cookies(headers.get("cookie", "")).get(SESSION_COOKIE) in self.sessions:
                    return True, presented
        return False, presented

    def _fault(self, operation: str) -> None:
        seconds = self.hang.get(operation, self.hang.get("*"))
        if seconds:
            self._stopping.wait(seconds)
        status = self.fail.get(operation, self.fail.get("*"))
        if status:
            raise ApiError(status, f"injected failure of {operation} (KfpTestServer.fail)")

    def _check_namespace(self, namespace: str, resource: str, verb: str) -> str:
        """The namespace a resource lives in; in multi-user mode it must be one of `namespaces`."""
        if not self.multi_user:
            return ""
        if not namespace:
            raise ApiError(400, f"Invalid input error: In multi-user mode, {verb} {resource} requires a namespace")
        if namespace not in self.namespaces:
            raise ApiError(403, "Failed to authorize with API: PermissionDenied: User 'user@example.com' is not "
                                f"authorized with reason:  (request: &ResourceAttributes{{Namespace:{namespace},"
                                f"Verb:{verb},Group:pipelines.kubeflow.org,Version:v1beta1,Resource:{resource},"
                                "Subresource:,Name:,})")
        return namespace

    # pipelines ---------------------------------------------------------------------------------------------------

    def _pipeline(self, pipeline_id: str) -> Pipeline:
        if pipeline_id not in self.pipelines:
            raise ApiError(404, f"Failed to get pipeline {pipeline_id}: ResourceNotFoundError: Pipeline "
                                f"{pipeline_id} not found")
        return self.pipelines[pipeline_id]

    def _version(self, pipeline_id: str, version_id: str) -> PipelineVersion:
        for version in self._pipeline(pipeline_id).versions:
            if version.pipeline_version_id == version_id:
                return version
        raise ApiError(404, f"Failed to get pipeline version {version_id}: ResourceNotFoundError: PipelineVersion "
                            f"{version_id} not found")

    def _upload(self, query: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[str, dict[str, Any]]:
        if "uploadfile" not in files:
            raise ApiError(400, "Failed to upload a pipeline: no file in multipart part 'uploadfile'")
        filename, data = files["uploadfile"]
        try:
            spec, platform = parse_pipeline_yaml(read_package(data))
        except WireError as error:
            raise ApiError(400, f"Failed to create a pipeline due to error converting pipeline spec: {error}") from None
        default_name = re.sub(r"\.(ya?ml|json|tar\.gz|tgz|zip)$", "", Path(filename).name)
        return query.get("name") or query.get("display_name") or default_name, {"spec": spec, "platform": platform}

    def upload_pipeline(self, query: dict[str, str], files: dict[str, tuple[str, bytes]]) -> tuple[Any, str]:
        name, parsed = self._upload(query, files)
        namespace = self._check_namespace(query.get("namespace", ""), "pipelines", "create") \
            if query.get("namespace") else ""
        with self.lock:
            if any(p.name == name and p.namespace == namespace for p in self.pipelines.values()):
                raise ApiError(409, f"Failed to create a pipeline and a pipeline version. The pipeline already "
                                    f"exists.: AlreadyExistsError: Pipeline with name {name!r} already exists")
            pipeline = Pipeline(str(uuid.uuid4()), name, query.get("display_name") or name,
                                query.get("description", ""), namespace)
            pipeline.versions.append(PipelineVersion(str(uuid.uuid4()), pipeline.pipeline_id, name,
                                                     query.get("display_name") or name, query.get("description", ""),
                                                     parsed["spec"], parsed["platform"]))
            self.pipelines[pipeline.pipeline_id] = pipeline
            return pipeline.to_api(), "V2beta1Pipeline"

    def upload_pipeline_version(self, query: dict[str, str],
                                files: dict[str, tuple[str, bytes]]) -> tuple[Any, str]:
        pipeline_id = query.get("pipelineid", "")
        if not pipeline_id:
            raise ApiError(400, "Failed to upload a pipeline version: pipeline ID is empty (query parameter "
                                "'pipelineid')")
        name, parsed = self._upload(query, files)
        with self.lock:
            pipeline = self._pipeline(pipeline_id)
            if any(v.name == name for v in pipeline.versions):
                raise ApiError(409, f"Failed to create a pipeline version: AlreadyExistsError: Pipeline version "
                                    f"with name {name!r} already exists in pipeline {pipeline_id}")
            version = PipelineVersion(str(uuid.uuid4()), pipeline_id, name, query.get("display_name") or name,
                                      query.get("description", ""), parsed["spec"], parsed["platform"])
            pipeline.versions.append(version)
            return version.to_api(), "V2beta1PipelineVersion"

    def create_pipeline(self, body: Any) -> tuple[Any, str]:
        check_body(body, "V2beta1Pipeline")
        name = body.get("name") or body.get("display_name") or ""
        if not name:
            raise ApiError(400, "Invalid input error: pipeline name is empty")
        namespace = self._check_namespace(body.get("namespace", ""), "pipelines", "create") \
            if body.get("namespace") else ""
        with self.lock:
            if any(p.name == name and p.namespace == namespace for p in self.pipelines.values()):
                raise ApiError(409, f"Failed to create a pipeline: AlreadyExistsError: Pipeline with name {name!r} "
                                    "already exists")
            pipeline = Pipeline(str(uuid.uuid4()), name, body.get("display_name") or name,
                                body.get("description", ""), namespace)
            self.pipelines[pipeline.pipeline_id] = pipeline
            return pipeline.to_api(), "V2beta1Pipeline"

    def list_pipelines(self, query: dict[str, str]) -> tuple[Any, str]:
        namespace = query.get("namespace", "")
        if namespace and self.multi_user:
            self._check_namespace(namespace, "pipelines", "list")
        with self.lock:
            items = [p.to_api() for p in self.pipelines.values() if p.namespace == (namespace or "")
                     or not self.multi_user]
        page, total, token = _page(items, query)
        return {"pipelines": page, "total_size": total, "next_page_token": token}, "V2beta1ListPipelinesResponse"

    def get_pipeline(self, pipeline_id: str) -> tuple[Any, str]:
        with self.lock:
            return self._pipeline(pipeline_id).to_api(), "V2beta1Pipeline"

    def get_pipeline_by_name(self, name: str, query: dict[str, str]) -> tuple[Any, str]:
        with self.lock:
            for pipeline in self.pipelines.values():
                if pipeline.name == name and pipeline.namespace == query.get("namespace", ""):
                    return pipeline.to_api(), "V2beta1Pipeline"
        raise ApiError(404, f"Failed to get a pipeline by name: ResourceNotFoundError: Pipeline {name} not found")

    def delete_pipeline(self, pipeline_id: str, query: dict[str, str]) -> tuple[Any, str]:
        with self.lock:
            pipeline = self._pipeline(pipeline_id)
            if pipeline.versions and query.get("cascade", "").lower() != "true":
                raise ApiError(400, f"Failed to delete pipeline {pipeline_id}: FailedPreconditionError: pipeline "
                                    "has existing versions; delete them first (or pass cascade=true)", code=9)
            del self.pipelines[pipeline_id]
        return {}, "object"

    def list_pipeline_versions(self, pipeline_id: str, query: dict[str, str]) -> tuple[Any, str]:
        with self.lock:
            items = [v.to_api() for v in self._pipeline(pipeline_id).versions]
        page, total, token = _page(items, query)
        return ({"pipeline_versions": page, "total_size": total, "next_page_token": token},
                "V2beta1ListPipelineVersionsResponse")

    def get_pipeline_version(self, pipeline_id: str, version_id: str) -> tuple[Any, str]:
        with self.lock:
            return self._version(pipeline_id, version_id).to_api(), "V2beta1PipelineVersion"

    def delete_pipeline_version(self, pipeline_id: str, version_id: str) -> tuple[Any, str]:
        with self.lock:
            version = self._version(pipeline_id, version_id)
            self.pipelines[pipeline_id].versions.remove(version)
        return {}, "object"

    # experiments -------------------------------------------------------------------------------------------------

    def _experiment(self, experiment_id: str) -> Experiment:
        if experiment_id not in self.experiments:
            raise ApiError(404, f"Failed to get experiment {experiment_id}: ResourceNotFoundError: Experiment "
                                f"{experiment_id} not found")
        return self.experiments[experiment_id]

    def _new_experiment(self, name: str, description: str, namespace: str) -> Experiment:
        if any(e.display_name == name and e.namespace == namespace for e in self.experiments.values()):
            raise ApiError(409, f"Failed to create a new experiment: AlreadyExistsError: Experiment with name "
                                f"{name!r} already exists in namespace {namespace!r}")
        experiment = Experiment(str(uuid.uuid4()), name, description, namespace)
        self.experiments[experiment.experiment_id] = experiment
        return experiment

    def create_experiment(self, body: Any) -> tuple[Any, str]:
        check_body(body, "V2beta1Experiment")
        if not body.get("display_name"):
            raise ApiError(400, "Invalid input error: Experiment display_name is empty. Please specify a valid name")
        namespace = self._check_namespace(body.get("namespace", ""), "experiments", "create")
        with self.lock:
            experiment = self._new_experiment(body["display_name"], body.get("description", ""), namespace)
            return experiment.to_api(), "V2beta1Experiment"

    def list_experiments(self, query: dict[str, str]) -> tuple[Any, str]:
        namespace = self._check_namespace(query.get("namespace", ""), "experiments", "list")
        with self.lock:
            items = [e.to_api() for e in self.experiments.values() if e.namespace == namespace or not self.multi_user]
        page, total, token = _page(items, query)
        return ({"experiments": page, "total_size": total, "next_page_token": token},
                "V2beta1ListExperimentsResponse")

    def get_experiment(self, experiment_id: str) -> tuple[Any, str]:
        with self.lock:
            return self._experiment(experiment_id).to_api(), "V2beta1Experiment"

    def delete_experiment(self, experiment_id: str) -> tuple[Any, str]:
        with self.lock:
            self._experiment(experiment_id)
            del self.experiments[experiment_id]
        return {}, "object"

    # runs --------------------------------------------------------------------------------------------------------

    def _run(self, run_id: str) -> RunRecord:
        if run_id not in self.runs:
            raise ApiError(404, f"Failed to get run {run_id}: ResourceNotFoundError: Run {run_id} not found")
        return self.runs[run_id]

    def create_run(self, body: Any) -> tuple[Any, str]:
        check_body(body, "V2beta1Run")
        if not body.get("display_name"):
            raise ApiError(400, "Invalid input error: The run name is empty. Please specify a valid name")
        inline, ref = body.get("pipeline_spec"), body.get("pipeline_version_reference")
        if (inline is None) == (ref is None):
            raise ApiError(400, "Invalid input error: A run needs exactly one of pipeline_spec and "
                                "pipeline_version_reference")
        with self.lock:
            if inline is not None:
                try:
                    spec, platform = split_run_spec(inline)
                except WireError as error:
                    raise ApiError(400, f"Failed to create a run: {error}") from None
            else:
                pipeline = self._pipeline(ref.get("pipeline_id") or "")
                if not pipeline.versions:
                    raise ApiError(404, f"Failed to create a run: pipeline {pipeline.pipeline_id} has no versions")
                version = (self._version(pipeline.pipeline_id, ref["pipeline_version_id"])
                           if ref.get("pipeline_version_id") else pipeline.versions[-1])
                spec, platform = version.pipeline_spec, version.platform_spec
                ref = {"pipeline_id": pipeline.pipeline_id, "pipeline_version_id": version.pipeline_version_id}
            if body.get("experiment_id"):
                experiment = self._experiment(body["experiment_id"])
            elif self.multi_user:
                raise ApiError(400, "Invalid input error: In multi-user mode, a run needs an experiment_id")
            else:
                experiment = next((e for e in self.experiments.values() if e.display_name == "Default"), None) \
                    or self._new_experiment("Default", "", "")
            run = RunRecord(run_id=str(uuid.uuid4()), display_name=body["display_name"],
                            experiment_id=experiment.experiment_id, namespace=experiment.namespace,
                            pipeline_spec=spec, platform_spec=platform,
                            runtime_config=dict(body.get("runtime_config") or {}),
                            description=body.get("description", ""), version_ref=ref, inline_spec=inline,
                            service_account=body.get("service_account", ""))
            run.set_state("PENDING")
            experiment.last_run_created_at = run.created_at
            self.runs[run.run_id] = run
            thread = threading.Thread(target=execute_run, args=(run, self), name=f"kfp-run-{run.run_id[:8]}",
                                      daemon=True)
            self._threads.append(thread)
            thread.start()
            return run_to_api(run), "V2beta1Run"

    def list_runs(self, query: dict[str, str]) -> tuple[Any, str]:
        experiment_id = query.get("experiment_id", "")
        namespace = query.get("namespace", "")
        with self.lock:
            if experiment_id:
                namespace = self._experiment(experiment_id).namespace
            else:
                namespace = self._check_namespace(namespace, "runs", "list")
            items = [run_to_api(r) for r in self.runs.values()
                     if (not experiment_id or r.experiment_id == experiment_id)
                     and (r.namespace == namespace or not self.multi_user)]
        page, total, token = _page(items, query)
        return {"runs": page, "total_size": total, "next_page_token": token}, "V2beta1ListRunsResponse"

    def get_run(self, run_id: str) -> tuple[Any, str]:
        with self.lock:
            return run_to_api(self._run(run_id)), "V2beta1Run"

    def terminate_run(self, run_id: str) -> tuple[Any, str]:
        with self.lock:
            run = self._run(run_id)
            if run.state in FINAL_STATES:
                return {}, "object"
            run.cancel.set()
            run.set_state("CANCELING")
        kill_tasks(run)
        return {}, "object"

    def delete_run(self, run_id: str) -> tuple[Any, str]:
        with self.lock:
            run = self._run(run_id)
            run.cancel.set()
            del self.runs[run_id]
        kill_tasks(run)
        return {}, "object"

    def healthz(self) -> tuple[Any, str]:
        return {"multi_user": self.multi_user, "pipeline_store": "database"}, "V2beta1GetHealthzResponse"


OPERATIONS: list[tuple[str, str, str]] = [
    ("GET", "/healthz", "healthz"),
    ("GET", "/pipelines", "list_pipelines"),
    ("POST", "/pipelines", "create_pipeline"),
    ("POST", "/pipelines/upload", "upload_pipeline"),
    ("POST", "/pipelines/upload_version", "upload_pipeline_version"),
    ("GET", "/pipelines/names/{name}", "get_pipeline_by_name"),
    ("GET", "/pipelines/{pipeline_id}", "get_pipeline"),
    ("DELETE", "/pipelines/{pipeline_id}", "delete_pipeline"),
    ("GET", "/pipelines/{pipeline_id}/versions", "list_pipeline_versions"),
    ("GET", "/pipelines/{pipeline_id}/versions/{version_id}", "get_pipeline_version"),
    ("DELETE", "/pipelines/{pipeline_id}/versions/{version_id}", "delete_pipeline_version"),
    ("POST", "/experiments", "create_experiment"),
    ("GET", "/experiments", "list_experiments"),
    ("GET", "/experiments/{experiment_id}", "get_experiment"),
    ("DELETE", "/experiments/{experiment_id}", "delete_experiment"),
    ("POST", "/runs", "create_run"),
    ("GET", "/runs", "list_runs"),
    ("GET", "/runs/{run_id}", "get_run"),
    ("DELETE", "/runs/{run_id}", "delete_run"),
    ("POST", "/runs/{run_id}:terminate", "terminate_run"),
]
"""(method, path under /apis/v2beta1, operation name); the names key `KfpTestServer.fail` and `.hang`."""

_ROUTES = [(method, re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/:]+)", path) + "$"), name)
           for method, path, name in OPERATIONS]


def _page(items: list[dict[str, Any]], query: dict[str, str]) -> tuple[list[dict[str, Any]], int, str]:
    """Filter, sort and paginate like the list endpoints (page token = offset)."""
    try:
        predicates = parse_filter(query.get("filter"))
        items = [item for item in items if all(predicate_matches(p, item) for p in predicates)]
    except WireError as error:
        raise ApiError(400, str(error)) from None
    sort_by = query.get("sort_by", "").split()
    if sort_by:
        key = sort_by[0]
        if items and key not in items[0]:
            raise ApiError(400, f"Invalid input error: Invalid sorting field: {key!r}")
        items = sorted(items, key=lambda item: str(item.get(key) or ""),
                       reverse=len(sort_by) > 1 and sort_by[1].lower() == "desc")
    try:
        offset = int(query.get("page_token") or 0)
        size = int(query.get("page_size") or 0) or DEFAULT_PAGE_SIZE
    except ValueError:
        raise ApiError(400, "Invalid input error: Invalid page token or page size") from None
    page = items[offset:offset + size]
    token = str(offset + size) if offset + size < len(items) else ""
    return page, len(items), token


def _cookies(header: str) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {key: morsel.value for key, morsel in jar.items()}


def _page_html(title: str, body: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{html.escape(title)}</title></head><body>{body}</body></html>".encode()


class _Handler(BaseHTTPRequestHandler):
    """Translates HTTP to `KfpTestServer` calls; errors become the real server's error bodies."""

    app: KfpTestServer
    protocol_version = "HTTP/1.1"
    server_version = "kfp-test-server"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests assert on `KfpTestServer.requests` instead."""

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_HEAD(self) -> None:
        self._handle("HEAD")

    # plumbing ------------------------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (ConnectionError, OSError):
            self.close_connection = True  # the client gave up (e.g. its timeout while we hung)

    def _json(self, status: int, data: Any) -> None:
        self._send(status, json.dumps(data).encode())

    def _error(self, error: ApiError, operation: str) -> None:
        if operation in UPLOAD_OPERATIONS:
            body: dict[str, Any] = {"error_message": error.message, "error_details": error.message}
        else:
            body = {"error": error.message, "code": error.code, "message": error.message}
        self._json(error.status, body)

    def _redirect(self, location: str, status: int = 302, headers: dict[str, str] | None = None) -> None:
        self._send(status, b"", "text/html; charset=utf-8", {"Location": location, **(headers or {})})

    def _handle(self, method: str) -> None:
        app = self.app
        split = urlsplit(self.path)
        path = unquote(split.path)
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = RecordedRequest(method, path, parse_qs(split.query, keep_blank_values=True), headers, body)
        app._record(record)
        operation = ""
        try:
            if path.startswith("/dex/") or path == "/authservice/oidc/callback":
                self._dex(method, path, query, body)
                return
            authenticated, presented = app._authenticated(headers)
            if not authenticated:
                if presented or not app.dex_users:  # 401 either way, as Istio answers a missing or invalid JWT
                    raise ApiError(401, "Jwt verification fails" if presented else
                                   "Jwt is missing: request needs 'Authorization: Bearer <token>'")
                self._to_dex()
                return
            api_path = self._api_path(path)
            if api_path is None:
                self._page(method, path)
                return
            handler, params, operation = self._route(method, api_path)
            record.operation = operation
            app._fault(operation)
            data, type_name = handler(params, query, body, headers)
            self._json(200, render(data, type_name))
        except WireError as error:
            self._error(ApiError(400, str(error)), operation)
        except ApiError as error:
            self._error(error, operation)
        except Exception as error:  # a bug in the stand-in: answer 500 with the cause rather than drop the socket
            self._error(ApiError(500, f"KFP test server bug: {type(error).__name__}: {error}"), operation)

    def _api_path(self, path: str) -> str | None:
        for prefix in {"", self.app.path_prefix}:
            if path.startswith(prefix + API + "/"):
                return path[len(prefix + API):]
        return None

    def _route(self, method: str, api_path: str) -> tuple[Callable[..., tuple[Any, str]], dict[str, str], str]:
        allowed = False
        for route_method, pattern, name in _ROUTES:
            match = pattern.match(api_path)
            if match:
                allowed = True
                if route_method == method:
                    return getattr(self, "_op_" + name, self._op_default(name)), match.groupdict(), name
        if allowed:
            raise ApiError(405, f"Method Not Allowed: {method} {API}{api_path}")
        raise ApiError(404, f"Not Found: {API}{api_path}")

    def _op_default(self, name: str) -> Callable[..., tuple[Any, str]]:
        """Operations whose arguments are just path parameters (and the query, where the method takes it)."""
        method = getattr(self.app, name)

        def call(params: dict[str, str], query: dict[str, str], body: bytes, headers: dict[str, str]) -> Any:
            if name.startswith("list_") or name in ("get_pipeline_by_name", "delete_pipeline"):
                return method(*params.values(), query)
            return method(*params.values())
        return call

    def _op_create_pipeline(self, params: dict[str, str], query: dict[str, str], body: bytes,
                            headers: dict[str, str]) -> tuple[Any, str]:
        return self.app.create_pipeline(_json_body(body))

    def _op_create_experiment(self, params: dict[str, str], query: dict[str, str], body: bytes,
                              headers: dict[str, str]) -> tuple[Any, str]:
        return self.app.create_experiment(_json_body(body))

    def _op_create_run(self, params: dict[str, str], query: dict[str, str], body: bytes,
                       headers: dict[str, str]) -> tuple[Any, str]:
        return self.app.create_run(_json_body(body))

    def _op_upload_pipeline(self, params: dict[str, str], query: dict[str, str], body: bytes,
                            headers: dict[str, str]) -> tuple[Any, str]:
        return self.app.upload_pipeline(query, _multipart(headers.get("content-type", ""), body))

    def _op_upload_pipeline_version(self, params: dict[str, str], query: dict[str, str], body: bytes,
                                    headers: dict[str, str]) -> tuple[Any, str]:
        return self.app.upload_pipeline_version(query, _multipart(headers.get("content-type", ""), body))

    # pages: UI stand-in and Dex ------------------------------------------------------------------------------

    def _page(self, method: str, path: str) -> None:
        prefix = self.app.path_prefix
        if method in ("GET", "HEAD") and path in {"/", prefix, prefix + "/"}:
            self._send(200, _page_html("Kubeflow", "<p>KFP test server</p>"), "text/html; charset=utf-8")
        else:
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _to_dex(self) -> None:
        """Like oidc-authservice: remember where the user was going and send them to Dex."""
        state = secrets_module.token_urlsafe(12)
        with self.app.lock:
            self.app._dex_states[state] = self.path
        self._redirect("/dex/auth?" + urlencode({
            "client_id": "kubeflow-oidc-authservice", "redirect_uri": "/authservice/oidc/callback",
            "response_type": "code", "scope": "openid profile email groups", "state": state}))

    def _dex(self, method: str, path: str, query: dict[str, str], body: bytes) -> None:
        app = self.app
        state = query.get("state", "")
        if path == "/authservice/oidc/callback":
            with app.lock:
                user, state = app._dex_codes.pop(query.get("code", ""), ("", ""))
                target = app._dex_states.pop(state, "/")
                if not user:
                    raise ApiError(401, "authservice: invalid or used authorization code")
                token = secrets_module.token_urlsafe(24)
                app.sessions[token] = user
            self._redirect(target, headers={"Set-Cookie": f"{SESSION_COOKIE}={token}; Path=/; HttpOnly"})
            return
        if path == "/dex/auth":
            if len(app.dex_connectors) == 1:
                self._redirect(f"/dex/auth/{app.dex_connectors[0]}?{urlsplit(self.path).query}")
                return
            links = "".join(f'<li><a href="/dex/auth/{c}?{html.escape(urlsplit(self.path).query)}">Log in with '
                            f"{c}</a></li>" for c in app.dex_connectors)
            self._send(200, _page_html("dex", f"<ul>{links}</ul>"), "text/html; charset=utf-8")
            return
        match = re.fullmatch(r"/dex/auth/(\w+)(/login)?", path)
        if not match or match.group(1) not in app.dex_connectors:
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
            return
        connector, login_page = match.groups()
        if not login_page:
            self._redirect(f"/dex/auth/{connector}/login?back=&state={quote(state)}")
            return
        message = ""
        if method == "POST":
            form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
            login, password = form.get("login", ""), form.get("password", "")
            if login in app.dex_users and app.dex_users[login] == password:
                code = secrets_module.token_urlsafe(12)
                with app.lock:
                    app._dex_codes[code] = (login, state)
                self._redirect(f"/authservice/oidc/callback?code={code}&state={quote(state)}", status=303)
                return
            message = '<div id="login-error" class="dex-error-box">Invalid Email Address and password.</div>'
        form_html = (f'{message}<form method="post" action="/dex/auth/{connector}/login?back=&state={quote(state)}">'
                     '<input id="login" name="login" type="text"><input id="password" name="password" '
                     'type="password"><button type="submit" id="submit-login">Login</button></form>')
        self._send(200, _page_html("dex", form_html), "text/html; charset=utf-8")


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body or b"{}")
    except ValueError as error:
        raise WireError(f"proto: syntax error: {error}") from None


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str, bytes]]:
    """{part name: (filename, bytes)} of a multipart/form-data body."""
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(400, f"Failed to upload: expected multipart/form-data, got {content_type or 'no body'}")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    parts: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            payload = part.get_payload(decode=True) or b""
            parts[str(name)] = (part.get_filename() or "", payload)
    return parts


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, interval: float = 0.05) -> bool:
    """Poll `predicate` until it holds or `timeout` passes; for tests waiting on server-side state."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
