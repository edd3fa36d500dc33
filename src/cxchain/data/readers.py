"""Read an export file into a DuckDB table of raw text values, row by row accounted for.

A reader never drops a row silently.  Each record it can parse becomes a row of the raw table
(``_row`` its 0-based order, ``_loc`` its location); each record it cannot parse becomes a
:class:`Reject` with its location and reason.  Locations are what a person opens the file at:
the 1-based physical line where a CSV record starts, ``sheet!row`` for Excel, a JSON pointer for
JSON, ``line N`` for NDJSON.

CSV is parsed by DuckDB (fast, with its rejects table) after a cheap byte-level pass that fixes
what DuckDB cannot read: byte-order marks, UTF-16, non-UTF-8 or mixed encodings, NUL bytes.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from ..errors import InputFileError

FORMATS = ("csv", "excel", "json", "ndjson", "parquet")
_EXT = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xlsx": "excel", ".xlsm": "excel", ".xls": "excel",
        ".json": "json", ".ndjson": "ndjson", ".jsonl": "ndjson", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Reject:
    """A record the reader could not parse."""

    location: str
    reason: str
    raw: str


@dataclass
class RawTable:
    """A file read into DuckDB: ``table`` holds ``_row``, ``_loc`` and one VARCHAR column per source column."""

    table: str
    columns: list[str]
    rows: int
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    format: str = "csv"
    excel: bool = False
    #: tables behind ``table`` when it is a view (dropped with it)
    backing: list[str] = field(default_factory=list)

    @property
    def rows_read(self) -> int:
        return self.rows + len(self.rejects)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        """Drop the raw table (or view) and whatever it reads from."""
        con.execute(f'DROP {"VIEW" if self.backing else "TABLE"} IF EXISTS "{self.table}"')
        for t in self.backing:
            con.execute(f'DROP TABLE IF EXISTS "{t}"')


def detect_format(path: Path) -> str:
    """The file's format from its extension, else from its first bytes."""
    fmt = _EXT.get(path.suffix.lower())
    if fmt:
        return fmt
    head = path.read_bytes()[:4096]
    if head.startswith(b"PK"):
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip()
    if stripped[:1] in (b"[", b"{"):
        return "ndjson" if stripped[:1] == b"{" and b"\n{" in stripped else "json"
    return "csv"


def _check_not_empty_or_binary(path: Path, data: bytes, fmt: str) -> None:
    blank = b"\xef\xbb\xbf \r\n\t"
    # the head decides for any file with content; only a blank head needs the whole file stripped (a copy)
    if not data[:65536].strip(blank) and not data.strip(blank):
        raise InputFileError(f"{path}: the file is empty. Export it again from the source system, or remove it from the source's paths.")
    if fmt in ("csv", "json", "ndjson"):
        head = data[:8192]
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return  # UTF-16 text
        if head.startswith(b"PK\x03\x04"):
            raise InputFileError(f"{path}: this looks like an Excel or zip file, not {fmt.upper()} text. Rename it to .xlsx, or export it as CSV.")
        controls = sum(1 for b in head if b < 9 or 13 < b < 32)
        if controls > max(8, len(head) // 20):
            raise InputFileError(f"{path}: this is a binary file, not {fmt.upper()} text. Check you exported the right file.")


def decode_text(data: bytes, encoding: str = "auto") -> tuple[str, str, list[str]]:
    """Decode bytes to text: (text, encoding used, notes).

    ``auto`` honours a byte-order mark, then tries UTF-8, and falls back line by line to
    Windows-1252 for files that mix encodings (common when exports are concatenated).
    NUL bytes are removed and reported.
    """
    notes: list[str] = []
    nuls = data.count(b"\x00")
    if nuls and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        notes.append(f"removed {nuls} NUL bytes")
        data = data.replace(b"\x00", b"")
    if encoding != "auto":
        try:
            return data.decode(encoding), encoding, notes
        except (UnicodeDecodeError, LookupError) as e:
            raise InputFileError(f"cannot decode as {encoding}: {e}. Set format.encoding to auto in the mapping.") from None
    if data.startswith(codecs.BOM_UTF8):
        data = data[3:]
        notes.append("UTF-8 byte-order mark")
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16", notes
    try:
        return data.decode("utf-8"), "utf-8", notes
    except UnicodeDecodeError:
        pass
    out, bad = [], 0
    for line in data.splitlines(keepends=True):
        try:
            out.append(line.decode("utf-8"))
        except UnicodeDecodeError:
            bad += 1
            out.append(line.decode("cp1252", errors="replace"))
    notes.append(f"{bad} lines not UTF-8, read as Windows-1252")
    return "".join(out), "mixed" if bad < len(out) else "cp1252", notes


def utf8_valid(data: bytes) -> bool:
    """Whether ``data`` decodes as UTF-8, without decoding the ASCII bulk of it.

    Every byte of a multi-byte UTF-8 character is >= 0x80 and an ASCII byte is never part of one, so
    the whole decodes if and only if each run of bytes >= 0x80 decodes on its own.  The runs are
    decoded together, each followed by the ASCII byte that ends it, which keeps them apart.
    """
    if data.isascii():
        return True
    arr = np.frombuffer(data, dtype=np.uint8)
    at = np.flatnonzero(arr >= 0x80)
    try:
        if at.size > arr.size // 8:  # mostly non-ASCII text: decoding it all is the quicker check
            data.decode("utf-8")
        else:
            keep = np.union1d(at, at + 1)
            arr[keep[keep < arr.size]].tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _utf8_head(data: bytes, chars: int) -> str:
    """The first ``chars`` characters of valid UTF-8 ``data`` (at most 4 bytes each), decoding no more."""
    return data[:4 * chars].decode("utf-8", errors="ignore")[:chars]


def sniff_delimiter(sample: str) -> str:
    """The delimiter among , ; tab | that splits the header into most columns and the rows consistently."""
    lines = sample[:50000]
    best, best_score = ",", (-1.0, 0)
    for d in (",", ";", "\t", "|"):
        try:
            recs = list(itertools.islice(csv.reader(io.StringIO(lines), delimiter=d), 50))
        except csv.Error:
            continue
        if not recs or len(recs[0]) < 2:
            continue
        width = len(recs[0])
        body = recs[1:-1] or recs[1:]  # the last sampled record may be cut off by the sample
        consistency = sum(1 for r in body if len(r) == width) / len(body) if body else 1.0
        score = (round(consistency, 2), width)
        if score > best_score:
            best, best_score = d, score
    return best


def clean_columns(names: list[str]) -> list[str]:
    """Trim header names; name blank ones and make duplicates unique, so every column can be mapped."""
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        n = (n or "").strip().strip("\ufeff") or f"column_{i + 1}"
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
        else:
            seen[n] = 1
        out.append(n)
    return out


def _tmp_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def read_csv(con: duckdb.DuckDBPyConnection, path: Path, *, delimiter: str | None = None, encoding: str = "auto",
             header_row: int = 1, scratch: Path | None = None) -> RawTable:
    """Read a CSV export; see the module docstring for what is fixed and how rows are located."""
    data = path.read_bytes()
    _check_not_empty_or_binary(path, data, "csv")
    utf8 = encoding.lower().replace("-", "") in ("auto", "utf8")
    needs_copy = (not utf8 or data.startswith(codecs.BOM_UTF8) or b"\x00" in data
                  or data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)))
    notes: list[str] = []
    text: str | None = None
    if not needs_copy and not utf8_valid(data):
        needs_copy = True
    if needs_copy or header_row > 1:
        try:
            text, enc, notes = decode_text(data, "auto" if utf8 else encoding)
        except InputFileError as e:
            raise InputFileError(f"{path}: {e}") from None
        if enc != "utf-8":
            notes.append(f"encoding {enc}")
    if header_row > 1:
        # Preamble lines above the header (report titles, export dates) are skipped, not rows.
        assert text is not None
        parts = text.split("\n", header_row - 1)
        skipped = header_row - 1
        text = parts[-1] if len(parts) == header_row else ""
        needs_copy = True
    else:
        skipped = 0
    if text is not None:
        head, first_line = text[:20000], text[:1_000_000].split("\n", 1)[0]
    else:  # valid UTF-8 read in place: only its head is decoded
        end = data.find(b"\n")
        head, first_line = _utf8_head(data, 20000), (data if end < 0 else data[:end]).decode("utf-8")[:1_000_000]
    delim = delimiter or sniff_delimiter(head)
    header = next(csv.reader(io.StringIO(first_line), delimiter=delim), [])
    if not header:
        raise InputFileError(f"{path}: no header row found. The first line must name the columns (or set format.header_row).")
    columns = clean_columns(header)
    if needs_copy:
        assert text is not None
        scratch = scratch or path.parent
        tmp = scratch / f".{path.name}.{uuid.uuid4().hex[:8]}.utf8.csv"
        raw = text.encode("utf-8")
        tmp.write_bytes(raw)
        read_path = tmp
    else:
        raw = data
        read_path = path
    table = _tmp_name("raw")
    rej, scan = _tmp_name("rej"), _tmp_name("scan")
    coldef = "{" + ", ".join(f"{_sql_str(c)}: 'VARCHAR'" for c in columns) + "}"
    try:
        con.execute(
            f"""CREATE TEMP TABLE "{table}_p" AS SELECT * FROM read_csv({_sql_str(str(read_path))},
            auto_detect=false, header=true, delim={_sql_str(delim)}, quote='"', escape='"',
            columns={coldef}, store_rejects=true, rejects_table={_sql_str(rej)}, rejects_scan={_sql_str(scan)},
            strict_mode=true, max_line_size=200000000)"""
        )
        rejects_raw = con.execute(
            f"""SELECT min(line_byte_position) AS pos, any_value(csv_line) AS csv_line,
                string_agg(DISTINCT error_type, '; ') AS kind, any_value(error_message) AS msg
                FROM "{rej}" GROUP BY line ORDER BY pos"""
        ).fetchall()
    except duckdb.Error as e:
        raise InputFileError(f"{path}: could not be parsed as CSV with delimiter {delim!r}: {str(e).splitlines()[0]}. "
                             "Set format.delimiter in the mapping if the delimiter is wrong.") from None
    finally:
        if read_path != path:
            read_path.unlink(missing_ok=True)
    nl = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10) if rejects_raw else np.zeros(0, dtype=np.int64)
    rejects: list[Reject] = []
    starts, spans = [], []
    for pos, csv_line, kind, msg in rejects_raw:
        body = csv_line or ""
        lead = len(body) - len(body.lstrip("\r\n"))
        start = int(pos) - 1 + lead
        line = int(np.searchsorted(nl, start, side="left")) + 1 + skipped
        span = body.strip("\r\n").count("\n") + 1
        starts.append(line - skipped)
        spans.append(span)
        rejects.append(Reject(f"{path.name}:{line}", _reject_reason(kind, msg), body.strip("\r\n")))
    # Physical start line of each good record; blank lines break the arithmetic below, so such
    # files are located by a slower exact scan.
    n = con.execute(f'SELECT count(*) FROM "{table}_p"').fetchall()[0][0]
    physical = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    blank_lines = re.search(rb"\n[ \t\r]*\n", raw) is not None
    prefix = _sql_str(path.name + ":")
    good: list[int] = []
    if blank_lines:
        good = _drop_reject_lines(_exact_record_lines(raw.decode("utf-8"), delim), set(starts))
        if len(good) != n:  # should not happen; fall back to arithmetic rather than mislocate silently
            good = []
    if good:
        lines = np.asarray(good, dtype=np.int64) + skipped
    else:
        # A record starts on line 2 + its order + the newlines inside earlier quoted values + the
        # lines taken by earlier rejected records.  When no value holds a newline (the common case)
        # nothing is scanned; else one narrow pass counts them.
        lines = np.arange(n, dtype=np.int64) + 2
        if physical != 1 + n + sum(spans) and columns:
            counts = " + ".join(f"""CASE WHEN contains("{c}", chr(10)) THEN length("{c}") - length(replace("{c}", chr(10), '')) ELSE 0 END"""
                                for c in columns)
            nl = con.execute(f'SELECT coalesce({counts}, 0) AS nl FROM "{table}_p" ORDER BY rowid').fetchnumpy()["nl"]
            lines[1:] += np.cumsum(np.asarray(nl, dtype=np.int64))[:-1]
        if spans:  # rejected records shift the records after them by their own line count
            offsets = np.concatenate([[0], np.cumsum(spans)[:-1]])
            keys = np.asarray(starts, dtype=np.int64) - offsets  # non-decreasing
            adds = np.cumsum(spans)
            last = len(keys) - 1 - np.unique(keys[::-1], return_index=True)[1]  # ties: keep the largest shift
            at = np.searchsorted(keys[last], lines, side="right") - 1
            lines += np.where(at >= 0, adds[last][np.maximum(at, 0)], 0)
        lines += skipped
    # The raw table is a view over the parsed rows in file order (rowid): the values are never copied.
    # A record's line is its rowid plus a shift that steps up after each multi-line or rejected record;
    # with few steps the view computes it from rowid, so that the mapping's SQL reads the rows in
    # parallel (a positional join with a table of lines is read by one thread).
    backing = [f"{table}_p"]
    shift = lines - (np.arange(n, dtype=np.int64) + 2 + skipped)
    steps = np.concatenate([[0], np.flatnonzero(np.diff(shift)) + 1]) if n else np.zeros(1, dtype=np.int64)
    if len(steps) <= _MAX_LINE_STEPS:
        shifted = _step_sql("p.rowid", steps, shift[steps]) if n else "0"
        line_expr, source = f"(p.rowid + {2 + skipped} + {shifted})", f'"{table}_p" p'
    else:
        con.register(f"{table}_la", pa.table({"_line": lines}))
        con.execute(f'CREATE TEMP TABLE "{table}_l" AS SELECT _line FROM "{table}_la"')
        con.unregister(f"{table}_la")
        backing.append(f"{table}_l")
        line_expr, source = "l._line", f'"{table}_p" p POSITIONAL JOIN "{table}_l" l'
    con.execute(f"""CREATE TEMP VIEW "{table}" AS SELECT p.rowid AS _row, {prefix} || {line_expr} AS _loc,
                    {", ".join(f'p."{c}"' for c in columns)} FROM {source}""")
    return RawTable(table, columns, int(n), rejects, notes, "csv", backing=backing)


#: the most steps in a file's line numbers that the raw view computes from rowid (a search tree this many
#: leaves wide, about 12 comparisons deep); beyond, the lines are a table joined by position
_MAX_LINE_STEPS = 4096


def _step_sql(at: str, starts: np.ndarray, values: np.ndarray) -> str:
    """SQL for the step function that is ``values[i]`` from row ``starts[i]`` on (``starts[0]`` is 0): a binary search."""
    def node(lo: int, hi: int) -> str:
        if lo == hi:
            return str(int(values[lo]))
        mid = (lo + hi + 1) // 2
        return f"CASE WHEN {at} < {int(starts[mid])} THEN {node(lo, mid - 1)} ELSE {node(mid, hi)} END"

    return node(0, len(starts) - 1)


def _reject_reason(kind: str, msg: str) -> str:
    kinds = {
        "MISSING COLUMNS": "too few columns (a ragged row: check for a missing delimiter)",
        "TOO MANY COLUMNS": "too many columns (an unquoted delimiter inside a value?)",
        "UNQUOTED VALUE": "a quote is opened and never closed (the record is cut off)",
        "LINE SIZE OVER MAXIMUM": "the record is longer than 200 MB",
        "INVALID ENCODING": "bytes that are not valid text",
        "CAST ERROR": "a value could not be read",
    }
    parts = [kinds.get(k.strip(), k.strip().lower()) for k in (kind or "").split(";")]
    return "; ".join(parts) + (f" [{msg}]" if msg and "Expected Number" in msg else "")


def _exact_record_lines(text: str, delim: str) -> list[int]:
    """Start line of every record after the header, by a quote-aware scan (used for files with blank lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim, strict=False)
    starts: list[int] = []
    prev_end = 1
    try:
        for i, row in enumerate(reader):
            start = prev_end + 1 if i else 1
            prev_end = reader.line_num
            if i == 0 or not row:
                continue
            starts.append(start)
    except csv.Error:
        pass
    return starts


def _drop_reject_lines(lines: list[int], reject_starts: set[int]) -> list[int]:
    return [ln for ln in lines if ln not in reject_starts]


# --- Excel -------------------------------------------------------------------------------------------


def read_excel(con: duckdb.DuckDBPyConnection, path: Path, *, sheets: list[str] | str = "all", header_row: int = 1) -> RawTable:
    """Read the sheets of a workbook (all by default) into one raw table; ``_loc`` is ``file:sheet!row``."""
    import fastexcel

    if path.stat().st_size == 0:
        raise InputFileError(f"{path}: the file is empty. Export it again from the source system.")
    try:
        book = fastexcel.read_excel(str(path))
    except Exception as e:  # fastexcel raises its own error types
        raise InputFileError(f"{path}: cannot be opened as an Excel workbook ({str(e).splitlines()[0]}). "
                             "Check it is .xlsx, or export it as CSV.") from None
    names = book.sheet_names if sheets == "all" else list(sheets)
    missing = [s for s in names if s not in book.sheet_names]
    if missing:
        raise InputFileError(f"{path}: no sheet named {', '.join(missing)}; the workbook has {', '.join(book.sheet_names)}.")
    parts: list[pa.Table] = []
    columns: list[str] = []
    for name in names:
        sheet = book.load_sheet(name, header_row=header_row - 1, dtypes="string")
        tbl = pa.table(sheet.to_arrow())
        if tbl.num_columns == 0:
            continue
        cols = clean_columns([str(c) for c in tbl.column_names])
        tbl = tbl.rename_columns(cols)
        for c in cols:
            if c not in columns:
                columns.append(c)
        locs = pa.array([f"{path.name}:{name}!{header_row + 1 + i}" for i in range(tbl.num_rows)], pa.string())
        parts.append(tbl.append_column("_loc", locs))
    if not parts:
        raise InputFileError(f"{path}: the workbook has no sheet with a header row.")
    aligned = []
    for t in parts:
        arrays = [t.column(c).cast(pa.string()) if c in t.column_names else pa.nulls(t.num_rows, pa.string()) for c in columns]
        aligned.append(pa.table(arrays + [t.column("_loc")], names=columns + ["_loc"]))
    return _register(con, pa.concat_tables(aligned), columns, "excel", excel=True)


def _register(con: duckdb.DuckDBPyConnection, tbl: pa.Table, columns: list[str], fmt: str, *,
              rejects: list[Reject] | None = None, notes: list[str] | None = None, excel: bool = False) -> RawTable:
    table = _tmp_name("raw")
    tbl = tbl.append_column("_row", pa.array(range(tbl.num_rows), pa.int64()))
    con.register(f"{table}_a", tbl)
    con.execute(f"""CREATE TEMP TABLE "{table}" AS SELECT _row, _loc, {", ".join(f'"{c}"' for c in columns)} FROM "{table}_a" """)
    con.unregister(f"{table}_a")
    return RawTable(table, columns, tbl.num_rows, rejects or [], notes or [], fmt, excel)


# --- JSON and NDJSON -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageSpec:
    """Where a transcript's messages are, and which authors are the customer."""

    path: str
    role: str = "from"
    text: str = "body"
    customer_roles: tuple[str, ...] = ("customer", "visitor", "user")


def _get(obj: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(obj, dict):
            obj = obj.get(part)
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return None
    return obj


def _flatten(obj: Any, prefix: str = "", out: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {} if out is None else out
    if isinstance(obj, dict):
        for k, v in obj.items():
            _flatten(v, f"{prefix}{k}." if isinstance(v, dict) else f"{prefix}{k}", out)
    else:
        out[prefix.rstrip(".")] = obj
    return out


def _scalar(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(v, ensure_ascii=False, sort_keys=True)


def _records_from(doc: Any, records: str | None) -> tuple[list[Any], str]:
    if records:
        arr = _get(doc, records)
        if not isinstance(arr, list):
            raise InputFileError(f"no array at {records!r}. Set format.records in the mapping to the path of the records array.")
        return arr, "/" + records.replace(".", "/")
    if isinstance(doc, list):
        return doc, ""
    if isinstance(doc, dict):
        arrays = [(k, v) for k, v in doc.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(arrays) == 1:
            return arrays[0][1], "/" + arrays[0][0]
        return [doc], ""
    raise InputFileError("the JSON holds neither records nor an array of records.")


def _rows_from_records(recs: Iterator[tuple[str, Any]], messages: MessageSpec | None) -> tuple[list[dict[str, Any]], list[Reject]]:
    rows: list[dict[str, Any]] = []
    rejects: list[Reject] = []
    for loc, rec in recs:
        if not isinstance(rec, dict):
            rejects.append(Reject(loc, f"a record must be a JSON object, found {type(rec).__name__}", _scalar(rec) or ""))
            continue
        row = {k: _scalar(v) for k, v in _flatten(rec).items()}
        if messages:
            msgs = _get(rec, messages.path)
            row.pop(messages.path, None)
            if isinstance(msgs, list):
                cust: list[str] = []
                org: list[str] = []
                for m in msgs:
                    if not isinstance(m, dict):
                        continue
                    txt = _scalar(m.get(messages.text)) or ""
                    role = str(m.get(messages.role, "")).lower()
                    (cust if role in messages.customer_roles else org).append(txt)
                row["_messages.customer_text"] = "\n".join(cust) or None
                row["_messages.agent_text"] = "\n".join(org) or None
                row["_messages.count"] = str(len(msgs))
                row["_messages.customer_count"] = str(len(cust))
        row["_loc"] = loc
        rows.append(row)
    return rows, rejects


def _rows_to_table(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], rejects: list[Reject], fmt: str,
                   notes: list[str]) -> RawTable:
    columns: list[str] = []
    seen: set[str] = set()
    for r in rows:
        for k in r:
            if k != "_loc" and k not in seen:
                seen.add(k)
                columns.append(k)
    arrays = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}
    arrays["_loc"] = pa.array([r["_loc"] for r in rows], pa.string())
    tbl = pa.table(arrays) if rows else pa.table({"_loc": pa.array([], pa.string())})
    return _register(con, tbl, columns, fmt, rejects=rejects, notes=notes)


def read_json(con: duckdb.DuckDBPyConnection, path: Path, *, records: str | None = None,
              messages: MessageSpec | None = None) -> RawTable:
    """Read a JSON document; one record per element of its records array (``_loc`` is a JSON pointer)."""
    data = path.read_bytes()
    _check_not_empty_or_binary(path, data, "json")
    text, _, notes = decode_text(data)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputFileError(f"{path}: not valid JSON at line {e.lineno} column {e.colno} ({e.msg}). "
                             "If the file holds one JSON object per line, name it .ndjson.") from None
    try:
        arr, base = _records_from(doc, records)
    except InputFileError as e:
        raise InputFileError(f"{path}: {e}") from None
    rows, rejects = _rows_from_records(((f"{path.name}#{base}/{i}", r) for i, r in enumerate(arr)), messages)
    return _rows_to_table(con, rows, rejects, "json", notes)


def read_ndjson(con: duckdb.DuckDBPyConnection, path: Path, *, messages: MessageSpec | None = None) -> RawTable:
    """Read newline-delimited JSON; a malformed line is a reject located at its line."""
    data = path.read_bytes()
    _check_not_empty_or_binary(path, data, "ndjson")
    text, _, notes = decode_text(data)
    parsed: list[tuple[str, Any]] = []
    rejects: list[Reject] = []
    for i, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            parsed.append((f"{path.name}:{i}", json.loads(line)))
        except json.JSONDecodeError as e:
            rejects.append(Reject(f"{path.name}:{i}", f"malformed JSON ({e.msg} at column {e.colno})", line[:2000]))
    rows, more = _rows_from_records(iter(parsed), messages)
    return _rows_to_table(con, rows, rejects + more, "ndjson", notes)


def read_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> RawTable:
    """Read a Parquet file; every column is cast to text so the mapping layer sees one type."""
    import pyarrow.parquet as pq

    try:
        tbl = pq.read_table(path)
    except Exception as e:
        raise InputFileError(f"{path}: cannot be read as Parquet ({str(e).splitlines()[0]}).") from None
    columns = clean_columns(tbl.column_names)
    tbl = tbl.rename_columns(columns)
    arrays = []
    for c in columns:
        col = tbl.column(c)
        try:
            arrays.append(col.cast(pa.string()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            arrays.append(pa.array([_scalar(v) for v in col.to_pylist()], pa.string()))
    locs = pa.array([f"{path.name}:row {i + 1}" for i in range(tbl.num_rows)], pa.string())
    return _register(con, pa.table(arrays + [locs], names=columns + ["_loc"]), columns, "parquet")


def read_file(con: duckdb.DuckDBPyConnection, path: Path, *, fmt: str | None = None, options: dict[str, Any] | None = None,
              messages: MessageSpec | None = None, scratch: Path | None = None) -> RawTable:
    """Read any supported export into a raw DuckDB table.  ``options`` is a mapping's ``format`` block."""
    options = options or {}
    if not path.exists():
        raise InputFileError(f"{path}: no such file. Check the path, or the source's paths in cxchain.toml.")
    if path.is_dir():
        raise InputFileError(f"{path} is a folder: give the files inside it, e.g. {path}/*.csv.")
    fmt = fmt or detect_format(path)
    if fmt == "csv":
        return read_csv(con, path, delimiter=options.get("delimiter"), encoding=options.get("encoding", "auto"),
                        header_row=int(options.get("header_row", 1)), scratch=scratch)
    if fmt == "excel":
        return read_excel(con, path, sheets=options.get("sheets", "all"), header_row=int(options.get("header_row", 1)))
    if fmt == "json":
        return read_json(con, path, records=options.get("records"), messages=messages)
    if fmt == "ndjson":
        return read_ndjson(con, path, messages=messages)
    if fmt == "parquet":
        return read_parquet(con, path)
    raise InputFileError(f"{path}: unknown format {fmt!r}; cxchain reads {', '.join(FORMATS)}.")


def read_sample(path: Path, n: int = 200, **kw: Any) -> tuple[list[str], list[dict[str, str | None]], str]:
    """The columns, first ``n`` rows and format of a file, for mapping suggestions."""
    con = duckdb.connect()
    try:
        raw = read_file(con, path, **kw)
        cols = ", ".join(f'"{c}"' for c in raw.columns)
        rows = con.execute(f'SELECT {cols} FROM "{raw.table}" ORDER BY _row LIMIT {n}').fetchall() if raw.columns else []
        return raw.columns, [dict(zip(raw.columns, r, strict=True)) for r in rows], raw.format
    finally:
        con.close()
