"""Operational records of links 3-5 in the workspace's ops store (SQLite, WAL mode).

Tables (created on first use with ``CREATE TABLE IF NOT EXISTS``)::

    cycles        one improvement cycle: number, start, end, status (open / closed), report (JSON)
    priorities    a proposed priority of a cycle's plan: reason, rationale, finding ids, opportunity, status
    decisions     every accept / reject / override of a priority, with who, when and why
    initiatives   a redesign initiative (belongs to an accepted priority); ``version`` for optimistic locking
    tasks         tasks of an initiative
    changes       the change log of initiatives: one row per changed field, with who and when
    measurements  what an initiative did: verdict, effect, interval, summary, details (JSON)

Concurrency: every write runs in one ``BEGIN IMMEDIATE`` transaction (SQLite serialises writers; WAL
lets readers continue).  Initiatives carry a ``version`` column: an edit names the version it was based
on and is refused with :class:`ConflictError` when someone else changed the initiative since, so no
edit is ever silently lost.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..errors import CxchainError
from ..workspace import Workspace

__all__ = ["ConflictError", "transaction", "reader", "now", "dumps", "loads", "SCHEMA"]


class ConflictError(CxchainError):
    """An edit was based on a stale version of a record (someone else changed it first)."""

    status = 409


SCHEMA = """
CREATE TABLE IF NOT EXISTS cycles (
    id TEXT PRIMARY KEY, number INTEGER NOT NULL UNIQUE, start TEXT NOT NULL, "end" TEXT NOT NULL,
    status TEXT NOT NULL, opened_at TEXT NOT NULL, opened_by TEXT NOT NULL,
    closed_at TEXT, closed_by TEXT, report TEXT);
CREATE TABLE IF NOT EXISTS priorities (
    id TEXT PRIMARY KEY, cycle_id TEXT NOT NULL REFERENCES cycles(id), horizon TEXT NOT NULL,
    rank INTEGER NOT NULL, reason_id TEXT NOT NULL, channel TEXT, title TEXT NOT NULL, rationale TEXT NOT NULL,
    finding_ids TEXT NOT NULL, opportunity TEXT NOT NULL, status TEXT NOT NULL,
    created_at TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    id INTEGER PRIMARY KEY, priority_id TEXT NOT NULL REFERENCES priorities(id), decision TEXT NOT NULL,
    reason TEXT NOT NULL, actor TEXT NOT NULL, at TEXT NOT NULL, detail TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS initiatives (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, priority_id TEXT NOT NULL REFERENCES priorities(id),
    cycle_id TEXT NOT NULL, title TEXT NOT NULL, type TEXT NOT NULL, status TEXT NOT NULL,
    areas TEXT NOT NULL, start TEXT, go_live TEXT, metric_id TEXT, metric_filters TEXT NOT NULL,
    baseline TEXT, target REAL, created_at TEXT NOT NULL, created_by TEXT NOT NULL,
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY, initiative_id TEXT NOT NULL REFERENCES initiatives(id), title TEXT NOT NULL,
    owner TEXT, due TEXT, status TEXT NOT NULL, created_at TEXT NOT NULL, created_by TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS changes (
    id INTEGER PRIMARY KEY, initiative_id TEXT NOT NULL, at TEXT NOT NULL, actor TEXT NOT NULL,
    field TEXT NOT NULL, old TEXT, new TEXT, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY, initiative_id TEXT NOT NULL REFERENCES initiatives(id), cycle_id TEXT,
    measured_at TEXT NOT NULL, data_to TEXT, verdict TEXT NOT NULL, effect REAL, ci_low REAL, ci_high REAL,
    relative_effect REAL, relative_ci_low REAL, relative_ci_high REAL, method TEXT, summary TEXT NOT NULL,
    details TEXT NOT NULL);
"""


def now() -> str:
    """The current time as ISO text (seconds)."""
    return datetime.now().isoformat(timespec="seconds")


def dumps(obj: Any) -> str:
    """JSON text for a stored column (dates and numpy numbers as text / floats)."""
    return json.dumps(obj, default=_default, sort_keys=True)


def _default(o: Any) -> Any:
    if hasattr(o, "item"):
        return o.item()
    return str(o)


def loads(text: str | None, default: Any = None) -> Any:
    """Parse a stored JSON column (``default`` when empty)."""
    return default if not text else json.loads(text)


def _connect(ws: Workspace) -> sqlite3.Connection:
    con = ws.store.ops()
    con.isolation_level = None  # explicit transactions below
    con.row_factory = sqlite3.Row
    con.executescript(SCHEMA)
    return con


@contextlib.contextmanager
def transaction(ws: Workspace) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed when the block succeeds, else rolled back."""
    con = _connect(ws)
    try:
        con.execute("BEGIN IMMEDIATE")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()


@contextlib.contextmanager
def reader(ws: Workspace) -> Iterator[sqlite3.Connection]:
    """A connection for reads (sees the last committed state)."""
    con = _connect(ws)
    try:
        yield con
    finally:
        con.close()
