"""Semantic checks of a parsed `Pipeline`, reported with Elyra's issue types so Elyra's clients understand them.

One validator serves the REST API, the CLI and every processor, so users never see two verdicts on one file.
It touches the file system (existence, symlinks): call it off the event loop.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from .globbing import PatternTooBroadError, bounded_glob, has_magic
from .model import Issue, Node, Pipeline, Severity

ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")
TOLERATION_OPERATORS = {"Exists", "Equal"}
TOLERATION_EFFECTS = {"", "NoSchedule", "PreferNoSchedule", "NoExecute"}
FIELD_ISSUE_TYPES = {"env_vars": "invalidEnvironmentVariable", "pipeline_parameters": "invalidPipelineParameter",
                     "filename": "invalidFilePath", "dependencies": "invalidFilePath", "outputs": "invalidFilePath"}
EXTENSIONS = {"notebook": (".ipynb",), "python": (".py",), "r": (".r", ".R")}


def confined_path(root: Path, relative: str) -> Path | None:
    """The real path of `relative` under `root`, or None when it escapes (absolute, `..`, a symlink out) or
    cannot be a path at all (NUL bytes, unencodable names, symlink loops)."""
    if not relative or posixpath.isabs(relative) or relative.split("/")[0] == "..":
        return None
    try:
        resolved = (root / relative).resolve()
    except (OSError, ValueError, RuntimeError):
        return None
    return resolved if resolved.is_relative_to(root) else None


def _exists(path: Path, *, file: bool = False) -> bool:
    """Existence that answers False instead of raising for names the file system refuses (too long, ...)."""
    try:
        return path.is_file() if file else path.exists()
    except (OSError, ValueError):
        return False


def qualified_name_valid(key: str) -> bool:
    """Kubernetes label/annotation key: optional DNS-subdomain prefix and a name of at most 63 characters."""
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return False
    return len(name) <= 63 and bool(NAME_PART.match(name))


def validate_pipeline(pipeline: Pipeline, root_dir: Path, *, requires_runtime_image: bool,
                      supported_ops: Iterable[str], runtime_name: str) -> list[Issue]:
    """Every check that does not depend on a particular processor's internals."""
    root = root_dir.resolve()
    supported = set(supported_ops)
    issues = _graph_issues(pipeline)
    issues += _parameter_issues(pipeline)
    defined = {parameter.name for parameter in pipeline.parameters}
    for node in pipeline.nodes.values():
        if node.op not in supported:
            issues.append(_unsupported_op(node, runtime_name))
            continue
        if node.is_generic:
            unreceivable = _unreceivable_issues(node)
            if unreceivable:  # the other checks would only repeat these values back, unprintably
                issues += unreceivable
                continue
            issues += _file_issues(node, root)
            issues += _image_issues(node, requires_runtime_image)
            issues += _resource_issues(node)
            issues += _kubernetes_issues(node)
            issues += [node.issue("invalidPipelineParameter", f"Node '{node.name}' uses pipeline parameter "
                                  f"'{name}', which the pipeline does not define.", "pipeline_parameters", name)
                       for name in node.pipeline_parameters if name not in defined]
    return issues


def unreceivable(value: str) -> str | None:
    """Why no process can receive `value` as an argument, environment variable or file name (the operating
    system ends C strings at NUL; a lone surrogate has no UTF-8 bytes), or None when it can."""
    if "\0" in value:
        return "contains a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text (it holds a lone surrogate)"
    return None


def _received_values(node: Node) -> Iterable[tuple[str, str]]:
    """(field, text) for every value of `node` that reaches a process, a file system or Kubernetes."""
    for field_name in ("filename", "runtime_image", "gpu_vendor"):
        if getattr(node, field_name):
            yield field_name, getattr(node, field_name)
    for name, value in node.env_vars.items():
        yield "env_vars", name
        yield "env_vars", value
    for field_name in ("dependencies", "outputs", "pipeline_parameters"):
        yield from ((field_name, str(value)) for value in getattr(node, field_name))
    for secret in node.kubernetes_secrets:
        yield from (("kubernetes_secrets", value) for value in (secret.env_var, secret.name, secret.key))
    for volume in node.mounted_volumes:
        yield from (("mounted_volumes", value) for value in (volume.path, volume.pvc_name, volume.sub_path or ""))
    for toleration in node.kubernetes_tolerations:
        yield from (("kubernetes_tolerations", value) for value in (toleration.key, toleration.operator,
                                                                    toleration.value, toleration.effect))
    for field_name in ("kubernetes_pod_labels", "kubernetes_pod_annotations"):
        for key, value in getattr(node, field_name).items():
            yield field_name, key
            yield field_name, value


def _unreceivable_issues(node: Node) -> list[Issue]:
    issues = []
    for field_name, value in _received_values(node):
        problem = unreceivable(value)
        if problem:
            issues.append(node.issue(FIELD_ISSUE_TYPES.get(field_name, "invalidNodeProperty"),
                                     f"Node '{node.name}': {field_name} value '{value}' "
                                     f"{problem}; no process can receive it.", field_name, value))
    return issues


def _unsupported_op(node: Node, runtime_name: str) -> Issue:
    if node.is_generic:
        message = f"Node '{node.name}' ({node.op}) is not supported by the '{runtime_name}' runtime."
    else:
        message = (f"Node '{node.name}' uses the runtime-specific component '{node.op}', but the pipeline runtime "
                   f"is '{runtime_name}', which has no component catalog providing it. Run it on the runtime "
                   "the component was written for, or replace it with a notebook or script node.")
    return node.issue("invalidNodeType", message, "op", node.op)


def _graph_issues(pipeline: Pipeline) -> list[Issue]:
    issues = []
    for node in pipeline.nodes.values():
        for parent_id in node.parent_ids:
            if parent_id not in pipeline.nodes:
                issues.append(node.issue("invalidJSON", f"Node '{node.name}' has a link from node '{parent_id}', "
                                         "which does not exist.", "inputs", parent_id))
    in_cycles = pipeline.nodes_in_cycles()
    if in_cycles:
        names = ", ".join(f"'{node.name}'" for node in in_cycles)
        issues.append(Issue("circularReference", f"The pipeline contains a circular dependency between nodes "
                            f"(involving {names}): remove one of the links.", node_id=in_cycles[0].id,
                            node_name=in_cycles[0].name, value=[node.id for node in in_cycles]))
    if len(pipeline.nodes) > 1:
        children = pipeline.children()
        issues += [node.issue("singletonReference", f"Node '{node.name}' is not connected to any other node.",
                              severity=Severity.WARNING)
                   for node in pipeline.nodes.values() if not node.parent_ids and not children[node.id]]
    return issues


def _parameter_issues(pipeline: Pipeline) -> list[Issue]:
    issues, seen = [], set()
    for parameter in pipeline.parameters:
        texts = [value for value in (parameter.name, parameter.value, parameter.default_value)
                 if isinstance(value, str)]
        problems = [(text, problem) for text in texts if (problem := unreceivable(text))]
        if problems:
            issues += [Issue("invalidPipelineParameter", f"Pipeline parameter '{parameter.name}': "
                             f"'{text}' {problem}; no process can receive it.",
                             property_name="pipeline_parameters", value=text) for text, problem in problems]
            continue
        if parameter.name in seen:
            issues.append(Issue("invalidPipelineParameter", f"Pipeline parameter '{parameter.name}' is defined "
                                "more than once.", property_name="pipeline_parameters", value=parameter.name))
        seen.add(parameter.name)
        if not ENV_VAR_NAME.match(parameter.name):
            issues.append(Issue("invalidPipelineParameter", f"Pipeline parameter name '{parameter.name}' is not a "
                                "valid identifier (letters, digits, '_', not starting with a digit).",
                                property_name="pipeline_parameters", value=parameter.name))
        if parameter.required and parameter.effective_value in (None, ""):
            issues.append(Issue("invalidPipelineParameter", f"Pipeline parameter '{parameter.name}' is required "
                                "but has no value.", property_name="pipeline_parameters", value=parameter.name))
    return issues


def _file_issues(node: Node, root: Path) -> list[Issue]:
    if not node.filename:
        return [node.issue("invalidNodeProperty", f"Node '{node.name}' has no file: set its filename.", "filename")]
    path = confined_path(root, node.filename)
    if path is None:
        return [node.issue("invalidFilePath", f"Node '{node.name}': file '{node.filename}' is outside the "
                           "workspace root; only files inside it can run.", "filename", node.filename)]
    issues = []
    if not _exists(path, file=True):
        issues.append(node.issue("invalidFilePath", f"Node '{node.name}': file '{node.filename}' does not exist.",
                                 "filename", node.filename))
    if not node.filename.endswith(EXTENSIONS[node.kind]):
        issues.append(node.issue("invalidFileType", f"Node '{node.name}': '{node.filename}' is not a "
                                 f"{' or '.join(EXTENSIONS[node.kind])} file, as a {node.kind} node needs.",
                                 "filename", node.filename))
    node_dir = posixpath.dirname(node.filename)
    for dependency in node.dependencies:
        issues += _dependency_issues(node, root, posixpath.normpath(posixpath.join(node_dir, dependency)),
                                     dependency)
    for output in node.outputs:
        if confined_path(root, posixpath.normpath(posixpath.join(node_dir, output))) is None:
            issues.append(node.issue("invalidFilePath", f"Node '{node.name}': output '{output}' is outside the "
                                     "workspace root.", "outputs", output))
    return issues


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
    if not _exists(path):
        return [node.issue("invalidFilePath", f"Node '{node.name}': dependency '{declared}' does not exist.",
                           "dependencies", declared)]
    return []


def _image_issues(node: Node, required: bool) -> list[Issue]:
    image = node.runtime_image
    if image is None:
        if not required:
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


def _resource_issues(node: Node) -> list[Issue]:
    issues = []
    for name in ("cpu", "cpu_limit", "memory", "memory_limit", "gpu", "kubernetes_shared_mem_size"):
        value = getattr(node, name)
        if value is not None and value <= 0 and not (name == "gpu" and value == 0):
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': {name} must be a positive number, "
                                     f"got {value:g}.", name, value))
    if node.gpu_vendor and not qualified_name_valid(node.gpu_vendor):
        issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': gpu_vendor '{node.gpu_vendor}' is not a "
                                 "Kubernetes resource name such as nvidia.com/gpu or amd.com/gpu.", "gpu_vendor",
                                 node.gpu_vendor))
    if node.gpu is not None and node.gpu != int(node.gpu):
        issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': gpu must be a whole number.", "gpu",
                                 node.gpu))
    for request, limit in (("cpu", "cpu_limit"), ("memory", "memory_limit")):
        low, high = getattr(node, request), getattr(node, limit)
        if low is not None and high is not None and 0 < high < low:
            issues.append(node.issue("invalidNodeProperty", f"Node '{node.name}': {limit} ({high:g}) is below the "
                                     f"{request} request ({low:g}).", limit, high))
    return issues


def _kubernetes_issues(node: Node) -> list[Issue]:
    issues = [node.issue("invalidEnvironmentVariable", f"Node '{node.name}': environment variable name "
                         f"'{name}' is not valid (letters, digits and '_', not starting with a digit).",
                         "env_vars", name)
              for name in node.env_vars if not ENV_VAR_NAME.match(name)]
    for secret in node.kubernetes_secrets:
        if not (ENV_VAR_NAME.match(secret.env_var) and DNS_SUBDOMAIN.match(secret.name) and len(secret.name) <= 253
                and SECRET_KEY.match(secret.key)):
            issues.append(node.issue("invalidKubernetesSecret", f"Node '{node.name}': Kubernetes secret "
                                     f"'{secret.name}' (key '{secret.key}', variable '{secret.env_var}') needs a "
                                     "variable name, a lower-case DNS name and a key of letters, digits, '-', '_' "
                                     "or '.'.", "kubernetes_secrets", secret.name))
    for volume in node.mounted_volumes:
        if not (volume.path.startswith("/") and DNS_SUBDOMAIN.match(volume.pvc_name) and len(volume.pvc_name) <= 253):
            issues.append(node.issue("invalidVolumeMount", f"Node '{node.name}': volume '{volume.pvc_name}' at "
                                     f"'{volume.path}' needs an absolute mount path and a lower-case DNS name for "
                                     "the claim.", "mounted_volumes", volume.pvc_name))
    for toleration in node.kubernetes_tolerations:
        problem = None
        if toleration.operator not in TOLERATION_OPERATORS:
            problem = f"operator '{toleration.operator}' must be 'Exists' or 'Equal'"
        elif toleration.effect not in TOLERATION_EFFECTS:
            problem = f"effect '{toleration.effect}' must be NoSchedule, PreferNoSchedule or NoExecute"
        elif toleration.operator == "Exists" and toleration.value:
            problem = "operator 'Exists' takes no value"
        elif toleration.key and not qualified_name_valid(toleration.key):
            problem = f"key '{toleration.key}' is not a valid Kubernetes key"
        if problem:
            issues.append(node.issue("invalidKubernetesToleration", f"Node '{node.name}': toleration {problem}.",
                                     "kubernetes_tolerations", toleration.key))
    for key, value in node.kubernetes_pod_labels.items():
        if not qualified_name_valid(key) or (value and (len(value) > 63 or not NAME_PART.match(value))):
            issues.append(node.issue("invalidKubernetesLabel", f"Node '{node.name}': pod label '{key}={value}' is not "
                                     "a valid Kubernetes label.", "kubernetes_pod_labels", key))
    issues += [node.issue("invalidKubernetesAnnotation", f"Node '{node.name}': pod annotation key '{key}' is not a "
                          "valid Kubernetes key (optional lower-case DNS prefix, '/', name).",
                          "kubernetes_pod_annotations", key)
               for key in node.kubernetes_pod_annotations if not qualified_name_valid(key)]
    return issues
