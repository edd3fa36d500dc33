"""Key driver analysis: which attributes move the overall score (domain brief §3).

Two ways to share the model R² among drivers:

* :func:`shapley_regression` - Shapley value regression, which is the same number as *general dominance*
  (Budescu 1993; Azen & Budescu 2003; Lipovetsky & Conklin 2001; Grömping 2007): each driver's average
  incremental R² over all 2^p subset models.  Exact enumeration up to :data:`MAX_EXACT_GROUPS` drivers (or
  driver groups); beyond that it falls back to :func:`relative_weights`.  Subset R² values come from the
  correlation matrix (R²(S) = r_S' R_SS⁻¹ r_S), solved in batches, so 2^15 subsets take about a second.
* :func:`relative_weights` - Johnson's (2000) relative weights: near-instant, usually close to Shapley,
  but not equal to it (Thomas et al. 2014 criticise its derivation; prefer Shapley where it is feasible).

Both are *raw* shares of R² (they sum to R²); ``importance`` is the share normalised to sum to 1.  The sign
of a driver is the sign of its standardised coefficient in the full model; ``suppressor`` flags drivers
whose coefficient and zero-order correlation disagree in sign (read those with care).

Also here: :func:`impact_performance` (importance-performance quadrants) and :func:`score_if_removed`
(what the mean score would be if one contact reason's responses scored like everyone else's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from math import factorial
from typing import Any, Literal

import numpy as np
import pandas as pd

from cxchain.errors import CxchainError

#: Largest number of drivers (or driver groups) for which all 2^p subsets are enumerated.
MAX_EXACT_GROUPS = 15


@dataclass(frozen=True)
class DriverImportance:
    """One driver (or group of columns) and its share of the explained variance."""

    name: str
    columns: tuple[str, ...]
    raw: float  # share of R² (all drivers sum to ``r2``)
    importance: float  # raw / r2 (all drivers sum to 1)
    direction: int  # +1, -1 or 0: sign of the standardised coefficient (group: of the summed coefficients)
    coefficient: float  # standardised coefficient (group: sum over its columns)
    correlation: float  # zero-order correlation with the outcome (group: mean over its columns)
    suppressor: bool  # coefficient and correlation have opposite signs


@dataclass(frozen=True)
class DriverResult:
    """Result of a key driver analysis, drivers sorted by importance (largest first)."""

    drivers: list[DriverImportance]
    r2: float
    n: int
    method: Literal["shapley", "relative_weights"]
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> DriverImportance:
        for d in self.drivers:
            if d.name == name:
                return d
        raise KeyError(name)

    def to_frame(self) -> pd.DataFrame:
        """One row per driver: name, raw, importance, direction, coefficient, correlation, suppressor."""
        return pd.DataFrame(
            [
                {
                    "driver": d.name,
                    "raw": d.raw,
                    "importance": d.importance,
                    "direction": d.direction,
                    "coefficient": d.coefficient,
                    "correlation": d.correlation,
                    "suppressor": d.suppressor,
                }
                for d in self.drivers
            ]
        )


# ---------------------------------------------------------------------------------------------------------
# correlation-matrix machinery


def _prepare(X: pd.DataFrame, y: Any) -> tuple[pd.DataFrame, np.ndarray]:
    if not isinstance(X, pd.DataFrame):
        raise CxchainError("Key driver analysis needs the drivers as a pandas DataFrame with named columns.")
    ya = np.asarray(y, dtype=float).ravel()
    if len(ya) != len(X):
        raise CxchainError(f"The outcome has {len(ya)} values but the drivers have {len(X)} rows.")
    yv = pd.Series(ya, index=X.index, name="__y__")
    data = pd.concat([X.astype(float), yv], axis=1).dropna()
    if len(data) < X.shape[1] + 2:
        raise CxchainError(
            f"Key driver analysis needs more complete responses than drivers: {len(data)} complete rows "
            f"for {X.shape[1]} drivers."
        )
    const = [c for c in X.columns if data[c].std(ddof=1) == 0]
    if const or data["__y__"].std(ddof=1) == 0:
        raise CxchainError(f"Constant columns cannot be drivers or the outcome: {const or ['the outcome']}.")
    return data[list(X.columns)], data["__y__"].to_numpy()


def _correlations(Xd: pd.DataFrame, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    Z = np.column_stack([Xd.to_numpy(), y])
    C = np.corrcoef(Z, rowvar=False)
    return C[:-1, :-1], C[:-1, -1]


def _r2_subsets(Rxx: np.ndarray, rxy: np.ndarray, members: Sequence[Sequence[int]]) -> np.ndarray:
    """R² of every subset of groups, indexed by bit mask (bit g set = group g in the model)."""
    n_groups = len(members)
    n_masks = 1 << n_groups
    masks = np.arange(n_masks)
    col_masks = [np.zeros(n_masks, dtype=bool) for _ in range(Rxx.shape[0])]
    for g, cols in enumerate(members):
        in_g = (masks >> g) & 1 == 1
        for c in cols:
            col_masks[c] |= in_g
    incl = np.column_stack(col_masks)  # n_masks x p
    sizes = incl.sum(axis=1)
    r2 = np.zeros(n_masks)
    for k in np.unique(sizes):
        if k == 0:
            continue
        idx = np.flatnonzero(sizes == k)
        sub = np.nonzero(incl[idx])[1].reshape(len(idx), k)  # sorted column indices per subset
        A = Rxx[sub[:, :, None], sub[:, None, :]]  # m x k x k
        b = rxy[sub]  # m x k
        try:
            sol = np.linalg.solve(A, b[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # a singular subset (perfectly collinear drivers): least squares
            sol = np.einsum("mij,mj->mi", np.linalg.pinv(A), b)
        r2[idx] = np.einsum("mi,mi->m", b, sol)
    return r2


def _shapley_from_r2(r2: np.ndarray, n_groups: int) -> np.ndarray:
    masks = np.arange(1 << n_groups)
    size = np.zeros(len(masks), dtype=int)
    for g in range(n_groups):
        size += (masks >> g) & 1
    w_by_size = np.array(
        [factorial(s) * factorial(n_groups - s - 1) / factorial(n_groups) for s in range(n_groups)]
    )
    phi = np.empty(n_groups)
    for g in range(n_groups):
        without = masks[((masks >> g) & 1) == 0]
        phi[g] = np.sum(w_by_size[size[without]] * (r2[without | (1 << g)] - r2[without]))
    return phi


def general_dominance_from_correlations(
    corr: np.ndarray | pd.DataFrame, outcome: int | str = 0
) -> dict[str, float] | np.ndarray:
    """General dominance (= Shapley R² shares) from a correlation matrix of outcome and drivers.

    ``outcome`` is the row/column of the outcome (name if ``corr`` is a labelled DataFrame).  Returns a
    dict by driver name for a DataFrame, else an array in column order (outcome removed).  Useful to
    reproduce published examples that give only a correlation matrix.
    """
    if isinstance(corr, pd.DataFrame):
        names = list(corr.columns)
        o = names.index(outcome) if isinstance(outcome, str) else int(outcome)
        M = corr.to_numpy(dtype=float)
    else:
        names = []
        o = int(outcome)
        M = np.asarray(corr, dtype=float)
    keep = [i for i in range(M.shape[0]) if i != o]
    Rxx, rxy = M[np.ix_(keep, keep)], M[keep, o]
    p = len(keep)
    if p > MAX_EXACT_GROUPS:
        raise CxchainError(f"Exact general dominance is limited to {MAX_EXACT_GROUPS} drivers; got {p}.")
    phi = _shapley_from_r2(_r2_subsets(Rxx, rxy, [[i] for i in range(p)]), p)
    if names:
        return {names[i]: float(v) for i, v in zip(keep, phi, strict=True)}
    return phi


def _relative_weights_raw(Rxx: np.ndarray, rxy: np.ndarray) -> np.ndarray:
    evals, evecs = np.linalg.eigh(Rxx)
    evals = np.clip(evals, 0.0, None)
    lam = evecs @ np.diag(np.sqrt(evals)) @ evecs.T  # Rxx^(1/2): correlations of X with orthogonal Z
    beta = np.linalg.pinv(lam) @ rxy  # regression of y on the orthogonal counterparts Z
    return (lam**2) @ (beta**2)


def _build(
    Xd: pd.DataFrame,
    y: np.ndarray,
    members: dict[str, list[int]],
    raw: np.ndarray,
    r2: float,
    method: Literal["shapley", "relative_weights"],
    notes: list[str],
) -> DriverResult:
    Rxx, rxy = _correlations(Xd, y)
    beta = np.linalg.lstsq(Rxx, rxy, rcond=None)[0]
    cols = list(Xd.columns)
    out = []
    for (name, idx), rv in zip(members.items(), raw, strict=True):
        coef = float(np.sum(beta[idx]))
        cor = float(np.mean(rxy[idx]))
        direction = int(np.sign(coef)) if abs(coef) > 1e-12 else int(np.sign(cor))
        out.append(
            DriverImportance(
                name=name,
                columns=tuple(cols[i] for i in idx),
                raw=float(rv),
                importance=float(rv / r2) if r2 > 0 else 0.0,
                direction=direction,
                coefficient=coef,
                correlation=cor,
                suppressor=bool(coef * cor < 0 and abs(coef) > 1e-12),
            )
        )
    out.sort(key=lambda d: -d.raw)
    if any(d.suppressor for d in out):
        notes.append(
            "Some drivers have a coefficient whose sign differs from their correlation with the outcome "
            "(suppression by correlated drivers): read their direction with care."
        )
    return DriverResult(drivers=out, r2=float(r2), n=len(y), method=method, notes=notes)


def _members(X: pd.DataFrame, groups: Mapping[str, Sequence[str]] | None) -> dict[str, list[int]]:
    cols = list(X.columns)
    if groups is None:
        return {c: [i] for i, c in enumerate(cols)}
    seen: dict[str, str] = {}
    out: dict[str, list[int]] = {}
    for g, names in groups.items():
        if not names:
            raise CxchainError(f"Driver group {g!r} has no columns.")
        idx = []
        for c in names:
            if c not in cols:
                raise CxchainError(f"Driver group {g!r} names column {c!r}, which is not among the drivers.")
            if c in seen:
                raise CxchainError(f"Column {c!r} is in two driver groups ({seen[c]!r} and {g!r}).")
            seen[c] = g
            idx.append(cols.index(c))
        out[g] = idx
    for i, c in enumerate(cols):  # columns not grouped are drivers on their own
        if c not in seen:
            if c in out:
                raise CxchainError(f"Column {c!r} is also the name of a driver group; rename one.")
            out[c] = [i]
    return out


# ---------------------------------------------------------------------------------------------------------
# public API


def relative_weights(
    X: pd.DataFrame, y: Any, groups: Mapping[str, Sequence[str]] | None = None
) -> DriverResult:
    """Johnson's (2000) relative weights.

    The predictors' correlation matrix R = VΛV' gives Λ* = VΛ^½V' (the correlations between each predictor
    and its closest orthogonal counterpart); the outcome is regressed on the orthogonal counterparts
    (β = Λ*⁻¹ r_xy) and weights are mapped back: raw_j = Σ_k Λ*_jk² β_k².  Raw weights sum to R².
    For groups, a group's weight is the sum of its columns' weights.
    """
    Xd, yv = _prepare(X, y)
    members = _members(Xd, groups)
    Rxx, rxy = _correlations(Xd, yv)
    raw_cols = _relative_weights_raw(Rxx, rxy)
    raw = np.array([raw_cols[idx].sum() for idx in members.values()])
    return _build(Xd, yv, members, raw, float(raw_cols.sum()), "relative_weights", [])


def shapley_regression(
    X: pd.DataFrame, y: Any, groups: Mapping[str, Sequence[str]] | None = None
) -> DriverResult:
    """Shapley value regression (general dominance) of R² over drivers or driver groups.

    ``X``: one column per driver (e.g. attribute ratings), ``y``: the overall score.  Rows with a missing
    value are dropped (listwise).  ``groups`` maps a group name to its columns (e.g. the dummy columns of
    one categorical driver, or several items about one topic); columns not named in any group are drivers
    on their own.  Exact for up to :data:`MAX_EXACT_GROUPS` drivers/groups; beyond that it returns
    :func:`relative_weights` (``method == "relative_weights"``) with a note.
    """
    Xd, yv = _prepare(X, y)
    members = _members(Xd, groups)
    Rxx, rxy = _correlations(Xd, yv)
    if len(members) > MAX_EXACT_GROUPS:
        res = relative_weights(Xd, yv, {k: [Xd.columns[i] for i in v] for k, v in members.items()})
        res.notes.append(
            f"{len(members)} drivers is more than the {MAX_EXACT_GROUPS} for exact Shapley regression; "
            "Johnson's relative weights were used instead (usually close to Shapley, not equal)."
        )
        return res
    r2_all = _r2_subsets(Rxx, rxy, list(members.values()))
    phi = _shapley_from_r2(r2_all, len(members))
    return _build(Xd, yv, members, phi, float(r2_all[-1]), "shapley", [])


QUADRANTS = {
    (True, False): "fix first",  # high importance, low performance
    (True, True): "maintain",  # high importance, high performance
    (False, False): "monitor",  # low importance, low performance
    (False, True): "do not over-invest",  # low importance, high performance
}


def impact_performance(
    drivers: DriverResult | Sequence[DriverImportance],
    performance: Mapping[str, float],
    *,
    importance_split: float | None = None,
    performance_split: float | None = None,
) -> list[dict[str, Any]]:
    """Importance-performance matrix (a "key driver map").

    ``performance``: driver name -> current performance (mean rating or % satisfied; higher is better).
    Splits default to the mean importance and mean performance of the drivers that have both figures.
    Quadrants: ``fix first`` (high importance, low performance), ``maintain`` (high, high), ``monitor``
    (low, low), ``do not over-invest`` (low importance, high performance).  Drivers without a performance
    figure get quadrant ``None``.  Sorted: fix first, maintain, monitor, do not over-invest, then None;
    within a quadrant by importance, largest first.
    """
    items = drivers.drivers if isinstance(drivers, DriverResult) else list(drivers)
    both = [d for d in items if d.name in performance and performance[d.name] is not None]
    if not both:
        raise CxchainError("No driver has a performance figure; performance must be keyed by driver name.")
    i_split = (
        importance_split if importance_split is not None else float(np.mean([d.importance for d in both]))
    )
    p_split = (
        performance_split
        if performance_split is not None
        else float(np.mean([float(performance[d.name]) for d in both]))
    )
    rows: list[dict[str, Any]] = []
    for d in items:
        perf = performance.get(d.name)
        quadrant = None
        if perf is not None:
            quadrant = QUADRANTS[(d.importance >= i_split, float(perf) >= p_split)]
        rows.append(
            {
                "driver": d.name,
                "importance": d.importance,
                "raw": d.raw,
                "direction": d.direction,
                "performance": None if perf is None else float(perf),
                "quadrant": quadrant,
                "importance_split": i_split,
                "performance_split": p_split,
            }
        )
    order = {q: i for i, q in enumerate(QUADRANTS.values())}
    rows.sort(key=lambda r: (order.get(r["quadrant"], len(order)), -r["importance"]))
    return rows


def score_if_removed(
    df: pd.DataFrame,
    score_col: str,
    reason_col: str,
    reason: Any,
    *,
    n_boot: int = 2000,
    seed: int = 0,
    alpha: float = 0.05,
) -> dict[str, Any]:
    """The change in the mean score if one reason's responses had scored like the rest.

    Counterfactual reweighting: the reason's responses keep their weight but take the mean score of the
    other responses, so the new overall mean equals the rest's mean and the change is
    ``share_reason * (mean_rest - mean_reason)``.  ``score_col`` may be numeric (e.g. 1-5) or boolean
    (e.g. CSAT top-2 box, for which the mean is the top-2 share).  A seeded nonparametric bootstrap over
    responses gives the (1 - alpha) percentile interval; for scores with few distinct values it is drawn as
    a multinomial over (reason, score) cells, which is the same distribution as resampling rows.
    Responses with a missing score are dropped; a missing reason counts as "the rest".
    """
    if score_col not in df.columns or reason_col not in df.columns:
        raise CxchainError(f"Columns {score_col!r} and {reason_col!r} must both be in the survey table.")
    d = df[[score_col, reason_col]].dropna(subset=[score_col])
    s = d[score_col].astype(float).to_numpy()
    is_r = (d[reason_col] == reason).fillna(False).to_numpy(dtype=bool)
    n, k = len(s), int(is_r.sum())
    if k == 0:
        raise CxchainError(f"No scored responses have {reason_col} = {reason!r}.")
    if k == n:
        raise CxchainError(
            f"Every scored response has {reason_col} = {reason!r}; there is no 'rest' to compare."
        )

    def change(sum_r: np.ndarray, n_r: np.ndarray, sum_o: np.ndarray, n_o: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return (n_r / (n_r + n_o)) * (sum_o / n_o - sum_r / n_r)

    mean_all, mean_r, mean_o = float(s.mean()), float(s[is_r].mean()), float(s[~is_r].mean())
    point = float(change(np.array(s[is_r].sum()), np.array(k), np.array(s[~is_r].sum()), np.array(n - k)))
    rng = np.random.default_rng(seed)
    values, inverse = np.unique(s, return_inverse=True)
    if len(values) <= 64:
        cell = inverse + len(values) * is_r  # cells: (rest, value) then (reason, value)
        counts = np.bincount(cell, minlength=2 * len(values))
        draws = rng.multinomial(n, counts / n, size=n_boot)
        rest, rsn = draws[:, : len(values)], draws[:, len(values) :]
        boots = change(rsn @ values, rsn.sum(1), rest @ values, rest.sum(1))
    else:
        boots = np.empty(n_boot)
        chunk = max(1, 2_000_000 // n)
        for start in range(0, n_boot, chunk):
            m = min(chunk, n_boot - start)
            idx = rng.integers(0, n, size=(m, n))
            rr, ss = is_r[idx], s[idx]
            boots[start : start + m] = change((ss * rr).sum(1), rr.sum(1), (ss * ~rr).sum(1), (~rr).sum(1))
    boots = boots[np.isfinite(boots)]
    lo, hi = np.quantile(boots, [alpha / 2, 1 - alpha / 2])
    return {
        "reason": reason,
        "n": n,
        "n_reason": k,
        "share_reason": k / n,
        "mean_all": mean_all,
        "mean_reason": mean_r,
        "mean_rest": mean_o,
        "mean_if_removed": mean_o,
        "change": point,
        "ci_low": float(lo),
        "ci_high": float(hi),
        "n_boot": n_boot,
        "seed": seed,
        "method": "counterfactual reweighting; percentile bootstrap over responses",
    }
