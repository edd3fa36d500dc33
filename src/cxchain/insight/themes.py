"""Ad-hoc theming of one file of texts (what ``cxchain themes`` runs).

Three modes, chosen by the arguments:

* ``examples`` (CSV with columns ``text,label``): the reasons are the labels, learned few-shot;
* ``reasons`` (text file, one reason a line, optionally ``name: description``): zero-shot;
* neither: reasons are discovered (:mod:`cxchain.insight.discovery`), not told how many.

The output CSV has one row per input row, in input order, with columns ``id`` (the id column's
value, else the 0-based row number), ``text``, ``reason`` (literal ``unclassified`` when nothing
fits), ``confidence``, ``method``, ``language``, ``sentiment`` (-1..1) and ``sentiment_label``.
Everything is seeded, so a rerun writes the identical file.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from .language import ENGLISH, UNKNOWN, detect_languages
from .taxonomy import UNCLASSIFIED, Taxonomy

SENTIMENT_THRESHOLDS = (-0.05, 0.05)  # below: negative; above: positive; between: neutral (declared)


def read_texts(path: Path, text_column: str, id_column: str | None = None) -> tuple[list[str], list[str]]:
    """Texts and ids of a CSV, TSV, Excel (.xlsx) or JSON/NDJSON file, in file order."""
    import pandas as pd

    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm"):
        df = pd.read_excel(path, dtype=str)
    elif suffix == ".json":
        try:
            df = pd.read_json(path, dtype=False)
        except ValueError:
            df = pd.read_json(path, lines=True, dtype=False)
    elif suffix in (".ndjson", ".jsonl"):
        df = pd.read_json(path, lines=True, dtype=False)
    elif suffix == ".parquet":
        df = pd.read_parquet(path)
    else:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            sample = fh.read(65536)
        try:
            sep = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            sep = ","
        df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=sep, encoding="utf-8-sig")
    if text_column not in df.columns:
        raise ValueError(f"{path}: no column {text_column!r}; columns are {', '.join(map(str, df.columns))}")
    if id_column is not None and id_column not in df.columns:
        raise ValueError(f"{path}: no id column {id_column!r}")
    texts = ["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in df[text_column]]
    ids = ([str(v) for v in df[id_column]] if id_column else [str(i) for i in range(len(df))])
    return texts, ids


def read_reasons(path: Path) -> list[tuple[str, str]]:
    """``(name, description)`` pairs from a file with one reason a line (``name: description``)."""
    out: list[tuple[str, str]] = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, desc = line.partition(":")
        out.append((name.strip(), desc.strip()))
    if not out:
        raise ValueError(f"{path}: no reasons")
    return out


def read_examples(path: Path) -> list[tuple[str, str]]:
    """``(text, label)`` pairs from a CSV with columns ``text,label``."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or "text" not in rows[0] or "label" not in rows[0]:
        raise ValueError(f"{path}: expected columns text,label")
    return [(r["text"], r["label"].strip()) for r in rows if (r.get("label") or "").strip() and r.get("text")]


def _sentiment(texts: list[str]) -> tuple[list[float], list[str], str]:
    try:
        from cxchain.insight.sentiment import score_sentiment  # written by another engineer
    except ImportError:
        return [math.nan] * len(texts), [""] * len(texts), "unavailable (cxchain.insight.sentiment not importable)"
    scored = score_sentiment(texts)
    return [float(s) for s, _ in scored], [str(lbl) for _, lbl in scored], "cxchain.insight.sentiment"


def theme_file(path: Path | str, *, text_column: str = "text", id_column: str | None = None,
               examples: Path | str | None = None, reasons: Path | str | None = None,
               out: Path | str, cache_dir: Path | str | None = None, seed: int = 0,
               embedder: Any = None) -> dict[str, Any]:
    """Theme the texts of ``path`` and write ``out`` (CSV); returns a summary dict.

    The summary holds ``rows``, ``mode`` (few_shot | zero_shot | discovered), ``reasons``
    (count per reason, largest first), ``unclassified``, ``non_english``, ``sentiment`` (its
    source or why it is missing), ``out`` and, when discovered, ``proposals`` (label, keywords,
    size, representatives).
    """
    from .embed import Embedder

    path, out = Path(path), Path(out)
    if examples is not None and reasons is not None:
        raise ValueError("give examples or reasons, not both")
    texts, ids = read_texts(path, text_column, id_column)
    if embedder is None:
        embedder = Embedder(cache_dir)
    summary: dict[str, Any] = {"rows": len(texts), "input": str(path), "out": str(out)}
    reason_col: list[str]
    conf_col: list[float]
    method_col: list[str]
    lang_col: list[str]
    if examples is not None or reasons is not None:
        from .reasons import ReasonClassifier, fit_from_labelled

        if examples is not None:
            clf = fit_from_labelled(read_examples(Path(examples)), embedder, seed=seed)
            names = clf.label_of
            summary["mode"] = "few_shot"
        else:
            tax = Taxonomy.from_names(read_reasons(Path(reasons)))  # type: ignore[arg-type]
            clf = ReasonClassifier(tax, embedder, seed=seed).fit()
            names = {r.id: r.name for r in tax.active}
            summary["mode"] = "zero_shot"
        preds = clf.predict(texts)
        reason_col = [names.get(p.reason_id, UNCLASSIFIED) for p in preds]
        conf_col = [p.confidence if p.reason_id != UNCLASSIFIED else 0.0 for p in preds]
        method_col = [p.method for p in preds]
        lang_col = [p.language for p in preds]
        summary["threshold"] = round(clf.threshold, 4)
    else:
        from .discovery import discover_labels

        lang_col = detect_languages(texts)
        eng = [i for i, lang in enumerate(lang_col) if lang in (ENGLISH, UNKNOWN)]
        res = discover_labels([texts[i] for i in eng], embedder=embedder, seed=seed)
        reason_col = [UNCLASSIFIED] * len(texts)
        conf_col = [0.0] * len(texts)
        method_col = ["non_english" if lang not in (ENGLISH, UNKNOWN) else "discovered" for lang in lang_col]
        labels = [p.label for p in res.proposals]
        seen = Counter(labels)
        uniq_labels = [f"{lbl} ({i + 1})" if seen[lbl] > 1 else lbl for i, lbl in enumerate(labels)]
        for j, i in enumerate(eng):
            c = int(res.labels[j])
            if c >= 0:
                reason_col[i] = uniq_labels[c]
                conf_col[i] = round(res.proposals[c].cohesion, 4)
        summary["mode"] = "discovered"
        summary["proposals"] = [dict(p.to_dict(), label=uniq_labels[k]) for k, p in enumerate(res.proposals)]
    sent, sent_lbl, sent_src = _sentiment(texts)
    summary["sentiment"] = sent_src
    summary["sentiment_thresholds"] = list(SENTIMENT_THRESHOLDS)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "text", "reason", "confidence", "method", "language", "sentiment", "sentiment_label"])
        for row in zip(ids, texts, reason_col, conf_col, method_col, lang_col, sent, sent_lbl, strict=True):
            i, t, r, c, m, lang, s, sl = row
            w.writerow([i, t, r, f"{c:.4f}", m, lang, "" if math.isnan(s) else f"{s:.4f}", sl])
    tmp.replace(out)
    counts = Counter(reason_col)
    summary["unclassified"] = counts.get(UNCLASSIFIED, 0)
    summary["non_english"] = sum(1 for m in method_col if m == "non_english")
    summary["reasons"] = dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    json.dumps(summary)  # the summary is JSON-ready for `--json`
    return summary
