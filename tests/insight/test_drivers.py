"""Key driver analysis: Shapley regression / general dominance, relative weights, quadrants, counterfactuals.

Validation:
* an independent brute force (every ordering of the drivers, OLS R² by least squares on the raw data)
  equals the fast correlation-matrix implementation to 1e-9;
* the Azen & Budescu (2003) correlation-matrix example, as encoded in the tests of the R package
  ``dominanceanalysis`` (inst/tests/test-daAzenBudescu2003.R, level averages to 3 d.p.), and the subset
  R² values of its SES/IQ/nAch -> GPA example (test-daRawResultslmWithCov.R);
* Johnson's relative weights against the ``rwa`` R package vignette (mtcars, mpg ~ cyl + disp + hp + gear:
  raw weights 0.2284797, 0.2221469, 0.2321744, 0.0963886; R² 0.7791896).
"""

from __future__ import annotations

import io
import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxchain.errors import CxchainError
from cxchain.insight.drivers import (
    MAX_EXACT_GROUPS,
    general_dominance_from_correlations,
    impact_performance,
    relative_weights,
    score_if_removed,
    shapley_regression,
)


def brute_force_shapley(X: pd.DataFrame, y: np.ndarray, groups: dict[str, list[str]] | None = None) -> dict:
    """Independent reference: average marginal R² over every ordering, R² by least squares with intercept."""
    groups = groups or {c: [c] for c in X.columns}
    names = list(groups)
    yc = y - y.mean()
    tss = float(yc @ yc)

    def r2(members: tuple[str, ...]) -> float:
        if not members:
            return 0.0
        cols = [c for g in members for c in groups[g]]
        A = np.column_stack([np.ones(len(y)), X[cols].to_numpy()])
        beta, *_ = np.linalg.lstsq(A, y, rcond=None)
        resid = y - A @ beta
        return 1.0 - float(resid @ resid) / tss

    cache: dict[frozenset, float] = {}

    def r2c(members: tuple[str, ...]) -> float:
        key = frozenset(members)
        if key not in cache:
            cache[key] = r2(members)
        return cache[key]

    total = dict.fromkeys(names, 0.0)
    perms = list(itertools.permutations(names))
    for order in perms:
        for i, g in enumerate(order):
            total[g] += r2c(order[: i + 1]) - r2c(order[:i])
    return {g: v / len(perms) for g, v in total.items()}


def correlated_data(n: int = 400, p: int = 6, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    common = rng.normal(size=(n, 1))
    X = 0.7 * common + rng.normal(size=(n, p))
    y = X @ np.linspace(1.0, -0.3, p) + rng.normal(scale=2.0, size=n)
    return pd.DataFrame(X, columns=[f"item_{i}" for i in range(p)]), y


def test_shapley_equals_brute_force_general_dominance():
    X, y = correlated_data()
    res = shapley_regression(X, y)
    ref = brute_force_shapley(X, y)
    for name, value in ref.items():
        assert res[name].raw == pytest.approx(value, abs=1e-9)
    assert sum(d.raw for d in res.drivers) == pytest.approx(res.r2, abs=1e-12)
    assert sum(d.importance for d in res.drivers) == pytest.approx(1.0)
    assert res.method == "shapley" and res.n == len(y)
    # sorted, signed
    assert [d.raw for d in res.drivers] == sorted((d.raw for d in res.drivers), reverse=True)
    assert res["item_0"].direction == 1 and res["item_5"].direction == -1


def test_grouped_shapley_equals_brute_force():
    X, y = correlated_data(p=7, seed=3)
    groups = {"billing": ["item_0", "item_1"], "repairs": ["item_2", "item_3", "item_4"]}
    res = shapley_regression(X, y, groups=groups)
    full = {**groups, "item_5": ["item_5"], "item_6": ["item_6"]}
    ref = brute_force_shapley(X, y, full)
    assert {d.name for d in res.drivers} == set(full)
    for name, value in ref.items():
        assert res[name].raw == pytest.approx(value, abs=1e-9)
    assert res["repairs"].columns == ("item_2", "item_3", "item_4")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), p=st.integers(1, 5))
def test_shapley_brute_force_property(seed, p):
    X, y = correlated_data(n=60, p=p, seed=seed)
    res = shapley_regression(X, y)
    ref = brute_force_shapley(X, y)
    for name, value in ref.items():
        assert res[name].raw == pytest.approx(value, abs=1e-9)


def test_azen_budescu_2003_published_example():
    names = ["y", "x1", "x2", "x3", "x4"]
    corr = pd.DataFrame(
        [
            [1.0, 0.6, 0.3, 0.4, 0.5],
            [0.6, 1.0, 0.8, 0.1, 0.3],
            [0.3, 0.8, 1.0, 0.1, 0.1],
            [0.4, 0.1, 0.1, 1.0, 0.5],
            [0.5, 0.3, 0.1, 0.5, 1.0],
        ],
        index=names,
        columns=names,
    )
    # average contribution by level (0..3) as published; general dominance is their mean
    levels = {
        "x1": [0.360, 0.300, 0.263, 0.246],
        "x2": [0.090, 0.074, 0.069, 0.071],
        "x3": [0.160, 0.095, 0.063, 0.061],
        "x4": [0.250, 0.152, 0.073, 0.010],
    }
    gd = general_dominance_from_correlations(corr, "y")
    assert isinstance(gd, dict)
    for name, lv in levels.items():
        assert gd[name] == pytest.approx(np.mean(lv), abs=0.001)
    # ranking as published: x1 > x4 > x3 > x2
    assert sorted(gd, key=gd.get, reverse=True) == ["x1", "x4", "x3", "x2"]
    # unlabelled matrix gives an array in column order
    arr = general_dominance_from_correlations(corr.to_numpy(), 0)
    assert np.allclose(arr, [gd[n] for n in names[1:]])


def test_ses_iq_nach_gpa_subset_r2():
    """Subset R² of the published GPA example reproduce through the Shapley values' building blocks."""
    from cxchain.insight.drivers import _r2_subsets

    R = np.array([[1, 0.3, 0.41], [0.3, 1, 0.16], [0.41, 0.16, 1]])  # SES, IQ, nAch
    r = np.array([0.33, 0.57, 0.50])  # with GPA
    r2 = _r2_subsets(R, r, [[0], [1], [2]])
    expected = {
        0b001: 0.1089,
        0b010: 0.3249,
        0b100: 0.25,
        0b110: 0.4964080,
        0b011: 0.3526813,
        0b101: 0.2687823,
        0b111: 0.4964735,
    }
    for mask, value in expected.items():
        assert r2[mask] == pytest.approx(value, abs=1e-4)


MTCARS = """mpg,cyl,disp,hp,gear
21,6,160,110,4
21,6,160,110,4
22.8,4,108,93,4
21.4,6,258,110,3
18.7,8,360,175,3
18.1,6,225,105,3
14.3,8,360,245,3
24.4,4,146.7,62,4
22.8,4,140.8,95,4
19.2,6,167.6,123,4
17.8,6,167.6,123,4
16.4,8,275.8,180,3
17.3,8,275.8,180,3
15.2,8,275.8,180,3
10.4,8,472,205,3
10.4,8,460,215,3
14.7,8,440,230,3
32.4,4,78.7,66,4
30.4,4,75.7,52,4
33.9,4,71.1,65,4
21.5,4,120.1,97,3
15.5,8,318,150,3
15.2,8,304,150,3
13.3,8,350,245,3
19.2,8,400,175,3
27.3,4,79,66,4
26,4,120.3,91,5
30.4,4,95.1,113,5
15.8,8,351,264,5
19.7,6,145,175,5
15,8,301,335,5
21.4,4,121,109,4
"""


def test_relative_weights_rwa_vignette_mtcars():
    df = pd.read_csv(io.StringIO(MTCARS))
    assert len(df) == 32
    res = relative_weights(df[["cyl", "disp", "hp", "gear"]], df["mpg"])
    assert res.method == "relative_weights"
    assert res.r2 == pytest.approx(0.7791896, abs=1e-7)
    published = {"hp": 0.2321744, "cyl": 0.2284797, "disp": 0.2221469, "gear": 0.0963886}
    for name, value in published.items():
        assert res[name].raw == pytest.approx(value, abs=1e-7)
    assert res["hp"].importance == pytest.approx(0.2979691, abs=1e-6)
    assert [d.name for d in res.drivers] == ["hp", "cyl", "disp", "gear"]
    # signs as published (cyl, disp, hp negative; gear positive) - here by correlation
    assert {d.name: int(np.sign(d.correlation)) for d in res.drivers} == {
        "hp": -1,
        "cyl": -1,
        "disp": -1,
        "gear": 1,
    }
    # Shapley on the same data: close to relative weights, not equal
    sh = shapley_regression(df[["cyl", "disp", "hp", "gear"]], df["mpg"])
    assert sh.r2 == pytest.approx(res.r2, abs=1e-12)
    for name in published:
        assert sh[name].raw == pytest.approx(res[name].raw, abs=0.03)
    assert max(abs(sh[n].raw - res[n].raw) for n in published) > 1e-4


def test_relative_weights_close_to_shapley_on_correlated_data():
    X, y = correlated_data(n=2000, p=8, seed=11)
    rw, sh = relative_weights(X, y), shapley_regression(X, y)
    assert rw.r2 == pytest.approx(sh.r2, abs=1e-12)
    diffs = [abs(rw[d.name].importance - d.importance) for d in sh.drivers]
    assert max(diffs) < 0.03  # close ...
    assert max(diffs) > 1e-5  # ... but not the same quantity
    assert [d.name for d in rw.drivers][:3] == [d.name for d in sh.drivers][:3]


def test_orthogonal_predictors_share_is_squared_correlation():
    rng = np.random.default_rng(5)
    n, p = 300, 5
    Z = rng.normal(size=(n, p))
    Z -= Z.mean(axis=0)
    Q, _ = np.linalg.qr(Z)  # exactly orthogonal, centred columns
    X = pd.DataFrame(Q * 10, columns=list("abcde"))
    y = Q @ np.array([3.0, -2.0, 1.0, 0.5, 0.0]) + 0.2 * rng.normal(size=n)
    r = np.array([np.corrcoef(X[c], y)[0, 1] for c in X.columns])
    sh, rw = shapley_regression(X, y), relative_weights(X, y)
    for c, rc in zip(X.columns, r, strict=True):
        assert sh[c].raw == pytest.approx(rc**2, abs=1e-10)
        assert rw[c].raw == pytest.approx(rc**2, abs=1e-10)
    assert sh.r2 == pytest.approx(float(np.sum(r**2)), abs=1e-10)


def test_more_than_15_groups_falls_back_to_relative_weights():
    X, y = correlated_data(n=500, p=MAX_EXACT_GROUPS + 2, seed=2)
    res = shapley_regression(X, y)
    assert res.method == "relative_weights"
    assert any("relative weights" in n for n in res.notes)
    assert sum(d.raw for d in res.drivers) == pytest.approx(res.r2)


def test_fifteen_drivers_exact_and_fast():
    import time

    X, y = correlated_data(n=500, p=MAX_EXACT_GROUPS, seed=4)
    t0 = time.perf_counter()
    res = shapley_regression(X, y)
    assert time.perf_counter() - t0 < 5
    assert res.method == "shapley"
    assert sum(d.raw for d in res.drivers) == pytest.approx(res.r2, abs=1e-10)


def test_suppressor_flag_and_missing_rows():
    rng = np.random.default_rng(9)
    n = 500
    a = rng.normal(size=n)
    b = a + 0.3 * rng.normal(size=n)  # b correlates with y through a, but its coefficient is negative
    y = 2 * a - 1.0 * b + 0.5 * rng.normal(size=n)
    X = pd.DataFrame({"a": a, "b": b})
    X.loc[0, "a"] = np.nan
    res = shapley_regression(X, y)
    assert res.n == n - 1
    assert res["b"].suppressor and res["b"].direction == -1 and res["b"].correlation > 0
    assert res.notes


def test_input_errors():
    X, y = correlated_data(n=50, p=3)
    with pytest.raises(CxchainError):
        shapley_regression(X.to_numpy(), y)  # type: ignore[arg-type]
    with pytest.raises(CxchainError):
        shapley_regression(X, y[:10])
    with pytest.raises(CxchainError):
        shapley_regression(X.assign(k=1.0), y)
    with pytest.raises(CxchainError):
        shapley_regression(X, y, groups={"g": ["nope"]})
    with pytest.raises(CxchainError):
        shapley_regression(X, y, groups={"g": ["item_0"], "h": ["item_0"]})
    with pytest.raises(CxchainError):
        shapley_regression(X, y, groups={"g": []})
    with pytest.raises(CxchainError):
        shapley_regression(X.head(3), y[:3])


def test_collinear_drivers_do_not_crash():
    X, y = correlated_data(n=200, p=3)
    X["dup"] = X["item_0"]
    res = shapley_regression(X, y)
    assert res["dup"].raw == pytest.approx(res["item_0"].raw, abs=1e-8)
    assert sum(d.raw for d in res.drivers) == pytest.approx(res.r2, abs=1e-8)


def test_frame_output():
    X, y = correlated_data(p=3)
    df = shapley_regression(X, y).to_frame()
    assert list(df.columns) == [
        "driver",
        "raw",
        "importance",
        "direction",
        "coefficient",
        "correlation",
        "suppressor",
    ]
    with pytest.raises(KeyError):
        shapley_regression(X, y)["missing"]


def test_impact_performance_quadrants():
    X, y = correlated_data(p=4, seed=1)
    res = shapley_regression(X, y)
    imp = {d.name: d.importance for d in res.drivers}
    ranked = sorted(imp, key=imp.get, reverse=True)
    perf = {ranked[0]: 0.4, ranked[1]: 0.9, ranked[2]: 0.3, ranked[3]: 0.95}
    rows = impact_performance(res, perf, importance_split=0.25, performance_split=0.6)
    by = {r["driver"]: r["quadrant"] for r in rows}
    assert by[ranked[0]] == "fix first"
    assert by[ranked[1]] == "maintain"
    assert by[ranked[2]] in ("monitor", "fix first")
    assert rows[0]["quadrant"] == "fix first"
    # default splits are the means; missing performance gives quadrant None, sorted last
    rows = impact_performance(res, {ranked[0]: 0.1, ranked[1]: 0.9})
    assert rows[-1]["quadrant"] is None
    assert rows[0]["driver"] == ranked[0] and rows[0]["quadrant"] == "fix first"
    with pytest.raises(CxchainError):
        impact_performance(res, {"unknown": 1.0})


def test_impact_performance_low_importance_high_performance():
    X, y = correlated_data(p=2, seed=1)
    res = shapley_regression(X, y)
    low = res.drivers[-1].name
    high = res.drivers[0].name
    rows = impact_performance(
        res.drivers, {low: 0.99, high: 0.99}, importance_split=0.5, performance_split=0.5
    )
    assert {r["driver"]: r["quadrant"] for r in rows}[low] == "do not over-invest"


def survey(seed: int = 0, n: int = 2000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    reason = rng.choice(["billing", "repairs", "other"], size=n, p=[0.2, 0.3, 0.5])
    p = np.where(reason == "billing", 0.4, 0.8)
    return pd.DataFrame({"top2": rng.random(n) < p, "reason": reason, "score": rng.integers(1, 6, n)})


def test_score_if_removed_point_and_interval():
    df = survey()
    out = score_if_removed(df, "top2", "reason", "billing", n_boot=1000, seed=1)
    share = (df["reason"] == "billing").mean()
    m_b = df.loc[df["reason"] == "billing", "top2"].mean()
    m_o = df.loc[df["reason"] != "billing", "top2"].mean()
    assert out["change"] == pytest.approx(share * (m_o - m_b))
    assert out["mean_if_removed"] == pytest.approx(m_o)
    assert out["mean_all"] + out["change"] == pytest.approx(m_o)
    assert out["ci_low"] < out["change"] < out["ci_high"]
    assert 0.05 < out["change"] < 0.12  # truth: 0.2 * 0.4 = 0.08
    # seeded: same seed, same interval
    again = score_if_removed(df, "top2", "reason", "billing", n_boot=1000, seed=1)
    assert (again["ci_low"], again["ci_high"]) == (out["ci_low"], out["ci_high"])


def test_score_if_removed_bootstrap_matches_row_resampling():
    """The multinomial shortcut and plain row resampling give the same interval (within Monte Carlo error)."""
    df = survey(seed=2, n=800)
    fast = score_if_removed(df, "score", "reason", "billing", n_boot=4000, seed=3)
    noisy = df.assign(score=df["score"] + np.random.default_rng(0).normal(scale=1e-6, size=len(df)))
    slow = score_if_removed(noisy, "score", "reason", "billing", n_boot=4000, seed=3)  # > 64 values: rows
    width = fast["ci_high"] - fast["ci_low"]
    assert slow["ci_high"] - slow["ci_low"] == pytest.approx(width, rel=0.1)
    assert slow["change"] == pytest.approx(fast["change"], abs=1e-5)


def test_score_if_removed_interval_coverage():
    """Over seeded surveys the 95% interval covers the true change about 95% of the time."""
    true_change = 0.2 * (0.8 - 0.4)
    hits = 0
    reps = 100
    for s in range(reps):
        out = score_if_removed(survey(seed=100 + s, n=1500), "top2", "reason", "billing", n_boot=500, seed=s)
        hits += out["ci_low"] <= true_change <= out["ci_high"]
    assert 0.88 <= hits / reps <= 1.0


def test_score_if_removed_errors():
    df = survey(n=50)
    with pytest.raises(CxchainError):
        score_if_removed(df, "missing", "reason", "billing")
    with pytest.raises(CxchainError):
        score_if_removed(df, "top2", "reason", "nothing")
    with pytest.raises(CxchainError):
        score_if_removed(df.assign(reason="billing"), "top2", "reason", "billing")
    assert math.isfinite(score_if_removed(df, "top2", "reason", "billing", n_boot=50)["change"])
