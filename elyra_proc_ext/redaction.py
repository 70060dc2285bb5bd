"""Credentials written inside URLs (`https://user:password@host/...`) never leave this server: not in an answer,
a log line, an error or a run record. Users paste such URLs into any configuration field, and libraries repeat
the URL they were given in their own messages."""

from __future__ import annotations

import re
from typing import TypeVar

T = TypeVar("T")
MASK = "***"
_URL_CREDENTIALS = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s]+@")


def redact_credentials(value: T) -> T:
    """`value` with the user-info part of every URL in it masked; strings, and lists and dicts of them, deeply."""
    if isinstance(value, str):
        return _URL_CREDENTIALS.sub(rf"\g<scheme>{MASK}@", value) if "@" in value else value  # type: ignore[return-value]
    if isinstance(value, dict):
        return {key: redact_credentials(item) for key, item in value.items()}  # type: ignore[return-value]
    if isinstance(value, list):
        return [redact_credentials(item) for item in value]  # type: ignore[return-value]
    return value


def without_credentials(url: str) -> str:
    """`url` with its user-info part removed, for a URL that is handed on (to pods, in a compiled pipeline)."""
    return _URL_CREDENTIALS.sub(r"\g<scheme>", url)
