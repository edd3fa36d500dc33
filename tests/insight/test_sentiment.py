"""Offline sentiment model: obvious cases, None handling, speed, effort cues, and the proxy margin.

The proxy evaluation runs when the real data sets are in ``shared/`` beside the checkout (or
``$CXCHAIN_SHARED``) and is skipped otherwise.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time
from pathlib import Path

import pytest

from cxchain.insight.sentiment import (
    NEGATIVE_THRESHOLD,
    POSITIVE_THRESHOLD,
    SentimentModel,
    effort_cues,
    features,
    score_sentiment,
)

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CXCHAIN_SHARED", ROOT.parent / "shared"))
# Macro-F1 of VADER (compound +-0.05; sign for the binary task), measured by
# benchmarks/sentiment_eval.py; used when vaderSentiment is not installed.
VADER_MACRO_F1 = {"telco": 0.532, "airline": 0.766}


def test_thresholds_are_declared_and_ordered() -> None:
    assert -1.0 < NEGATIVE_THRESHOLD < 0.0 < POSITIVE_THRESHOLD < 1.0


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("thank you so much, really helpful", "positive"),
        ("The engineer was brilliant and sorted it in minutes", "positive"),
        ("absolutely useless, on hold for an hour", "negative"),
        ("I have called three times and nobody has called me back", "negative"),
        ("I want to pay my council tax", "neutral"),
    ],
)
def test_obvious_cases(text: str, label: str) -> None:
    [(score, got)] = score_sentiment([text])
    assert got == label, (text, score)
    assert -1.0 <= score <= 1.0


def test_negation_flips() -> None:
    [(good, _), (not_good, _)] = score_sentiment(["the advisor was helpful", "the advisor was not helpful"])
    assert good > 0 > not_good


def test_none_and_empty_are_neutral_zero() -> None:
    assert score_sentiment([None, "", "   ", "thanks, great"])[:3] == [(0.0, "neutral")] * 3


def test_deterministic_and_model_class_matches_function() -> None:
    texts = ["great service", "awful wait", None, "my bill"]
    m = SentimentModel.load()
    assert m.score(texts) == score_sentiment(texts) == score_sentiment(texts)


def test_features_mark_negation_and_contrast() -> None:
    f = features("Not helpful, but quick")
    assert "not_helpful" in f and ">quick" in f and "quick" in f


def test_speed_smoke() -> None:
    texts = ["The engineer didn't turn up and I was on hold for an hour again"] * 5_000 + [
        "Lovely staff, quick and easy, thank you"] * 5_000
    m = SentimentModel.load()
    t0 = time.perf_counter()
    out = m.score(texts)
    assert len(out) == 10_000
    assert time.perf_counter() - t0 < 5.0


def test_effort_cues() -> None:
    got = effort_cues([
        "I called three times, still waiting, on hold for an hour and no one called back",
        "Transferred twice and had to chase it again",
        "Great service, thank you",
        None,
    ])
    assert got[0] >= 4
    assert got[1] >= 3
    assert got[2] == 0 and got[3] == 0


def _load_eval():  # the benchmark module (not a package): import it by path
    path = ROOT / "benchmarks" / "sentiment_eval.py"
    spec = importlib.util.spec_from_file_location("sentiment_eval", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["sentiment_eval"] = mod
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
def test_proxies_beat_vader_by_ten_points() -> None:
    if not (SHARED / "data" / "real" / "telco_nps_verbatims").is_dir():
        pytest.skip("shared data not available")
    ev = _load_eval()
    res = ev.evaluate(SHARED)
    for name in ("telco", "airline"):
        r = res[name]
        vader = r.get("vader", VADER_MACRO_F1[name])
        assert r["cxchain"] >= vader + 0.10, (name, r)
        assert r["cxchain"] > r["majority"] + 0.10, (name, r)
