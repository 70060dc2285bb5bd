"""The calls we make to Kubeflow Pipelines, through the real `kfp.Client`, each with a timeout and an error
message that says which call failed, why, and what to change. A 401/403 from any call is reported as such, at
that call, never as a crash later on. Blocking: call from a worker thread.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from ..errors import KfpError
from .auth import Connection

T = TypeVar("T")
FINAL_STATES = {"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED", "ERROR"}


def _discard(*args: Any, **kwargs: Any) -> None:
    """Stands in for `print` inside the kfp client module."""


@dataclass
class RunState:
    """A run's state, its tasks' states by display name, and when each task started and ended (Unix times)."""

    state: str
    tasks: dict[str, str]
    error: str | None = None
    times: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


def _unix_time(value: Any) -> float | None:
    """A task's start or end time as the kfp client gives it; KFP sends the epoch for times not reached yet."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    seconds = value.timestamp() if isinstance(value, datetime) else None
    return seconds if seconds and seconds > 0 else None


def _server_message(body: Any) -> str:
    try:
        data = json.loads(body)
    except (TypeError, ValueError):
        return str(body or "").strip()[:300]
    if isinstance(data, dict):
        return str(data.get("message") or data.get("error_message") or data.get("error") or "")[:300]
    return ""


class KfpSession:
    def __init__(self, connection: Connection, namespace: str | None) -> None:
        self.connection = connection
        self.namespace = namespace or None
        self._probe()
        self.client = self._call("connecting", self._make_client)

    def _probe(self) -> None:
        """One health check with our own timeout first: kfp.Client retries a failing one for 25 s and logs each
        failure with a traceback before it gives up, and it cannot tell a wrong password from a wrong URL."""
        import requests

        host, url = self.connection.host, f"{self.connection.host}/apis/v2beta1/healthz"
        try:
            response = requests.get(url, headers=self.connection.headers, verify=self.connection.verify,
                                    timeout=self.connection.timeout, allow_redirects=False)
        except requests.exceptions.SSLError:
            raise KfpError(f"TLS verification failed for {host}: set ssl_ca_cert to the cluster's CA bundle (or "
                           "verify_tls to false for a test cluster).") from None
        except requests.exceptions.Timeout:
            raise KfpError(f"Kubeflow Pipelines at {host} did not answer within {self.connection.timeout:g} s.",
                           504) from None
        except requests.exceptions.RequestException:
            raise KfpError(f"Cannot connect to Kubeflow Pipelines at {host}: check api_endpoint and that the "
                           "cluster is reachable.") from None
        if response.status_code in (401, 403) or response.is_redirect:
            raise KfpError(f"Kubeflow Pipelines refused access (HTTP {response.status_code}) while connecting: "
                           "check auth_type and the credentials of this runtime configuration.")
        if response.status_code == 404 or "json" not in response.headers.get("Content-Type", ""):
            raise KfpError(f"No Kubeflow Pipelines API at {host} (HTTP {response.status_code}): api_endpoint must "
                           "be the pipelines API, for example https://<cluster>/pipeline, not the Kubeflow UI.")
        if response.status_code >= 400:
            raise KfpError(f"Kubeflow Pipelines answered HTTP {response.status_code} to its health check: "
                           f"{_server_message(response.text)}")

    def _make_client(self) -> Any:
        import warnings

        import kfp
        import kfp.client.client

        # kfp.Client prints "Run details: <link>" lines, which would corrupt the CLI's --json output and the
        # server's stdout. Its module's own `print` is silenced; redirecting sys.stdout instead is process-wide
        # and, with two calls in flight, can leave stdout redirected for good.
        kfp.client.client.print = _discard
        verify = self.connection.verify
        with warnings.catch_warnings():  # its notice that it needs KFP 2.0 or later: true of every server we reach
            warnings.simplefilter("ignore", FutureWarning)
            client = kfp.Client(host=self.connection.host, namespace=self.namespace or "kubeflow",
                                ssl_ca_cert=verify if isinstance(verify, str) else None,
                                verify_ssl=bool(verify), **self.connection.client_kwargs)
        self._limit_time(client)
        return client

    def _limit_time(self, client: Any) -> None:
        """kfp.Client has no timeout setting and its REST layer passes `timeout=None` (wait forever) on every
        request, so the one pool manager all its APIs share gets our timeout wherever none was asked for."""
        import urllib3

        pool_manager = client._healthz_api.api_client.rest_client.pool_manager
        limit = urllib3.Timeout(total=self.connection.timeout)
        request = pool_manager.request

        def request_with_timeout(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = limit
            kwargs.setdefault("retries", urllib3.Retry(total=1, connect=1, read=0, redirect=0))
            return request(method, url, *args, **kwargs)

        pool_manager.request = request_with_timeout

    def _call(self, step: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        import urllib3
        from kfp_server_api.exceptions import ApiException

        host = self.connection.host
        try:
            return function(*args, **kwargs)
        except ApiException as error:
            detail = _server_message(error.body)
            if error.status in (401, 403):
                raise KfpError(f"Kubeflow Pipelines refused access (HTTP {error.status}) while {step}: check "
                               f"auth_type and the credentials of this runtime configuration. {detail}".strip()
                               ) from None
            if error.status == 404 and step == "connecting":
                raise KfpError(f"No Kubeflow Pipelines API at {host} (HTTP 404): api_endpoint must be the "
                               "pipelines API, for example https://<cluster>/pipeline.") from None
            if error.status == 415:
                raise KfpError(f"{host} answered 'Unsupported Media Type' while {step}: api_endpoint points at "
                               "the Kubeflow UI, not the pipelines API (usually .../pipeline).") from None
            raise KfpError(f"Kubeflow Pipelines answered HTTP {error.status} while {step}: {detail or error.reason}",
                           conflict=error.status == 409 or "already exists" in detail.lower()) from None
        except (urllib3.exceptions.TimeoutError, urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise KfpError(f"Kubeflow Pipelines at {host} did not answer within {self.connection.timeout:g} s "
                           f"while {step}.", 504) from None
        except urllib3.exceptions.MaxRetryError as error:
            if isinstance(error.reason, urllib3.exceptions.TimeoutError):
                raise KfpError(f"Kubeflow Pipelines at {host} did not answer within {self.connection.timeout:g} "
                               f"s while {step}.", 504) from None
            if isinstance(error.reason, urllib3.exceptions.SSLError):
                raise KfpError(f"TLS verification failed for {host}: set ssl_ca_cert to the cluster's CA bundle "
                               "(or verify_tls to false for a test cluster).") from None
            raise KfpError(f"Cannot connect to Kubeflow Pipelines at {host} while {step}: check api_endpoint "
                           "and that the cluster is reachable.") from None
        except (OSError, urllib3.exceptions.HTTPError) as error:
            raise KfpError(f"Cannot talk to Kubeflow Pipelines at {host} while {step}: "
                           f"{type(error).__name__}.") from None

    def check_namespace(self) -> None:
        """Fails early, with its own message, when the namespace does not exist or is not ours."""
        try:
            self._call(f"listing experiments in namespace '{self.namespace}'", self.client.list_experiments,
                       page_size=1, namespace=self.namespace)
        except KfpError as error:
            if self.namespace and error.status == 502:
                raise KfpError(f"Namespace '{self.namespace}' was not accepted by Kubeflow Pipelines: check "
                               f"user_namespace. ({error})") from None
            raise

    def pipeline_id(self, name: str) -> str | None:
        """The id of the pipeline called `name`, None when there is none yet."""
        return self._call("looking up the pipeline", self.client.get_pipeline_id, name)

    def upload(self, package_path: str, name: str, version_name: str, description: str,
               pipeline_id: str | None) -> tuple[str, str]:
        """Upload a new pipeline when `pipeline_id` (looked up before) is None, whose first version KFP names after
        the pipeline; else a new version called `version_name`. Returns (pipeline id, version id)."""
        if pipeline_id is None:
            try:
                pipeline = self._call("uploading the pipeline", self.client.upload_pipeline, package_path, name,
                                      description, namespace=self.namespace)
            except KfpError as error:  # another submission created it a moment ago: add our version to it
                if not error.conflict:
                    raise
                pipeline_id = self.pipeline_id(name)
            else:
                versions = self._call("looking up the pipeline version", self.client.list_pipeline_versions,
                                      pipeline.pipeline_id, page_size=1, sort_by="created_at desc")
                return pipeline.pipeline_id, versions.pipeline_versions[0].pipeline_version_id
        version = self._call("uploading a new pipeline version", self.client.upload_pipeline_version,
                             package_path, version_name, pipeline_id=pipeline_id, description=description)
        return pipeline_id, version.pipeline_version_id

    def experiment(self, name: str) -> str:
        """Reuse the experiment with this name in our namespace, else create it."""
        try:
            experiment = self._call(f"creating experiment '{name}'", self.client.create_experiment, name,
                                    namespace=self.namespace)
        except KfpError as error:  # created by a concurrent submission between the client's lookup and create
            if not error.conflict:
                raise
            experiment = self._call(f"looking up experiment '{name}'", self.client.get_experiment,
                                    experiment_name=name, namespace=self.namespace)
        return experiment.experiment_id

    def start_run(self, experiment_id: str, run_name: str, pipeline_id: str, version_id: str,
                  parameters: dict[str, Any]) -> str:
        run = self._call("creating the run", self.client.run_pipeline, experiment_id, run_name,
                         pipeline_id=pipeline_id, version_id=version_id, params=parameters)
        return run.run_id

    def run_state(self, run_id: str) -> RunState:
        run = self._call("reading the run's state", self.client.get_run, run_id)
        details = getattr(run, "run_details", None)
        named = [task for task in (getattr(details, "task_details", None) or []) if task.display_name]
        error = getattr(getattr(run, "error", None), "message", None)
        return RunState(str(run.state or "PENDING"), {task.display_name: task.state for task in named}, error,
                        {task.display_name: (_unix_time(task.start_time), _unix_time(task.end_time))
                         for task in named})

    def terminate(self, run_id: str) -> None:
        self._call("cancelling the run", self.client.terminate_run, run_id)
