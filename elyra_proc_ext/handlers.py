"""REST handlers under `{base_url}pipeline/`: thin adapters between HTTP and the processor manager.

Every error leaves as `{reason, message, timestamp[, issues]}` with a 4xx/5xx status and never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import posixpath
import time
from functools import cache
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from .checker import Submission
from .manager import ProcessorManager, UnknownRunError
from .parsing import decode, pipeline_schema
from .runtime_configs import RuntimeConfigError
from .store import RunRecord
from .validation import confined_path

AUTH_RESOURCE = "pipeline"
MAX_PAGE, MAX_OFFSET = 1000, 2**62
CHOICES = {"wait": ("true", "false", "1", "0", "yes", "no"), "paths": ("root", "pipeline")}


class PipelineHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def manager(self) -> ProcessorManager:
        return self.settings["elyra_proc_ext_manager"]

    async def prepare(self) -> None:
        await super().prepare()
        limit = self.settings.get("elyra_proc_ext_max_request_bytes")
        if limit and self.current_user and len(self.request.body) > limit:  # strangers get 403 first
            raise web.HTTPError(413, f"The request body ({len(self.request.body)} bytes) is larger than the "
                                     f"{limit} bytes allowed (c.ElyraProcExt.max_request_bytes).")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        error = exc_info[1] if exc_info else None
        if isinstance(error, web.HTTPError):
            message = error.log_message % error.args if error.log_message and error.args else error.log_message
        elif (known := expected_error_status(error)) is not None:
            status_code, message = known, str(error)
            self.set_status(status_code)
        else:
            message = "Internal server error; the server log has the details."
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(self.error_body(status_code, message or HTTPStatus(status_code).phrase)))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if expected_error_status(value) is None:  # expected failures are answered, not logged as crashes
            super().log_exception(typ, value, tb)
        else:
            self.log.warning("%s %s: %s", self.request.method, self.request.path, value)

    def error_body(self, status: int, message: str, issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": HTTPStatus(status).phrase, "message": message, "timestamp": time.time()}
        if issues is not None:
            body["issues"] = issues
        return body

    def reply(self, body: dict[str, Any], status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(body))

    def choice(self, name: str, default: str) -> str:
        """A query option with a fixed set of values; anything else is a client error, not a silent default."""
        value = self.get_query_argument(name, default).lower()
        if value not in CHOICES[name]:
            raise web.HTTPError(400, f"Query option {name} must be one of {', '.join(CHOICES[name])}.")
        return value

    def fail(self, status: int, message: str, issues: list[dict[str, Any]] | None = None) -> None:
        self.reply(self.error_body(status, message, issues), status)

    def run_url(self, run_id: str) -> str:
        return f"{self.base_url}pipeline/runs/{run_id}"

    def run_json(self, record: RunRecord) -> dict[str, Any]:
        return {**record.to_json(), "links": {"self": self.run_url(record.id)}}

    async def submission(self) -> Submission | None:
        """Parse and check the posted pipeline; on a malformed body answer 400 and return None."""
        submission = await self.check(self.request.body)
        if submission.unreadable:
            self.fail(400, submission.issues[0].message, [i.to_json() for i in submission.issues])
            return None
        return submission

    async def check(self, posted: Any) -> Submission:
        """Check a posted pipeline (JSON bytes or a decoded document) with the request's query options."""
        experiment = self.get_query_argument("experiment", None)
        return await self.manager.prepare(
            posted, relative_to_pipeline=self.choice("paths", "root") == "pipeline",
            runtime=self.get_query_argument("runtime", None),
            runtime_config=self.get_query_argument("runtime_config", None),
            options={"experiment": experiment} if experiment else None)


@cache
def openapi_document() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("schemas/openapi.json").read_text())


def expected_error_status(error: BaseException | None) -> int | None:
    """The status for failures a user can cause or fix (bad configuration, unreachable cluster), else None."""
    if isinstance(error, RuntimeConfigError):
        return error.status
    if isinstance(error, FileExistsError):
        return 409
    if isinstance(error, NotImplementedError):
        return 400
    name = type(error).__name__
    if name in ("KfpError", "KfpAuthError", "StorageError"):
        return int(getattr(error, "status", 502))
    return None


class ScheduleHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        submission = await self.submission()
        if submission is None:
            return
        issues = [issue.to_json() for issue in submission.issues]
        if not submission.accepted:
            self.fail(400, "Errors found in pipeline", issues)
            return
        record = await self.manager.submit(submission)
        wait = self.choice("wait", "false") in ("true", "1", "yes")
        if wait:
            record = await self.manager.wait(record.id)
        assert submission.processor is not None
        body = {"run_id": record.id, "platform": submission.processor.runtime_type, "runtime": record.runtime,
                "status": record.status, "run_url": self.run_url(record.id), **record.result,
                "issues": issues}
        if wait:
            body["run"] = self.run_json(record)
        self.set_header("Location", self.run_url(record.id))
        self.reply(body, 200 if wait else 202)


class ValidateHandler(PipelineHandler):
    @web.authenticated
    @authorized(action="read")  # a POST that changes nothing: read-only users may check pipelines
    async def post(self) -> None:
        submission = await self.submission()
        if submission is None:
            return
        self.reply({"title": "Elyra Pipeline Diagnostics", "description": "Issues discovered when parsing the "
                    "pipeline", "valid": submission.accepted, "issues": [i.to_json() for i in submission.issues]})


class RuntimesHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        registry = self.manager.registry
        self.reply({"runtimes": [processor.describe() for processor in registry.processors.values()],
                    "runtime_configs": self.manager.configs.names()})


class SchemaHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(pipeline_schema())


class OpenApiHandler(PipelineHandler):
    """The API's own contract, shipped in the package; tests check real answers against it."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(openapi_document())


class RunsHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        try:
            limit = int(self.get_query_argument("limit", "100"))
            offset = int(self.get_query_argument("offset", "0"))
        except ValueError:
            limit = offset = -1
        if not (0 <= limit <= MAX_PAGE and 0 <= offset <= MAX_OFFSET):
            self.fail(400, f"limit and offset must be whole numbers: limit from 0 to {MAX_PAGE}, offset from 0 "
                           f"to {MAX_OFFSET}.")
            return
        runs = await self.manager.list_runs(limit, offset)
        self.reply({"runs": [self.run_json(record) for record in runs]})


class RunHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, run_id: str) -> None:
        try:
            record = await self.manager.get(run_id)
        except UnknownRunError:
            self.fail(404, f"No run with id '{run_id}'.")
            return
        self.reply(self.run_json(record))


class CancelHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self, run_id: str) -> None:
        try:
            record = await self.manager.cancel(run_id)
        except UnknownRunError:
            self.fail(404, f"No run with id '{run_id}'.")
            return
        self.reply(self.run_json(record))


class ArtifactHandler(PipelineHandler):
    """A node's log or executed notebook, for the Runs panel to open."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str, node_id: str, name: str) -> None:
        try:
            path = await self.manager.artifact(run_id, node_id, name)
        except UnknownRunError:
            self.fail(404, f"Run '{run_id}' has no artifact '{name}' for node '{node_id}'.")
            return
        content = await asyncio.to_thread(path.read_bytes)
        self.set_header("Content-Disposition", f'inline; filename="{path.name}"')
        self.finish(content, set_content_type="application/x-ipynb+json" if path.suffix == ".ipynb"
                    else "text/plain; charset=utf-8")


class ExportHandler(PipelineHandler):
    """Elyra's export body: {pipeline, export_format, export_path, overwrite}; the file lands inside the root."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body, issues = decode(self.request.body)
        if issues or not isinstance(body, dict) or not isinstance(body.get("export_path"), str):
            self.fail(400, "The body must be JSON {pipeline, export_path, overwrite}.", [i.to_json() for i in issues])
            return
        target = export_target(self.manager.root_dir, body["export_path"])
        if target is None:
            self.fail(400, f"export_path '{body['export_path']}' is outside the server root.")
            return
        submission = await self.check(body.get("pipeline"))
        if not submission.accepted:
            self.fail(400, "Errors found in pipeline", [i.to_json() for i in submission.issues])
            return
        details = await self.manager.export(submission, target, overwrite=bool(body.get("overwrite")))
        relative = target.relative_to(self.manager.root_dir).as_posix()
        self.set_header("Location", f"{self.base_url}api/contents/{relative}")
        self.reply({"export_path": relative, **details}, 201)


def export_target(root: Path, export_path: str) -> Path | None:
    """The absolute path to write, when it stays inside the root (its directory resolved, symlinks included)."""
    if not export_path or export_path.startswith("/") or export_path.split("/")[0] == "..":
        return None
    directory = confined_path(root.resolve(), posixpath.dirname(export_path) or ".")
    if directory is None or not directory.is_dir():
        return None
    target = directory / posixpath.basename(export_path)
    return None if target.is_symlink() else target


class RuntimeConfigsHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        configs = await asyncio.to_thread(self.manager.runtime_configs)
        self.reply({"runtime_configs": [config.to_json() for config in configs]})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body, issues = decode(self.request.body)
        if issues:
            self.fail(400, issues[0].message)
            return
        config = await asyncio.to_thread(self.manager.save_runtime_config, body)
        self.set_header("Location", f"{self.base_url}pipeline/runtime-configs/{config.name}")
        self.reply(config.to_json(), 201)


class RuntimeConfigTestHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        self.reply({"ok": True, "message": await self.manager.test_runtime_config(name)})


class RuntimeConfigHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        config = await asyncio.to_thread(self.manager.configs.load, name)
        self.reply(config.to_json())

    @web.authenticated
    @authorized
    async def put(self, name: str) -> None:
        body, issues = decode(self.request.body)
        if issues:
            self.fail(400, issues[0].message)
            return
        config = await asyncio.to_thread(self.manager.save_runtime_config, body, name)
        self.reply(config.to_json())

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.manager.configs.delete, name)
        self.set_status(204)
        self.finish()


RUN_ID = r"(?P<run_id>[^/]+)"
ROUTES: list[tuple[str, type[PipelineHandler]]] = [
    ("pipeline/schedule", ScheduleHandler),
    ("pipeline/validate", ValidateHandler),
    ("pipeline/runtimes", RuntimesHandler),
    ("pipeline/schema", SchemaHandler),
    ("pipeline/openapi.json", OpenApiHandler),
    ("pipeline/runs", RunsHandler),
    (f"pipeline/runs/{RUN_ID}", RunHandler),
    (f"pipeline/runs/{RUN_ID}/cancel", CancelHandler),
    (f"pipeline/runs/{RUN_ID}/nodes/(?P<node_id>[^/]+)/(?P<name>[^/]+)", ArtifactHandler),
    ("pipeline/export", ExportHandler),
    ("pipeline/runtime-configs", RuntimeConfigsHandler),
    ("pipeline/runtime-configs/(?P<name>[^/]+)", RuntimeConfigHandler),
    ("pipeline/runtime-configs/(?P<name>[^/]+)/test", RuntimeConfigTestHandler),
]
