"""Authentication plumbing of the web app: signed session cookies, CSRF, bearer tokens, sign-in rate limit.

* Session cookie ``cx_session``: a random server-side session id plus its HMAC-SHA256 under the app's
  secret; HttpOnly, SameSite=Lax, Secure when the request came over https or ``secure_cookies`` is set.
* CSRF: every session has its own random token; every POST form carries it in ``csrf_token`` and it is
  compared in constant time.  The sign-in form (before any session exists) uses a double-submit token:
  a random value in an HttpOnly cookie ``cx_signin`` that must equal the form field.
* Bearer tokens (``Authorization: Bearer cxt_...``) identify scripts; they need no CSRF token.
* :class:`RateLimiter`: at most N attempts per window per key (username + client address), in memory.
* OpenID Connect single sign-on lives in :mod:`cxchain.web.oidc` (off unless ``web.oidc.issuer`` is set).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

from fastapi import HTTPException, Request, Response

from ..workspace import Workspace
from .users import User, session_user, user_for_token

__all__ = ["Auth", "NotSignedIn", "RateLimiter", "fmt_number"]


class NotSignedIn(Exception):
    """No valid session or token: HTML gets a redirect to /signin, JSON a 401."""


class RateLimiter:
    """A sliding-window counter per key, in process memory (one server process)."""

    def __init__(self, limit: int = 5, window_seconds: float = 60.0):
        self.limit, self.window = limit, window_seconds
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Record an attempt for ``key``; False when it exceeds the limit in the window."""
        now = time.monotonic()
        with self._lock:
            q = self._hits.setdefault(key, deque())
            while q and now - q[0] > self.window:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True


class Auth:
    """Who is asking, and whether their POST carries the right CSRF token."""

    cookie_name = "cx_session"
    signin_cookie = "cx_signin"

    #: Seconds a recognised session or token is trusted without asking the ops store again, while the store is
    #: unchanged (a removed user, a revoked token or a sign-out changes it, and ends the trust at once).
    KNOWN_SECONDS = 60.0

    def __init__(self, ws: Workspace, *, secret_key: str | None = None, secure_cookies: bool = False,
                 ops_version: Callable[[], int] | None = None):
        self.ws = ws
        self._ops_version = ops_version  # ViewCache.ops_version: moves on every commit to the ops store
        self._known: OrderedDict[str, tuple[int, float, User, str | None]] = OrderedDict()
        self._known_lock = threading.Lock()
        key = secret_key or hmac.new(ws.store.secret().encode(), b"cxchain-web-session", hashlib.sha256).hexdigest()
        self._key = key.encode()
        self.secure_cookies = secure_cookies

    # signing
    def sign(self, value: str) -> str:
        return value + "." + hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def unsign(self, signed: str) -> str | None:
        value, _, mac = signed.rpartition(".")
        if not value:
            return None
        good = hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
        return value if hmac.compare_digest(good, mac) else None

    # cookies
    def is_secure(self, request: Request) -> bool:
        """Whether cookies get the Secure flag: forced by ``secure_cookies`` or the request came over https."""
        return self.secure_cookies or request.url.scheme == "https"

    def set_session_cookie(self, request: Request, response: Response, sid: str) -> None:
        response.set_cookie(self.cookie_name, self.sign(sid), httponly=True, samesite="lax", secure=self.is_secure(request),
                            path="/")
        response.delete_cookie(self.signin_cookie, path="/signin")

    def set_signin_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(self.signin_cookie, token, httponly=True, samesite="strict", secure=self.is_secure(request),
                            path="/signin", max_age=3600)

    @staticmethod
    def signin_token() -> str:
        return secrets.token_urlsafe(24)

    @staticmethod
    def safe_next(target: str) -> str:
        """Only same-site paths: never ``//host`` or ``https://...`` (open redirects)."""
        if not target.startswith("/") or target.startswith("//") or "\\" in target:
            return "/"
        return target

    # identity
    def session_id(self, request: Request) -> str | None:
        raw = request.cookies.get(self.cookie_name)
        return self.unsign(raw) if raw else None

    def user_of(self, request: Request) -> User:
        """The signed-in user (cached on the request), or :class:`NotSignedIn`."""
        cached = getattr(request.state, "cx_user", None)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        header = request.headers.get("authorization", "")
        user: User | None = None
        csrf = None
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotSignedIn("Use `Authorization: Bearer <token>` (create one with `cxchain users token NAME`).")
            key, version, known = self._recall("token", token.strip())
            if known is not None:
                user, csrf = known
            else:
                user = user_for_token(self.ws, token.strip())
                if user is None:
                    raise NotSignedIn("That API token is not valid.")
                self._remember(key, version, user, None)
        else:
            sid = self.session_id(request)
            if not sid:
                raise NotSignedIn("Sign in first.")
            key, version, known = self._recall("session", sid)
            if known is not None:
                user, csrf = known
            else:
                found = session_user(self.ws, sid)
                if found is None:
                    raise NotSignedIn("Sign in first.")
                user, csrf = found
                self._remember(key, version, user, csrf)
        request.state.cx_user = user
        request.state.cx_csrf = csrf
        request.state.cx_bearer = bool(header)
        return user

    def known_user(self, request: Request) -> User | None:
        """The signed-in user when their token or session is remembered (no file read beyond the ops store's
        version), else None: then :meth:`user_of` looks it up (and raises :class:`NotSignedIn`)."""
        cached = getattr(request.state, "cx_user", None)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        header = request.headers.get("authorization", "")
        if header:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            known = self._recall("token", token.strip())[2]
        else:
            sid = self.session_id(request)
            known = self._recall("session", sid)[2] if sid else None
        if known is None:
            return None
        request.state.cx_user, request.state.cx_csrf = known
        request.state.cx_bearer = bool(header)
        return known[0]

    def _recall(self, kind: str, secret: str) -> tuple[str, int | None, tuple[User, str | None] | None]:
        """The memory key of a token or session (a hash: the secret itself is not kept), and the ops store's
        version now; a remembered identity older than that version or than :attr:`KNOWN_SECONDS` is forgotten."""
        key = kind + ":" + hashlib.sha256(secret.encode()).hexdigest()
        version = self._ops_version() if self._ops_version is not None else None
        with self._known_lock:
            hit = self._known.get(key)
            if hit is not None and (hit[0] != version or time.monotonic() - hit[1] > self.KNOWN_SECONDS):
                del self._known[key]
                hit = None
        return key, version, (hit[2], hit[3]) if hit is not None else None

    def _remember(self, key: str, version: int | None, user: User, csrf: str | None) -> None:
        if version is None:
            return
        with self._known_lock:
            self._known[key] = (version, time.monotonic(), user, csrf)
            while len(self._known) > 4096:
                self._known.popitem(last=False)

    def csrf_of(self, request: Request) -> str:
        return str(getattr(request.state, "cx_csrf", None) or "")

    def check_csrf(self, request: Request, token: str) -> None:
        """403 unless ``token`` is this session's CSRF token (bearer-token requests are exempt)."""
        self.user_of(request)
        if getattr(request.state, "cx_bearer", False):
            return
        expected = self.csrf_of(request)
        if not expected or not token or not hmac.compare_digest(expected, token):
            raise HTTPException(403, "The form's security token is missing or stale: reload the page and try again.")

    def check_signin_csrf(self, request: Request, token: str) -> None:
        cookie = request.cookies.get(self.signin_cookie, "")
        if not cookie or not token or not hmac.compare_digest(cookie, token):
            raise HTTPException(403, "The sign-in form's security token is missing or stale: reload the page.")


def fmt_number(v: Any, unit: str = "") -> str:
    """How numbers show on pages: thousands separators, shares as percentages, None as a dash."""
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if unit in ("%", "share"):
            return f"{v:.1%}"
        if unit == "pp":
            return f"{v * 100:+.1f} pp"
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}"
    return str(v)
