"""The CX Code pages (registered from :data:`cxchain.web.app.PAGE_MODULES`).

=====================================  ===============================================  ==================
``GET /code``                          the code: principles, evidence, measures, adherence  any role
``GET /code/principles/{id}``          one principle: versions, readable diffs, adherence  any role
``GET /code/reviews``                  design reviews and the review form                  any role (form: below)
``POST /code/reviews``                 review an initiative / a described change           analyst, admin; owner of
                                                                                          the initiative's area
``GET /code/qa?n=20&seed=0``           interaction QA sample and agreement rate            any role
``POST /code/qa/confirm|correct``      confirm or correct an automatic verdict             analyst, admin
=====================================  ===============================================  ==================

Every page answers as JSON at the same path plus ``.json``; every form carries the session's CSRF token.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ..code.qa import confirm, correct
from ..code.review import review
from ..redesign.initiatives import get_initiative
from . import code_views
from .app import PageKit, SignedIn, _jsonable, wants_json

__all__ = ["register"]


def _api(request: Request) -> bool:
    return wants_json(request) or bool(request.headers.get("authorization"))


def register(app: FastAPI, kit: PageKit) -> None:
    """Add the CX Code pages to ``app``."""
    ws, render, cache = kit.ws, kit.render, kit.cache
    kit.warm_views += [("code", (), lambda: code_views.code_home(ws)),
                       ("code_qa", (20, 0), lambda: code_views.qa_sample(ws, n=20, seed=0))]

    @app.get("/code", response_class=HTMLResponse, tags=["code"])
    def code_home(request: Request, user: SignedIn) -> Response:
        """The published CX Code: each principle with its evidence, measures, status and adherence."""
        return render(request, "code.html", cache.get("code", (), lambda: code_views.code_home(ws)), user=user)

    @app.get("/code/principles/{principle_id}", response_class=HTMLResponse, tags=["code"])
    def code_principle(request: Request, user: SignedIn, principle_id: str) -> Response:
        """One principle: versions with who and when, readable diffs, weekly adherence with process limits."""
        ctx = cache.get("code_principle", (principle_id,), lambda: code_views.principle(ws, principle_id))
        return render(request, "code_principle.html", ctx, user=user)

    @app.get("/code/reviews", response_class=HTMLResponse, tags=["code"])
    def code_reviews(request: Request, user: SignedIn) -> Response:
        """Design reviews against the Code, and the form to review an initiative or a described change."""
        # what a user may review depends on their role and area, and on nothing else about them
        ctx = cache.get("code_reviews", (user.role, user.area), lambda: code_views.reviews(ws, user))
        return render(request, "code_reviews.html", ctx, user=user)

    @app.post("/code/reviews", tags=["code"])
    async def code_review_post(request: Request, user: SignedIn) -> Response:
        """Review an initiative (analyst, admin, or the owner of one of its business areas) or a described change
        (analyst, admin).  Fields: ``initiative_id`` or ``text``, ``answer:<principle id>`` (yes / partly / no /
        n/a) and ``comment:<principle id>`` for each principle, ``summary``, ``csrf_token``."""
        form = await request.form()
        kit.auth.check_csrf(request, str(form.get("csrf_token") or ""))
        iid = str(form.get("initiative_id") or "").strip() or None
        text = str(form.get("text") or "").strip() or None
        ini = get_initiative(ws, iid) if iid else None
        if not code_views.may_review(user, ini) or (ini is None and user.role not in ("analyst", "admin")):
            raise HTTPException(403, f"Your role ({user.role}) may not review this: analysts and admins review any "
                                     "change; an owner reviews the initiatives of their own business area.")
        answers = {k[len("answer:"):]: str(v) for k, v in form.items() if k.startswith("answer:") and str(v)}
        comments = {k[len("comment:"):]: str(v) for k, v in form.items() if k.startswith("comment:") and str(v)}
        r = review(ws, answers=answers, initiative_id=iid, text=text, comments=comments,
                   summary=str(form.get("summary") or ""), actor=user.username)
        if _api(request):
            return JSONResponse({"ok": True, "review": _jsonable(r)})
        return RedirectResponse(f"/code/reviews#review-{r['id']}", status_code=303)

    @app.get("/code/qa", response_class=HTMLResponse, tags=["code"])
    def code_qa(request: Request, user: SignedIn, n: int = 20, seed: int = 0) -> Response:
        """A sample of contacts scored against the principles, to confirm or correct; the agreement rate."""
        if not 1 <= n <= 200:
            raise HTTPException(400, "n is a sample size from 1 to 200.")
        sampled = cache.get("code_qa", (n, seed), lambda: code_views.qa_sample(ws, n=n, seed=seed))
        return render(request, "code_qa.html", code_views.qa(ws, user, n=n, seed=seed, sampled=sampled), user=user)

    @app.post("/code/qa/{action}", tags=["code"])
    async def code_qa_post(request: Request, user: SignedIn, action: str) -> Response:
        """Confirm (``/code/qa/confirm``) or correct (``/code/qa/correct`` with ``verdict`` pass / fail) the automatic
        verdict of ``record_id`` against ``principle_id`` (analyst, admin)."""
        if action not in ("confirm", "correct"):
            raise HTTPException(404, "Use /code/qa/confirm or /code/qa/correct.")
        form = await request.form()
        kit.auth.check_csrf(request, str(form.get("csrf_token") or ""))
        if not code_views.may_qa(user):
            raise HTTPException(403, f"Your role ({user.role}) may not change QA verdicts; analysts and admins may.")
        rid, pid = str(form.get("record_id") or ""), str(form.get("principle_id") or "")
        note = str(form.get("note") or "")
        out: dict[str, Any]
        if action == "confirm":
            out = confirm(ws, rid, pid, note=note, actor=user.username)
        else:
            verdict = str(form.get("verdict") or "")
            if verdict not in ("pass", "fail"):
                raise HTTPException(400, "verdict is pass or fail.")
            out = correct(ws, rid, pid, passed=verdict == "pass", note=note, actor=user.username)
        if _api(request):
            return JSONResponse({"ok": True, "qa": _jsonable(out)})
        back = f"/code/qa?n={form.get('n') or 20}&seed={form.get('seed') or 0}"
        return RedirectResponse(back, status_code=303)
