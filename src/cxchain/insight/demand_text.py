"""Failure demand read from the customer's own words, sentence by sentence.

The failure is usually one sentence among several ("Hello, the door frame is rotten. The person
who came out didn't finish the job."), so whole-text cues miss it.  As for reasons (ARCHITECTURE
decision 7), the embedding model labels only a sample (the texts of smallest seeded hash, chosen by a
query so no engine collects every text): each sentence of the sample is compared
with short prototypes of failure demand and of value demand (written from the failure-demand
typology, domain brief section 2, not from any data set); confident labels train a fast TF-IDF
model that reads every sentence of every contact.  A contact's failure probability is that of its
most failure-like sentence; its failure type is the nearest type prototype of that sentence.
Reading a text (:func:`read_failure_batch`) is a pure function of the text and the fitted
:class:`FailureModel`, so the Spark engine runs it per partition.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data.redact import strip_placeholders

FAILURE_PROTOTYPES: dict[str, tuple[str, ...]] = {
    "chasing_progress": (
        "I'm still waiting for someone to get back to me", "nobody has contacted me since I reported it",
        "this is the third time I have had to ask", "I was told someone would call me back and they never did",
        "why hasn't this been sorted yet", "I was promised an appointment and no one turned up"),
    "not_done_right": (
        "you said it would be done but it hasn't been", "the job was not finished properly",
        "it broke again after it was repaired", "you got it wrong again", "the information you gave me was wrong"),
    "did_not_understand": ("I don't understand the letter you sent me", "I keep getting different answers"),
    "complaint": ("I want to make a complaint",),
    "repeat_unresolved": ("I have been passed from one department to another",),
}
VALUE_PROTOTYPES: tuple[str, ...] = (
    "I would like to report a problem", "can I pay my bill", "I need to book an appointment",
    "please can you tell me how to apply", "I am moving house next month", "I want to update my details",
    "can you send me a copy of my statement", "is there a discount I can get", "I have a question about my account",
    "I'd like to request a new bin", "how do I register for this service", "thank you for your help")
THRESHOLD = 0.6  # P(failure) of the most failure-like sentence at or above which the contact is failure demand
_MIN_SIM, _MARGIN = 0.5, 0.05
_QUOTE = re.compile(r"\n\s*>|\nOn \d{1,2}[/ ]|\n-{2,}\s*Original")
_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")


def sentences(text: str | None, *, limit: int = 8) -> list[str]:
    """The customer's own sentences: placeholders removed, quoted replies dropped."""
    t = _QUOTE.split(strip_placeholders(text), maxsplit=1)[0]
    return [s.strip() for s in _SPLIT.split(t) if len(s.strip()) >= 12][:limit]


@dataclass
class FailureModel:
    """The fitted sentence models every partition reads with (small: a TF-IDF vocabulary and two regressions)."""

    vec: Any
    binary: Any
    kind_model: Any
    fixed_kind: str


def sample_query(table: str, k: int, seed: int = 0) -> str:
    """The texts of the ``k`` rows of ``table`` (columns ``record_id``, ``text``) with the smallest seeded hash of
    their record id: a query on any engine.  Rows, not distinct texts: a text many customers send weighs more.

    Shorter texts cannot hold a sentence (:func:`sentences` keeps those of 12 characters or more).
    """
    return f"""SELECT text FROM {table} WHERE length(text) >= 12
               ORDER BY md5(concat('{int(seed)}', chr(31), record_id)), record_id LIMIT {int(k)}"""


def choose_sample(query: Callable[[str], list[tuple[Any, ...]]], table: str, *, sample: int = 3000,
                  seed: int = 0) -> list[str]:
    """The texts the embedding model reads: those of the first ``sample`` rows with sentences in seeded-hash order.

    ``query`` runs SQL on the engine that holds ``table``; only about ``sample`` texts reach the driver.
    """
    k = sample
    while True:
        got = [str(r[0]) for r in query(sample_query(table, k, seed))]
        with_sentences = [t for t in got if sentences(t)]
        if len(with_sentences) >= sample or len(got) < k:
            return with_sentences[:sample]
        k *= 2


def fit_failure_model(sample_texts: Sequence[str], embedder: Any) -> FailureModel | None:
    """Label the sentences of ``sample_texts`` with the embedding model against the prototypes and fit
    the lexical models on the confident labels (None when the sample does not give two classes)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    sample_sents = [s for t in sample_texts for s in sentences(t)]
    if not sample_sents:
        return None
    kinds = list(FAILURE_PROTOTYPES)
    fail_protos = [(k, p) for k in kinds for p in FAILURE_PROTOTYPES[k]]
    pf = embedder.encode([p for _, p in fail_protos])
    pv = embedder.encode(list(VALUE_PROTOTYPES))
    emb = embedder.encode(sample_sents)
    sim_f = emb @ pf.T
    sf, sv = sim_f.max(axis=1), (emb @ pv.T).max(axis=1)
    label = np.where((sf >= _MIN_SIM) & (sf > sv + _MARGIN), 1, np.where(sv > sf + _MARGIN, 0, -1))
    keep = label >= 0
    if len(set(label[keep].tolist())) < 2:
        return None
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    X = vec.fit_transform([s for s, k in zip(sample_sents, keep, strict=True) if k])
    binary = LogisticRegression(max_iter=1000, C=2.0, class_weight="balanced").fit(X, label[keep])
    # the failure type of a failure sentence: its nearest type prototype, learned the same way
    fail_idx = np.flatnonzero(label == 1)
    kind_of = np.array([fail_protos[j][0] for j in sim_f.argmax(axis=1)])
    kind_model = None
    if len(set(kind_of[fail_idx].tolist())) >= 2:
        kind_model = LogisticRegression(max_iter=1000, C=2.0).fit(vec.transform([sample_sents[i] for i in fail_idx]),
                                                                  kind_of[fail_idx])
    return FailureModel(vec, binary, kind_model, str(kind_of[fail_idx][0]))


def read_failure_batch(texts: Sequence[str | None], model: FailureModel | None) -> list[tuple[float, str | None]]:
    """Per text: (probability it is failure demand, the likeliest failure type or None); a pure function of
    the text and ``model``, so it runs per partition."""
    per_text = [sentences(t) for t in texts]
    flat = [sentence for group in per_text for sentence in group]
    if model is None or not flat:
        return [(0.0, None) for _ in texts]
    Xf = model.vec.transform(flat)
    p_all = model.binary.predict_proba(Xf)[:, list(model.binary.classes_).index(1)]
    kinds_all = model.kind_model.predict(Xf) if model.kind_model is not None else np.array([model.fixed_kind] * len(flat))
    out: list[tuple[float, str | None]] = []
    pos = 0
    for sents in per_text:
        if not sents:
            out.append((0.0, None))
            continue
        block = p_all[pos:pos + len(sents)]
        j = int(block.argmax())
        out.append((float(block[j]), str(kinds_all[pos + j])))
        pos += len(sents)
    return out


def failure_probability(texts: Sequence[str | None], embedder: Any, *, sample: int = 3000,
                        seed: int = 0) -> list[tuple[float, str | None]]:
    """Per text: (probability it is failure demand, the likeliest failure type or None)."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.register("_texts", pa.table({"record_id": pa.array([str(i) for i in range(len(texts))], pa.string()),
                                     "text": pa.array([t if isinstance(t, str) else None for t in texts], pa.string())}))
    chosen = choose_sample(lambda sql: con.execute(sql).fetchall(), "_texts", sample=sample, seed=seed)
    con.close()
    return read_failure_batch(texts, fit_failure_model(chosen, embedder) if chosen else None)
