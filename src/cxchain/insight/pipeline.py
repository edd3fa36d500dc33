"""Link 2 for a workspace: reasons, sentiment, failure demand, fact tables, findings.

Runs inside a store transaction after link 1, so the insight a reader sees always belongs to the
data it was computed from.  Writes ``contact_reason``, ``contact_sentiment``, ``contact_demand``,
the metric fact tables and ``finding``.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from ..engine import Engine, build_facts_on, open_engine
from ..engine.insight import (
    classify_contacts_on,
    classify_demand_on,
    read_failure_in_text_on,
    score_contacts_on,
)
from .analyse import generate_findings
from .findings import save_findings
from .taxonomy import UNCLASSIFIED, Taxonomy, load_taxonomy, save_taxonomy, starter_taxonomy

TAXONOMY_FILE = "taxonomy.yaml"


def workspace_taxonomy(ws_path: Path, sector: str) -> Taxonomy:
    """The workspace's taxonomy file, seeded from the sector pack the first time."""
    path = ws_path / TAXONOMY_FILE
    if not path.exists():
        save_taxonomy(starter_taxonomy(sector if sector in ("council", "housing", "utility", "bank", "telecom", "retail")
                                       else "council"), path)
    return load_taxonomy(path)


# The customer's words first; without them (calls, IVR) the agent's note and the coded reason or IVR
# option label, which are often descriptive ("Damp and mould", "boiler fault - booked").  A call leg
# also takes the menu choice of the IVR session that led to it: its wrap code is often only the
# department ("REPAIR"), while the caller's own choice names the issue.
_INPUTS_SQL = """WITH c AS (SELECT * FROM contact WHERE valid_to IS NULL),
                      menu AS (SELECT interaction_ref, min(coded_reason) AS option, min(ivr_path) AS path FROM c
                               WHERE channel = 'ivr' AND interaction_ref IS NOT NULL GROUP BY 1)
                 SELECT c.record_id,
                        coalesce(nullif(trim(c.text), ''),
                                 nullif(concat_ws('. ', c.agent_text, CASE WHEN c.channel <> 'ivr' THEN m.option END,
                                                  c.coded_reason), ''), '') AS t,
                        c.coded_reason, coalesce(c.ivr_path, CASE WHEN c.channel <> 'ivr' THEN m.path END) AS ivr_path
                 FROM c LEFT JOIN menu m USING (interaction_ref)"""

# Every current contact's classifier inputs and a hash of them (a changed hash relabels the contact).
INPUTS_WITH_KEY_SQL = _INPUTS_SQL.replace(
    "SELECT c.record_id,", "SELECT record_id, t, coded_reason, ivr_path, md5(concat_ws(chr(31), t, coalesce(coded_reason, ''), "
    "coalesce(ivr_path, ''))) AS input_key FROM (SELECT c.record_id,", 1) + ") i"

# A contact with no reason of its own takes the reason of its interaction: the IVR session and the
# call legs it led to share an interaction reference across silos.  A query (not an UPDATE), so it
# runs on every engine.
CONTACT_REASON_SQL = """
    CREATE OR REPLACE TABLE contact_reason AS
    WITH cur AS (SELECT record_id, interaction_ref FROM contact WHERE valid_to IS NULL),
         ranked AS (SELECT c.interaction_ref, o.reason_id, o.reason_group, o.confidence,
                           row_number() OVER (PARTITION BY c.interaction_ref ORDER BY o.confidence DESC, c.record_id) AS rn
                    FROM cur c JOIN contact_reason_own o ON o.record_id = c.record_id
                    WHERE c.interaction_ref IS NOT NULL AND o.reason_id <> 'unclassified'),
         best AS (SELECT interaction_ref, reason_id, reason_group, confidence FROM ranked WHERE rn = 1),
         own AS (SELECT o.*, b.reason_id AS b_reason, b.reason_group AS b_group, b.confidence AS b_confidence,
                        (b.reason_id IS NOT NULL AND o.reason_id = 'unclassified' AND o.method <> 'non_english') AS fill
                 FROM contact_reason_own o LEFT JOIN cur c ON c.record_id = o.record_id
                 LEFT JOIN best b ON b.interaction_ref = c.interaction_ref)
    SELECT record_id, CASE WHEN fill THEN b_reason ELSE reason_id END AS reason_id,
           CASE WHEN fill THEN b_group ELSE reason_group END AS reason_group,
           CASE WHEN fill THEN b_confidence ELSE confidence END AS confidence,
           CASE WHEN fill THEN 'interaction' ELSE method END AS method, language
    FROM own ORDER BY record_id"""

#: The texts failure demand is read from: current contacts with the customer's own words.
TEXT_FAILURE_INPUTS_SQL = "SELECT record_id, text, md5(text) AS text_key FROM contact WHERE valid_to IS NULL AND text IS NOT NULL"

# Bump when the reason classifier changes in a way that should relabel every contact.
# 4: the embedded sample and the ambiguous texts are chosen by a hash of the text (a query on any
# engine), code priors are summed in exact integer units.
REASON_MODEL_VERSION = 4


def classifier_inputs(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, Any, Any]]:
    """``(record_id, text, coded_reason, ivr_path)`` of every current contact, by record id.

    See :data:`_INPUTS_SQL` for what a contact's classifier text is made of.
    """
    return con.execute(_INPUTS_SQL + " ORDER BY record_id").fetchall()


def reason_model_key(tax: Taxonomy) -> str:
    """What a contact's reason depends on besides its own inputs: the taxonomy's reasons (names,
    descriptions, examples) and the classifier's version.  A new key relabels every contact."""
    import sklearn

    body = json.dumps({"v": REASON_MODEL_VERSION, "sklearn": sklearn.__version__,
                       "reasons": [asdict(r) for r in tax.reasons]}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()[:32]


def _table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]).fetchall()[0][0])


def classify_contacts(con: duckdb.DuckDBPyConnection, tax: Taxonomy, cache_dir: Path, *,
                      incremental: bool = True) -> dict[str, Any]:
    """Give every current contact a reason (or ``unclassified``), a confidence and a language.

    Incremental: a contact whose classifier inputs (text, coded reason, IVR path) and taxonomy are
    unchanged since the last run keeps its reason (``contact_reason_own`` holds each contact's own
    prediction with a hash of its inputs); only new and changed contacts are classified, with the
    bulk lexical model kept from the last full run and the code priors learned from every earlier
    contact, so a refresh of a few thousand contacts does not re-read a million.
    """
    key = reason_model_key(tax)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ci AS {INPUTS_WITH_KEY_SQL}")
    reuse = (incremental and _table_exists(con, "contact_reason_own") and _table_exists(con, "reason_model")
             and con.execute("SELECT any_value(model_key) FROM reason_model").fetchall()[0][0] == key)
    if reuse:
        rows = con.sql("""SELECT ci.record_id, ci.t, ci.coded_reason, ci.ivr_path, ci.input_key FROM _ci ci
                              ANTI JOIN contact_reason_own o ON o.record_id = ci.record_id AND o.input_key = ci.input_key
                              ORDER BY ci.record_id""").to_arrow_table()
        evidence: dict[str, dict[str, Counter[str]]] = {}
        for name, col in (("coded", "coded_reason"), ("ivr", "ivr_path")):
            found: dict[str, Counter[str]] = defaultdict(Counter)
            for code, rid, n_ in con.execute(f"""
                    SELECT trim(ci.{col}), o.reason_id, count(*) FROM _ci ci
                    JOIN contact_reason_own o ON o.record_id = ci.record_id AND o.input_key = ci.input_key
                    WHERE coalesce(trim(ci.{col}), '') <> '' AND o.reason_id <> 'unclassified' AND o.confidence >= 0.5
                      AND o.method NOT IN ('coded', 'ivr') GROUP BY ALL""").fetchall():
                found[str(code)][str(rid)] += int(n_)
            evidence[name] = dict(found)
    else:
        rows = con.sql("SELECT record_id, t, coded_reason, ivr_path, input_key FROM _ci ORDER BY record_id").to_arrow_table()
        evidence = {}
    clf = reason_classifier(tax, cache_dir)
    # The bulk model of the last full run labels later batches; it lives beside the embedding cache
    # (the workspace's own files, written only by cxchain).
    kept = cache_dir.parent / f"reason-bulk-{key}.pkl"
    if reuse and kept.exists():
        try:
            clf.use_bulk_state(pickle.loads(kept.read_bytes()))
        except (ValueError, pickle.UnpicklingError, EOFError, AttributeError):
            kept.unlink(missing_ok=True)
    reason, conf, method, langs = clf.label_rows(rows.column("t").to_pylist(), coded=rows.column("coded_reason").to_pylist(),
                                                 ivr=rows.column("ivr_path").to_pylist(), code_evidence=evidence)
    if not reuse:
        keep_bulk_model(clf, cache_dir, key)
    groups = {r.id: r.group for r in tax.active}
    tbl = pa.table({
        "record_id": rows.column("record_id").cast(pa.string()),
        "input_key": rows.column("input_key").cast(pa.string()),
        "reason_id": pa.array(reason, pa.string()),
        "reason_group": pa.array([groups.get(r) if r != UNCLASSIFIED else None for r in reason], pa.string()),
        "confidence": pa.array(conf, pa.float64()),
        "method": pa.array(method, pa.string()),
        "language": pa.array(langs, pa.string()),
    })
    con.register("_cr", tbl)
    if reuse:
        # Keep the unchanged; drop erased, superseded and changed contacts; add the newly labelled.
        con.execute("""DELETE FROM contact_reason_own o WHERE NOT EXISTS (
                           SELECT 1 FROM _ci ci WHERE ci.record_id = o.record_id AND ci.input_key = o.input_key)""")
        con.execute("INSERT INTO contact_reason_own SELECT * FROM _cr")
    else:
        con.execute("CREATE OR REPLACE TABLE contact_reason_own AS SELECT * FROM _cr")
        con.execute("CREATE OR REPLACE TABLE reason_model AS SELECT ? AS model_key", [key])
    con.unregister("_cr")
    con.execute("DROP TABLE _ci")
    con.execute(CONTACT_REASON_SQL)
    return reason_stats(con, len(reason))


def reason_classifier(tax: Taxonomy, cache_dir: Path) -> Any:
    """The workspace's fitted reason classifier (embedding cache in ``cache_dir``).

    Placeholders ([PHONE], [NAME]...) say nothing about why the customer got in touch: measured on
    Banking77 with PII inserted, removing them before classifying gains 2.9 points over keeping them.
    """
    from .embed import Embedder
    from .reasons import ReasonClassifier

    return ReasonClassifier(tax, Embedder(cache_dir), placeholders=True).fit(None)


def keep_bulk_model(clf: Any, cache_dir: Path, key: str) -> None:
    """Keep the bulk lexical model of a full run beside the embedding cache, for later incremental runs."""
    state = clf.bulk_state()
    if state is None:
        return
    kept = cache_dir.parent / f"reason-bulk-{key}.pkl"
    for old in cache_dir.parent.glob("reason-bulk-*.pkl"):
        old.unlink(missing_ok=True)
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_suffix(".tmp")
    tmp.write_bytes(pickle.dumps(state))
    tmp.replace(kept)


def reason_stats(con: Any, classified_now: int) -> dict[str, Any]:
    """What :func:`classify_contacts` returns, read from ``contact_reason``."""
    counts = dict(con.execute("SELECT reason_id = 'unclassified', count(*) FROM contact_reason GROUP BY 1").fetchall())
    methods = dict(con.execute("SELECT method, count(*) FROM contact_reason GROUP BY 1 ORDER BY 1").fetchall())
    n = int(sum(counts.values()))
    unclassified = int(counts.get(True, 0))
    return {"contacts": n, "unclassified": unclassified, "unclassified_share": round(unclassified / n, 4) if n else 0.0,
            "methods": methods, "classified_now": classified_now, "kept_from_last_run": n - classified_now}


def _changed_rows(con: duckdb.DuckDBPyConnection, table: str, current: str, columns: str, key: str,
                  incremental: bool) -> tuple[bool, list[tuple[Any, ...]]]:
    """``(reuse, rows)``: with ``reuse``, only the rows of temp table ``current`` whose (record_id, ``key``)
    are not already in ``table``; otherwise all of them (first run, ``--full``, or an older table)."""
    reuse = incremental and _table_exists(con, table) and key in {
        r[0] for r in con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ?",
                                  [table]).fetchall()}
    if reuse:
        sql = f"""SELECT {columns} FROM {current} t ANTI JOIN {table} o
                  ON o.record_id = t.record_id AND o.{key} = t.{key} ORDER BY t.record_id"""
    else:
        sql = f"SELECT {columns} FROM {current} t ORDER BY t.record_id"
    return reuse, con.execute(sql).fetchall()


def _store_kept(con: duckdb.DuckDBPyConnection, table: str, current: str, key: str, new: pa.Table,
                reuse: bool) -> None:
    """Write ``new`` rows into ``table``: beside the unchanged rows (dropping erased, superseded and
    changed ones) when ``reuse``, else as the whole table."""
    con.register("_new", new)
    if reuse:
        con.execute(f"""DELETE FROM {table} o WHERE NOT EXISTS (
                            SELECT 1 FROM {current} t WHERE t.record_id = o.record_id AND t.{key} = o.{key})""")
        con.execute(f"INSERT INTO {table} SELECT * FROM _new")
    else:
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _new")
    con.unregister("_new")
    con.execute(f"DROP TABLE {current}")


def score_contacts(con: duckdb.DuckDBPyConnection, *, incremental: bool = True) -> int:
    """Sentiment of the customer's own words per contact (-1..1, with a label).

    Incremental: a contact whose text is unchanged since the last run keeps its score (the table
    holds a hash of the text scored); only new and changed texts are scored.  Returns how many
    texts were scored now.
    """
    from .sentiment import model_digest, score_sentiment

    # The key covers the model too: new sentiment weights (an upgrade) rescore every text.
    # (sentiment.text_key computes the same key in Python, for engines that score elsewhere.)
    model = model_digest()
    con.execute("""CREATE OR REPLACE TEMP TABLE _st AS SELECT record_id, text, md5(text || chr(31) || ?) AS text_key
                   FROM contact WHERE valid_to IS NULL AND text IS NOT NULL""", [model])
    reuse, rows = _changed_rows(con, "contact_sentiment", "_st", "t.record_id, t.text, t.text_key", "text_key",
                                incremental)
    scores = score_sentiment([r[1] for r in rows])
    tbl = pa.table({"record_id": pa.array([r[0] for r in rows], pa.string()),
                    "sentiment": pa.array([s for s, _ in scores], pa.float64()),
                    "label": pa.array([lab for _, lab in scores], pa.string()),
                    "text_key": pa.array([r[2] for r in rows], pa.string())})
    _store_kept(con, "contact_sentiment", "_st", "text_key", tbl, reuse)
    return len(rows)


def read_failure_in_text(con: duckdb.DuckDBPyConnection, cache_dir: Path, *, incremental: bool = True) -> int:
    """``contact_text_failure(record_id, p_failure, failure_type, text_key)`` for contacts with the customer's own words.

    Incremental: unchanged texts keep their reading; new and changed texts are read by a model fitted
    on a sample of themselves.  Returns how many texts were read now.
    """
    from .demand_text import choose_sample, fit_failure_model, read_failure_batch
    from .embed import Embedder

    con.execute(f"CREATE OR REPLACE TEMP TABLE _tx AS {TEXT_FAILURE_INPUTS_SQL}")
    reuse, rows = _changed_rows(con, "contact_text_failure", "_tx", "t.record_id, t.text, t.text_key", "text_key",
                                incremental)
    probs: list[tuple[float, str | None]] = []
    if rows:
        con.register("_tx_todo", pa.table({"record_id": pa.array([r[0] for r in rows], pa.string()),
                                           "text": pa.array([r[1] for r in rows], pa.string())}))
        chosen = choose_sample(lambda sql: con.execute(sql).fetchall(), "_tx_todo")
        con.unregister("_tx_todo")
        probs = read_failure_batch([r[1] for r in rows], fit_failure_model(chosen, Embedder(cache_dir)) if chosen else None)
    tbl = pa.table({"record_id": pa.array([r[0] for r in rows], pa.string()),
                    "p_failure": pa.array([p for p, _ in probs], pa.float64()),
                    "failure_type": pa.array([t for _, t in probs], pa.string()),
                    "text_key": pa.array([r[2] for r in rows], pa.string())})
    _store_kept(con, "contact_text_failure", "_tx", "text_key", tbl, reuse)
    return len(rows)


def run_insight(con: duckdb.DuckDBPyConnection, settings: Any, ws_path: Path, *, secret: str,
                progress: Callable[[str, int, int], None] | None = None, incremental: bool = True,
                engine: Engine | None = None) -> dict[str, Any]:
    """The whole of link 2 on the open analytical store ``con``; returns step statistics.

    ``incremental`` keeps the reasons and sentiment of unchanged contacts from the last run.  ``engine`` is
    an engine the caller opened (and stops) for the whole run; without one, the ``engine`` setting's is opened.
    """
    progress = progress or (lambda s, d, t: None)
    stats: dict[str, Any] = {}
    steps: dict[str, float] = {}
    t0 = time.perf_counter()

    def step(name: str, done: int) -> None:
        # Wall time per step, so benchmarks/insight.py can say where the time goes.
        progress(name, done, 5)
        steps[name] = time.perf_counter()

    tax = workspace_taxonomy(ws_path, str(settings["sector"]))
    cache = ws_path / ".cxchain" / "cache" / "embeddings"
    # Reasons, sentiment, failure demand and the fact tables run on the workspace's engine (settings
    # `engine`, `spark.*`; docs/spark.md) and land in this store.
    own = engine is None
    engine = engine or open_engine(settings, storage=ws_path / ".cxchain" / "spark", con=con)
    try:
        step("classify contact reasons", 0)
        stats["reasons"] = classify_contacts_on(engine, con, tax, cache, incremental=incremental)
        step("score sentiment", 1)
        # scored now; on DuckDB the rest are kept from the last run
        stats["sentiment_scored"] = score_contacts_on(engine, con, incremental=incremental)
        step("classify failure demand", 2)
        stats["text_failure"] = read_failure_in_text_on(engine, con, cache, incremental=incremental)
        stats["demand"] = classify_demand_on(engine, con, tax, settings)
        step("build metric facts", 3)
        stats["facts"] = build_facts_on(engine, con, secret=secret)
    finally:
        if own:
            engine.stop()
    stats["engine"] = engine.name
    step("find and rank findings", 4)
    findings = generate_findings(con, settings, tax)
    save_findings(con, findings)
    stats["findings"] = len(findings)
    names, ends = list(steps), [*list(steps.values())[1:], time.perf_counter()]
    stats["step_seconds"] = {n: round(e - steps[n], 2) for n, e in zip(names, ends, strict=True)}
    stats["taxonomy_version"] = tax.version
    stats["seconds"] = round(time.perf_counter() - t0, 2)
    return stats
