"""The CX Code pages: the code with its evidence, a principle's versions, design reviews and the QA sample,
through the in-process client (roles, CSRF, JSON twins with the same numbers as the pages)."""

from __future__ import annotations

from html import unescape
from typing import Any

from fastapi.testclient import TestClient

from cxchain.code.principles import get, save
from cxchain.redesign.initiatives import list_initiatives
from cxchain.web.app import create_app
from cxchain.web.auth import fmt_number
from cxchain.web.users import add_user, create_token

from .conftest import PASSWORD, csrf_from, sign_in


def _numbers_in_tables(data: dict[str, Any]) -> list[str]:
    out = []
    for t in data.get("tables", []):
        units = {c["key"]: c.get("unit", "") for c in t["columns"]}
        for row in t["rows"][:60]:
            for k, v in row.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    out.append(fmt_number(v, units.get(k, "")))
    return out


def _pages(c: TestClient) -> list[str]:
    ids = [p["id"] for p in c.get("/code.json").json()["code"]["principles"]]
    return ["/code", "/code/reviews", "/code/qa"] + [f"/code/principles/{i}" for i in ids]


def test_code_pages_need_sign_in(anon: TestClient) -> None:
    for path in ("/code", "/code/qa", "/code/reviews", "/code/principles/dont-make-me-chase"):
        r = anon.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?next=")
        assert anon.get(path + ".json").status_code == 401
    assert anon.post("/code/reviews", data={}).status_code == 401


def test_nav_links_to_the_code(clients: dict[str, TestClient]) -> None:
    for c in clients.values():
        assert '<a href="/code"' in c.get("/").text


def test_json_twins_carry_the_numbers_on_the_pages(clients: dict[str, TestClient]) -> None:
    c = clients["admin"]
    for path in _pages(c):
        html = c.get(path)
        assert html.status_code == 200, path
        twin = c.get(path + ".json")
        assert twin.status_code == 200 and twin.json() == c.get(path, headers={"accept": "application/json"}).json()
        text = unescape(html.text)
        for number in _numbers_in_tables(twin.json()):
            assert number in text, f"{path}: {number} in JSON but not on the page"
    data = c.get("/code.json").json()
    text = unescape(c.get("/code").text)
    assert data["code"]["principles"], "the demo publishes a code"
    assert any(p["status"] == "published" for p in data["code"]["principles"])
    for p in data["code"]["principles"]:
        shown = fmt_number(p["adherence"], "share")
        assert f'data-principle="{p["id"]}">{shown}<' in text
        one = c.get(f"/code/principles/{p['id']}.json").json()
        if p["status"] != "published":  # an assumption is not scored
            assert one["adherence"] is None and p["adherence"] is None
            continue
        assert one["adherence"]["value"] == p["adherence"]
        assert f'id="adherence-value">{shown}<' in unescape(c.get(f"/code/principles/{p['id']}").text)
    qa = c.get("/code/qa.json").json()
    qa_html = unescape(c.get("/code/qa").text)
    assert f'id="qa-verdicts">{fmt_number(qa["scored"]["verdicts"])}<' in qa_html
    assert f'id="qa-failing">{fmt_number(qa["scored"]["failing"])}<' in qa_html


def test_every_principle_links_to_the_findings_behind_it(clients: dict[str, TestClient]) -> None:
    c = clients["viewer"]
    data = c.get("/code.json").json()
    html = c.get("/code").text
    cited = [e["id"] for p in data["code"]["principles"] for e in p["evidence"]]
    assert cited
    for fid in cited:
        assert f'href="/insight/findings/{fid}"' in html
        assert c.get(f"/insight/findings/{fid}").status_code == 200


def test_principle_page_shows_versions_and_a_readable_diff(copy_ws: Any) -> None:
    app = create_app(copy_ws, signin_limit=10_000)
    ws = app.state.workspace
    p = get(ws, "dont-make-me-chase")
    before = p.version
    p.statement = "Keep me informed, by text or email, so I never have to chase you."
    save(ws, p, actor="ann", note="plainer wording")
    c = TestClient(app)
    sign_in(c, "vic")
    data = c.get("/code/principles/dont-make-me-chase.json").json()
    assert [v["version"] for v in data["versions"]][-1] == before + 1
    top = data["diffs"][0]
    assert (top["from"], top["to"]) == (before, before + 1)
    assert any(ch["field"] == "statement" for ch in top["changes"])
    html = unescape(c.get("/code/principles/dont-make-me-chase").text)
    assert f"Version {before} → {before + 1}" in html
    assert "+Keep me informed, by text or email, so I never have to chase you." in html
    assert c.get("/code/principles/no-such-principle").status_code == 404


def _review_form(c: TestClient, page: str = "/code/reviews") -> tuple[str, dict[str, str]]:
    data = c.get(page + ".json").json()
    token = csrf_from(c.get(page).text)
    return token, {f"answer:{q['principle_id']}": "yes" for q in data["checklist"]}


def test_review_roles_and_csrf(copy_ws: Any) -> None:
    app = create_app(copy_ws, signin_limit=10_000)
    ws = app.state.workspace
    ini = list_initiatives(ws)[0]
    area = ini["areas"][0]["area"]
    add_user(ws, "oona", PASSWORD, role="owner", area=area)
    add_user(ws, "otto", PASSWORD, role="owner", area="Somewhere Else")
    clients = {}
    for name in ("vic", "ann", "oona", "otto"):
        clients[name] = TestClient(app)
        sign_in(clients[name], name)
    token, answers = _review_form(clients["ann"])
    text_review = {**answers, "text": "Move bulky waste bookings online", "csrf_token": token}
    assert clients["ann"].post("/code/reviews", data={**answers, "text": "x"}).status_code == 403  # no CSRF
    assert clients["ann"].post("/code/reviews", data={**text_review, "csrf_token": "forged"}).status_code == 403
    r = clients["ann"].post("/code/reviews", data=text_review, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/code/reviews#review-")
    for name in ("vic", "oona", "otto"):  # nobody else reviews a described change
        tok, _ = _review_form(clients[name])
        assert clients[name].post("/code/reviews", data={**text_review, "csrf_token": tok}).status_code == 403
    # an owner reviews the initiatives of their own area only
    tok, _ = _review_form(clients["otto"])
    assert clients["otto"].post("/code/reviews", data={**answers, "initiative_id": ini["id"],
                                                       "csrf_token": tok}).status_code == 403
    tok, _ = _review_form(clients["oona"])
    r = clients["oona"].post("/code/reviews", data={**answers, "initiative_id": ini["id"], "csrf_token": tok,
                                                    f"comment:{next(iter(answers))[7:]}": "checked with the team"},
                             follow_redirects=False)
    assert r.status_code == 303
    shown = clients["vic"].get("/code/reviews.json").json()["reviews"]
    assert {(x["actor"], x["initiative_id"]) for x in shown} >= {("ann", None), ("oona", ini["id"])}
    assert "name=\"answer:" not in clients["vic"].get("/code/reviews").text  # a viewer gets no form
    assert 'name="answer:' in clients["oona"].get("/code/reviews").text
    # an incomplete review is refused with the library's message, nothing stored
    tok, _ = _review_form(clients["ann"])
    r = clients["ann"].post("/code/reviews.json", data={"text": "half done", "csrf_token": tok,
                                                        next(iter(answers)): "yes"})
    assert r.status_code == 400 and "missing" in r.json()["error"]


def test_qa_confirm_and_correct(copy_ws: Any) -> None:
    app = create_app(copy_ws, signin_limit=10_000)
    ws = app.state.workspace
    viewer, analyst = TestClient(app), TestClient(app)
    sign_in(viewer, "vic")
    sign_in(analyst, "ann")
    items = analyst.get("/code/qa.json?n=6").json()["items"]
    assert len(items) == 6 and {i["verdict"] for i in items} == {"pass", "fail"}
    assert 'action="/code/qa/confirm"' not in viewer.get("/code/qa?n=6").text
    assert 'action="/code/qa/confirm"' in analyst.get("/code/qa?n=6").text
    first, second = items[0], items[1]
    vt = csrf_from(viewer.get("/").text)
    form = {"record_id": first["record_id"], "principle_id": first["principle_id"]}
    assert viewer.post("/code/qa/confirm", data={**form, "csrf_token": vt}).status_code == 403
    assert analyst.post("/code/qa/confirm", data=form).status_code == 403  # no CSRF
    at = csrf_from(analyst.get("/code/qa?n=6").text)
    r = analyst.post("/code/qa/confirm", data={**form, "csrf_token": at, "n": "6"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/code/qa?n=6")
    # a script with a bearer token needs no CSRF token
    token = create_token(ws, "ann", name="qa-script")
    flip = "pass" if second["verdict"] == "fail" else "fail"
    r = TestClient(app).post("/code/qa/correct", headers={"authorization": f"Bearer {token}"},
                             data={"record_id": second["record_id"], "principle_id": second["principle_id"],
                                   "verdict": flip, "note": "the agent did say what happens next"})
    assert r.status_code == 200 and r.json()["qa"]["agrees"] is False
    ag = analyst.get("/code/qa.json?n=6").json()["agreement"]
    assert (ag["reviewed"], ag["agreed"], ag["rate"]) == (2, 1, 0.5)
    assert "50.0%" in unescape(analyst.get("/code/qa?n=6").text)
    assert analyst.get("/code/qa?n=0").status_code == 400
