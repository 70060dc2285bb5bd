"""On-disk names for user-supplied identifiers (node ids, pipeline names, run names, artifact names).

Such values are data: a node id of `../../x` must not decide where a log is written. Every file or object name
derived from one goes through `safe_name`, which keeps a readable slug and adds a short hash of the raw value, so
two different ids never share a name and no id can become `..`, `/`, a hidden file or an over-long component.
"""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
SLUG_LIMIT = 48
HASH_CHARACTERS = 10


def safe_name(raw: str, limit: int = SLUG_LIMIT) -> str:
    """One path component for `raw`: `[A-Za-z0-9_.-]` only, no leading dot, at most `limit` + 11 characters."""
    slug = _UNSAFE.sub("-", raw).strip(".-")[:limit].strip(".-") or "x"
    digest = hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARACTERS]
    return f"{slug}-{digest}"
