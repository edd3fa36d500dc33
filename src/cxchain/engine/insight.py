"""Link 2's table transforms on an engine: sentiment (a text model, batch-wise) and failure demand.

On DuckDB these are the pipeline's own functions on the store.  On Spark:

* **sentiment** runs the shipped model per partition with ``mapInPandas``: each executor loads the
  model once and scores its partition's texts in one batch call, so it scales with the cluster;
* **failure demand** is :func:`cxchain.insight.demand.classify_demand` itself, its SQL transpiled;

and each result table comes back into the DuckDB store, where later steps (findings, the web app)
read it.  Reason classification stays on the machine that holds the embedding cache (see docs/spark.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb

from . import DuckDBEngine, Engine, ensure_tables

__all__ = ["score_contacts_on", "classify_demand_on", "ensure_tables", "SENTIMENT_QUERY"]

#: The rows the sentiment model scores: current contacts with the customer's own words.
SENTIMENT_QUERY = "SELECT record_id, text FROM contact WHERE valid_to IS NULL AND text IS NOT NULL"


def _own(engine: Engine, con: duckdb.DuckDBPyConnection) -> bool:
    return isinstance(engine, DuckDBEngine) and engine.con is con


def _score_partition(batches: Iterator[Any]) -> Iterator[Any]:
    """mapInPandas body: score each batch of (record_id, text) with the sentiment model."""
    import pandas as pd

    from ..insight.sentiment import score_sentiment, text_key

    for pdf in batches:
        texts = pdf["text"].tolist()
        scores = score_sentiment(texts)
        yield pd.DataFrame({"record_id": pdf["record_id"], "sentiment": [float(s) for s, _ in scores],
                            "label": [lab for _, lab in scores], "text_key": [text_key(t) for t in texts]})


def score_contacts_on(engine: Engine, con: duckdb.DuckDBPyConnection, *, incremental: bool = True) -> int:
    """Write ``contact_sentiment(record_id, sentiment, label, text_key)`` into store ``con``, scored on ``engine``.

    ``incremental`` (the store's own DuckDB only) keeps the scores of unchanged texts.
    """
    from ..insight.pipeline import score_contacts

    if _own(engine, con):
        return score_contacts(con, incremental=incremental)
    if isinstance(engine, DuckDBEngine):
        ensure_tables(engine, con, ["contact"])
        n = score_contacts(engine.con)
    else:
        from .spark import SparkEngine

        assert isinstance(engine, SparkEngine)
        ensure_tables(engine, con, ["contact"])
        src = engine.connection().sql(SENTIMENT_QUERY)
        engine.write_table("contact_sentiment",
                           src.mapInPandas(_score_partition, "record_id string, sentiment double, label string, text_key string"))
        n = int(engine.connection().execute("SELECT count(*) FROM contact_sentiment").fetchall()[0][0])
    engine.export_duckdb(con, ["contact_sentiment"])
    return n


def classify_demand_on(engine: Engine, con: duckdb.DuckDBPyConnection, taxonomy: Any, settings: Any) -> dict[str, int]:
    """Write ``contact_demand`` and ``contact_issue`` into store ``con``, classified on ``engine`` (the same SQL on both)."""
    from ..insight.demand import classify_demand

    if _own(engine, con):
        return classify_demand(con, taxonomy, settings)
    # contact_reason and contact_text_failure are rewritten by each run's text models (on the driver),
    # so they are always taken fresh from the store.
    fresh = ["contact_reason"] + [t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name = 'contact_text_failure'").fetchall()]
    engine.import_duckdb(con, fresh)
    ensure_tables(engine, con, ["contact", "record_customer"])
    counts = classify_demand(engine.connection(), taxonomy, settings)
    engine.export_duckdb(con, ["contact_demand", "contact_issue"])
    return counts
