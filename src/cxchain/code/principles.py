"""CX Code principles: the record, its versions in the ops store, and readable diffs.

A principle is a short promise in the customer's words ("Don't make me chase") with a plain statement,
what it means for staff, measures (metric spec + threshold) and evidence (finding ids of this workspace).
Status is ``draft`` (evidenced, not yet published), ``published`` or ``assumption`` (no evidence yet).
``contradicted`` is a flag set when the data says the promise is already kept everywhere.

Tables in the workspace's ops SQLite (created on first use)::

    principles          the current version of each principle: id, version, status, body (JSON), who, when
    principle_versions  every version ever saved: principle id, version, body (full JSON), who, when, note
"""

from __future__ import annotations

import difflib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from ..errors import CxchainError, NotFoundError

__all__ = [
    "Measure",
    "Principle",
    "STATUSES",
    "ASSUMPTION_NOTE",
    "save",
    "save_all",
    "get",
    "list_principles",
    "history",
    "version",
    "diff",
    "diff_text",
]

STATUSES = ("draft", "published", "assumption")
ASSUMPTION_NOTE = "assumption: no evidence yet"

SCHEMA = """
CREATE TABLE IF NOT EXISTS principles (
    id TEXT PRIMARY KEY, version INTEGER NOT NULL, status TEXT NOT NULL, body TEXT NOT NULL,
    updated_at TEXT NOT NULL, updated_by TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0, retired INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS principle_versions (
    id INTEGER PRIMARY KEY, principle_id TEXT NOT NULL, version INTEGER NOT NULL, body TEXT NOT NULL,
    actor TEXT NOT NULL, at TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', UNIQUE (principle_id, version));
"""


@dataclass
class Measure:
    """How a principle is measured: a registry metric on a slice, and the threshold that says it is kept.

    ``direction`` is ``below`` (kept when the value is at or below the threshold) or ``above``.
    ``baseline`` is the value when the measure was set (None for a published standard not yet computed).
    """

    metric_id: str
    filters: dict[str, Any] = field(default_factory=dict)
    threshold: float | None = None
    direction: str = "below"
    baseline: float | None = None
    label: str = ""

    def kept(self, value: float | None) -> bool | None:
        """Whether ``value`` keeps the promise (None when it cannot be judged)."""
        if value is None or self.threshold is None:
            return None
        return value <= self.threshold if self.direction == "below" else value >= self.threshold

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Measure:
        return cls(
            metric_id=str(d["metric_id"]),
            filters=dict(d.get("filters") or {}),
            threshold=None if d.get("threshold") is None else float(d["threshold"]),
            direction=str(d.get("direction", "below")),
            baseline=None if d.get("baseline") is None else float(d["baseline"]),
            label=str(d.get("label", "")),
        )


@dataclass
class Principle:
    """One principle of the CX Code (see the module docstring)."""

    id: str
    title: str
    statement: str
    for_staff: str
    measures: list[Measure] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    sector: str = ""
    status: str = "assumption"
    note: str = ASSUMPTION_NOTE
    contradicted: bool = False
    #: Which findings count as evidence: {"themes": [...], "kinds": [...], "metric_ids": [...], "subjects": [...]}.
    evidence_rule: dict[str, list[str]] = field(default_factory=dict)
    #: Sector references (TSM codes, Complaint Handling Code stages, Consumer Duty outcomes...).
    refs: list[str] = field(default_factory=list)
    source: str = "insight"  # insight | pack
    strength: float = 0.0
    version: int = 0

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise CxchainError(
                f"Principle {self.id}: status must be one of {', '.join(STATUSES)}, not {self.status!r}."
            )
        self.measures = [m if isinstance(m, Measure) else Measure.from_dict(m) for m in self.measures]

    def to_dict(self) -> dict[str, Any]:
        """The principle as plain JSON-able data."""
        return asdict(self)

    def summary(self) -> dict[str, Any]:
        """The public shape printed by ``cxchain code draft --json``."""
        return {
            "id": self.id,
            "title": self.title,
            "statement": self.statement,
            "for_staff": self.for_staff,
            "measures": [asdict(m) for m in self.measures],
            "evidence": list(self.evidence),
            "status": self.status,
            "note": self.note,
            "contradicted": self.contradicted,
            "sector": self.sector,
            "refs": list(self.refs),
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Principle:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        return cls(**known)


# --- storage ----------------------------------------------------------------------------------------


@contextmanager
def code_store(ws: Any, schema: str) -> Iterator[sqlite3.Connection]:
    """A connection to the workspace's ops store with the CX Code tables of ``schema`` created if missing."""
    con = ws.store.ops()
    con.row_factory = sqlite3.Row
    try:
        con.executescript(schema)
        yield con
    finally:
        con.close()


def _con(ws: Any) -> AbstractContextManager[sqlite3.Connection]:
    return code_store(ws, SCHEMA)


def _body(p: Principle) -> dict[str, Any]:
    d = p.to_dict()
    d.pop("version", None)
    return d


def save(ws: Any, p: Principle, *, actor: str = "cli", note: str = "", rank: int = 0) -> Principle:
    """Store ``p`` as a new version when its content changed (same content: nothing is written).

    Returns the principle with ``version`` set to the stored version.
    """
    body = json.dumps(_body(p), sort_keys=True, default=str)
    now = datetime.now().isoformat(timespec="seconds")
    with _con(ws) as con, con:
        con.execute("BEGIN IMMEDIATE")
        row = con.execute("SELECT version, body, retired FROM principles WHERE id = ?", (p.id,)).fetchone()
        if row is not None and row["body"] == body and not row["retired"]:
            con.execute("UPDATE principles SET rank = ? WHERE id = ?", (rank, p.id))
            p.version = int(row["version"])
            return p
        v = (int(row["version"]) if row else 0) + 1
        con.execute(
            "INSERT INTO principle_versions (principle_id, version, body, actor, at, note) VALUES (?, ?, ?, ?, ?, ?)",
            (p.id, v, body, actor, now, note),
        )
        con.execute(
            """INSERT INTO principles (id, version, status, body, updated_at, updated_by, rank, retired)
                       VALUES (?, ?, ?, ?, ?, ?, ?, 0) ON CONFLICT(id) DO UPDATE SET version = excluded.version,
                       status = excluded.status, body = excluded.body, updated_at = excluded.updated_at,
                       updated_by = excluded.updated_by, rank = excluded.rank, retired = 0""",
            (p.id, v, p.status, body, now, actor, rank),
        )
    ws.store.audit(actor, "code.save", p.id, {"version": v, "status": p.status})
    p.version = v
    return p


def save_all(ws: Any, principles: list[Principle], *, actor: str = "cli", note: str = "") -> list[Principle]:
    """Save principles in order (their rank is their position)."""
    return [save(ws, p, actor=actor, note=note, rank=i) for i, p in enumerate(principles)]


def retire(ws: Any, principle_id: str, *, actor: str = "cli") -> None:
    """Take a principle out of the current code (its versions stay)."""
    with _con(ws) as con, con:
        con.execute("UPDATE principles SET retired = 1 WHERE id = ?", (principle_id,))
    ws.store.audit(actor, "code.retire", principle_id, {})


def _load(row: sqlite3.Row) -> Principle:
    p = Principle.from_dict(json.loads(row["body"]))
    p.version = int(row["version"])
    return p


def get(ws: Any, principle_id: str) -> Principle:
    """The current version of one principle (NotFoundError when there is none)."""
    with _con(ws) as con:
        row = con.execute("SELECT * FROM principles WHERE id = ?", (principle_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"No principle {principle_id!r}. See `cxchain code list`.")
    return _load(row)


def list_principles(ws: Any, *, include_retired: bool = False) -> list[Principle]:
    """The current principles in rank order."""
    with _con(ws) as con:
        rows = con.execute(
            "SELECT * FROM principles"
            + ("" if include_retired else " WHERE retired = 0")
            + " ORDER BY rank, id"
        ).fetchall()
    return [_load(r) for r in rows]


def history(ws: Any, principle_id: str) -> list[dict[str, Any]]:
    """Every stored version of a principle: ``{"version", "actor", "at", "note", "principle"}``, oldest first."""
    with _con(ws) as con:
        rows = con.execute(
            "SELECT * FROM principle_versions WHERE principle_id = ? ORDER BY version", (principle_id,)
        ).fetchall()
    if not rows:
        raise NotFoundError(f"No principle {principle_id!r}. See `cxchain code list`.")
    out = []
    for r in rows:
        p = Principle.from_dict(json.loads(r["body"]))
        p.version = int(r["version"])
        out.append(
            {"version": p.version, "actor": r["actor"], "at": r["at"], "note": r["note"], "principle": p}
        )
    return out


def version(ws: Any, principle_id: str, v: int) -> Principle:
    """One stored version of a principle."""
    for h in history(ws, principle_id):
        if h["version"] == v:
            return h["principle"]  # type: ignore[no-any-return]
    raise NotFoundError(f"Principle {principle_id!r} has no version {v}.")


# --- diffs ------------------------------------------------------------------------------------------

_TEXT_FIELDS = ("title", "statement", "for_staff", "note")


def _fmt(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str) if isinstance(v, (dict, list)) else str(v)


def diff(a: Principle, b: Principle) -> list[dict[str, Any]]:
    """Field-by-field differences from ``a`` to ``b``: ``[{"field", "old", "new", "diff"}]``.

    Text fields get a unified diff (difflib, word-wrapped by sentence); lists get added / removed items.
    """
    da, db = _body(a), _body(b)
    out: list[dict[str, Any]] = []
    for k in da:
        if k in ("strength",) or da[k] == db.get(k):
            continue
        old, new = da[k], db.get(k)
        entry: dict[str, Any] = {"field": k, "old": old, "new": new}
        if k in _TEXT_FIELDS:
            sa = str(old).replace(". ", ".\n").splitlines()
            sb = str(new).replace(". ", ".\n").splitlines()
            entry["diff"] = [ln for ln in difflib.unified_diff(sa, sb, lineterm="", n=1)][2:]
        elif isinstance(old, list) and isinstance(new, list):
            fo, fn = [_fmt(x) for x in old], [_fmt(x) for x in new]
            entry["diff"] = [f"- {x}" for x in fo if x not in fn] + [f"+ {x}" for x in fn if x not in fo]
        else:
            entry["diff"] = [f"- {_fmt(old)}", f"+ {_fmt(new)}"]
        out.append(entry)
    return out


def diff_text(a: Principle, b: Principle) -> str:
    """A readable diff of two versions, for people."""
    changes = diff(a, b)
    head = f"{a.id}: version {a.version} -> {b.version}"
    if not changes:
        return head + "\n  (no differences)"
    lines = [head]
    for c in changes:
        lines.append(f"  {c['field']}:")
        lines += [f"    {ln}" for ln in c["diff"]]
    return "\n".join(lines)
