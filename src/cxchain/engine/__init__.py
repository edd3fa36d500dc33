"""Engines that run the chain's table transforms: DuckDB on one machine, Spark on a cluster.

The transforms are written once, in DuckDB SQL (ARCHITECTURE decision 4).  :class:`DuckDBEngine` runs them
as written; :class:`~cxchain.engine.spark.SparkEngine` transpiles them with SQLGlot
(:mod:`cxchain.engine.sql`) and keeps its tables as Parquet in a storage location.  Both expose
``connection()`` (something with DuckDB's ``execute(sql, params).fetchall()``), ``import_duckdb`` and
``export_duckdb`` (tables in and out of a DuckDB store), so a transform such as
:func:`cxchain.metrics.facts.build_facts` runs on either without an engine-specific copy.

    eng = open_engine(settings, storage=ws / ".cxchain" / "spark")   # the workspace's `engine` setting
    build_facts_on(eng, con, secret=secret)                          # facts built there, published here
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

import duckdb

from .duckdb import DuckDBEngine

__all__ = ["Engine", "DuckDBEngine", "ENGINES", "open_engine", "build_facts_on", "ensure_tables", "FACT_INPUTS"]

ENGINES = ("duckdb", "spark")

#: Canonical tables the fact tables and metrics are built from (plus the optional insight tables).
FACT_INPUTS = ("contact", "record_customer", "survey", "survey_item", "complaint", "case", "property", "journey_event")


class Engine(Protocol):
    """What the chain needs of an engine."""

    name: str

    def connection(self) -> Any: ...
    def tables(self) -> list[str]: ...
    def register_parquet(self, name: str, location: str) -> None: ...
    def import_duckdb(self, con: duckdb.DuckDBPyConnection, tables: Any) -> None: ...
    def export_duckdb(self, con: duckdb.DuckDBPyConnection, tables: Any) -> None: ...
    def stop(self) -> None: ...


def open_engine(settings: Mapping[str, Any] | Any, *, storage: str | Path | None = None,
                con: duckdb.DuckDBPyConnection | None = None, engine: str | None = None) -> Engine:
    """The engine named by ``engine`` (else the ``engine`` setting).

    DuckDB runs on ``con`` (the store being written).  Spark uses the settings ``spark.master`` and
    ``spark.storage`` (falling back to ``storage``) and ``spark.driver_memory``; an already running
    session (e.g. on Databricks) is picked up through ``SparkSession.getActiveSession()``.
    """
    name = engine or _get(settings, "engine", "duckdb")
    if name == "duckdb":
        return DuckDBEngine(con)
    if name != "spark":
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {name!r}")
    from .spark import SparkEngine, active_session

    where = _get(settings, "spark.storage", "") or storage
    if not where:
        raise ValueError("the Spark engine needs a storage location (setting spark.storage)")
    return SparkEngine(where, session=active_session(), master=_get(settings, "spark.master", "") or "local[2]",
                       driver_memory=_get(settings, "spark.driver_memory", "") or "1g")


def _get(settings: Mapping[str, Any] | Any, key: str, default: Any) -> Any:
    try:
        v = settings[key]
    except (KeyError, TypeError):
        return default
    return default if v is None else v


def ensure_tables(engine: Engine, con: duckdb.DuckDBPyConnection, tables: Any) -> None:
    """Copy the named tables of store ``con`` to ``engine`` unless it already has them (within one run)."""
    have = set(engine.tables())
    engine.import_duckdb(con, [t for t in tables if t not in have])


def build_facts_on(engine: Engine, con: duckdb.DuckDBPyConnection, *, secret: str | None = None,
                   publish: bool = True) -> dict[str, int]:
    """Build the metric fact tables of store ``con`` on ``engine`` and (``publish``) leave them in ``con``.

    On DuckDB this is :func:`~cxchain.metrics.facts.build_facts` on the store itself.  Elsewhere the
    canonical and insight tables go to the engine (those it does not hold yet: within one run the insight
    tables it computed itself stay there), the same SQL runs there, and the facts come back.
    """
    from ..metrics.facts import FACT_TABLES, INSIGHT_TABLES, build_facts

    if isinstance(engine, DuckDBEngine) and engine.con is con:
        return build_facts(con, secret=secret)
    have = {str(r[0]) for r in con.execute("SELECT table_name FROM information_schema.tables "
                                           "WHERE table_schema = current_schema()").fetchall()}
    ensure_tables(engine, con, [t for t in (*FACT_INPUTS, *INSIGHT_TABLES) if t in have])
    counts = build_facts(engine.connection(), secret=secret)
    if publish:
        engine.export_duckdb(con, [*FACT_TABLES, "working_day"])
    return counts
