"""Parity: the sample organisation's insight tables, facts and every registered metric, on DuckDB and on Spark.

The demo workspace runs links 1 and 2 on DuckDB (the published store).  The Spark engine then takes
the same canonical tables and contact reasons, runs the same transforms (SQL transpiled; the sentiment
model per partition with mapInPandas) and publishes its tables into a copy of the store: sentiment,
failure demand, every fact table and every metric (overall, by a slice, by month, under rival
conventions, and the drill-down records) must be identical, floats within 1e-9.  Then the CLI runs
the whole chain again with ``--engine spark`` and publishes the same facts and findings.
The sample organisation has 5,000 contacts (conftest.PARITY_CONTACTS); 300 is about the smallest that
gives every fact table rows and every metric a number (complaints at two stages, surveys linked to
contacts, repeats and channel switches).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from cxchain import Workspace
from cxchain.cli import cli
from cxchain.engine import build_facts_on
from cxchain.engine.insight import (
    classify_contacts_on,
    classify_demand_on,
    read_failure_in_text_on,
    score_contacts_on,
)
from cxchain.engine.parity import diff_metrics, diff_tables, metric_cases
from cxchain.insight.pipeline import workspace_taxonomy
from cxchain.metrics.compile import compute
from cxchain.metrics.facts import FACT_TABLES
from cxchain.metrics.registry import REGISTRY

from .conftest import PARITY_CONTACTS as CONTACTS

#: Metrics the sample organisation's exports cannot feed: no source carries an agent-flagged resolution
#: or a first-time-fix flag.  They are still compared (as empty results).
NOT_IN_SAMPLE = {"fcr_agent", "right_first_time"}
#: Suppression off, so small slices are compared as numbers; the second set flips the rival conventions.
BASE = {"metrics.small_number": 0}
RIVAL = {"metrics.small_number": 0, "metrics.repeat_same_reason": "any", "metrics.repeat_denominator": "customer",
         "metrics.repeat_window_days": 3}


#: The text models' tables: reasons and the failure reading, classified per partition on Spark.
TEXT_TABLES = ("contact_reason_own", "contact_reason", "reason_model", "contact_text_failure")


@pytest.fixture(scope="module")
def demo(parity_demo: Workspace) -> Workspace:
    return parity_demo


def _copy_store(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyConnection:
    copy = duckdb.connect(str(path))
    for (name,) in con.execute("SELECT table_name FROM information_schema.tables "
                               "WHERE table_schema = current_schema()").fetchall():
        if name in (*FACT_TABLES, *TEXT_TABLES, "contact_sentiment", "contact_demand", "contact_issue"):
            continue  # the Spark engine must bring these back
        copy.register("_t", con.sql(f'SELECT * FROM "{name}"').to_arrow_table())
        copy.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _t')
        copy.unregister("_t")
    return copy


def test_facts_and_metrics_are_identical_on_spark(demo: Workspace, spark_engine: Any, tmp_path: Path) -> None:
    with demo.store.read() as con:
        copy = _copy_store(con, tmp_path / "copy.duckdb")
        assert score_contacts_on(spark_engine, copy) > 0
        tax = workspace_taxonomy(demo.path, "council")
        # The reason classifier and the failure reading, their per-row phases per partition on Spark.
        cache = demo.path / ".cxchain" / "cache" / "embeddings"
        stats = classify_contacts_on(spark_engine, copy, tax, cache)
        assert stats["contacts"] > CONTACTS and 0 < stats["unclassified"] < stats["contacts"] / 2
        assert read_failure_in_text_on(spark_engine, copy, cache) > 0
        for table in TEXT_TABLES:
            assert diff_tables(con, copy, table) == [], table
        assert set(classify_demand_on(spark_engine, copy, tax, demo.settings)) >= {"failure", "value"}
        for table in ("contact_sentiment", "contact_demand", "contact_issue"):
            assert diff_tables(con, copy, table) == [], table
        counts = build_facts_on(spark_engine, copy, secret=demo.store.secret())
        assert counts["contact_fact"] > CONTACTS and counts["survey_fact"] > 0 and counts["complaint_fact"] > 0
        # Spark's fact tables, published back into DuckDB, equal the ones DuckDB built.
        for table in (*FACT_TABLES, "working_day"):
            assert diff_tables(con, copy, table) == [], table

        base = {**demo.settings.values, **BASE}
        rival = {**demo.settings.values, **RIVAL}
        # Not a comparison of empty results: every metric the sample's exports can feed has a number.
        for metric in set(REGISTRY) - NOT_IN_SAMPLE:
            assert any(r["value"] is not None for r in compute(con, metric, base)), metric
        cases = metric_cases(con, base)
        overall = [c for c in cases if not c[1] and c[2] is None]
        sliced = [c for c in cases if c[1]]
        monthly = [c for c in cases if c[2] == "month"]
        assert {c[0] for c in overall} == {c[0] for c in monthly} == set(REGISTRY) and len(sliced) >= len(REGISTRY) - 2
        # Every metric overall and by a slice; drill-downs for one metric of each aggregate kind and the
        # derived (repeat, channel switching) ones; a sample of monthly series; the rival conventions.
        spark = spark_engine.connection()
        drill = {next(m for m, s in REGISTRY.items() if s.aggregate == a) for a in {s.aggregate for s in REGISTRY.values()}}
        drill |= {m for m, s in REGISTRY.items() if s.derived}
        assert diff_metrics(con, spark, base, [c for c in overall if c[0] in drill]) == []
        assert diff_metrics(con, spark, base, [c for c in overall if c[0] not in drill], drill=False) == []
        assert diff_metrics(con, spark, base, sliced, drill=False) == []
        assert diff_metrics(con, spark, base, monthly[::4], drill=False) == []
        assert diff_metrics(con, spark, rival, [c for c in overall if REGISTRY[c[0]].derived]) == []


def test_cli_run_on_spark_publishes_the_same_facts_and_findings(demo: Workspace, spark_session: Any,
                                                                 tmp_path: Path) -> None:
    """`cxchain run --engine spark` (the session is the test session's, as on a cluster's driver)."""
    before = tmp_path / "before.duckdb"
    with demo.store.read() as con:
        keep = duckdb.connect(str(before))
        for name in (*FACT_TABLES, *TEXT_TABLES, "contact_demand", "contact_issue", "contact_sentiment", "finding"):
            keep.register("_t", con.sql(f'SELECT * FROM "{name}"').to_arrow_table())
            keep.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _t')
            keep.unregister("_t")
    generation = demo.store.current()["generation"]  # type: ignore[index]
    result = CliRunner().invoke(cli, ["run", "--engine", "spark", "--workspace", str(demo.path), "--json"])
    assert result.exit_code == 0, result.output
    assert demo.store.current()["generation"] != generation  # type: ignore[index]
    with demo.store.read() as con:
        steps = con.execute("SELECT steps FROM run_log WHERE kind = 'insight' ORDER BY started_at DESC LIMIT 1").fetchall()
        assert '"engine": "spark"' in steps[0][0]
        for table in (*FACT_TABLES, *TEXT_TABLES, "contact_demand", "contact_issue", "contact_sentiment", "finding"):
            # Customer keys are minted afresh by each run's identity resolution (on DuckDB either way).
            ignore = ("customer_key",) if table in FACT_TABLES[:4] else ()
            assert diff_tables(keep, con, table, ignore=ignore) == [], table
    assert not (demo.path / ".cxchain" / "spark").exists()  # the engine's Parquet is cleared after publishing


def _partition(con: duckdb.DuckDBPyConnection) -> set[frozenset[str]]:
    """The resolved customers as groups of records (keys are minted afresh by each resolution)."""
    groups: dict[str, set[str]] = {}
    for record, key in con.execute("SELECT record_id, customer_key FROM record_customer").fetchall():
        groups.setdefault(str(key), set()).add(str(record))
    return {frozenset(g) for g in groups.values()}


def test_whole_chain_from_the_exports_on_spark(demo: Workspace, spark_session: Any, tmp_path: Path) -> None:
    """Links 1 and 2 from the raw exports on Spark: every file's reconciliation counts, the canonical tables,
    quarantine, the resolved customers (same saved linkage model) and link 2's tables equal DuckDB's run."""
    fresh = tmp_path / "ws"
    shutil.copytree(demo.path, fresh, ignore=shutil.ignore_patterns(".cxchain"))
    (fresh / ".cxchain").mkdir()
    shutil.copy(demo.path / ".cxchain" / "secret.key", fresh / ".cxchain" / "secret.key")  # the same keyed hashes
    ws = Workspace(fresh)
    result = ws.run(engine="spark")
    assert result["ingest"]["engine"] == "spark" and result["ingest"]["reconciles"]
    assert result["ingest"]["totals"]["rows_quarantined"] > 0
    # Identity resolution scored the pairs on Spark with the saved model (Splink's Spark backend).
    link = result["link"]
    assert link["scored_on"] == "spark" and link["model"] == "loaded" and link["pairs_above_threshold"] > 0
    counts = "source, file, rows_read, rows_loaded, rows_quarantined, rows_duplicate, rows_updated"
    system = ("batch_id", "valid_from", "valid_to")
    with demo.store.read() as duck, ws.store.read() as spark:
        batches = f"SELECT {counts} FROM batch WHERE kind = 'ingest' ORDER BY source, file"
        assert spark.execute(batches).fetchall() == duck.execute(batches).fetchall()
        for table in ("contact", "case", "complaint", "survey", "survey_item", "property"):
            assert diff_tables(duck, spark, table, ignore=system if table != "survey_item" else ()) == [], table
        assert diff_tables(duck, spark, "quarantine", ignore=("quarantine_id", "batch_id")) == []
        assert _partition(spark) == _partition(duck)
        (steps,) = duck.execute("SELECT steps FROM run_log WHERE kind = 'link' ORDER BY started_at LIMIT 1").fetchone()  # type: ignore[misc]
        assert json.loads(steps)["pairs_above_threshold"] == link["pairs_above_threshold"]
        for table in ("contact_sentiment", "contact_demand", "contact_issue", *TEXT_TABLES, *FACT_TABLES):
            ignore = ("customer_key",) if table in FACT_TABLES[:4] else ()
            assert diff_tables(duck, spark, table, ignore=ignore) == [], table
