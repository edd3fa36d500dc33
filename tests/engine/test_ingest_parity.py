"""Link 1's classification on Spark: staged rows sorted into new, updated, duplicate and quarantined against the
versions already stored, by the same SQL on both engines (``data/ingest.py`` ``versions_sql``/``classify_sql``).

Two exports of the sample organisation's call records are ingested one after the other, on DuckDB into one
store and on Spark into another: the first with rows repeated and changed within the file (in-file duplicates
and versions), the second overlapping the first (stored duplicates), changing some stored records (updates)
and changing one back to an earlier content (a duplicate of a stored version).  Every file's counts, the
canonical rows with their versions and which version is current, and quarantine must be the same.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import duckdb

from cxchain import Workspace
from cxchain.data.ingest import FileReport, ingest_file
from cxchain.demo import generate
from cxchain.engine.parity import diff_tables
from cxchain.settings import SourceConfig

SECRET = "parity-secret"


def _exports(org: Path, folder: Path) -> list[Path]:
    """Two overlapping exports of the call records, with repeats and changes (see the module's docstring)."""
    text = (org / "exports" / "acd_calls.csv").read_text(encoding="utf-8")
    header, *rows = list(csv.reader(io.StringIO(text)))
    notes = header.index("Notes")

    def changed(row: list[str], words: str) -> list[str]:
        return [*row[:notes], f"{row[notes]} {words}", *row[notes + 1:]]

    cut, overlap = len(rows) * 6 // 10, len(rows) * 4 // 10
    first = rows[:cut] + rows[:3] + [changed(r, "(amended)") for r in rows[3:5]] + [changed(rows[3], "(again)")]
    first.append(["", *rows[5][1:]])  # no key: quarantined
    second = ([changed(r, "(later)") if i < 5 else r for i, r in enumerate(rows[overlap:])]
              + [rows[3], changed(rows[cut + 1], "(v2)"), changed(rows[cut + 1], "(v3)")])
    out = []
    for name, body in (("calls_1.csv", first), ("calls_2.csv", second)):
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows([header, *body])
        (folder / name).write_text(buf.getvalue(), encoding="utf-8")
        out.append(folder / name)
    return out


def _ingest(path: Path, org: Path, files: list[Path], engine: Any = None) -> tuple[Workspace, list[FileReport]]:
    src = SourceConfig("acd_calls", (), str(org / "mappings" / "acd_calls.yaml"))
    ws = Workspace.init(path, sector="council", sources=[src], overrides={"privacy.redact_text": False})
    mp = ws.mapping_for("acd_calls")
    assert mp is not None
    reports = []
    for f in files:  # one transaction per file, as each run would: the second classifies against the first
        with ws.store.write("ingest") as tx:
            reports.append(ingest_file(tx, ws.settings, f, mp, secret=SECRET, redact=None, scratch=tx.folder,
                                       engine=engine))
    return ws, reports


def _tables(ws: Workspace) -> duckdb.DuckDBPyConnection:
    """The canonical contact rows (when loaded aside, with whether each version is current) and quarantine."""
    out = duckdb.connect()
    with ws.store.read() as con:
        for name, sql in (("contact", "SELECT * EXCLUDE (batch_id, valid_from, valid_to), valid_to IS NULL AS current "
                                      "FROM contact"),
                          ("quarantine", "SELECT * EXCLUDE (quarantine_id, batch_id) FROM quarantine")):
            out.register("_t", con.sql(sql).to_arrow_table())
            out.execute(f"CREATE TABLE {name} AS SELECT * FROM _t")
            out.unregister("_t")
    return out


def test_new_updated_duplicate_and_quarantined_rows_are_sorted_the_same_on_spark(spark_engine: Any,
                                                                                  tmp_path: Path) -> None:
    org = tmp_path / "org"
    generate(org, sector="council", contacts=150, seed=11)
    files = _exports(org, tmp_path)
    duck_ws, duck = _ingest(tmp_path / "on_duckdb", org, files)
    spark_ws, spark = _ingest(tmp_path / "on_spark", org, files, spark_engine)
    keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_updated")
    assert [[getattr(r, k) for k in keys] for r in spark] == [[getattr(r, k) for k in keys] for r in duck]
    # Not a comparison of new rows alone: each kind of row is there, in both files.
    first, second = duck
    assert first.rows_duplicate >= 3 and first.rows_updated >= 3 and first.rows_quarantined >= 1
    assert second.rows_updated >= 5 + 2 and second.rows_duplicate > 1 and second.rows_loaded > second.rows_updated
    a, b = _tables(duck_ws), _tables(spark_ws)
    for table in ("contact", "quarantine"):
        assert diff_tables(a, b, table) == [], table
    versions = a.execute("SELECT max(version), count(*) FILTER (WHERE NOT current) FROM contact").fetchone()
    assert versions is not None and versions[0] >= 3 and versions[1] >= 5
    (quarantined,) = b.execute("SELECT count(*) FROM quarantine").fetchone()  # type: ignore[misc]
    assert quarantined == first.rows_quarantined + second.rows_quarantined


def test_an_update_is_the_table_rewritten_on_spark(spark_engine: Any) -> None:
    """UPDATE (from a table joined on a key, or with a condition alone) on Spark: the rows DuckDB updates."""
    duck = duckdb.connect()
    duck.execute("CREATE TABLE t AS SELECT i AS k, 'new' AS status, CAST(1 AS INTEGER) AS version, i % 3 = 0 AS flag "
                 "FROM range(20) r(i)")
    duck.execute("CREATE TABLE v AS SELECT i AS k, 'updated' AS status, CAST(i + 1 AS INTEGER) AS version "
                 "FROM range(0, 20, 4) r(i)")
    spark_engine.import_duckdb(duck, ["t", "v"])
    spark = spark_engine.connection()
    for sql in ("UPDATE t SET status = v.status, version = v.version FROM v WHERE t.k = v.k",
                "UPDATE t SET version = NULL, flag = NULL WHERE status = 'new' AND k > 15",
                "UPDATE t SET flag = w.k > 2 FROM (SELECT k FROM v WHERE k < 10) w WHERE t.k = w.k"):
        duck.execute(sql)
        spark.execute(sql)
    assert duck.execute("SELECT count(*) FROM t WHERE status = 'updated'").fetchone() == (5,)
    assert duck.execute("SELECT count(*) FROM t WHERE version IS NULL").fetchone() == (3,)
    assert duck.execute("SELECT k FROM t WHERE flag ORDER BY k").fetchall() == [(3,), (4,), (6,), (8,), (9,), (12,), (15,)]
    assert diff_tables(duck, spark, "t") == []
