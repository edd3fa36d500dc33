"""XmR charts: limits, Wheeler's rules 1-3, annotated segments, false-alarm rates."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from cxchain.errors import CxchainError
from cxchain.insight.trends import NPL, URL, annual_events, weekly_series, xmr


def weeks(n: int, start: date = date(2023, 1, 2)) -> list[date]:
    return [start + timedelta(weeks=i) for i in range(n)]


def test_limits_hand_computed():
    x = [10, 12, 11, 13, 12, 10, 11, 12]
    r = xmr(x)
    mr = np.abs(np.diff(x))
    seg = r.segments[0]
    assert seg.centre == pytest.approx(np.mean(x))
    assert seg.mr_bar == pytest.approx(mr.mean())
    assert seg.upper == pytest.approx(np.mean(x) + 2.66 * mr.mean())
    assert seg.lower == pytest.approx(np.mean(x) - 2.66 * mr.mean())
    assert seg.url == pytest.approx(3.268 * mr.mean())
    assert seg.sigma == pytest.approx(mr.mean() / 1.128)
    assert np.isnan(r.moving_ranges[0]) and r.moving_ranges[1] == 2
    assert (NPL, URL) == (2.66, 3.268)
    assert r.signals == []
    frame = r.limits()
    assert list(frame["segment"].unique()) == [0] and len(frame) == len(x)


def test_rule_1_outside_limits():
    x = np.r_[np.tile([10.0, 11.0], 10), 30.0, np.tile([10.0, 11.0], 5)]
    r = xmr(x, dates=weeks(len(x)))
    s1 = r.signals_for(1)
    assert [s.index for s in s1] == [20]
    assert s1[0].direction == "up" and s1[0].date == weeks(len(x))[20]
    assert "outside" in s1[0].description


def test_rule_2_three_of_four_beyond_half_way():
    base = np.tile([10.0, 12.0], 10)  # centre ~11, mR̄ 2 -> limits ±5.3, half-way ±2.66
    x = np.r_[base, 8.0, 7.9, 11.0, 7.9, base]
    r = xmr(x, baseline=20)
    s2 = r.signals_for(2)
    assert s2, "three of four values below the half-way line should signal"
    assert all(s.direction == "down" for s in s2)
    assert s2[0].index == 23 and s2[0].first_index == 20
    assert not r.signals_for(1)


def test_rule_3_eight_on_one_side():
    x = np.r_[np.tile([12.0, 10.0], 10), [11.5] * 3, [11.4, 11.6, 11.3, 11.8, 11.2], np.tile([10.0, 12.0], 4)]
    r = xmr(x, baseline=20)
    s3 = r.signals_for(3)
    assert s3 and s3[0].index == 27 and s3[0].first_index == 20 and s3[0].direction == "up"
    # a value exactly on the centre line breaks the run
    y = np.r_[[1.0, -1.0] * 10, [0.5] * 4, [0.0], [0.5] * 4]
    assert not xmr(y, baseline=20).signals_for(3)


def test_false_alarm_rates_on_stable_normal_data():
    """Rule 1 false alarms per point ≈ 0.27% (3σ); rules 2 and 3 stay rare."""
    rng = np.random.default_rng(2024)
    counts = {1: 0, 2: 0, 3: 0}
    n_series, length = 1000, 100
    for _ in range(n_series):
        r = xmr(rng.normal(50, 5, size=length))
        for s in r.signals:
            counts[s.rule] += 1
    points = n_series * length
    rate1 = counts[1] / points
    assert 0.0015 <= rate1 <= 0.0045, rate1
    assert counts[2] / points < 0.006
    assert counts[3] / points < 0.012


def test_step_change_detected():
    rng = np.random.default_rng(1)
    hits = 0
    for _ in range(50):
        x = np.r_[rng.normal(100, 5, 26), rng.normal(112, 5, 26)]  # +2.4σ step
        r = xmr(x, baseline=26)
        after = [s for s in r.signals if s.index >= 26 and s.rule in (1, 3) and s.direction == "up"]
        hits += bool(after)
    assert hits >= 48


def test_annotated_step_change_gives_no_signal_and_new_limits():
    rng = np.random.default_rng(3)
    d = weeks(60)
    x = np.r_[rng.normal(100, 3, 30), rng.normal(140, 3, 30)]
    plain = xmr(x, dates=d)
    assert plain.signals  # an unexplained step is a signal ...
    r = xmr(x, dates=d, annotations=[(d[30], "bin round change")])
    assert len(r.segments) == 2
    assert r.segments[1].label == "bin round change" and r.segments[1].start == 30
    assert r.segments[0].centre == pytest.approx(x[:30].mean())
    assert r.segments[1].centre == pytest.approx(x[30:].mean())
    assert np.isnan(r.moving_ranges[30])  # no moving range across the break
    assert not [s for s in r.signals if s.rule in (1, 3)]  # ... an explained one is not
    frame = r.limits()
    assert frame.loc[frame["segment"] == 1, "centre"].iloc[0] == pytest.approx(x[30:].mean())


def test_recurring_annual_event_recalculates_each_year():
    d = weeks(156, start=date(2022, 1, 3))
    rng = np.random.default_rng(4)
    level = np.array([50 + 10 * (dt.year - 2022) for dt in d], dtype=float)
    march = np.array([dt >= date(dt.year, 3, 1) for dt in d])
    x = level + 15 * march + rng.normal(0, 2, len(d))  # annual billing lifts volumes from March
    events = annual_events("annual billing", 3, 1, range(2022, 2025)) + [
        (date(y, 1, 1), "new year") for y in (2023, 2024)
    ]
    r = xmr(x, dates=d, annotations=events)
    assert [s.label for s in r.segments] == [
        None,
        "annual billing",
        "new year",
        "annual billing",
        "new year",
        "annual billing",
    ]
    assert not r.signals_for(1)


def test_events_outside_range_and_same_week_merge():
    d = weeks(20)
    x = np.arange(20, dtype=float) % 3
    r = xmr(
        x,
        dates=d,
        annotations=[
            (date(2000, 1, 1), "old"),
            (date(2100, 1, 1), "future"),
            (d[10] - timedelta(days=2), "a"),
            (d[10], "b"),
        ],
    )
    assert len(r.segments) == 2 and r.segments[1].label == "a; b"


def test_short_segment_notes_and_no_limits():
    d = weeks(12)
    x = np.arange(12, dtype=float)
    r = xmr(x, dates=d, annotations=[(d[11], "last week")])
    assert any("fewer than 2" in n for n in r.notes)
    assert any("provisional" in n for n in xmr(x[:4]).notes)
    assert not [s for s in r.signals if s.segment == 1]


def test_input_errors():
    with pytest.raises(CxchainError):
        xmr([1.0])
    with pytest.raises(CxchainError):
        xmr([1.0, np.nan, 2.0])
    with pytest.raises(CxchainError):
        xmr([1.0, 2.0, 3.0], dates=weeks(2))
    with pytest.raises(CxchainError):
        xmr([1.0, 2.0, 3.0], annotations=[(date(2023, 1, 9), "x")])
    with pytest.raises(CxchainError):
        xmr([1.0, 2.0, 3.0], dates=list(reversed(weeks(3))))
    with pytest.raises(CxchainError):
        xmr([1.0, 2.0, 3.0], baseline=1)
    with pytest.raises(CxchainError):
        xmr([1.0, 2.0, 3.0], baseline="all")  # type: ignore[arg-type]


def test_baseline_slice_and_date_types():
    x = np.r_[np.zeros(10) + np.tile([0, 1], 5), np.tile([5, 6], 5)]
    r = xmr(pd.Series(x), dates=pd.date_range("2024-01-01", periods=20, freq="7D"), baseline=slice(0, 10))
    assert r.segments[0].baseline_points == 10
    assert r.segments[0].centre == pytest.approx(0.5)
    assert r.dates is not None and r.dates[0] == date(2024, 1, 1)
    assert r.signals_for(1)[0].index == 10


def test_weekly_series_fills_missing_count_weeks():
    duckdb = pytest.importorskip("duckdb")
    con = duckdb.connect()
    con.execute("CREATE TABLE c(week DATE, value INTEGER)")
    con.execute("INSERT INTO c VALUES ('2024-01-01', 5), ('2024-01-15', 7)")
    df = weekly_series(con, "SELECT week, value FROM c")
    assert list(df["value"]) == [5, 0, 7]
    with pytest.raises(CxchainError):
        weekly_series(con, "SELECT week FROM c")
