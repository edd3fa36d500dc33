"""Findings from fact tables: the failure-shift search against its own null distribution."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pytest

from cxchain.insight import analyse
from cxchain.insight.taxonomy import Taxonomy

REASONS = [f"Reason {i}" for i in range(8)]


def _facts(shares: dict[str, np.ndarray], weekly: int, seed: int, *, dispersion: float = 0.0) -> duckdb.DuckDBPyConnection:
    """A ``contact_fact`` of first legs whose weekly failure share per reason follows ``shares``.

    ``dispersion`` > 0 draws each week's share from a beta around the planned one (extra-binomial
    week-to-week noise, as real weekly shares have), without any step.
    """
    rng = np.random.default_rng(seed)
    rows = []
    start = date(2025, 1, 6)
    for rid, plan in shares.items():
        for w, p in enumerate(plan):
            if dispersion:
                p = rng.beta(p / dispersion, (1 - p) / dispersion)
            failures = int(rng.binomial(weekly, p))
            week = start + timedelta(weeks=w)
            rows += [(rid, week, "failure" if i < failures else "value") for i in range(weekly)]
    con = duckdb.connect()
    con.execute("CREATE TABLE contact_fact (record_id VARCHAR, reason_id VARCHAR, week DATE, demand VARCHAR, is_first_leg BOOLEAN)")
    con.executemany("INSERT INTO contact_fact VALUES (?, ?, ?, ?, TRUE)",
                    [(f"r{i}", rid, week, demand) for i, (rid, week, demand) in enumerate(rows)])
    con.execute("CREATE TABLE contact (record_id VARCHAR, text VARCHAR, valid_to TIMESTAMP)")
    return con


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.from_names([(name, "") for name in REASONS])


def test_a_step_in_one_reason_is_found_at_its_week(tax):
    weeks, step_at = 60, 35
    shares = {rid: np.full(weeks, 0.3) for rid in tax.ids}
    stepped = tax.ids[3]
    shares[stepped] = np.where(np.arange(weeks) < step_at, 0.3, 0.45)
    found = analyse.failure_shifts(_facts(shares, 25, seed=1), {}, tax)
    assert [f.subject for f in found] == [stepped]
    f = found[0]
    assert f.direction == "up" and f.value == pytest.approx(0.15, abs=0.05)
    assert abs((date.fromisoformat(f.estimand["change_date"]) - (date(2025, 1, 6) + timedelta(weeks=step_at))).days) <= 28  # within a month
    assert f.estimand["p_value"] < f.estimand["alpha"] == pytest.approx(analyse.ALPHA / len(tax.ids))


@pytest.mark.parametrize("seed", range(4))
def test_no_step_no_finding(tax, seed):
    """Negative control: eight steady reasons, over four seeds, give no shift."""
    weeks = 60
    shares = {rid: np.full(weeks, 0.2 + 0.05 * i) for i, rid in enumerate(tax.ids)}
    assert analyse.failure_shifts(_facts(shares, 25, seed=100 + seed), {}, tax) == []


def test_week_to_week_noise_is_not_a_step(tax):
    """Shares that wander more than binomial sampling allows (over-dispersed), with no step: the
    dispersion correction keeps them from being reported, where a plain two-proportion z would."""
    weeks = 60
    shares = {rid: np.full(weeks, 0.4) for rid in tax.ids}
    con = _facts(shares, 40, seed=7, dispersion=0.08)
    assert analyse.failure_shifts(con, {}, tax) == []
    naive = []
    for rid in tax.ids:
        f, n = (np.array(x, dtype=float) for x in zip(*con.execute(
            "SELECT count(*) FILTER (WHERE demand = 'failure'), count(*) FROM contact_fact WHERE reason_id = ? "
            "GROUP BY week ORDER BY week", [rid]).fetchall(), strict=True))
        best = analyse._best_split(f, n)
        assert best is not None
        naive.append(abs(best[1]))
    assert max(naive) > analyse.z_threshold(len(tax.ids))  # the noise would pass an uncorrected test


def test_the_null_p_value_is_calibrated():
    """Under no change the search's p-value is uniform: about 5 % of series fall below 0.05."""
    rng = np.random.default_rng(3)
    n = np.full(50, 30.0)
    ps = []
    for i in range(300):
        f = rng.binomial(30, 0.35, size=50).astype(float)
        best = analyse._best_split(f, n)
        assert best is not None
        ps.append(analyse._shift_p_value(best[1], n, float(f.sum() / n.sum()), i))
    assert 0.02 <= float(np.mean(np.array(ps) < 0.05)) <= 0.09
