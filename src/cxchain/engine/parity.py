"""Do two engines give the same answers?  Table and metric comparisons for the parity test and benchmark.

Equal means: the same columns, the same rows (order aside), equal values, floats within ``tol``
(absolute or relative, 1e-9 by default: sums of doubles are added in a different order on Spark).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..metrics.compile import _source_columns, compute, drilldown, resolve_settings
from ..metrics.registry import REGISTRY

__all__ = ["diff_tables", "diff_metrics", "metric_cases", "same_value", "TOL"]

TOL = 1e-9
#: Slice columns tried for each metric, first present wins (one grouped case per metric).
_SLICES = ("reason_group", "stage", "case_type", "channel")


def same_value(a: Any, b: Any, tol: float = TOL) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (float, Decimal)) or isinstance(b, (float, Decimal)):
        if isinstance(a, bool) or isinstance(b, bool):
            return False
        fa, fb = float(a), float(b)
        if math.isnan(fa) or math.isnan(fb):
            return math.isnan(fa) and math.isnan(fb)
        return math.isclose(fa, fb, rel_tol=tol, abs_tol=tol)
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a.replace(tzinfo=None) == b.replace(tzinfo=None)
    if isinstance(a, date) != isinstance(b, date):
        return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y, tol) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], tol) for k in a)
    if isinstance(a, str) and isinstance(b, str) and a != b and a[:1] in "{[" and b[:1] in "{[":
        # JSON documents (a finding's body) hold floats too: a sum taken in another order on another
        # engine may differ in its last digit, within the tolerance.
        try:
            return same_value(json.loads(a), json.loads(b), tol)
        except ValueError:
            return False
    return bool(a == b)


def _sort_key(row: Sequence[Any]) -> tuple[Any, ...]:
    # Floats are left out of the key: a last-digit difference must not reorder otherwise equal rows.
    return tuple((v is None, "" if v is None or isinstance(v, float) else str(v)) for v in row)


def _rows(con: Any, table: str, ignore: Sequence[str] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
    star = "*" if not ignore else "* EXCLUDE (" + ", ".join(f'"{c}"' for c in ignore) + ")"
    cur = con.execute(f'SELECT {star} FROM "{table}"')
    cols = [str(d[0]) for d in cur.description or []]
    return cols, sorted((tuple(r) for r in cur.fetchall()), key=_sort_key)


def diff_tables(a: Any, b: Any, table: str, *, tol: float = TOL, limit: int = 5,
                ignore: Sequence[str] = ()) -> list[str]:
    """Differences between ``table`` on connection ``a`` and on ``b`` (empty when they agree), leaving out
    the ``ignore`` columns."""
    ca, ra = _rows(a, table, ignore)
    cb, rb = _rows(b, table, ignore)
    if ca != cb:
        return [f"{table}: columns differ: {ca} vs {cb}"]
    if len(ra) != len(rb):
        return [f"{table}: {len(ra)} rows vs {len(rb)}"]
    out: list[str] = []
    for i, (x, y) in enumerate(zip(ra, rb, strict=True)):
        for col, u, v in zip(ca, x, y, strict=True):
            if not same_value(u, v, tol):
                out.append(f"{table} row {i} ({ca[0]}={x[0]!r}): {col} {u!r} vs {v!r}")
                if len(out) >= limit:
                    return out
    return out


def metric_cases(con: Any, settings: Mapping[str, Any]) -> list[tuple[str, tuple[str, ...], str | None]]:
    """(metric id, by, period) cases covering every registered metric: overall, by month, and by one slice."""
    conv = resolve_settings(settings)
    cases: list[tuple[str, tuple[str, ...], str | None]] = []
    for spec in REGISTRY.values():
        cases += [(spec.id, (), None), (spec.id, (), "month")]
        have = set(_source_columns(con, spec, conv))
        by = next((c for c in _SLICES if c in have), None)
        if by:
            cases.append((spec.id, (by,), None))
    return cases


def diff_metrics(a: Any, b: Any, settings: Mapping[str, Any],
                 cases: Sequence[tuple[str, tuple[str, ...], str | None]] | None = None, *,
                 tol: float = TOL, drill: bool = True) -> list[str]:
    """Differences between every metric case computed on ``a`` and on ``b`` (and their drill-downs)."""
    out: list[str] = []
    for metric, by, period in cases if cases is not None else metric_cases(a, settings):
        ra = compute(a, metric, settings, by=by, period=period)
        rb = compute(b, metric, settings, by=by, period=period)
        label = f"{metric} by {list(by)} period {period}"
        if len(ra) != len(rb):
            out.append(f"{label}: {len(ra)} rows vs {len(rb)}")
            continue
        for x, y in zip(ra, rb, strict=True):
            if not same_value(x, y, tol):
                out.append(f"{label}: {x} vs {y}")
                break
        if drill and not by and period is None and drilldown(a, metric, settings) != drilldown(b, metric, settings):
            out.append(f"{metric}: drill-down records differ")
    return out
