"""Tables out of cxchain as CSV or Excel, safe to open in a spreadsheet.

Customer text is untrusted: a verbatim such as ``=HYPERLINK("http://evil", "click")`` becomes a
live formula when a spreadsheet opens the file.  Every text cell that starts with a formula
prefix (``= + - @``, tab or carriage return) is written with a leading apostrophe, which
spreadsheets show as plain text (OWASP's CSV-injection guidance).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A value safe for a spreadsheet cell: text starting with a formula prefix gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        # A plain negative number is data, not a formula.
        try:
            float(value)
            return value
        except ValueError:
            return "'" + value
    return value


def _rows(rows: Iterable[Mapping[str, Any]], columns: Sequence[str] | None) -> tuple[list[str], list[list[Any]]]:
    data = list(rows)
    cols = list(columns) if columns else list(dict.fromkeys(k for r in data for k in r))
    return cols, [[neutralise(r.get(c)) for c in cols] for r in data]


def write_table(rows: Iterable[Mapping[str, Any]], path: Path, *, columns: Sequence[str] | None = None,
                sheet: str = "data") -> Path:
    """Write rows (dicts) to ``path``: CSV for .csv, Excel for .xlsx; formula prefixes neutralised."""
    cols, values = _rows(rows, columns)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(values)
    elif suffix == ".xlsx":
        import xlsxwriter

        wb = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "strings_to_urls": False})
        ws = wb.add_worksheet(sheet[:31])
        bold = wb.add_format({"bold": True})
        ws.write_row(0, 0, cols, bold)
        for i, row in enumerate(values, start=1):
            for j, v in enumerate(row):
                if v is None:
                    continue
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
        wb.close()
    else:
        raise ValueError(f"{path}: write .csv or .xlsx")
    return path
