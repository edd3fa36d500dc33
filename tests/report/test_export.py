"""Exports neutralise spreadsheet formula prefixes in customer text."""

from __future__ import annotations

import csv

import fastexcel

from cxchain.report.export import neutralise, write_table

HOSTILE = ['=HYPERLINK("http://x","y")', "+1+cmd|' /C calc'!A0", "@SUM(A1)", "-2+3", "\tx"]


def test_neutralise_keeps_numbers_and_plain_text():
    assert neutralise("-12.5") == "-12.5" and neutralise("hello") == "hello" and neutralise(3) == 3
    assert all(neutralise(h).startswith("'") for h in HOSTILE)


def test_csv_and_excel_exports_are_inert(tmp_path):
    rows = [{"id": i, "text": h} for i, h in enumerate(HOSTILE)]
    c = write_table(rows, tmp_path / "x.csv")
    got = list(csv.DictReader(open(c, newline="")))
    assert [r["text"] for r in got] == ["'" + h for h in HOSTILE]
    x = write_table(rows, tmp_path / "x.xlsx")
    sheet = fastexcel.read_excel(str(x)).load_sheet(0, dtypes="string").to_arrow()
    assert [str(v) for v in sheet.column("text").to_pylist()] == ["'" + h for h in HOSTILE]
