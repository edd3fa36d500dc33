"""The web app: server-rendered pages over :class:`cxchain.Workspace`, each with a JSON twin.

    app = create_app("demo")            # then: uvicorn, or cxchain serve --workspace demo

Routes (every page also answers as JSON: add ``.json`` to the path, ``/index.json`` for ``/``, or send
``Accept: application/json``; every table downloads with ``?format=csv`` or ``?format=xlsx`` and
``&table=ID`` when a page has several):

=====================================  ===============================================  ==================
``GET /healthz``                       liveness, published generation, views ready        public
``GET|POST /signin``, ``POST /signout``  password sign-in (CSRF, rate limited)             public
``GET /signin/sso[/callback]``         single sign-on (OpenID Connect, PKCE)               public
``GET /static/...``                    the vendored CSS                                   public
``GET /``                              chain overview: each link's health, why, next step  any role
``GET /data``                          sources, link coverage, quarantine                  any role
``POST /data/quarantine/replay``       re-play quarantined rows                            analyst, admin
``GET /insight``                       the story and its findings                          any role
``GET /insight/findings/{id}``         one finding and the contacts behind its number      any role
``GET /insight/metrics/{id}?by=..``    a metric table                                      any role
``GET /areas/{area}``                  a business area's page                              owner of it, others
``GET|POST /admin/users...``           users                                               admin
``GET /openapi.json``                  the OpenAPI description                             any role
=====================================  ===============================================  ==================

Pages of other areas register through :data:`PAGE_MODULES`: links 3-5 (``/priorities``, ``/redesign``,
``/cycles``) in :mod:`cxchain.web.loop_pages`.

Authentication: a session cookie (signed, HttpOnly, SameSite=Lax, Secure over https or with
``secure_cookies=True``) or ``Authorization: Bearer <token>`` (``cxchain users token``).  Every POST
from a session carries the session's CSRF token in a ``csrf_token`` form field; bearer-token requests
carry no ambient credential and need none.  Single sign-on through OpenID Connect
(``GET /signin/sso``, :mod:`cxchain.web.oidc`) is on when ``web.oidc.issuer`` is set.

The app holds no business logic: views call the library (:mod:`cxchain.web.views`) on the published
generation, read-only, so it keeps serving while ``cxchain run`` writes the next.  Each view's result is
kept per published state (generation, settings file, ops-store edits; :mod:`cxchain.web.cache`): the
chain health, the story, the plan and the CX Code's QA scores are computed once per run, not per
request, and the summary views are computed when the server starts (``/healthz`` says ``views_ready``).
Figures under 50 concurrent clients while a run publishes: ``benchmarks/web.py``.
"""

from __future__ import annotations

import json
import tempfile
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date, datetime
from importlib import import_module
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from anyio import to_thread
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from ..errors import CxchainError
from ..report.charts import render_chart
from ..report.export import write_table
from ..workspace import Workspace
from . import views
from .auth import Auth, NotSignedIn, RateLimiter, fmt_number
from .cache import ViewCache
from .oidc import sso_enabled
from .users import ROLES, User, add_user, authenticate, create_session, end_session, remove_user

__all__ = ["create_app", "PageKit", "CSP", "SECURITY_HEADERS"]

HERE = Path(__file__).parent
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
       "base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
}

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


class SecurityMiddleware:
    """Pure ASGI: strips a ``.json`` suffix (marking the request as wanting JSON) and adds security headers.

    ``on_edit`` is called when a request that may change something (not GET, HEAD or OPTIONS) answers, before
    the answer leaves: the view cache then never serves a page older than the edit (:mod:`cxchain.web.cache`).
    """

    def __init__(self, app: ASGIApp, on_edit: Callable[[], None] | None = None):
        self.app = app
        self.on_edit = on_edit

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.endswith(".json") and path != "/openapi.json":
            new = path[: -len(".json")]
            new = "/" if new in ("", "/index") else new
            scope = {**scope, "path": new, "raw_path": new.encode(), "cx_json": True}

        # signing in or out changes no page (only the audit log)
        edit = self.on_edit if scope.get("method") not in ("GET", "HEAD", "OPTIONS") \
            and not path.startswith(("/signin", "/signout")) else None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                if edit is not None:
                    edit()
                headers = [(k, v) for k, v in message.get("headers", []) if k.decode().lower() not in SECURITY_HEADERS]
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def wants_json(request: Request) -> bool:
    """The JSON twin is wanted: a ``.json`` path, or an Accept header preferring JSON to HTML."""
    if request.scope.get("cx_json") or request.url.path.endswith(".json"):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


async def signed_in(request: Request) -> User:
    """Dependency: the signed-in user (session cookie or bearer token), else :class:`NotSignedIn`.

    A token or session the app already knows is answered on the event loop; looking one up in the ops store
    (a file read) goes to a worker thread, as a synchronous dependency would always do.
    """
    auth: Auth = request.app.state.auth
    user = auth.known_user(request)
    if user is None:
        user = await run_in_threadpool(auth.user_of, request)
    return user


def require_roles(*allowed: str) -> Callable[[Request], Awaitable[User]]:
    """Dependency factory: the signed-in user if their role is one of ``allowed``, else 403."""
    async def dep(request: Request) -> User:
        user = await signed_in(request)
        if user.role not in allowed:
            raise HTTPException(403, f"Your role ({user.role}) may not do this; it needs {' or '.join(allowed)}.")
        return user
    return dep


SignedIn = Annotated[User, Depends(signed_in)]
AnalystOrAdmin = Annotated[User, Depends(require_roles("analyst", "admin"))]
Admin = Annotated[User, Depends(require_roles("admin"))]
FormStr = Annotated[str, Form()]


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=lambda o: o.isoformat() if isinstance(o, (date, datetime)) else str(o)))


class PageKit:
    """What a page module needs from the app: the workspace, auth, and the shared ``render``/``error_page``.

    Route modules (one per area of the chain) expose ``register(app, kit)`` and are listed in
    :data:`PAGE_MODULES`, so a new area adds pages without editing the core routes.
    """

    def __init__(self, ws: Workspace, auth: Auth, templates: Jinja2Templates,
                 render: Callable[..., Response], error_page: Callable[[Request, int, str], Response],
                 cache: ViewCache | None = None) -> None:
        self.ws, self.auth, self.templates, self.render, self.error_page = ws, auth, templates, render, error_page
        self.cache = cache or ViewCache(ws)
        #: Views computed when the server starts (``(view, args, compute)`` as for :meth:`ViewCache.get`), so the
        #: first readers find them ready; page modules add their summary views.
        self.warm_views: list[tuple[str, tuple[Any, ...], Callable[[], Any]]] = []


# Modules with ``register(app: FastAPI, kit: PageKit) -> None``, imported by name so each stays optional.
PAGE_MODULES: list[str] = ["cxchain.web.oidc", "cxchain.web.loop_pages", "cxchain.web.code_pages"]


def create_app(workspace_path: str | Path, *, secret_key: str | None = None, secure_cookies: bool = False,
               signin_limit: int = 5, signin_window_seconds: float = 60.0) -> FastAPI:
    """The web app for one workspace.

    ``secret_key`` signs session cookies (default: derived from the workspace's own secret, so it survives
    restarts and differs between workspaces).  ``secure_cookies`` forces the Secure flag (it is set anyway
    when the request arrived over https).  Sign-in attempts are limited to ``signin_limit`` per
    ``signin_window_seconds`` per username and client address.
    """
    ws = Workspace(workspace_path)
    cache = ViewCache(ws)  # views computed once per published state (generation, settings, edits)
    auth = Auth(ws, secret_key=secret_key, secure_cookies=secure_cookies, ops_version=cache.ops_version)
    limiter = RateLimiter(signin_limit, signin_window_seconds)
    app = FastAPI(title="cxchain", version="1", openapi_url=None, docs_url=None, redoc_url=None,
                  description="The cxchain web app. Every page answers as JSON at the same path plus `.json`, "
                              "or with `Accept: application/json`. Authenticate with `Authorization: Bearer <token>`.")
    app.state.workspace = ws
    app.state.auth = auth
    app.state.limiter = limiter
    app.state.cache = cache
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.autoescape = True
    templates.env.filters["num"] = fmt_number
    templates.env.globals["chart"] = lambda spec: Markup(render_chart(spec or {}))  # SVG labels escaped by render_chart
    templates.env.globals["ROLES"] = ROLES
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SecurityMiddleware, on_edit=cache.note_edit)  # type: ignore[arg-type]

    # --- rendering ---------------------------------------------------------------------------------

    def render(request: Request, template: str, ctx: dict[str, Any], *, user: User | None = None,
               status: int = 200) -> Response:
        fmt = request.query_params.get("format")
        if fmt in ("csv", "xlsx") and ctx.get("tables"):
            return _download(request, ctx, fmt)
        if wants_json(request):
            return Response(cache.json_body(ctx, ok=status < 400), status_code=status, media_type="application/json")
        page = {**ctx, "user": user, "csrf_token": auth.csrf_of(request), "path": request.url.path,
                "json_url": (request.url.path.rstrip("/") or "/index") + ".json"}
        resp = templates.TemplateResponse(request, template, page, status_code=status)
        resp.headers["link"] = f'<{quote(page["json_url"])}>; rel="alternate"; type="application/json"'
        return resp

    def _download(request: Request, ctx: dict[str, Any], fmt: str) -> Response:
        wanted = request.query_params.get("table")
        tables = ctx["tables"]
        tbl = next((t for t in tables if t["id"] == wanted), None) if wanted else tables[0]
        if tbl is None:
            raise HTTPException(404, f"No table {wanted} here; tables: {', '.join(t['id'] for t in tables)}.")
        with tempfile.TemporaryDirectory() as tmp:
            out = write_table(tbl["rows"], Path(tmp) / f"{tbl['id']}.{fmt}", columns=[c["key"] for c in tbl["columns"]],
                              sheet=tbl["id"])
            body = out.read_bytes()
        media = "text/csv; charset=utf-8" if fmt == "csv" else \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return Response(body, media_type=media,
                        headers={"content-disposition": f'attachment; filename="{tbl["id"]}.{fmt}"'})

    # --- errors ------------------------------------------------------------------------------------

    def error_page(request: Request, status: int, message: str) -> Response:
        if wants_json(request) or request.headers.get("authorization"):
            return JSONResponse({"ok": False, "error": message, "status": status}, status_code=status)
        referer = urlsplit(request.headers.get("referer", ""))
        back = auth.safe_next(referer.path + (f"?{referer.query}" if referer.query else "")) \
            if referer.netloc in ("", request.url.netloc) and referer.path else None
        return templates.TemplateResponse(request, "error.html", {"status": status, "message": message, "user": None,
                                                                  "csrf_token": "", "path": request.url.path,
                                                                  "back": back},
                                          status_code=status)

    @app.exception_handler(NotSignedIn)
    def _not_signed_in(request: Request, exc: NotSignedIn) -> Response:
        if wants_json(request) or request.headers.get("authorization") or request.method != "GET":
            return JSONResponse({"ok": False, "error": str(exc), "status": 401}, status_code=401,
                                headers={"www-authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/signin?next={quote(target)}", status_code=303)

    @app.exception_handler(HTTPException)
    def _http_error(request: Request, exc: HTTPException) -> Response:
        return error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(CxchainError)
    def _library_error(request: Request, exc: CxchainError) -> Response:
        return error_page(request, int(getattr(exc, "status", 400)), str(exc))

    # --- dependencies ------------------------------------------------------------------------------

    # --- public ------------------------------------------------------------------------------------

    @app.get("/healthz", tags=["public"])
    def healthz() -> dict[str, Any]:
        """Liveness: always 200 while the process serves; names the published generation."""
        cur = ws.store.current() or {}
        return {"ok": True, "generation": cur.get("generation"), "views_ready": cache.warmed}

    @app.get("/signin", response_class=HTMLResponse, tags=["public"])
    def signin_form(request: Request, next: str = "/") -> Response:
        token = auth.signin_token()
        resp = templates.TemplateResponse(request, "signin.html", {"next": auth.safe_next(next), "csrf_token": token,
                                                                   "user": None, "error": None, "path": "/signin",
                                                                   "sso": sso_enabled(ws)})
        auth.set_signin_cookie(request, resp, token)
        return resp

    @app.post("/signin", tags=["public"])
    def signin(request: Request, username: FormStr = "", password: FormStr = "", csrf_token: FormStr = "",
               next: FormStr = "/") -> Response:
        auth.check_signin_csrf(request, csrf_token)
        ip = request.client.host if request.client else ""
        if not limiter.allow(f"{username.lower()}|{ip}"):
            ws.store.audit(username or "-", "signin.rate_limited", username, {"ip": ip})
            raise HTTPException(429, "Too many sign-in attempts: wait a minute and try again.")
        user = authenticate(ws, username, password, ip=ip)
        if user is None:
            token = auth.signin_token()
            resp = templates.TemplateResponse(request, "signin.html", {
                "next": auth.safe_next(next), "csrf_token": token, "user": None, "path": "/signin",
                "sso": sso_enabled(ws), "error": "That username and password do not match."}, status_code=401)
            auth.set_signin_cookie(request, resp, token)
            return resp
        sid, _ = create_session(ws, user.username)
        done = RedirectResponse(auth.safe_next(next), status_code=303)
        auth.set_session_cookie(request, done, sid)
        return done

    @app.post("/signout", tags=["public"])
    def signout(request: Request, user: SignedIn, csrf_token: FormStr = "") -> Response:
        auth.check_csrf(request, csrf_token)
        sid = auth.session_id(request)
        if sid:
            end_session(ws, sid)
        ws.store.audit(user.username, "signout", user.username, {})
        resp = RedirectResponse("/signin", status_code=303)
        resp.delete_cookie(auth.cookie_name, path="/")
        return resp

    @app.get("/openapi.json", include_in_schema=False)
    def openapi(user: SignedIn) -> JSONResponse:
        return JSONResponse(app.openapi())

    # --- pages -------------------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, tags=["pages"])
    def overview(request: Request, user: SignedIn) -> Response:
        """Chain overview: each link's health, the reasons and the next action."""
        return render(request, "overview.html", cache.get("overview", (), lambda: views.overview(ws)), user=user)

    @app.get("/data", response_class=HTMLResponse, tags=["pages"])
    def data(request: Request, user: SignedIn) -> Response:
        """Sources with freshness and link coverage; the open quarantine with reasons and fixes."""
        return render(request, "data.html", cache.get("data", (), lambda: views.data(ws)), user=user)

    @app.post("/data/quarantine/replay", tags=["actions"])
    def replay(request: Request, user: AnalystOrAdmin, csrf_token: FormStr = "", source: FormStr = "") -> Response:
        """Re-apply current mappings and settings to open quarantined rows (analyst, admin)."""
        auth.check_csrf(request, csrf_token)
        report = ws.replay_quarantine(source=source or None)
        ws.store.audit(user.username, "quarantine.replay", source, report.totals())
        if wants_json(request) or request.headers.get("authorization"):
            return JSONResponse({"ok": True, "replayed": _jsonable(report.totals())})
        return RedirectResponse("/data?replayed=1", status_code=303)

    @app.get("/insight", response_class=HTMLResponse, tags=["pages"])
    def insight(request: Request, user: SignedIn) -> Response:
        """The insight story and its findings, with charts and verbatims (redacted)."""
        return render(request, "insight.html", cache.get("insight", (), lambda: views.insight(ws)), user=user)

    @app.get("/insight/findings/{finding_id}", response_class=HTMLResponse, tags=["pages"])
    def finding(request: Request, user: SignedIn, finding_id: str, page: int = 1) -> Response:
        """One finding and the contacts behind its number (drill-down; downloads carry them all)."""
        if request.query_params.get("format") in ("csv", "xlsx"):  # downloads carry every contact: not kept
            return render(request, "finding.html", views.finding(ws, finding_id, user, page=page, everything=True),
                          user=user)
        ctx = cache.get("finding", (finding_id, page, views.may_read_text(user)),
                        lambda: views.finding(ws, finding_id, user, page=page))
        return render(request, "finding.html", ctx, user=user)

    @app.get("/insight/metrics/{metric_id}", response_class=HTMLResponse, tags=["pages"])
    def metric(request: Request, user: SignedIn, metric_id: str, by: str = "", period: str = "") -> Response:
        """A metric sliced by columns (comma-separated ``by``) and optionally by week or month."""
        cols = [c for c in by.split(",") if c]
        if period and period not in ("week", "month"):
            raise HTTPException(400, "period is week or month.")
        ctx = cache.get("metric", (metric_id, tuple(cols), period),
                        lambda: views.metric(ws, metric_id, by=cols, period=period or None))
        return render(request, "metric.html", ctx, user=user)

    @app.get("/areas/{area}", response_class=HTMLResponse, tags=["pages"])
    def area(request: Request, user: SignedIn, area: str) -> Response:
        """A business area's page; an owner sees only their own area."""
        if user.role == "owner" and user.area != area:
            raise HTTPException(403, f"You own the {user.area} area, not {area}.")
        return render(request, "area.html", cache.get("area", (area,), lambda: views.area(ws, area)), user=user)

    # --- admin -------------------------------------------------------------------------------------

    @app.get("/admin/users", response_class=HTMLResponse, tags=["admin"])
    def users_page(request: Request, user: Admin) -> Response:
        """Users and their roles (admin)."""
        return render(request, "users.html", cache.get("admin_users", (), lambda: views.admin_users(ws)), user=user)

    @app.post("/admin/users", tags=["admin"])
    def users_add(request: Request, user: Admin, username: FormStr, password: FormStr, role: FormStr,
                  area: FormStr = "", csrf_token: FormStr = "") -> Response:
        """Add a user (admin)."""
        auth.check_csrf(request, csrf_token)
        add_user(ws, username, password, role=role, area=area or None, actor=user.username)
        return RedirectResponse("/admin/users", status_code=303)

    @app.post("/admin/users/{username}/remove", tags=["admin"])
    def users_remove(request: Request, user: Admin, username: str, csrf_token: FormStr = "") -> Response:
        """Remove a user (admin); you cannot remove yourself."""
        auth.check_csrf(request, csrf_token)
        if username == user.username:
            raise HTTPException(400, "You cannot remove yourself; ask another admin.")
        remove_user(ws, username, actor=user.username)
        return RedirectResponse("/admin/users", status_code=303)

    kit = PageKit(ws, auth, templates, render, error_page, cache)
    kit.warm_views += [("overview", (), lambda: views.overview(ws)), ("data", (), lambda: views.data(ws)),
                       ("insight", (), lambda: views.insight(ws))]
    for name in PAGE_MODULES:
        import_module(name).register(app, kit)

    def warm() -> None:
        """Compute the summary views when the server starts, not on the first requests (minutes at 1M contacts)."""
        # Requests waiting for a view being computed each hold a worker thread: more than anyio's 40 of them,
        # so that fifty readers waiting for one new view do not starve the requests that could be answered.
        to_thread.current_default_thread_limiter().total_tokens = max(
            100, to_thread.current_default_thread_limiter().total_tokens)
        if ws.store.current() is None:
            cache.warmed = True
            return
        threading.Thread(target=cache.warm, args=(kit.warm_views,), name="cxchain-warm-views", daemon=True).start()

    app.router.on_startup.append(warm)
    return app
