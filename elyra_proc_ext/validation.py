"""Semantic checks of a parsed `Pipeline`, reported with Elyra's issue types so Elyra's clients understand them.

One validator serves the REST API, the CLI and every processor, so users never see two verdicts on one file.
Each node property's own check comes from the property table (`properties`); the checks of the pipeline as a
whole (links, cycles, parameters, node types) are here, and those of catalog component nodes in `custom_nodes`.
It touches the file system (existence, symlinks): call it off the event loop.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

from .custom_nodes import custom_node_issues
from .model import Issue, Node, Pipeline, Severity
from .properties import PROPERTIES, CheckContext, received_texts
from .rules import ENV_VAR_NAME, unreceivable

PATH_PROPERTIES = ("filename", "dependencies")  # node properties naming files, resolved like the node's file


def validate_pipeline(pipeline: Pipeline, root_dir: Path, *, requires_runtime_image: bool,
                      supported_ops: Iterable[str], runtime_name: str, base_dir: str | None = None,
                      runs_components: bool = False, catalog_names: Callable[[], list[str]] = list) -> list[Issue]:
    """Every check that does not depend on a particular processor's internals. `base_dir` is where node paths
    were read from, as `parsing.parse` took it, so a missing file's issue can say how to fix it. Custom nodes are
    checked against their components when the runtime `runs_components` (`catalog_names`: the catalogs searched,
    named when a component is unknown)."""
    supported = set(supported_ops)
    issues = _graph_issues(pipeline)
    issues += _parameter_issues(pipeline)
    context = CheckContext(root_dir.resolve(), requires_runtime_image,
                           frozenset(parameter.name for parameter in pipeline.parameters))
    for node in pipeline.nodes.values():
        if (node.op not in supported) if node.is_generic else not runs_components:
            issues.append(_unsupported_op(node, runtime_name))
        elif node.is_generic:
            issues += _node_issues(node, context)
        else:
            issues += custom_node_issues(node, pipeline, catalog_names)
    return _with_path_hints(issues, pipeline, base_dir)


def _with_path_hints(issues: list[Issue], pipeline: Pipeline, base_dir: str | None) -> list[Issue]:
    """Missing or escaping files get the fix appended: where their paths were read from and, for a pipeline in a
    folder whose paths were read from the root (a file's content posted without `?paths=pipeline`), that option."""
    folder = posixpath.dirname(pipeline.source or "")
    read_from = folder if base_dir is None else base_dir
    if not read_from:
        where = "the workspace root"
    else:
        where = (f"the pipeline file's folder, '{read_from}/'" if base_dir is None else f"'{read_from}/'") + \
            " (shown here from the workspace root)"
    hint = f" The pipeline's paths are read relative to {where}: correct the node's path or create the file."
    if base_dir == "" and folder:
        hint += (f" If this pipeline's paths are relative to its file ({pipeline.source}), post it with "
                 "?paths=pipeline.")
    return [replace(issue, message=issue.message + hint) if issue.type == "invalidFilePath"
            and issue.property_name in PATH_PROPERTIES else issue for issue in issues]


def _node_issues(node: Node, context: CheckContext) -> list[Issue]:
    """Each property's own check; values no process can receive first and alone, as the other checks would only
    repeat them back, unprintably."""
    unusable = [node.issue(prop.issue_type, f"Node '{node.name}': {prop.name} value '{text}' {problem}; no process "
                           "can receive it.", prop.name, text)
                for prop, text in received_texts(node) if (problem := unreceivable(text))]
    if unusable:
        return unusable
    return [issue for prop in PROPERTIES if prop.check for issue in prop.check(node, context)]


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
