"""Each metric on small hand-built databases, provenance, suppression and drilldown."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import pytest

from cxchain.metrics import REGISTRY, compile_metric, compute, drilldown, get_spec
from cxchain.metrics.registry import COMPLAINT_TIMESCALES

from .helpers import NO_SUPPRESS, T0, add_reasons, finish, insert, link_customers, new_con


def one(rows):
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def con():
    """Calls with transfer legs, an IVR session sharing the ConnID, chats and emails; reasons; surveys;
    complaints; cases; properties."""
    c = new_con()
    m = timedelta(minutes=1)
    contacts = [
        # interaction X: two legs (transfer), answered, customer A
        dict(record_id="acd:1", channel="phone", direction="inbound", started_at=T0, ended_at=T0 + 5 * m,
             interaction_ref="X", leg=1, queue="Q1", wait_s=10.0, talk_s=100.0, hold_s=20.0, wrap_s=30.0,
             transfers=1, abandoned=False, resolved=False),
        dict(record_id="acd:2", channel="phone", direction="inbound", started_at=T0 + 5 * m, ended_at=T0 + 9 * m,
             interaction_ref="X", leg=2, queue="Q2", wait_s=30.0, talk_s=200.0, hold_s=0.0, wrap_s=10.0,
             transfers=0, abandoned=False, resolved=True),
        # IVR session of the same call: other source, same ConnID -> a leg of the same interaction
        dict(record_id="ivr:1", channel="ivr", direction="inbound", started_at=T0 - m, interaction_ref="X"),
        # customer A calls back 10 minutes after the transferred call ended: a forward, not a repeat
        dict(record_id="acd:3", channel="phone", direction="inbound", started_at=T0 + 19 * m, ended_at=T0 + 25 * m,
             interaction_ref="Y", leg=1, queue="Q1", wait_s=4.0, talk_s=60.0, hold_s=None, wrap_s=0.0, transfers=0,
             abandoned=False, resolved=True),
        # customer A again 2 days later, same group: a repeat of acd:1 and acd:3
        dict(record_id="chat:1", channel="chat", direction="inbound", started_at=T0 + timedelta(days=2)),
        # abandons: one short (3 s), one long (50 s)
        dict(record_id="acd:4", channel="phone", direction="inbound", started_at=T0 + timedelta(days=1),
             interaction_ref="Z1", leg=1, queue="Q1", wait_s=3.0, abandoned=True),
        dict(record_id="acd:5", channel="phone", direction="inbound", started_at=T0 + timedelta(days=1, hours=1),
             interaction_ref="Z2", leg=1, queue="Q2", wait_s=50.0, abandoned=True),
        # customer B: email then chat (different group) within 7 days; email reason unknown
        dict(record_id="email:1", channel="email", direction="inbound", started_at=T0 + timedelta(days=3)),
        dict(record_id="chat:2", channel="chat", direction="inbound", started_at=T0 + timedelta(days=4)),
        # customer C: late contact (censored under as_of 2025-03-14)
        dict(record_id="chat:3", channel="chat", direction="inbound", started_at=T0 + timedelta(days=10)),
    ]
    insert(c, "contact", contacts)
    # a superseded version that must be ignored
    insert(c, "contact", [dict(record_id="acd:1", channel="phone", started_at=T0, version=0,
                               valid_to=datetime(2025, 2, 1), talk_s=9999.0)])
    link_customers(c, {"acd:1": "A", "acd:2": "A", "ivr:1": "A", "acd:3": "A", "chat:1": "A", "email:1": "B",
                       "chat:2": "B", "chat:3": "C"})
    add_reasons(c, {"acd:1": ("r1", "bins"), "acd:2": ("r1", "bins"), "acd:3": ("r2", "bins"),
                    "chat:1": ("r1", "bins"), "email:1": (None, None), "chat:2": ("r3", "tax"),
                    "chat:3": ("r3", "tax"), "ivr:1": ("r1", "bins")})
    c.execute("CREATE TABLE contact_demand (record_id VARCHAR, demand VARCHAR, failure_type VARCHAR)")
    c.executemany("INSERT INTO contact_demand VALUES (?, ?, NULL)",
                  [["acd:1", "failure"], ["acd:3", "failure"], ["chat:1", "value"], ["chat:2", "unknown"]])
    # surveys: csat on 1-5, nps 0-10, ces 1-7; contact_ref = ConnID or chat id
    insert(c, "survey", [
        dict(record_id="srv:1", instrument="post-contact", responded_at=T0 + timedelta(hours=2), contact_ref="X",
             channel="phone"),
        dict(record_id="srv:2", instrument="post-contact", responded_at=T0 + timedelta(days=2), contact_ref="1",
             channel="chat"),
        dict(record_id="srv:3", instrument="post-contact", responded_at=T0 + timedelta(days=3)),
    ])
    items = [("srv:1", "csat", 5, 1, 5), ("srv:1", "nps", 10, 0, 10), ("srv:1", "ces", 6, 1, 7),
             ("srv:2", "csat", 3, 1, 5), ("srv:2", "nps", 4, 0, 10), ("srv:2", "ces", 2, 1, 7),
             ("srv:3", "CSAT", 4, 1, 5), ("srv:3", "nps", 8, 0, 10)]
    c.executemany("INSERT INTO survey_item VALUES (?, 1, ?, ?, ?, ?)", items)
    # complaints across Christmas 2025 and Easter 2026
    insert(c, "complaint", [
        dict(record_id="cmp:1", stage=1, received_at=datetime(2025, 12, 22), acknowledged_at=datetime(2025, 12, 24),
             responded_at=datetime(2026, 1, 12), category="repairs", business_area="Property"),  # 2 wd, 10 wd: in time
        dict(record_id="cmp:2", stage=1, received_at=datetime(2025, 12, 22), acknowledged_at=datetime(2025, 12, 24),
             responded_at=datetime(2026, 1, 13), category="repairs", business_area="Property"),  # 11 wd: late
        dict(record_id="cmp:3", stage=2, received_at=datetime(2026, 3, 30), acknowledged_at=datetime(2026, 4, 8),
             responded_at=datetime(2026, 5, 5), category="staff", business_area="Housing"),     # ack 5 wd, 18 wd
        dict(record_id="cmp:4", stage=1, received_at=datetime(2026, 3, 30), acknowledged_at=None,
             responded_at=None, category="staff", business_area="Housing"),                      # open
    ])
    insert(c, "case", [
        dict(record_id="crm:1", case_type="repair", created_at=T0, resolved_at=T0 + timedelta(hours=10),
             promised_at=T0 + timedelta(days=1), first_time_fix=True),
        dict(record_id="crm:2", case_type="repair", created_at=T0, resolved_at=T0 + timedelta(hours=30),
             promised_at=T0 + timedelta(days=1), first_time_fix=False),
        dict(record_id="crm:3", case_type="case", created_at=T0, resolved_at=T0 + timedelta(hours=50)),
        dict(record_id="crm:4", case_type="repair", created_at=T0, resolved_at=None, first_time_fix=None),
    ])
    insert(c, "property", [dict(record_id="prop:1", homes=3), dict(record_id="prop:2")])
    finish(c)
    return c


S = {**NO_SUPPRESS, "as_of": "2025-03-14"}


def test_contact_fact_legs_and_insight(con):
    rows = con.execute("""SELECT record_id, interaction_id, is_first_leg, interaction_transferred, handle_s, reason_group,
                          demand, sentiment FROM contact_fact ORDER BY record_id""").fetchall()
    by = {r[0]: r for r in rows}
    assert len(rows) == 10                          # superseded version ignored
    assert by["acd:1"][1:5] == ("X", True, True, 150.0)
    assert by["acd:2"][2] is False
    assert by["ivr:1"][1:3] == ("X", False)         # the IVR session is part of the call, not the first leg
    assert by["acd:1"][5:8] == ("bins", "failure", None)


def test_volume_aht_hold_transfer(con):
    assert one(compute(con, "volume", S))["value"] == 8   # 10 rows, X has 2 agent legs and its IVR session
    aht = one(compute(con, "aht", S))
    assert aht["n"] == 3 and aht["value"] == pytest.approx((150 + 210 + 60) / 3)
    assert one(compute(con, "hold_per_answered", S))["value"] == pytest.approx(20 / 3)
    held = one(compute(con, "hold_per_held", S))
    assert (held["n"], held["value"]) == (1, 20.0)
    tr = one(compute(con, "transfer_rate", S))
    assert (tr["numerator"], tr["n"]) == (1, 2)


def test_abandonment_and_service_level(con):
    ab = one(compute(con, "abandonment_rate", S))      # offered legs: acd1,2,3,4(short),5
    assert (ab["numerator"], ab["n"]) == (1, 4)
    ab0 = one(compute(con, "abandonment_rate", {**S, "metrics.short_abandon_seconds": 0}))
    assert (ab0["numerator"], ab0["n"]) == (2, 5)
    # answered within 20 s: acd:1 (10), acd:3 (4); acd:2 waited 30
    got = {m: one(compute(con, "service_level", {**S, "metrics.service_level_abandons": m}))
           for m in ("offered", "removed", "positive")}
    assert (got["offered"]["numerator"], got["offered"]["n"]) == (2, 5)
    assert (got["removed"]["numerator"], got["removed"]["n"]) == (2, 3)
    assert (got["positive"]["numerator"], got["positive"]["n"]) == (3, 5)
    assert got["positive"]["conventions"]["metrics.service_level_abandons"] == "positive"


def test_fcr_and_failure_demand(con):
    fcr = one(compute(con, "fcr_agent", S))              # X resolved on leg 2, Y resolved
    assert (fcr["numerator"], fcr["n"]) == (2, 2)
    fd = one(compute(con, "failure_demand_share", S))    # acd:1 failure, acd:3 failure, chat:1 value
    assert (fd["numerator"], fd["n"]) == (2, 3)


def test_repeat_rate_default(con):
    r = one(compute(con, "repeat_rate", S))
    # eligible first legs with customer and group: acd:1, acd:3, chat:1 (A, bins); chat:2, chat:3 (tax);
    # ivr:1 is part of call X (same ConnID), not a contact of its own.  chat:3 (day 10) is censored by
    # as_of 2025-03-14 (+1 day, window 7).  followed: acd:1 -> chat:1 (acd:3 is a forward, 10 min after the
    # transferred call's last leg ended); acd:3 -> chat:1; chat:1 -> none; chat:2 (B) -> none
    assert r["censored"] == 1
    assert (r["numerator"], r["n"]) == (2, 4)
    assert set(drilldown(con, "repeat_rate", S)) == {"acd:1", "acd:3", "chat:1", "chat:2"}
    # same reason: acd:3 is r2, so acd:1 (r1) -> chat:1 (r1) still; acd:3 -> nothing
    r2 = one(compute(con, "repeat_rate", {**S, "metrics.repeat_same_reason": "reason"}))
    assert (r2["numerator"], r2["n"]) == (1, 4)
    # any reason: email:1 becomes comparable (B) and is followed by chat:2
    r3 = one(compute(con, "repeat_rate", {**S, "metrics.repeat_same_reason": "any"}))
    assert (r3["numerator"], r3["n"]) == (3, 5)
    # no forward rule: acd:3 then counts as a repeat of acd:1 -- same result here since chat:1 follows anyway
    r4 = one(compute(con, "repeat_rate", {**S, "metrics.repeat_window_days": 1}))
    # window 1 day: no repeats (acd:3 is a forward); censoring: chat:3 (day 10, end day 12) no longer censored
    assert (r4["numerator"], r4["n"], r4["censored"]) == (0, 5, 0)
    rc = one(compute(con, "repeat_rate", {**S, "metrics.repeat_denominator": "customer"}))
    assert (rc["numerator"], rc["n"]) == (1, 2)
    assert len(drilldown(con, "repeat_rate", {**S, "metrics.repeat_denominator": "customer"})) == 2


def test_a_store_from_before_follow_up_issues_still_computes_and_says_so(con):
    """A store whose contact_fact predates the issue columns (metrics version 1) computes repeats with each
    contact's own reason, and its results say so, until the next run rebuilds the facts."""
    old = duckdb.connect()
    old.register("_cf", con.sql("SELECT * EXCLUDE (issue_reason_id, issue_reason_group) FROM contact_fact").to_arrow_table())
    old.execute("CREATE TABLE contact_fact AS SELECT * FROM _cf")
    r = one(compute(old, "repeat_rate", {**S, "metrics.repeat_follow_ups": "issue"}))
    assert r["conventions"]["metrics.repeat_follow_ups"] == "own"
    own = one(compute(con, "repeat_rate", {**S, "metrics.repeat_follow_ups": "own"}))
    assert (r["numerator"], r["n"]) == (own["numerator"], own["n"])
    assert one(compute(con, "repeat_rate", S))["conventions"]["metrics.repeat_follow_ups"] == "issue"


def test_repeat_rate_by_reason_group(con):
    rows = {r["reason_group"]: r for r in compute(con, "repeat_rate", S, by=["reason_group"])}
    assert (rows["bins"]["numerator"], rows["bins"]["n"]) == (2, 3)
    assert (rows["tax"]["numerator"], rows["tax"]["n"], rows["tax"]["censored"]) == (0, 1, 1)


def test_channel_switch(con):
    r = one(compute(con, "channel_switch_rate", {**S, "metrics.repeat_same_reason": "group"}))
    # issues: A/bins {ivr(=phone), phone, phone, chat} switched; B/tax {chat:2} not; C/tax starts day 10: censored.
    assert (r["numerator"], r["n"]) == (1, 2)
    r_any = one(compute(con, "channel_switch_rate", {**S, "metrics.repeat_same_reason": "any"}))
    # any: A issue switched; B {email, chat, chat} switched; C separate customer (censored, day 10)
    assert (r_any["numerator"], r_any["n"], r_any["censored"]) == (2, 2, 1)


def test_surveys(con):
    rows = con.execute("SELECT record_id, contact_record_id, reason_group, customer_key FROM survey_fact "
                       "ORDER BY 1").fetchall()
    assert rows[0][1:] == ("acd:1", "bins", "A")       # ConnID -> ACD first leg, not the IVR session
    assert rows[1][1] == "chat:1" and rows[2][1] is None
    top2 = one(compute(con, "csat_top2", S))
    assert (top2["numerator"], top2["n"]) == (2, 3)
    top1 = one(compute(con, "csat_top2", {**S, "metrics.csat_top_box": 1}))
    assert top1["numerator"] == 1
    assert one(compute(con, "csat_mean", S))["value"] == pytest.approx(4.0)
    nps = one(compute(con, "nps", S))
    assert nps["value"] == pytest.approx(0.0) and nps["n"] == 3
    half = 1.959963984540054 * (10000 * (1 / 3 + 1 / 3 - 0) / 3) ** 0.5
    assert (nps["ci_low"], nps["ci_high"]) == (pytest.approx(-half), pytest.approx(half))
    ces = one(compute(con, "ces_mean", S))
    assert ces["value"] == 4.0 and ces["higher_is_better"] is True
    assert one(compute(con, "ces_mean", {**S, "metrics.ces_high_is_easy": False}))["higher_is_better"] is False
    by = {r["reason_group"]: r for r in compute(con, "csat_top2", S, by=["reason_group"])}
    assert by["bins"]["n"] == 2 and by[None]["n"] == 1


def test_survey_link_by_keyed_hash():
    c = new_con()
    secret = "k3y"
    insert(c, "contact", [dict(record_id="acd:9", channel="phone", started_at=T0, interaction_ref="CONN9")])
    h = c.execute("SELECT substr(sha256(? || 'CONN9'), 1, 16)", [secret]).fetchall()[0][0]
    insert(c, "survey", [dict(record_id="s:1", instrument="pc", responded_at=T0, contact_ref=h)])
    finish(c, secret=secret)
    assert c.execute("SELECT contact_record_id FROM survey_fact").fetchall() == [("acd:9",)]


def test_complaints(con):
    wd = dict(con.execute("SELECT record_id, [ack_wd, response_wd] FROM complaint_fact").fetchall())
    assert wd["cmp:1"] == [2, 10] and wd["cmp:2"] == [2, 11] and wd["cmp:3"] == [5, 18]
    r = one(compute(con, "complaint_response_in_time", S))
    assert (r["numerator"], r["n"]) == (2, 3)
    assert r["conventions"]["stage1_response_wd"] == COMPLAINT_TIMESCALES["stage1_response_wd"] == 10
    rate = one(compute(con, "complaint_rate_per_1000", S))
    assert (rate["n"], rate["numerator"], rate["exposure_basis"]) == (4, 4, "homes")
    assert rate["value"] == pytest.approx(1000.0)
    by_stage = {r["stage"]: r for r in compute(con, "complaint_rate_per_1000", S, by=["stage"])}
    assert by_stage[1]["numerator"] == 3 and by_stage[2]["numerator"] == 1


def test_complaint_rate_per_customers_without_properties():
    c = new_con()
    insert(c, "complaint", [dict(record_id="cmp:1", stage=1, received_at=T0)])
    link_customers(c, {"x:1": "A", "x:2": "B", "cmp:1": "A"})
    finish(c)
    r = one(compute(c, "complaint_rate_per_1000", NO_SUPPRESS))
    assert (r["exposure_basis"], r["n"], r["value"]) == ("customers", 2, 500.0)


def test_cases(con):
    med = one(compute(con, "time_to_resolve_median", S))
    assert (med["n"], med["value"]) == (3, 30.0)
    p90 = one(compute(con, "time_to_resolve_p90", S))
    assert p90["value"] == pytest.approx(30 + 0.8 * 20)
    rft = one(compute(con, "right_first_time", S))
    assert (rft["numerator"], rft["n"]) == (1, 2)
    assert con.execute("SELECT on_time FROM case_fact ORDER BY record_id").fetchall()[:2] == [(True,), (False,)]


def test_cost_to_serve(con):
    costs = {**S, "costs.phone": [2.0, 4.0], "costs.chat": [1.0, 3.0], "costs.email": [0.5, 1.0], "costs.ivr": [0.1, 0.2]}
    lo = one(compute(con, "cost_to_serve_low", costs))
    hi = one(compute(con, "cost_to_serve_high", costs))
    # interactions: phone X (with its IVR session), Y, Z1, Z2 (4), chat 3, email 1
    assert lo["value"] == pytest.approx(4 * 2.0 + 3 * 1.0 + 0.5)
    assert hi["value"] == pytest.approx(4 * 4.0 + 3 * 3.0 + 1.0)
    assert lo["conventions"]["costs.phone"] == [2.0, 4.0]


def test_suppression_keeps_rows(con):
    rows = compute(con, "aht", {"metrics.small_number": 3}, by=["queue"])
    assert [r["queue"] for r in rows] == ["Q1", "Q2", None]
    assert all(r["suppressed"] and r["value"] is None for r in rows)
    assert [r["n"] for r in rows] == [2, 1, 0]


def test_provenance_and_period(con):
    rows = compute(con, "repeat_rate", S, period="week")
    assert [r["week"] for r in rows] == [date(2025, 3, 3), date(2025, 3, 10)]
    r = rows[0]
    assert r["metric"] == "repeat_rate" and r["version"] == get_spec("repeat_rate").version
    assert r["conventions"] == {"metrics.repeat_window_days": 7, "metrics.repeat_same_reason": "group",
                                "metrics.repeat_follow_ups": "issue",
                                "metrics.repeat_transfer_gap_minutes": 15, "metrics.repeat_denominator": "contact",
                                "as_of": "2025-03-14", "metrics.small_number": 0, "metrics.version": 2}


def test_errors(con):
    with pytest.raises(KeyError, match="unknown metric"):
        compute(con, "nope", S)
    with pytest.raises(ValueError, match="no column"):
        compute(con, "csat_top2", S, by=["queue_typo"])
    with pytest.raises(ValueError, match="not one of"):
        compute(con, "service_level", {"metrics.service_level_abandons": "x"})
    with pytest.raises(ValueError):
        compile_metric(get_spec("aht"), S, by=["a; DROP TABLE contact"])


SLICES = {"contact_fact": ["queue", "channel", "reason_group", "week"], "survey_fact": ["channel", "reason_group"],
          "complaint_fact": ["stage", "business_area"], "case_fact": ["case_type", "month"],
          "journey_event": ["channel", "reason_group"]}


@pytest.mark.parametrize("metric_id", sorted(REGISTRY))
def test_drilldown_count_equals_n(con, metric_id):
    spec = REGISTRY[metric_id]
    for by in ([], *([c] for c in SLICES[spec.fact])):
        for variant in ({}, {"metrics.repeat_denominator": "customer", "metrics.service_level_abandons": "removed"}):
            settings = {**S, **variant}
            for row in compute(con, metric_id, settings, by=by):
                ids = drilldown(con, metric_id, settings, {c: row[c] for c in by})
                expected = row["numerator"] if spec.drill == "numerator" else row["n"]
                assert len(ids) == expected, (metric_id, by, row)
                assert len(set(ids)) == len(ids)


def test_every_spec_is_documented():
    for spec in REGISTRY.values():
        assert spec.title and len(spec.description) > 40 and spec.version >= 1 and spec.citation
        assert spec.fact in SLICES
