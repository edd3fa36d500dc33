"""Link 1's mapping transforms on Spark: the same compiled SQL, transpiled, reads every value as DuckDB does.

Two checks.  Field by field, awkward export values (dates in many forms, offsets, Excel serials, durations,
numbers with separators, yes/no words, channel synonyms) must give the same value and the same quarantine
reason on both engines.  File by file, every export of the sample organisation staged on Spark must equal
the DuckDB staging: keys, content hashes, parsed fields, reasons, and the raw rows kept for quarantine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from cxchain import Workspace
from cxchain.data.ingest import _stage_sql, stage_raw
from cxchain.data.mapping import FieldMap, compile_field
from cxchain.data.model import CHANNELS
from cxchain.data.readers import read_file
from cxchain.engine.parity import diff_tables, same_value

DATES = ["2025-03-01 10:00:00", "1/3/2025", "01/03/2025 9:05", "2025-03-01T10:00:00+01:00", "2025-07-01 10:00:00Z",
         "2025-03-01 10:00:00.5", "2025", "2025-03", "2025/03/01", "Sat 01 Mar 2025 09:00", "Mon 01 Mar 2025 09:00",
         "31/02/2025", "1 mar 2025", "1 MARCH 2025", "01/03/25", "", None, "  2025-03-01  ", "garbage",
         "2025-03-01 25:00", "45717", "45717.5", "2025-3-1", "01.03.2025 14:30"]
DURATIONS = ["90", "1:30", "1:02:03", "1:2", "1.5", "abc", "-5", "", None, "00:00:07.25", "7:"]
NUMBERS = ["1,234.5", "£12", "1d", "1e3", "inf", "nan", " 7 ", "2.5", "3.0", "-4", "", None, "0x1A", "1_000", ".5"]
FLAGS = ["Y", "no", "1.0", "maybe", "TRUE", "", None, " f ", "perhaps"]
CHANNEL_TEXTS = ["Web Chat", "phone", "xyz", "E-Mail", "", None, "SMS"]
#: (field type, values, mapped values, choices, formats)
CASES: list[tuple[str, list[str | None], tuple[tuple[str, Any], ...], tuple[str, ...], tuple[str, ...]]] = [
    ("datetime", DATES, (), (), ()),
    ("date", DATES, (), (), ()),
    ("datetime", DATES, (), (), ("%d/%m/%Y %H:%M", "%Y-%m-%dT%H:%M:%S%z", "%a %d %b %Y %H:%M")),
    ("duration", DURATIONS, (), (), ()),
    ("number", NUMBERS, (), (), ()),
    ("integer", NUMBERS, (("y", 1),), (), ()),
    ("boolean", FLAGS, (("maybe", False),), (), ()),
    ("category", CHANNEL_TEXTS, (), CHANNELS, ()),
    ("category", CHANNEL_TEXTS, (("xyz", "web"),), (), ()),
    ("ref", CHANNEL_TEXTS, (), (), ()),
]


@pytest.mark.parametrize("excel", [False, True])
def test_each_field_type_reads_the_same_on_spark(spark_engine: Any, excel: bool) -> None:
    duck = duckdb.connect()
    cols = {}
    for i, (_, values, *_rest) in enumerate(CASES):
        cols[f"c{i}"] = values
    n = max(len(v) for v in cols.values())
    table = pa.table({"_row": pa.array(range(n), pa.int64()),
                      **{k: pa.array([v[j % len(v)] for j in range(n)], pa.string()) for k, v in cols.items()}})
    duck.register("_t", table)
    duck.execute("CREATE TABLE raw AS SELECT * FROM _t")
    spark_engine.import_duckdb(duck, ["raw"])
    exprs = []
    for i, (ftype, _, values, choices, formats) in enumerate(CASES):
        fm = FieldMap(f"f{i}", column=f"c{i}", formats=formats, values=values)
        value, check = compile_field(fm, ftype, f'"c{i}"', day_first=True, excel=excel, secret="k", choices=choices)
        exprs += [f"{value} AS v{i}", f"{check or 'NULL'} AS r{i}"]
    sql = f"SELECT _row, {', '.join(exprs)} FROM raw ORDER BY _row"
    want = duck.execute(sql).fetchall()
    got = spark_engine.connection().execute(sql).fetchall()
    assert len(got) == len(want) == n
    diffs = [(CASES[(k - 1) // 2][0], a[0], table.column(f"c{(k - 1) // 2}")[a[0]].as_py(), x, y)
             for a, b in zip(want, got, strict=True) for k, (x, y) in enumerate(zip(a, b, strict=True))
             if not same_value(x, y)]
    assert diffs == [], "\n".join(map(repr, diffs))
    # Not a comparison of NULLs: most values read, and every kind of field quarantines something.
    assert sum(v is not None for row in want for v in row[1::2]) > n * len(CASES) // 2
    checked = [i for i, c in enumerate(CASES) if c[0] != "ref" and not (c[0] == "category" and not c[3])]
    assert [i for i in checked if all(row[2 + 2 * i] is None for row in want)] == []


def test_every_sample_export_stages_the_same_on_spark(parity_demo: Workspace, spark_engine: Any,
                                                      tmp_path: Path) -> None:
    ws = parity_demo
    duck = duckdb.connect()
    reasons = 0
    for src in ws.settings.sources:
        mp = ws.mapping_for(src.name)
        assert mp is not None
        for p in src.paths:
            raw = read_file(duck, ws.path / p, options=mp.format, messages=mp.messages, scratch=tmp_path)
            sql, _ = _stage_sql(mp, raw, ws.settings, "secret", str(p))
            stage_raw(duck, raw, sql, "on_duckdb")
            stage_raw(duck, raw, sql, "on_spark", spark_engine)
            duck.execute("CREATE OR REPLACE TABLE a AS SELECT * FROM on_duckdb")
            other = duckdb.connect()
            other.register("_b", duck.sql("SELECT * FROM on_spark").to_arrow_table())
            other.execute("CREATE TABLE a AS SELECT * FROM _b")
            duck.execute("DROP TABLE on_duckdb")
            duck.execute("DROP TABLE on_spark")
            reasons += duck.execute("SELECT count(_reason) FROM a").fetchone()[0]  # type: ignore[index]
            assert diff_tables(duck, other, "a") == [], src.name
            raw.drop(duck)
    assert reasons > 0  # the sample's exports carry invalid dates: quarantine is compared, not only clean rows
