"""Run records in SQLite, shared by the server and the CLI, so a run outlives the process that started it.

A run is one row of `runs` and one row of `nodes` per node, so a node's change rewrites that node alone: a run of
10,000 nodes writes bytes in proportion to its nodes, not to their square. Changes are staged (a snapshot of the
changed rows, taken when they change) and written in batches, one transaction each; rows that could not be written
(a full disk) stay staged and are written by the next flush. The store is synchronous and thread-safe; the async
manager flushes from one worker thread. Reading a run whose owning process is gone shows it interrupted at once.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ElyraProcError
from .model import Pipeline
from .processors.base import RunStatus
from .procfs import stat_fields
from .redaction import redact_credentials

SCHEMA_VERSION = 2
RUN_COLUMNS = ("id", "name", "source", "runtime", "runtime_config", "status", "submitted", "started", "finished",
               "error", "progress", "result", "run_dir", "owner_pid", "owner_started")
NODE_COLUMNS = ("id", "name", "kind", "filename", "parent_ids", "status", "started", "finished", "error",
                "artifacts")
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
    result TEXT NOT NULL,
    run_dir TEXT NOT NULL,
    owner_pid INTEGER NOT NULL,
    owner_started INTEGER
);
CREATE INDEX IF NOT EXISTS runs_by_time ON runs (submitted DESC);
CREATE TABLE IF NOT EXISTS nodes (
    run_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    id TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    filename TEXT,
    parent_ids TEXT NOT NULL,
    status TEXT NOT NULL,
    started REAL,
    finished REAL,
    error TEXT,
    artifacts TEXT NOT NULL,
    PRIMARY KEY (run_id, position)
) WITHOUT ROWID;
"""
UPSERT_RUN = (f"INSERT INTO runs ({', '.join(RUN_COLUMNS)}) VALUES ({', '.join('?' for _ in RUN_COLUMNS)}) "
              f"ON CONFLICT (id) DO UPDATE SET {', '.join(f'{c} = excluded.{c}' for c in RUN_COLUMNS[1:])}")
REPLACE_NODE = (f"INSERT OR REPLACE INTO nodes (run_id, position, {', '.join(NODE_COLUMNS)}) "
                f"VALUES (?, ?, {', '.join('?' for _ in NODE_COLUMNS)})")
UNFINISHED = (RunStatus.PENDING, RunStatus.RUNNING)
OWNER_GONE = "The server stopped while this run was in progress (its process, pid {pid}, is gone)."
# A run's source as the front end's `sameSource` compares it: a leading "./" or "/" does not count.
CLEAN_SOURCE = "(CASE WHEN substr(source, 1, 2) = './' THEN ltrim(substr(source, 2), '/') ELSE ltrim(source, '/') END)"
PREFIX_CANDIDATES = 10  # how many run ids an ambiguous prefix lists


def clean_source(path: str) -> str:
    """A pipeline path without a leading "./" or "/", as CLEAN_SOURCE makes it in SQL."""
    return path[1:].lstrip("/") if path.startswith("./") else path.lstrip("/")


@dataclass(frozen=True)
class RunQuery:
    """Which runs a listing holds: `source`, a pipeline file's path (a run posted from a path ending in
    `/source` matches too); `statuses`, any of them; `runtime`, a processor or runtime configuration name.
    Filtered in SQL, so only matching runs are read and their nodes loaded."""

    source: str | None = None
    statuses: tuple[str, ...] = ()
    runtime: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The WHERE clause (empty when nothing is filtered) and its parameters."""
        conditions: list[str] = []
        parameters: list[Any] = []
        if self.source is not None:
            path = clean_source(self.source)
            conditions.append(f"({CLEAN_SOURCE} = ? OR substr({CLEAN_SOURCE}, -?) = ?)")
            parameters += [path, len(path) + 1, f"/{path}"]
        if self.statuses:
            conditions.append(f"status IN ({', '.join('?' for _ in self.statuses)})")
            parameters += self.statuses
        if self.runtime is not None:
            conditions.append("(runtime = ? OR runtime_config = ?)")
            parameters += [self.runtime, self.runtime]
        return (f"WHERE {' AND '.join(conditions)}" if conditions else ""), parameters


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
    owner_started: int | None = field(default_factory=lambda: process_start_time(os.getpid()))
    _positions: dict[str, int] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def new(cls, pipeline: Pipeline, runtime: str, runtime_config: str | None, runs_dir: Path) -> RunRecord:
        run_id = uuid.uuid4().hex
        nodes = [NodeRecord(n.id, n.name, n.kind, n.filename, list(n.parent_ids)) for n in pipeline.nodes.values()]
        return cls(id=run_id, name=pipeline.name, source=pipeline.source, runtime=runtime,
                   runtime_config=runtime_config, status=RunStatus.PENDING, submitted=time.time(),
                   run_dir=str(runs_dir / run_id), nodes=nodes)

    def position(self, node_id: str) -> int | None:
        """Where the node is in `nodes` (its row key in the store); a dict lookup, as runs have thousands of nodes."""
        if len(self._positions) != len(self.nodes):
            self._positions = {node.id: position for position, node in enumerate(self.nodes)}
        return self._positions.get(node_id)

    def node(self, node_id: str) -> NodeRecord | None:
        position = self.position(node_id)
        return None if position is None else self.nodes[position]

    def conclude(self, status: str, error: str | None) -> None:
        """End the run: no node is left pending (skipped) or running (it takes the run's status), unless the run
        goes on elsewhere (`submitted`), where its runtime reports the nodes."""
        self.status, self.error, self.finished, self.progress = status, error, time.time(), None
        if status == RunStatus.SUBMITTED:
            return
        for node in self.nodes:
            if node.status == RunStatus.PENDING:
                node.status = RunStatus.SKIPPED
            elif node.status == RunStatus.RUNNING:
                node.status = status

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for private in ("run_dir", "owner_pid", "owner_started", "_positions"):
            data.pop(private)
        data["duration"] = self.duration
        return data


def run_row(record: RunRecord) -> tuple[Any, ...]:
    """The record's `runs` row; text that may quote a URL is stored with its credentials masked."""
    return (record.id, record.name, record.source, record.runtime, record.runtime_config, record.status,
            record.submitted, record.started, record.finished, redact_credentials(record.error),
            redact_credentials(record.progress), json.dumps(redact_credentials(record.result)), record.run_dir,
            record.owner_pid, record.owner_started)


def node_row(run_id: str, position: int, node: NodeRecord) -> tuple[Any, ...]:
    return (run_id, position, node.id, node.name, node.kind, node.filename, json.dumps(node.parent_ids), node.status,
            node.started, node.finished, redact_credentials(node.error), json.dumps(node.artifacts))


def is_disk_full(error: BaseException) -> bool:
    """Whether a failed write failed for want of space (SQLite's SQLITE_FULL, or ENOSPC/EDQUOT from the OS)."""
    if isinstance(error, sqlite3.Error):
        return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(error)
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT)


class RunStore:
    """One SQLite file. `stage` snapshots changed rows (cheap, on the caller's thread), `flush` writes them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # the connection; held while writing
        self._staging = threading.Lock()  # the staged rows; held for moments only, so staging never waits on disk
        self._staged_runs: dict[str, tuple[Any, ...]] = {}
        self._staged_nodes: dict[tuple[str, int], tuple[Any, ...]] = {}
        try:
            self._db = sqlite3.connect(path, timeout=30, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            if self._db.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                with self._lock:
                    self._transaction(self._create_or_migrate)
        except sqlite3.DatabaseError as error:
            raise ElyraProcError(f"The run database {path} cannot be opened ({error}): move it aside to start a new "
                                 "run history, or restore it from a backup.", 503) from None

    def _transaction(self, work: Callable[[], object]) -> None:
        """Run `work` in one IMMEDIATE transaction (the write lock taken at once); the caller holds `_lock`."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            work()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _create_or_migrate(self) -> None:
        """Create the schema, or move the runs of a version-1 file (all nodes as JSON in one column) to one row per
        node, so run history survives the upgrade. Inside one IMMEDIATE transaction: a CLI and a server opening
        the same old file at once migrate it once."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
        if "nodes" in columns:
            self._db.execute("ALTER TABLE runs RENAME TO runs_v1")
            self._db.execute("DROP INDEX IF EXISTS runs_by_time")
        for statement in filter(str.strip, SCHEMA.split(";")):
            self._db.execute(statement)
        if "nodes" in columns:
            kept = ", ".join(RUN_COLUMNS[:-1])
            self._db.execute(f"INSERT INTO runs ({kept}) SELECT {kept} FROM runs_v1")
            for run_id, nodes in self._db.execute("SELECT id, nodes FROM runs_v1").fetchall():
                self._db.executemany(REPLACE_NODE, (node_row(run_id, position, NodeRecord(**node))
                                                    for position, node in enumerate(json.loads(nodes))))
            self._db.execute("DROP TABLE runs_v1")
        self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def stage(self, record: RunRecord, nodes: Iterable[NodeRecord] | None = None, run: bool = True) -> None:
        """Snapshot the run's row (`run`) and the given nodes' rows (all of them when `nodes` is None)."""
        node_rows = {(record.id, position): node_row(record.id, position, node)
                     for position, node in (enumerate(record.nodes) if nodes is None else
                                            ((record.position(node.id), node) for node in nodes))}
        row = run_row(record) if run else None
        with self._staging:
            if row is not None:
                self._staged_runs[record.id] = row
            self._staged_nodes.update(node_rows)

    def flush(self) -> None:
        """Write every staged row in one transaction. When that fails, the rows stay staged (changes staged since
        win) and the error propagates; the next flush tries again."""
        with self._lock:
            with self._staging:
                runs, nodes = self._staged_runs, self._staged_nodes
                self._staged_runs, self._staged_nodes = {}, {}
            if not runs and not nodes:
                return
            try:
                self._transaction(lambda: (self._db.executemany(UPSERT_RUN, runs.values()),
                                           self._db.executemany(REPLACE_NODE, nodes.values())))
            except BaseException:
                with self._staging:
                    self._staged_runs = {**runs, **self._staged_runs}
                    self._staged_nodes = {**nodes, **self._staged_nodes}
                raise

    def staged_run_ids(self) -> set[str]:
        """Runs with changes not yet written."""
        with self._staging:
            return set(self._staged_runs) | {run_id for run_id, _ in self._staged_nodes}

    def discard(self, run_id: str) -> None:
        """Forget a run's staged rows: its creation failed, so nothing of it must be written later."""
        with self._staging:
            self._staged_runs.pop(run_id, None)
            self._staged_nodes = {key: row for key, row in self._staged_nodes.items() if key[0] != run_id}

    def save(self, record: RunRecord) -> None:
        """Stage the whole record and write it now (with anything else staged)."""
        self.stage(record)
        self.flush()

    def get(self, run_id: str) -> RunRecord | None:
        records = self._read("WHERE id = ?", (run_id,))
        return records[0] if records else None

    def list(self, limit: int = 100, offset: int = 0, query: RunQuery | None = None) -> list[RunRecord]:
        """The newest runs first, those `query` selects; the time index is walked until `limit` runs match."""
        where, parameters = (query or RunQuery()).where()
        return self._read(f"{where} ORDER BY submitted DESC LIMIT ? OFFSET ?", (*parameters, limit, offset))

    def ids_starting_with(self, prefix: str) -> list[str]:
        """Run ids beginning with `prefix`, at most PREFIX_CANDIDATES + 1 (enough to show it is ambiguous); a
        range of the primary key, so the cost does not grow with the runs."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM runs WHERE id >= ? ORDER BY id LIMIT ?",
                                    (prefix, PREFIX_CANDIDATES + 1)).fetchall()
        return [run_id for (run_id,) in rows if run_id.startswith(prefix)]

    def mark_interrupted(self) -> list[str]:
        """Mark unfinished runs whose owning process is gone (what every read does too); returns their ids."""
        placeholders = ", ".join("?" for _ in UNFINISHED)
        with self._lock:
            run_ids = [row[0] for row in self._db.execute(
                f"SELECT id, owner_pid, owner_started FROM runs WHERE status IN ({placeholders})", UNFINISHED)
                if not owner_alive(row[1], row[2])]
        for run_id in run_ids:
            self.get(run_id)
        return run_ids

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _read(self, where: str, parameters: tuple[Any, ...]) -> list[RunRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {', '.join(RUN_COLUMNS)} FROM runs {where}", parameters).fetchall()
            records = [_run_record(row) for row in rows]
            if records:
                by_id = {record.id: record for record in records}
                placeholders = ", ".join("?" for _ in by_id)
                for row in self._db.execute(f"SELECT run_id, {', '.join(NODE_COLUMNS)} FROM nodes WHERE run_id IN "
                                            f"({placeholders}) ORDER BY run_id, position", list(by_id)):
                    data = dict(zip(NODE_COLUMNS, row[1:], strict=True))
                    data.update(parent_ids=json.loads(data["parent_ids"]), artifacts=json.loads(data["artifacts"]))
                    by_id[row[0]].nodes.append(NodeRecord(**data))
        for record in records:
            self._settle_orphan(record)
        return records

    def _settle_orphan(self, record: RunRecord) -> None:
        """An unfinished run whose owning process is gone is interrupted now, not when a server next starts; it is
        written back when possible (a read must work on a full disk or a read-only file too)."""
        if record.status not in UNFINISHED or owner_alive(record.owner_pid, record.owner_started):
            return
        record.conclude(RunStatus.INTERRUPTED, record.error or OWNER_GONE.format(pid=record.owner_pid))
        try:
            self.save(record)
        except sqlite3.Error:
            self.discard(record.id)


def _run_record(row: tuple[Any, ...]) -> RunRecord:
    data = dict(zip(RUN_COLUMNS, row, strict=True))
    data["result"] = json.loads(data["result"])
    return RunRecord(**data)


def process_start_time(pid: int) -> int | None:
    """When the process started, in clock ticks since boot (field 22), so that a pid the system reused for another
    process is not taken for a run's owner; None where /proc is missing."""
    fields = stat_fields(pid)
    return None if fields is None else int(fields[19])


def owner_alive(pid: int, started: int | None) -> bool:
    """Whether the process that owns a run still runs: the pid exists, is no zombie, and (when recorded) started
    when the owner did."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    fields = stat_fields(pid)
    if fields is None:
        return not Path("/proc/self/stat").exists()  # without /proc, the pid's existence is all there is to know
    return fields[0] != "Z" and (started is None or int(fields[19]) == started)
