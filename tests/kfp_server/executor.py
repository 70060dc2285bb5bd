"""Runs a compiled KFP v2 pipeline on this machine, standing in for Argo + the KFP driver/launcher in tests.

Each task of `root.dag` runs its executor's container `command` + `args` as a local process (the image is ignored),
in a fresh working directory, once the tasks it depends on have succeeded. Placeholders are resolved the way the KFP
driver resolves them, so a test sees the argv a real pod would get. Output artifacts are local files; each gets an
artifact id (as MLMD would give) and the metadata the task wrote to its executor output file. What it does not do:
nested DAGs (sub-pipelines, `dsl.ParallelFor`, `dsl.If`, exit handlers), importers, caching, retries, volumes,
resources, images.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

FINAL_STATES = frozenset({"SUCCEEDED", "FAILED", "SKIPPED", "CANCELED"})
# Env passed through from the test process: enough for a Python interpreter to start, nothing else (pods start
# from an image's env, not the submitter's).
PASSED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")

_PLACEHOLDER = re.compile(r"\{\{\$(?:\.[^{}]*)?\}\}")
_INPUT_PARAM = re.compile(r"""\{\{\$\.inputs\.parameters\[['"]([^'"]+)['"]\]\}\}""")
_INPUT_ARTIFACT = re.compile(r"""\{\{\$\.inputs\.artifacts\[['"]([^'"]+)['"]\]\.(path|uri)\}\}""")
_OUTPUT_PARAM = re.compile(r"""\{\{\$\.outputs\.parameters\[['"]([^'"]+)['"]\]\.output_file\}\}""")
_OUTPUT_ARTIFACT = re.compile(r"""\{\{\$\.outputs\.artifacts\[['"]([^'"]+)['"]\]\.(path|uri)\}\}""")
_POD_FIELD = re.compile(r"""metadata\.(labels|annotations)\[['"]([^'"]+)['"]\]""")
RUN_ID_LABEL = "pipeline/runid"  # the KFP API server puts it on every pod of a run
_artifact_ids = itertools.count(1)


def now() -> str:
    """RFC 3339 in UTC, as the API server writes timestamps."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TaskFailure(Exception):
    """A task cannot start or did not succeed; the message becomes the task's and the run's error."""


class Cluster(Protocol):
    """What the executor needs from the server: the emulated cluster's secrets and config maps, and limits."""

    secrets: dict[str, dict[str, str]]
    config_maps: dict[str, dict[str, str]]
    task_env: dict[str, str]
    task_timeout: float
    max_parallel_tasks: int
    start_delay: float
    workdir: Path
    shim_dir: Path
    lock: threading.RLock


@dataclass
class TaskRecord:
    """One executed (or skipped) task: its state for `run_details.task_details[]` and what tests assert on."""

    name: str
    task_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    state: str = "PENDING"
    create_time: str = field(default_factory=now)
    start_time: str | None = None
    end_time: str | None = None
    error: str | None = None
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # what the spec added: container env, secrets, config maps
    workdir: Path | None = None
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Path] = field(default_factory=dict)
    artifact_ids: dict[str, str] = field(default_factory=dict)  # output artifact name → id, as in run details
    artifact_metadata: dict[str, dict[str, Any]] = field(default_factory=dict)  # from the executor output file
    state_history: list[tuple[str, str]] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def set_state(self, state: str) -> None:
        self.state = state
        self.state_history.append((now(), state))

    @property
    def log(self) -> str:
        """stdout then stderr, like `kubectl logs` of a pod shows them (interleaving aside)."""
        return self.stdout + self.stderr


@dataclass
class RunRecord:
    """A run as the API server keeps it, plus the execution state of its tasks."""

    run_id: str
    display_name: str
    experiment_id: str
    namespace: str
    pipeline_spec: dict[str, Any]
    platform_spec: dict[str, Any] | None
    runtime_config: dict[str, Any]
    description: str = ""
    version_ref: dict[str, str] | None = None
    inline_spec: Any = None
    service_account: str = ""
    created_at: str = field(default_factory=now)
    scheduled_at: str = field(default_factory=now)
    finished_at: str | None = None
    state: str = "PENDING"
    state_history: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None
    tasks: dict[str, TaskRecord] = field(default_factory=dict)
    storage_state: str = "AVAILABLE"
    cancel: threading.Event = field(default_factory=threading.Event, repr=False)
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def set_state(self, state: str) -> None:
        self.state = state
        self.state_history.append((now(), state))


@dataclass
class _Plan:
    name: str
    spec: dict[str, Any]  # root.dag.tasks[name]
    component: dict[str, Any]
    container: dict[str, Any]
    executor_label: str
    deps: set[str]


def execute_run(run: RunRecord, cluster: Cluster) -> None:
    """Thread body: PENDING → RUNNING → SUCCEEDED/FAILED/CANCELED. Never raises."""
    try:
        _execute(run, cluster)
    except Exception as error:  # a bug here must show as a failed run, not a thread dying silently
        with cluster.lock:
            run.error = f"test server executor error: {type(error).__name__}: {error}"
            run.set_state("FAILED")
    finally:
        with cluster.lock:
            run.finished_at = run.finished_at or now()
        run.done.set()


def _execute(run: RunRecord, cluster: Cluster) -> None:
    cancelled = run.cancel.wait(cluster.start_delay) if cluster.start_delay > 0 else run.cancel.is_set()
    if cancelled:
        with cluster.lock:
            run.set_state("CANCELED")
        return
    with cluster.lock:
        run.set_state("RUNNING")
    try:
        plans = _plan(run)
        params = _pipeline_parameters(run)
    except TaskFailure as error:
        with cluster.lock:
            run.error = str(error)
            run.set_state("FAILED")
        return

    pending = set(plans)
    running: dict[concurrent.futures.Future[None], str] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, cluster.max_parallel_tasks)) as pool:
        while (pending or running) and not run.cancel.is_set():
            changed = True
            while changed:
                changed = False
                for name in sorted(pending):
                    states = [run.tasks[d].state if d in run.tasks else "PENDING" for d in plans[name].deps]
                    if any(s in ("FAILED", "SKIPPED", "CANCELED") for s in states):
                        with cluster.lock:
                            task = run.tasks[name] = TaskRecord(name)
                            task.set_state("SKIPPED")
                            task.end_time = now()
                        pending.discard(name)
                        changed = True
                    elif all(s == "SUCCEEDED" for s in states):
                        with cluster.lock:
                            run.tasks[name] = TaskRecord(name)
                            run.tasks[name].set_state("PENDING")
                        running[pool.submit(_run_task, run, plans[name], params, cluster)] = name
                        pending.discard(name)
            if not running:
                break  # nothing can start: remaining tasks wait on each other (a cycle), which the compiler forbids
            done, _ = concurrent.futures.wait(list(running), timeout=0.1,
                                              return_when=concurrent.futures.FIRST_COMPLETED)
            for future in done:
                running.pop(future)
        if run.cancel.is_set():
            kill_tasks(run)
            concurrent.futures.wait(list(running))
    with cluster.lock:
        for name in sorted(pending):
            task = run.tasks[name] = TaskRecord(name)
            task.set_state("SKIPPED")
        failed = [t for t in run.tasks.values() if t.state == "FAILED"]
        if run.cancel.is_set():
            run.set_state("CANCELED")
        elif failed:
            run.error = "; ".join(f"task {t.name!r} failed: {t.error}" for t in failed)
            run.set_state("FAILED")
        else:
            run.set_state("SUCCEEDED")


def kill_tasks(run: RunRecord) -> None:
    """Kill every running task's whole process group (shells and their children too)."""
    for task in list(run.tasks.values()):
        process = task.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)


def _plan(run: RunRecord) -> dict[str, _Plan]:
    spec = run.pipeline_spec
    tasks = ((spec.get("root") or {}).get("dag") or {}).get("tasks") or {}
    components = spec.get("components") or {}
    executors = (spec.get("deploymentSpec") or {}).get("executors") or {}
    plans: dict[str, _Plan] = {}
    for name, task in tasks.items():
        ref = (task.get("componentRef") or {}).get("name", "")
        component = components.get(ref)
        if component is None:
            raise TaskFailure(f"task {name!r}: component {ref!r} is not defined in the pipeline spec")
        if "dag" in component:
            raise TaskFailure(f"task {name!r}: nested DAGs (sub-pipelines, ParallelFor, If, ExitHandler) are not "
                              "supported by the KFP test server")
        if task.get("triggerPolicy") or task.get("iteratorPolicy") or task.get("parameterIterator"):
            raise TaskFailure(f"task {name!r}: trigger policies and iterators are not supported by the KFP test server")
        label = component.get("executorLabel", "")
        executor = executors.get(label) or {}
        if "container" not in executor:
            raise TaskFailure(f"task {name!r}: executor {label!r} is not a container (importers and resolvers are "
                              "not supported by the KFP test server)")
        deps = set(task.get("dependentTasks") or [])
        for kind in ("parameters", "artifacts"):
            for value in ((task.get("inputs") or {}).get(kind) or {}).values():
                producer = (value.get("taskOutputParameter") or value.get("taskOutputArtifact") or {})
                if producer.get("producerTask"):
                    deps.add(producer["producerTask"])
        unknown = deps - set(tasks)
        if unknown:
            raise TaskFailure(f"task {name!r} depends on unknown tasks {sorted(unknown)}")
        plans[name] = _Plan(name, task, component, executor["container"], label, deps)
    return plans


def _pipeline_parameters(run: RunRecord) -> dict[str, Any]:
    """The run's parameters over the pipeline's defaults; unknown or missing ones fail the run (the root driver)."""
    definitions = ((run.pipeline_spec.get("root") or {}).get("inputDefinitions") or {}).get("parameters") or {}
    given = dict((run.runtime_config or {}).get("parameters") or {})
    unknown = set(given) - set(definitions)
    if unknown:
        raise TaskFailure(f"the pipeline has no parameter(s) {sorted(unknown)}")
    values: dict[str, Any] = {}
    for name, definition in definitions.items():
        if name in given:
            values[name] = given[name]
        elif "defaultValue" in definition:
            values[name] = definition["defaultValue"]
        elif not definition.get("isOptional"):
            raise TaskFailure(f"required pipeline parameter {name!r} has no value")
    return values


def _render(value: Any, parameter_type: str = "") -> str:
    """A parameter value as it appears in argv: ints without '.0', bools and structures as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and parameter_type != "NUMBER_DOUBLE":
        return str(int(value))  # JSON has one number type: an int parameter arrives as 3.0 from YAML defaults
    return json.dumps(value)


def _typed(text: str, parameter_type: str) -> Any:
    """An output parameter file's text as the typed value downstream tasks receive."""
    if parameter_type in ("", "STRING"):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Context:
    """Everything placeholders of one task resolve against."""

    def __init__(self, run: RunRecord, plan: _Plan, params: dict[str, Any], task_dir: Path) -> None:
        self.run, self.plan, self.task_dir = run, plan, task_dir
        self.task_name = (plan.spec.get("taskInfo") or {}).get("name") or plan.name
        definitions = plan.component.get("inputDefinitions") or {}
        self.param_types = {k: v.get("parameterType", "") for k, v in (definitions.get("parameters") or {}).items()}
        self.parameters: dict[str, Any] = {}
        for name, definition in (definitions.get("parameters") or {}).items():
            if "defaultValue" in definition:
                self.parameters[name] = definition["defaultValue"]
        for name, source in ((plan.spec.get("inputs") or {}).get("parameters") or {}).items():
            self.parameters[name] = self._parameter(name, source, params)
        for name, value in self.parameters.items():  # YAML/JSON defaults of int parameters arrive as 3.0
            if self.param_types.get(name) == "NUMBER_INTEGER" and isinstance(value, float) and value.is_integer():
                self.parameters[name] = int(value)
        self.input_artifacts: dict[str, Path] = {}
        for name, source in ((plan.spec.get("inputs") or {}).get("artifacts") or {}).items():
            producer = source.get("taskOutputArtifact") or {}
            upstream = run.tasks.get(producer.get("producerTask", ""))
            if upstream is None or producer.get("outputArtifactKey") not in upstream.artifacts:
                raise TaskFailure(f"input artifact {name!r}: only outputs of upstream tasks are supported, got "
                                  f"{json.dumps(source)}")
            self.input_artifacts[name] = upstream.artifacts[producer["outputArtifactKey"]]
        outputs = plan.component.get("outputDefinitions") or {}
        self.output_types = {k: v.get("parameterType", "") for k, v in (outputs.get("parameters") or {}).items()}
        self.output_files = {k: task_dir / "outputs" / "parameters" / k for k in self.output_types}
        artifact_root = task_dir.parent.parent / "artifacts" / plan.name
        self.output_artifacts = {k: artifact_root / k for k in (outputs.get("artifacts") or {})}
        self.artifact_types = {**{k: v.get("artifactType", {}) for k, v in (outputs.get("artifacts") or {}).items()},
                               **{k: v.get("artifactType", {})
                                  for k, v in (definitions.get("artifacts") or {}).items()}}
        self.executor_output = task_dir / "outputs" / "executor_output.json"

    def _parameter(self, name: str, source: dict[str, Any], params: dict[str, Any]) -> Any:
        if "runtimeValue" in source:
            value = source["runtimeValue"].get("constant")
            return self.substitute(value) if isinstance(value, str) else value
        if "componentInputParameter" in source:
            key = source["componentInputParameter"]
            if key not in params:
                raise TaskFailure(f"input {name!r}: pipeline parameter {key!r} has no value")
            return params[key]
        if "taskOutputParameter" in source:
            producer = source["taskOutputParameter"]
            upstream = self.run.tasks.get(producer.get("producerTask", ""))
            key = producer.get("outputParameterKey", "")
            if upstream is None or key not in upstream.outputs:
                raise TaskFailure(f"input {name!r}: task {producer.get('producerTask')!r} produced no output {key!r}")
            return upstream.outputs[key]
        raise TaskFailure(f"input {name!r}: unsupported input source {json.dumps(source)} in the KFP test server")

    def present(self, name: str) -> bool:
        return name in self.parameters or name in self.input_artifacts

    def executor_input(self) -> str:
        """The `{{$}}` executor input JSON, as lightweight Python components read it (artifact URIs are paths)."""
        def artifact(name: str, path: Path) -> dict[str, Any]:
            return {"artifacts": [{"name": name, "type": self.artifact_types.get(name, {}), "uri": str(path),
                                   "metadata": {}}]}
        return json.dumps({
            "inputs": {"parameterValues": self.parameters,
                       "artifacts": {k: artifact(k, p) for k, p in self.input_artifacts.items()}},
            "outputs": {"parameters": {k: {"outputFile": str(p)} for k, p in self.output_files.items()},
                        "artifacts": {k: artifact(k, p) for k, p in self.output_artifacts.items()},
                        "outputFile": str(self.executor_output)},
        })

    def substitute(self, text: str) -> str:
        """Replace every `{{$...}}` placeholder in one string; an unknown one fails the task rather than leak."""
        def replace(match: re.Match[str]) -> str:
            token = match.group(0)
            simple = {
                "{{$}}": self.executor_input,
                "{{$.pipeline_job_name}}": lambda: self.run.display_name,
                "{{$.pipeline_job_resource_name}}": lambda: self.run.run_id,
                "{{$.pipeline_job_uuid}}": lambda: self.run.run_id,
                "{{$.pipeline_task_name}}": lambda: self.task_name,
                "{{$.pipeline_task_uuid}}": lambda: self.run.tasks[self.plan.name].task_id,
                "{{$.pipeline_root}}": lambda: str(self.task_dir.parent.parent / "artifacts"),
                "{{$.pipeline_job_create_time_utc}}": lambda: self.run.created_at,
                "{{$.pipeline_job_schedule_time_utc}}": lambda: self.run.scheduled_at,
                "{{$.outputs.output_file}}": lambda: str(self.executor_output),
            }
            if token in simple:
                return simple[token]()
            if m := _INPUT_PARAM.fullmatch(token):
                if m.group(1) not in self.parameters:
                    raise TaskFailure(f"placeholder {token}: input {m.group(1)!r} has no value")
                return _render(self.parameters[m.group(1)], self.param_types.get(m.group(1), ""))
            if m := _INPUT_ARTIFACT.fullmatch(token):
                if m.group(1) not in self.input_artifacts:
                    raise TaskFailure(f"placeholder {token}: no input artifact {m.group(1)!r}")
                return str(self.input_artifacts[m.group(1)])
            if m := _OUTPUT_PARAM.fullmatch(token):
                if m.group(1) not in self.output_files:
                    raise TaskFailure(f"placeholder {token}: no output parameter {m.group(1)!r}")
                return str(self.output_files[m.group(1)])
            if m := _OUTPUT_ARTIFACT.fullmatch(token):
                if m.group(1) not in self.output_artifacts:
                    raise TaskFailure(f"placeholder {token}: no output artifact {m.group(1)!r}")
                return str(self.output_artifacts[m.group(1)])
            raise TaskFailure(f"placeholder {token} is not supported by the KFP test server")

        return _PLACEHOLDER.sub(replace, text)

    def expand(self, item: Any) -> list[str]:
        """One command/args element → argv items: plain strings, `{"Concat": [...]}`, `{"IfPresent": {...}}`."""
        structured = _structured(item)
        if structured is None:
            return [self.substitute(str(item))]
        if "Concat" in structured:
            return ["".join("".join(self.expand(part)) for part in structured["Concat"])]
        if "IfPresent" in structured:
            branch = structured["IfPresent"]
            chosen = branch.get("Then") if self.present(branch.get("InputName", "")) else branch.get("Else")
            if chosen is None:
                return []
            chosen = chosen if isinstance(chosen, list) else [chosen]
            return [arg for part in chosen for arg in self.expand(part)]
        raise TaskFailure(f"structured placeholder {json.dumps(structured)} is not supported by the KFP test server")


def _structured(item: Any) -> dict[str, Any] | None:
    """`{"Concat": ...}`/`{"IfPresent": ...}` as kfp 2 compiles them: a JSON string in the IR, or already a dict."""
    if isinstance(item, dict):
        return item
    if isinstance(item, str) and item.startswith('{"') and ('"Concat"' in item or '"IfPresent"' in item):
        try:
            value = json.loads(item)
        except ValueError:
            return None
        if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("Concat", "IfPresent"):
            return value
    return None


def _kubernetes_config(run: RunRecord, label: str) -> dict[str, Any]:
    platform = ((run.platform_spec or {}).get("platforms") or {}).get("kubernetes") or {}
    return ((platform.get("deploymentSpec") or {}).get("executors") or {}).get(label) or {}


def _source_name(entry: dict[str, Any], plain: str, parameter: str, ctx: _Context,
                 params: dict[str, Any]) -> str:
    """A secret/config map name: literal, or from `...NameParameter` (a constant or a pipeline parameter)."""
    ref = entry.get(parameter) or {}
    if "runtimeValue" in ref:
        return str(ref["runtimeValue"].get("constant", ""))
    if "componentInputParameter" in ref:
        key = ref["componentInputParameter"]
        if key in ctx.parameters:
            return str(ctx.parameters[key])
        if key in params:
            return str(params[key])
        raise TaskFailure(f"{parameter}: pipeline parameter {key!r} has no value")
    return str(entry.get(plain, ""))


def _field_path_env(run: RunRecord, config: dict[str, Any]) -> dict[str, str]:
    """kfp-kubernetes `fieldPathAsEnv` on the pod's labels and annotations (`podMetadata`, and the `pipeline/runid`
    label), like the kubelet's `fieldRef` (a label the pod lacks gives an empty value)."""
    metadata = config.get("podMetadata") or {}
    labels = {**(metadata.get("labels") or {}), RUN_ID_LABEL: run.run_id}
    pod = {"labels": labels, "annotations": metadata.get("annotations") or {}}
    env: dict[str, str] = {}
    for entry in config.get("fieldPathAsEnv") or []:
        path = entry.get("fieldPath", "")
        match = _POD_FIELD.fullmatch(path)
        if match is None:
            raise TaskFailure(f"fieldPathAsEnv {path!r} is not supported by the KFP test server (only labels and "
                              "annotations)")
        env[entry.get("name", "")] = str(pod[match.group(1)].get(match.group(2), ""))
    return env


def _platform_env(run: RunRecord, plan: _Plan, ctx: _Context, params: dict[str, Any],
                  cluster: Cluster) -> dict[str, str]:
    """Env from kfp-kubernetes `secretAsEnv`/`configMapAsEnv`, read from the emulated cluster like the kubelet, and
    from `fieldPathAsEnv`."""
    config = _kubernetes_config(run, plan.executor_label)
    env: dict[str, str] = _field_path_env(run, config)
    for kind, store, key_field, entries in (
            ("secret", cluster.secrets, "secretKey", config.get("secretAsEnv") or []),
            ("configmap", cluster.config_maps, "configMapKey", config.get("configMapAsEnv") or [])):
        for entry in entries:
            camel = "secret" if kind == "secret" else "configMap"
            name = _source_name(entry, f"{camel}Name", f"{camel}NameParameter", ctx, params)
            data = store.get(name)
            if data is None:
                if entry.get("optional"):
                    continue
                where = "KfpTestServer.secrets" if kind == "secret" else "KfpTestServer.config_maps"
                raise TaskFailure(f'{kind} "{name}" not found (namespace {run.namespace or "kubeflow"!r}; '
                                  f"the test did not put it in {where})")
            for mapping in entry.get("keyToEnv") or []:
                key = mapping.get(key_field, "")
                if key not in data:
                    if entry.get("optional"):
                        continue
                    raise TaskFailure(f"couldn't find key {key} in {kind} {name!r}")
                env[mapping.get("envVar", "")] = str(data[key])
    return env


def _run_task(run: RunRecord, plan: _Plan, params: dict[str, Any], cluster: Cluster) -> None:
    task = run.tasks[plan.name]
    task_dir = cluster.workdir / run.run_id / "tasks" / plan.name
    with cluster.lock:
        task.start_time = now()
        task.set_state("RUNNING")
    try:
        if run.cancel.is_set():
            raise TaskFailure("run terminated")
        if task_dir.exists():
            shutil.rmtree(task_dir)
        (task_dir / "work").mkdir(parents=True)
        ctx = _Context(run, plan, params, task_dir)
        for path in [*ctx.output_files.values(), *ctx.output_artifacts.values(), ctx.executor_output]:
            path.parent.mkdir(parents=True, exist_ok=True)
        container = plan.container
        command = [arg for item in container.get("command") or [] for arg in ctx.expand(item)]
        args = [arg for item in container.get("args") or [] for arg in ctx.expand(item)]
        if not command:
            raise TaskFailure(f"executor {plan.executor_label!r} has no command; the test server cannot use an "
                              "image's entrypoint")
        spec_env = {e["name"]: ctx.substitute(str(e.get("value", ""))) for e in container.get("env") or []}
        spec_env.update(_platform_env(run, plan, ctx, params, cluster))
        env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
        env["PATH"] = os.pathsep.join([str(cluster.shim_dir), env.get("PATH", os.defpath)])
        env.update(cluster.task_env)
        env.update(spec_env)
        timeout = cluster.task_timeout
        deadline = _kubernetes_config(run, plan.executor_label).get("activeDeadlineSeconds")
        if deadline:
            timeout = min(timeout, float(deadline))
        with cluster.lock:
            task.argv, task.env, task.workdir = [*command, *args], spec_env, task_dir / "work"
            task.inputs = dict(ctx.parameters)
        try:
            process = subprocess.Popen(task.argv, cwd=task.workdir, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, start_new_session=True)
        except OSError as error:
            raise TaskFailure(f"cannot start {command[0]!r}: {error}") from error
        task.process = process
        if run.cancel.is_set():
            kill_tasks(run)
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            out, err = process.communicate()
            _finish(task, cluster, out, err, process.returncode)
            raise TaskFailure(f"exceeded its deadline of {timeout:g} s and was killed") from None
        _finish(task, cluster, out, err, process.returncode)
        if run.cancel.is_set():
            raise TaskFailure("run terminated")
        if process.returncode != 0:
            raise TaskFailure(f"command exited with code {process.returncode}: {_last_line(err)}")
        outputs = {}
        for name, path in ctx.output_files.items():
            if path.exists():
                outputs[name] = _typed(path.read_text(encoding="utf-8"), ctx.output_types[name])
        written: dict[str, Any] = {}
        if ctx.executor_output.exists():
            written = json.loads(ctx.executor_output.read_text(encoding="utf-8") or "{}")
            outputs.update(written.get("parameterValues") or {})
        metadata = {name: _artifact_metadata(written, name) for name in ctx.output_artifacts}
        missing = set(ctx.output_types) - set(outputs)
        if missing:
            raise TaskFailure(f"output parameter(s) {sorted(missing)} were not written")
        with cluster.lock:
            task.outputs, task.artifacts = outputs, dict(ctx.output_artifacts)
            task.artifact_ids = {name: str(next(_artifact_ids)) for name in ctx.output_artifacts}
            task.artifact_metadata = metadata
            task.end_time = now()
            task.set_state("SUCCEEDED")
    except TaskFailure as error:
        with cluster.lock:
            task.error = str(error)
            task.end_time = now()
            task.set_state("CANCELED" if run.cancel.is_set() else "FAILED")


def _artifact_metadata(executor_output: dict[str, Any], name: str) -> dict[str, Any]:
    """What a task's executor output says of its output artifact `name` (`artifacts.<name>.artifacts[0].metadata`),
    which the launcher records in MLMD and the KFP UI shows (metrics, for one)."""
    listed = ((executor_output.get("artifacts") or {}).get(name) or {}).get("artifacts") or [{}]
    return dict(listed[0].get("metadata") or {})


def _finish(task: TaskRecord, cluster: Cluster, out: bytes, err: bytes, returncode: int | None) -> None:
    with cluster.lock:
        task.stdout = out.decode("utf-8", "replace")
        task.stderr = err.decode("utf-8", "replace")
        task.returncode = returncode


def _last_line(text: bytes) -> str:
    lines = [line for line in text.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no stderr)"


def make_shim_dir(directory: Path) -> Path:
    """A PATH entry where `python3`/`python` run this interpreter, since task images (python:3.x) are ignored."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("python3", "python"):
        shim = directory / name
        shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
    return directory
