"""Linux process facts from /proc, for stopping what a node left behind and telling a live run owner from a dead
one. Standard library only: the launcher process imports it too."""

from __future__ import annotations

import os


def stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ..., start time at index 19); None once
    the process is gone or without /proc. The name, in parentheses, may itself hold spaces and parentheses."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].decode().split()
    except (OSError, IndexError):
        return None


def running(pid: int) -> bool:
    """Whether the process exists and is not a zombie (an exited child its parent has not reaped yet)."""
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def children_of() -> dict[int, list[int]]:
    """Every living (not zombie) process's children, by parent pid."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = stat_fields(int(entry))
            if fields is not None and fields[0] != "Z":
                children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(root: int) -> dict[int, list[int]]:
    """The living descendants of `root`, each with its own children, nearest first."""
    children = children_of()
    found: dict[int, list[int]] = {}
    frontier = children.get(root, [])
    while frontier:
        found.update((pid, children.get(pid, [])) for pid in frontier)
        frontier = [child for pid in frontier for child in children.get(pid, [])]
    return found
