"""End-to-end in a real browser: uvicorn in a subprocess, Debian's Chromium driven by Playwright.

Skips (with the reason) when /usr/bin/chromium or the playwright package is missing; install the browser
with ``scripts/install-browser.sh``.  Screenshots land in ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import HOSTILE, PASSWORD

CHROMIUM = "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _serve(path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """uvicorn on a free loopback port in a subprocess, serving the workspace at ``path`` (``env`` added)."""
    port = _free_port()
    code = (f"import uvicorn; from cxchain.web.app import create_app; "
            f"uvicorn.run(create_app({str(path)!r}), host='127.0.0.1', port={port}, log_level='warning')")
    proc = subprocess.Popen([sys.executable, "-c", code], env={**os.environ, **(env or {})})
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("the server did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server(demo_ws: dict[str, Any]) -> Iterator[str]:
    with _serve(demo_ws["path"]) as base:
        yield base


@pytest.fixture(scope="module")
def loop_server(demo_ws: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A server on a private copy of the demo (the loop flow changes it), with Bo owning the business area of
    the next cycle's planned initiative; yields the base URL and that initiative's id."""
    from cxchain.redesign.initiatives import list_initiatives
    from cxchain.web.users import add_user
    from cxchain.workspace import Workspace

    path = tmp_path_factory.mktemp("loop") / "demo"
    shutil.copytree(demo_ws["path"], path)
    ws = Workspace(path)
    planned = next(d for d in list_initiatives(ws) if d["status"] == "planned")
    add_user(ws, "bo", PASSWORD, role="owner", area=planned["areas"][0]["area"])
    with _serve(path) as base:
        yield base, planned["id"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def _signed_in_page(browser: Any, base: str, user: str) -> tuple[Any, Any, list[str]]:
    ctx = browser.new_context(viewport={"width": 1200, "height": 900})
    page = ctx.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + "/")
    assert page.url.startswith(base + "/signin")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(base + "/")
    return ctx, page, dialogs


def test_main_flow_hostile_verbatim_and_screenshots(server: str, browser: Any, demo_ws: dict[str, Any]) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx, page, dialogs = _signed_in_page(browser, server, "ann")
    assert page.get_by_role("heading", level=1).inner_text().endswith("the chain")
    assert page.locator(".link-card").count() >= 2
    page.screenshot(path=str(SHOTS / "overview.png"), full_page=True)
    page.get_by_role("link", name="Insight", exact=True).click()
    page.wait_for_url(server + "/insight")
    page.screenshot(path=str(SHOTS / "insight.png"), full_page=True)
    page.goto(f"{server}/insight/findings/{demo_ws['hostile_finding']}")
    assert page.locator("#drilldown-count").inner_text() != ""
    page.wait_for_timeout(300)
    assert dialogs == [], f"the hostile verbatim ran: {dialogs}"
    assert HOSTILE in page.locator("main").inner_text()  # shown as text
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    page.screenshot(path=str(SHOTS / "finding.png"), full_page=True)
    page.goto(server + "/data")
    assert page.locator("#replay-button").count() == 1
    page.screenshot(path=str(SHOTS / "data-analyst.png"), full_page=True)
    ctx.close()


def test_viewer_sees_no_replay_button(server: str, browser: Any) -> None:
    ctx, page, _ = _signed_in_page(browser, server, "vic")
    page.goto(server + "/data")
    assert page.locator("#replay-button").count() == 0
    assert page.get_by_role("link", name="Users").count() == 0
    page.screenshot(path=str(SHOTS / "data-viewer.png"), full_page=True)
    ctx.close()


def test_page_works_while_a_run_writes(server: str, browser: Any, demo_ws: dict[str, Any]) -> None:
    ctx, page, _ = _signed_in_page(browser, server, "vic")
    with demo_ws["ws"].store.lock():  # a writer holds the single-writer lock
        page.goto(server + "/insight")
        assert page.locator("article.finding").count() >= 1
    ctx.close()


# --- accessibility -------------------------------------------------------------------------------

PAGES = ["/", "/data", "/insight", "/insight/metrics/aht?by=channel", "/admin/users",
         "/priorities", "/redesign", "/redesign/initiatives/I1", "/cycles", "/cycles/C1"]


def test_axe_accessibility(server: str, browser: Any, demo_ws: dict[str, Any]) -> None:
    axe_mod = pytest.importorskip("axe_playwright_python.sync_playwright",
                                  reason="axe-playwright-python (vendored axe-core) is not installed")
    axe = axe_mod.Axe()
    ctx, page, _ = _signed_in_page(browser, server, "ada")
    failures = []
    for path in [*PAGES, f"/insight/findings/{demo_ws['hostile_finding']}"]:
        page.goto(server + path)
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa",
                                                                                 "wcag22aa"]}})
        for v in result.response["violations"]:
            failures.append(f"{path}: {v['id']} ({v['impact']}): {v['help']} ×{len(v['nodes'])}")
    ctx.close()
    assert not failures, "\n".join(failures)


def test_basic_accessibility_in_page(server: str, browser: Any) -> None:
    """Checks that need no axe: lang, labelled inputs, named images/SVG, heading order."""
    ctx, page, _ = _signed_in_page(browser, server, "ada")
    for path in PAGES:
        page.goto(server + path)
        problems = page.evaluate("""() => {
          const out = [];
          if (!document.documentElement.lang) out.push('html has no lang');
          for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea')) {
            if (!(el.labels && el.labels.length) && !el.getAttribute('aria-label')) out.push('unlabelled ' + el.name);
          }
          for (const el of document.querySelectorAll('img, svg')) {
            if (!el.getAttribute('alt') && !el.getAttribute('aria-label')) out.push('unnamed ' + el.tagName);
          }
          let last = 0;
          for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
            const level = +h.tagName[1];
            if (level > last + 1) out.push('heading jumps to ' + h.tagName + ': ' + h.textContent.trim());
            last = level;
          }
          if (document.querySelectorAll('h1').length !== 1) out.push('not exactly one h1');
          return out;
        }""")
        assert problems == [], f"{path}: {problems}"
    ctx.close()


def _luminance(hex_colour: str) -> float:
    rgb = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def test_css_colour_contrast_meets_aa() -> None:
    css = (ROOT / "src" / "cxchain" / "web" / "static" / "app.css").read_text()
    var = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", css))
    pairs = [("ink", "bg"), ("muted", "bg"), ("accent", "bg"), ("accent", "soft"), ("ink", "soft"), ("muted", "soft"),
             ("ok-fg", "ok-bg"), ("warn-fg", "warn-bg"), ("bad-fg", "bad-bg"), ("none-fg", "none-bg")]
    for fg, bg in pairs:
        assert contrast(var[fg], var[bg]) >= 4.5, f"{fg} on {bg}: {contrast(var[fg], var[bg]):.2f}"
    assert contrast("#ffffff", var["accent"]) >= 4.5 and contrast("#ffffff", var["bad-fg"]) >= 4.5  # buttons


# --- links 3-5: the loop's main flow -------------------------------------------------------------

def test_loop_flow_analyst_accepts_owner_updates_viewer_reads(loop_server: tuple[str, str], browser: Any) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    base, ini = loop_server
    # The analyst proposes a six-month plan and accepts its first proposal, saying why.
    ctx, page, _ = _signed_in_page(browser, base, "ann")
    page.get_by_role("link", name="Priorities", exact=True).click()
    page.wait_for_url(base + "/priorities")
    page.get_by_label("Propose the plan for").select_option("6m")
    page.get_by_role("button", name="Propose", exact=True).click()
    page.wait_for_url(base + "/priorities")
    card = page.locator("article.priority", has=page.locator(".badge", has_text="proposed")).first
    pid = card.get_attribute("id")
    card.get_by_label("Decision", exact=True).select_option("accept")
    card.get_by_label("Why (kept with the decision)").fill("Biggest avoidable cost this half-year")
    card.get_by_role("button", name=f"Record the decision on {pid}").click()
    page.wait_for_url(re.compile(re.escape(base) + r"/priorities(#.*)?$"))
    accepted = page.locator(f"article#{pid}")
    assert accepted.locator(".badge").inner_text() == "accepted"
    assert "Biggest avoidable cost this half-year" in accepted.inner_text()
    page.screenshot(path=str(SHOTS / "priorities-analyst.png"), full_page=True)
    ctx.close()

    # The owner of the planned initiative's area moves it on and adds a task; they cannot retitle it.
    ctx, page, _ = _signed_in_page(browser, base, "bo")
    page.get_by_role("link", name="Redesign", exact=True).click()
    page.wait_for_url(base + "/redesign")
    page.screenshot(path=str(SHOTS / "redesign-board.png"), full_page=True)
    page.get_by_role("link", name=re.compile(rf"^{ini}: ")).first.click()
    page.wait_for_url(base + f"/redesign/initiatives/{ini}")
    assert page.locator("#upd-title").count() == 0
    page.get_by_label("Status", exact=True).select_option("in_progress")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(base + f"/redesign/initiatives/{ini}")
    assert page.locator("#initiative-status").inner_text() == "in_progress"
    page.get_by_label("New task").fill("Brief the crews on the new round")
    page.get_by_role("button", name="Add the task").click()
    page.wait_for_url(re.compile(re.escape(base) + rf"/redesign/initiatives/{ini}(#.*)?$"))
    assert "Brief the crews on the new round" in page.locator("#t-tasks").locator("..").inner_text()
    page.screenshot(path=str(SHOTS / "initiative-owner.png"), full_page=True)
    ctx.close()

    # The viewer reads the first cycle's report: verdict, interval in words, the series chart; no forms.
    ctx, page, _ = _signed_in_page(browser, base, "vic")
    page.get_by_role("link", name="Cycles", exact=True).click()
    page.wait_for_url(base + "/cycles")
    page.get_by_role("link", name=re.compile(r"Cycle C1 report")).click()
    page.wait_for_url(base + "/cycles/C1")
    main = page.locator("main").inner_text()
    assert "95% interval" in main and "I1" in main
    assert page.locator("main figure svg[role=img]").count() >= 1
    assert page.locator("main form").count() == 0
    page.screenshot(path=str(SHOTS / "cycle-report-viewer.png"), full_page=True)
    page.goto(base + "/priorities")
    assert page.locator("main form").count() == 0
    ctx.close()
