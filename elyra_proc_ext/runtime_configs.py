"""Runtime configurations where Elyra keeps them: `<jupyter data dir>/metadata/runtimes/<name>.json`.

Each file is `{"display_name", "schema_name", "metadata": {...}}`; `schema_name` names the processor, so an
Elyra user's existing configurations work unchanged. Files are written atomically with mode 0600 because they
hold passwords, and every answer that leaves this module through `to_json` has the secrets masked (both through
`metadata_store`, which component catalogs share).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import metadata_store
from .errors import RuntimeConfigError
from .metadata_store import MetadataInstance, MetadataStore
from .redaction import redact_credentials

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator

SECRET_FIELDS = ("api_password", "cos_password")


class RuntimeConfig(MetadataInstance):
    @property
    def secret_fields(self) -> tuple[str, ...]:
        return SECRET_FIELDS


def name_from_display_name(display_name: str) -> str:
    return metadata_store.name_from_display_name(display_name, "runtime")


def schema_errors(document: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """Each violation of a runtime's configuration schema with its field. jsonschema is imported here, when a
    configuration is saved, not by every CLI command that reads configurations."""
    from jsonschema import Draft202012Validator

    return violations(Draft202012Validator(schema), document, "(configuration)")


def violations(validator: Validator, document: Any, whole: str,
               secret_fields: tuple[str, ...] = SECRET_FIELDS) -> list[str]:
    """Each violation with its field (`whole` for the document itself); of alternatives (anyOf), the closest one's.
    Messages about `secret_fields` never repeat the value, nor do they repeat a credential written in a URL."""
    from jsonschema.exceptions import best_match

    errors = sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    messages = []
    for error in (best_match([found]) for found in errors):
        path = ".".join(map(str, error.absolute_path)) or whole
        secret = bool(error.absolute_path) and error.absolute_path[-1] in secret_fields
        message = "must be a string" if secret else redact_credentials(choice_message(error) or error.message)
        messages.append(f"{path}: {message}")
    return messages


def choice_message(error: ValidationError) -> str | None:
    """A value outside a choice of titled values (`oneOf` of `const`s, how schemas give enums their titles) named
    with the allowed values, as `enum` would, rather than jsonschema's "not valid under any of the given schemas"."""
    choices = error.schema.get("oneOf") if error.validator == "oneOf" and isinstance(error.schema, dict) else None
    if not choices or not all(isinstance(choice, dict) and "const" in choice for choice in choices):
        return None
    return f"{error.instance!r} is not one of {[choice['const'] for choice in choices]!r}"


def keep_unchanged_secrets(metadata: dict[str, Any], previous: dict[str, Any]) -> dict[str, Any]:
    return metadata_store.keep_unchanged_secrets(metadata, previous, SECRET_FIELDS)


class RuntimeConfigStore(MetadataStore[RuntimeConfig]):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, "Runtime configuration", RuntimeConfigError, RuntimeConfig)
