"""Ingest export files into the canonical model, every row accounted for.

For each file: read it (``readers``), apply the mapping in one SQL pass that parses every field and
names the reason a row cannot be loaded, then sort each row into exactly one bucket:

* **loaded**: a new record, or a new version of a known one (``rows_updated``, a part of loaded);
* **duplicate**: same source key and same content as the current version (or as the row before
  it in the same file);
* **quarantined**: unparseable record, missing key or required field, or a value that does not
  read; kept with file, location, column and reason, its raw values in the protected identity store.

``rows_read = rows_loaded + rows_quarantined + rows_duplicate`` holds for every file, and is
checked before the batch is recorded.  Free text is redacted before it is stored; identity
fields go only to the identity store.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from ..errors import CxchainError, MappingError
from ..settings import Settings
from ..store import Transaction
from .mapping import Mapping, compile_field, lit, q, resolve_column
from .model import IDENTITY_FIELDS, SYSTEM_COLUMNS, fields_of
from .readers import RawTable, read_file

if TYPE_CHECKING:  # pragma: no cover
    from ..engine import Engine

Redact = Callable[[Sequence[str | None]], list[str | None]]


@dataclass
class FileReport:
    """Counts for one ingested file (the reconciliation identity holds for each)."""

    file: str
    source: str
    batch_id: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    rows_updated: int = 0
    quarantine_sample: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: bool = False

    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_quarantined + self.rows_duplicate


@dataclass
class IngestReport:
    """Result of one ingest: per-file entries and totals."""

    files: list[FileReport] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate", "rows_updated")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        sample = [s for f in self.files for s in f.quarantine_sample][:20]
        return {"files": [asdict(f) for f in self.files], "totals": self.totals(), "quarantine_sample": sample,
                "reconciles": all(f.reconciles() for f in self.files)}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _column_for(mp: Mapping, wanted: str, raw: RawTable, where: str) -> str:
    col = resolve_column(wanted, raw.columns)
    if col is None:
        close = [c for c in raw.columns if wanted.lower()[:4] in c.lower()][:5]
        hint = f" Similar columns: {', '.join(close)}." if close else f" The file has: {', '.join(raw.columns[:30])}."
        raise MappingError(f"{where}: the mapping {mp.path or mp.source} names column {wanted!r}, which this file does not have.{hint} "
                           "Fix the mapping, or run `cxchain map suggest` on this file.")
    return col


def _stage_sql(mp: Mapping, raw: RawTable, settings: Settings, secret: str, where: str) -> tuple[str, list[str]]:
    """SELECT that maps the raw table to canonical fields plus _key, _hash, _reason, _column.

    Three layers, so that each parse runs once per row: the first computes every field's value,
    the second the checks (which name a reason when a value does not read) over those values, the
    third gathers the reasons.  A check written over the value's own expression reads the
    computed value instead.  The raw row (kept for quarantine) is built only for the rows that fail
    a check.
    """
    model = fields_of(mp.entity)
    day_first = bool(settings["dates.day_first"])
    values: list[str] = []  # value expressions of the first layer, held in columns __cx_v0, __cx_v1, ...
    field_cols: list[str] = []  # the first-layer column of each canonical field, in the order of names
    checks: list[tuple[str, str]] = []  # (column named in the reason, check expression)
    names: list[str] = []
    msg_cols = {"text": "_messages.customer_text", "agent_text": "_messages.agent_text",
                "message_count": "_messages.count", "customer_message_count": "_messages.customer_count"}

    def value_col(expr: str) -> str:
        """Register a value of the first layer; returns the column that holds it."""
        values.append(expr)
        return f"__cx_v{len(values) - 1}"

    for f in model.values():
        fm = mp.fields.get(f.name)
        col: str | None = None
        if fm is None and mp.messages and f.name in msg_cols and msg_cols[f.name] in raw.columns:
            from .mapping import FieldMap

            fm, col = FieldMap(f.name, column=msg_cols[f.name]), msg_cols[f.name]
        if fm is None:
            field_cols.append(value_col(f"CAST(NULL AS {_sql_type(f.type)})"))
            names.append(f.name)
            if f.required:
                raise MappingError(f"{where}: required field {f.name} is not mapped.")
            continue
        if fm.column is not None and col is None:
            col = _column_for(mp, fm.column, raw, where)
        value, check = compile_field(fm, f.type, q(col) if col else None, day_first=day_first, excel=raw.excel,
                                     secret=secret, choices=f.choices, timezone=str(settings["timezone"]))
        vcol = value_col(value)
        field_cols.append(vcol)
        names.append(f.name)
        if check:
            checks.append((fm.column or f.name, check.replace(value, vcol)))
        if f.required:
            empty = _blank_sql(q(col)) if col else f"{vcol} IS NULL"
            checks.append((fm.column or f.name, f"CASE WHEN {empty} THEN {lit((fm.column or f.name) + ': required ' + f.name + ' is empty')} END"))
    key_cols = [_column_for(mp, k, raw, where) for k in mp.key]
    used = [_column_for(mp, c, raw, where) for c in mp.columns_used()]
    if mp.messages:
        used += [c for c in msg_cols.values() if c in raw.columns]
    hashed = used or raw.columns
    content = "concat_ws(chr(31), " + ", ".join(f"coalesce({q(c)}, chr(0))" for c in hashed) + ")"
    if key_cols:
        key = "nullif(concat_ws('|', " + ", ".join(f"nullif(trim({q(c)}), '')" for c in key_cols) + "), '')"
        checks.insert(0, ("/".join(mp.key), f"CASE WHEN __cx_key IS NULL THEN {lit('/'.join(mp.key) + ': no value in the key column')} END"))
    else:
        key = f"md5({content})"
    extra: list[str] = []  # outputs besides the canonical fields
    for item in mp.survey_items:
        col = _column_for(mp, item.column, raw, where)
        v = f"try_cast(replace(trim({q(col)}), ',', '.') AS DOUBLE)"
        lo, hi = item.scale
        vcol = value_col(f"(CASE WHEN nullif(trim({q(col)}), '') IS NULL THEN NULL ELSE {v} END)")
        extra.append(f"{vcol} AS {q('_item_' + item.item)}")
        checks.append((item.column, f"CASE WHEN nullif(trim({q(col)}), '') IS NOT NULL AND ({vcol} IS NULL OR {vcol} < {lo} OR {vcol} > {hi}) "
                                    f"THEN {lit(item.column + ': ')} || {lit(chr(39))} || left(trim({q(col)}), 20) || "
                                    f"{lit(chr(39) + f' is not a score on the {lo:g}-{hi:g} scale')} END"))
    for ident, colname in mp.identity.items():
        col = _column_for(mp, colname, raw, where)
        extra.append(f"nullif(trim({q(col)}), '') AS {q('_id_' + ident)}")
    reason = "nullif(concat_ws('; ', " + ", ".join(f"__cx_c{i}" for i in range(len(checks))) + "), '')" if checks else "NULL"
    column = ("coalesce(" + ", ".join(f"CASE WHEN __cx_c{i} IS NOT NULL THEN {lit(n)} END" for i, (n, _) in enumerate(checks))
              + ", NULL)" if checks else "NULL")
    first = "".join(f", {e} AS __cx_v{i}" for i, e in enumerate(values))
    second = "".join(f", {c} AS __cx_c{i}" for i, (_, c) in enumerate(checks))
    fields = "".join(f", {c} AS {q(n)}" for c, n in zip(field_cols, names, strict=True))
    # the raw row, kept for quarantine: built only for rows with a reason (CASE evaluates it for those alone)
    raw_json = "to_json(struct_pack(" + ", ".join(f"{q(c)} := {q(c)}" for c in raw.columns) + "))" if raw.columns else "'{}'"
    failed = " OR ".join(f"__cx_c{i} IS NOT NULL" for i in range(len(checks))) or "false"
    sql = (f"WITH __cx_l1 AS (SELECT *, {key} AS __cx_key, md5({content}) AS __cx_hash{first} FROM {q(raw.table)}), "
           f"__cx_l2 AS (SELECT *{second} FROM __cx_l1) "
           f"SELECT _row, _loc, __cx_key AS _key, __cx_hash AS _hash, {reason} AS _reason, {column} AS _column, "
           f"CASE WHEN {failed} THEN {raw_json} END AS _raw{fields}"
           f"{''.join(', ' + e for e in extra)}, "
           # each row's classification as far as the row alone tells (classify() corrects the rows whose key
           # repeats in the file or is stored): quarantined when a check fails, else a new record's first version
           f"CASE WHEN {failed} THEN 'quarantined' ELSE 'new' END AS _status, "
           f"CAST(CASE WHEN NOT ({failed}) THEN 1 END AS INTEGER) AS _version, "
           f"CASE WHEN NOT ({failed}) THEN false END AS _superseded FROM __cx_l2")
    return sql, names


def stage_raw(con: duckdb.DuckDBPyConnection, raw: RawTable, sql: str, stage: str, engine: Engine | None = None, *,
              classify_for: Mapping | None = None) -> None:
    """Create table ``stage`` in ``con`` from the mapping's SQL (:func:`_stage_sql`) over ``raw``.

    On the store itself (a temporary table) unless ``engine`` is another engine: then the raw rows go to it,
    the same SQL runs there (transpiled on Spark) and the staged rows come back (a table the caller drops).
    With ``classify_for`` (the mapping), the staged rows are also sorted into new, updated, duplicate and
    quarantined against the versions of its source stored in ``con`` (:func:`classify`), on the same engine;
    another engine receives a copy of the stored versions' keys and content hashes for that.
    """
    from ..engine import DuckDBEngine

    if engine is None or (isinstance(engine, DuckDBEngine) and engine.con is con):
        con.execute(f"CREATE TEMP TABLE {stage} AS {sql}")
        if classify_for is not None:
            classify(con, stage, classify_for)
        return
    stored = f"{stage}_stored"
    engine.import_duckdb(con, [raw.table])
    ecn = engine.connection()
    try:
        ecn.execute(f"CREATE OR REPLACE TABLE {stage} AS {sql}")
        if classify_for is not None:
            con.execute(f"CREATE TEMP TABLE {stored} AS SELECT source, source_key, version, content_hash "
                        f"FROM {q(classify_for.entity)} WHERE source = ?", [classify_for.source])
            engine.import_duckdb(con, [stored])
            classify(ecn, stage, classify_for, stored=stored)
        engine.export_duckdb(con, [stage])
    finally:
        ecn.execute(f'DROP TABLE IF EXISTS "{raw.table}"')
        ecn.execute(f"DROP TABLE IF EXISTS {stage}")
        ecn.execute(f"DROP TABLE IF EXISTS {stored}")
        con.execute(f"DROP TABLE IF EXISTS {stored}")


def _blank_sql(col: str) -> str:
    return f"(nullif(trim({col}), '') IS NULL)"


def _sql_type(t: str) -> str:
    from .model import SQL_TYPES

    return SQL_TYPES[t]


def ingest_file(tx: Transaction, settings: Settings, path: Path, mp: Mapping, *, secret: str, redact: Redact | None,
                scratch: Path | None = None, engine: Engine | None = None) -> FileReport:
    """Ingest one file inside an open store transaction; returns its reconciled counts."""
    t0 = time.perf_counter()
    sha = file_sha256(path)
    seen = tx.data.execute("SELECT rows_read FROM batch WHERE kind = 'ingest' AND source = ? AND file_sha256 = ? LIMIT 1",
                           [mp.source, sha]).fetchall()
    if seen:  # the very same file again: every row is a duplicate of what its first ingest accounted for
        rep = FileReport(file=str(path), source=mp.source, batch_id="", rows_read=int(seen[0][0]),
                         rows_duplicate=int(seen[0][0]), notes=["file already ingested: nothing changed"], skipped=True)
        rep.seconds = round(time.perf_counter() - t0, 3)
        return rep
    raw = read_file(tx.data, path, options=mp.format, messages=mp.messages, scratch=scratch)
    return ingest_raw(tx, settings, raw, mp, secret=secret, redact=redact, label=str(path), file_name=path.name,
                      sha=sha, size=path.stat().st_size, t0=t0, engine=engine)


def ingest_raw(tx: Transaction, settings: Settings, raw: RawTable, mp: Mapping, *, secret: str, redact: Redact | None,
               label: str, file_name: str, sha: str, size: int, t0: float, kind: str = "ingest",
               replay_ids: dict[int, str] | None = None, engine: Engine | None = None) -> FileReport:
    """Map, classify and store a raw table (from a file, or from quarantined rows being replayed).

    The mapping's SQL and the classification of its rows (:func:`classify`) run on ``engine`` when one is
    given (the Spark engine: the same SQL, transpiled), else on the store; the classified rows are stored on
    the store either way.
    """
    con = tx.data
    batch_id = f"b{tx.generation:06d}-{uuid.uuid4().hex[:8]}"
    rep = FileReport(file=label, source=mp.source, batch_id=batch_id)
    rep.notes = list(raw.notes)
    try:
        sql, names = _stage_sql(mp, raw, settings, secret, label)
        stage = f"stage_{uuid.uuid4().hex[:8]}"
        try:
            stage_raw(con, raw, sql, stage, engine, classify_for=mp)
        except Exception as e:  # noqa: BLE001 - DuckDB's or the engine's error, said in the user's terms
            if not isinstance(e, (duckdb.Error, CxchainError)) and engine is None:
                raise
            raise CxchainError(f"{label}: the mapping could not be applied ({str(e).strip().splitlines()[0]}). "
                               f"Check the mapping {mp.path or mp.source}.") from None
        counts = dict(con.execute(f"SELECT _status, count(*) FROM {stage} GROUP BY 1").fetchall())
        rep.rows_read = raw.rows_read
        rep.rows_duplicate = int(counts.get("duplicate", 0))
        rep.rows_quarantined = int(counts.get("quarantined", 0)) + len(raw.rejects)
        rep.rows_loaded = int(counts.get("new", 0)) + int(counts.get("updated", 0))
        rep.rows_updated = int(counts.get("updated", 0))
        if not rep.reconciles():  # a bug, never a data problem: refuse to publish rather than lose rows
            raise CxchainError(f"{label}: internal error, counts do not reconcile ({rep}). Please report this.")
        if replay_ids is None:
            _write_quarantine(tx, stage, raw, rep, file_name, batch_id)
        else:
            _resolve_replayed(tx, stage, replay_ids, batch_id)
        _write_loaded(tx, stage, mp, names, batch_id, redact, bool(settings["privacy.redact_text"]))
        con.execute(f"DROP TABLE {stage}")
    finally:
        raw.drop(con)
    rep.seconds = round(time.perf_counter() - t0, 3)
    con.execute(f"INSERT INTO batch VALUES ({', '.join(['?'] * 16)})",
                [batch_id, kind, mp.source, file_name, sha, size, mp.version, mp.fingerprint, tx.started_at,
                 rep.seconds, rep.rows_read, rep.rows_loaded, rep.rows_quarantined, rep.rows_duplicate, rep.rows_updated,
                 "; ".join(rep.notes)])
    return rep


def _resolve_replayed(tx: Transaction, stage: str, replay_ids: dict[int, str], batch_id: str) -> None:
    """Replayed rows that now load (or prove duplicates) leave quarantine; the rest stay open with today's reason."""
    rows = tx.data.execute(f"SELECT _row, _status, _reason, _column FROM {stage}").fetchall()
    done = [(batch_id, replay_ids[r]) for r, st, _, _ in rows if st != "quarantined"]
    still = [(reason, col, replay_ids[r]) for r, st, reason, col in rows if st == "quarantined"]
    if done:
        tx.data.executemany("UPDATE quarantine SET status = 'replayed', resolved_batch = ? WHERE quarantine_id = ?", done)
    if still:
        tx.data.executemany('UPDATE quarantine SET reason = ?, "column" = ? WHERE quarantine_id = ?', still)


#: The columns of a staged row that :func:`classify` sets.
STATUS_COLUMNS = ("_status", "_version", "_superseded")


def versions_sql(mp: Mapping, stage: str, *, stored: str | None = None) -> str:
    """The SELECT of the staged rows of ``stage`` whose key repeats in the file or is stored already, each with
    its _status, _version and _superseded (one definition, run on the store and, transpiled, on Spark).

    _status is new, updated or duplicate; _version numbers a key's versions on from the highest stored
    (none for a duplicate); _superseded marks a version loaded from this file that a later row of the same
    file replaces at once.  ``stored`` names the stored versions (columns source, source_key, version,
    content_hash): the entity table itself on the store, on another engine a copy of those columns.

    A row is a duplicate when its key already carries the same content, in any version seen
    before or in the row before it in the same file: so a re-export overlapping earlier ones
    adds nothing, and re-ingesting a file changes nothing.  (A record that changes back to an
    earlier content is therefore not recorded as a new version.)
    """
    src = lit(mp.source)
    versions = stored or q(mp.entity)
    # row_number and count are separate windows: Spark allows row_number no other frame than the running one
    return f"""
        WITH cur AS (SELECT source_key, max(version) AS version FROM {versions} WHERE source = {src} GROUP BY 1),
        repeated AS (SELECT _key FROM {stage} WHERE _reason IS NULL GROUP BY _key HAVING count(*) > 1),
        ok AS (SELECT _row, _key, _hash, lag(_hash) OVER (PARTITION BY _key ORDER BY _row) AS prev FROM {stage}
               WHERE _reason IS NULL AND (_key IN (SELECT _key FROM repeated) OR _key IN (SELECT source_key FROM cur))),
        known AS (SELECT DISTINCT source_key, content_hash FROM {versions}
                  WHERE source = {src} AND source_key IN (SELECT _key FROM ok)),
        cls AS (SELECT ok._row, ok._key,
                       CASE WHEN ok._hash = ok.prev OR k.content_hash IS NOT NULL THEN 'duplicate'
                            WHEN ok.prev IS NOT NULL OR cur.version IS NOT NULL THEN 'updated' ELSE 'new' END AS st,
                       coalesce(cur.version, 0) AS base
                FROM ok LEFT JOIN cur ON cur.source_key = ok._key
                LEFT JOIN known k ON k.source_key = ok._key AND k.content_hash = ok._hash),
        ver AS (SELECT _row, st, base,
                       row_number() OVER (PARTITION BY _key, st <> 'duplicate' ORDER BY _row) AS n,
                       count(*) OVER (PARTITION BY _key, st <> 'duplicate') AS versions FROM cls)
        SELECT _row, st AS _status, CAST(CASE WHEN st <> 'duplicate' THEN base + n END AS INTEGER) AS _version,
               st <> 'duplicate' AND n < versions AS _superseded FROM ver"""


def classify(con: Any, stage: str, mp: Mapping, *, stored: str | None = None) -> None:
    """Sort the staged rows of table ``stage`` on ``con`` (the store, or another engine's connection) into
    new, updated, duplicate and quarantined, and number their versions.

    Most rows carry a key seen once in the file and never stored: such a row is a new record's first
    version, as staged (:func:`_stage_sql`).  Only the rows whose key repeats in the file or is stored
    already are classified by the windows (:func:`versions_sql`, a handful of rows on a first ingest) and
    updated: DuckDB rewrites only those rows.  The same statement runs on Spark, where the engine writes
    the update as the table's new version (:meth:`cxchain.engine.spark.SparkEngine.run_statement`).
    """
    sets = ", ".join(f"{c} = v.{c}" for c in STATUS_COLUMNS)
    con.execute(f"UPDATE {stage} SET {sets} FROM ({versions_sql(mp, stage, stored=stored)}) v WHERE {stage}._row = v._row")


def _write_quarantine(tx: Transaction, stage: str, raw: RawTable, rep: FileReport, fname: str, batch_id: str) -> None:
    con = tx.data
    rejects = raw.rejects
    rows = con.execute(f"SELECT _row, _loc, _column, _reason, _raw FROM {stage} WHERE _status = 'quarantined' ORDER BY _row").fetchall()
    q_rows, raw_rows = [], []
    for i, r in enumerate(rejects):
        qid = f"{batch_id}:r{i}"
        q_rows.append((qid, batch_id, rep.source, fname, r.location, None, r.reason, "open", None))
        raw_rows.append((qid, json.dumps({"_line": r.raw[:100000]})))
    for row, loc, col, reason, values in rows:
        qid = f"{batch_id}:{row}"
        q_rows.append((qid, batch_id, rep.source, fname, loc, col, reason, "open", None))
        raw_rows.append((qid, values))
    if q_rows:  # as Arrow tables: one insert per table, not a statement per row
        _insert_rows(con, "quarantine", q_rows, 9)
        _insert_rows(tx.identity, "quarantine_raw", raw_rows, 2)
    rep.quarantine_sample = [{"location": r[4], "column": r[5] or "", "reason": r[6]} for r in q_rows[:5]]


def _insert_rows(con: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]], width: int) -> None:
    """Insert Python rows of text (or None) into ``table`` in one statement.

    Each column is one list parameter, unnested side by side (building Arrow arrays from Python lists
    would import pandas, a third of a second of every ingest's start-up).
    """
    cols = [[r[i] for r in rows] for i in range(width)]
    con.execute(f"INSERT INTO {table} SELECT {', '.join(['unnest(?::VARCHAR[])'] * width)}", cols)


def _write_loaded(tx: Transaction, stage: str, mp: Mapping, names: list[str], batch_id: str, redact: Redact | None,
                  redact_on: bool) -> None:
    con = tx.data
    model = fields_of(mp.entity)
    ent = q(mp.entity)
    if redact_on and redact is not None:
        for f in model.values():
            if f.free_text:
                # A text redacts the same wherever it is, so each distinct text is redacted once (agents' wrap
                # notes and short survey comments repeat a great deal), and only the changed ones are written back.
                col, loaded = q(f.name), f"{stage}._status IN ('new', 'updated')"
                tbl = con.sql(f"SELECT DISTINCT {col} AS t FROM {stage} WHERE {loaded} AND {col} IS NOT NULL").to_arrow_table()
                if tbl.num_rows:
                    red = pa.table({"t": tbl.column("t"), "r": pa.array(redact(tbl.column("t").to_pylist()), pa.string())})
                    con.register("_red", red)
                    con.execute(f"UPDATE {stage} SET {col} = _red.r FROM _red WHERE {stage}.{col} = _red.t AND {loaded} "
                                "AND _red.r IS DISTINCT FROM _red.t")
                    con.unregister("_red")
    sys_cols = [n for n, _, _ in SYSTEM_COLUMNS]
    sel = [f"{lit(mp.source)} || ':' || _key", lit(mp.source), "_key", "_version", "_hash", lit(batch_id), "_loc",
           lit(tx.started_at.isoformat()) + "::TIMESTAMP", "NULL::TIMESTAMP"]
    # Within one file a key can carry several versions: all but its last are superseded at once (classify).
    loaded = f"(SELECT * FROM {stage} WHERE _status IN ('new', 'updated'))"
    sel[-1] = f"CASE WHEN _superseded THEN {lit(tx.started_at.isoformat())}::TIMESTAMP END"
    con.execute(f"""UPDATE {ent} SET valid_to = {lit(tx.started_at.isoformat())}::TIMESTAMP
                    WHERE source = {lit(mp.source)} AND valid_to IS NULL
                    AND source_key IN (SELECT _key FROM {stage} WHERE _status = 'updated')""")
    con.execute(f"INSERT INTO {ent} ({', '.join(q(c) for c in sys_cols + names)}) "
                f"SELECT {', '.join(sel)}, {', '.join(q(n) for n in names)} FROM {loaded}")
    if mp.survey_items:
        parts = [f"""SELECT {lit(mp.source)} || ':' || _key, _version, {lit(it.item)}, {q('_item_' + it.item)}, {it.scale[0]}, {it.scale[1]}
                     FROM {stage} WHERE _status IN ('new', 'updated') AND {q('_item_' + it.item)} IS NOT NULL""" for it in mp.survey_items]
        con.execute("INSERT INTO survey_item " + " UNION ALL ".join(parts))
    if mp.identity:
        cols = list(mp.identity)
        # only the varying columns cross to the identity store; the constant ones are added there
        tbl = con.sql(f"""SELECT _key AS source_key, _version AS version, {', '.join(q('_id_' + c) + ' AS ' + q(c) for c in cols)}
                          FROM {stage} WHERE _status IN ('new', 'updated')""").to_arrow_table()
        tx.identity.register("_ids", tbl)
        id_cols = [c for c in IDENTITY_FIELDS if c in cols]
        tx.identity.execute(f"""INSERT INTO identity_record ({', '.join(q(c) for c in ["record_id", "source", "source_key", "version", "batch_id"] + id_cols)})
                                SELECT {lit(mp.source)} || ':' || source_key, {lit(mp.source)}, source_key, version, {lit(batch_id)}
                                {''.join(', ' + q(c) for c in id_cols)} FROM _ids""")
        tx.identity.unregister("_ids")
