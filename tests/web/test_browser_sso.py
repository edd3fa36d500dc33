"""Single sign-on in a real browser: Chromium -> cxchain -> identity provider -> cxchain, signed in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxchain.workspace import Workspace

from .oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from .test_browser import ARGS, CHROMIUM, SHOTS, _serve, sync_api


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Provider]]:
    provider = Provider().start()
    path = tmp_path_factory.mktemp("sso-browser") / "ws"
    Workspace.init(path, sector="council", overrides={"web.oidc.issuer": provider.issuer,
                                                      "web.oidc.client_id": CLIENT_ID})
    try:
        with _serve(path, {"CXCHAIN_OIDC_CLIENT_SECRET": CLIENT_SECRET}) as base:
            yield base, provider
    finally:
        provider.stop()


def test_sign_in_with_the_organisation_account(sso_server: tuple[str, Provider]) -> None:
    base, provider = sso_server
    provider.person = {"sub": "p-9", "preferred_username": "rita", "roles": ["cxchain-analyst"]}
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser: Any = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page()
        page.goto(base + "/")
        assert page.url.startswith(base + "/signin")
        page.screenshot(path=str(SHOTS / "signin-sso.png"), full_page=True)
        page.get_by_role("link", name="Sign in with your organisation account").click()
        page.wait_for_url(base + "/")
        assert "rita (analyst)" in page.locator("header").inner_text()
        page.screenshot(path=str(SHOTS / "overview-sso.png"), full_page=True)
        browser.close()
    assert Path(SHOTS / "overview-sso.png").exists()
