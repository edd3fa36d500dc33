"""Readers: damaged real-world exports are read with every record located or rejected."""

from __future__ import annotations

import json
import random
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from hypothesis import given
from hypothesis import strategies as st

from cxchain.data import readers
from cxchain.data.readers import MessageSpec, read_file, utf8_valid
from cxchain.errors import InputFileError


def rows(con: duckdb.DuckDBPyConnection, raw) -> list[tuple]:
    return con.execute(f'SELECT * FROM "{raw.table}" ORDER BY _row').fetchall()


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_crlf_quoted_newlines_ragged_and_cut_off_records(tmp_path, con):
    p = write(tmp_path, "a.csv", b'id,name,notes\r\n1,ann,"hello\r\nworld"\r\n2,bob\r\n3,cat,x,extra\r\n4,dan,"ok"\r\n5,eve,"cut off\r\n')
    raw = read_file(con, p)
    assert [r[1] for r in rows(con, raw)] == ["a.csv:2", "a.csv:6"]
    assert [r.location for r in raw.rejects] == ["a.csv:4", "a.csv:5", "a.csv:7"]
    assert "too few columns" in raw.rejects[0].reason
    assert "too many columns" in raw.rejects[1].reason
    assert "never closed" in raw.rejects[2].reason
    assert raw.rows_read == 5


def test_bom_semicolon_blank_lines_and_multiline_values_keep_physical_lines(tmp_path, con):
    p = write(tmp_path, "b.csv", b'\xef\xbb\xbfid;name\n1;a\n\n2;b\n;\n4;"multi\nline\nvalue"\n5;z\n')
    raw = read_file(con, p)
    got = rows(con, raw)
    assert raw.columns == ["id", "name"]
    assert [r[1] for r in got] == ["b.csv:2", "b.csv:4", "b.csv:5", "b.csv:6", "b.csv:9"]
    assert got[3][3] == "multi\nline\nvalue"


def test_mixed_encoding_and_nul_bytes(tmp_path, con):
    p = write(tmp_path, "c.csv", b"id,name\n1,caf\xe9\n2,b\x00\n3,\xe2\x82\xac\n")
    raw = read_file(con, p)
    assert [r[3] for r in rows(con, raw)] == ["café", "b", "€"]
    assert any("NUL" in n for n in raw.notes) and any("Windows-1252" in n for n in raw.notes)


def test_a_bad_byte_far_into_an_ascii_file_is_found(tmp_path, con):
    # validity is checked without decoding the file: a lone Windows-1252 byte deep in it must still count
    body = b"id,name\n" + b"".join(b"%d,plain ascii\n" % i for i in range(20000)) + b"20000,caf\xe9\n20001,\xc2\xa3 5\n"
    raw = read_file(con, write(tmp_path, "d.csv", body))
    got = rows(con, raw)
    assert [r[3] for r in got[-2:]] == ["café", "£ 5"] and got[-1][1] == "d.csv:20003"
    assert any("Windows-1252" in n for n in raw.notes)


@given(st.lists(st.sampled_from([b"a", b"\n", b"\x80", b"\xbf", b"\xc3", b"\xa9", b"\xe2", b"\x82", b"\xac", b"\xf0",
                                 b"\x9f", b"\xed", b"\xa0", b"\xff", "€".encode(), "é".encode()]), max_size=40))
def test_utf8_validity_agrees_with_decoding(parts):
    data = b"".join(parts)
    try:
        data.decode("utf-8")
        decodes = True
    except UnicodeDecodeError:
        decodes = False
    assert utf8_valid(data) == decodes


def test_utf16_and_tab_delimited(tmp_path, con):
    p = write(tmp_path, "u.tsv", "id\tname\n1\tZoë\n".encode("utf-16"))
    raw = read_file(con, p)
    assert rows(con, raw)[0][2:] == ("1", "Zoë")


def test_formula_prefix_markup_and_big_field_are_kept_as_text(tmp_path, con):
    big = "x" * 3_000_000
    p = write(tmp_path, "f.csv", f'id,notes\n1,"=HYPERLINK(""http://x"")"\n2,<script>alert(1)</script>\n3,{big}\n'.encode())
    raw = read_file(con, p)
    got = rows(con, raw)
    assert got[0][3].startswith("=HYPERLINK") and got[1][3].startswith("<script>") and len(got[2][3]) == 3_000_000


@pytest.mark.parametrize("data,msg", [(b"", "empty"), (b"\x00\x01\x02\x03" * 500, "binary"), (b"PK\x03\x04" + b"\x00" * 100, "Excel")])
def test_empty_and_binary_files_are_clear_errors(tmp_path, con, data, msg):
    p = write(tmp_path, "bad.csv", data)
    with pytest.raises(InputFileError, match=msg):
        read_file(con, p)


def test_ndjson_malformed_lines_are_rejects_with_line_numbers(tmp_path, con):
    p = write(tmp_path, "d.ndjson", b'{"id":1,"a":{"b":2}}\n{bad\n\n{"id":3}\n[1]\n')
    raw = read_file(con, p)
    assert [r[1] for r in rows(con, raw)] == ["d.ndjson:1", "d.ndjson:4"]
    assert [r.location for r in raw.rejects] == ["d.ndjson:2", "d.ndjson:5"]
    assert "a.b" in raw.columns


def test_json_transcripts_one_conversation_one_row(tmp_path, con):
    doc = {"export": {"at": "x"}, "conversations": [
        {"id": "c1", "visitor": {"email": "a@example.com"},
         "messages": [{"from": "visitor", "body": "my bin was missed"}, {"from": "agent", "body": "sorry"},
                      {"from": "visitor", "body": "thanks"}]},
        {"id": "c2", "messages": []}]}
    p = write(tmp_path, "chat.json", json.dumps(doc).encode())
    raw = read_file(con, p, options={"records": "conversations"}, messages=MessageSpec(path="messages"))
    got = con.execute(f'SELECT _loc, id, "visitor.email", "_messages.customer_text", "_messages.count", "_messages.customer_count" FROM "{raw.table}" ORDER BY _row').fetchall()
    assert got[0] == ("chat.json#/conversations/0", "c1", "a@example.com", "my bin was missed\nthanks", "3", "2")
    assert got[1][4] == "0"


def test_invalid_json_is_a_clear_error(tmp_path, con):
    p = write(tmp_path, "x.json", b'{"a": [1, 2}')
    with pytest.raises(InputFileError, match="not valid JSON at line 1"):
        read_file(con, p)


def test_excel_all_sheets_with_sheet_row_locations(tmp_path, con):
    p = tmp_path / "cases.xlsx"
    wb = xlsxwriter.Workbook(str(p))
    for name, vals in (("2024", ["A1", "A2"]), ("2025", ["B1"])):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, ["Case Ref", "Status"])
        for i, v in enumerate(vals, start=1):
            ws.write_row(i, 0, [v, "open"])
    wb.close()
    raw = read_file(con, p)
    assert [(r[1], r[2]) for r in rows(con, raw)] == [("cases.xlsx:2024!2", "A1"), ("cases.xlsx:2024!3", "A2"), ("cases.xlsx:2025!2", "B1")]


def test_parquet(tmp_path, con):
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = tmp_path / "x.parquet"
    pq.write_table(pa.table({"id": [1, 2], "when": pa.array([None, 1.5])}), p)
    raw = read_file(con, p)
    assert [r[2:] for r in rows(con, raw)] == [("1", None), ("2", "1.5")]


@pytest.mark.parametrize("max_steps", [readers._MAX_LINE_STEPS, 0], ids=["lines-from-rowid", "lines-table"])
def test_physical_lines_of_a_long_file_with_multiline_values_and_ragged_rows(tmp_path, con, monkeypatch, max_steps):
    # Lines are counted while the file is written: the reader must agree with every one of them, whether
    # the view computes them from the row order (a few thousand steps) or joins a table of them (more).
    monkeypatch.setattr(readers, "_MAX_LINE_STEPS", max_steps)
    rnd = random.Random(7)
    out, good, bad, line = ["id,name,notes\n"], [], [], 2
    for i in range(6000):
        notes = "\n".join(f"part {k}" for k in range(rnd.choice([1, 1, 1, 2, 3])))
        if rnd.random() < 0.01:  # a ragged row: rejected where it starts
            rec = f"{i},n{i},x,extra\n"
            bad.append(f"c.csv:{line}")
        else:
            rec = f'{i},n{i},"{notes}"\n'
            good.append((f"c.csv:{line}", str(i)))
        out.append(rec)
        line += rec.count("\n")
    raw = read_file(con, write(tmp_path, "c.csv", "".join(out).encode()))
    assert len(raw.backing) == (1 if max_steps else 2)
    got = rows(con, raw)
    assert [(r[1], r[2]) for r in got] == good
    assert [r.location for r in raw.rejects] == bad
    assert raw.rows_read == 6000
