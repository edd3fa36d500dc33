"""PII redaction benchmark: per-kind recall/precision on the labelled set, and throughput.

    python benchmarks/redaction.py [--n 50000]

Uses real verbatims from ``shared/data/real`` (beside the checkout, or ``$CXCHAIN_SHARED``) when
present, else the small embedded sentence list.  Throughput is single-process, median of 3 runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pii_testset as T  # noqa: E402
from cxchain.data.redact import Redactor  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=50_000, help="texts for the throughput runs")
    ap.add_argument("--eval", type=int, default=20_000, help="labelled texts for recall/precision")
    args = ap.parse_args()
    shared = T.shared_dir()
    base = T.load_real_texts(shared) if shared else T.BASE_SENTENCES
    print(f"base texts: {len(base)} ({'real verbatims from ' + str(shared) if shared else 'embedded sentences'})")
    cases = T.build_cases(base, args.eval)
    red = Redactor()
    res = T.evaluate(red.find, cases)
    ok_all = True
    print(f"{'kind':<11} {'gold':>6} {'pred':>6} {'recall':>7} {'rec_any':>7} {'prec':>7} {'prec_any':>8} "
          f"{'neg_hits':>8}  target            met")
    for k in T.KINDS:
        r = res[k]
        tr, tp = T.TARGETS[k]
        met = r["recall"] >= tr and r["precision"] >= tp
        ok_all &= met
        tgt = f"R>={tr:.2f}" + (f" P>={tp:.2f}" if tp else "")
        print(f"{k:<11} {r['gold']:>6} {r['pred']:>6} {r['recall']:>7.4f} {r['recall_any']:>7.4f} "
              f"{r['precision']:>7.4f} {r['precision_any']:>8.4f} {r['neg_hits']:>8}  {tgt:<17} {'yes' if met else 'NO'}")

    texts = [c.text for c in T.build_cases(base, args.n, seed=7)]
    words = statistics.mean(len(t.split()) for t in texts[:5000])
    print(f"\nthroughput on {len(texts)} texts (mean {words:.0f} words), single process, median of 3:")
    for label, r2, target in (("structured only (names=False)", Redactor(names=False), 10_000.0),
                              ("all kinds (names=True)", Redactor(names=True), None)):
        runs = []
        for _ in range(3):
            t0 = time.perf_counter()
            r2.redact(texts)
            runs.append(len(texts) / (time.perf_counter() - t0))
        rate = statistics.median(runs)
        verdict = "" if target is None else (f"  target >= {target:,.0f}/s: " + ("yes" if rate >= target else "NO"))
        if target is not None:
            ok_all &= rate >= target
        print(f"  {label:<32} {rate:>10,.0f} texts/s{verdict}")
    print("\nall targets met" if ok_all else "\nSOME TARGETS NOT MET")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
