"""Compile metric specs to SQL, run them, and drill down to the records behind a number.

The conventions a metric depends on live in workspace settings (``metrics.*``, ``costs.*``, ``as_of``); they are
substituted into the spec's SQL here.  Every result row records the spec id, the spec ``version``, the workspace
``metrics.version`` and the convention values used (``conventions``), so results computed under different
definitions can always be told apart.

    >>> rows = compute(con, "repeat_rate", settings.values, by=["reason_group"], period="month")  # doctest: +SKIP

Small numbers: a row whose denominator ``n`` is below ``metrics.small_number`` keeps its slice and ``n`` but gets
``value`` (and numerator / CI) None and ``suppressed`` True; rows are never dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import duckdb

from ..settings import SETTINGS, Settings
from .registry import MetricSpec, get_spec

__all__ = ["compile_metric", "compute", "drilldown", "resolve_settings", "conventions_of", "source_sql",
           "SLICE_COLUMNS", "PERIODS"]

#: Slice columns offered for ``by`` (any column of the metric's fact table is accepted).
SLICE_COLUMNS = ("reason_id", "reason_group", "channel", "queue", "team", "segment", "property_ref", "week", "month",
                 "stage", "business_area", "category", "case_type")
PERIODS = ("week", "month")
_OUT = ("value", "n", "numerator", "ci_low", "ci_high", "censored", "exposure_basis")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.]+)\}")
_CHOICES = {s.key: s.choices for s in SETTINGS if s.choices}
_COST_KEYS = tuple(s.key for s in SETTINGS if s.key.startswith("costs.") and s.key != "costs.per_handling_minute")


def resolve_settings(settings_values: Mapping[str, Any] | Settings | None) -> dict[str, Any]:
    """Every setting: declared defaults overlaid with ``settings_values`` (a dict or a :class:`Settings`)."""
    values = {s.key: s.default for s in SETTINGS}
    if isinstance(settings_values, Settings):
        values.update(settings_values.values)
    elif settings_values:
        values.update(settings_values)
    for key, choices in _CHOICES.items():
        if values[key] not in choices:
            raise ValueError(f"setting {key} = {values[key]!r} is not one of {', '.join(map(str, choices))}")
    return values


def store_conventions(con: Any, conv: dict[str, Any]) -> dict[str, Any]:
    """``conv`` as the store at ``con`` can compute it.

    A store built before ``contact_fact`` carried each contact's issue (cxchain's metrics version 1) cannot
    match follow-ups to their issue: its results are computed, and labelled, with
    ``metrics.repeat_follow_ups = 'own'`` until the next ``cxchain run`` rebuilds the facts.
    """
    if conv.get("metrics.repeat_follow_ups") != "issue":
        return conv
    have = con.execute("SELECT count(*) FROM information_schema.columns WHERE table_name = 'contact_fact' "
                       "AND column_name = 'issue_reason_id'").fetchall()[0][0]
    return conv if have else {**conv, "metrics.repeat_follow_ups": "own"}


def conventions_of(spec: MetricSpec, conv: Mapping[str, Any]) -> dict[str, Any]:
    """The convention values a result of ``spec`` was computed under (its settings, constants, version)."""
    out: dict[str, Any] = {}
    for key in spec.settings:
        if key.endswith(".*"):
            prefix = key[:-1]
            out.update({k: conv[k] for k in _COST_KEYS if k.startswith(prefix)})
        else:
            out[key] = conv.get(key)
    out.update(dict(spec.constants))
    out["metrics.small_number"] = conv["metrics.small_number"]
    out["metrics.version"] = conv["metrics.version"]
    return out


def _literal(v: Any) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"not a finite number: {v!r}")
        return repr(v)
    if isinstance(v, datetime):
        return f"TIMESTAMP '{v.isoformat(sep=' ')}'"
    if isinstance(v, date):
        return f"DATE '{v.isoformat()}'"
    return "'" + str(v).replace("'", "''") + "'"


def _num(conv: Mapping[str, Any], key: str) -> float:
    v = conv[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"setting {key} must be a number, not {v!r}")
    return float(v)


def _interval(seconds: float) -> str:
    return f"to_microseconds(CAST({round(seconds * 1e6)} AS BIGINT))"


def _cost_case(conv: Mapping[str, Any], i: int) -> str:
    whens = " ".join(f"WHEN {_literal(k.split('.', 1)[1])} THEN {float(conv[k][i])!r}" for k in _COST_KEYS)
    return f"(CASE channel {whens} END)"


def _subst(template: str, conv: Mapping[str, Any]) -> str:
    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key == "cost_low":
            return _cost_case(conv, 0)
        if key == "cost_high":
            return _cost_case(conv, 1)
        if key not in conv:
            raise KeyError(f"unknown setting ${{{key}}} in a metric spec")
        return _literal(conv[key])
    return _PLACEHOLDER.sub(one, template)


def _reason_key(conv: Mapping[str, Any], alias: str = "") -> str:
    """The issue a contact is about, for repeat linkage (metrics.repeat_same_reason, metrics.repeat_follow_ups)."""
    mode = conv["metrics.repeat_same_reason"]
    if mode == "any":
        return "'*'"
    col = "reason_group" if mode == "group" else "reason_id"
    if conv.get("metrics.repeat_follow_ups", "own") == "issue":
        # a follow-up takes the issue of the customer's earlier contact (insight.demand.link_follow_ups);
        # issue_reason_id is NULL only where that table is absent or the contact has no reason
        col = f"CASE WHEN {alias}issue_reason_id IS NOT NULL THEN {alias}issue_{col} ELSE {alias}{col} END"
    else:
        col = alias + col
    # 'unclassified' is the classifier's explicit "no reason fits": unknown, never "the same reason".
    return f"nullif({col}, 'unclassified')"


def _data_end(conv: Mapping[str, Any]) -> str:
    """End of the observed period: the day after ``as_of`` (midnight), else the latest contact start."""
    as_of = conv.get("as_of") or ""
    if as_of:
        d = date.fromisoformat(str(as_of))
        return f"(CAST(DATE '{d.isoformat()}' AS TIMESTAMP) + INTERVAL 1 DAY)"
    return "(SELECT max(started_at) FROM contact_fact)"


def _repeat_source(conv: Mapping[str, Any]) -> str:
    win = _interval(_num(conv, "metrics.repeat_window_days") * 86400)
    gap = _interval(_num(conv, "metrics.repeat_transfer_gap_minutes") * 60)
    return f"""
        WITH base AS (SELECT *, {_reason_key(conv)} AS _rkey FROM contact_fact
                      WHERE is_first_leg AND customer_key IS NOT NULL AND started_at IS NOT NULL),
        seq AS (SELECT *, lag(interaction_ended_at) OVER w AS _prev_end,
                       lag(interaction_transferred) OVER w AS _prev_transferred
                FROM base WINDOW w AS (PARTITION BY customer_key ORDER BY started_at, record_id)),
        flag AS (SELECT * EXCLUDE (_prev_end, _prev_transferred),
                        coalesce(_prev_transferred AND started_at < _prev_end + {gap}, false) AS is_forward FROM seq),
        elig AS (SELECT * FROM flag WHERE _rkey IS NOT NULL),
        fol AS (SELECT a.record_id, count(b.record_id) > 0 AS followed
                FROM elig a LEFT JOIN elig b
                  ON b.customer_key = a.customer_key AND b._rkey = a._rkey AND NOT b.is_forward
                 AND (b.started_at > a.started_at OR (b.started_at = a.started_at AND b.record_id > a.record_id))
                 AND b.started_at <= a.started_at + {win}
                GROUP BY a.record_id)
        SELECT elig.*, fol.followed, elig.started_at + {win} > {_data_end(conv)} AS _censored
        FROM elig JOIN fol ON fol.record_id = elig.record_id"""


def _channel_issue_source(conv: Mapping[str, Any]) -> str:
    win = _interval(_num(conv, "metrics.repeat_window_days") * 86400)
    return f"""
        WITH ev AS (SELECT je.customer_key AS _ck, je.record_id AS _rid, je.occurred_at AS _at,
                           CASE WHEN je.channel = 'ivr' THEN 'phone' ELSE je.channel END AS _ch,
                           {_reason_key(conv, 'cf.')} AS _rkey
                    FROM journey_event je JOIN contact_fact cf ON cf.record_id = je.record_id
                    WHERE je.entity = 'contact' AND cf.is_first_leg AND je.channel IS NOT NULL
                      AND je.occurred_at IS NOT NULL AND je.customer_key IS NOT NULL),
        e2 AS (SELECT *, CASE WHEN lag(_at) OVER w IS NULL OR _at > lag(_at) OVER w + {win} THEN 1 ELSE 0 END AS _new
               FROM ev WHERE _rkey IS NOT NULL WINDOW w AS (PARTITION BY _ck, _rkey ORDER BY _at, _rid)),
        e3 AS (SELECT *, sum(_new) OVER (PARTITION BY _ck, _rkey ORDER BY _at, _rid ROWS UNBOUNDED PRECEDING) AS _issue
               FROM e2),
        iss AS (SELECT first(_rid ORDER BY _at, _rid) AS _first, min(_at) AS _start, count(DISTINCT _ch) >= 2 AS switched,
                       count(*) AS issue_contacts
                FROM e3 GROUP BY _ck, _rkey, _issue)
        SELECT cf.* EXCLUDE (customer_key), iss._first AS _rid_first, iss.switched, iss.issue_contacts,
               cf.customer_key, iss._start + {win} > {_data_end(conv)} AS _censored
        FROM iss JOIN contact_fact cf ON cf.record_id = iss._first"""


def source_sql(spec: MetricSpec, conv: Mapping[str, Any]) -> str:
    """The SELECT giving the rows ``spec`` aggregates (its fact table, or a derived source)."""
    if spec.derived == "repeat":
        return _repeat_source(conv)
    if spec.derived == "channel_issue":
        return _channel_issue_source(conv)
    if spec.derived is not None:
        raise ValueError(f"unknown derived source {spec.derived!r}")
    return f'SELECT * FROM "{spec.fact}"'


def _check_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"not a column name: {name!r}")
    return name


def _by(by: Sequence[str], period: str | None) -> list[str]:
    cols = [_check_ident(c) for c in by]
    if period is not None:
        if period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}, not {period!r}")
        if period not in cols:
            cols.append(period)
    return cols


def _rows_sql(spec: MetricSpec, conv: Mapping[str, Any], where: str | None) -> str:
    pop = _subst(spec.population, conv)
    censor = spec.derived is not None
    if censor:
        pop = f"({pop}) AND NOT _censored"
    num = _subst(spec.numerator, conv) if spec.numerator else "NULL"
    measure = spec.measure or ("nps" if spec.aggregate == "nps" else None)
    x = _subst(measure, conv) if measure else "NULL"
    return (f"SELECT *, coalesce(({pop}), false) AS _pop, coalesce(({num}), false) AS _num, ({x}) AS _x "
            f"FROM ({source_sql(spec, conv)}) _src WHERE {where or 'TRUE'}")


def _per_customer(spec: MetricSpec, conv: Mapping[str, Any]) -> bool:
    return spec.denominator_setting is not None and conv.get(spec.denominator_setting) == "customer"


def _aggregates(spec: MetricSpec, conv: Mapping[str, Any]) -> dict[str, str]:
    """SQL of each output column over the rows of one slice."""
    agg: dict[str, str] = dict.fromkeys(_OUT, "NULL")
    pop = "FILTER (WHERE _pop)"
    a = spec.aggregate
    if a == "count":
        agg["n"] = f"count(*) {pop}"
        agg["value"] = f"CAST(count(*) {pop} AS DOUBLE)"
    elif a == "share":
        if _per_customer(spec, conv):
            agg["n"] = f"count(DISTINCT customer_key) {pop}"
            agg["numerator"] = "count(DISTINCT customer_key) FILTER (WHERE _pop AND _num)"
        else:
            agg["n"] = f"count(*) {pop}"
            agg["numerator"] = "count(*) FILTER (WHERE _pop AND _num)"
        agg["value"] = f"CAST({agg['numerator']} AS DOUBLE) / nullif({agg['n']}, 0)"
    elif a == "mean":
        agg["n"] = f"count(_x) {pop}"
        agg["value"] = f"avg(_x) {pop}"
    elif a == "quantile":
        q = spec.quantile if spec.quantile is not None else 0.5
        agg["n"] = f"count(_x) {pop}"
        agg["value"] = f"quantile_cont(_x, {float(q)!r}) {pop}"
    elif a == "sum":
        agg["n"] = f"count(*) {pop}"
        agg["value"] = f"CASE WHEN count(*) {pop} > 0 THEN coalesce(sum(_x) {pop}, 0) END"
    elif a == "nps":
        n = f"count(_x) {pop}"
        p = f"(CAST(count(*) FILTER (WHERE _pop AND _x >= 9) AS DOUBLE) / nullif({n}, 0))"
        d = f"(CAST(count(*) FILTER (WHERE _pop AND _x <= 6) AS DOUBLE) / nullif({n}, 0))"
        half = f"1.959963984540054 * sqrt(greatest(0, 10000 * ({p} + {d} - ({p} - {d}) ^ 2) / nullif({n}, 0)))"
        agg["n"] = n
        agg["numerator"] = "count(*) FILTER (WHERE _pop AND _x >= 9) - count(*) FILTER (WHERE _pop AND _x <= 6)"
        agg["value"] = f"100 * ({p} - {d})"
        agg["ci_low"] = f"100 * ({p} - {d}) - {half}"
        agg["ci_high"] = f"100 * ({p} - {d}) + {half}"
    elif a == "rate_per_1000":
        exposure = "(SELECT coalesce(max(homes), max(customers)) FROM homes)"
        agg["n"] = exposure
        agg["numerator"] = f"count(*) {pop}"
        agg["value"] = f"1000.0 * count(*) {pop} / nullif({exposure}, 0)"
        agg["exposure_basis"] = "(SELECT CASE WHEN max(homes) IS NOT NULL THEN 'homes' ELSE 'customers' END FROM homes)"
    else:  # pragma: no cover - Literal exhausts the cases
        raise ValueError(f"unknown aggregate {a!r}")
    if spec.derived is not None:
        agg["censored"] = "count(*) FILTER (WHERE _censored)"
    return agg


def compile_metric(spec: MetricSpec, settings_values: Mapping[str, Any] | Settings | None, *,
                   by: Sequence[str] = (), where: str | None = None, period: str | None = None) -> str:
    """SQL computing ``spec`` under ``settings_values``, one row per slice.

    Columns: the ``by`` columns (plus ``period``: 'week' or 'month'), then ``value``, ``n`` (denominator),
    ``numerator``, ``ci_low``, ``ci_high``, ``censored`` and ``exposure_basis`` (NULL where not meaningful).
    ``where`` is a trusted SQL predicate over the fact table's columns.  No suppression is applied here.
    """
    conv = resolve_settings(settings_values)
    cols = _by(by, period)
    agg = _aggregates(spec, conv)
    sel = [f'"{c}"' for c in cols] + [f"{expr} AS {name}" for name, expr in agg.items()]
    group = ""
    if cols:
        quoted = [f'"{c}"' for c in cols]
        group = f" GROUP BY {', '.join(quoted)} ORDER BY {', '.join(q + ' NULLS LAST' for q in quoted)}"
    return f"WITH _rows AS ({_rows_sql(spec, conv, where)})\nSELECT {', '.join(sel)} FROM _rows{group}"


def _filters_sql(filters: Mapping[str, Any] | None) -> str | None:
    if not filters:
        return None
    parts = []
    for col, v in filters.items():
        c = f'"{_check_ident(col)}"'
        if v is None:
            parts.append(f"{c} IS NULL")
        elif isinstance(v, (list, tuple, set, frozenset)):
            vals = list(v)
            parts.append(f"{c} IN ({', '.join(_literal(x) for x in vals)})" if vals else "FALSE")
        else:
            parts.append(f"{c} = {_literal(v)}")
    return " AND ".join(parts)


def _source_columns(con: duckdb.DuckDBPyConnection, spec: MetricSpec, conv: Mapping[str, Any]) -> list[str]:
    cur = con.execute(f"SELECT * FROM ({source_sql(spec, conv)}) _s LIMIT 0")
    return [str(d[0]) for d in cur.description or []]


def _check_columns(con: duckdb.DuckDBPyConnection, spec: MetricSpec, conv: Mapping[str, Any],
                   cols: Sequence[str]) -> None:
    have = set(_source_columns(con, spec, conv))
    missing = [c for c in cols if c not in have]
    if missing:
        usable = sorted(c for c in have if not c.startswith("_"))
        raise ValueError(f"metric {spec.id} reads {spec.fact}, which has no column {', '.join(missing)}; "
                         f"columns: {', '.join(usable)}")


def compute(con: duckdb.DuckDBPyConnection, metric_id: str, settings_values: Mapping[str, Any] | Settings | None,
            *, by: Sequence[str] = (), filters: Mapping[str, Any] | None = None,
            period: str | None = None) -> list[dict[str, Any]]:
    """Run ``metric_id`` over the fact tables (see :func:`cxchain.metrics.facts.build_facts`).

    Returns one dict per slice with the slice columns, ``value``, ``n``, ``numerator`` (shares, NPS net count,
    rates), ``ci_low``/``ci_high`` (NPS), ``censored`` (repeat and channel switching), ``exposure_basis``
    (complaint rate), ``suppressed``, and provenance: ``metric``, ``version``, ``unit``, ``higher_is_better``,
    ``conventions``.
    """
    spec = get_spec(metric_id)
    conv = store_conventions(con, resolve_settings(settings_values))
    cols = _by(by, period)
    _check_columns(con, spec, conv, [*cols, *(filters or {})])
    sql = compile_metric(spec, conv, by=cols, where=_filters_sql(filters))
    cur = con.execute(sql)
    names = [str(d[0]) for d in cur.description or []]
    small = _num(conv, "metrics.small_number")
    conventions = conventions_of(spec, conv)
    hib = spec.is_higher_better(conv)
    out: list[dict[str, Any]] = []
    for raw in cur.fetchall():
        rec = dict(zip(names, raw, strict=True))
        row: dict[str, Any] = {"metric": spec.id, "version": spec.version, "unit": spec.unit}
        row.update({c: rec[c] for c in cols})
        n = int(rec["n"]) if rec["n"] is not None else 0
        value = None if rec["value"] is None else float(rec["value"])
        row.update(value=value, n=n)
        if spec.aggregate in ("share", "nps", "rate_per_1000"):
            row["numerator"] = None if rec["numerator"] is None else int(rec["numerator"])
        if spec.aggregate == "nps":
            row["ci_low"] = None if rec["ci_low"] is None else float(rec["ci_low"])
            row["ci_high"] = None if rec["ci_high"] is None else float(rec["ci_high"])
        if spec.derived is not None:
            row["censored"] = int(rec["censored"] or 0)
        if spec.aggregate == "rate_per_1000":
            row["exposure_basis"] = rec["exposure_basis"]
        row["suppressed"] = n < small
        if row["suppressed"]:
            for k in ("value", "numerator", "ci_low", "ci_high"):
                if k in row:
                    row[k] = None
        row["higher_is_better"] = hib
        row["conventions"] = dict(conventions)
        out.append(row)
    return out


def drilldown(con: duckdb.DuckDBPyConnection, metric_id: str,
              settings_values: Mapping[str, Any] | Settings | None,
              filters: Mapping[str, Any] | None = None) -> list[str]:
    """Record ids behind the number of ``metric_id`` for the slice given by ``filters``.

    For most metrics these are the records of the denominator, so ``len(drilldown(...)) == n``.  Per-customer
    repeat rate gives one record (the earliest) per customer counted.  Complaints per 1,000 give the complaint
    records (the numerator), since the denominator is an exposure (homes / customers), not records.
    """
    spec = get_spec(metric_id)
    conv = store_conventions(con, resolve_settings(settings_values))
    _check_columns(con, spec, conv, list(filters or {}))
    rows = _rows_sql(spec, conv, _filters_sql(filters))
    cond = "_pop"
    if spec.aggregate in ("mean", "quantile", "nps"):
        cond += " AND _x IS NOT NULL"
    if spec.drill == "numerator":
        cond += " AND _num" if spec.aggregate != "rate_per_1000" else ""
    if spec.aggregate == "share" and _per_customer(spec, conv):
        sql = (f"WITH _rows AS ({rows}) SELECT min(record_id ORDER BY started_at, record_id) FROM _rows "
               f"WHERE {cond} GROUP BY customer_key ORDER BY 1")
    else:
        sql = f"WITH _rows AS ({rows}) SELECT record_id FROM _rows WHERE {cond} ORDER BY record_id"
    return [str(r[0]) for r in con.execute(sql).fetchall()]
