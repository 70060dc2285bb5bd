"""Runtime configurations where Elyra keeps them: `<jupyter data dir>/metadata/runtimes/<name>.json`.

Each file is `{"display_name", "schema_name", "metadata": {...}}`; `schema_name` names the processor, so an
Elyra user's existing configurations work unchanged. Files are written atomically with mode 0600 because they
hold passwords, and every answer that leaves this module through `to_json` has the secrets masked.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import RuntimeConfigError
from .redaction import redact_credentials

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

CONFIG_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]*", re.IGNORECASE)
SECRET_FIELDS = ("api_password", "cos_password")
MASK = "********"


@dataclass
class RuntimeConfig:
    name: str
    display_name: str
    schema_name: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The configuration as clients see it: secrets and credentials inside URLs masked, never returned."""
        metadata = {key: MASK if key in SECRET_FIELDS and value else redact_credentials(value)
                    for key, value in self.metadata.items()}
        return {"name": self.name, "display_name": self.display_name, "schema_name": self.schema_name,
                "metadata": metadata}

    def file_content(self) -> dict[str, Any]:
        return {"display_name": self.display_name, "schema_name": self.schema_name, "metadata": self.metadata}


def name_from_display_name(display_name: str) -> str:
    """Elyra's rule: lower case, runs of other characters become '_'."""
    return re.sub(r"[^a-z0-9]+", "_", display_name.lower()).strip("_") or "runtime"


def schema_errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Each violation of a runtime's configuration schema with its field. jsonschema is imported here, when a
    configuration is saved, not by every CLI command that reads configurations."""
    from jsonschema import Draft202012Validator

    return violations(Draft202012Validator(schema), document, "(configuration)")


def violations(validator: Validator, document: Any, whole: str) -> list[str]:
    """Each violation with its field (`whole` for the document itself); of alternatives (anyOf), the closest one's.
    Messages about secret fields never repeat the value, nor do they repeat a credential written in a URL."""
    from jsonschema.exceptions import best_match

    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    messages = []
    for error in (best_match([found]) for found in errors):
        path = ".".join(map(str, error.absolute_path)) or whole
        secret = bool(error.absolute_path) and error.absolute_path[-1] in SECRET_FIELDS
        messages.append(f"{path}: {'must be a string' if secret else redact_credentials(error.message)}")
    return messages


def keep_unchanged_secrets(metadata: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    """A masked or omitted secret in an update means 'keep the stored one', so clients never need to read it; so
    does a URL sent back as answers show it, its credentials masked."""
    merged = {key: previous[key] if isinstance(value, str) and key in previous and value != previous[key]
              and value == redact_credentials(previous[key]) else value for key, value in metadata.items()}
    for key in SECRET_FIELDS:
        if merged.get(key) == MASK or (key not in merged and key in previous):
            if key in previous:
                merged[key] = previous[key]
            else:
                merged.pop(key, None)
    return merged


class RuntimeConfigStore:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, name: str) -> Path:
        if not CONFIG_NAME.fullmatch(name):
            raise RuntimeConfigError(f"'{name}' is not a valid runtime configuration name (letters, digits, "
                                     "'-', '_' and '.').")
        return self.directory / f"{name}.json"

    def load(self, name: str) -> RuntimeConfig:
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise RuntimeConfigError(f"Runtime configuration '{name}' does not exist (looked for {path}); create it "
                                     "or choose another one.", 404) from None
        except (OSError, ValueError) as error:
            raise RuntimeConfigError(f"Runtime configuration '{name}' ({path}) cannot be read: {error}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("schema_name"), str):
            raise RuntimeConfigError(f"Runtime configuration '{name}' ({path}) has no schema_name.")
        metadata = data.get("metadata")
        return RuntimeConfig(name=name, display_name=str(data.get("display_name") or name),
                             schema_name=data["schema_name"], metadata=dict(metadata) if isinstance(metadata, dict)
                             else {})

    def names(self) -> list[str]:
        return sorted(path.stem for path in self.directory.glob("*.json")) if self.directory.is_dir() else []

    def list(self) -> list[RuntimeConfig]:
        configs = []
        for name in self.names():
            with contextlib.suppress(RuntimeConfigError):
                configs.append(self.load(name))
        return configs

    def save(self, config: RuntimeConfig, *, create: bool) -> None:
        """Write atomically with mode 0600; `create` refuses to replace an existing configuration (409)."""
        path = self.path(config.name)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        if create and path.exists():
            raise RuntimeConfigError(f"Runtime configuration '{config.name}' already exists; update it instead.", 409)
        if not create and not path.exists():
            raise RuntimeConfigError(f"Runtime configuration '{config.name}' does not exist.", 404)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{config.name}.", suffix=".tmp")
        try:
            os.fchmod(descriptor, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                json.dump(config.file_content(), file, indent=2)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    def delete(self, name: str) -> None:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            raise RuntimeConfigError(f"Runtime configuration '{name}' does not exist.", 404) from None
