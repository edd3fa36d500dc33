"""Data protection operations: subject access, erasure across silos (audited), retention, data flow."""

from __future__ import annotations

import json

import pytest

from cxchain import NotFoundError, Workspace
from cxchain.demo.workspace import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Workspace:
    path = tmp_path_factory.mktemp("priv") / "demo"
    build_demo(path, sector="council", contacts=1500, seed=5)
    return Workspace(path)


def _customer_with_many_silos(ws: Workspace) -> str:
    with ws.store.read() as con:
        return con.execute("""SELECT customer_key FROM record_customer GROUP BY 1
                              ORDER BY count(DISTINCT source) DESC, count(*) DESC, customer_key LIMIT 1""").fetchall()[0][0]


def test_subject_access_covers_every_silo_of_the_customer(demo):
    key = _customer_with_many_silos(demo)
    sar = demo.subject_access(key)
    with demo.store.read() as con:
        expected = con.execute("SELECT count(*) FROM record_customer WHERE customer_key = ?", [key]).fetchall()[0][0]
        sources = {r[0] for r in con.execute("SELECT DISTINCT source FROM record_customer WHERE customer_key = ?", [key]).fetchall()}
    got = sum(len({r["record_id"] for r in recs}) for recs in sar["records"].values())
    assert got == expected and len(sources) >= 2
    assert sar["identities"] and all(i["record_id"] for i in sar["identities"])
    email = next((i["email"] for i in sar["identities"] if i.get("email")), None)
    if email:
        assert demo.find_customer(email=email) == key


def test_erasure_removes_records_identities_and_quarantine_and_is_audited(demo):
    key = _customer_with_many_silos(demo)
    with demo.store.read() as con:
        ids = [r[0] for r in con.execute("SELECT record_id FROM record_customer WHERE customer_key = ?", [key]).fetchall()]
    counts = demo.erase(key)
    assert sum(v for k, v in counts.items() if k not in ("quarantine", "identities")) >= len(ids)
    with demo.store.read() as con:
        for t in ("contact", "case", "complaint", "survey"):
            assert con.execute(f'SELECT count(*) FROM "{t}" WHERE record_id IN (SELECT unnest(?))', [ids]).fetchall()[0][0] == 0
        assert con.execute("SELECT count(*) FROM journey_event WHERE customer_key = ?", [key]).fetchall()[0][0] == 0
    with demo.store.read(identity=True) as ident:
        assert ident.execute("SELECT count(*) FROM identity_record WHERE record_id IN (SELECT unnest(?))", [ids]).fetchall()[0][0] == 0
    audit = demo.store.ops().execute("SELECT action, target, detail FROM audit_log WHERE action = 'erase'").fetchall()
    assert audit and audit[-1][1] == key and json.loads(audit[-1][2])["identities"] >= 1
    with pytest.raises(NotFoundError):
        demo.erase(key)


def test_purge_deletes_records_past_retention(demo):
    toml = demo.path / "cxchain.toml"
    toml.write_text(toml.read_text().replace("retention_days = 2190", "retention_days = 365"))
    ws = Workspace(demo.path)
    with ws.store.read() as con:
        old = con.execute("SELECT count(*) FROM contact WHERE started_at < TIMESTAMP '2025-09-30'").fetchall()[0][0]
    assert old > 0
    counts = ws.purge()
    assert sum(counts.values()) >= old
    with ws.store.read() as con:
        assert con.execute("SELECT count(*) FROM contact WHERE started_at < TIMESTAMP '2025-09-30'").fetchall()[0][0] == 0


def test_data_flow_names_every_store_and_retention(demo):
    text = demo.data_flow()
    for needle in ("identity store", "analytical store", "Retention", "acd_calls", "redacted before storage"):
        assert needle in text


def test_journeys_order_events_and_flag_channel_switches(demo):
    with demo.store.read() as con:
        bad = con.execute("""SELECT count(*) FROM (SELECT customer_key, seq, occurred_at,
                               lag(occurred_at) OVER (PARTITION BY customer_key ORDER BY seq) AS prev FROM journey_event)
                             WHERE prev > occurred_at""").fetchall()[0][0]
        switches = con.execute("SELECT count(*) FILTER (WHERE channel_switch), count(*) FROM journey_event").fetchall()[0]
    assert bad == 0 and 0 < switches[0] < switches[1]


def test_daily_totals_reconcile_with_rows(demo):
    totals = demo.daily_totals("acd_calls")
    cat = {e["source"]: e for e in demo.sources()}
    assert sum(n for _, n in totals) == cat["acd_calls"]["rows"]
