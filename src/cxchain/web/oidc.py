"""Single sign-on through OpenID Connect (Entra ID, Okta, Keycloak, Google Workspace...).

Switched on by the ``web.oidc.*`` settings (``web.oidc.issuer`` empty means off).  The flow is the
authorisation-code flow with PKCE (S256), a ``state`` bound to the browser by an HttpOnly cookie, and
a ``nonce`` checked in the ID token:

1. ``GET /signin/sso`` stores a pending sign-in (state, nonce, PKCE verifier, where to go next) in
   the workspace's ops database and redirects to the provider's authorisation endpoint.
2. ``GET /signin/sso/callback`` checks the state against the cookie, exchanges the code at the token
   endpoint (client secret from the environment variable named in ``web.oidc.client_secret_env``,
   never from the settings file), verifies the ID token's signature against the provider's JWKS
   (asymmetric algorithms only), issuer, audience, expiry and nonce, maps the role claim onto a
   cxchain role, and starts an ordinary session.

The provider is the source of truth for roles: each sign-in updates the local user's role and area.
SSO users have no password (their stored hash cannot match any password), so they can only sign in
through the provider.  Who signed in, with which role, goes to the audit log; tokens never do.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from ..errors import CxchainError
from ..workspace import Workspace
from .users import _USERNAME, ROLES, User, create_session, upsert_external_user

__all__ = ["OIDCConfig", "OIDCClient", "OIDCError", "register", "sso_enabled"]

# Signature algorithms accepted on ID tokens: asymmetric only, so a token can never be "signed" with
# the provider's public key as an HMAC secret, and never "none".
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
PENDING_SECONDS = 600          # a sign-in must come back from the provider within ten minutes
STATE_COOKIE = "cx_sso_state"


class OIDCError(CxchainError):
    """A failed single sign-on; the message says what to do next."""

    status = 400


class OIDCForbidden(OIDCError):
    """The provider vouched for the person, but cxchain grants them no role."""

    status = 403


@dataclass(frozen=True)
class OIDCConfig:
    """The ``web.oidc.*`` settings of a workspace."""

    issuer: str
    client_id: str
    client_secret: str
    scopes: str
    username_claim: str
    role_claim: str
    role_map: dict[str, str]
    area_claim: str
    redirect_uri: str

    @classmethod
    def from_workspace(cls, ws: Workspace) -> OIDCConfig | None:
        """The configuration, or None when SSO is off (no issuer)."""
        import os

        v = ws.settings.values
        issuer = str(v.get("web.oidc.issuer") or "").rstrip("/")
        if not issuer:
            return None
        if not v.get("web.oidc.client_id"):
            raise OIDCError("web.oidc.issuer is set but web.oidc.client_id is empty: set the client (application) id "
                            "your identity provider gave cxchain in cxchain.toml.")
        secret_env = str(v.get("web.oidc.client_secret_env") or "")
        return cls(issuer=issuer, client_id=str(v["web.oidc.client_id"]),
                   client_secret=os.environ.get(secret_env, "") if secret_env else "",
                   scopes=str(v.get("web.oidc.scopes") or "openid"),
                   username_claim=str(v.get("web.oidc.username_claim") or "preferred_username"),
                   role_claim=str(v.get("web.oidc.role_claim") or "roles"),
                   role_map=parse_role_map(str(v.get("web.oidc.role_map") or "")),
                   area_claim=str(v.get("web.oidc.area_claim") or ""),
                   redirect_uri=str(v.get("web.oidc.redirect_uri") or ""))


def parse_role_map(text: str) -> dict[str, str]:
    """``"grp-a=admin, grp-b=viewer"`` -> ``{"grp-a": "admin", "grp-b": "viewer"}`` (roles checked)."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        claim, sep, role = part.rpartition("=")
        if not sep or not claim.strip() or role.strip() not in ROLES:
            raise OIDCError(f"web.oidc.role_map entry {part!r} is not CLAIM_VALUE=ROLE with ROLE one of "
                            f"{', '.join(ROLES)}.")
        out[claim.strip()] = role.strip()
    return out


def sso_enabled(ws: Workspace) -> bool:
    """Whether the sign-in page offers single sign-on."""
    return bool(ws.settings.values.get("web.oidc.issuer"))


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class OIDCClient:
    """Talks to one provider: discovery, the authorisation URL, the code exchange and ID-token checks.

    Discovery and keys are cached for an hour; an ID token signed with an unknown key id refreshes the
    keys once (providers rotate keys).
    """

    def __init__(self, config: OIDCConfig, *, http: httpx.Client | None = None, cache_seconds: float = 3600.0):
        self.config = config
        self.http = http or httpx.Client(timeout=10.0, follow_redirects=False)
        self.cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._discovery: tuple[float, dict[str, Any]] | None = None
        self._jwks: tuple[float, dict[str, Any]] | None = None

    def _get_json(self, url: str, what: str) -> dict[str, Any]:
        try:
            resp = self.http.get(url)
            resp.raise_for_status()
            data = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise OIDCError(f"Could not read the identity provider's {what} at {url} ({type(exc).__name__}): check "
                            "web.oidc.issuer and that this server can reach the provider.") from None
        if not isinstance(data, dict):
            raise OIDCError(f"The identity provider's {what} at {url} is not a JSON object.")
        return data

    def discovery(self) -> dict[str, Any]:
        """The provider's ``/.well-known/openid-configuration`` (its issuer must equal the setting)."""
        with self._lock:
            if self._discovery and time.monotonic() - self._discovery[0] < self.cache_seconds:
                return self._discovery[1]
        doc = self._get_json(self.config.issuer + "/.well-known/openid-configuration", "discovery document")
        if str(doc.get("issuer", "")).rstrip("/") != self.config.issuer:
            raise OIDCError(f"The provider calls itself {doc.get('issuer')!r}, not {self.config.issuer!r}: set "
                            "web.oidc.issuer to exactly the provider's issuer.")
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not doc.get(key):
                raise OIDCError(f"The provider's discovery document has no {key}.")
        with self._lock:
            self._discovery = (time.monotonic(), doc)
        return doc

    def keys(self, *, refresh: bool = False) -> dict[str, Any]:
        with self._lock:
            if not refresh and self._jwks and time.monotonic() - self._jwks[0] < self.cache_seconds:
                return self._jwks[1]
        jwks = self._get_json(self.discovery()["jwks_uri"], "signing keys (JWKS)")
        with self._lock:
            self._jwks = (time.monotonic(), jwks)
        return jwks

    def authorization_url(self, redirect_uri: str, state: str, nonce: str, verifier: str) -> str:
        """Where to send the browser: code flow, PKCE S256, state and nonce."""
        challenge = _b64url(hashlib.sha256(verifier.encode()).digest())
        query = {"response_type": "code", "client_id": self.config.client_id, "redirect_uri": redirect_uri,
                 "scope": self.config.scopes, "state": state, "nonce": nonce, "code_challenge": challenge,
                 "code_challenge_method": "S256"}
        endpoint = self.discovery()["authorization_endpoint"]
        return endpoint + ("&" if "?" in endpoint else "?") + urlencode(query)

    def exchange(self, code: str, verifier: str, redirect_uri: str) -> str:
        """Trade the code for tokens at the token endpoint; returns the raw ID token."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
                "client_id": self.config.client_id, "code_verifier": verifier}
        try:
            if self.config.client_secret:  # client_secret_basic; a public client relies on PKCE alone
                resp = self.http.post(self.discovery()["token_endpoint"], data=form,
                                      auth=(self.config.client_id, self.config.client_secret))
            else:
                resp = self.http.post(self.discovery()["token_endpoint"], data=form)
        except httpx.HTTPError as exc:
            raise OIDCError(f"Could not reach the identity provider's token endpoint ({type(exc).__name__}).") from None
        if resp.status_code != 200:
            raise OIDCError(f"The identity provider refused the sign-in code (HTTP {resp.status_code}): check the "
                            "client id, the client secret in the environment variable named by "
                            "web.oidc.client_secret_env, and the redirect URI registered with the provider.")
        id_token = resp.json().get("id_token") if resp.headers.get("content-type", "").startswith(
            "application/json") else None
        if not id_token:
            raise OIDCError("The identity provider answered without an ID token: is the 'openid' scope in "
                            "web.oidc.scopes?")
        return str(id_token)

    def verify(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The ID token's claims after checking signature, issuer, audience, expiry and nonce."""
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError:
            raise OIDCError("The ID token is not a valid JWT.") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise OIDCError(f"The ID token is signed with {alg!r}; cxchain accepts only {', '.join(ALGORITHMS)}.")
        key = self._key_for(header.get("kid"), alg)
        try:
            claims: dict[str, Any] = jwt.decode(id_token, key=key, algorithms=[alg], audience=self.config.client_id,
                                                issuer=self.config.issuer, leeway=60,
                                                options={"require": ["exp", "iat", "iss", "aud", "sub"]})
        except jwt.PyJWTError as exc:
            raise OIDCError(f"The ID token failed its checks ({exc}); sign in again.") from None
        if not nonce or not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OIDCError("The ID token's nonce does not match this sign-in; sign in again.")
        return claims

    def _key_for(self, kid: str | None, alg: str) -> Any:
        for refresh in (False, True):
            for jwk in self.keys(refresh=refresh).get("keys", []):
                if kid is None or jwk.get("kid") == kid:
                    try:
                        return jwt.PyJWK(jwk, algorithm=alg).key
                    except jwt.PyJWTError:
                        continue
        raise OIDCError("The ID token is signed with a key the provider does not publish; sign in again.")


# --- pending sign-ins ------------------------------------------------------------------------------

def _pending_table(ws: Workspace) -> Any:
    con = ws.store.ops()
    con.execute("""CREATE TABLE IF NOT EXISTS oidc_pending (state TEXT PRIMARY KEY, nonce TEXT NOT NULL,
                   verifier TEXT NOT NULL, next TEXT NOT NULL, expires_at TEXT NOT NULL)""")
    return con


def begin(ws: Workspace, next_path: str) -> tuple[str, str, str]:
    """A new pending sign-in: (state, nonce, PKCE verifier), stored server-side for ten minutes."""
    state, nonce, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    now = datetime.now()
    con = _pending_table(ws)
    try:
        with con:
            con.execute("DELETE FROM oidc_pending WHERE expires_at < ?", (now.isoformat(),))
            con.execute("INSERT INTO oidc_pending VALUES (?, ?, ?, ?, ?)",
                        (state, nonce, verifier, next_path, (now + timedelta(seconds=PENDING_SECONDS)).isoformat()))
    finally:
        con.close()
    return state, nonce, verifier


def take(ws: Workspace, state: str) -> tuple[str, str, str] | None:
    """Consume a pending sign-in (once only): (nonce, verifier, next), or None if unknown or expired."""
    con = _pending_table(ws)
    try:
        with con:
            row = con.execute("SELECT nonce, verifier, next, expires_at FROM oidc_pending WHERE state = ?",
                              (state,)).fetchone()
            con.execute("DELETE FROM oidc_pending WHERE state = ?", (state,))
    finally:
        con.close()
    if row is None or row[3] < datetime.now().isoformat():
        return None
    return str(row[0]), str(row[1]), str(row[2])


def user_from_claims(ws: Workspace, config: OIDCConfig, claims: dict[str, Any]) -> User:
    """Create or update the local user the provider vouched for, with the role its claims map to."""
    username = str(claims.get(config.username_claim) or claims.get("email") or "").strip()
    if not _USERNAME.match(username):
        raise OIDCError(f"The ID token has no usable {config.username_claim!r} claim to name the user (2-64 letters, "
                        "digits or . _ @ -); set web.oidc.username_claim to a claim your provider sends (e.g. email).")
    if not username:
        raise OIDCError(f"The ID token has no {config.username_claim!r} claim to name the user; set "
                        "web.oidc.username_claim to a claim your provider sends (e.g. email).")
    raw = claims.get(config.role_claim) or []
    values = [raw] if isinstance(raw, str) else [str(x) for x in raw] if isinstance(raw, list) else []
    granted = [config.role_map[v] for v in values if v in config.role_map]
    if not granted:
        raise OIDCForbidden(f"{username} signed in at the identity provider but holds none of the roles cxchain maps "
                        f"(claim {config.role_claim!r}); ask an admin to assign one of "
                        f"{', '.join(sorted(config.role_map))}.")
    role = min(granted, key=list(ROLES).index)  # the most powerful granted role: ROLES runs admin -> viewer
    area = str(claims.get(config.area_claim) or "").strip() if config.area_claim else ""
    if role == "owner" and not area:
        raise OIDCError(f"{username} is a business-area owner but the ID token has no {config.area_claim or 'area'} "
                        "claim naming the area; set web.oidc.area_claim and send it from the provider.")
    user, changed = upsert_external_user(ws, username, role=role, area=area or None, subject=str(claims.get("sub", "")))
    if changed:
        ws.store.audit("sso", "user.sso_role", username, {"role": user.role, "area": user.area})
    return user


# --- routes ----------------------------------------------------------------------------------------

def register(app: FastAPI, kit: Any) -> None:
    """``GET /signin/sso`` and ``GET /signin/sso/callback`` (public; they start sessions)."""
    ws: Workspace = kit.ws
    client: dict[str, OIDCClient] = {}

    def oidc() -> OIDCClient:
        config = OIDCConfig.from_workspace(ws)
        if config is None:
            raise HTTPException(404, "Single sign-on is not configured: set web.oidc.issuer and web.oidc.client_id "
                                     "in cxchain.toml, or sign in with a cxchain account.")
        if "c" not in client or client["c"].config != config:
            client["c"] = OIDCClient(config)
        return client["c"]

    def redirect_uri(request: Request, c: OIDCClient) -> str:
        return c.config.redirect_uri or str(request.url_for("sso_callback"))

    @app.get("/signin/sso", tags=["public"])
    def sso_start(request: Request, next: str = "/") -> Response:
        """Start single sign-on: redirect to the identity provider."""
        c = oidc()
        state, nonce, verifier = begin(ws, kit.auth.safe_next(next))
        resp = RedirectResponse(c.authorization_url(redirect_uri(request, c), state, nonce, verifier), status_code=303)
        # Lax, not Strict: the provider's redirect back is a cross-site top-level navigation.
        resp.set_cookie(STATE_COOKIE, kit.auth.sign(state), httponly=True, samesite="lax",
                        secure=kit.auth.is_secure(request), path="/signin/sso", max_age=PENDING_SECONDS)
        return resp

    @app.get("/signin/sso/callback", name="sso_callback", tags=["public"])
    def sso_callback(request: Request, code: str = "", state: str = "", error: str = "",
                     error_description: str = "") -> Response:
        """The identity provider's redirect back: verify, map the role, start a session."""
        c = oidc()
        if error:
            raise OIDCError(f"The identity provider refused the sign-in: {error} {error_description}".strip())
        cookie = kit.auth.unsign(request.cookies.get(STATE_COOKIE, ""))
        if not state or not cookie or not secrets.compare_digest(cookie, state):
            raise OIDCError("This sign-in did not start in this browser (state mismatch); start again from the "
                            "sign-in page.")
        pending = take(ws, state)
        if pending is None:
            raise OIDCError("This sign-in expired or was already used; start again from the sign-in page.")
        nonce, verifier, next_path = pending
        if not code:
            raise OIDCError("The identity provider sent no code; start again from the sign-in page.")
        claims = c.verify(c.exchange(code, verifier, redirect_uri(request, c)), nonce)
        user = user_from_claims(ws, c.config, claims)
        sid, _ = create_session(ws, user.username)
        ws.store.audit(user.username, "signin.sso", user.username, {"role": user.role})
        resp = RedirectResponse(next_path, status_code=303)
        kit.auth.set_session_cookie(request, resp, sid)
        resp.delete_cookie(STATE_COOKIE, path="/signin/sso")
        return resp
