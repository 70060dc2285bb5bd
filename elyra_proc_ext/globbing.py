"""One bounded glob for dependency patterns, used by validation and by staging alike.

`glob.glob(recursive=True)` explores every combination of repeated `**` segments: `**/**/**/**/*.py` over a tree
thirty folders deep took minutes of CPU, and one such pattern could hold a worker for as long. This matcher
collapses consecutive `**`, visits each folder once per pattern position (following links as `glob` does, but not
round a link loop) and gives up after `MAX_VISITED_PATHS` paths with `PatternTooBroadError`.

Matching follows `glob`: `*`, `?` and `[...]` within one path component, hidden names only when the pattern's
component starts with '.', and `**` (only when `recursive`) for zero or more folders; otherwise `**` is `*`.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BadRequestError

MAX_VISITED_PATHS = 100_000
MAGIC = re.compile(r"[*?[]")


class PatternTooBroadError(BadRequestError):
    """A pattern visited more paths than allowed before its matches were known."""

    def __init__(self, pattern: str, limit: int) -> None:
        super().__init__(f"dependency pattern '{pattern}' matches too much (more than {limit:,} paths to look "
                         "at): name the folders or files.")
        self.pattern, self.limit = pattern, limit

    def __reduce__(self) -> tuple[type[PatternTooBroadError], tuple[str, int]]:
        """Raised in worker processes (staging): it must cross back to the server intact."""
        return type(self), (self.pattern, self.limit)


def has_magic(pattern: str) -> bool:
    return MAGIC.search(pattern) is not None


def bounded_glob(base: Path, pattern: str, *, recursive: bool, limit: int | None = None) -> list[str]:
    """Sorted paths under `base` (relative, '/'-separated) that `pattern` (relative, normalised) matches.
    Raises PatternTooBroadError once more than `limit` (default `MAX_VISITED_PATHS`) paths were looked at."""
    return _Search(base, pattern, recursive, MAX_VISITED_PATHS if limit is None else limit).run()


@dataclass(frozen=True)
class _Step:
    """A folder to look in for pattern component `position`; `heads` are the real folders the path entered
    (the base, then each link target), so a link back into one of them is not followed round again."""

    relative: str
    position: int
    heads: tuple[str, ...]


class _Search:
    def __init__(self, base: Path, pattern: str, recursive: bool, limit: int) -> None:
        self.base, self.pattern, self.limit = base, pattern, limit
        self.segments: list[str] = []
        for segment in pattern.split("/"):
            if not (recursive and segment == "**" and self.segments and self.segments[-1] == "**"):
                self.segments.append(segment)
        self.matchers = [None if recursive and s == "**" else _compiled(s) if has_magic(s) else s
                         for s in self.segments]
        self.matches: set[str] = set()
        self.pending = [_Step("", 0, (os.path.realpath(base),))]
        self.seen: set[tuple[str, int]] = set()
        self.visited = 0

    def run(self) -> list[str]:
        while self.pending:
            step = self.pending.pop()
            if (step.relative, step.position) not in self.seen:
                self.seen.add((step.relative, step.position))
                self._look(step)
        return sorted(self.matches)

    def _count(self) -> None:
        self.visited += 1
        if self.visited > self.limit:
            raise PatternTooBroadError(self.pattern, self.limit)

    def _look(self, step: _Step) -> None:
        last = step.position == len(self.segments) - 1
        matcher = self.matchers[step.position]
        if isinstance(matcher, str):  # a literal component: one look, no listing
            self._count()
            candidate = _joined(step.relative, matcher)
            if last and os.path.lexists(self.base / candidate):
                self.matches.add(candidate)
            elif not last and (self.base / candidate).is_dir():
                self.pending.append(_Step(candidate, step.position + 1, step.heads))
            return
        if matcher is None:  # `**`: zero folders here; one more is taken when this folder is listed
            if last and step.relative:
                self.matches.add(step.relative)
            elif not last:
                self.pending.append(_Step(step.relative, step.position + 1, step.heads))
        hidden_allowed = self.segments[step.position].startswith(".")
        for name, is_dir, is_link in _entries(self.base / step.relative):
            self._count()
            candidate = _joined(step.relative, name)
            if matcher is None:
                if name.startswith("."):
                    continue
                if is_dir:
                    self._descend(step, candidate, step.position, is_link)
                elif last:
                    self.matches.add(candidate)
            elif (hidden_allowed or not name.startswith(".")) and matcher.match(name):
                if last:
                    self.matches.add(candidate)
                elif is_dir:
                    self._descend(step, candidate, step.position + 1, is_link)

    def _descend(self, step: _Step, candidate: str, position: int, is_link: bool) -> None:
        heads = step.heads
        if is_link:
            target = os.path.realpath(self.base / candidate)
            here = os.path.realpath(self.base / step.relative)
            if any(_within(folder, target) for folder in (*heads, here)):
                return  # a link back into a folder this path already went through
            heads = (*heads, target)
        self.pending.append(_Step(candidate, position, heads))


def _joined(relative: str, name: str) -> str:
    return f"{relative}/{name}" if relative else name


def _within(inner: str, outer: str) -> bool:
    return inner == outer or inner.startswith(outer.rstrip("/") + "/")


def _compiled(segment: str) -> re.Pattern[str]:
    return re.compile(fnmatch.translate(segment))


def _entries(directory: Path) -> list[tuple[str, bool, bool]]:
    """(name, is a folder with links followed, is a link) of each entry; an unreadable folder has none."""
    try:
        with os.scandir(directory) as entries:
            return [(entry.name, *_kind(entry)) for entry in entries]
    except (OSError, ValueError):
        return []


def _kind(entry: os.DirEntry[str]) -> tuple[bool, bool]:
    try:
        return entry.is_dir(), entry.is_symlink()
    except OSError:
        return False, False
