"""DuckDB-dialect SQL, transpiled to Spark SQL with SQLGlot (the way Splink runs one model on both).

Every transform of the chain is written once, in DuckDB SQL.  :func:`to_spark` turns one statement into
Spark SQL: SQLGlot does the general translation (types, quoting, ``QUALIFY``, null ordering, function
names), and the rewrites below cover what SQLGlot leaves DuckDB-specific or translates with a different
meaning, so that both engines give the *same* answer, not just a valid one:

* numeric literals with a decimal point are DOUBLE in DuckDB arithmetic but DECIMAL in Spark (``1000.0 *
  count(*) / n`` would round to 6 places there): they become ``CAST(x AS DOUBLE)``;
* ``isodow(d)`` is ``weekday(d) + 1`` (SQLGlot's translation numbers Saturday as 1);
* ``to_microseconds(n)`` (an interval) becomes ``INTERVAL n MICROSECOND``;
* ``quantile_cont(x, q)`` is Spark's ``percentile(x, q)`` (both interpolate linearly);
* ``first(x ORDER BY a, b)`` is ``min_by(x, struct(a, b))``; ``min``/``max`` drop an ``ORDER BY``;
* ``generate_series(a, b, step) t(g)`` in FROM becomes a subquery over ``explode(sequence(...))``;
* ``information_schema.tables``/``columns`` and ``current_schema()`` read views the Spark engine keeps of
  its own catalogue (schema ``main``);
* ``?`` parameters are bound as literals before translation.

And for the mapping transforms of link 1 (:mod:`cxchain.data.mapping`, :mod:`cxchain.data.ingest`):

* ``try_strptime(s, [f1, f2, ...])`` is the first of ``try_to_timestamp(s, j1)``, ... with each strftime
  format written as a Java pattern (:func:`java_pattern`: one-letter fields, which read one or two digits as
  DuckDB's ``%d`` does; literal letters quoted);
* ``timezone(tz, instant)`` (an instant parsed from a text with an offset) is the wall-clock time in ``tz``:
  ``from_utc_timestamp`` in the engine's UTC session, as TIMESTAMP_NTZ; a ``TIMESTAMPTZ`` cast is
  ``TIMESTAMP_LTZ``, and a zone-aware ``try_strptime`` parses with ``to_timestamp_ltz``;
* ``try_cast(s AS TIMESTAMP)`` of text reads only the forms DuckDB reads (Spark also takes ``2024`` or
  ``2024-03`` as a timestamp; DuckDB does not), and ``try_cast(s AS DOUBLE)`` only decimal numbers (Spark
  also reads Java literals such as ``1d``);
* ``regexp_full_match(s, p)`` is ``s RLIKE '^(?:p)\\z'``;
* ``to_json(struct_pack(...))`` keeps null fields (Spark's ``to_json`` drops them by default);
* ``to_microseconds(n)`` of a computed ``n`` is ``n * INTERVAL '0.000001' SECOND``.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["to_spark", "parse_duckdb", "bind_params", "spark_statement", "java_pattern", "INFO_TABLES", "INFO_COLUMNS",
           "SCHEMA"]

#: The schema name DuckDB's ``current_schema()`` answers for an ordinary database.
SCHEMA = "main"
#: Views the Spark engine registers for DuckDB's information_schema tables.
INFO_TABLES = "_cx_information_schema_tables"
INFO_COLUMNS = "_cx_information_schema_columns"


def _literal(v: Any) -> exp.Expr:
    if v is None:
        return exp.Null()
    if isinstance(v, bool):
        return exp.Boolean(this=v)
    if isinstance(v, int):
        return exp.Literal.number(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        return exp.cast(exp.Literal.number(repr(v)), "DOUBLE")
    if isinstance(v, dt.datetime):
        return exp.cast(exp.Literal.string(v.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(v, dt.date):
        return exp.cast(exp.Literal.string(v.isoformat()), "DATE")
    return exp.Literal.string(str(v))


def parse_duckdb(sql: str) -> list[exp.Expr]:
    """The statements of ``sql`` parsed as DuckDB SQL."""
    return [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]


def bind_params(tree: exp.Expr, params: Sequence[Any] | None) -> exp.Expr:
    """Replace the ``?`` placeholders of ``tree`` by literals, in order."""
    if not params:
        return tree
    values = iter(list(params))

    def one(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder):
            try:
                return _literal(next(values))
            except StopIteration:
                raise ValueError("fewer parameters than ? placeholders") from None
        return node
    return tree.transform(one)


def _order_struct(order: exp.Order) -> exp.Expr:
    keys = []
    for o in order.expressions:
        if isinstance(o, exp.Ordered) and o.args.get("desc"):
            raise ValueError("first(... ORDER BY ... DESC) has no Spark translation here")
        keys.append(o.this if isinstance(o, exp.Ordered) else o)
    return exp.func("struct", *keys)


def _deep(new: exp.Expr) -> exp.Expr:
    """Rewrite the children of a replacement node too (SQLGlot does not descend into replacements)."""
    for child in list(new.iter_expressions()):
        child.replace(child.transform(_rewrite))
    return new


#: strftime directives (as DuckDB's strptime reads them) and the Java DateTimeFormatter letters that read the
#: same text.  One-letter numeric fields read one or two digits, as DuckDB does ('1/3/2024' with %d/%m/%Y).
_JAVA_FIELDS = {"Y": "yyyy", "m": "M", "d": "d", "H": "H", "M": "m", "S": "s", "y": "yy", "b": "MMM", "h": "MMM",
                "B": "MMMM", "I": "h", "p": "a", "f": "SSSSSS", "j": "D", "z": "XXX",
                "Z": "VV", "e": "d", "-d": "d", "-m": "M", "-H": "H", "-M": "m", "-S": "s", "-I": "h"}
#: Fields that need a fixed width when another number follows without a separator ('%Y%m%d').
_FIXED = {"M": "MM", "d": "dd", "H": "HH", "m": "mm", "s": "ss", "h": "hh"}
#: Zone-aware directives: a format with one of them parses an instant (DuckDB's TIMESTAMPTZ).
ZONE_DIRECTIVES = ("%z", "%Z")


def java_pattern(fmt: str) -> str:
    """The Spark (Java DateTimeFormatter) pattern that reads what the strftime format ``fmt`` reads in DuckDB."""
    parts: list[tuple[str, bool]] = []  # (text, is a field)
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            if code == "-" and i + 2 < len(fmt):
                code, i = "-" + fmt[i + 2], i + 1
            if code == "%":
                parts.append(("%", False))
            elif code in _JAVA_FIELDS:
                parts.append((_JAVA_FIELDS[code], True))
            else:
                raise ValueError(f"the date format directive %{code} has no Spark translation")
            i += 2
            continue
        parts.append((ch, False))
        i += 1
    out = []
    for k, (text, is_field) in enumerate(parts):
        if is_field:
            nxt = parts[k + 1] if k + 1 < len(parts) else None
            prev = parts[k - 1] if k else None
            adjacent = (nxt is not None and nxt[1]) or (prev is not None and prev[1])
            out.append(_FIXED.get(text, text) if adjacent else text)
        elif text.isalpha():
            out.append("'" + text + "'")
        elif text == "'":
            out.append("''")
        else:
            out.append(text)
    return "".join(out)


def _formats(node: exp.Expr) -> list[str]:
    items = node.expressions if isinstance(node, exp.Array) else [node]
    if not all(isinstance(x, exp.Literal) and x.is_string for x in items):
        raise ValueError("try_strptime needs literal formats on Spark")
    return [str(x.this) for x in items]


#: A leading day name, which DuckDB's %a/%A reads and does not check against the date, and which Spark cannot
#: parse (its patterns take day names for formatting only): it is matched, then cut off before parsing.
_DAY_NAME = r"^(?i:(mon|tue|wed|thu|fri|sat|sun)[a-z]*)"


def _strptime(text: exp.Expr, formats: list[str], *, instant: bool) -> exp.Expr:
    """The first format that reads ``text`` (NULL when none does), as TIMESTAMP_NTZ or (``instant``) LTZ."""
    tries: list[exp.Expr] = []
    for f in formats:
        src, day = text.copy(), None
        if f.startswith(("%a", "%A")):
            sep = re.match(r"[^%A-Za-z0-9]*", f[2:])
            day = exp.Literal.string(_DAY_NAME + re.escape(sep.group(0) if sep else ""))
            f = f[2 + (len(sep.group(0)) if sep else 0):]
            src = exp.func("regexp_replace", text.copy(), day.copy(), exp.Literal.string(""))
        if "%a" in f or "%A" in f:
            raise ValueError(f"a day name is read on Spark only at the start of a date format, not in {f!r}")
        pat = exp.Literal.string(java_pattern(f))
        one: exp.Expr = exp.func("try_to_timestamp", src.copy(), pat)
        if instant:  # the NTZ parse validates the text (ANSI-safe); only then is it read as an instant
            one = exp.Case(ifs=[exp.If(this=exp.Not(this=exp.Is(this=one, expression=exp.Null())),
                                       true=exp.func("to_timestamp_ltz", src.copy(), pat.copy()))])
        if day is not None:
            one = exp.Case(ifs=[exp.If(this=exp.RegexpLike(this=text.copy(), expression=day), true=one)])
        tries.append(one)
    return tries[0] if len(tries) == 1 else exp.func("coalesce", *tries)


#: The text forms DuckDB casts to TIMESTAMP: a date (separated by '-' or '/'), optionally a time with seconds
#: and fractions, optionally an offset or 'Z' (which a cast to TIMESTAMP applies and drops).
_DUCK_TIMESTAMP = (r"^\d{4}([-/])\d{1,2}\1\d{1,2}([T ]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d{1,9})?)?)?"
                   r"( ?(Z|UTC|[+-]\d{2}(:?\d{2})?))?$")
#: The texts DuckDB casts to DOUBLE (decimal notation, exponent, inf and nan).
_DUCK_DOUBLE = r"^\s*[+-]?((\d+(_\d+)*\.?(\d+(_\d+)*)?|\.\d+(_\d+)*)([eE][+-]?\d+)?|(?i:inf|infinity|nan))\s*$"


def _guarded_cast(node: exp.TryCast) -> exp.Expr | None:
    stamps = (exp.DataType.Type.TIMESTAMP, exp.DataType.Type.TIMESTAMPNTZ)
    kind = node.to.this if isinstance(node.to, exp.DataType) else None
    if kind != exp.DataType.Type.DOUBLE and kind not in stamps:
        return None
    src = node.this
    if isinstance(src, exp.Cast) and isinstance(src.to, exp.DataType) and src.to.this != exp.DataType.Type.VARCHAR:
        return None  # not text
    pattern = _DUCK_DOUBLE if kind == exp.DataType.Type.DOUBLE else _DUCK_TIMESTAMP
    text = src.copy().transform(_rewrite)  # the result is not rewritten again (it holds a TryCast itself)
    cast: exp.Expr = node.copy()
    # DuckDB reads digits grouped by underscores ('1_000'); Spark does not.
    cast.set("this", exp.func("replace", text.copy(), exp.Literal.string("_"), exp.Literal.string("")))
    if kind in stamps:
        # DuckDB applies an offset when casting to TIMESTAMP (as UTC) and reads '/' as '-'; a text without an
        # offset is a wall-clock time, which the UTC session reads unchanged as an instant.
        cast.set("this", exp.func("replace", text.copy(), exp.Literal.string("/"), exp.Literal.string("-")))
        cast.set("to", exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))
        cast = exp.Cast(this=cast, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark"))
    guard = exp.RegexpLike(this=text, expression=exp.Literal.string(pattern))
    return exp.Case(ifs=[exp.If(this=guard, true=cast)])


def _rewrite(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Literal) and not node.is_string:
        text = str(node.this).lower()
        if ("." in text or "e" in text) and not isinstance(node.parent, (exp.Interval, exp.Cast)):
            return exp.cast(node.copy(), "DOUBLE")
        return node
    if isinstance(node, exp.DayOfWeekIso):
        return _deep(exp.Paren(this=exp.Add(this=exp.func("weekday", node.this), expression=exp.Literal.number(1))))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "to_microseconds":
        arg = node.expressions[0]
        inner = arg.this if isinstance(arg, exp.Cast) else arg
        if isinstance(inner, exp.Literal) and not inner.is_string:
            return exp.Interval(this=exp.Literal.string(str(int(float(inner.this)))), unit=exp.var("MICROSECOND"))
        micro = exp.Interval(this=exp.Literal.string("0.000001"), unit=exp.var("SECOND"))
        return _deep(exp.Paren(this=exp.Mul(this=exp.Paren(this=arg.copy()), expression=micro)))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() in ("try_strptime", "strptime"):
        text, fmts = node.expressions
        instant = any(z in f for f in _formats(fmts) for z in ZONE_DIRECTIVES)
        if instant and not all(any(z in f for z in ZONE_DIRECTIVES) for f in _formats(fmts)):
            raise ValueError("try_strptime mixes zone-aware and local formats: split them (as data/mapping.py does)")
        return _deep(_strptime(text, _formats(fmts), instant=instant))
    if isinstance(node, exp.StrToTime):  # strptime(s, 'fmt') with one format
        fmt = node.args["format"]
        return _deep(_strptime(node.this, _formats(fmt), instant=any(z in str(fmt.this) for z in ZONE_DIRECTIVES)))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "timezone" and len(node.expressions) == 2:
        zone, instant = node.expressions
        local = exp.func("from_utc_timestamp", instant.copy(), zone.copy())
        return _deep(exp.Cast(this=local, to=exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")))
    if isinstance(node, (exp.Cast, exp.TryCast)) and isinstance(node.to, exp.DataType) \
            and node.to.this == exp.DataType.Type.TIMESTAMPTZ:
        node.set("to", exp.DataType.build("TIMESTAMP_LTZ", dialect="spark"))
        return _deep(node)
    if isinstance(node, exp.TryCast):
        guarded = _guarded_cast(node)
        return node if guarded is None else guarded
    if isinstance(node, exp.RegexpFullMatch):
        pat = node.expression
        whole = (exp.Literal.string("^(?:" + str(pat.this) + r")\z") if isinstance(pat, exp.Literal)
                 else exp.func("concat", exp.Literal.string("^(?:"), pat.copy(), exp.Literal.string(r")\z")))
        return _deep(exp.RegexpLike(this=node.this.copy(), expression=whole))
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "to_json" and len(node.expressions) == 1:
        keep_nulls = exp.Anonymous(this="map", expressions=[exp.Literal.string("ignoreNullFields"), exp.Literal.string("false")])
        return _deep(exp.func("to_json", node.expressions[0].copy(), keep_nulls))
    if isinstance(node, exp.PercentileCont) and node.args.get("expression") is not None:
        return _deep(exp.func("percentile", node.this, node.expression))
    if isinstance(node, exp.First) and isinstance(node.this, exp.Order):
        return _deep(exp.func("min_by", node.this.this, _order_struct(node.this)))
    if isinstance(node, (exp.Min, exp.Max)) and isinstance(node.this, exp.Order):
        node.set("this", node.this.this)  # the minimum does not depend on the order it is met in
        return node
    if isinstance(node, exp.CurrentSchema):
        return exp.Literal.string(SCHEMA)
    if isinstance(node, exp.Table):
        if isinstance(node.this, exp.GenerateSeries):
            gs = node.this
            alias = node.args.get("alias")
            name = alias.name if alias else "_series"
            cols = alias.columns if alias else []
            col = cols[0].name if cols else "generate_series"
            seq = exp.func("sequence", gs.args["start"], gs.args["end"], gs.args["step"])
            return _deep(exp.select(exp.alias_(exp.func("explode", seq), col)).subquery(name))
        if node.db.lower() == "information_schema":
            view = {"tables": INFO_TABLES, "columns": INFO_COLUMNS}.get(node.name.lower())
            if view is None:
                raise ValueError(f"information_schema.{node.name} is not available on Spark")
            return exp.table_(view, alias=node.alias or node.name)
    return node


def spark_statement(tree: exp.Expr) -> str:
    """Spark SQL of one parsed (and bound) DuckDB statement."""
    return tree.transform(_rewrite).sql(dialect="spark")


def to_spark(sql: str, params: Sequence[Any] | None = None) -> list[str]:
    """Spark SQL statements equivalent to the DuckDB SQL ``sql`` (with ``?`` bound to ``params``)."""
    return [spark_statement(bind_params(t, params)) for t in parse_duckdb(sql)]
