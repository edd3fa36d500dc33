"""The insight link's health: is there a current story, and does it cover the demand?"""

from __future__ import annotations

from typing import Any

import duckdb

#: Stable reason codes of the insight link.
INSIGHT_REASONS = {
    "no_story": "No insight has been computed for the published data.",
    "insight_stale": "Data was loaded after the last insight run.",
    "unclassified_high": "Too many contacts fit no contact reason.",
    "unknown_demand_high": "Too many contacts could not be classed as value or failure demand.",
    "no_findings": "The last run produced no findings.",
}
UNCLASSIFIED_LIMIT = 0.10
UNKNOWN_DEMAND_LIMIT = 0.25


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]).fetchall()[0][0])


def insight_health(con: duckdb.DuckDBPyConnection | None) -> dict[str, Any]:
    """``{"status": "holds|weak|broken", "reasons": [{"code", "text"}]}`` for the insight link."""
    if con is None or not _has(con, "finding") or not _has(con, "contact_reason"):
        return {"status": "broken", "reasons": [{"code": "no_story", "text": INSIGHT_REASONS["no_story"] + " Run `cxchain run`."}]}
    reasons: list[dict[str, str]] = []
    last_insight, last_load = con.execute("""SELECT (SELECT max(started_at) FROM run_log WHERE kind = 'insight'),
                                                    (SELECT max(started_at) FROM batch WHERE rows_loaded > 0)""").fetchall()[0]
    if last_insight is None:
        return {"status": "broken", "reasons": [{"code": "no_story", "text": INSIGHT_REASONS["no_story"] + " Run `cxchain run`."}]}
    if last_load is not None and last_load > last_insight:
        reasons.append({"code": "insight_stale", "text": "Data was loaded after the last insight run: run `cxchain run` to refresh the story."})
    un, n = con.execute("SELECT count(*) FILTER (WHERE reason_id = 'unclassified'), count(*) FROM contact_reason").fetchall()[0]
    if n and un / n > UNCLASSIFIED_LIMIT:
        reasons.append({"code": "unclassified_high", "text": f"{un / n:.0%} of contacts fit no reason (limit {UNCLASSIFIED_LIMIT:.0%}): "
                                                            "review the discovery proposals and teach examples."})
    if _has(con, "contact_demand"):
        uk, m = con.execute("SELECT count(*) FILTER (WHERE demand = 'unknown'), count(*) FROM contact_demand").fetchall()[0]
        if m and uk / m > UNKNOWN_DEMAND_LIMIT:
            reasons.append({"code": "unknown_demand_high", "text": f"{uk / m:.0%} of contacts are neither value nor failure demand "
                                                                   f"(limit {UNKNOWN_DEMAND_LIMIT:.0%}): type the reasons marked 'either'."})
    if not con.execute("SELECT count(*) FROM finding").fetchall()[0][0]:
        reasons.append({"code": "no_findings", "text": INSIGHT_REASONS["no_findings"]})
    return {"status": "weak" if reasons else "holds", "reasons": reasons}
