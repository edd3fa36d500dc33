"""The data catalogue (`cxchain sources`) and the data link's health.

Everything is judged against the workspace's ``as_of`` date so that a rerun on the same data gives
the same verdict.  Reason codes are stable: tests and other tools key on them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb

from ..settings import Settings
from .journeys import EVENT_SOURCES
from .model import ENTITIES

#: Stable reason codes of the data link, with what each means.
DATA_REASONS = {
    "no_data": "Nothing has been ingested yet.",
    "source_missing": "A source configured in cxchain.toml has no records.",
    "source_stale": "A source's newest record is older than its freshness limit.",
    "source_unlinked": "Few of a source's records link to customers seen in any other source.",
    "not_linked": "Records were ingested after the last identity resolution.",
    "quarantine_open": "Rows are waiting in quarantine.",
    "placeholder_costs": "Cost settings still hold placeholder values.",
}


def _entity_of_sources(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    out: dict[str, str] = {}
    for entity in ENTITIES:
        for (src,) in con.execute(f'SELECT DISTINCT source FROM "{entity}"').fetchall():
            out[src] = entity
    return out


def source_catalogue(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[dict[str, Any]]:
    """One entry per source: rows, date range, freshness, completeness, quarantine and link coverage."""
    as_of = settings.as_of
    ents = _entity_of_sources(con)
    for s in settings.sources:
        ents.setdefault(s.name, "")
    out = []
    linked = con.execute("SELECT count(*) FROM record_customer").fetchall()[0][0] > 0
    for src, entity in sorted(ents.items()):
        entry: dict[str, Any] = {"source": src, "entity": entity or None, "rows": 0, "versions": 0, "first": None, "last": None,
                                 "age_days": None, "fresh": False, "completeness": {}, "quarantined_open": 0, "link_coverage": {},
                                 "linked_share": None, "batches": 0}
        entry["quarantined_open"] = con.execute("SELECT count(*) FROM quarantine WHERE source = ? AND status = 'open'", [src]).fetchall()[0][0]
        entry["batches"] = con.execute("SELECT count(*) FROM batch WHERE source = ?", [src]).fetchall()[0][0]
        if entity:
            ts = EVENT_SOURCES.get(entity, ("NULL",))[0]
            cols = [f.name for f in ENTITIES[entity]]
            row = con.execute(f"""SELECT count(*) FILTER (WHERE valid_to IS NULL), count(*), min({ts}), max({ts}),
                                  {", ".join(f'count("{c}") FILTER (WHERE valid_to IS NULL)' for c in cols)}
                                  FROM "{entity}" WHERE source = ?""", [src]).fetchall()[0]
            n = row[0]
            entry.update(rows=n, versions=row[1], first=str(row[2]) if row[2] else None, last=str(row[3]) if row[3] else None)
            entry["completeness"] = {c: round(v / n, 4) for c, v in zip(cols, row[4:], strict=True) if v and n}
            if row[3] is not None:
                last = row[3].date() if hasattr(row[3], "date") else row[3]
                entry["age_days"] = (as_of - last).days
                cfg = settings.source(src)
                limit = (cfg.freshness_days if cfg and cfg.freshness_days else None) or settings["data.freshness_days"]
                entry["fresh"] = entry["age_days"] <= limit
                entry["freshness_days"] = limit
        if linked and entry["rows"]:
            entry["link_coverage"] = _coverage(con, src)
            entry["linked_share"] = max(entry["link_coverage"].values(), default=0.0)
            entry["linked_any_share"] = _linked_any(con, src)
        out.append(entry)
    return out


def _coverage(con: duckdb.DuckDBPyConnection, src: str) -> dict[str, float]:
    """Share of ``src``'s records whose customer also appears in each other source."""
    rows = con.execute("""
        WITH mine AS (SELECT record_id, customer_key FROM record_customer WHERE source = ?),
        others AS (SELECT DISTINCT source, customer_key FROM record_customer WHERE source <> ?)
        SELECT o.source, count(DISTINCT m.record_id) * 1.0 / (SELECT count(*) FROM mine)
        FROM mine m JOIN others o USING (customer_key) GROUP BY o.source ORDER BY 1""", [src, src]).fetchall()
    return {s: round(v, 4) for s, v in rows}


def _linked_any(con: duckdb.DuckDBPyConnection, src: str) -> float:
    row = con.execute("""
        WITH mine AS (SELECT record_id, customer_key FROM record_customer WHERE source = ?),
        others AS (SELECT DISTINCT customer_key FROM record_customer WHERE source <> ?)
        SELECT count(*) FILTER (WHERE customer_key IN (SELECT customer_key FROM others)) * 1.0 / nullif(count(*), 0) FROM mine""",
                      [src, src]).fetchall()[0][0]
    return round(row or 0.0, 4)


def daily_totals(con: duckdb.DuckDBPyConnection, source: str) -> list[tuple[date, int]]:
    """Records per day for one source, to reconcile with the source system's own reports."""
    ents = _entity_of_sources(con)
    entity = ents.get(source)
    if not entity:
        return []
    ts = EVENT_SOURCES.get(entity, ("NULL",))[0]
    if ts == "NULL":
        return []
    return [(d, int(n)) for d, n in con.execute(
        f'SELECT CAST({ts} AS DATE) d, count(*) FROM "{entity}" WHERE source = ? AND valid_to IS NULL AND {ts} IS NOT NULL GROUP BY 1 ORDER BY 1',
        [source]).fetchall()]


def data_health(con: duckdb.DuckDBPyConnection | None, settings: Settings, catalogue: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The data link's status (holds / weak / broken) and its reasons."""
    reasons: list[dict[str, str]] = []
    if con is None:
        return {"status": "broken", "reasons": [{"code": "no_data", "text": DATA_REASONS["no_data"] + " Run `cxchain ingest` or `cxchain run`."}]}
    cat = catalogue if catalogue is not None else source_catalogue(con, settings)
    broken = False
    if not any(e["rows"] for e in cat):
        broken = True
        reasons.append({"code": "no_data", "text": DATA_REASONS["no_data"] + " Run `cxchain ingest` or `cxchain run`."})
    for e in cat:
        if not e["rows"] and settings.source(e["source"]):
            broken = True
            reasons.append({"code": "source_missing", "text": f"{e['source']} is configured but has no records: check its paths in cxchain.toml."})
        elif e["rows"] and not e["fresh"] and e["age_days"] is not None:
            reasons.append({"code": "source_stale", "text": f"{e['source']}: newest record is {e['age_days']} days old (limit {e.get('freshness_days')}). Load a newer export."})
    linked_rows = con.execute("SELECT count(*) FROM record_customer").fetchall()[0][0]
    loaded_ident = con.execute("SELECT count(*) FROM batch WHERE rows_loaded > 0 AND started_at > coalesce((SELECT max(started_at) FROM run_log WHERE kind = 'link'), TIMESTAMP '1900-01-01')").fetchall()[0][0]
    if any(e["rows"] for e in cat) and (linked_rows == 0 or loaded_ident):
        reasons.append({"code": "not_linked", "text": "New records have not been linked to customers yet: run `cxchain link` or `cxchain run`."})
    min_share = float(settings["data.min_link_share"])
    for e in cat:
        share = e.get("linked_any_share")
        if e["rows"] and linked_rows and share is not None and share < min_share and e["entity"] != "property":
            reasons.append({"code": "source_unlinked", "text": f"{e['source']}: only {share:.0%} of records link to a customer seen in another source. Map its identity columns (phone, email, account number)."})
    open_q = sum(e["quarantined_open"] for e in cat)
    total = sum(e["rows"] for e in cat) or 1
    if open_q and open_q / total > 0.01:
        reasons.append({"code": "quarantine_open", "text": f"{open_q} rows wait in quarantine ({open_q / total:.1%}): see `cxchain quarantine list`."})
    ph = [k for k in settings.placeholders_in_use() if k.startswith("costs.")]
    channels = {r[0] for r in con.execute('SELECT DISTINCT channel FROM "contact" WHERE valid_to IS NULL').fetchall()}
    ph_used = [k for k in ph if k.split(".", 1)[1] in channels or k == "costs.per_handling_minute"]
    if ph_used:
        reasons.append({"code": "placeholder_costs", "text": f"Set your own costs in cxchain.toml: {', '.join(ph_used)} still hold placeholders."})
    status = "broken" if broken else ("weak" if reasons else "holds")
    return {"status": status, "reasons": reasons}
