"""The web app through its in-process client: sign-in, roles, CSRF, tokens, JSON twins, escaping, headers."""

from __future__ import annotations

import csv
import io
import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cxchain.web.app import CSP, create_app
from cxchain.web.auth import fmt_number
from cxchain.web.users import list_users

from .conftest import HOSTILE, PASSWORD, csrf_from, sign_in

PAGES = ["/", "/data", "/insight", "/insight/metrics/aht?by=channel", "/insight/metrics/volume?by=channel&period=month",
         "/areas/Waste%20Services", "/admin/users",
         # links 3-5 (cxchain.web.loop_pages)
         "/priorities", "/priorities?cycle=C1", "/redesign", "/redesign/initiatives/I1", "/cycles", "/cycles/C1"]


def _finding_pages(client: TestClient) -> list[str]:
    rows = client.get("/insight.json").json()["tables"][0]["rows"]
    return [f"/insight/findings/{r['id']}" for r in rows]


def _json_url(path: str) -> str:
    base, _, query = path.partition("?")
    return (base.rstrip("/") or "/index") + ".json" + (f"?{query}" if query else "")


# --- sign-in -------------------------------------------------------------------------------------

def test_healthz_is_public(anon: TestClient) -> None:
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.json()["ok"] is True


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_sign_in(anon: TestClient, path: str) -> None:
    r = anon.get(path, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
    assert anon.get(_json_url(path)).status_code == 401
    assert anon.get(path, headers={"accept": "application/json"}).status_code == 401
    assert anon.get("/openapi.json").status_code == 401


def test_wrong_password_is_refused_and_audited(app: Any, demo_ws: dict[str, Any]) -> None:
    c = TestClient(app)
    assert sign_in(TestClient(app), "vic").status_code == 303
    r = sign_in(c, "vic", "not-the-password")
    assert r.status_code == 401 and "do not match" in r.text
    assert c.get("/", follow_redirects=False).status_code == 303
    con = demo_ws["ws"].store.ops()
    actions = {a for (a,) in con.execute("SELECT action FROM audit_log WHERE target = 'vic'").fetchall()}
    con.close()
    assert {"signin", "signin.failed"} <= actions


def test_session_cookie_flags(app: Any) -> None:
    r = sign_in(TestClient(app), "vic")
    cookie = r.headers["set-cookie"].lower()
    assert "cx_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    r = sign_in(TestClient(app, base_url="https://testserver"), "vic")
    assert "secure" in r.headers["set-cookie"].lower()


def test_tampered_session_cookie_is_rejected(app: Any) -> None:
    c = TestClient(app)
    sign_in(c, "vic")
    value = c.cookies.get("cx_session")
    c.cookies.clear()
    c.cookies.set("cx_session", value[:-4] + ("0000" if not value.endswith("0000") else "1111"))
    assert c.get("/", follow_redirects=False).status_code == 303


def test_signin_needs_csrf(anon: TestClient) -> None:
    r = anon.post("/signin", data={"username": "vic", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403


def test_open_redirect_is_refused(app: Any) -> None:
    c = TestClient(app)
    token = csrf_from(c.get("/signin").text)
    r = c.post("/signin", data={"username": "vic", "password": PASSWORD, "csrf_token": token,
                                "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_signin_rate_limit(demo_ws: dict[str, Any]) -> None:
    app = create_app(demo_ws["path"])  # its own limiter
    c = TestClient(app)
    codes = [sign_in(c, "ann", "wrong-password-x").status_code for _ in range(5)]
    assert codes == [401] * 5
    assert sign_in(c, "ann", "wrong-password-x").status_code == 429
    assert sign_in(c, "ann").status_code == 429  # even the right password, until the window passes
    assert sign_in(c, "vic").status_code == 303  # other usernames are not affected


def test_signout(app: Any) -> None:
    c = TestClient(app)
    sign_in(c, "vic")
    token = csrf_from(c.get("/").text)
    assert c.post("/signout", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert c.get("/", follow_redirects=False).status_code == 303


# --- roles and CSRF ------------------------------------------------------------------------------

def test_viewer_cannot_post_anything(clients: dict[str, TestClient]) -> None:
    c = clients["viewer"]
    token = csrf_from(c.get("/").text)
    for path, data in [("/data/quarantine/replay", {}), ("/admin/users", {"username": "x1", "password": "y" * 12,
                                                                           "role": "admin"}),
                       ("/admin/users/ann/remove", {})]:
        assert c.post(path, data={**data, "csrf_token": token}).status_code == 403, path
    assert "replay-button" not in c.get("/data").text


def test_owner_sees_only_their_area_and_no_admin(clients: dict[str, TestClient]) -> None:
    c = clients["owner"]
    assert c.get("/areas/Waste%20Services").status_code == 200
    assert c.get("/areas/Highways").status_code == 403
    assert c.get("/admin/users").status_code == 403
    token = csrf_from(c.get("/").text)
    assert c.post("/data/quarantine/replay", data={"csrf_token": token}).status_code == 403
    assert clients["analyst"].get("/areas/Highways").status_code == 200


def test_analyst_replays_quarantine_with_csrf(copy_ws: Any) -> None:
    app = create_app(copy_ws)
    c = TestClient(app)
    sign_in(c, "ann")
    before = app.state.workspace.store.current()["generation"]
    assert c.post("/data/quarantine/replay", data={}).status_code == 403  # no CSRF token
    assert c.post("/data/quarantine/replay", data={"csrf_token": "forged"}).status_code == 403
    token = csrf_from(c.get("/data").text)
    r = c.post("/data/quarantine/replay", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert app.state.workspace.store.current()["generation"] == before + 1
    con = app.state.workspace.store.ops()
    rows = con.execute("SELECT actor FROM audit_log WHERE action = 'quarantine.replay'").fetchall()
    con.close()
    assert ("ann",) in rows


def test_admin_adds_and_removes_users(copy_ws: Any) -> None:
    app = create_app(copy_ws)
    c = TestClient(app)
    sign_in(c, "ada")
    token = csrf_from(c.get("/admin/users").text)
    r = c.post("/admin/users", data={"username": "newbie", "password": "long-enough-pw", "role": "viewer",
                                     "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert "newbie" in [u.username for u in list_users(app.state.workspace)]
    assert c.post("/admin/users", data={"username": "x2", "password": "long-enough-pw", "role": "viewer"}).status_code == 403
    assert c.post("/admin/users/newbie/remove", data={"csrf_token": token}, follow_redirects=False).status_code == 303
    assert "newbie" not in [u.username for u in list_users(app.state.workspace)]
    assert c.post("/admin/users/ada/remove", data={"csrf_token": token}).status_code == 400


# --- API tokens ----------------------------------------------------------------------------------

def test_api_token(anon: TestClient, demo_ws: dict[str, Any]) -> None:
    h = {"authorization": f"Bearer {demo_ws['token']}"}
    r = anon.get("/data", headers={**h, "accept": "application/json"})
    assert r.status_code == 200 and r.json()["ok"] is True
    assert anon.get("/openapi.json", headers=h).json()["info"]["title"] == "cxchain"
    assert anon.get("/", headers={"authorization": "Bearer nope"}).status_code == 401
    assert anon.post("/data/quarantine/replay", headers=h).status_code == 403  # a viewer's token


def test_analyst_token_replays_without_csrf(copy_ws: Any, demo_ws: dict[str, Any]) -> None:
    c = TestClient(create_app(copy_ws))
    r = c.post("/data/quarantine/replay", headers={"authorization": f"Bearer {demo_ws['analyst_token']}"})
    assert r.status_code == 200 and r.json()["ok"] is True


# --- JSON twins ----------------------------------------------------------------------------------

def _numbers_in_tables(data: dict[str, Any]) -> list[str]:
    out = []
    for t in data.get("tables", []):
        units = {c["key"]: c.get("unit", "") for c in t["columns"]}
        for row in t["rows"][:60]:
            for k, v in row.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.append(fmt_number(v, units.get(k, "")))
    return out


def test_every_html_route_has_a_json_twin_with_the_same_numbers(clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    for path in PAGES + _finding_pages(c):
        html = c.get(path)
        assert html.status_code == 200, path
        assert "application/json" in html.headers["link"]
        twin = c.get(_json_url(path))
        accept = c.get(path, headers={"accept": "application/json"})
        assert twin.status_code == 200 and twin.headers["content-type"].startswith("application/json"), path
        assert twin.json() == accept.json(), path
        text = unescape(html.text)
        for number in _numbers_in_tables(twin.json()):
            assert number in text, f"{path}: {number} in JSON but not on the page"


def test_drilldown_count_matches_rows_in_download(clients: dict[str, TestClient]) -> None:
    c = clients["analyst"]
    for path in _finding_pages(c):
        data = c.get(path + ".json").json()
        rows = list(csv.reader(io.StringIO(c.get(path + "?format=csv").text)))
        if data["drilldown_count"] is not None:
            assert len(rows) - 1 == data["drilldown_count"]
        assert f">{fmt_number(data['drilldown_count'])}<" in c.get(path).text


def test_downloads_csv_and_xlsx_neutralise_formulas(clients: dict[str, TestClient]) -> None:
    c = clients["viewer"]
    r = c.get("/data?format=csv&table=quarantine")
    assert r.status_code == 200 and r.text.startswith("quarantine_id,")
    x = c.get("/data?format=xlsx&table=sources")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    assert c.get("/data?format=csv&table=nope").status_code == 404


def test_small_numbers_are_suppressed(clients: dict[str, TestClient]) -> None:
    data = clients["viewer"].get("/areas/Waste%20Services.json").json()
    rows = [r for t in data["tables"] for r in t["rows"]]
    assert rows
    for r in rows:
        assert r["n"] is None or r["n"] >= 10
    assert "suppressed" in clients["viewer"].get("/areas/Waste%20Services").text


# --- safety --------------------------------------------------------------------------------------

def test_hostile_verbatim_renders_inert(clients: dict[str, TestClient], demo_ws: dict[str, Any]) -> None:
    c = clients["viewer"]
    for path in (f"/insight/findings/{demo_ws['hostile_finding']}", "/insight"):
        html = c.get(path).text
        assert HOSTILE not in html and "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The JSON twin carries the text as data, with a JSON content type.
    assert HOSTILE in c.get(f"/insight/findings/{demo_ws['hostile_finding']}.json").json()["finding"]["verbatims"][0]["text"]


def test_no_inline_script_or_style_in_pages(clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    for path in PAGES:
        html = c.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"<style|\sstyle=", html), path


@pytest.mark.parametrize("path", ["/healthz", "/signin", "/", "/data.json", "/static/app.css", "/nope"])
def test_security_headers(clients: dict[str, TestClient], path: str) -> None:
    r = clients["viewer"].get(path)
    assert r.headers["content-security-policy"] == CSP
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"


def test_unknown_things_are_404(clients: dict[str, TestClient]) -> None:
    c = clients["viewer"]
    assert c.get("/insight/findings/F-nope").status_code == 404
    assert c.get("/insight/metrics/nope.json").json() == {"ok": False, "error": c.get("/insight/metrics/nope.json")
                                                          .json()["error"], "status": 404}


def test_keeps_serving_while_a_run_writes(copy_ws: Any) -> None:
    """A writer holds the lock and builds a new generation; reads keep answering from the published one."""
    app = create_app(copy_ws)
    c = TestClient(app)
    sign_in(c, "vic")
    ws = app.state.workspace
    with ws.store.write("test-run") as tx:
        tx.data.execute("DELETE FROM finding")  # not visible until published
        assert len(c.get("/insight.json").json()["tables"][0]["rows"]) > 0
        assert c.get("/data.json").status_code == 200
    assert c.get("/insight.json").json()["tables"][0]["rows"] == []
