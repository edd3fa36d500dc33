"""Does redaction change contact-reason classification?  (Issue 2, item 5: at most one point.)

    python benchmarks/redaction_classification.py [--shots 10] [--cache-dir DIR]

Banking77 (CC BY 4.0) test texts get PII inserted in the formats of benchmarks/_pii_testset.py;
a few-shot classifier trained on clean training texts labels (a) the original texts, (b) the
texts with PII, (c) the same texts redacted.  Prints the three accuracies and the change (c - b).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pii_testset import build_cases, shared_dir  # noqa: E402
from cxchain.data.redact import Redactor, strip_placeholders  # noqa: E402
from cxchain.insight.embed import Embedder  # noqa: E402
from cxchain.insight.reasons import fit_from_labelled  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shots", type=int, default=10)
    ap.add_argument("--cache-dir", type=Path, default=Path("/tmp/cxchain-text-eval-cache"))
    a = ap.parse_args()
    shared = shared_dir()
    if shared is None:
        raise SystemExit("needs ../shared/data/real (Banking77)")
    base = shared / "banking77" if (shared / "banking77").exists() else shared / "data" / "real" / "banking77"
    train = list(csv.DictReader(open(base / "train.csv", newline="")))
    test = list(csv.DictReader(open(base / "test.csv", newline="")))
    col = "category" if "category" in train[0] else list(train[0])[1]
    rng = random.Random(0)
    by: dict[str, list[str]] = {}
    for r in train:
        by.setdefault(r[col], []).append(r["text"])
    shots = [(t, lbl) for lbl, ts in sorted(by.items()) for t in rng.sample(ts, min(a.shots, len(ts)))]
    emb = Embedder(a.cache_dir)
    t0 = time.perf_counter()
    clf = fit_from_labelled(shots, emb)
    texts = [r["text"] for r in test]
    gold = [r[col] for r in test]
    with_pii = [c.text for c in build_cases(texts, len(texts), seed=7)]
    redacted = [t or "" for t in Redactor().redact(with_pii)]
    stripped = [strip_placeholders(t) for t in redacted]

    def acc(xs: list[str]) -> float:
        preds = clf.predict(xs)
        return sum(clf.label_of.get(p.reason_id) == g for p, g in zip(preds, gold, strict=True)) / len(gold)

    a0, a1, a2, a3 = acc(texts), acc(with_pii), acc(redacted), acc(stripped)
    print(f"Banking77 test, {len(texts)} texts, {a.shots}-shot classifier ({time.perf_counter() - t0:.0f} s)")
    print(f"accuracy: original {a0:.1%} | with PII {a1:.1%} | redacted {a2:.1%} | redacted, placeholders removed {a3:.1%}")
    print(f"change from redaction as the pipeline classifies (placeholders removed - with PII): {100 * (a3 - a1):+.1f} points; "
          f"keeping placeholders: {100 * (a2 - a1):+.1f} points; vs the original texts: {100 * (a3 - a0):+.1f} points. "
          f"Target: redaction costs at most 1 point: {'met' if a3 - a1 >= -0.01 else 'MISSED'}")


if __name__ == "__main__":
    main()
