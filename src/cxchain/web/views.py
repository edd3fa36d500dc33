"""View functions: each turns library calls into one context dict, rendered as HTML or JSON alike.

A view never decides how it is shown: :func:`cxchain.web.app.render` picks the HTML template, the JSON
twin or a CSV / Excel download of one of its ``tables``.  Tables share one shape::

    {"id": "sources", "title": "...", "columns": [{"key": "rows", "label": "Rows", "count": True}, ...],
     "rows": [{...}, ...]}

Columns flagged ``count`` hold numbers of people or contacts: values below the workspace's
``metrics.small_number`` are suppressed (``None``) here, so the page, its JSON twin and the
downloads all show the same thing.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

from ..errors import NotFoundError
from ..metrics import REGISTRY, drilldown
from ..workspace import Workspace
from .users import ROLES, User, list_users

PAGE_SIZE = 50
LINK_TITLES = {"data": "1 · Data", "insight": "2 · Insight", "priorities": "3 · Priorities", "redesign": "4 · Redesign",
               "cycle": "5 · Cycle", "code": "CX Code"}


def _col(key: str, label: str, *, count: bool = False, unit: str = "") -> dict[str, Any]:
    return {"key": key, "label": label, "count": count, "unit": unit}


def table(table_id: str, title: str, columns: list[dict[str, Any]], rows: list[dict[str, Any]],
          small: int) -> dict[str, Any]:
    """A table in the shared shape, with small counts suppressed and only the declared columns kept."""
    keys = [c["key"] for c in columns]
    counts = {c["key"] for c in columns if c["count"]}
    out = []
    for r in rows:
        row = {k: r.get(k) for k in keys}
        for k in counts:
            v = row.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < v < small:
                row[k] = None
        out.append(row)
    return {"id": table_id, "title": title, "columns": columns, "rows": out}


def _small(ws: Workspace) -> int:
    return int(ws.settings["metrics.small_number"])


def overview(ws: Workspace) -> dict[str, Any]:
    """Chain overview: each link's status, its reasons, and the next action (the first reason's fix)."""
    health = ws.health()
    links = []
    for name, title in LINK_TITLES.items():
        h = health["links"].get(name)
        if h is None:
            links.append({"link": name, "title": title, "status": "not_built", "reasons": [],
                          "next_action": "This link is not part of this version of cxchain yet."})
            continue
        reasons = list(h.get("reasons", []))
        links.append({"link": name, "title": title, "status": h["status"], "reasons": reasons,
                      "next_action": reasons[0]["text"] if reasons else "Nothing to do: this link holds."})
    published = ws.store.current() or {}
    return {"organisation": ws.settings.values.get("organisation") or ws.path.name,
            "as_of": health["as_of"], "generation": published.get("generation"), "links": links}


def data(ws: Workspace) -> dict[str, Any]:
    """Sources catalogue (freshness, link coverage) and the open quarantine with its fix hints."""
    small = _small(ws)
    sources = ws.sources()
    src_rows = [{**s, "linked_share": s.get("linked_share"), "fresh": s.get("fresh"),
                 "quarantined_open": s.get("quarantined_open", 0)} for s in sources]
    coverage = [{"source": r["source"], "other": r["other"], "share": r["share"]} for r in ws.link_rates()]
    quarantine = ws.quarantine()
    return {
        "tables": [
            table("sources", "Sources", [_col("source", "Source"), _col("entity", "Entity"), _col("rows", "Rows", count=True),
                                         _col("first", "First record"), _col("last", "Newest record"),
                                         _col("age_days", "Age (days)"), _col("fresh", "Fresh"),
                                         _col("linked_share", "Linked to another source", unit="%"),
                                         _col("quarantined_open", "Rows in quarantine")], src_rows, small),
            table("link_coverage", "Link coverage between sources",
                  [_col("source", "Source"), _col("other", "Also seen in"), _col("share", "Share of records", unit="%")],
                  coverage, small),
            table("quarantine", "Quarantine (open rows)",
                  [_col("quarantine_id", "Id"), _col("source", "Source"), _col("location", "Where"), _col("column", "Column"),
                   _col("reason", "Reason and fix")], quarantine, small),
        ],
        "quarantine_open": len(quarantine),
    }


def insight(ws: Workspace) -> dict[str, Any]:
    """The published story (headline, numbers, sections of findings) and the findings table."""
    story = ws.story()
    findings = [f for s in story["sections"] for f in s["findings"]]
    rows = [{"id": f["id"], "title": f["title"], "section": f["section"], "value": f.get("value"), "unit": f.get("unit"),
             "n": f.get("n"), "metric": f["metric"].get("id")} for f in findings]
    return {"story": story,
            "tables": [table("findings", "Findings", [_col("id", "Finding"), _col("title", "Title"), _col("section", "Section"),
                                                      _col("value", "Value"), _col("unit", "Unit"),
                                                      _col("n", "Contacts (n)", count=True), _col("metric", "Metric")],
                             rows, _small(ws))]}


def _contacts(ws: Workspace, ids: list[str]) -> list[dict[str, Any]]:
    """Current versions of contacts by record id, with their (redacted) text."""
    if not ids:
        return []
    with ws.store.read() as con:
        cur = con.execute("""SELECT record_id, source, channel, CAST(started_at AS VARCHAR) AS started_at, queue, text
                             FROM contact WHERE valid_to IS NULL AND record_id IN (SELECT unnest(?)) ORDER BY record_id""",
                          [ids])
        names = [str(d[0]) for d in cur.description or []]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


#: Record ids behind recent findings, per (workspace, generation, settings file, finding): the query behind a
#: repeat rate takes seconds at a million contacts, and every page of the drill-down needs the same list.
_DRILL_IDS: OrderedDict[tuple[str, Any, int, str], list[str]] = OrderedDict()
_DRILL_IDS_SIZE = 16
_DRILL_LOCK = threading.Lock()


def _drill_ids(ws: Workspace, found: dict[str, Any]) -> list[str]:
    """The record ids behind a finding's number (its metric's drill-down, else its example ids), kept per
    published generation so the second page of a drill-down costs one indexed look-up, not the metric again."""
    metric_id = found["metric"].get("id")
    if metric_id not in REGISTRY:
        return list(found.get("example_ids", []))
    toml = ws.path / "cxchain.toml"
    key = (str(ws.path), (ws.store.current() or {}).get("generation"), toml.stat().st_mtime_ns if toml.exists() else 0,
           str(found["id"]) + json.dumps(found.get("filters") or {}, sort_keys=True, default=str))
    with _DRILL_LOCK:
        ids = _DRILL_IDS.get(key)
        if ids is not None:
            _DRILL_IDS.move_to_end(key)
            return ids
    with ws.store.read() as con:
        ids = drilldown(con, metric_id, ws.settings, found.get("filters") or {})
    with _DRILL_LOCK:
        _DRILL_IDS[key] = ids
        while len(_DRILL_IDS) > _DRILL_IDS_SIZE:
            _DRILL_IDS.popitem(last=False)
    return ids


def may_read_text(user: User) -> bool:
    """Whether ``user``'s role may read unredacted text, where a workspace keeps any (analysts and admins)."""
    return user.role in ("admin", "analyst")


def finding(ws: Workspace, finding_id: str, user: User, *, page: int = 1, everything: bool = False) -> dict[str, Any]:
    """One finding with the contacts behind its number: a page of them, or ``everything`` (for downloads)."""
    found = next((f for f in ws.findings() if f["id"] == finding_id), None)
    if found is None:
        raise NotFoundError(f"No finding {finding_id} in the published run.")
    ids = _drill_ids(ws, found)
    pages = max(1, -(-len(ids) // PAGE_SIZE))
    page = min(max(1, page), pages)
    show = ids if everything else ids[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    contacts = _contacts(ws, show)
    hide_text = not ws.settings["privacy.redact_text"] and not may_read_text(user)
    if hide_text:  # the workspace keeps unredacted text: only analysts and admins may read it
        contacts = [{**c, "text": None} for c in contacts]
        found = {**found, "verbatims": []}
    small = _small(ws)
    return {"finding": found, "drilldown_count": len(ids) if len(ids) >= small or not ids else None,
            "page": page, "pages": pages, "page_size": PAGE_SIZE, "text_hidden": hide_text,
            "tables": [table("contacts", "Contacts behind this number",
                             [_col("record_id", "Contact"), _col("source", "Source"), _col("channel", "Channel"),
                              _col("started_at", "Started"), _col("queue", "Queue"), _col("text", "What the customer said")],
                             contacts, small)]}


def metric(ws: Workspace, metric_id: str, *, by: list[str], period: str | None = None,
           filters: dict[str, Any] | None = None) -> dict[str, Any]:
    """One metric sliced ``by`` columns, small numbers suppressed, with its definition."""
    spec = REGISTRY.get(metric_id)
    if spec is None:
        raise NotFoundError(f"No metric {metric_id}; known: {', '.join(sorted(REGISTRY))}.")
    try:
        rows = ws.metric(metric_id, by=by, period=period, filters=filters)
    except ValueError as e:
        from ..errors import CxchainError

        raise CxchainError(str(e)) from None
    slices = [*by, *([period] if period else [])]
    for r in rows:
        if r.get("suppressed"):
            r["n"] = None
    cols = [_col(c, c.replace("_", " ").capitalize()) for c in slices]
    cols += [_col("value", spec.title, unit=spec.unit), _col("n", "n", count=True)]
    if rows and "numerator" in rows[0]:
        cols.append(_col("numerator", "Numerator", count=True))
    return {"metric": {"id": spec.id, "title": spec.title, "description": spec.description, "unit": spec.unit,
                       "version": spec.version},
            "by": by, "period": period, "filters": filters or {},
            "conventions": rows[0]["conventions"] if rows else {},
            "tables": [table("metric", f"{spec.title} by {', '.join(slices) or 'total'}", cols, rows, _small(ws))]}


AREA_METRICS = ("complaint_response_in_time", "complaint_rate_per_1000")


def areas(ws: Workspace) -> list[str]:
    """Business areas named in the published complaints."""
    rows = ws.metric("complaint_response_in_time", by=["business_area"])
    return sorted(str(r["business_area"]) for r in rows if r.get("business_area"))


def area(ws: Workspace, name: str) -> dict[str, Any]:
    """A business area's page: its complaint metrics by stage."""
    if name not in areas(ws):
        raise NotFoundError(f"No business area {name}.")
    tables = []
    for mid in AREA_METRICS:
        m = metric(ws, mid, by=["stage"], filters={"business_area": name})
        t = m["tables"][0]
        tables.append({**t, "id": mid})
    return {"area": name, "tables": tables}


def admin_users(ws: Workspace) -> dict[str, Any]:
    """The user list (never password hashes) and the roles on offer."""
    users = [u.to_dict() for u in list_users(ws)]
    return {"roles": ROLES, "areas": areas(ws) if ws.store.current() else [],
            "tables": [table("users", "Users", [_col("username", "User"), _col("role", "Role"), _col("area", "Area"),
                                               _col("created_at", "Created")], users, 0)]}
