"""Journeys: per resolved customer, every event across silos in time order.

Later links read ``journey_event`` for channel switching and repeat contact within a window; it is
rebuilt from the current versions of every record after each link step.
"""

from __future__ import annotations

import duckdb

EVENT_SOURCES = {
    # entity: (timestamp column, channel expression, kind expression)
    "contact": ("started_at", "channel", "'contact'"),
    "case": ("created_at", "NULL", "coalesce(case_type, 'case')"),
    "complaint": ("received_at", "NULL", "'complaint_stage_' || coalesce(CAST(stage AS VARCHAR), '?')"),
    "survey": ("responded_at", "channel", "'survey'"),
}


def build_journeys(con: duckdb.DuckDBPyConnection) -> int:
    """Rebuild ``journey_event``; returns the number of events."""
    parts = []
    for entity, (ts, channel, kind) in EVENT_SOURCES.items():
        parts.append(f"""SELECT rc.customer_key, e.{ts} AS occurred_at, '{entity}' AS entity, e.record_id, e.source,
                                {channel} AS channel, {kind} AS kind
                         FROM "{entity}" e JOIN record_customer rc USING (record_id)
                         WHERE e.valid_to IS NULL AND e.{ts} IS NOT NULL""")
    con.execute("DELETE FROM journey_event")
    con.execute(f"""
        INSERT INTO journey_event
        WITH ev AS ({" UNION ALL ".join(parts)}),
        ordered AS (
            SELECT *, row_number() OVER w AS seq,
                   date_diff('second', lag(occurred_at) OVER w, occurred_at) / 3600.0 AS gap_hours,
                   lag(channel IGNORE NULLS) OVER w AS prev_channel
            FROM ev WINDOW w AS (PARTITION BY customer_key ORDER BY occurred_at, record_id))
        SELECT customer_key, seq, occurred_at, entity, record_id, source, channel, kind, gap_hours,
               channel IS NOT NULL AND prev_channel IS NOT NULL AND channel <> prev_channel AS channel_switch
        FROM ordered""")
    return int(con.execute("SELECT count(*) FROM journey_event").fetchall()[0][0])
