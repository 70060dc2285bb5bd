"""`elyra-proc`: run, validate and inspect pipelines from a terminal or a notebook, no server needed.

It assembles the same manager as the server, so runs started here show up in JupyterLab and the other way round.
In a file, node paths are relative to the pipeline file, as Elyra's CLI reads them.
Arguments are parsed before anything heavy is imported (traitlets, the manager, jsonschema: seconds on a busy
machine), so `--help` and usage errors answer at once; `_entry.main` turns every failure into one line.
"""

from __future__ import annotations

import argparse
import json
import os
import posixpath
import sys
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NoReturn

from .errors import BadRequestError, ConflictError, NotFoundError, UsageError
from .model import Severity  # dataclasses and an enum: cheap, unlike what is imported inside the commands

if TYPE_CHECKING:
    from traitlets.config import Config

    from .catalogs import ComponentCatalogs
    from .checker import Submission
    from .manager import ProcessorManager
    from .model import Issue
    from .store import NodeRecord, RunRecord, RunStore

SEVERITY_NAMES = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFORMATION: "info",
                  Severity.HINT: "hint"}
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
POLL_SECONDS = 2.0
CANCEL_WAIT_SECONDS = 60.0  # how long `cancel` waits for another `elyra-proc run` to record its run as ended
COUNT_MAXIMUM = 1_000_000
JSON_TYPES = {list: "array", str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
RESULT_FIELDS = ("run_url", "kfp_run_id", "experiment_name", "experiment_id", "pipeline_id", "pipeline_version_id",
                 "object_storage_url", "object_storage_path", "remote_status")


@cache
def _status_marks() -> dict[str, str]:
    from .processors.base import RunStatus

    return {RunStatus.RUNNING: "▶", RunStatus.SUCCEEDED: "✔", RunStatus.FAILED: "✘", RunStatus.SKIPPED: "-",
            RunStatus.CANCELLED: "■", RunStatus.INTERRUPTED: "■"}


def _server_config() -> Config:
    """The Jupyter server's own configuration files, so the CLI applies the same settings as the server."""
    import contextlib

    from jupyter_core.paths import jupyter_config_path
    from traitlets.config import Config
    from traitlets.config.loader import ConfigFileNotFound, JSONFileConfigLoader, PyFileConfigLoader

    config = Config()
    for directory in reversed(jupyter_config_path()):
        for loader in (JSONFileConfigLoader, PyFileConfigLoader):
            suffix = ".json" if loader is JSONFileConfigLoader else ".py"
            with contextlib.suppress(ConfigFileNotFound):
                config.merge(loader(f"jupyter_server_config{suffix}", path=directory).load_config())
    return config


def _manager(root: Path, parallel: int | None = None) -> ProcessorManager:
    from traitlets.config import LoggingConfigurable

    from .manager import create_manager, default_data_dir, default_runtime_configs_dir

    config = _server_config()
    if parallel:
        config.LocalProcessor.max_parallel_nodes = parallel
    settings = config.get("ElyraProcExt", {})
    return create_manager(root, Path(settings.get("data_dir") or default_data_dir()),
                          Path(settings.get("runtime_configs_dir") or default_runtime_configs_dir()),
                          parent=LoggingConfigurable(config=config),
                          catalogs_dir=Path(settings["catalogs_dir"]) if settings.get("catalogs_dir") else None)


def _pipeline_file(path: Path) -> Path:
    """The .pipeline file to read; a directory or a missing path gets its own message."""
    if path.is_dir():
        inside = sorted(child.name for child in path.glob("*.pipeline"))[:3]
        hint = f" (it holds {', '.join(inside)})" if inside else ""
        raise BadRequestError(f"{path} is a directory: give the .pipeline file inside it{hint}")
    if not path.exists():
        raise NotFoundError(f"{path}: no such file; give the path of a .pipeline file")
    if not path.is_file():
        raise BadRequestError(f"{path} is not a regular file; give the path of a .pipeline file")
    return path


def _workspace_root(pipeline_file: Path, root: Path | None, document: Any) -> Path:
    """The given root; else the current directory when it holds the pipeline and every file its nodes reference;
    else the deepest directory that holds them all (said on stderr), so `pipelines/flow.pipeline` may use
    `../notebooks/x.ipynb`, as Elyra's CLI allows, from wherever it is run."""
    if root is not None:
        if not root.is_dir():
            problem = "is not a directory" if root.exists() else "does not exist"
            raise BadRequestError(f"--root {root} {problem}; give the workspace directory that holds the pipeline")
        return root.resolve()
    pipeline_dir = pipeline_file.resolve().parent
    references = _references(document, pipeline_dir)
    cwd = Path.cwd().resolve()
    if all(place.is_relative_to(cwd) for place in [pipeline_dir, *(where for _, _, where in references)]):
        return cwd
    common = pipeline_dir
    for node_name, written, where in references:
        common = Path(os.path.commonpath([common, where]))
        if common != pipeline_dir and not _sensible_root(common):  # the pipeline's own folder always will do
            raise BadRequestError(f"node '{node_name}' references '{written}', which is {where}: no sensible "
                                  f"workspace root holds both it and {pipeline_file} (only {common} would); give the "
                                  "path relative to the pipeline file inside its project, or pass --root DIR")
    print(f"elyra-proc: workspace root {common} (it holds {pipeline_file} and the files its nodes reference; --root "
          "pins another)", file=sys.stderr, flush=True)
    return common


def _references(document: Any, pipeline_dir: Path) -> list[tuple[str, str, Path]]:
    """(node name, path as written, where it is) of each node's file and dependency, as a run resolves them (files
    from the pipeline file's folder, dependencies from the node file's; a pattern by its folder), lexically: a
    missing file still counts, for the checks to report it. Empty for a document that does not parse."""
    from .parsing import parse

    pipeline = parse(document, source="the.pipeline").pipeline if document is not None else None
    references = []
    for node in pipeline.nodes.values() if pipeline else ():
        if not node.filename:
            continue
        references.append((node.name, node.filename, Path(os.path.normpath(pipeline_dir / node.filename))))
        for dependency in node.dependencies:
            fixed = dependency.split("*")[0].split("?")[0].split("[")[0]  # the part before any pattern
            relative = posixpath.join(posixpath.dirname(node.filename),
                                      fixed if fixed == dependency else posixpath.dirname(fixed))
            references.append((node.name, dependency, Path(os.path.normpath(pipeline_dir / relative))))
    return references


def _sensible_root(path: Path) -> bool:
    """Neither the file system's root nor a folder above the home directory (/home): a workspace of one's own."""
    home = Path.home().resolve()
    return path != Path(path.anchor) and (path == home or not home.is_relative_to(path))


def _load(args: argparse.Namespace) -> tuple[ProcessorManager, Submission]:
    from .checker import Submission
    from .parsing import decode

    path = _pipeline_file(args.pipeline)
    document, issues = decode(path.read_bytes())
    root = _workspace_root(path, args.root, None if issues else document)
    if not path.resolve().is_relative_to(root):
        raise BadRequestError(f"{path} is outside the workspace root {root}; pass --root")
    parameters = dict(_pair("--param", text) for text in getattr(args, "param", None) or [])
    manager = _manager(root, getattr(args, "parallel", None))
    if issues:
        return manager, Submission(None, issues)
    experiment = getattr(args, "experiment", None)
    submission = manager.check(document, source=path.resolve().relative_to(root).as_posix(),
                               runtime=getattr(args, "runtime", None),
                               runtime_config=getattr(args, "runtime_config", None), parameters=parameters,
                               options={"experiment": experiment} if experiment else None)
    return manager, submission


def _pair(option: str, text: str, form: str = "NAME=VALUE") -> tuple[str, str]:
    """`NAME=VALUE` of a repeatable option, split at the first '='."""
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise BadRequestError(f"{option} takes {form}, got {text!r}")
    return name, value


def _print_issues(issues: Sequence[Issue], stream: IO[str]) -> None:
    for issue in issues:
        where = f" [node {issue.node_name or issue.node_id}]" if issue.node_id else ""
        field = f" ({issue.property_name})" if issue.property_name else ""
        print(f"  {SEVERITY_NAMES[issue.severity]}: {issue.type}{where}{field}: {issue.message}", file=stream)


def _refuse(args: argparse.Namespace, submission: Submission, not_done: str) -> int:
    """An invalid pipeline: the JSON answer on stdout, or the whole report (header and issues) on stderr."""
    if args.json:
        _emit({"status": "invalid", "issues": [issue.to_json() for issue in submission.issues]})
    else:
        print(f"{args.pipeline}: not {not_done}, the pipeline has errors:", file=sys.stderr)
        _print_issues(submission.issues, sys.stderr)
    return EXIT_FAILED


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def cmd_validate(args: argparse.Namespace) -> int:
    _, submission = _load(args)
    if args.json:
        _emit({"valid": submission.accepted, "issues": [issue.to_json() for issue in submission.issues]})
    else:
        print(f"{args.pipeline}: {'valid' if submission.accepted else 'INVALID'}")
        _print_issues(submission.issues, sys.stdout)
    return EXIT_OK if submission.accepted else EXIT_FAILED


def cmd_run(args: argparse.Namespace) -> int:
    import asyncio

    from .processors.base import RunStatus

    manager, submission = _load(args)
    if not submission.accepted:
        return _refuse(args, submission, "run")
    follow = args.command == "run" or args.wait
    try:
        record = asyncio.run(_run(manager, submission, quiet=args.json, follow=follow))
    except KeyboardInterrupt:
        raise KeyboardInterrupt("the run was cancelled") from None
    if args.json:
        _emit(record.to_json())
    else:
        duration = f" in {record.duration:.1f} s" if record.duration is not None else ""
        print(f"Run {record.id} {record.status}{duration}.")
        for key in RESULT_FIELDS:
            if record.result.get(key):
                print(f"  {key}: {record.result[key]}")
        if record.error:
            print(f"  error: {record.error}")
        for node in record.nodes:
            if node.artifacts:
                print(f"  {node.name}:")
                _print_artifacts(node)
    done = RunStatus.SUCCEEDED if follow else RunStatus.SUBMITTED
    return EXIT_OK if record.status == done else EXIT_FAILED


def cmd_export(args: argparse.Namespace) -> int:
    import asyncio

    from .manager import check_export_target

    output = (args.output or _pipeline_file(args.pipeline).with_suffix(".yaml")).resolve()
    try:
        check_export_target(output, args.overwrite)  # before the checks: a wrong target is known at once
    except ConflictError as error:
        raise ConflictError(f"{error} Pass --overwrite to replace it.") from None
    manager, submission = _load(args)
    if not submission.accepted:
        return _refuse(args, submission, "exported")
    details = asyncio.run(_export(manager, submission, output, args.overwrite))
    if args.json:
        _emit({"export_path": str(output), **details})
    else:
        print(f"Exported {args.pipeline} to {output} ({details.get('tasks')} tasks); dependencies staged at "
              f"{details.get('object_storage_url')}{details.get('object_storage_path')}.")
    return EXIT_OK


async def _export(manager: ProcessorManager, submission: Submission, output: Path, overwrite: bool) -> dict:
    try:
        return await manager.export(submission, output, overwrite)
    finally:
        await manager.shutdown()


class _Progress:
    """A run's progress on stdout. When stdout's reader goes away (`elyra-proc run p | head -1`), printing stops
    and the run is cancelled, as SIGPIPE stops other tools; `_run` then ends in BrokenPipeError, a quiet exit."""

    def __init__(self, quiet: bool) -> None:
        import asyncio

        self.quiet, self.reader_gone = quiet, False
        self.task, self.loop = asyncio.current_task(), asyncio.get_running_loop()

    def show(self, record: RunRecord, node: NodeRecord | None) -> None:
        """A manager listener: one line per change of the run or a node."""
        self._print(_show_change, record, node)

    def say(self, text: str) -> None:
        self._print(print, text, flush=True)

    def _print(self, printer: Any, *args: Any, **kwargs: Any) -> None:
        if self.quiet or self.reader_gone:
            return
        try:
            printer(*args, **kwargs)
        except BrokenPipeError:
            self.reader_gone = True
            if self.task is not None:
                self.loop.call_soon_threadsafe(self.task.cancel)


async def _run(manager: ProcessorManager, submission: Submission, quiet: bool, follow: bool = True) -> RunRecord:
    """Submit and report each change; a remote run is then followed until it ends when `follow` is set.

    Ctrl-C cancels the task running this (asyncio.run does), and so the run, before the process exits."""
    import asyncio

    from .processors.base import RunStatus

    progress = _Progress(quiet)
    manager.listeners.append(progress.show)
    record = await manager.submit(submission)
    try:
        progress.say(f"Run {record.id}: {record.name} on {record.runtime}, {len(record.nodes)} node(s)")
        record = await manager.wait(record.id)
        shown = {node.id: node.status for node in record.nodes}
        while follow and record.status == RunStatus.SUBMITTED:
            await asyncio.sleep(POLL_SECONDS)
            record = await manager.get(record.id)
            for node in record.nodes:
                if shown.get(node.id) != node.status:
                    progress.show(record, node)
                shown[node.id] = node.status
        return record
    except asyncio.CancelledError:
        await manager.cancel(record.id)
        if progress.reader_gone:
            raise BrokenPipeError("stdout was closed: the run was cancelled") from None
        raise
    finally:
        await manager.shutdown()


def _show_change(record: RunRecord, node: NodeRecord | None) -> None:
    from .processors.base import RunStatus

    if node is None:
        if record.progress:
            print(f"  … {record.progress}", flush=True)
        return
    if node.status not in _status_marks():
        return
    took = f" ({node.finished - node.started:.2f} s)" if node.finished and node.started else ""
    print(f"  {_status_marks()[node.status]} {node.name}: {node.status}{took}", flush=True)
    if node.error and node.status == RunStatus.FAILED:
        print(f"      {node.error}", flush=True)


def _format_time(stamp: float | None) -> str:
    return datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M:%S") if stamp else "-"


def cmd_runs(args: argparse.Namespace) -> int:
    records = _manager(Path.cwd()).store.list(limit=args.limit)
    if args.json:
        _emit([record.to_json() for record in records])
        return EXIT_OK
    for record in records:
        duration = f"{record.duration:.1f}s" if record.duration is not None else "-"
        print(f"{record.id}  {_format_time(record.submitted)}  {record.status:<11} {duration:>8}  "
              f"{record.runtime:<8} {record.name}")
    if not records:
        print("No runs yet.")
    return EXIT_OK


def _print_artifacts(node: NodeRecord) -> None:
    """Where the node's files are (its executed notebook, its log): local paths, for a local run."""
    for name, path in node.artifacts.items():
        print(f"      {name}: {path}")


def _run_id(store: RunStore, given: str) -> str:
    """The run id `given` is, or the only one it begins; naming none or several is a usage error (exit 2)."""
    from .store import PREFIX_CANDIDATES

    if not given.strip():
        raise UsageError("give a run id (or its first characters), as `elyra-proc runs` lists them")
    candidates = store.ids_starting_with(given)
    if given in candidates or len(candidates) == 1:
        return given if given in candidates else candidates[0]
    if not candidates:
        raise UsageError(f"no run id begins with {given!r}; `elyra-proc runs` lists the recent ones")
    more = ", ..." if len(candidates) > PREFIX_CANDIDATES else ""
    raise UsageError(f"run id prefix {given!r} is ambiguous: it begins {', '.join(candidates[:PREFIX_CANDIDATES])}"
                     f"{more}; give more of the id")


def cmd_status(args: argparse.Namespace) -> int:
    store = _manager(Path.cwd()).store
    record = store.get(_run_id(store, args.run_id))
    assert record is not None  # runs are never deleted
    if args.json:
        _emit(record.to_json())
        return EXIT_OK
    print(f"Run {record.id}: {record.name} on {record.runtime}: {record.status}")
    print(f"  submitted {_format_time(record.submitted)}, started {_format_time(record.started)}, "
          f"finished {_format_time(record.finished)}")
    if record.error:
        print(f"  error: {record.error}")
    for node in record.nodes:
        print(f"  {_status_marks().get(node.status, '·')} {node.name}: {node.status}")
        _print_artifacts(node)
    for key, value in record.result.items():
        print(f"  {key}: {value}")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    """Cancel a run: one handed to a remote runtime is stopped there; one running here is stopped by the process
    running it (an `elyra-proc run` gets Ctrl-C's signal; a Jupyter server is asked to through its own API)."""
    import asyncio

    from .processors.base import RunStatus

    manager = _manager(Path.cwd())
    record = manager.store.get(_run_id(manager.store, args.run_id))
    assert record is not None  # runs are never deleted
    if record.status in (RunStatus.PENDING, RunStatus.RUNNING):
        record = _interrupt_owner(manager, record)
    elif record.status == RunStatus.SUBMITTED:
        record = asyncio.run(_cancel(manager, record.id))
    elif not args.json:
        print(f"Run {record.id} had already ended: {record.status}.")
        return EXIT_OK
    if args.json:
        _emit(record.to_json())
    else:
        print(f"Run {record.id}: {record.status}" + (f" ({record.progress})" if record.progress else "") + ".")
    return EXIT_OK


async def _cancel(manager: ProcessorManager, run_id: str) -> RunRecord:
    try:
        return await manager.cancel(run_id)
    finally:
        await manager.shutdown()


def _interrupt_owner(manager: ProcessorManager, record: RunRecord) -> RunRecord:
    """Stop a run going on in another `elyra-proc run` as Ctrl-C in its terminal would, and wait until it is
    recorded as ended; a run in a Jupyter server is cancelled through the server, which holds its nodes."""
    import signal
    import time

    from .processors.base import RunStatus

    if not _is_cli_run(record.owner_pid):
        raise ConflictError(f"run {record.id} is running in process {record.owner_pid}, not an `elyra-proc run`: "
                            "cancel it where it runs (JupyterLab's Runs panel, or POST "
                            f"{{base_url}}pipeline/runs/{record.id}/cancel on its server)")
    os.kill(record.owner_pid, signal.SIGINT)
    deadline = time.monotonic() + CANCEL_WAIT_SECONDS
    while time.monotonic() < deadline:
        current = manager.store.get(record.id)
        if current is not None and current.status in RunStatus.FINAL:
            return current
        time.sleep(0.1)
    raise ConflictError(f"run {record.id} was asked to stop (SIGINT to process {record.owner_pid}) but is still "
                        f"recorded as {record.status} after {CANCEL_WAIT_SECONDS:.0f} s")


def _is_cli_run(pid: int) -> bool:
    """Whether the process is `elyra-proc run`/`submit` (the console script or `python -m elyra_proc_ext.cli`)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    for position, arg in enumerate(argv):
        if posixpath.basename(arg) == "elyra-proc" or arg == "elyra_proc_ext.cli":
            return any(command in argv[position + 1:] for command in ("run", "submit"))
    return False


def cmd_runtimes(args: argparse.Namespace) -> int:
    manager = _manager(Path.cwd())
    runtimes = [processor.describe() for processor in manager.registry.processors.values()]
    if args.json:
        _emit({"runtimes": runtimes, "runtime_configs": manager.configs.names()})
        return EXIT_OK
    for runtime in runtimes:
        print(f"{runtime['name']:<10} {runtime['display_name']} ({runtime['runtime_type']})")
    for name in manager.configs.names():
        print(f"  configuration: {name}")
    return EXIT_OK


def _assignments(pairs: Sequence[str], from_env: Sequence[str]) -> dict[str, Any]:
    """`key=value` (JSON values where they parse: numbers, true/false) and `key=ENV_VAR` for secrets."""
    values: dict[str, Any] = {}
    for key, text in (_pair("--set", pair, "KEY=VALUE") for pair in pairs):
        try:
            values[key] = json.loads(text)
        except ValueError:
            values[key] = text
    for key, variable in (_pair("--set-from-env", pair, "KEY=ENV_VAR") for pair in from_env):
        if variable not in os.environ:
            raise BadRequestError(f"--set-from-env {key}={variable}: environment variable {variable} is not set; "
                                  f"export it first")
        values[key] = os.environ[variable]
    return values


def _config_file(path: Path) -> dict[str, Any]:
    """An Elyra runtime configuration file: a JSON object whose `metadata`, if any, is an object."""
    if path.is_dir():
        raise BadRequestError(f"--from-file {path} is a directory: give the configuration's .json file")
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(f"--from-file {path}: no such file") from None
    except UnicodeDecodeError as error:
        raise BadRequestError(f"--from-file {path} is not UTF-8 text (byte {error.start}): give a JSON file") from None
    except json.JSONDecodeError as error:
        raise BadRequestError(f"--from-file {path} is not JSON: {error.msg} at line {error.lineno}, column "
                              f"{error.colno}") from None
    except (ValueError, RecursionError):  # numbers too long to convert, nesting too deep
        raise BadRequestError(f"--from-file {path} cannot be read as a runtime configuration") from None
    if not isinstance(body, dict):
        raise BadRequestError(f"--from-file {path} holds a JSON {JSON_TYPES.get(type(body), 'value')}, not an "
                              "object with display_name, schema_name and metadata")
    if not isinstance(body.setdefault("metadata", {}), dict):
        raise BadRequestError(f"--from-file {path}: metadata must be an object of the configuration's fields")
    return body


def cmd_config(args: argparse.Namespace) -> int:
    manager = _manager(Path.cwd())
    if args.action == "list":
        configs = [config.to_json() for config in manager.runtime_configs()]
        if args.json:
            _emit(configs)
        for config in [] if args.json else configs:
            print(f"{config['name']:<20} {config['schema_name']:<8} {config['display_name']}")
        return EXIT_OK
    if args.action == "delete":
        manager.configs.delete(args.name)
        print(f"Deleted runtime configuration '{args.name}'.")
        return EXIT_OK
    if args.action in ("create", "update"):
        body: dict[str, Any] = _config_file(args.from_file) if args.from_file else {"metadata": {}}
        body["metadata"].update(_assignments(args.set or [], args.set_from_env or []))
        body.update({key: value for key, value in (("schema_name", args.schema),
                                                   ("display_name", args.display_name)) if value})
        if args.action == "create":
            body.setdefault("display_name", args.name)
            body["name"] = args.name
            config = manager.save_runtime_config(body)
        else:
            previous = manager.configs.load(args.name)
            body["metadata"] = {**previous.metadata, **body["metadata"]}
            config = manager.save_runtime_config(body, args.name)
    else:
        config = manager.configs.load(args.name)
    shown = config.to_json()
    if args.json:
        _emit(shown)
    else:
        print(f"{shown['name']} ({shown['schema_name']}): {shown['display_name']}")
        for key, value in sorted(shown["metadata"].items()):
            print(f"  {key}: {value}")
    return EXIT_OK


def _catalogs() -> ComponentCatalogs:
    """The server's component catalogs and their cache, as its configuration places them."""
    from .catalogs import ComponentCatalogs, ReadLimits, default_catalogs_dir
    from .manager import default_data_dir

    settings = _server_config().get("ElyraProcExt", {})
    return ComponentCatalogs(Path(settings.get("catalogs_dir") or default_catalogs_dir()),
                             Path(settings.get("data_dir") or default_data_dir()),
                             ReadLimits(float(settings.get("catalog_read_timeout") or ReadLimits.seconds)))


def _catalog_body(args: argparse.Namespace) -> dict[str, Any]:
    """The catalog fields given as options; metadata fields only where an option was given."""
    metadata = _assignments(args.set or [], args.set_from_env or [])
    given = {"paths": args.path, "base_path": args.base_path, "categories": args.category,
             "description": args.description, "include_subdirs": True if args.include_subdirs else None}
    metadata.update({key: value for key, value in given.items() if value is not None})
    body: dict[str, Any] = {"metadata": metadata}
    body.update({key: value for key, value in (("schema_name", args.type), ("display_name", args.display_name))
                 if value})
    return body


def _show_catalog(shown: dict[str, Any]) -> None:
    print(f"{shown['name']} ({shown['schema_name']}): {shown['display_name']}")
    for key, value in sorted(shown["metadata"].items()):
        print(f"  {key}: {value}")
    for component in shown.get("components", []):
        print(f"  component {component['op']}  {component['name']}  ({component['source']})")


def cmd_catalog(args: argparse.Namespace) -> int:
    catalogs = _catalogs()
    if args.action == "list":
        listed = catalogs.list()
        if args.json:
            _emit({"catalogs": listed, "catalog_types": [kind["schema_name"] for kind in catalogs.types()]})
        for catalog in [] if args.json else listed:
            problems = f", {len(catalog['errors'])} unreadable" if catalog["errors"] else ""
            print(f"{catalog['name']:<20} {catalog['schema_name']:<26} {catalog['component_count']:>3} components"
                  f"{problems}  {catalog['display_name']}")
        return EXIT_OK
    if args.action == "remove":
        catalogs.delete(args.name)
        print(f"Removed component catalog '{args.name}'.")
        return EXIT_OK
    if args.action == "add":
        shown = [catalogs.save({"name": args.name, "display_name": args.name, **_catalog_body(args)})]
    elif args.action == "update":
        body = _catalog_body(args)
        body["metadata"] = {**catalogs.store.load(args.name).metadata, **body["metadata"]}
        shown = [catalogs.save(body, args.name)]
    elif args.action == "refresh":
        shown = [catalogs.refresh(name) for name in ([args.name] if args.name else catalogs.store.names())]
    else:
        shown = [catalogs.get(args.name)]
    if args.json:
        _emit(shown if args.action == "refresh" and not args.name else shown[0])
    for catalog in shown:
        if not args.json:
            _show_catalog(catalog)
        for error in catalog["errors"]:
            print(f"elyra-proc: {catalog['name']}: {error}", file=sys.stderr)
    return EXIT_FAILED if args.action != "show" and any(catalog["errors"] for catalog in shown) else EXIT_OK


def positive_count(text: str) -> int:
    """argparse type of a count: a whole number from 1 to COUNT_MAXIMUM."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= COUNT_MAXIMUM:
        raise argparse.ArgumentTypeError(f"must be from 1 to {COUNT_MAXIMUM}, got {value}")
    return value


class _Parser(argparse.ArgumentParser):
    """Usage errors in one line on stderr, pointing at `--help`, exit 2 (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="elyra-proc", description="Run and check Elyra pipelines (.pipeline files) locally or on "
                     "a configured runtime, without a Jupyter server. Results go to stdout, errors to stderr; the "
                     "exit status is 0 on success, 1 on failure, 2 on a usage error, 130 when interrupted.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, handler: Any, pipeline: bool = False) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if pipeline:
            sub.add_argument("pipeline", type=Path, help="the .pipeline file")
            sub.add_argument("--root", type=Path, help="workspace root that node files must stay inside "
                             "(default: the current directory if it holds the pipeline and every file its nodes "
                             "reference, else the deepest directory that does)")
        sub.add_argument("--json", action="store_true", help="machine-readable output")
        sub.set_defaults(handler=handler)
        return sub

    run = command("run", "Run a pipeline on this machine, showing each node's progress; exit 1 if it fails. "
                  "Ctrl-C cancels the run.", cmd_run, pipeline=True)
    run.add_argument("--param", action="append", metavar="NAME=VALUE", help="pipeline parameter value "
                     "(repeatable); nodes receive parameters they use as environment variables")
    run.add_argument("--parallel", type=positive_count, metavar="N",
                     help="run at most N nodes at once (default: usable CPUs)")
    run.set_defaults(runtime="local")
    submit = command("submit", "Submit a pipeline to a runtime configuration (Kubeflow Pipelines), showing each step; "
                     "with --wait, follow the run until it ends (Ctrl-C then cancels it).", cmd_run, pipeline=True)
    submit.add_argument("--runtime-config", metavar="NAME", required=True, help="the runtime configuration to use")
    submit.add_argument("--experiment", metavar="NAME", help="experiment to run in (default: the pipeline's name)")
    submit.add_argument("--param", action="append", metavar="NAME=VALUE", help="pipeline parameter value")
    submit.add_argument("--wait", action="store_true", help="follow the run until it ends; exit 1 unless it succeeds")
    submit.set_defaults(runtime=None)
    export = command("export", "Compile a pipeline for a runtime configuration (Kubeflow Pipelines YAML), staging its "
                     "dependencies to object storage.", cmd_export, pipeline=True)
    export.add_argument("--runtime-config", metavar="NAME", required=True, help="the runtime configuration to use")
    export.add_argument("--output", type=Path, metavar="FILE",
                        help="the file to write (default: the pipeline file with .yaml)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing file")
    export.set_defaults(runtime=None)
    validate = command("validate", "Check a pipeline and print its issues; exit 1 if any is an error.",
                       cmd_validate, pipeline=True)
    validate.add_argument("--runtime-config", metavar="NAME", help="check against this runtime configuration")
    validate.add_argument("--runtime", metavar="NAME", help="check against this runtime (default: local)")
    runs = command("runs", "List recent runs, newest first.", cmd_runs)
    runs.add_argument("--limit", type=positive_count, default=20, metavar="N", help="how many (default 20)")
    status = command("status", "Show one run with each node's state and artifacts.", cmd_status)
    status.add_argument("run_id", help="the run's id, or its first characters, as `elyra-proc runs` lists it")
    cancel = command("cancel", "Cancel a run in progress: one of another `elyra-proc run` (as Ctrl-C would) or one "
                     "handed to a remote runtime.", cmd_cancel)
    cancel.add_argument("run_id", help="the run's id, or its first characters")
    command("runtimes", "List the runtimes and runtime configurations available.", cmd_runtimes)
    config = command("config", "Create, list, show, update or delete runtime configurations (Elyra's format and "
                     "place; secrets are never shown).", cmd_config)
    config.add_argument("action", choices=("list", "show", "create", "update", "delete"))
    config.add_argument("name", nargs="?", help="configuration name (all actions but list)")
    config.add_argument("--schema", metavar="RUNTIME", help="runtime of a new configuration, e.g. kfp")
    config.add_argument("--display-name", metavar="TEXT")
    config.add_argument("--set", action="append", metavar="KEY=VALUE", help="a metadata field, e.g. "
                        "api_endpoint=https://kf.example.com/pipeline (repeatable)")
    config.add_argument("--set-from-env", action="append", metavar="KEY=ENV_VAR", help="a secret field from an "
                        "environment variable, so it stays out of shell history, e.g. api_password=KF_PASSWORD")
    config.add_argument("--from-file", type=Path, metavar="FILE", help="start from an Elyra configuration file "
                        "(a JSON object with display_name, schema_name and metadata)")
    catalog = command("catalog", "List, show, add, update, remove or refresh component catalogs (Elyra's format and "
                      "place); add, update and refresh read the catalog's sources and exit 1 when an entry cannot be "
                      "read.", cmd_catalog)
    catalog.add_argument("action", choices=("list", "show", "add", "update", "remove", "refresh"))
    catalog.add_argument("name", nargs="?", help="catalog name (all actions but list; refresh without one: all)")
    catalog.add_argument("--type", metavar="TYPE", help="catalog type of a new catalog: local-file-catalog, "
                         "local-directory-catalog, url-catalog, elyra-kfp-examples-catalog or a plugged-in type")
    catalog.add_argument("--display-name", metavar="TEXT")
    catalog.add_argument("--description", metavar="TEXT")
    catalog.add_argument("--path", action="append", metavar="PATH", help="a component file, directory or URL, by "
                         "type (repeatable; replaces the stored list)")
    catalog.add_argument("--base-path", metavar="DIR", help="the directory a local-file-catalog's paths are "
                         "relative to")
    catalog.add_argument("--include-subdirs", action="store_true", help="a local-directory-catalog also reads "
                         "subdirectories")
    catalog.add_argument("--category", action="append", metavar="NAME", help="palette category (repeatable)")
    catalog.add_argument("--set", action="append", metavar="KEY=VALUE", help="another metadata field, e.g. "
                         "auth_id=reader or verify_tls=false (repeatable)")
    catalog.add_argument("--set-from-env", action="append", metavar="KEY=ENV_VAR", help="a secret field from an "
                         "environment variable, e.g. auth_password=CATALOG_TOKEN")
    return parser


def run_command(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments and run the command; errors propagate to `_entry.main`, which reports them."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "config" and args.action != "list" and not args.name:
        parser.error(f"config {args.action} needs a configuration name")
    if args.command == "catalog" and args.action not in ("list", "refresh") and not args.name:
        parser.error(f"catalog {args.action} needs a catalog name")
    return args.handler(args)


if __name__ == "__main__":
    from ._entry import main

    sys.exit(main())
