"""The bulk reason path at scale: speed and accuracy of its lexical model, against the planted reasons.

    python benchmarks/reasons_bulk.py --workspace WS    # a sample-organisation workspace after link 1

Above ``embed_all_max`` distinct texts the reason classifier embeds a sample, distils it into a
lexical model and labels the rest with it (``cxchain.insight.reasons``).  This compares the shipped
lexical features (words, word pairs, word stems) with the character n-gram model used before, on
the same inputs and the same cached sample embeddings: CPU seconds of ``predict``, accuracy against
the generator's true reason of each contact (generator reasons mapped to taxonomy reasons by
majority vote; contacts whose true reason maps to nothing are left out), the unclassified share and
the agreement of the two.  The first run fills the embedding cache; the reported runs find the sample there.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import polars as pl
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from cxchain import Workspace
from cxchain.data.redact import strip_placeholders
from cxchain.insight.embed import Embedder
from cxchain.insight.pipeline import classifier_inputs, workspace_taxonomy
from cxchain.insight.reasons import ReasonClassifier


class CharNgramBulk(ReasonClassifier):
    """The previous bulk lexical model: word (1-2) + char_wb (2-5) TF-IDF."""

    @staticmethod
    def _fit_bulk_lexical(texts, y, w):  # type: ignore[no-untyped-def, override]
        vw = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True)
        vc = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, lowercase=True,
                             max_features=200000)
        F = hstack([vw.fit_transform(texts), vc.fit_transform(texts)]).tocsr()
        return (vw, vc), LogisticRegression(C=10.0, max_iter=2000).fit(F, y, sample_weight=w)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", type=Path, required=True)
    a = ap.parse_args()
    ws = Workspace(a.workspace)
    with ws.store.read() as con:
        rows = classifier_inputs(con)
    truth = pl.read_parquet(a.workspace / "org" / "truth" / "contacts.parquet")
    true_reason = {f"{s}:{k}": r for s, k, r in truth.select("source", "source_key", "reason_id").iter_rows()}
    tax = workspace_taxonomy(ws.path, str(ws.settings["sector"]))
    embedder = Embedder(ws.path / ".cxchain" / "cache" / "embeddings")
    texts = [strip_placeholders(r[1]) for r in rows]
    print(f"{len(rows):,} contacts, {len(set(texts)):,} distinct texts")
    results = {}
    # The first run fills the embedding cache; the later ones (reported) find the sample there.
    runs = (("char n-grams (before)", CharNgramBulk), ("words+pairs+stems (now)", ReasonClassifier),
            ("char n-grams (before)", CharNgramBulk))
    for name, cls in runs:
        clf = cls(tax, embedder).fit(None)
        c0, w0 = time.process_time(), time.perf_counter()
        preds = clf.predict(texts, coded=[r[2] for r in rows], ivr=[r[3] for r in rows])
        results[name] = (preds, time.process_time() - c0, time.perf_counter() - w0, dict(clf.report))
    print(f"\n{'lexical model':<26} {'CPU s':>7} {'wall s':>7} {'accuracy':>9} {'lexical-only acc':>17} {'unclassified':>13}")
    labels = {}
    for name, (preds, cpu, wall, _report) in results.items():
        got = [p.reason_id for p in preds]
        labels[name] = got
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        for r, g in zip(rows, got, strict=True):
            t = true_reason.get(r[0])
            if t and g != "unclassified":
                votes[t][g] += 1
        mapping = {t: c.most_common(1)[0][0] for t, c in votes.items()}
        pairs = [(mapping.get(true_reason.get(r[0], ""), None), g, p.method) for r, g, p in zip(rows, got, preds, strict=True)]
        scored = [(m, g, meth) for m, g, meth in pairs if m is not None]
        acc = sum(m == g for m, g, _ in scored) / len(scored)
        lex = [(m, g) for m, g, meth in scored if meth == "lexical"]
        lex_acc = sum(m == g for m, g in lex) / max(len(lex), 1)
        unc = sum(g == "unclassified" for g in got) / len(got)
        print(f"{name:<26} {cpu:>7.1f} {wall:>7.1f} {acc:>9.3f} {lex_acc:>10.3f} (n={len(lex):,}) {unc:>12.3f}")
    a_, b_ = labels.values()
    print(f"\nagreement of the two: {np.mean([x == y for x, y in zip(a_, b_, strict=True)]):.3f}")


if __name__ == "__main__":
    main()
