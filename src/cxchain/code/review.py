"""Design review: a proposed change (an initiative, or any change described in text) checked against the Code.

Every published principle is one checklist question ("Does this change keep the promise: Don't make me
chase?"), answered ``yes``, ``partly``, ``no`` or ``n/a`` with an optional comment.  The **score** is
100 x the mean of the answers that apply (yes = 1, partly = 0.5, no = 0; ``n/a`` is left out), and the
**verdict** is :data:`VERDICTS` by the score, except that any ``no`` caps it at ``concerns``: one broken
promise is never hidden by an average.  Reviews are stored with the principle versions they were made
against (so a later edit of a principle does not rewrite history), and audited.

Table in the workspace's ops SQLite (created on first use)::

    code_reviews   id, initiative_id (NULL for a text review), subject (the change in words), answers (JSON),
                   score, verdict, summary, actor, at
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from ..errors import CxchainError, NotFoundError
from .principles import Principle, code_store, list_principles

__all__ = ["ANSWERS", "VERDICTS", "checklist", "score_answers", "review", "reviews_of", "list_reviews",
           "get_review", "unreviewed_go_lives", "review_demo_go_lives"]

#: Answer -> credit towards the score (``n/a`` does not count).
ANSWERS: dict[str, float | None] = {"yes": 1.0, "partly": 0.5, "no": 0.0, "n/a": None}
#: Verdict by score: at least 75 keeps the Code, at least 50 raises concerns, below that conflicts with it.
VERDICTS: tuple[tuple[float, str], ...] = ((75.0, "keeps the code"), (50.0, "concerns"), (0.0, "conflicts"))

SCHEMA = """
CREATE TABLE IF NOT EXISTS code_reviews (
    id INTEGER PRIMARY KEY, initiative_id TEXT, subject TEXT NOT NULL, answers TEXT NOT NULL,
    score REAL, verdict TEXT NOT NULL, summary TEXT NOT NULL DEFAULT '', actor TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS code_reviews_initiative ON code_reviews (initiative_id);
"""


def _con(ws: Any) -> AbstractContextManager[sqlite3.Connection]:
    return code_store(ws, SCHEMA)


def _published(ws: Any) -> list[Principle]:
    ps = [p for p in list_principles(ws) if p.status == "published"]
    if not ps:
        raise CxchainError("There is no published CX Code to review against: run `cxchain code publish` first.")
    return ps


def checklist(ws: Any) -> list[dict[str, Any]]:
    """One question per published principle: ``{"principle_id", "version", "title", "question", "for_staff"}``."""
    return [
        {
            "principle_id": p.id,
            "version": p.version,
            "title": p.title,
            "question": f"Does this change keep the promise \u201c{p.title}\u201d? {p.statement}",
            "for_staff": p.for_staff,
        }
        for p in _published(ws)
    ]


def score_answers(answers: Mapping[str, str]) -> tuple[float | None, str]:
    """(score 0-100 or None when every answer is n/a, verdict) of a set of answers."""
    credits = [ANSWERS[a] for a in answers.values()]
    counted = [c for c in credits if c is not None]
    if not counted:
        return None, "not applicable"
    score = round(100.0 * sum(counted) / len(counted), 1)
    verdict = next(v for lo, v in VERDICTS if score >= lo)
    if "no" in answers.values() and verdict == "keeps the code":
        verdict = "concerns"
    return score, verdict


def review(
    ws: Any,
    *,
    answers: Mapping[str, str],
    initiative_id: str | None = None,
    text: str | None = None,
    comments: Mapping[str, str] | None = None,
    summary: str = "",
    actor: str = "cli",
) -> dict[str, Any]:
    """Record a design review of an initiative (``initiative_id``) or a change described in ``text``.

    ``answers`` maps every published principle id to ``yes`` / ``partly`` / ``no`` / ``n/a``; a missing or
    unknown principle, or another answer, is refused (nothing is stored).  Returns the stored review.
    """
    if bool(initiative_id) == bool(text and text.strip()):
        raise CxchainError("Review either an initiative (--initiative ID) or a change described in text (--text).")
    subject = (text or "").strip()
    if initiative_id:
        from ..redesign.initiatives import get_initiative

        subject = str(get_initiative(ws, initiative_id)["title"])
    ps = _published(ws)
    ids = [p.id for p in ps]
    unknown = sorted(set(answers) - set(ids))
    if unknown:
        raise CxchainError(f"Not a published principle: {', '.join(unknown)}. Published: {', '.join(ids)}.")
    missing = [i for i in ids if i not in answers]
    if missing:
        raise CxchainError(f"Answer every principle; missing: {', '.join(missing)}.")
    bad = {k: v for k, v in answers.items() if v not in ANSWERS}
    if bad:
        raise CxchainError(f"Answers are {', '.join(ANSWERS)}; got {bad}.")
    comments = dict(comments or {})
    rows: list[dict[str, Any]] = [
        {"principle_id": p.id, "version": p.version, "title": p.title, "answer": answers[p.id],
         "comment": str(comments.get(p.id, "")).strip()}
        for p in ps
    ]
    score, verdict = score_answers({p.id: answers[p.id] for p in ps})
    now = datetime.now().isoformat(timespec="seconds")
    with _con(ws) as con, con:
        cur = con.execute(
            "INSERT INTO code_reviews (initiative_id, subject, answers, score, verdict, summary, actor, at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (initiative_id, subject, json.dumps(rows), score, verdict, summary.strip(), actor, now),
        )
        rid = int(cur.lastrowid or 0)
    ws.store.audit(actor, "code.review", initiative_id or f"review:{rid}",
                   {"review": rid, "score": score, "verdict": verdict})
    return get_review(ws, rid)


def _row(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["answers"] = json.loads(d["answers"])
    d["counts"] = {a: sum(1 for x in d["answers"] if x["answer"] == a) for a in ANSWERS}
    return d


def get_review(ws: Any, review_id: int) -> dict[str, Any]:
    """One stored review (NotFoundError when there is none)."""
    with _con(ws) as con:
        r = con.execute("SELECT * FROM code_reviews WHERE id = ?", (review_id,)).fetchone()
    if r is None:
        raise NotFoundError(f"No design review {review_id}.")
    return _row(r)


def reviews_of(ws: Any, initiative_id: str) -> list[dict[str, Any]]:
    """The design reviews of one initiative, oldest first."""
    with _con(ws) as con:
        rows = con.execute("SELECT * FROM code_reviews WHERE initiative_id = ? ORDER BY id", (initiative_id,))
        return [_row(r) for r in rows]


def list_reviews(ws: Any) -> list[dict[str, Any]]:
    """Every design review, newest first."""
    with _con(ws) as con:
        return [_row(r) for r in con.execute("SELECT * FROM code_reviews ORDER BY id DESC")]


def unreviewed_go_lives(ws: Any) -> list[dict[str, Any]]:
    """Initiatives that went live (status live or done, or a go-live on or before ``as_of``; not stopped) without
    any design review: ``[{"id", "title", "go_live", "status"}]``."""
    from ..redesign.store import reader

    as_of = ws.settings.as_of.isoformat()
    with reader(ws) as con:
        con.executescript(SCHEMA)
        rows = con.execute(
            "SELECT id, title, go_live, status FROM initiatives i WHERE status <> 'stopped' AND "
            "(status IN ('live', 'done') OR (go_live IS NOT NULL AND go_live <= ?)) AND NOT EXISTS "
            "(SELECT 1 FROM code_reviews r WHERE r.initiative_id = i.id) ORDER BY seq",
            (as_of,),
        ).fetchall()
    return [dict(r) for r in rows]


#: Themes an initiative that cuts failure demand serves (the sample organisation's reviewer answers yes to these).
_FAILURE_THEMES = {"fix_causes", "chase", "right_first_time", "first_time"}


def review_demo_go_lives(ws: Any, *, actor: str = "demo") -> list[dict[str, Any]]:
    """The sample organisation's design reviews: each initiative that went live unreviewed is reviewed against the
    published code (yes for principles about failure demand, which the demo's initiatives cut; n/a otherwise)."""
    out = []
    ps = {p.id: p for p in _published(ws)}
    for ini in unreviewed_go_lives(ws):
        answers = {pid: ("yes" if set(p.evidence_rule.get("themes", [])) & _FAILURE_THEMES else "n/a")
                   for pid, p in ps.items()}
        comments = {pid: "It removes a cause of failure demand." for pid, a in answers.items() if a == "yes"}
        out.append(review(ws, answers=answers, initiative_id=ini["id"], comments=comments, actor=actor,
                          summary="Reviewed by the sample organisation's Code owner before go-live."))
    return out
