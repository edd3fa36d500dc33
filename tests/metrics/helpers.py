"""Small hand-built canonical databases for the metric tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from cxchain.data.journeys import build_journeys
from cxchain.metrics import build_facts
from cxchain.store.schema import create_data_schema

T0 = datetime(2025, 3, 3, 9, 0)  # a Monday

#: Conventions that switch suppression off, so tests can read small values.
NO_SUPPRESS = {"metrics.small_number": 0}


def new_con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    create_data_schema(con)
    return con


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts) into a canonical table, filling the system columns (current version 1)."""
    if not rows:
        return
    full = []
    for r in rows:
        r = dict(r)
        r.setdefault("source", r["record_id"].split(":", 1)[0] if ":" in r["record_id"] else "src")
        r.setdefault("source_key", r["record_id"].split(":", 1)[-1])
        r.setdefault("version", 1)
        r.setdefault("valid_from", datetime(2025, 1, 1))
        r.setdefault("valid_to", None)
        full.append(r)
    cols = sorted({k for r in full for k in r})
    sql = f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in cols)}) VALUES ({", ".join("?" * len(cols))})'
    con.executemany(sql, [[r.get(c) for c in cols] for r in full])


def link_customers(con: duckdb.DuckDBPyConnection, pairs: dict[str, str | None]) -> None:
    rows = [[k, v] for k, v in pairs.items() if v is not None]
    if rows:
        con.executemany("INSERT INTO record_customer VALUES (?, 'src', ?)", rows)


def add_reasons(con: duckdb.DuckDBPyConnection, reasons: dict[str, tuple[str | None, str | None]]) -> None:
    con.execute("""CREATE TABLE IF NOT EXISTS contact_reason (record_id VARCHAR, reason_id VARCHAR, reason_group VARCHAR,
                   confidence DOUBLE, method VARCHAR, language VARCHAR)""")
    con.executemany("INSERT INTO contact_reason VALUES (?, ?, ?, 0.9, 'test', 'en')",
                    [[k, r, g] for k, (r, g) in reasons.items()])


def finish(con: duckdb.DuckDBPyConnection, secret: str | None = None) -> dict[str, int]:
    build_journeys(con)
    return build_facts(con, secret=secret)
