"""Incremental link 2: unchanged contacts keep their reasons; new and changed ones are classified."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cxchain import Workspace
from cxchain.demo.workspace import build_demo
from cxchain.insight.taxonomy import load_taxonomy, save_taxonomy


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    path = tmp_path_factory.mktemp("incremental") / "demo"
    build_demo(path, sector="housing", contacts=1500, seed=4)
    return Workspace(path)


def _reasons(ws: Workspace) -> dict[str, tuple[str, str]]:
    with ws.store.read() as con:
        return {r[0]: (r[1], r[2]) for r in con.execute("SELECT record_id, reason_id, method FROM contact_reason_own").fetchall()}


def test_a_rerun_keeps_every_reason_and_a_changed_text_is_relabelled(ws: Workspace) -> None:
    before = _reasons(ws)
    findings = [(f["id"], f) for f in ws.findings()]
    with ws.store.read() as con:
        n = con.execute("SELECT count(*) FROM contact WHERE valid_to IS NULL").fetchall()[0][0]
        target = con.execute("""SELECT record_id FROM contact WHERE valid_to IS NULL AND text IS NOT NULL
                                ORDER BY record_id LIMIT 1""").fetchall()[0][0]
    insight = ws.run()["insight"]
    stats = insight["reasons"]
    assert (stats["kept_from_last_run"], stats["classified_now"]) == (n, 0)
    assert insight["sentiment_scored"] == 0
    assert _reasons(ws) == before
    # Nothing changed, so the story is the same, to the order of ties in its charts.
    assert [(f["id"], f) for f in ws.findings()] == findings
    # A corrected text (e.g. a re-delivered export) is classified again; nothing else is.
    with ws.store.write("test-edit") as tx:
        tx.data.execute("UPDATE contact SET text = 'My boiler has broken down and I have no heating or hot water' "
                        "WHERE record_id = ?", [target])
    insight = ws.run()["insight"]
    stats = insight["reasons"]
    assert (stats["kept_from_last_run"], stats["classified_now"]) == (n - 1, 1)
    assert insight["sentiment_scored"] == 1
    after = _reasons(ws)
    assert set(after) == set(before) and after[target][1] != "interaction"
    assert {k: v for k, v in after.items() if k != target} == {k: v for k, v in before.items() if k != target}
    with ws.store.read() as con:
        assert con.execute("SELECT count(*) FROM contact_reason").fetchall()[0][0] == n


def test_full_run_relabels_every_contact_through_the_cli(ws: Workspace) -> None:
    import json
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "cxchain.cli", "run", "--full", "--json", "-w", str(ws.path)],
                         capture_output=True, text=True, check=True)
    stats = json.loads(out.stdout)["insight"]["reasons"]
    assert stats["kept_from_last_run"] == 0 and stats["classified_now"] == stats["contacts"] > 0


def test_a_taxonomy_edit_relabels_every_contact(ws: Workspace, tmp_path: Path) -> None:
    path = ws.path / "taxonomy.yaml"
    saved = tmp_path / "taxonomy.yaml"
    shutil.copy(path, saved)
    try:
        tax = load_taxonomy(path)
        first = tax.active[0]
        first.description = (first.description + " Also: reports made on behalf of a neighbour.").strip()
        save_taxonomy(tax, path)
        stats = ws.run()["insight"]["reasons"]
        assert stats["kept_from_last_run"] == 0 and stats["classified_now"] == stats["contacts"]
    finally:
        shutil.copy(saved, path)


def test_erasing_a_customer_removes_their_derived_rows(ws: Workspace) -> None:
    with ws.store.read() as con:
        key, ids = con.execute("""SELECT customer_key, list(record_id) FROM record_customer
                                  WHERE record_id IN (SELECT record_id FROM contact_reason)
                                  GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""").fetchall()[0]
    ws.erase(key)
    with ws.store.read() as con:
        tables = [r[0] for r in con.execute("""SELECT DISTINCT c.table_name FROM information_schema.columns c
                    JOIN information_schema.tables t USING (table_schema, table_name)
                    WHERE c.column_name = 'record_id' AND t.table_type = 'BASE TABLE'""").fetchall()]
        assert {"contact_reason", "contact_reason_own", "contact_sentiment"} <= set(tables)
        for table in tables:
            left = con.execute(f'SELECT count(*) FROM "{table}" WHERE record_id IN (SELECT unnest(?))', [ids]).fetchall()
            assert left[0][0] == 0, table
