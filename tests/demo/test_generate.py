"""Tests of the seeded sample-organisation generator (cxchain.demo)."""

from __future__ import annotations

import hashlib
import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import yaml

from cxchain.data.model import IDENTITY_FIELDS, SURVEY_ITEMS, fields_of
from cxchain.demo import generate


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def council(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("council"), sector="council", contacts=20_000, seed=7)


@pytest.fixture(scope="module")
def council_off(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("council_off"), sector="council", contacts=20_000, seed=7, effects=False)


@pytest.fixture(scope="module")
def housing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("housing"), sector="housing", contacts=20_000, seed=11)


def _manifest(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _truth(m: dict, tid: str) -> dict:
    return next(t for t in m["truths"] if t["id"] == tid)


# ----------------------------------------------------------------------------------- determinism / scale

def test_deterministic_and_seed_sensitive(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", sector="housing", contacts=1_500, seed=3, as_of=date(2026, 3, 31))
    b = generate(tmp_path / "b", sector="housing", contacts=1_500, seed=3, as_of=date(2026, 3, 31))
    c = generate(tmp_path / "c", sector="housing", contacts=1_500, seed=4, as_of=date(2026, 3, 31))
    da, db, dc = _digest(a.parent), _digest(b.parent), _digest(c.parent)
    assert da == db
    assert da["exports/acd_calls.csv"] != dc["exports/acd_calls.csv"]
    assert "exports/repairs.xlsx" in da and "exports/properties.csv" in da


def test_small_run_is_fast(tmp_path: Path) -> None:
    t = time.perf_counter()
    m = _manifest(generate(tmp_path, contacts=1_000, seed=1))
    assert time.perf_counter() - t < 10
    assert m["contacts"] == 1_000 and sum(m["channels"].values()) == 1_000
    assert m["as_of"] == "2026-09-30"


# ----------------------------------------------------------------------------------- manifest vs files

def _read(root: Path, f: dict) -> tuple[pl.DataFrame, list[str]]:
    """The file's rows as strings, and its key column names (from the mapping)."""
    mapping = yaml.safe_load((root / "mappings" / f"{f['source']}.yaml").read_text(encoding="utf-8"))
    path = root / f["file"]
    fmt = mapping.get("format", {})
    if path.suffix == ".csv":
        raw = path.read_bytes()
        text = raw.decode(fmt.get("encoding", "utf-8") if fmt.get("encoding") != "auto" else "utf-8")
        text = text.lstrip("\ufeff")
        df = pl.read_csv(text.encode("utf-8"), separator=fmt.get("delimiter", ","), infer_schema=False)
    elif path.suffix == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        convs = data["conversations"]
        assert data["export"]["count"] == len(convs)
        df = pl.DataFrame({"id": [c["id"] for c in convs], "raw": [json.dumps(c, sort_keys=True) for c in convs]})
    elif path.suffix == ".ndjson":
        lines = path.read_text(encoding="utf-8").splitlines()
        df = pl.DataFrame({"message_id": [json.loads(x)["message_id"] for x in lines], "raw": lines})
    else:
        sheets = pl.read_excel(path, sheet_id=0, infer_schema_length=0)
        df = pl.concat([s.cast(pl.String) for s in sheets.values()])
    return df, mapping["key"]


@pytest.mark.parametrize("which", ["council", "housing"])
def test_manifest_counts_match_files(which: str, request: pytest.FixtureRequest) -> None:
    path: Path = request.getfixturevalue(which)
    root, m = path.parent, _manifest(path)
    ident = pl.read_parquet(root / m["truth_files"]["identities"])
    expected = {"acd_calls", "ivr", "webchat", "email", "crm", "complaints", "surveys"}
    if which == "housing":
        expected |= {"repairs", "properties"}
    assert {f["source"] for f in m["files"]} == expected
    for f in m["files"]:
        df, key = _read(root, f)
        assert df.height == f["rows_written"], f["file"]
        keys = df.select(pl.concat_str([pl.col(k).fill_null("") for k in key], separator="|")).to_series()
        assert keys.n_unique() == f["distinct_keys"], f["file"]
        assert df.height - df.unique().height == f["expected_duplicates"], f["file"]
        assert f["rows_written"] == f["distinct_keys"] + f["expected_duplicates"] + f["expected_reexports"]
        assert len(f["invalid_keys"]) == f["expected_invalid"]
        assert set(f["invalid_keys"]) <= set(keys.to_list())
        truth_keys = ident.filter(pl.col("source") == f["source"])["source_key"]
        assert truth_keys.n_unique() == truth_keys.len() == f["distinct_keys"], f["file"]
        assert set(truth_keys.to_list()) == set(keys.to_list()), f["file"]


@pytest.mark.parametrize("which", ["council", "housing"])
def test_mappings_follow_the_model(which: str, request: pytest.FixtureRequest) -> None:
    root = request.getfixturevalue(which).parent
    for path in sorted((root / "mappings").glob("*.yaml")):
        m = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert m["version"] == 1 and m["source"] == path.stem
        model = fields_of(m["entity"])
        for name in list(m.get("fields", {})) + list(m.get("constants", {})):
            assert name in model, (path.name, name)
        for name in m.get("identity", {}):
            assert name in IDENTITY_FIELDS, (path.name, name)
        for name in m.get("survey_items", {}):
            assert name in SURVEY_ITEMS
        required = {f.name for f in model.values() if f.required}
        assert required <= set(m.get("fields", {})) | set(m.get("constants", {})), path.name


def test_text_realism(council: Path) -> None:
    root = council.parent
    truth = pl.read_parquet(root / "truth" / "contacts.parquet")
    langs = truth.filter(pl.col("entity") == "contact").unique("contact_id")["language"].value_counts()
    share = dict(zip(langs["language"], langs["count"], strict=True))
    non_en = (sum(share.values()) - share["en"]) / sum(share.values())
    assert 0.01 < non_en < 0.06
    emails = [json.loads(x) for x in (root / "exports/email_export.ndjson").read_text(encoding="utf-8").splitlines()]
    bodies = [e["body"] for e in emails]
    assert max(len(b) for b in bodies) > 4000
    assert any("<script>" in b for b in bodies) and any(b.startswith("=HYPERLINK") for b in bodies)
    assert any("£" in b for b in bodies)
    assert len(set(bodies)) > 0.9 * len(bodies)
    acd = (root / "exports/acd_calls.csv").read_text(encoding="utf-8")
    for fmt in ("+44 7", "(01", "447"):
        assert fmt in acd
    assert "\ncust rang back" in acd  # a quoted multi-line Notes field
    assert (root / "exports/survey_results.csv").read_bytes().count(b"\r\n") > 100
    assert (root / "exports/complaints.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    (root / "exports/ivr_log.csv").read_bytes().decode("cp1252")


# ----------------------------------------------------------------------------------- planted truths

def _contact_level(truth: pl.DataFrame) -> pl.DataFrame:
    return (truth.filter(pl.col("entity") == "contact").sort("started_at")
            .unique("contact_id", keep="first", maintain_order=True))


def _dt(s: str) -> datetime:
    return datetime.fromisoformat(s)


def _recompute(path: Path) -> dict[str, float]:
    root, m = path.parent, _manifest(path)
    truth = pl.read_parquet(root / "truth" / "contacts.parquet")
    cl = _contact_level(truth)
    out: dict[str, float] = {}
    pol = _truth(m, "policy.failure_share")
    lo, d, hi = (_dt(x) for x in pol["window"])
    r = cl.filter(pl.col("reason_id") == pol["filters"]["reason_id"])
    b = r.filter((pl.col("started_at") >= lo) & (pl.col("started_at") < d))["demand"].eq("failure").mean()
    a = r.filter((pl.col("started_at") >= d) & (pl.col("started_at") < hi))["demand"].eq("failure").mean()
    out["policy.failure_share"] = a - b  # type: ignore[operator]
    rep = _truth(m, "repeat.hot_spot")
    s = cl.sort("person_id", "reason_id", "started_at").with_columns(
        ((pl.col("started_at").shift(-1).over("person_id", "reason_id") - pl.col("started_at"))
         <= timedelta(days=7)).fill_null(False).alias("rep"))
    hot = s.filter(pl.col("reason_id") == rep["filters"]["reason_id"])["rep"].mean()
    rest = s.filter(pl.col("reason_id") != rep["filters"]["reason_id"])["rep"].mean()
    out["repeat.hot_spot"] = hot - rest  # type: ignore[operator]
    cs = _truth(m, "csat.driver")
    sv = truth.filter((pl.col("source") == "surveys") & (pl.col("demand") == "value"))
    ta = sv.filter(pl.col("reason_id") == cs["filters"]["reason_id"])["csat"].ge(4).mean()
    tb = sv.filter(pl.col("reason_id") != cs["filters"]["reason_id"])["csat"].ge(4).mean()
    out["csat.driver"] = ta - tb  # type: ignore[operator]
    for tid in ("initiative.worked", "initiative.no_effect"):
        t = _truth(m, tid)
        lo, go, hi = (_dt(x) for x in t["window"])
        f = cl.filter((pl.col("reason_id") == t["filters"]["reason_id"]) & (pl.col("demand") == "failure"))
        nb = f.filter((pl.col("started_at") >= lo) & (pl.col("started_at") < go)).height
        na = f.filter((pl.col("started_at") >= go) & (pl.col("started_at") < hi)).height
        out[tid] = (na - nb) / nb
    ident = pl.read_parquet(root / "truth" / "identities.parquet").drop_nulls("person_id")
    for src, n in ident.group_by("source").agg(pl.col("person_id").n_unique()).iter_rows():
        out[f"identity.people.{src}"] = n
    out["identity.people.all"] = ident["person_id"].n_unique()
    return out


@pytest.mark.parametrize("which", ["council", "council_off", "housing"])
def test_planted_truths_recompute(which: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(which)
    m = _manifest(path)
    for tid, value in _recompute(path).items():
        assert _truth(m, tid)["true_value"] == pytest.approx(value, abs=1e-5), tid


@pytest.mark.parametrize("which", ["council", "housing"])
def test_effects_are_visible(which: str, request: pytest.FixtureRequest) -> None:
    m = _manifest(request.getfixturevalue(which))
    assert _truth(m, "policy.failure_share")["true_value"] > 0.15
    assert _truth(m, "repeat.hot_spot")["true_value"] > 0.15
    assert _truth(m, "csat.driver")["true_value"] < -0.15
    assert _truth(m, "initiative.worked")["true_value"] < -0.2
    flop = _truth(m, "initiative.no_effect")
    nb, na = flop["weekly_before"] * 13, flop["weekly_after"] * 13
    assert abs(flop["true_value"]) < 3 * (1 / nb + 1 / na) ** 0.5  # within sampling noise of zero


def test_effects_off_zeroes_them(council: Path, council_off: Path) -> None:
    on, off = _manifest(council), _manifest(council_off)
    for t in off["truths"]:
        if "design_value" in t:
            assert t["design_value"] == 0, t["id"]
    assert abs(_truth(off, "policy.failure_share")["true_value"]) < 0.1
    assert abs(_truth(off, "repeat.hot_spot")["true_value"]) < 0.06
    assert abs(_truth(off, "csat.driver")["true_value"]) < 0.1
    worked = _truth(off, "initiative.worked")
    nb, na = worked["weekly_before"] * 13, worked["weekly_after"] * 13
    assert abs(worked["true_value"]) < 3 * (1 / nb + 1 / na) ** 0.5
    # everything else stays the same: population, dates, taxonomy, files produced
    for k in ("population", "date_range", "taxonomy", "noise_profile", "mappings"):
        assert on[k] == off[k], k
    assert [f["file"] for f in on["files"]] == [f["file"] for f in off["files"]]
    assert {t["id"] for t in on["truths"]} == {t["id"] for t in off["truths"]}
