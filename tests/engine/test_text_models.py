"""The reason classifier's phases per partition on Spark, on the bulk path.

The parity organisation has few enough distinct texts that the classifier embeds them all; here a
classifier with small limits takes the bulk path (an embedded sample, the lexical model, the ambiguous
texts re-embedded, code priors summed over partitions) on Spark, in batches of 500 rows, and must label
every contact exactly as the same classifier does in one partition on DuckDB.
"""

from __future__ import annotations

from typing import Any

from cxchain import Workspace
from cxchain.engine import ensure_tables
from cxchain.engine.insight import SparkReasonRows
from cxchain.engine.parity import same_value
from cxchain.insight.embed import Embedder
from cxchain.insight.pipeline import INPUTS_WITH_KEY_SQL, workspace_taxonomy
from cxchain.insight.reasons import ReasonClassifier
from cxchain.insight.reasons_bulk import run_phases

LIMITS = {"embed_all_max": 50, "sample_size": 80, "ambiguous_max": 30}


def test_bulk_reasons_per_partition_on_spark_equal_one_partition(parity_demo: Workspace, spark_engine: Any) -> None:
    tax = workspace_taxonomy(parity_demo.path, "council")
    cache = parity_demo.path / ".cxchain" / "cache" / "embeddings"
    with parity_demo.store.read() as con:
        ensure_tables(spark_engine, con, ["contact"])
        rows = con.execute(INPUTS_WITH_KEY_SQL + " ORDER BY record_id").fetchall()
    ec = spark_engine.connection()
    ec.execute(f"CREATE OR REPLACE TABLE _ci AS {INPUTS_WITH_KEY_SQL}")
    conf = spark_engine.spark.conf
    before = conf.get("spark.sql.execution.arrow.maxRecordsPerBatch")
    conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "500")
    try:
        clf = ReasonClassifier(tax, Embedder(cache), placeholders=True, **LIMITS).fit()
        on_spark = SparkReasonRows(spark_engine, "_ci")
        on_spark.label(run_phases(clf, on_spark), {})
    finally:
        conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", before)
    got = ec.execute("SELECT record_id, reason_id, confidence, method, language FROM contact_reason_own "
                     "ORDER BY record_id").fetchall()
    local = ReasonClassifier(tax, Embedder(cache), placeholders=True, **LIMITS).fit()
    reason, confidence, method, langs = local.label_rows([r[1] for r in rows], coded=[r[2] for r in rows],
                                                         ivr=[r[3] for r in rows])
    want = list(zip([r[0] for r in rows], reason, confidence.tolist(), method, langs, strict=True))
    assert {"lexical", "zero_shot"} <= set(method)
    assert local.report["bulk_ambiguous_embedded"] > 0 and local.report["coded_codes_mapped"] > 0
    assert clf.report == local.report
    assert len(got) == len(want)
    bad = [(g, w) for g, w in zip(got, want, strict=True) if not all(same_value(a, b, 1e-9) for a, b in zip(g, w, strict=True))]
    assert bad == []
