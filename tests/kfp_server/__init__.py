"""A Kubeflow Pipelines (v2beta1 REST API) test server, standing in for a real KFP in this project's tests.

This is a TEST STAND-IN, not Kubeflow Pipelines. A real KFP needs a Kubernetes cluster (Argo, MinIO, MySQL, MLMD),
which cannot run on this machine, so this server speaks KFP's wire protocol instead, closely enough that the real
`kfp` SDK client (`kfp.Client(host=...)`) and code built on it work against it unchanged:

- `/apis/v2beta1/...` at the root and under a path prefix (default `/pipeline`, like Kubeflow endpoints): healthz;
  pipelines (list with `filter`, get, get by name, create, upload / upload_version as multipart `uploadfile`,
  delete); pipeline versions (list, get, delete); experiments (create, list, get, delete); runs (create from a
  pipeline version reference or an inline `pipeline_spec` (+ `platform_spec`), get, list, terminate, delete).
- Bodies are checked against the `kfp_server_api` models (unknown field / wrong type → 400 `{error, code, message}`;
  uploads answer `{error_message, error_details}`), uploads must parse as a KFP PipelineSpec (+ PlatformSpec), and
  responses omit unpopulated fields (empty lists, zero totals) as the real gateway does.
- Multi-user mode (`multi_user=True`) with a fixed set of `namespaces`; bearer-token auth, an emulated Dex login
  (`/dex/auth/local|ldap` → login form → `authservice_session` cookie) and per-operation injected 500s and hangs.
- Runs execute locally: each `root.dag` task's container command + args as a subprocess (no container, image
  ignored, `python3`/`python` → this interpreter), in dependency order, with placeholders resolved, kfp-kubernetes
  `secretAsEnv` / `configMapAsEnv` fed from the test-configured `secrets` / `config_maps`, and `fieldPathAsEnv` from
  the pod's `podMetadata` labels and annotations plus the `pipeline/runid` label KFP puts on every pod.
- Output artifacts are local files; run details list them per task (`outputs`: name → artifact id), and the task
  record keeps their paths and the metadata the task wrote to its executor output file (`{{$.outputs.output_file}}`).

What it does NOT do: containers or images, Kubernetes objects (volumes, PVCs, node selectors, resources,
tolerations), Argo workflows, MLMD or caching, object storage (artifacts are local paths), nested DAGs (sub-pipelines,
ParallelFor, If/Condition, ExitHandler), importers, recurring runs, archiving, retries, KFP v1 packages, the UI, real
authorization (any valid credential may do anything in any configured namespace), and real OIDC.

Use: take the `kfp_server` fixture in any test (the root conftest registers `kfp_server.fixture` as a plugin), or
`with KfpTestServer(...) as server:` anywhere.
"""

from __future__ import annotations

from .server import OPERATIONS, ApiError, KfpTestServer, RecordedRequest, wait_until

__all__ = ["OPERATIONS", "ApiError", "KfpTestServer", "RecordedRequest", "wait_until"]
