"""Findings: ranked facts, each with its number, a comparison, a chart and its provenance.

A finding is what the story is told from and what the CX Code and priorities point at, so it is
traceable: the metric spec (id and version) and conventions it was computed with, the filters that
define its slice, and example contact ids behind it.  Its id is stable across runs for the same
subject, so a principle or a priority keeps pointing at "the same" finding as the data refreshes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

SECTIONS = ("headline", "demand", "failure", "drivers", "change", "unknown")


@dataclass
class Finding:
    """One ranked fact with evidence."""

    kind: str  # e.g. failure_demand_rise, repeat_hotspot, csat_driver, top_reason, trend_signal
    section: str  # where it belongs in the story (SECTIONS)
    subject: str  # what it is about, e.g. a reason id
    title: str
    statement: str  # one plain sentence with the number and the comparison
    value: float | None
    comparison: float | None = None
    unit: str = ""
    direction: str = ""  # up / down / none
    score: float = 0.0  # ranking weight: size x strength of evidence
    metric: dict[str, Any] = field(default_factory=dict)  # {"id", "version", "conventions"}
    filters: dict[str, Any] = field(default_factory=dict)
    example_ids: list[str] = field(default_factory=list)
    verbatims: list[dict[str, str]] = field(default_factory=list)  # [{"record_id", "text"}], redacted
    chart: dict[str, Any] = field(default_factory=dict)  # {"type": "bar"|"line", "series": [...], ...}
    n: int | None = None
    estimand: dict[str, Any] = field(default_factory=dict)  # machine-readable: what exactly was estimated

    @property
    def id(self) -> str:
        key = json.dumps([self.kind, self.subject, sorted(self.filters.items())], default=str)
        return "F-" + hashlib.sha256(key.encode()).hexdigest()[:10]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["id"] = self.id
        return d


def save_findings(con: duckdb.DuckDBPyConnection, findings: list[Finding]) -> None:
    """Replace the stored findings (ranked by score) in the analytical store."""
    con.execute("""CREATE TABLE IF NOT EXISTS finding (id VARCHAR, rank INTEGER, kind VARCHAR, section VARCHAR,
                   subject VARCHAR, score DOUBLE, body VARCHAR)""")
    con.execute("DELETE FROM finding")
    ranked = sorted(findings, key=lambda f: -f.score)
    con.executemany("INSERT INTO finding VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(f.id, i + 1, f.kind, f.section, f.subject, f.score, json.dumps(f.to_dict(), default=str))
                     for i, f in enumerate(ranked)])


def load_findings(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Stored findings in rank order (as dicts with their ids)."""
    exists = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'finding'").fetchall()[0][0]
    if not exists:
        return []
    return [json.loads(b) for (b,) in con.execute("SELECT body FROM finding ORDER BY rank").fetchall()]
