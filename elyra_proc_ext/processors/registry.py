"""Finds processors through the `elyra_proc_ext.processors` entry point group; ours are registered the same way."""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from traitlets import List, Unicode
from traitlets.config import LoggingConfigurable

from .base import PipelineProcessor

ENTRY_POINT_GROUP = "elyra_proc_ext.processors"


class ProcessorRegistry(LoggingConfigurable):
    """Loads each enabled processor once; a processor that fails to load is logged and left out."""

    enabled_runtimes = List(Unicode(), default_value=[], config=True,
                            help="Names of the processors to enable (entry point names). Empty: all installed.")
    disabled_runtimes = List(Unicode(), default_value=[], config=True,
                             help="Names of installed processors to leave disabled.")

    def __init__(self, root_dir: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root_dir = root_dir
        self._processors: dict[str, PipelineProcessor] | None = None

    def _load(self) -> dict[str, PipelineProcessor]:
        processors: dict[str, PipelineProcessor] = {}
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            name = entry_point.name
            if (self.enabled_runtimes and name not in self.enabled_runtimes) or name in self.disabled_runtimes:
                continue
            try:
                processor_class = entry_point.load()
                if not (isinstance(processor_class, type) and issubclass(processor_class, PipelineProcessor)):
                    raise TypeError(f"{entry_point.value} is not a PipelineProcessor subclass")
                if processor_class.name != name:
                    raise TypeError(f"its class name attribute is '{processor_class.name}'; it must equal the "
                                    f"entry point name '{name}'")
                processors[name] = processor_class(root_dir=self.root_dir, parent=self)
            except Exception as error:  # a broken plug-in must not take the server down
                self.log.error("Pipeline processor '%s' (%s) could not be loaded: %s", name, entry_point.value, error)
        return processors

    @property
    def processors(self) -> dict[str, PipelineProcessor]:
        if self._processors is None:
            self._processors = self._load()
        return self._processors

    def get(self, name: str) -> PipelineProcessor | None:
        return self.processors.get(name)

    def names(self) -> list[str]:
        return sorted(self.processors)

    async def close(self) -> None:
        """Let each loaded processor release what it holds; one failing to must not stop the others."""
        for name, processor in (self._processors or {}).items():
            try:
                await processor.close()
            except Exception as error:
                self.log.error("Pipeline processor '%s' did not close cleanly: %s", name, error)
