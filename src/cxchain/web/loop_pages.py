"""Pages of links 3-5: priorities, the redesign board by business area, cycles and their measurements.

=====================================================  ==========================================  ===================
``GET /priorities?cycle=&horizon=``                    a cycle's plan, score terms, opportunities   any role
``POST /priorities/propose``                           propose the open cycle's plan for a horizon  analyst, admin
``POST /priorities/{id}/decide``                       accept / reject / override, with a reason    analyst, admin
``GET /redesign``                                      initiatives grouped by business area         any role
``POST /redesign/initiatives``                         start an initiative from an accepted one     analyst, admin
``GET /redesign/initiatives/{id}``                     tasks, dates, target, change log, measures   any role
``POST /redesign/initiatives/{id}/update``             edit (owners: the status only)               owner of an area, analyst, admin
``POST /redesign/initiatives/{id}/tasks``              add a task                                   owner of an area, analyst, admin
``POST /redesign/initiatives/{id}/tasks/{task}``       set a task's status                          owner of an area, analyst, admin
``GET /cycles``, ``GET /cycles/{id}``                  cycles; a cycle's report with its charts     any role
``POST /cycles/open``, ``POST /cycles/close``          open the next cycle; close (measures all)    analyst, admin
=====================================================  ==========================================  ===================

Every edit names what it was based on (an initiative's ``version``, a priority's ``expected_status``); when
someone else changed it first the library refuses with a 409 and a message saying who and when, and
nothing is saved.  Form posts answer with a redirect to the page; JSON or bearer-token posts with the record.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..cycle.cycles import close_cycle, current_cycle, open_cycle
from ..errors import CxchainError
from ..priorities import plan
from ..redesign.initiatives import add_initiative, add_task, get_initiative, update_initiative, update_task
from ..redesign.store import ConflictError
from ..workspace import Workspace
from . import loop_views
from .app import PageKit, _jsonable, require_roles, signed_in, wants_json
from .users import User

__all__ = ["register"]

SignedIn = Annotated[User, Depends(signed_in)]
AnalystOrAdmin = Annotated[User, Depends(require_roles("analyst", "admin"))]
Editor = Annotated[User, Depends(require_roles("analyst", "admin", "owner"))]
FormStr = Annotated[str, Form()]

#: What an owner may change on an initiative of their own area (the rest is the analysts' plan).
OWNER_FIELDS = ("status",)


def _done(request: Request, target: str, record: Any) -> Response:
    if wants_json(request) or request.headers.get("authorization"):
        return JSONResponse({"ok": True, "record": _jsonable(record)})
    return RedirectResponse(target, status_code=303)


def _version(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CxchainError("Say which version of the initiative your edit is based on (the form's version field).") \
            from None


def _float(text: str, name: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise CxchainError(f"{name} must be a number, not {text!r}.") from None


def _areas(text: str) -> list[dict[str, str]]:
    """Business areas from ``Area=Owner`` lines (or ``;``-separated), as the CLI's ``--area`` takes them."""
    out = []
    for part in text.replace(";", "\n").splitlines():
        if part.strip():
            area, _, owner = part.partition("=")
            out.append({"area": area.strip(), "owner": owner.strip()})
    return out


def _may_edit(ws: Workspace, user: User, initiative_id: str) -> dict[str, Any]:
    """The initiative, if ``user`` may edit it: analysts and admins any, an owner only one of their area."""
    ini = get_initiative(ws, initiative_id)
    if user.role == "owner" and not loop_views.owns(user.area, ini["areas"]):
        raise HTTPException(403, f"You own the {user.area or '(no)'} area; initiative {initiative_id} belongs to "
                                 f"{', '.join(a['area'] for a in ini['areas']) or 'no area'}.")
    return ini


def register(app: FastAPI, kit: PageKit) -> None:
    """Add the pages of links 3-5 to ``app``."""
    ws, auth, render, cache = kit.ws, kit.auth, kit.render, kit.cache

    kit.warm_views += [("priorities", ("", ""), lambda: loop_views.priorities(ws)),
                       ("redesign", (), lambda: loop_views.redesign(ws)), ("cycles", (), lambda: loop_views.cycles(ws))]

    # --- priorities ------------------------------------------------------------------------------

    @app.get("/priorities", response_class=HTMLResponse, tags=["pages"])
    def priorities_page(request: Request, user: SignedIn, cycle: str = "", horizon: str = "") -> Response:
        """A cycle's plan (default: the open cycle): priorities with score terms, rationale, findings and
        decisions; the ranked opportunities (``?format=csv&table=opportunities``)."""
        ctx = cache.get("priorities", (cycle, horizon),
                        lambda: loop_views.priorities(ws, cycle_id=cycle or None, horizon=horizon or None))
        return render(request, "priorities.html", ctx, user=user)

    @app.post("/priorities/propose", tags=["actions"])
    def priorities_propose(request: Request, user: AnalystOrAdmin, csrf_token: FormStr = "",
                           horizon: FormStr = "12w") -> Response:
        """Propose the open cycle's priorities for a horizon (12w, 6m) - as ``cxchain priorities --horizon``."""
        auth.check_csrf(request, csrf_token)
        got = plan.propose_plan(ws, horizon=horizon, actor=user.username)
        return _done(request, "/priorities", got)

    @app.post("/priorities/{priority_id}/decide", tags=["actions"])
    def priorities_decide(request: Request, user: AnalystOrAdmin, priority_id: str, csrf_token: FormStr = "",
                          decision: FormStr = "", reason: FormStr = "", expected_status: FormStr = "",
                          reason_id: FormStr = "", title: FormStr = "", rank: FormStr = "") -> Response:
        """Accept, reject or override a priority, saying why; ``expected_status`` is the status you saw."""
        auth.check_csrf(request, csrf_token)
        seen = expected_status or None
        if decision in ("accept", "reject"):
            got = getattr(plan, decision)(ws, priority_id, reason=reason, actor=user.username, expected_status=seen)
        elif decision == "override":
            r = _float(rank, "Rank")
            got = plan.override(ws, priority_id, reason=reason, actor=user.username, expected_status=seen,
                                reason_id=reason_id.strip() or None, title=title.strip() or None,
                                rank=int(r) if r is not None else None)
        else:
            raise HTTPException(400, "decision is accept, reject or override.")
        return _done(request, f"/priorities#{priority_id}", got)

    # --- redesign --------------------------------------------------------------------------------

    @app.get("/redesign", response_class=HTMLResponse, tags=["pages"])
    def redesign_page(request: Request, user: SignedIn) -> Response:
        """The redesign board: initiatives grouped by business area."""
        return render(request, "redesign.html", cache.get("redesign", (), lambda: loop_views.redesign(ws)), user=user)

    @app.post("/redesign/initiatives", tags=["actions"])
    def initiative_add(request: Request, user: AnalystOrAdmin, csrf_token: FormStr = "", priority_id: FormStr = "",
                       title: FormStr = "", type: FormStr = "process", areas: FormStr = "", start: FormStr = "",
                       go_live: FormStr = "", metric: FormStr = "volume", target: FormStr = "",
                       target_change: FormStr = "") -> Response:
        """Start an initiative under an accepted priority - as ``cxchain initiative add``."""
        auth.check_csrf(request, csrf_token)
        got = add_initiative(ws, priority_id, title=title, type=type, areas=_areas(areas), start=start or None,
                             go_live=go_live or None, metric_id=metric.strip() or None,
                             target=_float(target, "Target"), target_change=_float(target_change, "Target change"),
                             actor=user.username)
        return _done(request, f"/redesign/initiatives/{got['id']}", got)

    @app.get("/redesign/initiatives/{initiative_id}", response_class=HTMLResponse, tags=["pages"])
    def initiative_page(request: Request, user: SignedIn, initiative_id: str) -> Response:
        """One initiative: tasks, dates, target metric (baseline, target), status, change log, measurements."""
        ctx = cache.get("initiative", (initiative_id,), lambda: loop_views.initiative(ws, initiative_id))
        ini = ctx["initiative"]
        can = user.role in ("analyst", "admin") or (user.role == "owner" and loop_views.owns(user.area, ini["areas"]))
        return render(request, "initiative.html", {**ctx, "can_edit": can,
                                                    "can_plan": user.role in ("analyst", "admin")}, user=user)

    @app.post("/redesign/initiatives/{initiative_id}/update", tags=["actions"])
    def initiative_update(request: Request, user: Editor, initiative_id: str, csrf_token: FormStr = "",
                          version: FormStr = "", status: FormStr = "", title: FormStr = "", type: FormStr = "",
                          start: FormStr = "", go_live: FormStr = "", target: FormStr = "",
                          areas: FormStr = "") -> Response:
        """Edit an initiative based on ``version`` (409 when someone changed it since); owners: status only."""
        auth.check_csrf(request, csrf_token)
        _may_edit(ws, user, initiative_id)
        changes: dict[str, Any] = {k: v for k, v in (("status", status), ("title", title), ("type", type),
                                                      ("start", start), ("go_live", go_live)) if v.strip()}
        t = _float(target, "Target")
        if t is not None:
            changes["target"] = t
        if areas.strip():
            changes["areas"] = _areas(areas)
        if user.role == "owner" and set(changes) - set(OWNER_FIELDS):
            raise HTTPException(403, "An area owner may change an initiative's status and tasks; "
                                     f"ask an analyst to change {', '.join(sorted(set(changes) - set(OWNER_FIELDS)))}.")
        got = update_initiative(ws, initiative_id, expected_version=_version(version), actor=user.username, **changes)
        return _done(request, f"/redesign/initiatives/{initiative_id}", got)

    @app.post("/redesign/initiatives/{initiative_id}/tasks", tags=["actions"])
    def task_add(request: Request, user: Editor, initiative_id: str, csrf_token: FormStr = "", version: FormStr = "",
                 title: FormStr = "", owner: FormStr = "", due: FormStr = "") -> Response:
        """Add a task to an initiative based on ``version``."""
        auth.check_csrf(request, csrf_token)
        _may_edit(ws, user, initiative_id)
        got = add_task(ws, initiative_id, title=title, owner=owner.strip() or None, due=due or None,
                       actor=user.username, expected_version=_version(version))
        return _done(request, f"/redesign/initiatives/{initiative_id}#t-tasks", got)

    @app.post("/redesign/initiatives/{initiative_id}/tasks/{task_id}", tags=["actions"])
    def task_update(request: Request, user: Editor, initiative_id: str, task_id: int, csrf_token: FormStr = "",
                    version: FormStr = "", status: FormStr = "") -> Response:
        """Set a task's status (open, done, dropped) based on the initiative's ``version``."""
        auth.check_csrf(request, csrf_token)
        _may_edit(ws, user, initiative_id)
        got = update_task(ws, initiative_id, task_id, status=status, expected_version=_version(version),
                          actor=user.username)
        return _done(request, f"/redesign/initiatives/{initiative_id}#t-tasks", got)

    # --- cycles ----------------------------------------------------------------------------------

    @app.get("/cycles", response_class=HTMLResponse, tags=["pages"])
    def cycles_page(request: Request, user: SignedIn) -> Response:
        """Every improvement cycle, with what it held and what came of it."""
        return render(request, "cycles.html", cache.get("cycles", (), lambda: loop_views.cycles(ws)), user=user)

    @app.post("/cycles/open", tags=["actions"])
    def cycles_open(request: Request, user: AnalystOrAdmin, csrf_token: FormStr = "", start: FormStr = "",
                    weeks: FormStr = "") -> Response:
        """Open the next cycle - as ``cxchain cycle open``."""
        auth.check_csrf(request, csrf_token)
        w = _float(weeks, "Weeks")
        got = open_cycle(ws, start=start or None, length_weeks=int(w) if w is not None else None, actor=user.username)
        return _done(request, f"/cycles/{got['id']}", got)

    @app.post("/cycles/close", tags=["actions"])
    def cycles_close(request: Request, user: AnalystOrAdmin, csrf_token: FormStr = "",
                     cycle_id: FormStr = "") -> Response:
        """Close the open cycle, measuring every go-live - as ``cxchain cycle close``.  ``cycle_id`` names the
        cycle you meant to close: refused (409) when another one is open by now."""
        auth.check_csrf(request, csrf_token)
        cur = current_cycle(ws)
        if cur is not None and cycle_id and cur["id"] != cycle_id:
            raise ConflictError(f"Cycle {cycle_id} is no longer the open one ({cur['id']} is): nothing was closed.")
        got = close_cycle(ws, actor=user.username)
        return _done(request, f"/cycles/{got['cycle']['id']}", got)

    @app.get("/cycles/{cycle_id}", response_class=HTMLResponse, tags=["pages"])
    def cycle_page(request: Request, user: SignedIn, cycle_id: str) -> Response:
        """A cycle's report: what we changed and what it did (verdict, effect, interval), with the series."""
        return render(request, "cycle.html", cache.get("cycle", (cycle_id,), lambda: loop_views.cycle(ws, cycle_id)),
                      user=user)
