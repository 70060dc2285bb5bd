"""REST handlers under `{base_url}pipeline/`: thin adapters between HTTP and the processor manager.

Every error leaves as `{reason, message, timestamp[, issues]}` with a 4xx/5xx status and never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import os
import posixpath
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from jsonschema import Draft202012Validator
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.iostream import StreamClosedError

from .catalogs import ComponentCatalogs
from .checker import Submission
from .component_forms import component_categories, component_form
from .custom_nodes import COMPONENT_RUNTIME_TYPE, searched_catalogs
from .errors import BadRequestError, ElyraProcError, NotFoundError, TooManyRequestsError, UnknownRunError
from .manager import ProcessorManager, check_export_name
from .model import GENERIC_OPS
from .parsing import decode, migrated, pipeline_schema
from .properties import node_form, palette, pipeline_form
from .redaction import redact_credentials
from .rules import confined_path
from .runtime_configs import violations
from .runtime_images import runtime_images
from .store import RunQuery, RunRecord, clean_source

AUTH_RESOURCE = "pipeline"
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")
CHOICES = {"wait": TRUE + FALSE, "paths": ("root", "pipeline")}
ARTIFACT_CHUNK = 1024 * 1024
T = TypeVar("T")


class PipelineHandler(APIHandler):
    auth_resource = AUTH_RESOURCE
    _check_task: asyncio.Future[Submission] | None = None
    _client_gone = False

    @property
    def manager(self) -> ProcessorManager:
        return self.settings["elyra_proc_ext_manager"]

    @property
    def catalogs(self) -> ComponentCatalogs:
        return self.settings["elyra_proc_ext_catalogs"]

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
        elif isinstance(error, ElyraProcError):
            status_code, message = error.status, str(error)
            if isinstance(error, TooManyRequestsError):
                self.set_header("Retry-After", str(error.retry_after_seconds))
        else:
            message = "Internal server error; the server log has the details."
        self.reply(self.error_body(status_code, message or HTTPStatus(status_code).phrase), status_code)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, ElyraProcError):  # expected failures are answered, not logged as crashes
            super().log_exception(typ, value, tb)
        else:
            self.log.warning("%s %s: %s", self.request.method, self.request.path, value)

    def error_body(self, status: int, message: str, issues: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"reason": HTTPStatus(status).phrase, "message": message, "timestamp": time.time()}
        if issues is not None:
            body["issues"] = issues
        return body

    def reply(self, body: dict[str, Any], status: int = 200) -> None:
        """Answer JSON, errors included; credentials inside URLs (a run link built from a configured endpoint, a
        library's message quoting one) are masked here, the one way out."""
        self.set_status(status)
        self.finish(json.dumps(redact_credentials(body)))

    def choice(self, name: str, default: str) -> str:
        """A query option with a fixed set of values; anything else is a client error, not a silent default."""
        value = self.get_query_argument(name, default).lower()
        if value not in CHOICES[name]:
            raise BadRequestError(f"Query option {name} must be one of {', '.join(CHOICES[name])}.")
        return value

    def whole_number(self, name: str, default: int) -> int:
        """An integer query option within the bounds the OpenAPI document gives it."""
        schema = openapi_document()["components"]["parameters"][name]["schema"]
        low, high = schema["minimum"], schema["maximum"]
        value = self.get_query_argument(name, str(default))
        if not (value.isascii() and value.isdigit() and low <= int(value) <= high):
            raise BadRequestError(f"Query option {name} must be one of the whole numbers from {low} to {high}, not "
                                  f"{value!r}.")
        return int(value)

    def json_body(self, schema_name: str) -> Any:
        """The request body, decoded and checked against the OpenAPI document's request schema `schema_name`."""
        body, issues = decode(self.request.body)
        if issues:
            raise BadRequestError(issues[0].message)
        errors = violations(request_validator(schema_name), body, "(body)")
        if errors:
            raise BadRequestError(f"Invalid request body: {'; '.join(errors)}")
        return body

    def fail(self, status: int, message: str, issues: list[dict[str, Any]] | None = None) -> None:
        self.reply(self.error_body(status, message, issues), status)

    def run_url(self, run_id: str) -> str:
        return f"{self.base_url}pipeline/runs/{run_id}"

    def artifact_url(self, run_id: str, node_id: str, name: str) -> str:
        return f"{self.run_url(run_id)}/nodes/{quote(node_id, safe='')}/{quote(name, safe='')}"

    def run_json(self, record: RunRecord) -> dict[str, Any]:
        """The record as clients see it: each artifact as its URL under the artifact route, and the server paths
        of artifacts that errors quote (a failed node's log) as those URLs too, so no server path leaves."""
        data = record.to_json()
        urls = {path: self.artifact_url(record.id, node.id, name)
                for node in record.nodes for name, path in node.artifacts.items()}
        for node in data["nodes"]:
            node["artifacts"] = {name: self.artifact_url(record.id, node["id"], name) for name in node["artifacts"]}
            node["error"] = linked_artifacts(node["error"], record.run_dir, urls)
        data["error"] = linked_artifacts(data["error"], record.run_dir, urls)
        return {**data, "links": {"self": self.run_url(record.id)}}

    async def submission(self) -> Submission | None:
        """Parse and check the posted pipeline; on a malformed body answer 400 and return None."""
        submission = await self.check(self.request.body)
        if submission.unreadable:
            self.fail(400, submission.issues[0].message, [i.to_json() for i in submission.issues])
            return None
        return submission

    async def check(self, posted: Any) -> Submission:
        """Check a posted pipeline (JSON bytes or a decoded document) with the request's query options, counted
        against the user's checks in flight; stopped when the client goes away."""
        experiment = self.get_query_argument("experiment", None)
        # Requests bearing the shared token get a fresh anonymous user each, so for them the token is the owner.
        owner = "(server token)" if self.token_authenticated else self.current_user.username
        self._check_task = asyncio.ensure_future(self.manager.prepare(
            posted, owner=owner, relative_to_pipeline=self.choice("paths", "root") == "pipeline",
            runtime=self.get_query_argument("runtime", None),
            runtime_config=self.get_query_argument("runtime_config", None),
            options={"experiment": experiment} if experiment else None))
        try:
            return await self._check_task
        except asyncio.CancelledError:
            if self._client_gone:  # nobody is left to answer
                raise web.Finish() from None
            raise
        finally:
            self._check_task = None

    def on_connection_close(self) -> None:
        """The client went away: stop its check, which would otherwise hold a check worker to its end."""
        super().on_connection_close()
        self._client_gone = True
        if self._check_task is not None:
            self._check_task.cancel()


def linked_artifacts(text: str | None, run_dir: str, urls: dict[str, str]) -> str | None:
    """`text` with each path inside the run's directory replaced by the URL of the artifact it is (trailing
    punctuation aside); one pass over the text, however many nodes the run has."""
    if not text or run_dir not in text:
        return text

    def link(match: re.Match[str]) -> str:
        path = match.group(0)
        trimmed = path.rstrip(".,:)")
        return urls[trimmed] + path[len(trimmed):] if trimmed in urls else path

    return re.sub(re.escape(run_dir) + r"/[^\s;'\"]+", link, text)


@cache
def openapi_document() -> dict[str, Any]:
    return json.loads(resources.files(__package__).joinpath("schemas/openapi.json").read_text())


@cache
def request_validator(schema_name: str) -> Draft202012Validator:
    """A validator, compiled once, for a request body schema of the OpenAPI document, so the document is the one
    source of truth for request fields. A posted pipeline inside a body is left to the pipeline checks, which
    report every problem as an issue naming node and field."""
    document = openapi_document()
    schema = dict(document["components"]["schemas"][schema_name])
    if "pipeline" in schema.get("properties", {}):
        schema["properties"] = {**schema["properties"], "pipeline": True}
    return Draft202012Validator({**schema, "components": document["components"]})


class ScheduleHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self) -> None:
        wait = self.choice("wait", "false") in TRUE
        submission = await self.submission()
        if submission is None:
            return
        issues = [issue.to_json() for issue in submission.issues]
        if not submission.accepted:
            self.fail(400, "Errors found in pipeline", issues)
            return
        record = await self.manager.submit(submission)
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


class PaletteHandler(PipelineHandler):
    """The node types the editor's palette offers; with `?runtime_type=KUBEFLOW_PIPELINES` (a pipeline's
    `app_data.runtime_type`), the cached components of the catalogs too."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        runtime_type = self.get_query_argument("runtime_type", None)
        known = sorted({processor.runtime_type for processor in self.manager.registry.processors.values()})
        if runtime_type is not None and runtime_type not in known:
            raise BadRequestError(f"Query option runtime_type must be the runtime type of an installed processor: "
                                  f"{', '.join(known)}; not {runtime_type!r}.")
        answer = palette()
        if runtime_type == COMPONENT_RUNTIME_TYPE:
            answer["categories"] += await asyncio.to_thread(component_categories, self.catalogs)
        self.reply(answer)


class NodePropertiesHandler(PipelineHandler):
    """The editor's form of a node type (offering the runtime images of Elyra's metadata) or of a catalog
    component (from the catalogs' cache)."""

    @web.authenticated
    @authorized
    async def get(self, op: str) -> None:
        if op in GENERIC_OPS:
            images = await runtime_images()
            self.reply(node_form(op, [image.image_name for image in images]))
            return
        component = await asyncio.to_thread(self.catalogs.component_for, op)
        if component is None:
            searched = searched_catalogs(await asyncio.to_thread(self.catalogs.store.names))
            raise NotFoundError(f"'{op}' is not a generic node type ({', '.join(GENERIC_OPS)}) nor a component of "
                                f"the catalogs here (catalogs searched: {searched}).")
        self.reply(component_form(component))


class PipelinePropertiesHandler(PipelineHandler):
    """The editor's form of the pipeline's properties: name, description, defaults, parameters."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        images = await runtime_images()
        self.reply(pipeline_form([image.image_name for image in images]))


class RuntimeImagesHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply({"runtime_images": [image.to_json() for image in await runtime_images()]})


class MigrateHandler(PipelineHandler):
    """An older pipeline in the current format version, migrated as runs migrate it: the editor shows and saves it
    so. `?path=` (the file's path from the root) lets the oldest formats' file references be rewritten."""

    @web.authenticated
    @authorized(action="read")  # changes nothing on the server
    async def post(self) -> None:
        document, issues = decode(self.request.body)
        if issues:
            self.fail(400, issues[0].message, [i.to_json() for i in issues])
            return
        migration = await asyncio.to_thread(migrated, document, self.get_query_argument("path", None))
        if migration.document is None:
            self.fail(400, migration.issues[0].message, [i.to_json() for i in migration.issues])
            return
        self.reply({"pipeline": migration.document, "from_version": migration.from_version})


class OpenApiHandler(PipelineHandler):
    """The API's own contract, shipped in the package; tests check real answers against it."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.reply(openapi_document())


class RunsHandler(PipelineHandler):
    """Run history, newest first: `?source=`, `?status=` (repeated or comma-separated) and `?runtime=` filter it
    in the store's query, so a filtered page costs the runs it holds, not the whole history."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        limit, offset = self.whole_number("limit", 100), self.whole_number("offset", 0)
        query = RunQuery(self.source_filter(), self.status_filter(), self.runtime_filter())
        runs = await self.manager.list_runs(limit, offset, query)
        self.reply({"runs": [self.run_json(record) for record in runs]})

    def source_filter(self) -> str | None:
        value = self.get_query_argument("source", None)
        if value is not None and not clean_source(value):
            raise BadRequestError("Query option source must be a pipeline file's path from the server root, e.g. "
                                  "pipelines/flow.pipeline.")
        return value

    def runtime_filter(self) -> str | None:
        value = self.get_query_argument("runtime", None)
        if value is not None and not value.strip():
            raise BadRequestError("Query option runtime must name a runtime (local, kfp) or a runtime configuration.")
        return value

    def status_filter(self) -> tuple[str, ...]:
        """The `status` options, each a status of the document's list (the one source of truth)."""
        allowed = openapi_document()["components"]["parameters"]["status"]["schema"]["items"]["enum"]
        given = [part.strip() for value in self.get_query_arguments("status") for part in value.split(",")]
        unknown = [status for status in given if status not in allowed]
        if unknown:
            raise BadRequestError(f"Query option status: unknown status {', '.join(map(repr, unknown))}; use one or "
                                  f"more of {', '.join(allowed)} (repeated or comma-separated).")
        return tuple(dict.fromkeys(given))


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
    """A node's log or executed notebook, for the Runs panel to open. Streamed in chunks read off the event loop,
    each sent before the next is read, so a log of gigabytes costs the server one chunk of memory."""

    @web.authenticated
    @authorized
    async def get(self, run_id: str, node_id: str, name: str) -> None:
        try:
            path = await self.manager.artifact(run_id, node_id, name)
        except UnknownRunError:
            self.fail(404, f"Run '{run_id}' has no artifact '{name}' for node '{node_id}'.")
            return
        file = await asyncio.to_thread(path.open, "rb")
        try:
            size = await asyncio.to_thread(lambda: os.fstat(file.fileno()).st_size)
            self.set_header("Content-Type", "application/x-ipynb+json" if path.suffix == ".ipynb"
                            else "text/plain; charset=utf-8")
            self.set_header("Content-Disposition", f'inline; filename="{path.name}"')
            self.set_header("Content-Length", size)
            remaining = size  # the length announced: a log still growing is cut there
            while remaining > 0:
                chunk = await asyncio.to_thread(file.read, min(ARTIFACT_CHUNK, remaining))
                if not chunk:  # it shrank: the connection is closed short of the announced length
                    break
                remaining -= len(chunk)
                self.write(chunk)
                await self.flush()  # waits until the chunk is on the wire
        except StreamClosedError:  # the client went away: stop reading
            return
        finally:
            await asyncio.to_thread(file.close)
        self.finish()


class ExportHandler(PipelineHandler):
    """Elyra's export body: {pipeline, export_format, export_path, overwrite}; the file lands inside the root."""

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("ExportRequest")
        check_export_name(body["export_path"])
        target = export_target(self.manager.root_dir, body["export_path"])
        if target is None:
            self.fail(400, f"export_path '{body['export_path']}' is outside the server root.")
            return
        submission = await self.check(body.get("pipeline"))
        if not submission.accepted:
            self.fail(400, "Errors found in pipeline", [i.to_json() for i in submission.issues])
            return
        details = await self.manager.export(submission, target, overwrite=body.get("overwrite", False))
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
        body = self.json_body("RuntimeConfigInput")
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
        body = self.json_body("RuntimeConfigInput")
        config = await asyncio.to_thread(self.manager.save_runtime_config, body, name)
        self.reply(config.to_json())

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.manager.configs.delete, name)
        self.set_status(204)
        self.finish()


# Reading catalog sources (when one is added, updated or refreshed) may wait on slow URLs: in threads of its own,
# never in the ones other routes share, so a few slow catalogs cannot stall them.
CATALOG_READS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="elyra-proc-catalog-read")


async def reading_sources(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(CATALOG_READS, function, *args)


class CatalogsHandler(PipelineHandler):
    """Component catalogs, and the catalog types on offer."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        catalogs = await asyncio.to_thread(self.catalogs.list)
        self.reply({"catalogs": catalogs, "catalog_types": self.catalogs.types()})

    @web.authenticated
    @authorized
    async def post(self) -> None:
        body = self.json_body("CatalogInput")
        catalog = await reading_sources(self.catalogs.save, body)
        self.set_header("Location", f"{self.base_url}pipeline/catalogs/{catalog['name']}")
        self.reply(catalog, 201)


class CatalogHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def get(self, name: str) -> None:
        self.reply(await asyncio.to_thread(self.catalogs.get, name))

    @web.authenticated
    @authorized
    async def put(self, name: str) -> None:
        body = self.json_body("CatalogInput")
        self.reply(await reading_sources(self.catalogs.save, body, name))

    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self.catalogs.delete, name)
        self.set_status(204)
        self.finish()


class CatalogRefreshHandler(PipelineHandler):
    @web.authenticated
    @authorized
    async def post(self, name: str) -> None:
        self.reply(await reading_sources(self.catalogs.refresh, name))


RUN_ID = r"(?P<run_id>[^/]+)"
ROUTES: list[tuple[str, type[PipelineHandler]]] = [
    ("pipeline/schedule", ScheduleHandler),
    ("pipeline/validate", ValidateHandler),
    ("pipeline/runtimes", RuntimesHandler),
    ("pipeline/schema", SchemaHandler),
    ("pipeline/migrate", MigrateHandler),
    ("pipeline/palette", PaletteHandler),
    ("pipeline/properties/nodes/(?P<op>[^/]+)", NodePropertiesHandler),
    ("pipeline/properties/pipeline", PipelinePropertiesHandler),
    ("pipeline/runtime-images", RuntimeImagesHandler),
    ("pipeline/openapi.json", OpenApiHandler),
    ("pipeline/runs", RunsHandler),
    (f"pipeline/runs/{RUN_ID}", RunHandler),
    (f"pipeline/runs/{RUN_ID}/cancel", CancelHandler),
    (f"pipeline/runs/{RUN_ID}/nodes/(?P<node_id>[^/]+)/(?P<name>[^/]+)", ArtifactHandler),
    ("pipeline/export", ExportHandler),
    ("pipeline/runtime-configs", RuntimeConfigsHandler),
    ("pipeline/runtime-configs/(?P<name>[^/]+)", RuntimeConfigHandler),
    ("pipeline/runtime-configs/(?P<name>[^/]+)/test", RuntimeConfigTestHandler),
    ("pipeline/catalogs", CatalogsHandler),
    ("pipeline/catalogs/(?P<name>[^/]+)", CatalogHandler),
    ("pipeline/catalogs/(?P<name>[^/]+)/refresh", CatalogRefreshHandler),
]
