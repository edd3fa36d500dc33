"""Link 2's table transforms on an engine: the text models batch-wise per partition, failure demand as SQL.

On DuckDB these are the pipeline's own functions on the store.  On Spark:

* **contact reasons** run the phases of :mod:`cxchain.insight.reasons_bulk`: the per-row ones
  (cleaning and language, scoring, code-prior soft counts, the final reason) per partition with
  ``mapInPandas`` (:class:`SparkReasonRows`); the driver only embeds the sample and the ambiguous texts
  (chosen by queries), fits the lexical model and reduces the code priors; the interaction fill is
  SQL.  Every contact is classified each run (incremental reuse is DuckDB's);
* **sentiment** runs the shipped model per partition with ``mapInPandas``: each executor loads the
  model once and scores its partition's texts in one batch call, so it scales with the cluster;
* **the text failure reading** is fitted on the driver on a sample chosen by a query and reads every
  text per partition;
* **failure demand** is :func:`cxchain.insight.demand.classify_demand` itself, its SQL transpiled;

and each result table comes back into the DuckDB store, where later steps (findings, the web app)
read it.  DuckDB runs the same phase functions in process, as one partition.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

import duckdb

from . import DuckDBEngine, Engine, ensure_tables

__all__ = ["score_contacts_on", "classify_demand_on", "classify_contacts_on", "read_failure_in_text_on", "ensure_tables",
           "SENTIMENT_QUERY",
           "SparkReasonRows"]

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
    # contact_reason and contact_text_failure are taken from the store, which holds this run's (computed on
    # the engine, or kept from earlier runs on DuckDB): the engine may not hold them when called on its own.
    fresh = ["contact_reason"] + [t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_name = 'contact_text_failure'").fetchall()]
    engine.import_duckdb(con, fresh)
    ensure_tables(engine, con, ["contact", "record_customer"])
    counts = classify_demand(engine.connection(), taxonomy, settings)
    engine.export_duckdb(con, ["contact_demand", "contact_issue"])
    return counts


# ------------------------------------------------------------------------------------------------
# contact reasons: the phases of cxchain.insight.reasons_bulk, per partition

_ROWS_SCHEMA = ("record_id string, input_key string, t string, lang string, text_hash string, "
                "coded_reason string, ivr_path string")
_SCORED_SCHEMA = _ROWS_SCHEMA + ", method string, margin double, top double, p array<double>"
_LABEL_SCHEMA = ("record_id string, input_key string, reason_id string, reason_group string, confidence double, "
                 "method string, language string")


def _prepare_partition(batches: Iterator[Any], *, seed: int, placeholders: bool) -> Iterator[Any]:
    from ..insight.reasons_bulk import prepare_batch

    for pdf in batches:
        clean, langs, hashes = prepare_batch(pdf["t"].tolist(), seed=seed, placeholders=placeholders)
        yield pdf.assign(t=clean, lang=langs, text_hash=hashes)[
            ["record_id", "input_key", "t", "lang", "text_hash", "coded_reason", "ivr_path"]]


def _score_reasons_partition(batches: Iterator[Any], *, state: Any) -> Iterator[Any]:
    from ..insight.reasons_bulk import score_batch

    for pdf in batches:
        P, top, method, margin = score_batch(pdf["t"].tolist(), pdf["lang"].tolist(), state).rows()
        yield pdf.assign(method=method.tolist(), margin=margin, top=top, p=list(P))


def _scored(pdf: Any, state: Any) -> Any:
    import numpy as np

    from ..insight.reasons_bulk import Scored, rescore

    R = len(state.reason_ids)
    P = np.stack(pdf["p"].tolist()) if len(pdf) else np.zeros((0, R))
    return rescore(Scored.from_rows(pdf["t"].tolist(), pdf["lang"].tolist(), P.reshape(len(pdf), R),
                                    pdf["top"].to_numpy(float), pdf["method"].to_numpy(object),
                                    pdf["margin"].to_numpy(float)), state)


def _keys(pdf: Any) -> dict[str, Any]:
    from ..insight.reasons_bulk import code_keys

    return {"coded": code_keys(pdf["coded_reason"].tolist()), "ivr": code_keys(pdf["ivr_path"].tolist())}


def _mass_partition(batches: Iterator[Any], *, state: Any) -> Iterator[Any]:
    import pandas as pd

    from ..insight.reasons_bulk import code_mass_batch

    for pdf in batches:
        keys = _keys(pdf)
        mass = code_mass_batch(_scored(pdf, state), keys, state.threshold)
        out: list[tuple[str, str, int, int]] = []
        for kind, k in keys.items():
            out += [(kind, str(c), -1, 0) for c in set(k.tolist())]  # the codes seen, for the priors
            for code, m in mass.get(kind, {}).items():
                out += [(kind, code, r, int(v)) for r, v in enumerate(m.tolist()) if v]
        yield pd.DataFrame(out, columns=["kind", "code", "r", "mass"])


def _label_partition(batches: Iterator[Any], *, state: Any, groups: dict[str, str | None]) -> Iterator[Any]:
    import pandas as pd

    from ..insight.reasons_bulk import label_batch

    for pdf in batches:
        reason, conf, method = label_batch(_scored(pdf, state), pdf["lang"].tolist(), _keys(pdf), state)
        yield pd.DataFrame({"record_id": pdf["record_id"], "input_key": pdf["input_key"], "reason_id": reason,
                            "reason_group": [groups.get(r) for r in reason], "confidence": conf,
                            "method": method, "language": pdf["lang"]})


class SparkReasonRows:
    """The rows of Spark table ``source`` (``record_id, t, coded_reason, ivr_path, input_key``) as the
    reason classifier's phases see them: per-row work with ``mapInPandas``, the driver's queries in SQL."""

    def __init__(self, engine: Any, source: str):
        self.engine = engine
        self.source = source

    def prepare(self, state: Any) -> None:
        df = self.engine.spark.table(self.source).select("record_id", "input_key", "t", "coded_reason", "ivr_path")
        self.engine.write_table("_reason_rows", df.mapInPandas(
            partial(_prepare_partition, seed=state.seed, placeholders=state.placeholders), _ROWS_SCHEMA))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.engine.connection().execute(sql).fetchall()

    def score(self, state: Any) -> None:
        self.engine.write_table("_reason_scored", self.engine.spark.table("_reason_rows").mapInPandas(
            partial(_score_reasons_partition, state=state), _SCORED_SCHEMA))

    def code_mass(self, state: Any) -> tuple[dict[str, dict[str, Any]], dict[str, set[str]]]:
        import numpy as np

        parts = self.engine.spark.table("_reason_scored").mapInPandas(
            partial(_mass_partition, state=state), "kind string, code string, r int, mass long")
        mass: dict[str, dict[str, Any]] = {}
        seen: dict[str, set[str]] = {"coded": set(), "ivr": set()}
        R = len(state.reason_ids)
        for kind, code, r, total in parts.groupBy("kind", "code", "r").sum("mass").collect():
            seen[kind].add(code)
            if r >= 0:
                mass.setdefault(kind, {}).setdefault(code, np.zeros(R, dtype=np.int64))[r] = int(total)
        return mass, seen

    def label(self, state: Any, groups: dict[str, str | None]) -> None:
        self.engine.write_table("contact_reason_own", self.engine.spark.table("_reason_scored").mapInPandas(
            partial(_label_partition, state=state, groups=groups), _LABEL_SCHEMA))
        for name in ("_reason_rows", "_reason_scored"):
            self.engine.drop_table(name)


def classify_contacts_on(engine: Engine, con: duckdb.DuckDBPyConnection, taxonomy: Any, cache_dir: Path, *,
                         incremental: bool = True) -> dict[str, Any]:
    """Write ``contact_reason_own``, ``reason_model`` and ``contact_reason`` into store ``con``, classified on ``engine``.

    On the store's own DuckDB this is :func:`cxchain.insight.pipeline.classify_contacts` (incremental).  On
    Spark every current contact is classified each run: the per-row phases run per partition, the driver
    embeds the sample and the ambiguous texts (embedding cache ``cache_dir``) and fits the lexical model.
    """
    from ..insight.pipeline import (
        CONTACT_REASON_SQL,
        INPUTS_WITH_KEY_SQL,
        classify_contacts,
        keep_bulk_model,
        reason_classifier,
        reason_model_key,
        reason_stats,
    )
    from ..insight.reasons_bulk import run_phases

    if _own(engine, con):
        return classify_contacts(con, taxonomy, cache_dir, incremental=incremental)
    ensure_tables(engine, con, ["contact"])
    if isinstance(engine, DuckDBEngine):
        stats = classify_contacts(engine.con, taxonomy, cache_dir, incremental=False)
    else:
        from .spark import SparkEngine

        assert isinstance(engine, SparkEngine)
        ec = engine.connection()
        key = reason_model_key(taxonomy)
        ec.execute(f"CREATE OR REPLACE TABLE _ci AS {INPUTS_WITH_KEY_SQL}")
        clf = reason_classifier(taxonomy, cache_dir)
        rows = SparkReasonRows(engine, "_ci")
        rows.label(run_phases(clf, rows), {r.id: r.group for r in taxonomy.active})
        engine.drop_table("_ci")
        keep_bulk_model(clf, cache_dir, key)
        ec.execute("CREATE OR REPLACE TABLE reason_model AS SELECT ? AS model_key", [key])
        ec.execute(CONTACT_REASON_SQL)
        stats = None
    engine.export_duckdb(con, ["contact_reason_own", "reason_model", "contact_reason"])
    if stats is None:
        n = int(con.execute("SELECT count(*) FROM contact_reason_own").fetchall()[0][0])
        stats = reason_stats(con, n)
    return stats


# ------------------------------------------------------------------------------------------------
# failure demand in the customer's words: a model fitted on the driver, read per partition


def _read_failure_partition(batches: Iterator[Any], *, model: Any) -> Iterator[Any]:
    import pandas as pd

    from ..insight.demand_text import read_failure_batch

    for pdf in batches:
        probs = read_failure_batch(pdf["text"].tolist(), model)
        yield pd.DataFrame({"record_id": pdf["record_id"], "p_failure": [p for p, _ in probs],
                            "failure_type": [t for _, t in probs], "text_key": pdf["text_key"]})


def read_failure_in_text_on(engine: Engine, con: duckdb.DuckDBPyConnection, cache_dir: Path, *,
                            incremental: bool = True) -> int:
    """Write ``contact_text_failure`` into store ``con``, read on ``engine``; returns how many texts were read.

    On the store's own DuckDB this is :func:`cxchain.insight.pipeline.read_failure_in_text` (incremental).
    On Spark every text is read each run, per partition, by a model the driver fits on a sample it
    chooses with a query (:func:`cxchain.insight.demand_text.choose_sample`).
    """
    from ..insight.demand_text import choose_sample, fit_failure_model
    from ..insight.embed import Embedder
    from ..insight.pipeline import TEXT_FAILURE_INPUTS_SQL, read_failure_in_text

    if _own(engine, con):
        return read_failure_in_text(con, cache_dir, incremental=incremental)
    ensure_tables(engine, con, ["contact"])
    if isinstance(engine, DuckDBEngine):
        n = read_failure_in_text(engine.con, cache_dir, incremental=False)
    else:
        from .spark import SparkEngine

        assert isinstance(engine, SparkEngine)
        ec = engine.connection()
        ec.execute(f"CREATE OR REPLACE TABLE _tx AS {TEXT_FAILURE_INPUTS_SQL}")
        chosen = choose_sample(lambda sql: ec.execute(sql).fetchall(), "_tx")
        model = fit_failure_model(chosen, Embedder(cache_dir)) if chosen else None
        engine.write_table("contact_text_failure", engine.spark.table("_tx").mapInPandas(
            partial(_read_failure_partition, model=model),
            "record_id string, p_failure double, failure_type string, text_key string"))
        engine.drop_table("_tx")
        n = int(ec.execute("SELECT count(*) FROM contact_text_failure").fetchall()[0][0])
    engine.export_duckdb(con, ["contact_text_failure"])
    return n
