"""Every Elyra generic node property, declared once.

Each `NodeProperty` holds all there is to know about one key of a generic node's `app_data.component_parameters`:
its form (JSON schema fragment with Elyra's `uihints`), what a saved document may hold, whether a pipeline default
applies and how it merges, how it becomes the `model.Node` attribute of the same name, its semantic check and what
it does on Kubeflow Pipelines and locally. The pipeline JSON schema, the parser, the validator, the KFP compiler,
the editor's forms and `docs/node-properties.md` are all derived from `PROPERTIES`: adding a property is one entry
here (plus the `Node` attribute it fills).

`python -m elyra_proc_ext.properties` prints the documentation table.
"""

from __future__ import annotations

import copy
import math
import posixpath
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from .errors import NotFoundError
from .globbing import PatternTooBroadError, bounded_glob, has_magic
from .model import GENERIC_OPS, Issue, KubernetesSecret, Node, Toleration, VolumeMount
from .rules import (
    DNS_SUBDOMAIN,
    ENV_VAR_NAME,
    IMAGE_REFERENCE,
    NAME_PART,
    SECRET_KEY,
    TOLERATION_EFFECTS,
    TOLERATION_OPERATORS,
    confined_path,
    path_exists,
    qualified_name_valid,
)

DEFAULT_GPU_VENDOR = "nvidia.com/gpu"
PARAMETER_TYPES = ("String", "Integer", "Float", "Bool")
JSON = dict[str, Any]


@dataclass(frozen=True)
class NodeType:
    """A generic node type as the palette offers it; `extensions` are the file endings its node accepts."""

    label: str
    description: str
    extensions: tuple[str, ...]

    @property
    def listed_extensions(self) -> list[str]:
        """The endings a file picker filters on: lower case, each once."""
        return list(dict.fromkeys(extension.lower() for extension in self.extensions))


NODE_TYPES = {
    "notebook": NodeType("Notebook", "Run a notebook", (".ipynb",)),
    "python": NodeType("Python script", "Run a Python script", (".py",)),
    "r": NodeType("R script", "Run an R script", (".r", ".R")),
}


class Merge(Enum):
    """How a node's value and the pipeline default combine."""

    OVERRIDE = "override"  # the node's value when it has one, else the default
    BY_KEY = "merge-by-key"  # lists of objects: node entries replace default entries with the same key
    UNION = "union"  # lists: the default's entries and the node's, each once


@dataclass(frozen=True)
class Inheritance:
    """A property that may be set in `pipeline_defaults`, and how a node's own value combines with it."""

    merge: Merge
    key: str | None = None

    def combine(self, default: Any, own: Any) -> Any:
        if self.merge is Merge.OVERRIDE:
            return own if _is_set(own) or not _is_set(default) else default
        if self.merge is Merge.UNION:
            return (default or []) + (own or [])
        merged = {str(item.get(self.key)): item for item in default or [] if isinstance(item, dict)}
        merged.update({str(item.get(self.key)): item for item in own or [] if isinstance(item, dict)})
        return list(merged.values())

    def describe(self) -> str:
        return f"{self.merge.value} ({self.key})" if self.key else self.merge.value


def _is_set(value: Any) -> bool:
    """Elyra's editor leaves a cleared field as null, an empty string or an empty object: none of them is a value."""
    return value is not None and value != "" and value != {}


class PropertyValueError(ValueError):
    """A value that passed the document schema but cannot be used; `value` is what the issue reports."""

    def __init__(self, problem: str, value: Any) -> None:
        super().__init__(problem)
        self.value = value


@dataclass(frozen=True)
class ParseContext:
    base_dir: str  # root-relative directory of the pipeline file: node filenames are relative to it


@dataclass(frozen=True)
class CheckContext:
    root: Path  # the workspace root, resolved
    requires_runtime_image: bool
    parameter_names: frozenset[str]  # the pipeline parameters the pipeline defines


@dataclass(frozen=True)
class FormContext:
    """What the editor's form of a property depends on besides the property itself."""

    extensions: Sequence[str] = ()  # file endings of the node type being edited
    image_names: Sequence[str] = ()  # images of Elyra's runtime-images metadata


Parser = Callable[[Any, ParseContext], Any]
Check = Callable[[Node, CheckContext], list[Issue]]
TaskSetting = Callable[[Any, Node], None]  # (kfp PipelineTask, node)
SpecSetting = Callable[[JSON, Node], None]  # (the task's dict in the compiled IR, node)
PlatformSetting = Callable[[JSON, Node], None]  # (the task executor's Kubernetes config in the platform spec, node)


@dataclass(frozen=True)
class NodeProperty:
    """One generic node property. `form` is the editor's schema fragment (single JSON types, Elyra's `uihints`);
    `accepts` is what a saved document may hold (Elyra writes numbers as text and blanks as null)."""

    name: str
    title: str
    description: str
    form: JSON
    accepts: JSON
    parse: Parser
    kfp: str  # what it does on Kubeflow Pipelines (documentation)
    local: str  # what it does in a local run (documentation)
    inherit: Inheritance | None = None
    check: Check | None = None
    issue_type: str = "invalidNodeProperty"  # Elyra's issue type for a value no process can receive
    kfp_task: TaskSetting | None = None
    kfp_spec: SpecSetting | None = None
    kfp_platform: PlatformSetting | None = None
    tailor: Callable[[JSON, FormContext], None] | None = None

    @property
    def inheritable(self) -> bool:
        return self.inherit is not None

    def raw_value(self, params: JSON, defaults: JSON) -> Any:
        """The node's value in the document, combined with the pipeline default when there is one."""
        own = params.get(self.name)
        return own if self.inherit is None else self.inherit.combine(defaults.get(self.name), own)

    def document_schema(self) -> JSON:
        return {"title": self.title, "description": self.description, **self.accepts}

    def form_schema(self, context: FormContext) -> JSON:
        schema = {"title": self.title, "description": self.description, **copy.deepcopy(self.form)}
        if self.tailor:
            self.tailor(schema, context)
        return schema


# Parsing: raw (merged) document value -> Node attribute


def _text(raw: Any, _: ParseContext) -> Any:
    return raw


def _text_or_none(raw: Any, _: ParseContext) -> str | None:
    return raw or None


def _flag(raw: Any, _: ParseContext) -> bool:
    return bool(raw)


def _texts(raw: Any, _: ParseContext) -> list[str]:
    return list(raw or [])


def _number(raw: Any) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
        if math.isfinite(value):
            return value
    except (TypeError, ValueError):
        pass
    raise PropertyValueError(f"must be a finite number, got {str(raw)[:40]!r}.", str(raw))


def _tri_state(raw: Any, _: ParseContext) -> bool | None:
    """Elyra writes "True"/"False"; JSON booleans and blanks (no choice) are read too."""
    if isinstance(raw, str):
        return raw.strip().lower() in ("true", "1", "yes") if raw.strip() else None
    return None if raw is None else bool(raw)


def _filename(raw: Any, context: ParseContext) -> str | None:
    return posixpath.normpath(posixpath.join(context.base_dir, raw.replace("\\", "/"))) if raw else None


def _env_vars(raw: Any, _: ParseContext) -> dict[str, str]:
    return {str(e.get("env_var") or "").strip(): str(e["value"]) for e in raw if e.get("value") not in (None, "")}


def _secrets(raw: Any, _: ParseContext) -> list[KubernetesSecret]:
    return [KubernetesSecret(s.get("env_var", ""), s.get("name", ""), s.get("key", "")) for s in raw]


def _volumes(raw: Any, _: ParseContext) -> list[VolumeMount]:
    return [VolumeMount(v.get("path", ""), v.get("pvc_name", ""), v.get("sub_path") or None, bool(v.get("read_only")))
            for v in raw]


def _tolerations(raw: Any, _: ParseContext) -> list[Toleration]:
    return list(dict.fromkeys(
        Toleration(t.get("key") or "", t.get("operator") or "", t.get("value") or "", t.get("effect") or "")
        for t in raw if isinstance(t, dict)))


def _pairs(raw: Any, _: ParseContext) -> dict[str, str]:
    return {str(p.get("key") or ""): str(p.get("value") or "") for p in raw}


def _amount(raw: Any, _: ParseContext) -> float | None:
    return _number(raw)


def _shared_memory(raw: Any, _: ParseContext) -> float | None:
    return _number((raw or {}).get("size"))


# Checks: a parsed node's value -> issues naming node and property


def _check_filename(node: Node, context: CheckContext) -> list[Issue]:
    if not node.filename:
        return [node.issue("invalidNodeProperty", f"Node '{node.name}' has no file: set its filename.", "filename")]
    path = confined_path(context.root, node.filename)
    if path is None:
        return [node.issue("invalidFilePath", f"Node '{node.name}': file '{node.filename}' is outside the "
                           "workspace root; only files inside it can run.", "filename", node.filename)]
    issues = []
    if not path_exists(path, file=True):
        issues.append(node.issue("invalidFilePath", f"Node '{node.name}': file '{node.filename}' does not exist.",
                                 "filename", node.filename))
    extensions = NODE_TYPES[node.kind].extensions
    if not node.filename.endswith(extensions):
        issues.append(node.issue("invalidFileType", f"Node '{node.name}': '{node.filename}' is not a "
                                 f"{' or '.join(extensions)} file, as a {node.kind} node needs.",
                                 "filename", node.filename))
    return issues


def _node_dir(node: Node, context: CheckContext) -> str | None:
    """The directory a node's dependencies and outputs are relative to; None when its file is missing or outside
    the workspace (the filename check says so)."""
    if not node.filename or confined_path(context.root, node.filename) is None:
        return None
    return posixpath.dirname(node.filename)


def _check_dependencies(node: Node, context: CheckContext) -> list[Issue]:
    node_dir = _node_dir(node, context) if node.dependencies else None
    if node_dir is None:
        return []
    return [issue for dependency in node.dependencies for issue in _dependency_issues(
        node, context.root, posixpath.normpath(posixpath.join(node_dir, dependency)), dependency)]


def _dependency_issues(node: Node, root: Path, relative: str, declared: str) -> list[Issue]:
    escapes = posixpath.isabs(relative) or relative.split("/")[0] == ".."
    if escapes or confined_path(root, relative.split("*")[0].rstrip("/") or ".") is None:
        return [node.issue("invalidFilePath", f"Node '{node.name}': dependency '{declared}' is outside the "
                           "workspace root.", "dependencies", declared)]
    if has_magic(declared):
        try:
            matches = bounded_glob(root, relative, recursive=node.include_subdirectories)
        except PatternTooBroadError as error:
            return [node.issue("invalidFilePath", f"Node '{node.name}': dependency pattern '{declared}' matches too "
                               f"much (more than {error.limit:,} paths to look at): name the folders or files.",
                               "dependencies", declared)]
        if not matches:
            return [node.issue("invalidFilePath", f"Node '{node.name}': dependency pattern '{declared}' matches "
                               "no file.", "dependencies", declared)]
        escaping = [match for match in matches if confined_path(root, match) is None]
        return [node.issue("invalidFilePath", f"Node '{node.name}': dependency '{declared}' matches "
                           f"'{posixpath.basename(match)}', a link to outside the workspace root.", "dependencies",
                           declared) for match in escaping]
    path = confined_path(root, relative)
    if path is None:
        return [node.issue("invalidFilePath", f"Node '{node.name}': dependency '{declared}' is outside the "
                           "workspace root.", "dependencies", declared)]
    if not path_exists(path):
        return [node.issue("invalidFilePath", f"Node '{node.name}': dependency '{declared}' does not exist.",
                           "dependencies", declared)]
    return []


def _check_outputs(node: Node, context: CheckContext) -> list[Issue]:
    node_dir = _node_dir(node, context) if node.outputs else None
    if node_dir is None:
        return []
    return [node.issue("invalidFilePath", f"Node '{node.name}': output '{output}' is outside the workspace root.",
                       "outputs", output)
            for output in node.outputs
            if confined_path(context.root, posixpath.normpath(posixpath.join(node_dir, output))) is None]


def _check_runtime_image(node: Node, context: CheckContext) -> list[Issue]:
    image = node.runtime_image
    if image is None:
        if not context.requires_runtime_image:
            return []
        return [node.issue("invalidNodeProperty", f"Node '{node.name}' has no runtime image: choose one for the "
                           "node or set a pipeline default runtime image.", "runtime_image")]
    if not image.strip():
        return [node.issue("invalidNodeProperty", f"Node '{node.name}' has an empty runtime image: choose one or "
                           "remove the property.", "runtime_image", image)]
    if not IMAGE_REFERENCE.match(image):
        return [node.issue("invalidNodeProperty", f"Node '{node.name}': runtime image '{image}' is not a valid "
                           "image reference ([registry/]owner/image[:tag]).", "runtime_image", image)]
    return []


def _quantity_check(name: str, *, zero_allowed: bool = False, whole: bool = False, request: str | None = None
                    ) -> Check:
    """A resource amount: positive (or zero, for GPUs), whole when counted, and a limit not below its request."""

    def check(node: Node, _: CheckContext) -> list[Issue]:
        value = getattr(node, name)
        if value is None:
            return []
        issues = []
        if value <= 0 and not (zero_allowed and value == 0):
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': {name} must be a positive number, "
                                     f"got {value:g}.", name, value))
        if whole and value != int(value):
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': {name} must be a whole number.",
                                     name, value))
        low = getattr(node, request) if request else None
        if low is not None and 0 < value < low:
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': {name} ({value:g}) is below the "
                                     f"{request} request ({low:g}).", name, value))
        return issues

    return check


def _check_gpu_vendor(node: Node, _: CheckContext) -> list[Issue]:
    if node.gpu_vendor and not qualified_name_valid(node.gpu_vendor):
        return [node.issue("invalidNodeProperty", f"Node '{node.name}': gpu_vendor '{node.gpu_vendor}' is not a "
                           "Kubernetes resource name such as nvidia.com/gpu or amd.com/gpu.", "gpu_vendor",
                           node.gpu_vendor)]
    return []


def _check_env_vars(node: Node, _: CheckContext) -> list[Issue]:
    return [node.issue("invalidEnvironmentVariable", f"Node '{node.name}': environment variable name "
                       f"'{name}' is not valid (letters, digits and '_', not starting with a digit).", "env_vars", name)
            for name in node.env_vars if not ENV_VAR_NAME.match(name)]


def _check_secrets(node: Node, _: CheckContext) -> list[Issue]:
    return [node.issue("invalidKubernetesSecret", f"Node '{node.name}': Kubernetes secret '{secret.name}' (key "
                       f"'{secret.key}', variable '{secret.env_var}') needs a variable name, a lower-case DNS name "
                       "and a key of letters, digits, '-', '_' or '.'.", "kubernetes_secrets", secret.name)
            for secret in node.kubernetes_secrets
            if not (ENV_VAR_NAME.match(secret.env_var) and DNS_SUBDOMAIN.match(secret.name)
                    and len(secret.name) <= 253 and SECRET_KEY.match(secret.key))]


def _check_volumes(node: Node, _: CheckContext) -> list[Issue]:
    return [node.issue("invalidVolumeMount", f"Node '{node.name}': volume '{volume.pvc_name}' at '{volume.path}' "
                       "needs an absolute mount path and a lower-case DNS name for the claim.", "mounted_volumes",
                       volume.pvc_name)
            for volume in node.mounted_volumes
            if not (volume.path.startswith("/") and DNS_SUBDOMAIN.match(volume.pvc_name)
                    and len(volume.pvc_name) <= 253)]


def _toleration_problem(toleration: Toleration) -> str | None:
    if toleration.operator not in TOLERATION_OPERATORS:
        return f"operator '{toleration.operator}' must be 'Exists' or 'Equal'"
    if toleration.effect not in TOLERATION_EFFECTS:
        return f"effect '{toleration.effect}' must be NoSchedule, PreferNoSchedule or NoExecute"
    if toleration.operator == "Exists" and toleration.value:
        return "operator 'Exists' takes no value"
    if toleration.key and not qualified_name_valid(toleration.key):
        return f"key '{toleration.key}' is not a valid Kubernetes key"
    return None


def _check_tolerations(node: Node, _: CheckContext) -> list[Issue]:
    return [node.issue("invalidKubernetesToleration", f"Node '{node.name}': toleration {problem}.",
                       "kubernetes_tolerations", toleration.key)
            for toleration in node.kubernetes_tolerations if (problem := _toleration_problem(toleration))]


def _check_labels(node: Node, _: CheckContext) -> list[Issue]:
    return [node.issue("invalidKubernetesLabel", f"Node '{node.name}': pod label '{key}={value}' is not a valid "
                       "Kubernetes label.", "kubernetes_pod_labels", key)
            for key, value in node.kubernetes_pod_labels.items()
            if not qualified_name_valid(key) or (value and (len(value) > 63 or not NAME_PART.match(value)))]


def _check_annotations(node: Node, _: CheckContext) -> list[Issue]:
    return [node.issue("invalidKubernetesAnnotation", f"Node '{node.name}': pod annotation key '{key}' is not a "
                       "valid Kubernetes key (optional lower-case DNS prefix, '/', name).",
                       "kubernetes_pod_annotations", key)
            for key in node.kubernetes_pod_annotations if not qualified_name_valid(key)]


def _check_parameters(node: Node, context: CheckContext) -> list[Issue]:
    return [node.issue("invalidPipelineParameter", f"Node '{node.name}' uses pipeline parameter '{name}', which "
                       "the pipeline does not define.", "pipeline_parameters", name)
            for name in node.pipeline_parameters if name not in context.parameter_names]


# Kubeflow Pipelines: applied to each node's task while the pipeline is built (the kfp SDK is imported lazily,
# so parsing and validation never load it)


def _resources(task: Any) -> Any:
    from kfp.dsl.structures import ResourceSpec

    if task.container_spec.resources is None:
        task.container_spec.resources = ResourceSpec()
    return task.container_spec.resources


def _resource_setting(attribute: str, field_name: str, unit: str) -> TaskSetting:
    """Sets `field_name` of the task's resource spec to the node's `attribute`, with its unit (e.g. `2G`)."""

    def setting(task: Any, node: Node) -> None:
        value = getattr(node, attribute)
        if value is not None:
            setattr(_resources(task), field_name, f"{value:g}{unit}")

    return setting


def _set_image(task: Any, node: Node) -> None:
    task.container_spec.image = node.runtime_image


def _set_gpu(task: Any, node: Node) -> None:
    if node.gpu:
        resources = _resources(task)
        resources.accelerator_type = node.gpu_vendor or DEFAULT_GPU_VENDOR
        resources.accelerator_count = f"{node.gpu:g}"


def _set_secrets(task: Any, node: Node) -> None:
    from kfp import kubernetes

    secrets: dict[str, dict[str, str]] = {}
    for secret in node.kubernetes_secrets:
        secrets.setdefault(secret.name, {})[secret.key] = secret.env_var
    for name, key_to_env in secrets.items():
        kubernetes.use_secret_as_env(task, secret_name=name, secret_key_to_env=key_to_env)


def _set_volumes(config: JSON, node: Node) -> None:
    """`pvcMount` entries as kfp-kubernetes' `mount_pvc` writes them. KFP's PvcMount has no read-only field (up to
    kfp-kubernetes 2.17 and the KFP backend's driver), so `read_only` cannot reach the pod: the KFP processor warns."""
    for volume in node.mounted_volumes:
        config.setdefault("pvcMount", []).append(
            {"constant": volume.pvc_name, "pvcNameParameter": {"runtimeValue": {"constant": volume.pvc_name}},
             "mountPath": volume.path, **({"subPath": volume.sub_path} if volume.sub_path else {})})


def _set_tolerations(task: Any, node: Node) -> None:
    from kfp import kubernetes

    for toleration in node.kubernetes_tolerations:
        kubernetes.add_toleration(task, key=toleration.key or None, operator=toleration.operator or None,
                                  value=toleration.value or None, effect=toleration.effect or None)


def pod_metadata(config: JSON, kind: str) -> dict[str, str]:
    """The `podMetadata.labels` or `.annotations` of an executor's Kubernetes config, as `add_pod_label` and
    `add_pod_annotation` write them; the compiler adds Elyra's own to the same place."""
    return config.setdefault("podMetadata", {}).setdefault(kind, {})  # type: ignore[no-any-return]


def _set_labels(config: JSON, node: Node) -> None:
    pod_metadata(config, "labels").update(node.kubernetes_pod_labels)


def _set_annotations(config: JSON, node: Node) -> None:
    pod_metadata(config, "annotations").update(node.kubernetes_pod_annotations)


def _set_shared_memory(task: Any, node: Node) -> None:
    from kfp import kubernetes

    if node.kubernetes_shared_mem_size:
        kubernetes.empty_dir_mount(task, volume_name="shm", mount_path="/dev/shm", medium="Memory",
                                   size_limit=f"{node.kubernetes_shared_mem_size:g}G")


def _set_caching(task_spec: JSON, node: Node) -> None:
    task_spec["cachingOptions"] = {"enableCache": not node.disable_node_caching}


# Forms


def _with_extensions(schema: JSON, context: FormContext) -> None:
    schema["uihints"]["extensions"] = list(context.extensions)


def _with_image_examples(schema: JSON, context: FormContext) -> None:
    schema["examples"] = list(dict.fromkeys(context.image_names))


def _strings_of(*names: str) -> JSON:
    return {"type": "object", "properties": {name: {"type": "string"} for name in names}}


def _text_list(placeholder: str, **hints: Any) -> JSON:
    return {"type": "array", "items": {"type": "string"},
            "uihints": {**hints, "items": {"ui:placeholder": placeholder}}}


ITEM_TITLES = {"env_var": "Variable", "value": "Value", "name": "Secret name", "key": "Key", "path": "Mount path",
               "pvc_name": "Claim name", "sub_path": "Sub-path", "read_only": "Read-only", "operator": "Operator",
               "effect": "Effect"}


def _object_list(item: JSON, placeholders: dict[str, str]) -> JSON:
    """A list of objects in the form: each field titled, placeholders as item hints."""
    item = {**item, "properties": {name: {"title": ITEM_TITLES[name], **schema}
                                   for name, schema in item["properties"].items()}}
    return {"type": "array", "items": item,
            "uihints": {"items": {name: {"ui:placeholder": text} for name, text in placeholders.items()}}}


QUANTITY: JSON = {"type": ["number", "string", "null"]}
KEY_VALUE_LIST: JSON = {"type": "array", "items": {"type": "object", "properties": {
    "key": {"type": "string"}, "value": {"type": ["string", "null"]}}}}
KEY_VALUE_FORM = _object_list(_strings_of("key", "value"), {"key": "key", "value": "value"})
ON_POD_ONLY = "Nothing: local runs have no pod."


def _quantity(name: str, title: str, description: str, kfp_field: str, unit: str = "", **check: Any
              ) -> NodeProperty:
    """A CPU or memory amount: a positive number, mapped to a field of the task's resource spec."""
    return NodeProperty(
        name, title, description, form={"type": "number", "exclusiveMinimum": 0}, accepts=QUANTITY,
        parse=_amount, check=_quantity_check(name, **check), local="Nothing.",
        kfp=f"Task container resources: `{kfp_field}`{f' (unit {unit})' if unit else ''}.",
        kfp_task=_resource_setting(name, kfp_field, unit))


PROPERTIES: tuple[NodeProperty, ...] = (
    NodeProperty(
        "filename", "Filename", "The notebook or script the node runs, relative to the pipeline file.",
        form={"type": "string", "uihints": {"ui:widget": "file"}}, accepts={"type": "string"},
        parse=_filename, check=_check_filename, issue_type="invalidFilePath", tailor=_with_extensions,
        kfp="Packed into the node's dependency archive; the bootstrapper runs it in the pod.",
        local="Run in its own directory: notebooks through papermill, scripts with Python or Rscript."),
    NodeProperty(
        "runtime_image", "Runtime image", "The container image the node runs in. Choose one of the runtime images "
        "or type any image reference.",
        form={"type": "string", "uihints": {"ui:placeholder": "registry/owner/image:tag"}},
        accepts={"type": ["string", "null"]}, inherit=Inheritance(Merge.OVERRIDE), parse=_text,
        check=_check_runtime_image, tailor=_with_image_examples, kfp_task=_set_image,
        kfp="Image of the node's task container.",
        local="Required by default (`LocalProcessor.require_runtime_image`) so the pipeline also exports; the node "
              "runs on this server, not in the image."),
    NodeProperty(
        "dependencies", "File dependencies", "Files the node needs besides its own, relative to the node's file; "
        "wildcards such as *.py are allowed.",
        form=_text_list("*.py", files=True),
        accepts={"type": "array", "items": {"type": "string"}}, parse=_texts, check=_check_dependencies,
        issue_type="invalidFilePath",
        kfp="Packed with the node's file into its dependency archive in object storage, unpacked in the pod.",
        local="Nothing to do: the node runs beside them in the workspace."),
    NodeProperty(
        "include_subdirectories", "Include subdirectories", "Let wildcard dependencies match files in "
        "subdirectories too.", form={"type": "boolean"}, accepts={"type": ["boolean", "null"]}, parse=_flag,
        kfp="Wildcard dependencies match recursively when the archive is built.",
        local="Wildcard dependencies are checked recursively."),
    NodeProperty(
        "outputs", "Output files", "Files the node produces, relative to its file; nodes downstream receive them.",
        form=_text_list("*.csv", files=True),
        accepts={"type": "array", "items": {"type": "string"}}, parse=_texts, check=_check_outputs,
        issue_type="invalidFilePath",
        kfp="Uploaded to object storage after the node ran and downloaded into every downstream node's pod.",
        local="The run fails when the node did not produce them."),
    NodeProperty(
        "env_vars", "Environment variables", "Variables set for the node's process; pipeline default variables "
        "with the same name are replaced.",
        form=_object_list(_strings_of("env_var", "value"), {"env_var": "ENV_VAR", "value": "value"}),
        accepts={"type": "array", "items": {"type": "object", "properties": {
            "env_var": {"type": "string"}, "value": {"type": ["string", "number", "boolean", "null"]}}}},
        inherit=Inheritance(Merge.BY_KEY, "env_var"), parse=_env_vars, check=_check_env_vars,
        issue_type="invalidEnvironmentVariable",
        kfp="Passed to the bootstrapper (`env` input), which sets them for the node's process.",
        local="Set in the node's process environment."),
    _quantity("cpu", "CPU", "CPU cores the node requests.", "cpu_request"),
    _quantity("cpu_limit", "CPU limit", "Most CPU cores the node may use; not below the request.", "cpu_limit",
              request="cpu"),
    _quantity("memory", "Memory (GB)", "Memory the node requests, in GB.", "memory_request", "G"),
    _quantity("memory_limit", "Memory limit (GB)", "Most memory the node may use, in GB; not below the request.",
              "memory_limit", "G", request="memory"),
    NodeProperty(
        "gpu", "GPUs", "How many GPUs the node requests.", form={"type": "integer", "minimum": 0}, accepts=QUANTITY,
        parse=_amount, check=_quantity_check("gpu", zero_allowed=True, whole=True),
        kfp_task=_set_gpu, kfp="Task container accelerator count, of the GPU vendor's resource type.",
        local="Nothing."),
    NodeProperty(
        "gpu_vendor", "GPU vendor", "The Kubernetes resource name of the GPUs, such as nvidia.com/gpu or "
        "amd.com/gpu.", form={"type": "string", "uihints": {"ui:placeholder": DEFAULT_GPU_VENDOR}},
        accepts={"type": ["string", "null"]}, parse=_text_or_none, check=_check_gpu_vendor,
        kfp=f"Accelerator type of the GPU request (default {DEFAULT_GPU_VENDOR}); applied with `gpu`.",
        local="Nothing."),
    NodeProperty(
        "kubernetes_secrets", "Kubernetes secrets", "Environment variables read from a key of a Kubernetes secret.",
        form=_object_list(_strings_of("env_var", "name", "key"),
                          {"env_var": "ENV_VAR", "name": "secret-name", "key": "secret-key"}),
        accepts={"type": "array", "items": _strings_of("env_var", "name", "key")},
        inherit=Inheritance(Merge.BY_KEY, "env_var"), parse=_secrets, check=_check_secrets,
        kfp_task=_set_secrets, kfp="`secretAsEnv` of the task's Kubernetes executor.", local=ON_POD_ONLY),
    NodeProperty(
        "mounted_volumes", "Data volumes", "Persistent volume claims mounted into the node's pod.",
        form=_object_list({"type": "object", "properties": {
            "path": {"type": "string"}, "pvc_name": {"type": "string"}, "sub_path": {"type": "string"},
            "read_only": {"type": "boolean"}}},
            {"path": "/mnt/data", "pvc_name": "claim-name", "sub_path": "optional/sub/path"}),
        accepts={"type": "array", "items": {"type": "object", "properties": {
            "path": {"type": "string"}, "pvc_name": {"type": "string"}, "sub_path": {"type": ["string", "null"]},
            "read_only": {"type": ["boolean", "null"]}}}},
        inherit=Inheritance(Merge.BY_KEY, "path"), parse=_volumes, check=_check_volumes,
        kfp_platform=_set_volumes, kfp="`pvcMount` of the task's Kubernetes executor. Mounted read-write even when "
        "`read_only` is set: KFP has no read-only PVC mount (validation warns).", local=ON_POD_ONLY),
    NodeProperty(
        "kubernetes_tolerations", "Kubernetes tolerations", "Taints of cluster nodes the pod tolerates.",
        form=_object_list({"type": "object", "properties": {
            "key": {"type": "string"}, "operator": {"type": "string", "enum": list(TOLERATION_OPERATORS)},
            "value": {"type": "string"}, "effect": {"type": "string", "enum": list(TOLERATION_EFFECTS)}}},
            {"key": "taint-key", "value": "taint-value"}),
        accepts={"type": "array", "items": {"type": "object", "properties": {
            "key": {"type": ["string", "null"]}, "operator": {"type": "string"},
            "value": {"type": ["string", "null"]}, "effect": {"type": ["string", "null"]}}}},
        inherit=Inheritance(Merge.UNION), parse=_tolerations, check=_check_tolerations,
        kfp_task=_set_tolerations, kfp="`tolerations` of the task's Kubernetes executor.", local=ON_POD_ONLY),
    NodeProperty(
        "kubernetes_pod_labels", "Kubernetes pod labels", "Labels added to the node's pod.", form=KEY_VALUE_FORM,
        accepts=KEY_VALUE_LIST, inherit=Inheritance(Merge.BY_KEY, "key"), parse=_pairs, check=_check_labels,
        kfp_platform=_set_labels, kfp="`podMetadata.labels` of the task's Kubernetes executor, beside Elyra's "
        "`elyra/...` labels (which win on the same key).", local=ON_POD_ONLY),
    NodeProperty(
        "kubernetes_pod_annotations", "Kubernetes pod annotations", "Annotations added to the node's pod.",
        form=KEY_VALUE_FORM, accepts=KEY_VALUE_LIST, inherit=Inheritance(Merge.BY_KEY, "key"), parse=_pairs,
        check=_check_annotations, kfp_platform=_set_annotations,
        kfp="`podMetadata.annotations` of the task's Kubernetes executor, beside Elyra's `elyra/...` annotations "
        "(which win on the same key).", local=ON_POD_ONLY),
    NodeProperty(
        "kubernetes_shared_mem_size", "Shared memory size", "Size of /dev/shm in the node's pod, in GB (the "
        "container default is 64 MB).",
        form={"type": "object", "properties": {"size": {"type": "number", "exclusiveMinimum": 0, "title": "Size"},
                                               "units": {"type": "string", "enum": ["G"], "default": "G"}}},
        accepts={"type": ["object", "null"], "properties": {"size": QUANTITY, "units": {"type": "string"}}},
        inherit=Inheritance(Merge.OVERRIDE), parse=_shared_memory, check=_quantity_check("kubernetes_shared_mem_size"),
        kfp_task=_set_shared_memory, kfp="A memory-backed `emptyDir` of that size mounted at /dev/shm.",
        local=ON_POD_ONLY),
    NodeProperty(
        "disable_node_caching", "Disable node caching", "Run the node every time even when KFP has a cached "
        "result of the same inputs.", form={"type": "string", "enum": ["True", "False"]},
        accepts={"type": ["boolean", "string", "null"]}, inherit=Inheritance(Merge.OVERRIDE), parse=_tri_state,
        kfp_spec=_set_caching, kfp="`cachingOptions.enableCache` of the task (caching is on unless disabled).",
        local="Nothing: local runs never reuse results."),
    NodeProperty(
        "pipeline_parameters", "Pipeline parameters", "The pipeline parameters the node receives as environment "
        "variables.", form={**_text_list("parameter name"), "uniqueItems": True},
        accepts={"type": "array", "items": {"type": "string"}}, parse=_texts, check=_check_parameters,
        issue_type="invalidPipelineParameter",
        kfp="Run parameters passed to the node's task and set as environment variables by the bootstrapper.",
        local="Set as environment variables of the node's process."),
)
BY_NAME = {prop.name: prop for prop in PROPERTIES}
# What custom-component nodes share with generic nodes: the settings of their pod (the component brings its own
# image, command and files)
POD_PROPERTIES = tuple(BY_NAME[name] for name in (
    "cpu", "cpu_limit", "memory", "memory_limit", "gpu", "gpu_vendor", "kubernetes_secrets", "mounted_volumes",
    "kubernetes_tolerations", "kubernetes_pod_labels", "kubernetes_pod_annotations", "kubernetes_shared_mem_size",
    "disable_node_caching"))
INHERITABLE = tuple(prop for prop in PROPERTIES if prop.inheritable)
TASK_SETTINGS = tuple(prop.kfp_task for prop in PROPERTIES if prop.kfp_task)
SPEC_SETTINGS = tuple(prop.kfp_spec for prop in PROPERTIES if prop.kfp_spec)
PLATFORM_SETTINGS = tuple(prop.kfp_platform for prop in PROPERTIES if prop.kfp_platform)
PIPELINE_ONLY_DEFAULTS: JSON = {
    "cos_object_prefix": {"type": "string", "title": "Object storage path prefix", "description": "Where in the "
                          "runtime configuration's bucket the run's archives and outputs go (KFP only).",
                          "uihints": {"ui:placeholder": "project/subproject"}},
}


def received_texts(node: Node) -> Iterator[tuple[NodeProperty, str]]:
    """Every text of `node`'s properties that reaches a process, a file system or Kubernetes."""
    for prop in PROPERTIES:
        for text in _strings(getattr(node, prop.name)):
            yield prop, text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif is_dataclass(value):
        for field in fields(value):
            yield from _strings(getattr(value, field.name))


def generic_parameters_schema() -> JSON:
    """`$defs/genericParameters` of the pipeline schema: what a saved document may hold for each property."""
    return {"type": "object", "description": "A generic node's app_data.component_parameters (and the pipeline "
            "defaults), generated from elyra_proc_ext/properties.py.",
            "properties": {prop.name: prop.document_schema() for prop in PROPERTIES}}


def ui_schema(schema: JSON) -> JSON:
    """The rjsf UI schema of a form schema: `ui:*` hints as they are, other hints as `ui:options`, item hints
    under `items`, and field order as declared."""
    hints = schema.get("uihints", {})
    ui = {key: value for key, value in hints.items() if key.startswith("ui:")}
    options = {key: value for key, value in hints.items() if not key.startswith("ui:") and key != "items"}
    if options:
        ui["ui:options"] = options
    if "properties" in schema:
        ui["ui:order"] = list(schema["properties"])
        ui.update({name: nested for name, child in schema["properties"].items() if (nested := ui_schema(child))})
    items = ui_schema(schema["items"]) if isinstance(schema.get("items"), dict) else {}
    for key, value in hints.get("items", {}).items():
        items[key] = {**items[key], **value} if isinstance(value, dict) and key in items else value
    if isinstance(schema.get("items"), dict):  # list entries need no "env_vars-0" heading each
        items.update({"ui:title": ""} if schema["items"].get("type") == "object" else {"ui:label": False})
    if items:
        ui["items"] = items
    return ui


def editor_form(schema: JSON) -> JSON:
    """A form as the editor renders it: the JSON schema and its rjsf UI schema."""
    return {"schema": schema, "uiSchema": ui_schema(schema)}


def property_forms(properties: Sequence[NodeProperty], context: FormContext) -> JSON:
    """The form schemas of `properties` by name, inheritable ones marked with `x-pipeline-default` so the editor
    can show the pipeline default in their place."""
    forms = {}
    for prop in properties:
        forms[prop.name] = prop.form_schema(context)
        if prop.inheritable:
            forms[prop.name]["x-pipeline-default"] = True
    return forms


def node_app_data_form(label_when_empty: str, placeholder: str, parameters: JSON, required: Sequence[str]) -> JSON:
    """The editor's form of a node's `app_data`: its label and its `component_parameters`."""
    return editor_form({"type": "object", "properties": {
        "label": {"type": "string", "title": "Label", "description": "The node's name in the editor and in runs "
                  f"({label_when_empty} when empty).", "uihints": {"ui:placeholder": placeholder}},
        "component_parameters": {"type": "object", "title": "Node properties", "required": list(required),
                                 "properties": parameters}}})


def node_form(op: str, image_names: Sequence[str] = ()) -> JSON:
    """The editor's form of a generic node's `app_data`: its label and every property."""
    kind = GENERIC_OPS.get(op)
    if kind is None:
        raise NotFoundError(f"'{op}' is not a generic node type; the editor has forms for {', '.join(GENERIC_OPS)}.")
    context = FormContext(NODE_TYPES[kind].listed_extensions, image_names)
    return node_app_data_form("the file's name", NODE_TYPES[kind].label, property_forms(PROPERTIES, context),
                              ["filename"])


def pipeline_form(image_names: Sequence[str] = ()) -> JSON:
    """The editor's form of the primary pipeline's `app_data.properties`."""
    context = FormContext(image_names=image_names)
    defaults = {prop.name: prop.form_schema(context) for prop in INHERITABLE}
    typed_values = [{"properties": {"type": {"enum": [name]}, "value": {"type": value_type, "title": "Value"}}}
                    for name, value_type in zip(PARAMETER_TYPES, ("string", "integer", "number", "boolean"),
                                                strict=True)]
    parameter = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "title": "Name", "pattern": ENV_VAR_NAME.pattern,
                 "uihints": {"ui:placeholder": "PARAMETER_NAME"}},
        "description": {"type": "string", "title": "Description"},
        "default_value": {"type": "object", "title": "Default value", "required": ["type"],
                          "properties": {"type": {"type": "string", "title": "Type", "enum": list(PARAMETER_TYPES),
                                                  "default": PARAMETER_TYPES[0]},
                                         "value": {"title": "Value", "description": "Of the chosen type."}},
                          "dependencies": {"type": {"oneOf": typed_values}}},  # the value's JSON type follows `type`
        "required": {"type": "boolean", "title": "Required", "description": "A run must give it a value."}}}
    return editor_form({"type": "object", "properties": {
        "name": {"type": "string", "title": "Pipeline name"},
        "description": {"type": "string", "title": "Description", "uihints": {"ui:widget": "textarea"}},
        "pipeline_defaults": {"type": "object", "title": "Pipeline defaults", "description": "Values every node "
                              "uses unless it sets its own.", "properties": {**defaults, **PIPELINE_ONLY_DEFAULTS}},
        "pipeline_parameters": {"type": "array", "title": "Pipeline parameters", "description": "Values a run may "
                                "set; nodes receive the ones they list as environment variables.", "items": parameter},
    }})


def palette() -> JSON:
    """The node types the editor offers, in Elyra's palette shape (trimmed to what the editor reads)."""
    return {"categories": [{"id": "generic", "label": "Generic nodes", "node_types": [
        {"op": op, "label": NODE_TYPES[kind].label, "description": NODE_TYPES[kind].description,
         "extensions": NODE_TYPES[kind].listed_extensions} for op, kind in GENERIC_OPS.items()]}]}


def _type_name(schema: JSON) -> str:
    if "enum" in schema:
        return " or ".join(f'"{value}"' for value in schema["enum"])
    if schema["type"] == "array":
        return f"list of {_type_name(schema['items'])}"
    if schema["type"] == "object":
        return "{" + ", ".join(schema["properties"]) + "}"
    return str(schema["type"])


def node_properties_markdown() -> str:
    """`docs/node-properties.md`: one row per property."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    rows = [f"| `{prop.name}` | {cell(prop.title)} | {cell(_type_name(prop.form))} | "
            f"{prop.inherit.describe() if prop.inherit else 'no'} | {cell(prop.kfp)} | {cell(prop.local)} |"
            for prop in PROPERTIES]
    return "\n".join([
        "# Node properties", "",
        "<!-- Generated by `python -m elyra_proc_ext.properties > docs/node-properties.md`; do not edit. -->", "",
        "The keys of a generic node's `app_data.component_parameters` (notebook, Python and R nodes). Inheritable "
        "ones may also be set in the pipeline's `pipeline_defaults`: *override* means the node's own value wins, "
        "*merge-by-key* that the node's entries replace default entries with the same key, *union* that both "
        "apply.", "",
        "| Property | Title | Type | Inheritable | On Kubeflow Pipelines | Locally |",
        "|---|---|---|---|---|---|", *rows, ""])


if __name__ == "__main__":
    print(node_properties_markdown(), end="")
