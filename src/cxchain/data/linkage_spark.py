"""Identity resolution's pair scoring on Spark: the saved linkage model, Splink's Spark backend.

:func:`cxchain.data.linkage.link_identities` prepares the identities and clusters the pairs on the driver
(DuckDB); the part that grows with the square of the data, comparing the candidate pairs of every
blocking rule and scoring them with the model, runs here on a Spark engine.  The model is the one a
DuckDB run uses (a workspace's ``linkage_model.json``): its comparison and blocking SQL is written in
DuckDB SQL and is transpiled with SQLGlot, Splink's similarity functions mapped to the Scala UDFs Splink
ships for Spark (``splink.backends.spark.similarity_jar_location()``, added to sessions cxchain starts).

Given the same model, both engines find the same pairs above the threshold: Splink computes the same
comparison levels (Jaro-Winkler and Damerau-Levenshtein agree at the model's thresholds, >= 0.9 and <= 1),
and the match probabilities differ at most in their last digits.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

__all__ = ["spark_model", "predict_pairs_on_spark", "model_version", "SPARK_FUNCTIONS"]

#: DuckDB similarity functions and the names Splink's Spark UDFs are registered under.
SPARK_FUNCTIONS = {"jaro_winkler_similarity": "jaro_winkler", "jaro_similarity": "jaro_sim",
                   "damerau_levenshtein": "damerau_levenshtein", "jaccard": "jaccard"}


def model_version(model: dict[str, Any]) -> str:
    """A short fingerprint of a linkage model (its comparisons, m/u values and rules), recorded per run."""
    return hashlib.sha256(json.dumps(model, sort_keys=True).encode()).hexdigest()[:12]


def _condition(sql: str) -> str:
    if sql.strip().upper() == "ELSE":
        return sql

    def rename(node: exp.Expr) -> exp.Expr:
        name = None
        if isinstance(node, exp.JarowinklerSimilarity):
            name = "jaro_winkler_similarity"
        elif isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
        if name in SPARK_FUNCTIONS:
            args = [node.this, node.expression] if not isinstance(node, exp.Anonymous) else node.expressions
            return exp.Anonymous(this=SPARK_FUNCTIONS[name], expressions=[a.copy() for a in args])
        return node

    return sqlglot.parse_one(sql, read="duckdb").transform(rename).sql(dialect="spark")


def spark_model(model: dict[str, Any]) -> dict[str, Any]:
    """The saved (DuckDB) model with its SQL in Spark's dialect, for Splink's SparkAPI."""
    out = copy.deepcopy(model)
    out["sql_dialect"] = "spark"
    for comp in out.get("comparisons", []):
        for level in comp.get("comparison_levels", []):
            if "sql_condition" in level:
                level["sql_condition"] = _condition(level["sql_condition"])
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        if isinstance(rule, dict):
            rule["blocking_rule"] = _condition(rule["blocking_rule"])
            rule["sql_dialect"] = "spark"
        else:  # a rule saved as a bare string
            out["blocking_rules_to_generate_predictions"] = [
                {"blocking_rule": _condition(r), "sql_dialect": "spark"} if isinstance(r, str) else r
                for r in out["blocking_rules_to_generate_predictions"]]
            break
    return out


def predict_pairs_on_spark(engine: Any, con: Any, identities: str, model: dict[str, Any], threshold: float) -> pa.Table:
    """Pairs of ``unique_id`` (``unique_id_l``, ``unique_id_r``) whose match probability is at least ``threshold``.

    ``identities`` is a table of DuckDB connection ``con`` (one row per identity, the model's columns);
    it is copied to the Spark ``engine``, scored there by Splink's Spark backend, and only the pairs
    above the threshold come back to the driver.
    """
    from splink import Linker, SparkAPI

    engine.import_duckdb(con, [identities])
    spark = engine.spark
    # Intermediate tables are persisted (memory, spilling to disk), not written to a checkpoint folder.
    db_api = SparkAPI(spark_session=spark, break_lineage_method="persist")
    try:
        sdf = db_api.register(spark.table(identities), table_name=f"{identities}_input")
        linker = Linker(sdf, spark_model(model), log_level=None)
        pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
        pairs = spark.sql(f"SELECT unique_id_l, unique_id_r FROM {pred.physical_name} "
                          f"WHERE match_probability >= {float(threshold)!r}").toArrow()
    finally:
        db_api.delete_tables_created_by_splink_from_db()
        engine.connection().execute(f'DROP TABLE IF EXISTS "{identities}"')
    return pairs
