"""Runtime configurations where Elyra keeps them: `<jupyter data dir>/metadata/runtimes/<name>.json`.

Each file is `{"display_name", "schema_name", "metadata": {...}}`; `schema_name` names the processor.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CONFIG_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$", re.IGNORECASE)


@dataclass
class RuntimeConfig:
    name: str
    display_name: str
    schema_name: str
    metadata: dict[str, Any]


class RuntimeConfigError(ValueError):
    """A configuration that is missing or unreadable; the message says which file and how to fix it."""


class RuntimeConfigStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        if not CONFIG_NAME.match(name):
            raise RuntimeConfigError(f"'{name}' is not a valid runtime configuration name (letters, digits, "
                                     "'-', '_' and '.').")
        return self.directory / f"{name}.json"

    def load(self, name: str) -> RuntimeConfig:
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RuntimeConfigError(f"Runtime configuration '{name}' does not exist (looked for {path}); create it "
                                     "or choose another one.") from None
        except (OSError, ValueError) as error:
            raise RuntimeConfigError(f"Runtime configuration '{name}' ({path}) cannot be read: {error}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("schema_name"), str):
            raise RuntimeConfigError(f"Runtime configuration '{name}' ({path}) has no schema_name.")
        return RuntimeConfig(name=name, display_name=str(data.get("display_name") or name),
                             schema_name=data["schema_name"], metadata=dict(data.get("metadata") or {}))

    def names(self) -> list[str]:
        return sorted(path.stem for path in self.directory.glob("*.json")) if self.directory.is_dir() else []
