"""Fixtures of the CX Code tests: one council demo workspace per session, copied for tests that write."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from cxchain.workspace import Workspace


@pytest.fixture(scope="session")
def demo_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from cxchain.demo.workspace import build_demo

    path = tmp_path_factory.mktemp("code") / "council"
    build_demo(path, sector="council", contacts=3000, seed=0)
    # The demo drafts and publishes a code of its own; these tests start from a workspace without one.
    con = Workspace(path).store.ops()
    with con:
        con.execute("DELETE FROM principle_versions")
        con.execute("DELETE FROM principles")
    con.close()
    assert Workspace(path).findings(), "the demo workspace has no findings"
    return path


@pytest.fixture
def demo_ws(demo_path: Path, tmp_path: Path) -> Workspace:
    """A private copy of the demo workspace (tests may save principles into it)."""
    dst = tmp_path / "ws"
    shutil.copytree(demo_path, dst)
    return Workspace(dst)


class Filtered:
    """A workspace whose findings are filtered (the evidence of some principle removed)."""

    def __init__(self, ws: Workspace, drop: set[str]):
        self._ws, self._drop = ws, drop

    def findings(self) -> list[dict[str, Any]]:
        return [f for f in self._ws.findings() if f["id"] not in self._drop]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ws, name)
