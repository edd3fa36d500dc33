"""Views computed once per published state: edits show at once, a new run's views never stall the app."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cxchain.web.app import create_app
from cxchain.web.cache import ViewCache
from cxchain.web.users import add_user, create_token, remove_user
from cxchain.workspace import Workspace


def _counting(value: Any) -> tuple[list[int], Any]:
    calls: list[int] = []

    def compute() -> Any:
        calls.append(1)
        return {"value": value, "call": len(calls)}

    return calls, compute


def _publish(ws: Workspace) -> None:
    """A new generation with the same content, as a run that changed nothing would publish."""
    with ws.store.write("test-cache") as tx:
        tx.info["last"] = "test"


def test_a_view_is_computed_once_per_state_and_again_after_an_edit(copy_ws: Path) -> None:
    ws = Workspace(copy_ws)
    cache = ViewCache(ws)
    calls, compute = _counting("x")
    first = cache.get("v", (), compute)
    assert cache.get("v", (), compute) is first and len(calls) == 1
    add_user(ws, "newcomer", "a-long-enough-password", role="viewer")  # an edit commits to the ops store
    assert cache.get("v", (), compute)["call"] == 2 and len(calls) == 2
    assert cache.get("v", ("other",), compute)["call"] == 3  # arguments are part of the key


def test_a_new_run_is_computed_in_the_background_while_the_last_view_is_served(copy_ws: Path) -> None:
    ws = Workspace(copy_ws)
    cache = ViewCache(ws, refresh_wait=0.0)
    calls, compute = _counting("x")
    before = cache.get("v", (), compute)
    _publish(ws)
    assert cache.get("v", (), compute) is before  # answered at once with the last run's view
    deadline = time.monotonic() + 30
    while len(calls) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.1)
    fresh = cache.get("v", (), compute)
    assert fresh is not before and fresh["call"] == 2 and len(calls) == 2


def test_after_an_edit_through_the_app_no_older_view_is_served(copy_ws: Path) -> None:
    ws = Workspace(copy_ws)
    cache = ViewCache(ws, refresh_wait=0.0)
    calls, compute = _counting("x")
    before = cache.get("v", (), compute)
    cache.note_edit()
    _publish(ws)
    assert cache.get("v", (), compute) is not before and len(calls) == 2  # computed now, not in the background


def test_a_failing_view_is_not_kept(copy_ws: Path) -> None:
    cache = ViewCache(Workspace(copy_ws))
    n = []

    def flaky() -> Any:
        n.append(1)
        if len(n) == 1:
            raise ValueError("first time")
        return {"ok": True}

    try:
        cache.get("v", (), flaky)
    except ValueError:
        pass
    assert cache.get("v", (), flaky) == {"ok": True} and len(n) == 2


def test_pages_show_an_edit_at_once_and_a_removed_user_is_refused_at_once(copy_ws: Path) -> None:
    ws = Workspace(copy_ws)
    add_user(ws, "ada2", "a-long-enough-password", role="admin")
    add_user(ws, "gone", "a-long-enough-password", role="viewer")
    app = create_app(copy_ws)
    admin = TestClient(app, headers={"authorization": f"Bearer {create_token(ws, 'ada2')}"})
    leaver = TestClient(app, headers={"authorization": f"Bearer {create_token(ws, 'gone')}"})
    names = lambda: {r["username"] for r in admin.get("/admin/users.json").json()["tables"][0]["rows"]}  # noqa: E731
    assert "later" not in names()
    add_user(ws, "later", "a-long-enough-password", role="viewer")  # from the CLI, another connection
    assert "later" in names()
    assert leaver.get("/index.json").status_code == 200
    remove_user(ws, "gone")
    assert leaver.get("/index.json").status_code == 401  # the remembered token is forgotten with the user
    overview = admin.get("/index.json").json()
    assert overview == admin.get("/index.json").json()  # the cached view and its encoding agree
