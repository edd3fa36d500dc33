"""The story: the published findings arranged so a manager reads them in ten minutes.

Sections follow what a manager asks: the headline; what customers contact us about; where we fail
them (failure demand); what drives dissatisfaction; what changed; what we do not know yet.  The
story is data (a dict, also the JSON twin of the web page); :mod:`cxchain.report.story` renders it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb

from .findings import load_findings

SECTOR_NAMES = {"council": "Local council", "housing": "Social housing landlord", "utility": "Utility", "bank": "Bank",
                "telecom": "Telecoms provider", "retail": "Retailer"}
SECTIONS = (
    ("demand", "What customers contact us about", "Every contact is given a reason from our own taxonomy."),
    ("failure", "Where we fail customers", "Failure demand: contacts caused by not doing something, or not doing it right, "
                                           "for the customer. Every one is avoidable."),
    ("drivers", "What drives dissatisfaction", "From post-contact surveys linked to the contacts they followed."),
    ("change", "What changed", "Shifts that are signals, not noise (process limits and tests)."),
)


def build_story(con: duckdb.DuckDBPyConnection, settings: Any, *, run: Any = "", top: int = 5) -> dict[str, Any]:
    """The story as a dict from the published analytical store."""
    findings = load_findings(con)
    period = con.execute("SELECT CAST(min(started_at) AS DATE), CAST(max(started_at) AS DATE), count(*) FILTER (WHERE is_first_leg) "
                         "FROM contact_fact").fetchall()[0]
    ranked = [f for f in findings if f["kind"] not in ("top_reasons", "failure_share")]
    headline_f = ranked[0] if ranked else (findings[0] if findings else None)
    fd = next((f for f in findings if f["kind"] == "failure_share"), None)
    unclassified = con.execute("SELECT count(*) FILTER (WHERE reason_id = 'unclassified'), count(*) FROM contact_reason").fetchall()[0]
    unknown_demand = con.execute("SELECT count(*) FILTER (WHERE demand = 'unknown'), count(*) FROM contact_demand").fetchall()[0]
    surveyed = con.execute("SELECT count(*), count(contact_record_id) FROM survey_fact").fetchall()[0]
    numbers = [{"label": "contacts", "value": f"{period[2]:,}"}]
    if fd:
        numbers.append({"label": "failure demand", "value": f"{fd['value']:.0%}"})
    numbers.append({"label": "survey responses linked to a contact", "value": f"{surveyed[1]:,} of {surveyed[0]:,}"})
    numbers.append({"label": "contacts with no reason yet", "value": f"{unclassified[0] / max(unclassified[1], 1):.1%}"})
    sections = []
    for sid, title, intro in SECTIONS:
        items = [f for f in findings if f["section"] == sid]
        sections.append({"id": sid, "title": title, "intro": intro, "findings": items[:6]})
    unknowns = [f"{unclassified[0]:,} contacts ({unclassified[0] / max(unclassified[1], 1):.1%}) fit no reason in the taxonomy yet: "
                "review the discovery proposals.",
                f"{unknown_demand[0]:,} contacts ({unknown_demand[0] / max(unknown_demand[1], 1):.1%}) could not be classed as value or "
                "failure demand.",
                f"{surveyed[0] - surveyed[1]:,} survey responses could not be tied to the contact they followed."]
    small = int(settings["metrics.small_number"])
    conventions = {k: settings[k] for k in ("metrics.version", "metrics.repeat_window_days", "metrics.repeat_same_reason",
                                              "metrics.csat_top_box", "metrics.service_level_seconds")}
    return {
        "organisation": settings["organisation"] or "Our organisation",
        "sector": settings["sector"], "sector_name": SECTOR_NAMES.get(str(settings["sector"]), str(settings["sector"])),
        "period": {"start": str(period[0]), "end": str(period[1])}, "as_of": settings.as_of.isoformat(),
        "generated_at": datetime.now().isoformat(timespec="minutes"), "run": run,
        "headline": (headline_f["statement"] if headline_f else "Not enough data for findings yet."),
        "numbers": numbers, "sections": sections, "top": [f["id"] for f in ranked[:top]],
        "top_findings": ranked[:top], "unknowns": unknowns, "small_number": small, "conventions": conventions,
    }
