"""Failure demand: is each contact value demand, failure demand, or unknown, and which kind of failure.

Four sources of evidence, strongest first (Vanguard's typology, domain brief section 2):

1. **Text cues** in the customer's own words: chasing ("still waiting", "no one got back to
   me"), not done right ("still not fixed", "came back"), did not understand ("what does this
   letter mean"), complaint ("I want to complain"); and the agent's wrap-note shorthand for the
   same ("chased w/ team", "cb req", "re-raised", "expl letter", "comp adv"), which is all a call
   has.
2. **Repeat linkage**: the same resolved customer contacted us about the same reason group within
   the repeat window after the previous contact ended (and not as a forward: less than the
   transfer gap after a transferred contact), the same convention as the ``repeat_rate`` metric
   seen from the later contact: a repeat of an unresolved issue.
3. **The customer's own sentences**, read by a model distilled from failure and value prototypes
   (:mod:`.demand_text`): where a contact has the customer's words, this decides between value and
   failure when 1 and 2 are silent (measured on the sample organisation's chats and emails: 76.3%
   accuracy, against 65.6% when the reason's typology decides).
4. **The reason's typology** in the workspace taxonomy: a reason is value demand, failure demand
   (with its failure type) or either.

A contact with none of these (an unclassified reason, no cue, no repeat) is ``unknown``: counted
and reported, never guessed.  Avoidable contact = failure demand; value demand that customers
could have self-served is reported apart (``self_serviceable``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb
import pyarrow as pa

from .demand_text import THRESHOLD as TEXT_THRESHOLD
from .taxonomy import Taxonomy

#: Text cues per failure type, as case-insensitive regular expressions over redacted customer text.
CUES: dict[str, str] = {
    "chasing_progress": r"(still (waiting|not heard|no (reply|response|news|update))|chas(e|ing)|no one (has )?(got|gotten|called|rang|come) back"
                        r"|nobody (has )?(got|called|rang|come) back|heard nothing|any (update|news)|been waiting|promised (to|a)"
                        r"|(told|said) (it|they|someone) would|when (will|is) (someone|it|this)|how much longer|third time|second time"
                        r"|(called|rung|rang|phoned|emailed|written) (you )?(several|three|four|many|a few|2|3|4) times)",
    "not_done_right": r"(still (not|isn.t) (fixed|working|done|sorted|collected|right)|not (been )?(fixed|done) (properly|right)"
                      r"|came back|broke again|happened again|wrong (amount|address|bill|item)|(got|made) (it|a) wrong"
                      r"|mistake|missed again|didn.t (fix|sort|collect)|not sorted)",
    "did_not_understand": r"(don.t understand|do not understand|what does (this|the|your) (letter|bill|notice|email|statement) mean"
                          r"|confus(ed|ing)|doesn.t make sense|makes no sense|not clear|unclear|explain (my|the|this) (bill|letter|statement))",
    "complaint": r"(\bcomplain|\bcomplaint\b|unacceptable|disgrace|disgusted|appalling|ombudsman|formal complaint)",
}


#: Wrap-note shorthand agents use for failure demand (on the agent's note only: a customer saying "I was
#: told to call back" is covered above).  Notes are terse ("chased w/ team", "cb req", "re-raised",
#: "escalated to TL", "expl letter", "comp adv"), so these are whole-word abbreviations, not phrases.
AGENT_CUES: dict[str, str] = {
    "complaint": r"(\bcomp(laint)?\.? ?(adv|advice|logged|raised|rec|received)\b|\bstage ?[12]\b)",
    "chasing_progress": r"(\bchas(e|ed|ing)\b|\bcb ?req|call ?back req|\b[2-9](nd|rd|th) call\b|\bescalat|\bre-?rais(e|ed)\b)",
    "not_done_right": r"(\bre-?(logged|opened|called)\b|\bapologi[sz](ed|e)\b|\brecall(ed)?\b)",
    "did_not_understand": r"(\bexpl(ained)?\.? ?(letter|bill|statement|notice|charges?)\b)",
}


def link_follow_ups(con: duckdb.DuckDBPyConnection, follow_up_reasons: Iterable[str], window_days: int) -> int:
    """Write ``contact_issue(record_id, issue_reason_id, issue_reason_group, follows_up_on)``: the issue each
    current contact is about.

    A contact on a follow-up reason (chasing, not done right, reported again, a complaint: the
    taxonomy's ``follows_up`` reasons) is about whatever the same customer last contacted us about:
    its issue is the reason of that customer's latest earlier contact (by start, then record id) with
    a classified reason that is not itself a follow-up, started at most ``window_days`` before it
    (``follows_up_on`` is then that contact's record id; it may be an earlier leg of the same interaction,
    such as the IVR route the caller chose before saying they were chasing).  Every other contact, and a follow-up with
    no such contact, is about its own reason.  Without this a "still waiting for my new bin" chaser,
    classified as chasing, never counts as a repeat of the bin request (measured on the 20,000-contact
    council demo: it was 40 % of the true repeats on the planted hot spot that repeat linkage lost).
    Returns how many contacts took an earlier contact's issue.
    """
    con.register("_follow_up_reasons", pa.table({"reason_id": pa.array(sorted(set(follow_up_reasons)), pa.string())}))
    try:
        _create_contact_issue(con, window_days)
    finally:
        con.unregister("_follow_up_reasons")
    return int(con.execute("SELECT count(follows_up_on) FROM contact_issue").fetchall()[0][0])


def _create_contact_issue(con: duckdb.DuckDBPyConnection, window_days: int) -> None:
    con.execute(f"""
        CREATE OR REPLACE TABLE contact_issue AS
        WITH c AS (SELECT c.record_id, c.started_at, rc.customer_key, cr.reason_id, cr.reason_group,
                          fu.reason_id IS NOT NULL AS follows_up
                   FROM contact c JOIN contact_reason cr ON cr.record_id = c.record_id
                   LEFT JOIN (SELECT record_id, min(customer_key) AS customer_key FROM record_customer
                              WHERE customer_key IS NOT NULL GROUP BY record_id) rc ON rc.record_id = c.record_id
                   LEFT JOIN _follow_up_reasons fu ON fu.reason_id = cr.reason_id
                   WHERE c.valid_to IS NULL),
        subject AS (SELECT record_id, started_at, customer_key, reason_id, reason_group FROM c
                    WHERE customer_key IS NOT NULL AND started_at IS NOT NULL AND NOT follows_up
                      AND reason_id IS NOT NULL AND reason_id <> 'unclassified'),
        earlier AS (
            SELECT f.record_id, s.record_id AS on_record_id, s.reason_id, s.reason_group,
                   row_number() OVER (PARTITION BY f.record_id ORDER BY s.started_at DESC, s.record_id DESC) AS k
            FROM c f JOIN subject s ON s.customer_key = f.customer_key
             AND (s.started_at < f.started_at OR (s.started_at = f.started_at AND s.record_id < f.record_id))
             AND s.started_at >= f.started_at - INTERVAL {int(window_days)} DAY
            WHERE f.follows_up)
        SELECT c.record_id, coalesce(e.reason_id, c.reason_id) AS issue_reason_id,
               CASE WHEN e.record_id IS NULL THEN c.reason_group ELSE e.reason_group END AS issue_reason_group,
               e.on_record_id AS follows_up_on
        FROM c LEFT JOIN (SELECT * FROM earlier WHERE k = 1) e ON e.record_id = c.record_id""")


def classify_demand(con: duckdb.DuckDBPyConnection, taxonomy: Taxonomy, settings: Any) -> dict[str, int]:
    """Write ``contact_demand(record_id, demand, failure_type, evidence, self_serviceable)`` for current contacts,
    and ``contact_issue`` (:func:`link_follow_ups`), which its repeat linkage uses.

    Needs ``contact_reason`` (from the reason classifier) and ``record_customer``.
    """
    reasons = pa.table({
        "reason_id": [r.id for r in taxonomy.active],
        "r_demand": [r.demand for r in taxonomy.active],
        "r_failure_type": [r.failure_type for r in taxonomy.active],
        "r_self": [bool(getattr(r, "self_serviceable", False)) for r in taxonomy.active],
    })
    con.register("_reasons", reasons)
    window = int(settings["metrics.repeat_window_days"])
    gap = int(settings["metrics.repeat_transfer_gap_minutes"])
    same = str(settings["metrics.repeat_same_reason"])
    link_follow_ups(con, [r.id for r in taxonomy.active if r.follows_up], window)
    # the same issue key as the repeat_rate metric (metrics.compile._reason_key)
    issue = str(settings["metrics.repeat_follow_ups"]) == "issue"
    key = {"group": "ci.issue_reason_group" if issue else "cr.reason_group",
           "reason": "ci.issue_reason_id" if issue else "cr.reason_id", "any": "'*'"}[same]
    text = "lower(coalesce(c.text, '') || ' ' || coalesce(c.agent_text, ''))"
    cue_cases = " ".join(f"WHEN regexp_matches({text}, '{pattern}') THEN '{kind}'"
                         for kind, pattern in (("complaint", CUES["complaint"]), ("chasing_progress", CUES["chasing_progress"]),
                                               ("not_done_right", CUES["not_done_right"]),
                                               ("did_not_understand", CUES["did_not_understand"])))
    note = "lower(coalesce(c.agent_text, ''))"
    cue_cases += " " + " ".join(f"WHEN regexp_matches({note}, '{pattern}') THEN '{kind}'" for kind, pattern in AGENT_CUES.items())
    has_tf = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'contact_text_failure'").fetchall()[0][0]
    text_failure = ("contact_text_failure" if has_tf else
                    "(SELECT NULL::VARCHAR AS record_id, NULL::DOUBLE AS p_failure, NULL::VARCHAR AS failure_type)")
    threshold = TEXT_THRESHOLD
    con.execute(f"""
        CREATE OR REPLACE TABLE contact_demand AS
        WITH c AS (SELECT * FROM contact WHERE valid_to IS NULL),
        base AS (
            SELECT c.record_id, coalesce(c.interaction_ref, c.record_id) AS interaction_id, c.started_at,
                   coalesce(c.ended_at, c.started_at) AS ended_at, c.transfers, rc.customer_key,
                   cr.reason_id, cr.reason_group, {key} AS rkey, CASE {cue_cases} END AS cue
            FROM c LEFT JOIN contact_reason cr USING (record_id) LEFT JOIN record_customer rc USING (record_id)
            LEFT JOIN contact_issue ci USING (record_id)),
        -- one row per interaction (an IVR session and the call legs it led to are one contact)
        inter AS (
            SELECT customer_key, rkey, interaction_id, min(started_at) AS started_at, max(ended_at) AS ended_at,
                   max(coalesce(transfers, 0)) AS transfers
            FROM base WHERE customer_key IS NOT NULL AND rkey IS NOT NULL AND reason_id <> 'unclassified'
            GROUP BY ALL),
        seq AS (
            SELECT *, lag(ended_at) OVER w AS prev_at, lag(transfers) OVER w AS prev_transfers
            FROM inter WINDOW w AS (PARTITION BY customer_key, rkey ORDER BY started_at, interaction_id)),
        irep AS (
            SELECT interaction_id, bool_or(prev_at IS NOT NULL AND started_at - prev_at <= INTERVAL {window} DAY
                   AND NOT (prev_transfers > 0 AND started_at - prev_at < INTERVAL {gap} MINUTE)) AS is_repeat
            FROM seq GROUP BY 1),
        rep AS (SELECT b.record_id, irep.is_repeat FROM base b JOIN irep USING (interaction_id)),
        -- a cue anywhere in an interaction (the agent's note on the call) speaks for its IVR session too
        icue AS (SELECT interaction_id, min(cue) AS cue FROM base WHERE cue IS NOT NULL GROUP BY 1)
        SELECT b.record_id,
               CASE WHEN b.cue IS NOT NULL THEN 'failure'
                    WHEN coalesce(rep.is_repeat, FALSE) THEN 'failure'
                    WHEN tf.p_failure IS NOT NULL THEN CASE WHEN tf.p_failure >= {threshold} THEN 'failure' ELSE 'value' END
                    WHEN r.r_demand = 'failure' THEN 'failure'
                    WHEN r.r_demand = 'value' THEN 'value'
                    ELSE 'unknown' END AS demand,
               CASE WHEN b.cue IS NOT NULL THEN b.cue
                    WHEN coalesce(rep.is_repeat, FALSE) THEN 'repeat_unresolved'
                    WHEN tf.p_failure IS NOT NULL THEN CASE WHEN tf.p_failure >= {threshold} THEN tf.failure_type END
                    WHEN r.r_demand = 'failure' THEN coalesce(r.r_failure_type, 'not_done_right') END AS failure_type,
               CASE WHEN b.cue IS NOT NULL THEN 'text_cue' WHEN coalesce(rep.is_repeat, FALSE) THEN 'repeat'
                    WHEN tf.p_failure IS NOT NULL THEN 'text_model'
                    WHEN r.r_demand IN ('failure', 'value') THEN 'reason' ELSE 'none' END AS evidence,
               coalesce(rep.is_repeat, FALSE) AS is_repeat,
               coalesce(r.r_self, FALSE) AND NOT (b.cue IS NOT NULL OR coalesce(rep.is_repeat, FALSE) OR r.r_demand = 'failure')
                   AS self_serviceable
        FROM (SELECT b.* EXCLUDE (cue), coalesce(b.cue, icue.cue) AS cue FROM base b LEFT JOIN icue USING (interaction_id)) b
        LEFT JOIN rep USING (record_id) LEFT JOIN _reasons r ON r.reason_id = b.reason_id
        LEFT JOIN {text_failure} tf USING (record_id)""")
    con.unregister("_reasons")
    rows = con.execute("SELECT demand, count(*) FROM contact_demand GROUP BY 1").fetchall()
    return {str(k): int(v) for k, v in rows}
