"""Ingest: every row loaded, quarantined or duplicate; versions kept; quarantine replays."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxchain import MappingError, Workspace

CALLS = """CallID,Start,Talk,Abandoned,CLI,Notes
1,03/02/2025 09:14:05,00:03:10,N,07700 900123,"bin missed, again"
2,2025-02-03 09:20,95,N,+44 7700 900124,ok
3,31/02/2025,00:01:00,N,07700 900125,bad date
4,03/02/2025 10:00,,Y,,
1,03/02/2025 09:14:05,00:03:10,N,07700 900123,"bin missed, again"
2,2025-02-03 09:20,96,N,+44 7700 900124,ok changed
,03/02/2025 10:00,,Y,,
5,03/02/2025 10:00,xx,maybe,,
6,03/02/2025 10:00,1:02:03,yes,,
"""


def ingest(ws: Workspace, tmp_path: Path, text: str, mapping: Path, name: str = "calls.csv"):
    p = tmp_path / name
    p.write_text(text)
    return ws.ingest([p], source="calls", mapping=mapping).to_dict()


def current(ws: Workspace, sql: str) -> list[tuple]:
    with ws.store.read() as con:
        return con.execute(sql).fetchall()


def test_counts_reconcile_and_reasons_name_file_line_column(workspace, tmp_path, calls_mapping):
    d = ingest(workspace, tmp_path, CALLS, calls_mapping)
    t = d["totals"]
    assert t == {"rows_read": 9, "rows_loaded": 5, "rows_quarantined": 3, "rows_duplicate": 1, "rows_updated": 1}
    q = workspace.quarantine()
    assert [(r["location"], r["column"]) for r in q] == [("calls.csv:4", "Start"), ("calls.csv:8", "CallID"), ("calls.csv:9", "Talk")]
    assert "31/02/2025" in q[0]["reason"] and "formats" in q[0]["reason"]
    assert "maybe" in q[2]["reason"]
    assert current(workspace, "SELECT talk_s FROM contact WHERE record_id = 'calls:6'") == [(3723.0,)]


def test_versions_keep_validity_and_reingest_changes_nothing(workspace, tmp_path, calls_mapping):
    ingest(workspace, tmp_path, CALLS, calls_mapping)
    gen = workspace.store.current()["generation"]
    again = ingest(workspace, tmp_path, CALLS, calls_mapping)
    assert again["totals"]["rows_duplicate"] == again["totals"]["rows_read"] == 9
    assert current(workspace, "SELECT count(*) FROM contact") == [(5,)]
    assert workspace.store.current()["generation"] == gen + 1
    # a newer export overlapping the old one: only the changed row is a new version
    newer = CALLS.replace("ok changed", "ok changed again")
    d = ingest(workspace, tmp_path, newer, calls_mapping, name="calls2.csv")
    assert d["totals"]["rows_loaded"] == 1 and d["totals"]["rows_updated"] == 1
    hist = current(workspace, "SELECT version, valid_to IS NULL, text FROM contact WHERE record_id = 'calls:2' ORDER BY version")
    assert hist == [(1, False, "ok"), (2, False, "ok changed"), (3, True, "ok changed again")]


def test_versions_within_one_file_follow_the_stored_one(workspace, tmp_path, calls_mapping):
    # Only keys repeated in the file or already stored are classified row by row: a stored key met once (10),
    # a stored key met often (7), a new key met twice (9), next to a new key met once (8).
    head, row = "CallID,Start,Talk,Abandoned,CLI,Notes\n", "{},2025-02-03 09:00,1,N,,{}\n"
    ingest(workspace, tmp_path, head + row.format(7, "first") + row.format(10, "ten"), calls_mapping)
    rows = [(7, "second"), (8, "x"), (7, "second"), (10, "ten b"), (7, "third"), (9, "y"), (7, "first"), (9, "y2")]
    d = ingest(workspace, tmp_path, head + "".join(row.format(*r) for r in rows), calls_mapping, name="calls2.csv")
    assert d["totals"] == {"rows_read": 8, "rows_loaded": 6, "rows_quarantined": 0, "rows_duplicate": 2, "rows_updated": 4}
    hist = current(workspace, "SELECT record_id, version, valid_to IS NULL, text FROM contact ORDER BY record_id, version")
    assert hist == [("calls:10", 1, False, "ten"), ("calls:10", 2, True, "ten b"),
                    ("calls:7", 1, False, "first"), ("calls:7", 2, False, "second"), ("calls:7", 3, True, "third"),
                    ("calls:8", 1, True, "x"), ("calls:9", 1, False, "y"), ("calls:9", 2, True, "y2")]


def test_free_text_is_redacted_before_storage_row_by_row(tmp_path, calls_mapping):
    from cxchain.data.redact import Redactor

    ws = Workspace.init(tmp_path / "ws", sector="council", overrides={"as_of": "2025-03-01"})  # redaction on, the default
    notes = ["call back on 07700 900123", "no answer", "call back on 07700 900123", "Mrs Okonkwo rang, 07700 900999",
             "no answer", "email jo@example.com", None, "no answer"]
    body = "CallID,Start,Talk,Abandoned,CLI,Notes\n" + "".join(
        f"{i},2025-02-03 09:00,1,N,,{'' if n is None else chr(34) + n + chr(34)}\n" for i, n in enumerate(notes))
    ingest(ws, tmp_path, body, calls_mapping)
    stored = dict(current(ws, "SELECT source_key, text FROM contact"))
    want = Redactor().redact(notes)
    assert [stored[str(i)] for i in range(len(notes))] == want
    assert want[0] == "call back on [PHONE]" and want[1] == "no answer" and "[NAME]" in str(want[3])


def test_identity_fields_never_reach_the_analytical_store(workspace, tmp_path, calls_mapping):
    ingest(workspace, tmp_path, CALLS, calls_mapping)
    with workspace.store.read() as con:
        dump = json.dumps([con.execute(f'SELECT * FROM "{t}"').fetchall() for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()], default=str)
    assert "900123" not in dump and "7700" not in dump
    with workspace.store.read(identity=True) as ident:
        assert ("calls:1", "07700 900123") in ident.execute("SELECT record_id, phone FROM identity_record").fetchall()


def test_quarantine_replay_after_mapping_fix(workspace, tmp_path, calls_mapping):
    ingest(workspace, tmp_path, CALLS, calls_mapping)
    fixed = calls_mapping.read_text().replace("  abandoned: Abandoned", "  abandoned: {column: Abandoned, values: {maybe: false}}")
    fixed = fixed.replace("  talk_s: Talk", "  talk_s: {column: Talk, values: {}}")
    calls_mapping.write_text(fixed)
    (workspace.path / "mappings" / "calls.yaml").write_text(fixed)
    rep = workspace.replay_quarantine().to_dict()["totals"]
    assert rep["rows_read"] == 3 and rep["rows_loaded"] == 0  # talk 'xx' is still not a duration
    assert len(workspace.quarantine()) == 3
    (workspace.path / "mappings" / "calls.yaml").write_text(fixed.replace("  talk_s: {column: Talk, values: {}}\n", ""))
    rep = workspace.replay_quarantine().to_dict()["totals"]
    assert rep["rows_loaded"] == 1  # row 5 now loads; the bad date and the missing key stay
    assert [r["location"] for r in workspace.quarantine()] == ["calls.csv:4", "calls.csv:8"]
    assert [r["location"] for r in workspace.quarantine(status="replayed")] == ["calls.csv:9"]


def test_mapping_naming_a_missing_column_is_a_clear_error(workspace, tmp_path, calls_mapping):
    calls_mapping.write_text(calls_mapping.read_text().replace("Start", "Start Time"))
    with pytest.raises(MappingError, match="names column 'Start Time'"):
        ingest(workspace, tmp_path, CALLS, calls_mapping)
    assert workspace.store.current() is None  # nothing published


def test_without_mapping_a_suggestion_is_saved_and_used(workspace, tmp_path):
    p = tmp_path / "calls.csv"
    p.write_text(CALLS)
    d = workspace.ingest([p], source="calls").to_dict()
    assert (workspace.path / "mappings" / "calls.yaml").exists()
    assert d["reconciles"] and d["totals"]["rows_read"] == 9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["1", "2", "3", "", " "]),
                          st.sampled_from(["03/02/2025 09:00", "2025-02-03", "bad", "", "31/02/2025"]),
                          st.sampled_from(["10", "00:01:00", "x", ""]),
                          st.text(alphabet='ab,"\n\r;é', max_size=12)), max_size=25))
def test_counts_always_reconcile(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("prop")
    ws = Workspace.init(tmp / "ws", overrides={"privacy.redact_text": False})
    m = tmp / "m.yaml"
    m.write_text("version: 1\nsource: calls\nentity: contact\nkey: [id]\nconstants: {channel: phone}\n"
                 "fields: {started_at: start, talk_s: talk, text: notes}\n")
    def esc(v: str) -> str:
        return '"' + v.replace('"', '""') + '"'
    body = "id,start,talk,notes\n" + "".join(f"{a},{b},{c},{esc(d)}\n" for a, b, c, d in rows)
    p = tmp / "f.csv"
    p.write_text(body)
    d = ws.ingest([p], source="calls", mapping=m).to_dict()
    t = d["totals"]
    assert t["rows_read"] == len(rows)
    assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"] + t["rows_duplicate"]
    con = duckdb.connect(str(ws.store.data_path()), read_only=True)
    assert con.execute("SELECT count(*) FROM contact").fetchall()[0][0] == t["rows_loaded"]
    assert con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0] == t["rows_quarantined"]


def _read(ftype: str, value: str) -> tuple[object, object]:
    from cxchain.data.mapping import FieldMap, compile_field

    con = duckdb.connect()
    con.execute("CREATE TABLE raw AS SELECT ? AS c", [value])
    v, check = compile_field(FieldMap("f", column="c"), ftype, '"c"', day_first=True, excel=False, secret="k")
    return con.execute(f"SELECT {v}, {check or 'NULL'} FROM raw").fetchone()  # type: ignore[return-value]


def test_a_two_digit_year_is_not_read_as_the_year_25() -> None:
    """DuckDB's %Y also reads '25': '%d/%m/%Y' must not take 01/03/25 before '%d/%m/%y' reads it as 2025."""
    from datetime import date, datetime

    assert _read("datetime", "01/03/25") == (datetime(2025, 3, 1), None)
    assert _read("date", "2025-03-01") == (date(2025, 3, 1), None)
    value, reason = _read("datetime", "1/3/125")
    assert value is None and "not a date" in str(reason)


@pytest.mark.parametrize("text", ["inf", "nan", "1e30", "2.5"])
def test_an_integer_that_is_not_a_whole_bigint_is_quarantined_not_a_failed_file(text: str) -> None:
    value, reason = _read("integer", text)
    assert value is None and "not a whole number" in str(reason)
    assert _read("integer", "1,200") == (1200, None)
