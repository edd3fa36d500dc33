"""Interaction QA: every contact scored automatically against the published principles, and a sampled view
for people to confirm or correct the automatic verdicts.

The unit is one customer contact (an interaction, shown by its first leg's record id).  Each principle maps
to **checks**, each a per-contact pass/fail with the contacts it applies to:

* from each of the principle's **measures** (a registry metric spec and threshold): the metric's own rows
  (its population, under its filters) judged one by one.  A share metric fails a contact when the contact is
  on the wrong side of its numerator (a repeat, failure demand, an abandon...), a mean or quantile when the
  contact's own value is on the wrong side of the threshold.  Counts, sums, NPS and rates per 1,000, and
  metrics over cases and complaints, describe the whole and are not judged per contact;
* from the principle's **themes** (:data:`THEME_CHECKS`): ``chasing`` (the contact is failure demand of type
  chasing progress), ``repeat`` (the same customer contacted us about the same issue within the repeat
  window before: ``metrics.repeat_window_days``, ``metrics.repeat_same_reason``, forwards after a transfer
  excepted) and ``next_step`` (where a transcript exists - chat and email threads with the organisation's
  words - the organisation said what happens next: :data:`NEXT_STEP`).  A principle whose words promise
  "what happens next" gets ``next_step`` whatever its themes.

A contact passes a principle when every check that applies passes; principles with no applicable check are
not scored for it.  People confirm or correct a sample (:func:`sample`, :func:`confirm`, :func:`correct`);
their verdicts are stored (``qa_reviews`` in ops SQLite, newest per contact and principle counts) and the
agreement rate between people and the automatic score is reported (:func:`agreement`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from ..errors import CxchainError, NotFoundError
from ..metrics.compile import _filters_sql, _reason_key, _rows_sql, resolve_settings, store_conventions
from ..metrics.registry import get_spec
from .principles import Principle, list_principles

__all__ = ["Check", "THEME_CHECKS", "NEXT_STEP", "checks_for", "published", "score_contacts", "sample",
           "confirm", "correct", "agreement", "qa_reviews", "contact_verdicts"]

#: What the organisation says when it tells the customer what happens next (DuckDB regular expression, on
#: lower-cased text): a time frame, a promised action, or the words "next step".
NEXT_STEP = (r"(you('ll| will| should)( then)? (hear|receive|get|be (contacted|called|sent))|"
             r"within [0-9]+ (working |business )?(days?|hours?)|by (monday|tuesday|wednesday|thursday|friday|"
             r"tomorrow|the end of)|next step|what happens next|we('ll| will) (call|ring|contact|email|write|send|"
             r"update|visit|let you know)|someone will|(call|ring|email|get back to) you (back )?(by|within|on|"
             r"tomorrow|today))")

_NEXT_STEP_SQL = "'" + NEXT_STEP.replace("'", "''") + "')"

#: Checks that a principle's themes bring (besides its measures).
THEME_CHECKS: dict[str, tuple[str, ...]] = {
    "chase": ("chasing", "repeat", "next_step"),
    "first_time": ("repeat",),
    "right_first_time": ("repeat",),
}

_BUILTIN_LABELS = {
    "chasing": "The customer was not chasing progress",
    "repeat": "Not a repeat: no contact from the customer about the same issue within the repeat window before",
    "next_step": "The organisation said what happens next (transcripts only)",
}

_CONTACT_FACTS = ("contact_fact", "journey_event")


@dataclass(frozen=True)
class Check:
    """One per-contact check of a principle: ``sql`` selects ``interaction_id`` and ``ok`` (one row per
    contact it applies to)."""

    id: str
    label: str
    sql: str


@contextmanager
def _ops(ws: Any) -> Iterator[sqlite3.Connection]:
    con = ws.store.ops()
    con.row_factory = sqlite3.Row
    try:
        con.executescript(
            """CREATE TABLE IF NOT EXISTS qa_reviews (
                   id INTEGER PRIMARY KEY, record_id TEXT NOT NULL, principle_id TEXT NOT NULL,
                   principle_version INTEGER NOT NULL, auto_passed INTEGER NOT NULL, human_passed INTEGER NOT NULL,
                   action TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, at TEXT NOT NULL);
               CREATE INDEX IF NOT EXISTS qa_reviews_key ON qa_reviews (record_id, principle_id);"""
        )
        yield con
    finally:
        con.close()


# --- checks ---------------------------------------------------------------------------------------------


def _measure_check(m: Any, conv: dict[str, Any]) -> Check | None:
    try:
        spec = get_spec(m.metric_id)
    except KeyError:
        return None
    if spec.fact == "survey_fact":
        contact = "contact_record_id"
    elif spec.fact in _CONTACT_FACTS or spec.derived is not None:
        contact = "_rid_first" if spec.derived == "channel_issue" else "record_id"
    else:
        return None  # cases, complaints, homes: judged on the whole, not per contact
    hib = spec.is_higher_better(conv)
    if spec.aggregate == "share" and hib is not None:
        ok = "_num" if hib else "NOT _num"
    elif spec.aggregate in ("mean", "quantile") and m.threshold is not None:
        ok = f"_x {'<=' if m.direction == 'below' else '>='} {float(m.threshold)!r}"
        ok = f"coalesce({ok}, false)"
    else:
        return None
    where = _filters_sql(m.filters)
    rows = _rows_sql(spec, conv, where)
    extra = " AND _x IS NOT NULL" if spec.aggregate in ("mean", "quantile") else ""
    sql = (f"SELECT cf.interaction_id, bool_and({ok}) AS ok FROM ({rows}) _r "
           f"JOIN contact_fact cf ON cf.record_id = _r.{contact} WHERE _pop{extra} GROUP BY cf.interaction_id")
    filt = f" ({', '.join(f'{k}={v}' for k, v in m.filters.items())})" if m.filters else ""
    label = m.label or spec.title
    return Check(id=f"measure:{m.metric_id}{filt}", label=f"{label} [{spec.id}{filt}]", sql=sql)


def _builtin(check_id: str, conv: dict[str, Any]) -> Check:
    if check_id == "chasing":
        sql = ("SELECT interaction_id, coalesce(failure_type, '') <> 'chasing_progress' AS ok FROM contact_fact "
               "WHERE is_first_leg AND demand IN ('value', 'failure')")
    elif check_id == "repeat":
        win = float(conv["metrics.repeat_window_days"])
        gap = float(conv["metrics.repeat_transfer_gap_minutes"])
        sql = f"""
            WITH b AS (SELECT interaction_id, customer_key, started_at, interaction_transferred, interaction_ended_at,
                              {_reason_key(conv)} AS _rkey
                       FROM contact_fact WHERE is_first_leg AND customer_key IS NOT NULL AND started_at IS NOT NULL),
            prev AS (SELECT a.interaction_id, count(p.interaction_id) AS n_before
                     FROM b a LEFT JOIN b p ON p.customer_key = a.customer_key AND p._rkey = a._rkey
                      AND p.interaction_id <> a.interaction_id AND p.started_at <= a.started_at
                      AND p.started_at >= a.started_at - to_microseconds(CAST({round(win * 86400e6)} AS BIGINT))
                      AND NOT (coalesce(p.interaction_transferred, false)
                               AND a.started_at < p.interaction_ended_at
                                   + to_microseconds(CAST({round(gap * 60e6)} AS BIGINT)))
                     WHERE a._rkey IS NOT NULL GROUP BY a.interaction_id)
            SELECT interaction_id, n_before = 0 AS ok FROM prev"""
    elif check_id == "next_step":
        sql = ("SELECT cf.interaction_id, bool_or(regexp_matches(lower(c.agent_text), "
               f"{_NEXT_STEP_SQL}) AS ok FROM contact_fact cf JOIN contact c ON c.record_id = cf.record_id "
               "AND c.valid_to IS NULL WHERE c.message_count IS NOT NULL AND nullif(trim(c.agent_text), '') IS NOT NULL "
               "GROUP BY cf.interaction_id")
    else:
        raise CxchainError(f"Unknown QA check {check_id!r}.")
    return Check(id=check_id, label=_BUILTIN_LABELS[check_id], sql=sql)


def checks_for(p: Principle, settings: Any) -> list[Check]:
    """The per-contact checks of a principle (its measures, then its themes' checks)."""
    conv = resolve_settings(settings)
    out: list[Check] = []
    for m in p.measures:
        c = _measure_check(m, conv)
        if c is not None and c.id not in {x.id for x in out}:
            out.append(c)
    wanted: list[str] = []
    for t in p.evidence_rule.get("themes", []):
        wanted += [c for c in THEME_CHECKS.get(t, ()) if c not in wanted]
    words = f"{p.title} {p.statement} {p.for_staff}".lower()
    if "what happens next" in words and "next_step" not in wanted:
        wanted.append("next_step")
    out += [_builtin(c, conv) for c in wanted]
    return out


def published(ws: Any) -> list[Principle]:
    """The published principles (the QA standard); an error naming the next step when there are none."""
    ps = [p for p in list_principles(ws) if p.status == "published"]
    if not ps:
        raise CxchainError("There is no published CX Code to score contacts against: run `cxchain code publish`.")
    return ps


# --- scoring --------------------------------------------------------------------------------------------

_COLUMNS = ["record_id", "interaction_id", "started_at", "week", "reason_id", "channel", "principle_id",
            "passed", "failed_checks", "checks"]


def _score_one(con: duckdb.DuckDBPyConnection, p: Principle, checks: Sequence[Check],
               where: str | None, tables: dict[str, str] | None = None) -> pd.DataFrame:
    """``tables``: check SQL -> a temp table already holding its result (checks several principles share)."""
    if not checks:
        return pd.DataFrame(columns=_COLUMNS)
    parts = [f"c{i} AS ({'SELECT * FROM ' + tables[c.sql] if tables and c.sql in tables else c.sql})"
             for i, c in enumerate(checks)]
    oks = ", ".join(f"c{i}.ok AS ok{i}" for i in range(len(checks)))
    joins = " ".join(f"LEFT JOIN c{i} ON c{i}.interaction_id = f.interaction_id" for i in range(len(checks)))
    any_applies = " OR ".join(f"c{i}.ok IS NOT NULL" for i in range(len(checks)))
    sql = (f"WITH {', '.join(parts)} SELECT f.record_id, f.interaction_id, f.started_at, f.week, f.reason_id, "
           f"f.channel, {oks} FROM contact_fact f {joins} WHERE f.is_first_leg AND ({any_applies})"
           + (f" AND ({where})" if where else "") + " ORDER BY f.started_at, f.record_id")
    df = con.execute(sql).df()
    if df.empty:
        return pd.DataFrame(columns=_COLUMNS)
    okcols = [f"ok{i}" for i in range(len(checks))]
    ids = [c.id for c in checks]
    # Each row's checks are one of at most 3^k patterns (not applied / passed / failed per check): code the
    # pattern with numpy and share one list per pattern, rather than build millions of lists cell by cell.
    code = np.zeros(len(df), dtype=np.int64)
    for j, col in enumerate(okcols):
        v = df[col].to_numpy(dtype="float64", na_value=np.nan)  # NULL: the check does not apply
        code += np.where(np.isnan(v), 0, np.where(v > 0, 1, 2)) * 3 ** j
    patterns = np.unique(code)
    failed_of: dict[int, list[str]] = {}
    judged_of: dict[int, list[str]] = {}
    for c in patterns.tolist():
        states = [(c // 3 ** j) % 3 for j in range(len(ids))]
        failed_of[c] = [i for i, st in zip(ids, states, strict=True) if st == 2]
        judged_of[c] = [i for i, st in zip(ids, states, strict=True) if st > 0]
    failed = np.empty(len(patterns), dtype=object)
    judged = np.empty(len(patterns), dtype=object)
    failed[:] = [failed_of[c] for c in patterns.tolist()]
    judged[:] = [judged_of[c] for c in patterns.tolist()]
    at = np.searchsorted(patterns, code)
    df = df.drop(columns=okcols)
    df["principle_id"] = p.id
    df["failed_checks"] = failed[at]
    df["checks"] = judged[at]
    df["passed"] = np.array([not failed_of[c] for c in patterns.tolist()], dtype=bool)[at]
    df["record_id"] = df["record_id"].astype(str)
    return df[_COLUMNS]


#: Scores of recent (workspace, published generation, principles, settings): a published generation never
#: changes, so the scores of one stay right; the web app's pages and chain health share them.
_CACHE: dict[str, pd.DataFrame] = {}
_CACHE_SIZE = 4


def _cache_key(ws: Any, ps: Sequence[Principle]) -> str | None:
    cur = ws.store.current()
    if not cur:
        return None
    conv = resolve_settings(ws.settings)
    body = [str(ws.path.resolve()), cur.get("generation"), cur.get("data"),
            [(p.id, p.version, [m.__dict__ for m in p.measures], p.evidence_rule, p.title, p.statement, p.for_staff)
             for p in ps],
            {k: conv[k] for k in sorted(conv) if k.startswith("metrics.") or k == "as_of"}]
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def score_contacts(ws: Any, principles: Sequence[Principle] | None = None, *,
                   record_ids: Sequence[str] | None = None) -> pd.DataFrame:
    """Every (contact, principle) verdict: one row per contact and principle it can be judged against.

    Columns: ``record_id`` (the contact's first leg), ``interaction_id``, ``started_at``, ``week``,
    ``reason_id``, ``channel``, ``principle_id``, ``passed``, ``failed_checks`` and ``checks`` (ids of the
    checks that applied).  ``principles`` defaults to the published ones; ``record_ids`` limits the contacts.
    """
    ps = list(principles) if principles is not None else published(ws)
    where = None
    key = None
    if record_ids is not None:
        where = _filters_sql({"record_id": [str(r) for r in record_ids]})
    else:
        key = _cache_key(ws, ps)
        if key is not None and key in _CACHE:
            return _CACHE[key].copy()
    frames = []
    with ws.store.read() as con:
        conv = store_conventions(con, resolve_settings(ws.settings))
        per = [(p, checks_for(p, conv)) for p in ps]
        # A check several principles use (repeat rate, channel switching...) is computed once, into a temp
        # table of this read-only connection: at a million contacts each repeat check is a self-join of seconds.
        uses: dict[str, int] = {}
        for _, cs in per:
            for c in cs:
                uses[c.sql] = uses.get(c.sql, 0) + 1
        tables: dict[str, str] = {}
        for sql, n in uses.items():
            if n > 1 and where is None:  # a few contacts' verdicts (contact_verdicts) need no full table
                tables[sql] = f"_qa_check_{len(tables)}"
                con.execute(f"CREATE TEMP TABLE {tables[sql]} AS {sql}")
        for p, cs in per:
            frames.append(_score_one(con, p, cs, where, tables))
    frames = [f for f in frames if not f.empty]
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=_COLUMNS)
    if key is not None:
        while len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = out.copy()
    return out


def contact_verdicts(ws: Any, record_id: str) -> list[dict[str, Any]]:
    """The automatic verdicts of one contact against each published principle (empty when none applies)."""
    df = score_contacts(ws, record_ids=[record_id])
    return df.to_dict("records")  # type: ignore[no-any-return]


# --- people confirm or correct ----------------------------------------------------------------------------


def qa_reviews(ws: Any) -> list[dict[str, Any]]:
    """The newest human verdict of each (contact, principle) reviewed, newest first."""
    with _ops(ws) as con:
        rows = con.execute(
            "SELECT * FROM qa_reviews q WHERE id = (SELECT max(id) FROM qa_reviews r WHERE r.record_id = q.record_id "
            "AND r.principle_id = q.principle_id) ORDER BY id DESC").fetchall()
    return [dict(r) | {"auto_passed": bool(r["auto_passed"]), "human_passed": bool(r["human_passed"])}
            for r in rows]


def _keys(seed: int, record_ids: pd.Series, principle_ids: pd.Series) -> np.ndarray:
    """A seeded, platform-independent pseudo-random key per (contact, principle): SipHash of the pair keyed by
    the seed (pandas' hash_pandas_object), so the same seed draws the same sample, at millions of rows a second."""
    pairs = pd.DataFrame({"r": record_ids.astype(str).to_numpy(), "p": principle_ids.astype(str).to_numpy()})
    return pd.util.hash_pandas_object(pairs, index=False, hash_key=f"{seed % 10**16:016d}").to_numpy()


def _texts(ws: Any, record_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not record_ids:
        return {}
    with ws.store.read() as con:
        rows = con.execute(
            "SELECT record_id, text, agent_text FROM contact WHERE valid_to IS NULL AND "
            + str(_filters_sql({"record_id": list(record_ids)}))).fetchall()
    clip = lambda t: None if t is None else (str(t)[:400] + ("…" if len(str(t)) > 400 else ""))  # noqa: E731
    return {str(r[0]): {"text": clip(r[1]), "agent_text": clip(r[2])} for r in rows}


def sample(ws: Any, n: int = 20, *, seed: int = 0, include_reviewed: bool = False) -> dict[str, Any]:
    """A QA sample of ``n`` (contact, principle) verdicts for people to confirm or correct.

    Half are automatic fails and half passes (so both kinds of mistake can be found), spread over the
    principles, chosen by a seeded hash (the same seed gives the same sample).  Contacts already reviewed are
    left out unless ``include_reviewed``.  Returns ``{"items": [...], "agreement": ..., "scored": ...}``.
    """
    if n < 1:
        raise CxchainError("The QA sample needs at least one contact (--sample N, N >= 1).")
    ps = published(ws)
    titles = {p.id: p for p in ps}
    df = score_contacts(ws, ps)
    done = {(r["record_id"], r["principle_id"]) for r in qa_reviews(ws)}
    if not include_reviewed and len(df) and done:
        # only rows of reviewed contacts can be reviewed pairs: test those exactly
        maybe = df["record_id"].isin({a for a, _ in done}).to_numpy()
        hit = np.zeros(len(df), dtype=bool)
        hit[maybe] = [(a, b) in done for a, b in zip(df["record_id"][maybe], df["principle_id"][maybe], strict=True)]
        df = df[~hit]
    picked: list[dict[str, Any]] = []
    if len(df):
        df = df.assign(_k=_keys(seed, df["record_id"], df["principle_id"]))
        fails, passes = df[~df["passed"]].sort_values("_k"), df[df["passed"]].sort_values("_k")
        want_fail = min(len(fails), (n + 1) // 2)
        want_pass = min(len(passes), n - want_fail)
        want_fail = min(len(fails), n - want_pass)
        for part, k in ((fails, want_fail), (passes, want_pass)):
            # round-robin over principles so each gets its share
            groups = [g for _, g in part.groupby("principle_id", sort=True)]
            rows: list[dict[str, Any]] = []
            i = 0
            while len(rows) < k and groups:
                g = groups[i % len(groups)]
                j = sum(1 for r in rows if r["principle_id"] == g["principle_id"].iloc[0])
                if j < len(g):
                    rows.append(g.iloc[j].to_dict())
                elif all(sum(1 for r in rows if r["principle_id"] == x["principle_id"].iloc[0]) >= len(x)
                         for x in groups):
                    break
                i += 1
            picked += rows
    texts = _texts(ws, [str(r["record_id"]) for r in picked])
    labels = {c.id: c.label for p in ps for c in checks_for(p, ws.settings)}
    items = []
    for r in sorted(picked, key=lambda r: r["_k"]):
        p = titles[r["principle_id"]]
        items.append({
            "record_id": r["record_id"], "principle_id": p.id, "principle": p.title, "principle_version": p.version,
            "passed": bool(r["passed"]), "verdict": "pass" if r["passed"] else "fail",
            "failed_checks": [{"id": c, "label": labels.get(c, c)} for c in r["failed_checks"]],
            "checks": [{"id": c, "label": labels.get(c, c)} for c in r["checks"]],
            "started_at": str(r["started_at"]), "channel": r["channel"], "reason_id": r["reason_id"],
            **texts.get(str(r["record_id"]), {"text": None, "agent_text": None}),
        })
    return {"items": items, "agreement": agreement(ws), "seed": seed,
            "scored": {"verdicts": int(len(df)), "failing": int((~df["passed"]).sum()) if len(df) else 0}}


def _record(ws: Any, record_id: str, principle_id: str, human: bool | None, action: str, note: str,
            actor: str) -> dict[str, Any]:
    ps = {p.id: p for p in published(ws)}
    if principle_id not in ps:
        raise NotFoundError(f"No published principle {principle_id!r}; published: {', '.join(ps)}.")
    df = score_contacts(ws, [ps[principle_id]], record_ids=[record_id])
    if df.empty:
        raise NotFoundError(f"Contact {record_id} is not scored against {principle_id}: no check of the principle "
                            "applies to it (or it is not a contact's first leg).")
    auto = bool(df["passed"].iloc[0])
    verdict = auto if human is None else human
    now = datetime.now().isoformat(timespec="seconds")
    with _ops(ws) as con, con:
        con.execute(
            "INSERT INTO qa_reviews (record_id, principle_id, principle_version, auto_passed, human_passed, action, "
            "note, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record_id, principle_id, ps[principle_id].version, int(auto), int(verdict), action, note.strip(), actor,
             now))
    # The record id is an internal surrogate, not a customer identifier; the note stays out of the audit log.
    ws.store.audit(actor, f"code.qa.{action}", principle_id,
                   {"record_id": record_id, "auto_passed": auto, "human_passed": verdict})
    return {"record_id": record_id, "principle_id": principle_id, "auto_passed": auto, "human_passed": verdict,
            "action": action, "agrees": auto == verdict, "actor": actor, "at": now}


def confirm(ws: Any, record_id: str, principle_id: str, *, note: str = "", actor: str = "cli") -> dict[str, Any]:
    """A person agrees with the automatic verdict of a contact against a principle (stored, audited)."""
    return _record(ws, record_id, principle_id, None, "confirm", note, actor)


def correct(ws: Any, record_id: str, principle_id: str, *, passed: bool, note: str = "",
            actor: str = "cli") -> dict[str, Any]:
    """A person gives the right verdict (``passed``); when it equals the automatic one it counts as agreement."""
    return _record(ws, record_id, principle_id, bool(passed), "correct", note, actor)


def agreement(ws: Any) -> dict[str, Any]:
    """How often people agree with the automatic score: overall and per principle (newest review of each
    contact and principle), with the confusion counts."""
    revs = qa_reviews(ws)

    def summ(rs: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(rs)
        agree = sum(1 for r in rs if r["auto_passed"] == r["human_passed"])
        return {
            "reviewed": n, "agreed": agree, "rate": round(agree / n, 4) if n else None,
            "auto_fail_human_pass": sum(1 for r in rs if not r["auto_passed"] and r["human_passed"]),
            "auto_pass_human_fail": sum(1 for r in rs if r["auto_passed"] and not r["human_passed"]),
        }

    by: dict[str, list[dict[str, Any]]] = {}
    for r in revs:
        by.setdefault(r["principle_id"], []).append(r)
    return {**summ(revs), "by_principle": {k: summ(v) for k, v in sorted(by.items())}}

