"""Elyra's metadata files, shared by runtime configurations and component catalogs.

Elyra keeps each instance of a schemaspace as `<jupyter data dir>/metadata/<schemaspace>/<name>.json`:
`{"display_name", "schema_name", "metadata": {...}}`. Instances hold secrets (passwords, API keys), so files are
written atomically with mode 0600 in a 0700 directory, and what leaves through `masked_metadata` has the secret
fields and the credentials inside URLs masked. A secret sent back masked, or left out, in an update keeps the stored
one (`keep_unchanged_secrets`), so clients never need to read it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from .errors import ElyraProcError
from .redaction import redact_credentials

INSTANCE_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,199}", re.IGNORECASE)  # a file name, `.json` included
MASK = "********"


def name_from_display_name(display_name: str, fallback: str) -> str:
    """Elyra's rule: lower case, runs of other characters become '_'."""
    return re.sub(r"[^a-z0-9]+", "_", display_name.lower()).strip("_") or fallback


def masked_metadata(metadata: dict[str, Any], secret_fields: Iterable[str]) -> dict[str, Any]:
    """`metadata` as clients see it: secret fields that are set masked, credentials inside URLs masked."""
    secrets = set(secret_fields)
    return {key: MASK if key in secrets and value else redact_credentials(value) for key, value in metadata.items()}


def keep_unchanged_secrets(metadata: dict[str, Any], previous: dict[str, Any],
                           secret_fields: Iterable[str]) -> dict[str, Any]:
    """A masked or omitted secret in an update means 'keep the stored one'; so does a URL (or a list of URLs)
    sent back as answers show it, its credentials masked."""

    def unmasked(value: Any, stored: Any) -> Any:
        if isinstance(value, str) and isinstance(stored, str) and value != stored \
                and value == redact_credentials(stored):
            return stored
        if isinstance(value, list) and isinstance(stored, list):
            masked_stored = {redact_credentials(item): item for item in stored if isinstance(item, str)}
            return [masked_stored.get(item, item) if isinstance(item, str) else item for item in value]
        return value

    merged = {key: unmasked(value, previous[key]) if key in previous else value for key, value in metadata.items()}
    for key in secret_fields:
        if merged.get(key) == MASK or (key not in merged and key in previous):
            if key in previous:
                merged[key] = previous[key]
            else:
                merged.pop(key, None)
    return merged


def write_json_atomically(path: Path, content: Any) -> None:
    """Write `content` to `path` through a temporary file of mode 0600 renamed over it: readers never see half a
    file, and no other user can read it, even for a moment."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(content, file, indent=2)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@dataclass
class MetadataInstance:
    """One instance file; subclasses name the fields that hold secrets."""

    name: str
    display_name: str
    schema_name: str
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def secret_fields(self) -> tuple[str, ...]:
        return ()

    def to_json(self) -> dict[str, Any]:
        """The instance as clients see it: secrets and credentials inside URLs masked, never returned."""
        return {"name": self.name, "display_name": self.display_name, "schema_name": self.schema_name,
                "metadata": masked_metadata(self.metadata, self.secret_fields)}


Instance = TypeVar("Instance", bound=MetadataInstance)


class MetadataStore(Generic[Instance]):
    """The instances of one schemaspace directory, read as `instance_type`. `noun` ("Runtime configuration") names an
    instance in messages; `error` is the `ElyraProcError` subclass raised, with 400 (bad name, unreadable), 404
    (missing) or 409 (exists).
    """

    def __init__(self, directory: Path, noun: str, error: type[ElyraProcError],
                 instance_type: type[Instance]) -> None:
        self.directory = directory
        self.noun = noun
        self.error = error
        self.instance_type = instance_type

    def load(self, name: str) -> Instance:
        return self.instance_type(name, *self.read(name))

    def list(self) -> list[Instance]:
        """Every readable instance; a file that cannot be read is left out (`load` names the problem)."""
        instances = []
        for name in self.names():
            with contextlib.suppress(self.error):
                instances.append(self.load(name))
        return instances

    def save(self, instance: Instance, *, create: bool) -> None:
        """Write atomically with mode 0600; `create` refuses to replace an existing instance (409)."""
        self.write(instance.name, instance.display_name, instance.schema_name, instance.metadata, create=create)

    def path(self, name: str) -> Path:
        if not INSTANCE_NAME.fullmatch(name):
            raise self.error(f"'{name[:80]}' is not a valid {self.noun.lower()} name (up to 200 letters, digits, "
                             "'-', '_' and '.').")
        return self.directory / f"{name}.json"

    def read(self, name: str) -> tuple[str, str, dict[str, Any]]:
        """(display_name, schema_name, metadata) of the instance `name`."""
        path = self.path(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise self.error(f"{self.noun} '{name}' does not exist (looked for {path}); create it or choose "
                             "another one.", 404) from None
        except (OSError, ValueError) as error:
            raise self.error(f"{self.noun} '{name}' ({path}) cannot be read: {error}.") from None
        if not isinstance(data, dict) or not isinstance(data.get("schema_name"), str):
            raise self.error(f"{self.noun} '{name}' ({path}) has no schema_name.")
        metadata = data.get("metadata")
        return (str(data.get("display_name") or name), data["schema_name"],
                dict(metadata) if isinstance(metadata, dict) else {})

    def names(self) -> list[str]:
        return sorted(path.stem for path in self.directory.glob("*.json")) if self.directory.is_dir() else []

    def write(self, name: str, display_name: str, schema_name: str, metadata: dict[str, Any], *,
              create: bool) -> None:
        """Write atomically with mode 0600; `create` refuses to replace an existing instance (409), an update
        refuses a missing one (404)."""
        path = self.path(name)
        if create and path.exists():
            raise self.error(f"{self.noun} '{name}' already exists; update it instead.", 409)
        if not create and not path.exists():
            raise self.error(f"{self.noun} '{name}' does not exist.", 404)
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        write_json_atomically(path, {"display_name": display_name, "schema_name": schema_name, "metadata": metadata})

    def delete(self, name: str) -> None:
        try:
            self.path(name).unlink()
        except FileNotFoundError:
            raise self.error(f"{self.noun} '{name}' does not exist.", 404) from None
