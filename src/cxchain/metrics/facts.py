"""Analysis tables built from the *current* versions of canonical records.

:func:`build_facts` (re)creates one well-defined table per grain, so every metric in
:mod:`cxchain.metrics.registry` reads exactly one table:

``contact_fact``
    one row per current contact (transfer legs stay rows).  ``interaction_id`` groups the legs of one
    customer contact: ``interaction_ref`` (shared across silos: the IVR session and the agent legs it led
    to carry the same ConnID, and are one contact from the customer's side), or the record id when there
    is none.  ``is_first_leg`` marks one row per interaction, preferring an agent leg over the IVR session;
    ``interaction_legs``, ``interaction_transferred`` (a leg had transfers > 0, or the interaction has more
    than one leg) and ``interaction_resolved`` (any leg agent-flagged resolved) describe the interaction.
    ``answered`` is ``NOT abandoned`` when the source says, else "has an answer time or talk time".
    ``offered`` marks queued, non-outbound contacts whose source tracks answer/abandon.  ``wait_s`` falls
    back to answered_at - started_at (or ended_at - started_at for abandons).  Insight columns (reason_id,
    reason_group, confidence, demand, failure_type, sentiment) come from ``contact_reason``,
    ``contact_demand`` and ``contact_sentiment`` when those tables exist, else NULL.
``survey_fact``
    one row per current response with its csat / nps / ces items (and their scales), linked to a contact
    when ``contact_ref`` equals a contact's source_key or interaction_ref (raw, or keyed-hashed when the
    workspace ``secret`` is given, since ``contact_ref`` is a ``ref`` field stored as a keyed hash).
``complaint_fact``
    one row per current complaint stage with working-day durations on the England & Wales calendar
    (:mod:`cxchain.metrics.calendar`): ``ack_wd`` receipt -> acknowledgement, ``response_wd``
    acknowledgement (or receipt when not acknowledged) -> response, ``received_to_response_wd``.
``case_fact``
    one row per current case / repair with ``hours_to_resolve`` and ``on_time`` (resolved by the promised date).
``homes``
    one row: sum of ``homes`` (default 1) over current property records, NULL when there are none.
"""

from __future__ import annotations

from datetime import date

import duckdb

from .calendar import bank_holidays

__all__ = ["build_facts", "FACT_TABLES", "INSIGHT_TABLES"]

FACT_TABLES = ("contact_fact", "survey_fact", "complaint_fact", "case_fact", "homes")

#: Optional insight tables (written by link 2) and the columns taken from each.
INSIGHT_TABLES: dict[str, dict[str, str]] = {
    "contact_reason": {"reason_id": "VARCHAR", "reason_group": "VARCHAR", "confidence": "DOUBLE"},
    "contact_demand": {"demand": "VARCHAR", "failure_type": "VARCHAR"},
    "contact_sentiment": {"sentiment": "DOUBLE"},
    "contact_issue": {"issue_reason_id": "VARCHAR", "issue_reason_group": "VARCHAR"},
}


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()
    return {str(r[0]) for r in rows}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute("SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                       "AND table_schema = current_schema()", [table]).fetchall()
    return {str(r[0]) for r in rows}


def _insight_parts(con: duckdb.DuckDBPyConnection) -> tuple[list[str], list[str]]:
    """(select expressions, join clauses) for the optional insight tables."""
    present = _tables(con)
    sel: list[str] = []
    joins: list[str] = []
    for i, (table, cols) in enumerate(INSIGHT_TABLES.items()):
        alias = f"ins{i}"
        have = _columns(con, table) if table in present else set()
        if "record_id" in have:
            joins.append(f'LEFT JOIN (SELECT * FROM "{table}" QUALIFY row_number() OVER (PARTITION BY record_id '
                         f'ORDER BY record_id) = 1) {alias} ON {alias}.record_id = c.record_id')
        for col, typ in cols.items():
            sel.append(f"CAST({alias}.{col} AS {typ}) AS {col}" if col in have else f"CAST(NULL AS {typ}) AS {col}")
    return sel, joins


def _build_contact_fact(con: duckdb.DuckDBPyConnection) -> None:
    sel, joins = _insight_parts(con)
    con.execute(f"""
        CREATE OR REPLACE TABLE contact_fact AS
        WITH rc AS (SELECT record_id, min(customer_key) AS customer_key FROM record_customer
                    WHERE customer_key IS NOT NULL GROUP BY record_id),
        c AS (SELECT *, coalesce(interaction_ref, record_id) AS interaction_id
              FROM contact WHERE valid_to IS NULL),
        base AS (
            SELECT c.record_id, c.source, c.source_key, rc.customer_key, c.channel, c.direction,
                   c.started_at, c.answered_at, c.ended_at,
                   CAST(date_trunc('week', c.started_at) AS DATE) AS week,
                   CAST(date_trunc('month', c.started_at) AS DATE) AS month,
                   c.queue, c.team, c.agent,
                   coalesce(c.wait_s, date_diff('millisecond', c.started_at, c.answered_at) / 1000.0,
                            CASE WHEN c.abandoned THEN date_diff('millisecond', c.started_at, c.ended_at) / 1000.0 END)
                       AS wait_s,
                   c.talk_s, c.hold_s, c.wrap_s,
                   CASE WHEN c.talk_s IS NULL AND c.hold_s IS NULL AND c.wrap_s IS NULL THEN NULL
                        ELSE coalesce(c.talk_s, 0) + coalesce(c.hold_s, 0) + coalesce(c.wrap_s, 0) END AS handle_s,
                   c.transfers, c.abandoned,
                   coalesce(NOT c.abandoned, c.answered_at IS NOT NULL OR coalesce(c.talk_s, 0) > 0) AS answered,
                   (c.abandoned IS NOT NULL OR c.answered_at IS NOT NULL)
                       AND coalesce(c.direction, 'inbound') <> 'outbound' AS offered,
                   c.resolved, c.interaction_ref, c.leg, c.segment, c.vulnerable, c.property_ref, c.tenancy_ref,
                   c.coded_reason, c.outcome, c.case_ref,
                   {", ".join(sel)},
                   c.interaction_id,
                   row_number() OVER w = 1 AS is_first_leg,
                   count(*) OVER (PARTITION BY c.interaction_id) AS interaction_legs,
                   coalesce(bool_or(c.transfers > 0) OVER (PARTITION BY c.interaction_id), false)
                       OR count(*) OVER (PARTITION BY c.interaction_id) > 1 AS interaction_transferred,
                   bool_or(c.resolved) OVER (PARTITION BY c.interaction_id) AS interaction_resolved,
                   max(coalesce(c.ended_at, c.started_at)) OVER (PARTITION BY c.interaction_id) AS interaction_ended_at
            FROM c LEFT JOIN rc ON rc.record_id = c.record_id
            {" ".join(joins)}
            WINDOW w AS (PARTITION BY c.interaction_id ORDER BY c.channel = 'ivr', c.leg NULLS LAST, c.started_at NULLS LAST,
                         c.record_id))
        SELECT * FROM base ORDER BY started_at, record_id""")


def _build_survey_fact(con: duckdb.DuckDBPyConnection, secret: str | None) -> None:
    keys = ["SELECT record_id, channel, is_first_leg, source_key AS k, 1 AS pri FROM contact_fact",
            "SELECT record_id, channel, is_first_leg, interaction_ref AS k, 2 AS pri FROM contact_fact "
            "WHERE interaction_ref IS NOT NULL"]
    if secret:
        h = f"substr(sha256({_lit(secret)} || trim(%s)), 1, 16)"
        keys += [f"SELECT record_id, channel, is_first_leg, {h % 'source_key'} AS k, 1 AS pri FROM contact_fact",
                 f"SELECT record_id, channel, is_first_leg, {h % 'interaction_ref'} AS k, 2 AS pri FROM contact_fact "
                 "WHERE interaction_ref IS NOT NULL"]

    def item(code: str) -> str:
        return (f"max(i.score) FILTER (WHERE lower(i.item) = '{code}') AS {code}, "
                f"max(i.scale_min) FILTER (WHERE lower(i.item) = '{code}') AS {code}_scale_min, "
                f"max(i.scale_max) FILTER (WHERE lower(i.item) = '{code}') AS {code}_scale_max")

    con.execute(f"""
        CREATE OR REPLACE TABLE survey_fact AS
        WITH s AS (SELECT * FROM survey WHERE valid_to IS NULL),
        items AS (SELECT s.record_id, {item('csat')}, {item('nps')}, {item('ces')}
                  FROM s JOIN survey_item i ON i.record_id = s.record_id AND i.version = s.version
                  GROUP BY s.record_id),
        keys AS ({" UNION ALL ".join(keys)}),
        link AS (SELECT s.record_id, k.record_id AS contact_record_id FROM s JOIN keys k ON k.k = s.contact_ref
                 QUALIFY row_number() OVER (PARTITION BY s.record_id ORDER BY (k.channel IS NOT DISTINCT FROM s.channel) DESC,
                                            k.pri, k.is_first_leg DESC, k.record_id) = 1),
        rc AS (SELECT record_id, min(customer_key) AS customer_key FROM record_customer
               WHERE customer_key IS NOT NULL GROUP BY record_id)
        SELECT s.record_id, s.source, s.source_key, s.instrument, s.responded_at,
               CAST(date_trunc('week', s.responded_at) AS DATE) AS week,
               CAST(date_trunc('month', s.responded_at) AS DATE) AS month,
               items.csat, coalesce(items.csat_scale_min, 1) AS csat_scale_min,
               coalesce(items.csat_scale_max, 5) AS csat_scale_max,
               items.nps, items.ces, coalesce(items.ces_scale_min, 1) AS ces_scale_min,
               coalesce(items.ces_scale_max, 7) AS ces_scale_max,
               s.contact_ref, link.contact_record_id, s.case_ref,
               coalesce(s.channel, cf.channel) AS channel,
               cf.reason_id, cf.reason_group, cf.queue, cf.team, cf.segment,
               coalesce(s.property_ref, cf.property_ref) AS property_ref,
               coalesce(rc.customer_key, cf.customer_key) AS customer_key
        FROM s LEFT JOIN items ON items.record_id = s.record_id
        LEFT JOIN link ON link.record_id = s.record_id
        LEFT JOIN contact_fact cf ON cf.record_id = link.contact_record_id
        LEFT JOIN rc ON rc.record_id = s.record_id
        ORDER BY s.responded_at, s.record_id""")


def _build_calendar(con: duckdb.DuckDBPyConnection) -> None:
    """``working_day(day, is_working, wd_index)``: working days after a up to b = index(b) - index(a)."""
    rng = con.execute("""SELECT min(least(CAST(received_at AS DATE), CAST(acknowledged_at AS DATE), CAST(responded_at AS DATE))),
                                max(greatest(CAST(received_at AS DATE), CAST(acknowledged_at AS DATE), CAST(responded_at AS DATE)))
                         FROM complaint WHERE valid_to IS NULL""").fetchall()[0]
    first = min(date(2015, 1, 1), rng[0]) if rng[0] else date(2015, 1, 1)
    last = max(date(2030, 12, 31), rng[1]) if rng[1] else date(2030, 12, 31)
    hols = [d for y in range(first.year, last.year + 1) for d in bank_holidays(y)]
    con.execute(f"""
        CREATE OR REPLACE TABLE working_day AS
        WITH d AS (SELECT CAST(g AS DATE) AS day FROM generate_series(DATE '{first}', DATE '{last}', INTERVAL 1 DAY) t(g)),
        h AS (SELECT CAST(x AS DATE) AS day FROM unnest([{", ".join(f"'{d}'" for d in hols)}]::DATE[]) t(x)),
        w AS (SELECT d.day, isodow(d.day) <= 5 AND h.day IS NULL AS is_working FROM d LEFT JOIN h ON h.day = d.day)
        SELECT day, is_working, CAST(sum(CAST(is_working AS INTEGER)) OVER (ORDER BY day) AS INTEGER) AS wd_index
        FROM w ORDER BY day""")


def _build_complaint_fact(con: duckdb.DuckDBPyConnection) -> None:
    _build_calendar(con)
    con.execute("""
        CREATE OR REPLACE TABLE complaint_fact AS
        WITH c AS (SELECT * FROM complaint WHERE valid_to IS NULL),
        rc AS (SELECT record_id, min(customer_key) AS customer_key FROM record_customer
               WHERE customer_key IS NOT NULL GROUP BY record_id)
        SELECT c.record_id, c.source, c.source_key, c.stage, c.received_at, c.acknowledged_at, c.responded_at,
               CAST(date_trunc('week', c.received_at) AS DATE) AS week,
               CAST(date_trunc('month', c.received_at) AS DATE) AS month,
               c.upheld, c.category, c.business_area, c.case_ref, c.contact_ref, c.property_ref, c.tenancy_ref,
               rc.customer_key,
               wa.wd_index - wr.wd_index AS ack_wd,
               wp.wd_index - coalesce(wa.wd_index, wr.wd_index) AS response_wd,
               wp.wd_index - wr.wd_index AS received_to_response_wd
        FROM c LEFT JOIN rc ON rc.record_id = c.record_id
        LEFT JOIN working_day wr ON wr.day = CAST(c.received_at AS DATE)
        LEFT JOIN working_day wa ON wa.day = CAST(c.acknowledged_at AS DATE)
        LEFT JOIN working_day wp ON wp.day = CAST(c.responded_at AS DATE)
        ORDER BY c.received_at, c.record_id""")


def _build_case_fact(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""
        CREATE OR REPLACE TABLE case_fact AS
        WITH c AS (SELECT * FROM "case" WHERE valid_to IS NULL),
        rc AS (SELECT record_id, min(customer_key) AS customer_key FROM record_customer
               WHERE customer_key IS NOT NULL GROUP BY record_id)
        SELECT c.record_id, c.source, c.source_key, c.case_type, c.category, c.status, c.business_area, c.priority,
               c.created_at, c.promised_at, c.resolved_at,
               CAST(date_trunc('week', c.created_at) AS DATE) AS week,
               CAST(date_trunc('month', c.created_at) AS DATE) AS month,
               date_diff('second', c.created_at, c.resolved_at) / 3600.0 AS hours_to_resolve,
               CASE WHEN c.resolved_at IS NOT NULL AND c.promised_at IS NOT NULL
                    THEN c.resolved_at <= c.promised_at END AS on_time,
               c.reopened, c.first_time_fix, c.visits, c.property_ref, c.tenancy_ref, rc.customer_key
        FROM c LEFT JOIN rc ON rc.record_id = c.record_id
        ORDER BY c.created_at, c.record_id""")


def _build_homes(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("""CREATE OR REPLACE TABLE homes AS
                   SELECT CASE WHEN count(*) > 0 THEN CAST(sum(coalesce(homes, 1)) AS BIGINT) END AS homes,
                          (SELECT count(DISTINCT customer_key) FROM record_customer) AS customers
                   FROM property WHERE valid_to IS NULL""")


def build_facts(con: duckdb.DuckDBPyConnection, *, secret: str | None = None) -> dict[str, int]:
    """(Re)create the fact tables from current records; returns the row count of each.

    ``secret`` is the workspace key of the reference hashes; give it so survey ``contact_ref`` values (stored
    as keyed hashes) can be matched to contacts' source keys and interaction refs.
    """
    _build_contact_fact(con)
    _build_survey_fact(con, secret)
    _build_complaint_fact(con)
    _build_case_fact(con)
    _build_homes(con)
    return {t: int(con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0]) for t in FACT_TABLES}
