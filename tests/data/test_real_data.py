"""Real exports load with every row accounted for, through the shipped example mappings.

The CFPB and NYC 311 samples ship with the tests (public records); the full shared data sets are
used when ../shared is beside the checkout (CI has it), and skipped otherwise.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from cxchain import Workspace

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CXCHAIN_SHARED", ROOT.parent / "shared")) / "data" / "real"
MAPPINGS = ROOT / "examples" / "mappings"
FIXTURES = ROOT / "tests" / "fixtures" / "real"

CASES = [
    (FIXTURES / "cfpb_sample.csv", "cfpb_complaints.yaml", "cfpb"),
    (FIXTURES / "nyc311_sample.csv", "nyc311_requests.yaml", "nyc311"),
    (SHARED / "cfpb_complaints" / "cfpb_sample_2015_2020.csv", "cfpb_complaints.yaml", "cfpb"),
    (SHARED / "cfpb_complaints" / "cfpb_payday_personal_loans_2023_narratives.csv", "cfpb_complaints.yaml", "cfpb"),
    (SHARED / "nyc311" / "nyc311_snapshots_2022_2025.csv", "nyc311_requests.yaml", "nyc311"),
    (SHARED / "nyc311" / "nyc311_2020_sample.csv", "nyc311_2020.yaml", "nyc311_2020"),
    (SHARED / "twcs_customer_support" / "spotifycares_inbound_requests.csv", "twcs_tweets.yaml", "twitter"),
    (SHARED / "twcs_customer_support" / "twcs_kaggle_sample.csv", "twcs_tweets.yaml", "twitter"),
    (SHARED / "telco_nps_verbatims" / "nps_verbatims.csv", "telco_nps.yaml", "telco_nps"),
]


def csv_records(path: Path) -> int:
    with open(path, newline="", encoding="utf-8", errors="replace") as fh:
        return sum(1 for _ in csv.reader(fh)) - 1


@pytest.mark.parametrize("path,mapping,source", CASES, ids=[f"{c[0].parent.name}/{c[0].name}" for c in CASES])
def test_real_export_every_row_accounted_for(tmp_path, path, mapping, source):
    if not path.exists():
        pytest.skip(f"{path} not available")
    ws = Workspace.init(tmp_path / "ws", overrides={"privacy.detect_names": False})
    d = ws.ingest([path], source=source, mapping=MAPPINGS / mapping).to_dict()
    t = d["totals"]
    assert t["rows_read"] == csv_records(path)
    assert t["rows_read"] == t["rows_loaded"] + t["rows_quarantined"] + t["rows_duplicate"]
    assert t["rows_loaded"] >= 0.9 * t["rows_read"], d["quarantine_sample"]
    cat = {e["source"]: e for e in ws.sources()}
    assert cat[source]["rows"] > 0 and cat[source]["first"] is not None


def test_twitter_offsets_are_converted_to_local_time(tmp_path):
    path = SHARED / "twcs_customer_support" / "twcs_kaggle_sample.csv"
    if not path.exists():
        pytest.skip("shared data not available")
    ws = Workspace.init(tmp_path / "ws", overrides={"privacy.detect_names": False})
    ws.ingest([path], source="twitter", mapping=MAPPINGS / "twcs_tweets.yaml")
    with ws.store.read() as con:
        # 'Wed Oct 11 06:55:44 +0000 2017' is 07:55:44 in London (BST)
        got = con.execute("SELECT started_at FROM contact WHERE source_key = '119237'").fetchall()[0][0]
    assert str(got) == "2017-10-11 07:55:44"
