"""A small but real OpenID Connect provider for the single sign-on tests.

It speaks the protocol over real HTTP on loopback (discovery, authorisation with PKCE, token, JWKS)
and signs ID tokens with its own RSA key, so cxchain's client is exercised exactly as against Entra
ID or Keycloak, which cannot run offline here.  ``person`` is who is "signed in at the provider";
``misbehave`` makes it send a broken token in one named way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse

CLIENT_ID = "cxchain-tests"
CLIENT_SECRET = "provider-secret-for-tests"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Provider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "test-key-1"
        self.port = _free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.person: dict[str, Any] = {}
        self.misbehave = ""
        self.codes: dict[str, dict[str, Any]] = {}
        self.app = self._build()
        self._server: uvicorn.Server | None = None

    # --- lifecycle ---
    def start(self) -> Provider:
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        threading.Thread(target=self._server.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test identity provider did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._server:
            self._server.should_exit = True

    # --- tokens ---
    def id_token(self, claims: dict[str, Any]) -> str:
        now = int(time.time())
        body = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, **claims}
        key: Any = self.key
        alg = "RS256"
        if self.misbehave == "wrong_audience":
            body["aud"] = "someone-else"
        elif self.misbehave == "expired":
            body["iat"], body["exp"] = now - 7200, now - 3600
        elif self.misbehave == "wrong_nonce":
            body["nonce"] = "not-the-nonce"
        elif self.misbehave == "wrong_key":
            key = self.other_key
        elif self.misbehave == "hmac_with_public_key":
            # The classic key-confusion attack: HMAC "signed" with the public key.  PyJWT refuses to
            # make such a token, so it is assembled by hand.
            pem = self.key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo)
            b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
            head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self.kid}).encode())
            payload = b64(json.dumps(body).encode())
            sig = b64(hmac.new(pem, f"{head}.{payload}".encode(), hashlib.sha256).digest())
            return f"{head}.{payload}.{sig}"
        return jwt.encode(body, key, algorithm=alg, headers={"kid": self.kid})

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/.well-known/openid-configuration")
        def discovery() -> dict[str, Any]:
            return {"issuer": self.issuer, "authorization_endpoint": self.issuer + "/authorize",
                    "token_endpoint": self.issuer + "/token", "jwks_uri": self.issuer + "/jwks",
                    "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
                    "code_challenge_methods_supported": ["S256"]}

        @app.get("/jwks")
        def jwks() -> dict[str, Any]:
            jwk = jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
            return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}

        @app.get("/authorize")
        def authorize(response_type: str, client_id: str, redirect_uri: str, scope: str, state: str, nonce: str,
                      code_challenge: str, code_challenge_method: str) -> RedirectResponse:
            if response_type != "code" or client_id != CLIENT_ID or "openid" not in scope.split():
                raise HTTPException(400, "bad authorisation request")
            if code_challenge_method != "S256":
                raise HTTPException(400, "PKCE S256 required")
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"redirect_uri": redirect_uri, "nonce": nonce, "challenge": code_challenge,
                                "person": dict(self.person)}
            return RedirectResponse(redirect_uri + "?" + urlencode({"code": code, "state": state}), status_code=303)

        @app.post("/token")
        def token(request: Request, grant_type: str = Form(), code: str = Form(), redirect_uri: str = Form(),
                  code_verifier: str = Form(), client_id: str = Form("")) -> JSONResponse:
            basic = request.headers.get("authorization", "")
            expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
            if basic != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            grant = self.codes.pop(code, None)
            if grant_type != "authorization_code" or grant is None or grant["redirect_uri"] != redirect_uri:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            challenge = base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != grant["challenge"]:
                return JSONResponse({"error": "invalid_grant", "error_description": "PKCE"}, status_code=400)
            claims = {"nonce": grant["nonce"], **grant["person"]}
            return JSONResponse({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                                 "id_token": self.id_token(claims)})

        return app
