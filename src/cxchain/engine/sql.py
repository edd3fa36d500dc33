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
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

import sqlglot
from sqlglot import exp

__all__ = ["to_spark", "parse_duckdb", "bind_params", "spark_statement", "INFO_TABLES", "INFO_COLUMNS", "SCHEMA"]

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
        if isinstance(arg, exp.Cast):
            arg = arg.this
        if not (isinstance(arg, exp.Literal) and not arg.is_string):
            raise ValueError("to_microseconds needs a literal number of microseconds on Spark")
        return exp.Interval(this=exp.Literal.string(str(int(float(arg.this)))), unit=exp.var("MICROSECOND"))
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
