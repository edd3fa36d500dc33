"""Single sign-on through OpenID Connect, against a real provider speaking the protocol over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytest.importorskip("jwt", reason="pyjwt (single sign-on) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from cxchain.web.app import create_app  # noqa: E402
from cxchain.web.users import add_user, get_user, verify_password  # noqa: E402
from cxchain.workspace import Workspace  # noqa: E402

from .conftest import PASSWORD, sign_in  # noqa: E402
from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider  # noqa: E402


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    p = Provider().start()
    yield p
    p.stop()


@pytest.fixture(scope="module")
def sso_ws(tmp_path_factory: pytest.TempPathFactory, provider: Provider) -> Path:
    path = tmp_path_factory.mktemp("sso") / "ws"
    Workspace.init(path, sector="housing", overrides={
        "web.oidc.issuer": provider.issuer, "web.oidc.client_id": CLIENT_ID,
        "web.oidc.client_secret_env": "CXCHAIN_TEST_OIDC_SECRET"})
    return path


@pytest.fixture
def app_client(sso_ws: Path, provider: Provider, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("CXCHAIN_TEST_OIDC_SECRET", CLIENT_SECRET)
    provider.misbehave = ""
    with TestClient(create_app(sso_ws)) as c:
        yield c


def _round_trip(client: TestClient, next_path: str = "/?from=sso") -> httpx.Response:
    """Browser steps: cxchain -> provider (already signed in there) -> cxchain's callback."""
    start = client.get(f"/signin/sso?next={next_path}", follow_redirects=False)
    assert start.status_code == 303, start.text
    at_provider = httpx.get(start.headers["location"], follow_redirects=False)
    assert at_provider.status_code == 303, at_provider.text
    back = urlsplit(at_provider.headers["location"])
    assert back.path == "/signin/sso/callback"
    return client.get(f"{back.path}?{back.query}", follow_redirects=False)


def test_sign_in_page_offers_sso_only_when_configured(app_client: TestClient, tmp_path: Path) -> None:
    assert "/signin/sso" in app_client.get("/signin").text
    plain = Workspace.init(tmp_path / "plain", sector="council")
    with TestClient(create_app(plain.path)) as c:
        assert "/signin/sso" not in c.get("/signin").text
        r = c.get("/signin/sso", headers={"accept": "application/json"}, follow_redirects=False)
        assert r.status_code == 404 and "web.oidc.issuer" in r.json()["error"]


def test_authorisation_request_uses_pkce_state_and_nonce(app_client: TestClient, provider: Provider) -> None:
    r = app_client.get("/signin/sso", follow_redirects=False)
    url = urlsplit(r.headers["location"])
    q = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}" == provider.issuer
    assert q["code_challenge_method"] == "S256" and len(q["code_challenge"]) == 43
    assert q["state"] and q["nonce"] and q["state"] != q["nonce"]
    assert q["redirect_uri"] == "http://testserver/signin/sso/callback"
    assert "cx_sso_state" in r.headers["set-cookie"] and "httponly" in r.headers["set-cookie"].lower()


def test_round_trip_signs_in_with_the_mapped_role_and_updates_it(app_client: TestClient, provider: Provider,
                                                                  sso_ws: Path) -> None:
    provider.person = {"sub": "u-1", "preferred_username": "nia@example.org", "roles": ["cxchain-viewer",
                                                                                       "cxchain-analyst"]}
    done = _round_trip(app_client)
    assert done.status_code == 303 and done.headers["location"] == "/?from=sso"
    page = app_client.get("/")
    assert page.status_code == 200 and "nia@example.org (analyst)" in page.text
    ws = Workspace(sso_ws)
    user = get_user(ws, "nia@example.org")
    assert user is not None and user.role == "analyst"
    # The provider is the source of truth: a changed role applies at the next sign-in.
    provider.person = {**provider.person, "roles": ["cxchain-owner"], "cxchain_area": "Repairs"}
    assert _round_trip(app_client).status_code == 303
    user = get_user(ws, "nia@example.org")
    assert user is not None and (user.role, user.area) == ("owner", "Repairs")
    # No password can ever sign an SSO user in.
    assert verify_password(ws, "nia@example.org", "") is None
    assert verify_password(ws, "nia@example.org", "sso$u-1") is None
    audit = ws.store.ops().execute("SELECT action FROM audit_log WHERE target = 'nia@example.org'").fetchall()
    assert ("signin.sso",) in audit and ("user.sso_role",) in audit


@pytest.mark.parametrize("fault,words", [
    ("wrong_nonce", "nonce"), ("wrong_key", "failed its checks"), ("wrong_audience", "failed its checks"),
    ("expired", "failed its checks"), ("hmac_with_public_key", "accepts only")])
def test_a_bad_id_token_starts_no_session(app_client: TestClient, provider: Provider, fault: str,
                                         words: str) -> None:
    provider.person = {"sub": "u-2", "preferred_username": "eve", "roles": ["cxchain-admin"]}
    provider.misbehave = fault
    r = _round_trip(app_client)
    assert r.status_code == 400 and words in r.text
    assert "cx_session" not in r.headers.get("set-cookie", "")
    assert app_client.get("/", follow_redirects=False).status_code in (302, 303, 307)


def test_state_must_come_from_this_browser_and_is_single_use(app_client: TestClient, provider: Provider,
                                                             sso_ws: Path) -> None:
    provider.person = {"sub": "u-3", "preferred_username": "sam", "roles": ["cxchain-viewer"]}
    start = app_client.get("/signin/sso", follow_redirects=False)
    back = urlsplit(httpx.get(start.headers["location"], follow_redirects=False).headers["location"])
    # Another browser (no state cookie) cannot complete it: login CSRF.
    with TestClient(create_app(sso_ws)) as other:
        r = other.get(f"{back.path}?{back.query}", follow_redirects=False)
        assert r.status_code == 400 and "did not start in this browser" in r.text
    assert app_client.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 303
    again = app_client.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert again.status_code == 400


def test_unmapped_people_and_local_name_clashes_are_refused(app_client: TestClient, provider: Provider,
                                                            sso_ws: Path) -> None:
    provider.person = {"sub": "u-4", "preferred_username": "max", "roles": ["payroll"]}
    r = _round_trip(app_client)
    assert r.status_code == 403 and "none of the roles" in r.text
    add_user(Workspace(sso_ws), "lou", PASSWORD, role="viewer")
    provider.person = {"sub": "u-5", "preferred_username": "lou", "roles": ["cxchain-admin"]}
    r = _round_trip(app_client)
    assert r.status_code == 400 and "local (password) account" in r.text
    # The local account still signs in with its password, and kept its role.
    assert sign_in(app_client, "lou").status_code == 303
    user = get_user(Workspace(sso_ws), "lou")
    assert user is not None and user.role == "viewer"


def test_provider_refusal_is_explained(app_client: TestClient) -> None:
    r = app_client.get("/signin/sso/callback?error=access_denied&error_description=User+cancelled",
                       headers={"accept": "application/json"})
    body: dict[str, Any] = r.json()
    assert r.status_code == 400 and "access_denied" in body["error"]
