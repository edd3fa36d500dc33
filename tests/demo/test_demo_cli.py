"""`cxchain demo` end to end through the real CLI: every silo ingested, reconciled and linked."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from cxchain import Workspace

CLI = [sys.executable, "-m", "cxchain.cli"]


def cli_json(*args: str) -> dict:
    out = subprocess.run(CLI + list(args), check=True, capture_output=True, text=True).stdout
    return json.loads(out)


@pytest.mark.parametrize("sector", ["council", "housing"])
def test_demo_builds_links_and_holds(tmp_path: Path, sector: str):
    ws = tmp_path / "demo"
    res = cli_json("demo", "-w", str(ws), "--sector", sector, "--contacts", "3000", "--seed", "3", "--json")
    manifest = json.loads((ws / "truth.json").read_text())
    files = {f["source"]: f for f in manifest["files"]}
    ingest = {Path(f["file"]).name: f for f in res["run"]["ingest"]["files"]}
    for src, f in files.items():
        got = ingest[Path(f["file"]).name]
        assert got["rows_read"] == f["rows_written"], src
        assert got["rows_read"] == got["rows_loaded"] + got["rows_quarantined"] + got["rows_duplicate"], src
        assert got["rows_duplicate"] >= f["expected_duplicates"], src
        assert got["rows_quarantined"] >= f["expected_invalid"], src
    health = cli_json("health", "-w", str(ws), "--json")
    assert health["links"]["data"]["status"] == "holds", health
    cat = cli_json("sources", "-w", str(ws), "--json")["sources"]
    for e in cat:
        if e["entity"] != "property":
            assert e["linked_any_share"] >= 0.2, e["source"]


def test_demo_refuses_to_replace_a_real_workspace(tmp_path: Path):
    Workspace.init(tmp_path / "mine")
    res = subprocess.run(CLI + ["demo", "-w", str(tmp_path / "mine"), "--contacts", "200"], capture_output=True, text=True)
    assert res.returncode == 2 and "not a demo workspace" in res.stderr


def test_breaking_the_data_link_on_purpose(tmp_path: Path):
    ws_path = tmp_path / "demo"
    cli_json("demo", "-w", str(ws_path), "--contacts", "1000", "--json")
    toml = ws_path / "cxchain.toml"
    # a stale source: judge the data two years later
    toml.write_text(toml.read_text().replace('as_of = "2026-09-30"', 'as_of = "2028-09-30"'))
    codes = {r["code"] for r in Workspace(ws_path).health()["links"]["data"]["reasons"]}
    assert "source_stale" in codes
    # an unlinked silo: a source whose identity columns are not mapped
    toml.write_text(toml.read_text().replace('as_of = "2028-09-30"', 'as_of = "2026-09-30"'))
    m = ws_path / "mappings" / "email.yaml"
    doc = yaml.safe_load(m.read_text())
    doc.pop("identity")
    m.write_text(yaml.safe_dump(doc))
    ws = Workspace(ws_path)
    with ws.store.write("test") as tx:  # re-ingest the email silo without identities
        tx.data.execute("DELETE FROM contact WHERE source = 'email'")
        tx.data.execute("DELETE FROM batch WHERE source = 'email'")
        tx.identity.execute("DELETE FROM identity_record WHERE source = 'email'")
    ws.run()
    h = ws.health()["links"]["data"]
    assert h["status"] == "weak" and any(r["code"] == "source_unlinked" and "email" in r["text"] for r in h["reasons"])


@pytest.mark.slow
def test_killed_runs_leave_the_last_good_results(tmp_path: Path):
    ws_path = tmp_path / "demo"
    cli_json("demo", "-w", str(ws_path), "--contacts", "1000", "--json")
    ws = Workspace(ws_path)
    before = ws.store.current()
    with ws.store.read() as con:
        n_before = con.execute("SELECT count(*) FROM contact").fetchall()[0][0]
    # make every file new again so the run has real work to do
    with ws.store.write("test") as tx:
        tx.data.execute("DELETE FROM batch")
    good = ws.store.current()
    rng = random.Random(11)
    for _ in range(4):
        proc = subprocess.Popen(CLI + ["run", "-w", str(ws_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.3, 3.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        cur = ws.store.current()
        assert cur["generation"] in (good["generation"], good["generation"] + 1) or cur["generation"] > good["generation"]
        with ws.store.read() as con:
            assert con.execute("SELECT count(*) FROM contact").fetchall()[0][0] == n_before
        good = cur
    assert before["generation"] < ws.store.current()["generation"] + 1
