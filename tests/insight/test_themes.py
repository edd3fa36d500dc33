"""Ad-hoc theming: every row written, in input order, identical on rerun; the three modes."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cxchain.insight.themes import theme_file


@pytest.fixture
def sample_file(tmp_path: Path, banking_sample) -> Path:
    p = tmp_path / "in.csv"
    with open(p, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ref", "comment"])
        for i, r in enumerate(banking_sample):
            if r["split"] == "test":
                w.writerow([f"C{i:03d}", r["text"]])
        w.writerow(["X1", ""])
        w.writerow(["X2", "Mae fy ngherdyn heb gyrraedd eto, diolch"])
    return p


def _rows(p: Path) -> list[dict[str, str]]:
    with open(p, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_discovered_mode_order_and_rerun(tmp_path: Path, sample_file: Path, embedder) -> None:
    out1, out2 = tmp_path / "a.csv", tmp_path / "b.csv"
    s = theme_file(sample_file, text_column="comment", id_column="ref", examples=None, reasons=None, out=out1,
                   cache_dir=None, embedder=embedder)
    theme_file(sample_file, text_column="comment", id_column="ref", examples=None, reasons=None, out=out2,
               cache_dir=None, embedder=embedder)
    assert out1.read_bytes() == out2.read_bytes()
    rows = _rows(out1)
    with open(sample_file, encoding="utf-8") as fh:
        ids = [r["ref"] for r in csv.DictReader(fh)]
    assert [r["id"] for r in rows] == ids and s["rows"] == len(ids)
    assert {"id", "reason", "confidence", "sentiment", "sentiment_label"} <= set(rows[0])
    assert rows[-2]["reason"] == "unclassified" and rows[-1]["reason"] == "unclassified"
    assert rows[-1]["language"] == "cy"
    assert s["mode"] == "discovered" and s["proposals"]
    for r in rows:
        if r["sentiment"]:
            assert -1.0 <= float(r["sentiment"]) <= 1.0


def test_reasons_and_examples_modes(tmp_path: Path, sample_file: Path, embedder, banking_sample) -> None:
    reasons = tmp_path / "reasons.txt"
    reasons.write_text("Card not arrived: my new card has not been delivered yet\n"
                       "Change PIN: I want to change or unblock my PIN number\n"
                       "Exchange rate: the currency exchange rate I was given\n")
    out = tmp_path / "z.csv"
    s = theme_file(sample_file, text_column="comment", reasons=reasons, out=out, cache_dir=None, embedder=embedder)
    rows = _rows(out)
    assert s["mode"] == "zero_shot" and len(rows) == s["rows"]
    assert {r["reason"] for r in rows} <= {"Card not arrived", "Change PIN", "Exchange rate", "unclassified"}
    assert rows[0]["id"] == "0"  # no id column: the 0-based row number
    ex = tmp_path / "ex.csv"
    with open(ex, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label"])
        for r in banking_sample:
            if r["split"] == "train":
                w.writerow([r["text"], r["category"]])
    out2 = tmp_path / "f.csv"
    s2 = theme_file(sample_file, text_column="comment", examples=ex, out=out2, cache_dir=None, embedder=embedder)
    rows2 = _rows(out2)
    gold = [r["category"] for r in banking_sample if r["split"] == "test"]
    acc = sum(r["reason"] == g for r, g in zip(rows2, gold, strict=False)) / len(gold)
    assert s2["mode"] == "few_shot" and acc >= 0.8
