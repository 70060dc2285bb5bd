"""Run records in SQLite, shared by the server and the CLI, so a run outlives the process that started it.

The store is synchronous and thread-safe; the async manager calls it from one worker thread.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .model import Pipeline
from .processors.base import RunStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    source TEXT,
    runtime TEXT NOT NULL,
    runtime_config TEXT,
    status TEXT NOT NULL,
    submitted REAL NOT NULL,
    started REAL,
    finished REAL,
    error TEXT,
    progress TEXT,
    nodes TEXT NOT NULL,
    result TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    owner_pid INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (submitted DESC);
"""
COLUMNS = ("id", "name", "source", "runtime", "runtime_config", "status", "submitted", "started", "finished",
           "error", "progress", "nodes", "result", "run_dir", "owner_pid")


@dataclass
class NodeRecord:
    id: str
    name: str
    kind: str
    filename: str | None
    parent_ids: list[str]
    status: str = RunStatus.PENDING
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    artifacts: dict[str, str] = field(default_factory=dict)


@dataclass
class RunRecord:
    id: str
    name: str
    source: str | None
    runtime: str
    runtime_config: str | None
    status: str
    submitted: float
    run_dir: str
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    progress: str | None = None
    nodes: list[NodeRecord] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)
    owner_pid: int = field(default_factory=os.getpid)

    @classmethod
    def new(cls, pipeline: Pipeline, runtime: str, runtime_config: str | None, runs_dir: Path) -> RunRecord:
        run_id = uuid.uuid4().hex
        nodes = [NodeRecord(n.id, n.name, n.kind, n.filename, list(n.parent_ids)) for n in pipeline.nodes.values()]
        return cls(id=run_id, name=pipeline.name, source=pipeline.source, runtime=runtime,
                   runtime_config=runtime_config, status=RunStatus.PENDING, submitted=time.time(),
                   run_dir=str(runs_dir / run_id), nodes=nodes)

    def node(self, node_id: str) -> NodeRecord | None:
        return next((node for node in self.nodes if node.id == node_id), None)

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("run_dir")
        data.pop("owner_pid")
        data["duration"] = self.duration
        return data


class RunStore:
    """One SQLite file; every write replaces the whole row, which is small."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def save(self, record: RunRecord) -> None:
        row = asdict(record)
        row["nodes"] = json.dumps(row["nodes"])
        row["result"] = json.dumps(row["result"])
        placeholders = ", ".join("?" for _ in COLUMNS)
        with self._lock:
            self._db.execute(f"INSERT OR REPLACE INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                             [row[column] for column in COLUMNS])

    def get(self, run_id: str) -> RunRecord | None:
        with self._lock:
            row = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE id = ?", (run_id,)).fetchone()
        return None if row is None else self._record(row)

    def list(self, limit: int = 100, offset: int = 0) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs ORDER BY submitted DESC LIMIT ? OFFSET ?",
                                    (limit, offset)).fetchall()
        return [self._record(row) for row in rows]

    def mark_interrupted(self) -> list[str]:
        """Mark runs whose process died before finishing them; nodes keep their last known state.

        Runs owned by a live process (a CLI run beside the server) are left alone.
        """
        unfinished = (RunStatus.PENDING, RunStatus.RUNNING)
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM runs WHERE status IN (?, ?)",
                                    unfinished).fetchall()
        marked = []
        for record in map(self._record, rows):
            if _process_alive(record.owner_pid):
                continue
            record.status = RunStatus.INTERRUPTED
            record.finished = record.finished or time.time()
            record.error = record.error or "The server stopped while this run was in progress."
            for node in record.nodes:
                if node.status == RunStatus.RUNNING:
                    node.status = RunStatus.INTERRUPTED
            self.save(record)
            marked.append(record.id)
        return marked

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @staticmethod
    def _record(row: tuple[Any, ...]) -> RunRecord:
        data = dict(zip(COLUMNS, row, strict=True))
        data["nodes"] = [NodeRecord(**node) for node in json.loads(data["nodes"])]
        data["result"] = json.loads(data["result"])
        return RunRecord(**data)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
