"""Validated `Pipeline` in, KFP v2 pipeline spec (IR) out, in-process with the kfp SDK.

A pure transformation: no network, no files. Every generic node is a task of one component, the bootstrapper
(embedded as Python source, so nothing is downloaded when the pipeline runs), with the node's file, archive,
outputs, inputs and environment as its arguments. The kfp compiler emits a component and an executor per task;
identical ones are folded back together afterwards. Per-task settings (image, resources, Kubernetes, caching) are
each node property's own mapping, declared in the property table (`properties`); they go straight onto the task's
container spec or its executor's Kubernetes config: the SDK's setters walk the Python call stack on every call,
which is where Elyra's export spends most of its time.

As in Elyra, every pod carries `elyra/...` labels and annotations naming its node, so each generic node keeps an
executor of its own; their equal parts (the command above all) are shared objects, which the YAML writer emits
once and refers to (`&id001` / `*id001`), so the bootstrapper still appears once in the file. ELYRA_RUN_NAME is the
KFP run id, read from the `pipeline/runid` label KFP's API server puts on every pod of a run (as a task input it
would change every run's cache key, and no node would ever be taken from the cache).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import posixpath
import re
import string
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from ..model import Node, Pipeline
from ..names import safe_name
from ..properties import PLATFORM_SETTINGS, SPEC_SETTINGS, TASK_SETTINGS, pod_metadata

PARAMETER_TYPES: dict[str, tuple[type, str]] = {
    "String": (str, "String"), "Integer": (int, "Integer"), "Float": (float, "Float"), "Bool": (bool, "Boolean")}
CREDENTIAL_INPUTS = ("cos_access_key", "cos_secret_key")
COMPONENT_NAME = "run-generic-node"
SOURCE_MARKER = "<bootstrapper source>"
KFP_OUTPUTS = {"ui-metadata": ("mlpipeline_ui_metadata", "Artifact"), "metrics": ("mlpipeline_metrics", "Metrics")}
RUN_ID_ENV = {"name": "ELYRA_RUN_NAME", "fieldPath": "metadata.labels['pipeline/runid']"}
LABEL_VALUE_LIMIT = 63


@dataclass(frozen=True)
class StagingPlan:
    """Where a run's archives and outputs live, and how the bootstrapper gets object storage credentials:
    `secret` (a Kubernetes secret, `secret_name`), `arguments` (run parameters, never in the spec) or
    `ambient` (the pod's own identity: IAM roles for service accounts, through STS with its web identity token)."""

    endpoint: str
    bucket: str
    prefix: str
    credentials: str = "secret"
    secret_name: str | None = None


@dataclass(frozen=True)
class RunNames:
    """The KFP pipeline version and experiment a submission goes to, for Elyra's pod labels (empty on export, as
    in Elyra: an exported file is not bound to either)."""

    version: str = ""
    experiment: str = ""


@dataclass
class CompiledPipeline:
    """The IR documents, and per node id its task name and its (unique) display name in the KFP UI."""

    spec: dict[str, Any]
    platform: dict[str, Any] | None
    task_names: dict[str, str]
    display_names: dict[str, str]

    def to_yaml(self) -> str:
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        documents = [self.spec] + ([self.platform] if self.platform else [])
        return yaml.dump_all(documents, Dumper=dumper, sort_keys=True)


def archive_name(node: Node) -> str:
    """The object name of a node's dependency archive: one safe path component, unique per node.

    It also names the node's log and executed notebook, in the pods and in object storage, so a node id such as
    `../../x` must not decide a path. The hashed raw value is `stem/id`: the stem has no `/`, so two nodes can
    never share it (as `stem-id` could: `a-b` + `c` and `a` + `b-c`)."""
    stem = (node.filename or node.id).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    return f"{safe_name(f'{stem}/{node.id}')}.tar.gz"


@cache
def bootstrapper_source() -> str:
    return resources.files(__package__).joinpath("bootstrapper.py").read_text(encoding="utf-8")


def k8s_name(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:63].strip("-") or "node"


def _component_text(pipeline: Pipeline, staging: StagingPlan) -> str:
    from kfp import dsl

    inputs: list[dict[str, Any]] = [{"name": name, "type": "String"}
                                    for name in ("file", "archive", "outputs", "inputs", "env")]
    args: list[Any] = ["--file", {"inputValue": "file"}, "--archive", {"inputValue": "archive"},
                       "--outputs", {"inputValue": "outputs"}, "--inputs", {"inputValue": "inputs"},
                       "--env", {"inputValue": "env"}]
    for index, parameter in enumerate(pipeline.parameters):
        name = f"param_{index}"
        inputs.append({"name": name, "type": PARAMETER_TYPES.get(parameter.type, (str, "String"))[1],
                       "optional": True})
        args.append({"if": {"cond": {"isPresent": name}, "then": [
            "--parameter", {"concat": [f"{parameter.name}=", {"inputValue": name}]}]}})
    if staging.credentials == "arguments":
        for name, flag in zip(CREDENTIAL_INPUTS, ("--access-key", "--secret-key"), strict=True):
            inputs.append({"name": name, "type": "String"})
            args += [flag, {"inputValue": name}]
    for flag, (name, _) in KFP_OUTPUTS.items():
        args += [f"--{flag}-output", {"outputPath": name}]
    args += ["--executor-output", dsl.PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER]  # the metrics' values go there
    command = ["python3", "-c", SOURCE_MARKER, "--endpoint", staging.endpoint, "--bucket", staging.bucket,
               "--prefix", staging.prefix, "--pipeline-name", pipeline.name]
    if staging.credentials == "ambient":
        command += ["--auth", "web-identity"]
    outputs = [{"name": name, "type": kind} for name, kind in KFP_OUTPUTS.values()]
    return json.dumps({"name": COMPONENT_NAME, "inputs": inputs, "outputs": outputs,
                       "implementation": {"container": {"image": "python:3", "command": command, "args": args}}})


def _ancestor_outputs(pipeline: Pipeline) -> dict[str, list[str]]:
    """Every upstream node's declared outputs, in dependency order: data flows down whole chains."""
    collected: dict[str, list[str]] = {}
    for node in pipeline.topological_order():
        outputs: dict[str, None] = {}
        for parent_id in node.parent_ids:
            outputs.update(dict.fromkeys(collected[parent_id]))
            outputs.update(dict.fromkeys(pipeline.nodes[parent_id].outputs))
        collected[node.id] = list(outputs)
    return collected


def compile_pipeline(pipeline: Pipeline, staging: StagingPlan, names: RunNames = RunNames()) -> CompiledPipeline:
    """The KFP pipeline spec (and Kubernetes platform spec) of a validated, generic-only pipeline."""
    from google.protobuf import json_format
    from kfp import components, dsl

    component = components.load_component_from_text(_component_text(pipeline, staging))
    inputs_of = _ancestor_outputs(pipeline)
    parameter_index = {parameter.name: index for index, parameter in enumerate(pipeline.parameters)}
    kfp_names: dict[str, str] = {}
    display_names = _unique_display_names(pipeline)

    def build(*arguments: Any) -> None:
        values = dict(zip([p.name for p in pipeline.parameters] + list(CREDENTIAL_INPUTS), arguments, strict=False))
        tasks: dict[str, Any] = {}
        for node in pipeline.topological_order():
            task_inputs = {"file": (node.filename or "").rsplit("/", 1)[-1], "archive": archive_name(node),
                           "outputs": ";".join(node.outputs), "inputs": ";".join(inputs_of[node.id]),
                           "env": json.dumps(node.env_vars, sort_keys=True)}
            task_inputs.update({f"param_{parameter_index[name]}": values[name] for name in node.pipeline_parameters})
            if staging.credentials == "arguments":
                task_inputs.update({name: values[name] for name in CREDENTIAL_INPUTS})
            task = component(**task_inputs)
            task.set_display_name(display_names[node.id])
            for apply_setting in TASK_SETTINGS:  # each node property's image, resource and Kubernetes settings
                apply_setting(task, node)
            if node.parent_ids:
                task.after(*(tasks[parent] for parent in node.parent_ids))
            tasks[node.id] = task
            kfp_names[node.id] = task.name

    signature = [inspect.Parameter(p.name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=p.effective_value,
                                   annotation=PARAMETER_TYPES.get(p.type, (str, "String"))[0])
                 for p in pipeline.parameters]
    if staging.credentials == "arguments":
        signature += [inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default="", annotation=str)
                      for name in CREDENTIAL_INPUTS]
    build.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]
    graph = dsl.pipeline(name=k8s_name(pipeline.name), description=pipeline.description or None)(build)
    spec = json_format.MessageToDict(graph.pipeline_spec)
    platform = json_format.MessageToDict(graph.platform_spec) or None
    task_names = _rename_tasks(spec, pipeline, kfp_names)
    _apply_spec_settings(spec, pipeline, task_names)
    platform = _apply_platform_settings(spec, platform, pipeline, task_names, names)
    _fold_identical_components(spec, platform)
    if staging.credentials == "secret" and staging.secret_name:
        _add_storage_secret(spec, platform, staging.secret_name)
    _share_equal_parts(spec)
    _insert_bootstrapper(spec)
    return CompiledPipeline(spec, platform, task_names, display_names)


def _unique_display_names(pipeline: Pipeline) -> dict[str, str]:
    """Node labels, made unique, so a run's task states map back to nodes."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for node in pipeline.nodes.values():
        name, suffix = node.name, 2
        while name in used:
            name, suffix = f"{node.name} ({suffix})", suffix + 1
        used.add(name)
        names[node.id] = name
    return names


def _rename_tasks(spec: dict[str, Any], pipeline: Pipeline, kfp_names: dict[str, str]) -> dict[str, str]:
    """Name tasks after their nodes (sanitised, unique) instead of 'run-generic-node-17'."""
    renamed: dict[str, str] = {}
    used: set[str] = set()
    for node_id, kfp_name in kfp_names.items():
        base = k8s_name(pipeline.nodes[node_id].name)
        name, suffix = base, 2
        while name in used:
            name, suffix = f"{base[:58]}-{suffix}", suffix + 1
        used.add(name)
        renamed[kfp_name] = name
    tasks = spec["root"]["dag"]["tasks"]
    spec["root"]["dag"]["tasks"] = {renamed[old]: task for old, task in tasks.items()}
    for task in spec["root"]["dag"]["tasks"].values():
        if "dependentTasks" in task:
            task["dependentTasks"] = [renamed[name] for name in task["dependentTasks"]]
    return {node_id: renamed[kfp_name] for node_id, kfp_name in kfp_names.items()}


def _apply_spec_settings(spec: dict[str, Any], pipeline: Pipeline, task_names: dict[str, str]) -> None:
    """Node properties that map onto the compiled task rather than through the SDK (caching)."""
    tasks = spec["root"]["dag"]["tasks"]
    for node_id, name in task_names.items():
        for apply_setting in SPEC_SETTINGS:
            apply_setting(tasks[name], pipeline.nodes[node_id])


def label_value(text: str) -> str:
    """A valid Kubernetes label value made from `text` as Elyra makes it: an `a` before a first character and after
    a last one that is not a letter or digit, cut to 63 characters, every other character outside [-_.A-Za-z0-9]
    replaced by `_`."""
    if not text:
        return ""
    edge = string.ascii_letters + string.digits
    text = (text if text[0] in edge else "a" + text)[:LABEL_VALUE_LIMIT]
    if text[-1] not in edge:
        text = text + "a" if len(text) < LABEL_VALUE_LIMIT else text[:-1] + "a"
    return re.sub(r"[^-_.A-Za-z0-9]", "_", text)


def _elyra_node_names(pipeline: Pipeline) -> dict[str, str]:
    """Node labels scrubbed and made unique the way Elyra names its operations (in dependency order)."""
    names: dict[str, str] = {}
    counts: dict[str, int] = {}
    for node in pipeline.topological_order():
        base = re.sub("-+", "-", re.sub("[^-_0-9A-Za-z ]+", "-", node.name)).strip("-")
        name = base
        while name in counts:
            name = f"{base}_{counts[base]}"
            counts[base] += 1
        counts[name] = 1
        names[node.id] = name
    return names


def _apply_platform_settings(spec: dict[str, Any], platform: dict[str, Any] | None, pipeline: Pipeline,
                             task_names: dict[str, str], names: RunNames) -> dict[str, Any]:
    """Each task executor's Kubernetes config: the node properties' own (labels, annotations, volumes), then, for
    generic nodes, Elyra's identifying labels and annotations (which win on the same key, as in Elyra) and
    ELYRA_RUN_NAME."""
    platform = platform or {}
    executors = platform.setdefault("platforms", {}).setdefault("kubernetes", {}).setdefault(
        "deploymentSpec", {}).setdefault("executors", {})
    tasks, node_names = spec["root"]["dag"]["tasks"], _elyra_node_names(pipeline)
    shared = {"elyra/node-type": label_value("notebook-script"), "elyra/pipeline-name": label_value(pipeline.name),
              "elyra/pipeline-version": label_value(names.version),
              "elyra/experiment-name": label_value(names.experiment)}
    source = {"elyra/pipeline-source": posixpath.basename(pipeline.source)} if pipeline.source else {}
    run_id_env = [dict(RUN_ID_ENV)]  # one object for all executors: the YAML holds it once
    for node_id, task_name in task_names.items():
        node = pipeline.nodes[node_id]
        config = executors.setdefault(spec["components"][tasks[task_name]["componentRef"]["name"]]["executorLabel"],
                                      {})
        for apply_setting in PLATFORM_SETTINGS:
            apply_setting(config, node)
        if node.is_generic:  # Elyra marks the pods of its generic nodes only
            pod_metadata(config, "labels").update(shared, **{"elyra/node-name": label_value(node_names[node_id])})
            pod_metadata(config, "annotations").update(source, **{"elyra/node-file-name": node.filename or ""})
            config["fieldPathAsEnv"] = run_id_env
    return platform


def _add_storage_secret(spec: dict[str, Any], platform: dict[str, Any], secret: str) -> None:
    """Every executor reads the object storage keys from one Kubernetes secret: one entry, which every executor
    refers to, rather than one per task through the SDK, which costs as much as the rest of the compilation."""
    executors = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]
    keys = [{"secretKey": key, "envVar": key} for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")]
    entry = {"secretName": secret, "secretNameParameter": {"runtimeValue": {"constant": secret}}, "keyToEnv": keys,
             "optional": False}
    for label in spec["deploymentSpec"]["executors"]:
        executors.setdefault(label, {}).setdefault("secretAsEnv", []).append(entry)


def _share_equal_parts(spec: dict[str, Any]) -> None:
    """Equal parts of the per-node components and executors (definitions, command, arguments) become one object
    each, which the YAML writer emits once and then refers to (an anchor, then aliases)."""
    shared: dict[str, Any] = {}
    parts = [(component, name) for component in spec["components"].values()
             for name in ("inputDefinitions", "outputDefinitions") if name in component]
    parts += [(executor["container"], name) for executor in spec["deploymentSpec"]["executors"].values()
              for name in ("command", "args") if name in executor["container"]]
    for owner, name in parts:
        owner[name] = shared.setdefault(json.dumps(owner[name], sort_keys=True), owner[name])


def _insert_bootstrapper(spec: dict[str, Any]) -> None:
    """The source goes in last, into each distinct (shared) command: the SDK never parses or copies it per task,
    and the YAML file holds it once."""
    commands = {id(executor["container"]["command"]): executor["container"]["command"]
                for executor in spec["deploymentSpec"]["executors"].values()}
    for command in commands.values():
        command[:] = [bootstrapper_source() if part == SOURCE_MARKER else part for part in command]


def _fold_identical_components(spec: dict[str, Any], platform: dict[str, Any] | None) -> None:
    """Make tasks with identical component, executor and Kubernetes settings share one definition."""
    executors = spec["deploymentSpec"]["executors"]
    platform_executors = ((platform or {}).get("platforms", {}).get("kubernetes", {})
                          .get("deploymentSpec", {}).get("executors", {}))
    canonical: dict[str, str] = {}
    replacement: dict[str, str] = {}
    for name, component in spec["components"].items():
        label = component.get("executorLabel")
        if label is None:
            continue
        body = {key: value for key, value in component.items() if key != "executorLabel"}
        key = hashlib.sha256(json.dumps([body, executors.get(label), platform_executors.get(label)],
                                        sort_keys=True).encode()).hexdigest()
        if key in canonical:
            replacement[name] = canonical[key]
        else:
            canonical[key] = name
    for task in spec["root"]["dag"]["tasks"].values():
        reference = task["componentRef"]["name"]
        task["componentRef"]["name"] = replacement.get(reference, reference)
    for name in replacement:
        label = spec["components"].pop(name)["executorLabel"]
        executors.pop(label, None)
        platform_executors.pop(label, None)
