"""Checks a pipeline document against the runtime it would run on: parse, choose the processor and its
configuration, validate. Pure CPU and file-system work, with no state of its own, so it can run in a worker
process as well as in the server or the CLI."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .custom_nodes import COMPONENT_RUNTIME_TYPE, ComponentLookup
from .model import Issue, Pipeline
from .parsing import decode, parse
from .processors.base import PipelineProcessor
from .processors.registry import ProcessorRegistry
from .runtime_configs import RuntimeConfig, RuntimeConfigError, RuntimeConfigStore
from .validation import validate_pipeline

DEFAULT_RUNTIME = "local"


@dataclass
class Submission:
    """A pipeline checked against the processor that would run it; `accepted` when nothing fatal was found."""

    pipeline: Pipeline | None
    issues: list[Issue] = field(default_factory=list)
    processor: PipelineProcessor | None = None
    runtime_config: RuntimeConfig | None = None
    options: dict[str, str] = field(default_factory=dict)

    @property
    def accepted(self) -> bool:
        return self.pipeline is not None and self.processor is not None and not any(i.fatal for i in self.issues)

    @property
    def unreadable(self) -> bool:
        """The posted text was not JSON at all: a malformed request rather than an invalid pipeline."""
        return self.pipeline is None and any(issue.type == "malformedJSON" for issue in self.issues)


def posted_source(document: Any) -> str | None:
    """Where the editor saved a posted pipeline (the primary pipeline's app_data.source), if it says."""
    if not isinstance(document, dict) or not isinstance(document.get("pipelines"), list):
        return None
    for pipeline in document["pipelines"]:
        if isinstance(pipeline, dict) and pipeline.get("id") == document.get("primary_pipeline"):
            app_data = pipeline.get("app_data")
            source = app_data.get("source") if isinstance(app_data, dict) else None
            return source if isinstance(source, str) else None
    return None


class PipelineChecker:
    def __init__(self, registry: ProcessorRegistry, configs: RuntimeConfigStore, root_dir: Path,
                 components: ComponentLookup | None = None) -> None:
        self.registry = registry
        self.configs = configs
        self.root_dir = root_dir
        self.components = components  # where custom nodes' components are found; None: nowhere

    def check_posted(self, posted: Any, *, relative_to_pipeline: bool = False, **options: Any) -> Submission:
        """A pipeline as clients post it: JSON bytes (decoded here, off the server's event loop) or a decoded
        document, found at the `source` its editor recorded; paths are relative to the root unless
        `relative_to_pipeline`."""
        document = posted
        if isinstance(posted, bytes):
            document, issues = decode(posted)
            if issues:
                return Submission(None, issues)
        return self.check(document, source=posted_source(document), base_dir=None if relative_to_pipeline else "",
                          **options)

    def check(self, document: Any, *, source: str | None = None, base_dir: str | None = None,
              runtime: str | None = None, runtime_config: str | None = None,
              parameters: dict[str, str] | None = None, options: dict[str, str] | None = None) -> Submission:
        """Parse and validate; blocking (file system), so async callers use `prepare`. `options` are passed to
        the processor as they are (for Kubeflow Pipelines: `experiment`)."""
        components = self.components
        parsed = parse(document, source=source, base_dir=base_dir,
                       components=components.component_for if components else None)
        if parsed.pipeline is None:
            return Submission(None, parsed.issues)
        pipeline = parsed.pipeline
        if parameters:
            parsed.issues += self._apply_parameters(pipeline, parameters)
        processor, config, runtime_issues = self._resolve_runtime(runtime, runtime_config or pipeline.runtime_config)
        submission = Submission(pipeline, parsed.issues + runtime_issues, processor, config, dict(options or {}))
        if processor is None:
            return submission
        flagged = {issue.node_id for issue in parsed.issues if issue.fatal}
        checked = replace(pipeline, nodes={k: n for k, n in pipeline.nodes.items() if k not in flagged})
        submission.issues += validate_pipeline(checked, self.root_dir, runtime_name=processor.name,
                                               requires_runtime_image=processor.needs_runtime_image(),
                                               supported_ops=processor.supported_ops, base_dir=base_dir,
                                               runs_components=processor.runtime_type == COMPONENT_RUNTIME_TYPE,
                                               catalog_names=components.catalog_names if components else list)
        if submission.accepted:
            submission.issues += processor.validate(pipeline, config.metadata if config else None)
        return submission

    @staticmethod
    def _apply_parameters(pipeline: Pipeline, values: dict[str, Any]) -> list[Issue]:
        """Set given parameter values, typed as the pipeline declares them; each misfit is an issue."""
        issues, updated = [], []
        for parameter in pipeline.parameters:
            if parameter.name in values:
                try:
                    parameter = replace(parameter, value=parameter.coerce(values[parameter.name]))
                except ValueError:
                    issues.append(Issue("invalidPipelineParameter", f"Parameter '{parameter.name}' is "
                                        f"{parameter.type}; '{values[parameter.name]}' is not.",
                                        property_name="pipeline_parameters", value=parameter.name))
            updated.append(parameter)
        pipeline.parameters = updated
        issues += [Issue("invalidPipelineParameter", f"Parameter '{name}' was given a value but the pipeline does "
                         "not define it.", property_name="pipeline_parameters", value=name)
                   for name in sorted(set(values) - {p.name for p in pipeline.parameters})]
        return issues

    def _resolve_runtime(self, runtime: str | None, config_name: str | None
                         ) -> tuple[PipelineProcessor | None, RuntimeConfig | None, list[Issue]]:
        config = None
        if config_name and runtime != DEFAULT_RUNTIME:
            try:
                config = self.configs.load(config_name)
            except RuntimeConfigError as error:
                return None, None, [Issue("invalidRuntime", str(error), property_name="runtime_config",
                                          value=config_name)]
            if runtime and runtime != config.schema_name:
                return None, None, [Issue("invalidRuntime", f"Runtime configuration '{config_name}' is for the "
                                          f"'{config.schema_name}' runtime, not '{runtime}'.",
                                          property_name="runtime_config", value=config_name)]
        name = config.schema_name if config else (runtime or DEFAULT_RUNTIME)
        processor = self.registry.get(name)
        if processor is None:
            available = ", ".join(self.registry.names()) or "none"
            where = f" (named by runtime configuration '{config.name}')" if config else ""
            return None, config, [Issue("invalidRuntime", f"Runtime '{name}'{where} is not available on this "
                                        f"server (available: {available}); install or enable its processor.",
                                        property_name="runtime_config" if config else "runtime", value=name)]
        return processor, config, []

