"""Sentiment benchmark: macro-F1 on two real proxies, against VADER and the majority class, plus speed.

    python benchmarks/sentiment_eval.py [--n 100000]

Proxies (in ``shared/data/real`` beside the checkout, or ``$CXCHAIN_SHARED``; never trained on):

* ``telco_nps_verbatims/nps_verbatims.csv``: ``text`` vs ``NPS_RATING`` -- Detractor / Passive /
  Promoter mapped to negative / neutral / positive (3 classes; rows without a rating or text dropped).
* ``ba_skytrax_reviews/ba_reviews_ratings.csv``: ``reviews`` (the "Trip Verified |" prefix removed)
  vs ``Recommended`` -- no / yes mapped to negative / positive (2 classes).  A binary prediction is
  the sign of the score (> 0 is positive) for both VADER and cxchain.

VADER (``pip install vaderSentiment==3.3.2``, a benchmark-only baseline) uses its standard compound
thresholds of +-0.05 for three classes.  It is skipped, with a note, when not installed.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

from cxchain.insight.sentiment import SentimentModel

THREE = ("negative", "neutral", "positive")
TWO = ("negative", "positive")


def shared_dir() -> Path | None:
    """``$CXCHAIN_SHARED`` or the ``shared`` folder beside the checkout, if it holds the real data."""
    env = os.environ.get("CXCHAIN_SHARED")
    cand = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    return cand if (cand / "data" / "real").is_dir() else None


def load_telco(shared: Path) -> tuple[list[str], list[str]]:
    """(texts, gold labels) of the telco NPS verbatims."""
    m = {"Detractor": "negative", "Passive": "neutral", "Promoter": "positive"}
    texts, gold = [], []
    with (shared / "data/real/telco_nps_verbatims/nps_verbatims.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            lab = m.get((r.get("NPS_RATING") or "").strip())
            t = (r.get("text") or "").strip()
            if lab and t:
                texts.append(t)
                gold.append(lab)
    return texts, gold


_VERIFIED = re.compile(r"^\s*(?:\u2705\s*)?(?:Trip Verified|Not Verified|Verified Review)\s*\|\s*", re.IGNORECASE)


def load_airline(shared: Path) -> tuple[list[str], list[str]]:
    """(texts, gold labels) of the BA Skytrax reviews: recommended yes/no -> positive/negative."""
    texts, gold = [], []
    with (shared / "data/real/ba_skytrax_reviews/ba_reviews_ratings.csv").open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            rec = (r.get("Recommended") or "").strip().lower()
            t = _VERIFIED.sub("", r.get("reviews") or "").strip()
            if rec in ("yes", "no") and t:
                texts.append(t)
                gold.append("positive" if rec == "yes" else "negative")
    return texts, gold


def macro_f1(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> float:
    """Macro-averaged F1 over ``labels`` (a class never predicted scores 0)."""
    f1s = []
    for c in labels:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        f1s.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return sum(f1s) / len(f1s)


def accuracy(gold: Sequence[str], pred: Sequence[str]) -> float:
    return sum(1 for g, p in zip(gold, pred, strict=True) if g == p) / max(1, len(gold))


def three_way(score: float, lo: float, hi: float) -> str:
    return "negative" if score <= lo else "positive" if score >= hi else "neutral"


def vader_scorer() -> Callable[[list[str]], list[float]] | None:
    """VADER compound scores, or None when vaderSentiment is not installed."""
    try:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
    except ImportError:
        return None
    an = SentimentIntensityAnalyzer()
    return lambda texts: [an.polarity_scores(t)["compound"] for t in texts]


def evaluate(shared: Path, model: SentimentModel | None = None) -> dict[str, dict[str, float]]:
    """Macro-F1 (and accuracy) of majority / VADER / cxchain on both proxies.

    Returns ``{"telco": {"majority": f1, "vader": f1, "cxchain": f1, ...}, "airline": {...}}``;
    "vader" is missing when vaderSentiment is not installed.
    """
    from cxchain.insight.sentiment import NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD

    model = model or SentimentModel.load()
    vader = vader_scorer()
    out: dict[str, dict[str, float]] = {}
    for name, loader, labels in (("telco", load_telco, THREE), ("airline", load_airline, TWO)):
        texts, gold = loader(shared)
        res: dict[str, float] = {"n": float(len(texts))}
        major = Counter(gold).most_common(1)[0][0]
        res["majority"] = macro_f1(gold, [major] * len(gold), labels)
        res["majority_acc"] = accuracy(gold, [major] * len(gold))
        ours = [s for s, _ in model.score(texts)]
        if len(labels) == 3:
            pred = [three_way(s, NEGATIVE_THRESHOLD, POSITIVE_THRESHOLD) for s in ours]
        else:
            pred = ["positive" if s > 0 else "negative" for s in ours]
        res["cxchain"] = macro_f1(gold, pred, labels)
        res["cxchain_acc"] = accuracy(gold, pred)
        if vader is not None:
            vs = vader(texts)
            if len(labels) == 3:
                vpred = [three_way(s, -0.05, 0.05) for s in vs]
            else:
                vpred = ["positive" if s > 0 else "negative" for s in vs]
            res["vader"] = macro_f1(gold, vpred, labels)
            res["vader_acc"] = accuracy(gold, vpred)
        out[name] = res
    return out


def throughput(model: SentimentModel, texts: list[str], n: int) -> float:
    """Texts per second over ``n`` texts (``texts`` repeated), single process, median of 3."""
    batch = (texts * (n // max(1, len(texts)) + 1))[:n]
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        model.score(batch)
        runs.append(time.perf_counter() - t0)
    runs.sort()
    return n / runs[1]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000, help="texts for the throughput run")
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = SentimentModel.load()
    print(f"model loaded in {time.perf_counter() - t0:.2f}s ({len(model.weights)} features)")
    shared = shared_dir()
    if shared is None:
        print("shared/data/real not found: no proxy evaluation")
        sample = ["thank you so much, really helpful", "absolutely useless, on hold for an hour",
                  "I want to pay my council tax"]
        print(f"throughput: {throughput(model, sample, args.n):,.0f} texts/s")
        return 0
    res = evaluate(shared, model)
    print(f"{'proxy':<9} {'n':>5} {'majority':>9} {'VADER':>7} {'cxchain':>8} {'margin':>7}   (macro-F1; accuracy)")
    ok = True
    for name, r in res.items():
        v = r.get("vader")
        margin = r["cxchain"] - v if v is not None else float("nan")
        ok = ok and (v is None or margin >= 0.10)
        vs = f"{v:7.3f}" if v is not None else "    n/a"
        print(f"{name:<9} {int(r['n']):>5} {r['majority']:9.3f} {vs} {r['cxchain']:8.3f} {margin:+7.3f}   "
              f"(acc: majority {r['majority_acc']:.3f}, VADER {r.get('vader_acc', float('nan')):.3f}, "
              f"cxchain {r['cxchain_acc']:.3f})")
    texts, _ = load_telco(shared)
    at, _ = load_airline(shared)
    print(f"throughput, telco verbatims (median {sum(map(len, texts)) // len(texts)} chars avg): "
          f"{throughput(model, texts, args.n):,.0f} texts/s")
    print(f"throughput, airline reviews (long): {throughput(model, at, max(1000, args.n // 10)):,.0f} texts/s")
    print("target (+10 points macro-F1 over VADER on both):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
