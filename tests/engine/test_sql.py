"""DuckDB SQL transpiled for Spark: the rewrites keep DuckDB's meaning, checked on both engines."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from cxchain.engine.parity import same_value
from cxchain.engine.sql import to_spark


def test_placeholders_are_bound_as_literals() -> None:
    (sql,) = to_spark("SELECT * FROM t WHERE a = ? AND b = ? AND c = ?", ["it's", 2, date(2025, 3, 1)])
    assert "'it''s'" in sql or "'it\\'s'" in sql
    assert "b = 2" in sql and "CAST('2025-03-01' AS DATE)" in sql


def test_decimal_literals_become_doubles() -> None:
    (sql,) = to_spark("SELECT 1000.0 * count(*) / 7 AS r, 3 AS i FROM t")
    assert "CAST(1000.0 AS DOUBLE)" in sql and "3 AS i" in sql


def test_information_schema_reads_the_engine_catalogue() -> None:
    (sql,) = to_spark("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                      "AND table_schema = current_schema()", ["contact"])
    assert "_cx_information_schema_columns" in sql and "'main'" in sql


def test_more_than_one_statement() -> None:
    assert len(to_spark("CREATE OR REPLACE TABLE a AS SELECT 1 AS x; SELECT * FROM a")) == 2


#: DuckDB expressions whose Spark translation needed help, with a table of rows to run them on.
EXPRESSIONS = [
    "isodow(d)",
    "d + to_microseconds(CAST(90000000 AS BIGINT))",
    "CAST(date_trunc('week', ts) AS DATE)",
    "date_diff('millisecond', ts, ts2) / 1000.0",
    "substr(sha256('k' || trim(s)), 1, 16)",
    "1.959963984540054 * sqrt(greatest(0, 10000 * (x - 0.25) ^ 2))",
    "ts2 IS NOT DISTINCT FROM ts",
]
ROWS = [(datetime(2026, 11, 22 + i, 9, 30, 15), datetime(2026, 11, 23 + i, 10, 0), f" id{i} ", i / 7) for i in range(8)]


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_expression_means_the_same_on_spark(expr: str, spark_engine: object) -> None:
    duck = duckdb.connect()
    duck.execute("CREATE TABLE t (d TIMESTAMP, ts2 TIMESTAMP, s VARCHAR, x DOUBLE)")
    duck.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", ROWS)
    duck.execute("ALTER TABLE t ADD COLUMN ts TIMESTAMP; UPDATE t SET ts = d")
    spark_engine.import_duckdb(duck, ["t"])  # type: ignore[attr-defined]
    sql = f"SELECT s, {expr} AS v FROM t ORDER BY s"
    want = duck.execute(sql).fetchall()
    got = spark_engine.connection().execute(sql).fetchall()  # type: ignore[attr-defined]
    assert len(got) == len(want) == len(ROWS)
    for (s1, a), (s2, b) in zip(want, got, strict=True):
        assert s1 == s2 and same_value(a, b), (expr, s1, a, b)


def test_first_ordered_and_generate_series(spark_engine: object) -> None:
    duck = duckdb.connect()
    duck.execute("CREATE TABLE e AS SELECT * FROM (VALUES ('c', 3, 'x'), ('a', 1, 'x'), ('b', 1, 'y'), ('d', 2, 'y')) v(rid, t_at, k)")
    spark_engine.import_duckdb(duck, ["e"])  # type: ignore[attr-defined]
    con = spark_engine.connection()  # type: ignore[attr-defined]
    sql = "SELECT k, first(rid ORDER BY t_at, rid) AS f, min(rid ORDER BY t_at) AS m FROM e GROUP BY k ORDER BY k"
    assert con.execute(sql).fetchall() == duck.execute(sql).fetchall() == [("x", "a", "a"), ("y", "b", "b")]
    series = ("SELECT count(*), min(g), max(g) FROM (SELECT CAST(g AS DATE) AS g FROM "
              "generate_series(DATE '2024-12-30', DATE '2025-01-05', INTERVAL 1 DAY) t(g))")
    assert con.execute(series).fetchall() == duck.execute(series).fetchall()


def test_create_replace_reads_its_own_old_version(spark_engine: object) -> None:
    con = spark_engine.connection()  # type: ignore[attr-defined]
    con.execute("CREATE OR REPLACE TABLE n AS SELECT 1 AS x")
    con.execute("CREATE OR REPLACE TABLE n AS SELECT x + 1 AS x FROM n")
    assert con.execute("SELECT x FROM n").fetchall() == [(2,)]
    cols = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                       "AND table_schema = current_schema()", ["n"]).fetchall()
    assert cols == [("x",)]
    with pytest.raises(Exception, match="not supported on the Spark engine"):
        con.execute("INSERT INTO n VALUES (3)")


def test_tables_round_trip_through_remote_style_storage(spark_session: object, tmp_path: object) -> None:
    """A storage URI (s3a://, abfss://... here file://) is written and read through Spark, not DuckDB's files."""
    from cxchain.engine.spark import SparkEngine

    eng = SparkEngine(f"file://{tmp_path}/remote", session=spark_session)  # type: ignore[arg-type]
    duck = duckdb.connect()
    duck.execute("CREATE TABLE t AS SELECT * FROM (VALUES (1, TIMESTAMP '2025-03-03 09:00:00', 'a', 0.5), "
                 "(2, NULL, NULL, NULL)) v(i, ts, s, x)")
    eng.import_duckdb(duck, ["t"])
    eng.connection().execute("CREATE OR REPLACE TABLE u AS SELECT i * 2 AS j, ts, s, x FROM t")
    eng.export_duckdb(duck, ["u"])
    assert duck.execute("SELECT * FROM u ORDER BY j").fetchall() == [
        (2, datetime(2025, 3, 3, 9, 0), "a", 0.5), (4, None, None, None)]


def test_strftime_formats_become_java_patterns() -> None:
    from cxchain.engine.sql import java_pattern

    assert java_pattern("%Y-%m-%dT%H:%M:%S") == "yyyy-M-d'T'H:m:s"  # one-letter fields read '1' and '01'
    assert java_pattern("%Y%m%d") == "yyyyMMdd"  # fixed widths where numbers touch
    assert java_pattern("%d %b %Y %H:%M") == "d MMM yyyy H:m"
    (sql,) = to_spark("SELECT try_strptime(s, ['%a %d %b %Y', '%d/%m/%y']) FROM t")
    assert "TRY_TO_TIMESTAMP" in sql and "'d/M/yy'" in sql and "REGEXP_REPLACE" in sql
    with pytest.raises(ValueError, match="no Spark translation"):
        java_pattern("%U")


def test_the_saved_linkage_model_is_written_for_splinks_spark_backend() -> None:
    from cxchain.data.linkage_spark import model_version, spark_model

    model = {"sql_dialect": "duckdb", "comparisons": [{"comparison_levels": [
        {"sql_condition": "jaro_winkler_similarity(last_name_l, last_name_r) >= 0.9 OR "
                          "damerau_levenshtein(dob_l, dob_r) <= 1"},
        {"sql_condition": "starts_with(phone_l, '07')"}, {"sql_condition": "ELSE"}]}],
        "blocking_rules_to_generate_predictions": [{"blocking_rule": 'l."email" = r."email"', "sql_dialect": "duckdb"}]}
    out = spark_model(model)
    first, second, last = (lv["sql_condition"] for lv in out["comparisons"][0]["comparison_levels"])
    assert "jaro_winkler(last_name_l, last_name_r)" in first.lower() and "damerau_levenshtein(dob_l, dob_r)" in first.lower()
    assert "STARTSWITH" in second.upper() and last == "ELSE"
    assert out["sql_dialect"] == "spark" and out["blocking_rules_to_generate_predictions"][0] == {
        "blocking_rule": "l.`email` = r.`email`", "sql_dialect": "spark"}
    assert model["sql_dialect"] == "duckdb"  # the saved model itself is left as it is
    assert model_version(model) == model_version(dict(model)) != model_version(out)
