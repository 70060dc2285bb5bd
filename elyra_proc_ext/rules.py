"""The rules values must follow to reach Kubernetes, a container registry, the workspace or a process.

Shared by the node property checks (`properties`), the pipeline checks (`validation`) and the handlers, so each
rule is written once.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

ENV_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
IMAGE_REFERENCE = re.compile(
    r"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$")
TOLERATION_OPERATORS = ("Equal", "Exists")
TOLERATION_EFFECTS = ("", "NoSchedule", "PreferNoSchedule", "NoExecute")


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


def path_exists(path: Path, *, file: bool = False) -> bool:
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
