"""XmR process behaviour charts (individuals and moving range) with Wheeler's detection rules.

Domain brief §4 (SPC): centre line = mean of the individual values; moving range mR_i = |x_i - x_{i-1}|;
natural process limits = mean ± 2.66·mR̄; upper range limit = 3.268·mR̄ (σ̂ = mR̄/1.128, so 2.66 = 3/1.128
and 3.268 = D4 for n = 2).

Detection rules (Wheeler, *Understanding Variation* / *Making Sense of Data*):

1. a single point outside the natural process limits;
2. three out of four successive values closer to the same limit than to the centre line, i.e. beyond the
   half-way line centre ± 1.33·mR̄ (= 1.5σ̂) on the same side;
3. eight successive values on the same side of the centre line (a value exactly on it breaks the run).

(The NHS "Making Data Count" variant uses 2-of-3 beyond 2σ and 4-of-5 beyond 1σ; those are *not*
implemented here.)  Each signal is reported at the point that completes the pattern, once per rule.

Known events (``annotations``) split the series into segments and the limits are recalculated per
segment, so a known step change (annual billing, a bin-round change) is not reported as a signal.  For a
recurring event (e.g. annual billing every March) list one date per year, e.g. with :func:`annual_events`.
A segment with fewer than 2 points has no limits; fewer than 6 gives a note (limits are still drawn).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

import numpy as np
import pandas as pd

from cxchain.errors import CxchainError

#: 3 / d2 for subgroups of 2 (d2 = 1.128): natural process limits are mean ± NPL·mR̄.
NPL = 2.66
#: D4 for subgroups of 2: upper range limit is URL·mR̄.
URL = 3.268
#: Shortest segment for which limits are reasonably "useful" (Wheeler: from 5-6 points).
MIN_USEFUL_POINTS = 6

RULES = {
    1: "a point outside the natural process limits",
    2: "three of four successive values closer to the same limit than to the centre line",
    3: "eight successive values on the same side of the centre line",
}


@dataclass(frozen=True)
class Signal:
    """One detection-rule hit, reported at the point that completes the pattern."""

    rule: int  # 1, 2 or 3 (see RULES)
    index: int  # position in the series
    date: date | None
    direction: Literal["up", "down"]
    value: float
    first_index: int  # first point of the pattern (== index for rule 1)
    segment: int

    @property
    def description(self) -> str:
        return RULES[self.rule]


@dataclass(frozen=True)
class Segment:
    """A stretch of the series between known events, with its own limits."""

    start: int  # inclusive position
    stop: int  # exclusive position
    label: str | None  # the annotation that starts it (None for the first segment)
    centre: float
    mr_bar: float
    lower: float
    upper: float
    url: float
    baseline_points: int

    @property
    def sigma(self) -> float:
        return self.mr_bar / 1.128


@dataclass(frozen=True)
class XmRResult:
    """An XmR chart: values, moving ranges, per-segment limits, signals and notes."""

    values: np.ndarray
    moving_ranges: np.ndarray  # NaN at the start of each segment
    dates: list[date] | None
    segments: list[Segment]
    signals: list[Signal]
    notes: list[str] = field(default_factory=list)

    def limits(self) -> pd.DataFrame:
        """One row per point: value, mR, centre, lower, upper, url, segment."""
        rows = []
        for k, s in enumerate(self.segments):
            for i in range(s.start, s.stop):
                rows.append(
                    {
                        "index": i,
                        "date": self.dates[i] if self.dates else None,
                        "value": float(self.values[i]),
                        "moving_range": float(self.moving_ranges[i]),
                        "centre": s.centre,
                        "lower": s.lower,
                        "upper": s.upper,
                        "url": s.url,
                        "segment": k,
                    }
                )
        return pd.DataFrame(rows)

    def signals_for(self, rule: int | None = None) -> list[Signal]:
        return [s for s in self.signals if rule is None or s.rule == rule]


def _as_date(d: Any) -> date:
    if isinstance(d, datetime):
        return d.date()
    if isinstance(d, date):
        return d
    return pd.Timestamp(d).date()


def annual_events(label: str, month: int, day: int, years: Iterable[int]) -> list[tuple[date, str]]:
    """A recurring annual event as annotations.

    ``annual_events("annual billing", 3, 1, range(2022, 2026))`` lists 1 March of each year.
    """
    return [(date(y, month, day), label) for y in years]


def _segment_limits(x: np.ndarray, base: np.ndarray) -> tuple[float, float]:
    centre = float(np.mean(base))
    mr = np.abs(np.diff(base))
    return centre, float(np.mean(mr)) if len(mr) else float("nan")


def _baseline_slice(baseline: slice | int | None, length: int) -> slice:
    if baseline is None:
        return slice(0, length)
    if isinstance(baseline, int):
        if baseline < 2:
            raise CxchainError("An XmR baseline needs at least 2 points.")
        return slice(0, min(baseline, length))
    if isinstance(baseline, slice):
        return baseline
    raise CxchainError(f"baseline must be a slice, an int or None, not {type(baseline).__name__}.")


def _rule_hits(x: np.ndarray, centre: float, lower: float, upper: float) -> list[tuple[int, int, int, int]]:
    """(rule, index, first_index, sign) hits within one segment (positions relative to the segment)."""
    hits: list[tuple[int, int, int, int]] = []
    if not np.isfinite(upper):
        return hits
    n = len(x)
    # Rule 1
    for i in np.flatnonzero(x > upper):
        hits.append((1, int(i), int(i), 1))
    for i in np.flatnonzero(x < lower):
        hits.append((1, int(i), int(i), -1))
    # Rule 2: 3 of 4 successive beyond the half-way line, same side
    hi_mid, lo_mid = (centre + upper) / 2, (centre + lower) / 2
    above, below = (x > hi_mid).astype(int), (x < lo_mid).astype(int)
    if n >= 4:
        ka = np.convolve(above, np.ones(4, dtype=int), "valid")
        kb = np.convolve(below, np.ones(4, dtype=int), "valid")
        for j in np.flatnonzero(ka >= 3):
            hits.append((2, int(j) + 3, int(j), 1))
        for j in np.flatnonzero(kb >= 3):
            hits.append((2, int(j) + 3, int(j), -1))
    # Rule 3: 8 successive on the same side (points on the centre line break a run)
    side = [int(v) for v in np.sign(x - centre)]
    run = 0
    for pos in range(n):
        same = pos > 0 and side[pos] != 0 and side[pos] == side[pos - 1]
        run = run + 1 if same else (1 if side[pos] != 0 else 0)
        if run >= 8:
            hits.append((3, pos, pos - 7, side[pos]))
    return hits


def xmr(
    values: Sequence[float] | np.ndarray | pd.Series,
    *,
    dates: Sequence[Any] | None = None,
    baseline: slice | int | None = None,
    annotations: Iterable[tuple[Any, str]] = (),
) -> XmRResult:
    """An XmR chart of ``values`` (in time order) with Wheeler's rules 1-3.

    ``dates``: one per value (needed for annotations).  ``baseline``: which points compute the limits,
    *within each segment* - an int ``k`` means the first ``k`` points of the segment, a slice is applied
    to the segment's points; ``None`` uses every point of the segment.  The limits then apply to the whole
    segment (so "limits from the pre-period, signals in the post-period" is ``baseline=n_pre`` without
    annotations).  ``annotations``: ``(date, label)`` known events; each starts a new segment at the first
    point dated on or after it, with limits recalculated.  Missing values are not allowed (drop them or
    fill them first - an XmR chart is about successive values).
    """
    x = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(x)):
        raise CxchainError("XmR values must all be finite numbers; drop or fill the missing weeks first.")
    if len(x) < 2:
        raise CxchainError("An XmR chart needs at least 2 values.")
    dts: list[date] | None = None
    if dates is not None:
        dts = [_as_date(d) for d in dates]
        if len(dts) != len(x):
            raise CxchainError(f"{len(x)} values but {len(dts)} dates.")
        if any(b < a for a, b in zip(dts, dts[1:], strict=False)):
            raise CxchainError("XmR dates must be in ascending order.")
    events = sorted((_as_date(d), str(lbl)) for d, lbl in annotations)
    notes: list[str] = []
    cuts: list[tuple[int, str | None]] = [(0, None)]
    if events:
        if dts is None:
            raise CxchainError("Annotations need dates for the values.")
        for d, lbl in events:
            pos = next((i for i, v in enumerate(dts) if v >= d), None)
            if pos is None or pos == 0:
                continue  # before the first or after the last point: nothing to split
            if pos == cuts[-1][0]:
                cuts[-1] = (pos, f"{cuts[-1][1]}; {lbl}")
            else:
                cuts.append((pos, lbl))
    bounds = [c[0] for c in cuts] + [len(x)]
    mrs = np.full(len(x), np.nan)
    segments: list[Segment] = []
    signals: list[Signal] = []
    for k, (start, label) in enumerate(cuts):
        stop = bounds[k + 1]
        seg = x[start:stop]
        mrs[start + 1 : stop] = np.abs(np.diff(seg))
        base = seg[_baseline_slice(baseline, len(seg))]
        if len(base) < 2:
            centre, mr_bar = (float(seg.mean()), float("nan"))
            notes.append(f"Segment {k} ({label or 'start'}) has fewer than 2 baseline points: no limits.")
        else:
            centre, mr_bar = _segment_limits(seg, base)
            if len(base) < MIN_USEFUL_POINTS:
                notes.append(
                    f"Segment {k} ({label or 'start'}) has limits from only {len(base)} points; "
                    "treat them as provisional."
                )
        lower, upper = centre - NPL * mr_bar, centre + NPL * mr_bar
        segments.append(Segment(start, stop, label, centre, mr_bar, lower, upper, URL * mr_bar, len(base)))
        for rule, i, first, sign in _rule_hits(seg, centre, lower, upper):
            signals.append(
                Signal(
                    rule=rule,
                    index=start + i,
                    date=dts[start + i] if dts else None,
                    direction="up" if sign > 0 else "down",
                    value=float(seg[i]),
                    first_index=start + first,
                    segment=k,
                )
            )
    signals.sort(key=lambda s: (s.index, s.rule))
    return XmRResult(values=x, moving_ranges=mrs, dates=dts, segments=segments, signals=signals, notes=notes)


def weekly_series(con: Any, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
    """Run ``sql`` (returning ``week`` and ``value`` columns, optionally ``n``) on a DuckDB connection.

    Returns a DataFrame sorted by week with missing weeks filled with 0 for counts (``n`` absent) - a week
    with no rows usually means no contacts - and left out where ``n`` is present (no denominator, no rate).
    """
    df = con.execute(sql, params or []).df()
    if not {"week", "value"} <= set(df.columns):
        raise CxchainError("weekly_series SQL must return columns 'week' and 'value'.")
    df["week"] = pd.to_datetime(df["week"])
    df = df.sort_values("week").reset_index(drop=True)
    if "n" not in df.columns and len(df):
        full = pd.date_range(df["week"].min(), df["week"].max(), freq="7D")
        df = df.set_index("week").reindex(full, fill_value=0).rename_axis("week").reset_index()
    return df
