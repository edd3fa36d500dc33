"""Web fixtures: one demo workspace per session (the whole chain runs once), users of every role, clients."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the web extra (fastapi) is not installed")

from fastapi.testclient import TestClient  # noqa: E402

from cxchain.web.app import create_app  # noqa: E402
from cxchain.web.users import add_user, create_token  # noqa: E402
from cxchain.workspace import Workspace  # noqa: E402

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
PASSWORD = "correct-horse-battery"
USERS = {"ada": ("admin", None), "ann": ("analyst", None), "olly": ("owner", "Waste Services"), "vic": ("viewer", None)}


def _plant_hostile(ws: Workspace) -> str:
    """Put the hostile text into the first contact behind the first finding (and into its verbatims)."""
    from cxchain.metrics import drilldown

    first = ws.findings()[0]
    with ws.store.read() as con:
        ids = drilldown(con, first["metric"]["id"], ws.settings, first.get("filters") or {})
    target = ids[0]
    with ws.store.write("test-hostile") as tx:
        tx.data.execute("UPDATE contact SET text = ? WHERE record_id = ?", [HOSTILE, target])
        body = json.loads(tx.data.execute("SELECT body FROM finding WHERE id = ?", [first["id"]]).fetchall()[0][0])
        body["verbatims"] = [{"record_id": target, "text": HOSTILE}, *body.get("verbatims", [])]
        tx.data.execute("UPDATE finding SET body = ? WHERE id = ?", [json.dumps(body), first["id"]])
    return str(first["id"])


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The council demo (1,500 contacts, seed 1) with users of each role, a token and a hostile verbatim."""
    from cxchain.demo.workspace import build_demo

    path = tmp_path_factory.mktemp("web") / "demo"
    build_demo(path, sector="council", contacts=1500, seed=1)
    ws = Workspace(path)
    for name, (role, area) in USERS.items():
        add_user(ws, name, PASSWORD, role=role, area=area)
    hostile_finding = _plant_hostile(ws)
    return {"path": path, "ws": ws, "token": create_token(ws, "vic", name="tests"),
            "analyst_token": create_token(ws, "ann", name="tests"), "hostile_finding": hostile_finding}


@pytest.fixture(scope="session")
def app(demo_ws: dict[str, Any]) -> Any:
    """The shared app; its sign-in limit is raised because every test signs in from the same address."""
    return create_app(demo_ws["path"], signin_limit=10_000)


def csrf_from(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the form"
    return m.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    token = csrf_from(client.get("/signin").text)
    return client.post("/signin", data={"username": username, "password": password, "csrf_token": token, "next": "/"},
                       follow_redirects=False)


@pytest.fixture(scope="session")
def clients(app: Any) -> Iterator[dict[str, TestClient]]:
    """A signed-in client per role (session-wide: tests must not sign them out)."""
    out = {}
    for name, (role, _) in USERS.items():
        c = TestClient(app)
        assert sign_in(c, name).status_code == 303
        out[role] = c
    yield out


@pytest.fixture
def anon(app: Any) -> TestClient:
    return TestClient(app)


@pytest.fixture
def copy_ws(demo_ws: dict[str, Any], tmp_path: Path) -> Path:
    """A private copy of the demo workspace for tests that change it."""
    dst = tmp_path / "demo"
    shutil.copytree(demo_ws["path"], dst)
    return dst
