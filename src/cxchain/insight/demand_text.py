"""Failure demand read from the customer's own words, sentence by sentence.

The failure is usually one sentence among several ("Hello, the door frame is rotten. The person
who came out didn't finish the job."), so whole-text cues miss it.  As for reasons (ARCHITECTURE
decision 7), the embedding model labels only a seeded sample: each sentence of the sample is compared
with short prototypes of failure demand and of value demand (written from the failure-demand
typology, domain brief section 2, not from any data set); confident labels train a fast TF-IDF
model that reads every sentence of every contact.  A contact's failure probability is that of its
most failure-like sentence; its failure type is the nearest type prototype of that sentence.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
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


def failure_probability(texts: Sequence[str | None], embedder: Any, *, sample: int = 3000,
                        seed: int = 0) -> list[tuple[float, str | None]]:
    """Per text: (probability it is failure demand, the likeliest failure type or None)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    per_text = [sentences(t) for t in texts]
    idx = [i for i, s in enumerate(per_text) if s]
    if not idx:
        return [(0.0, None) for _ in texts]
    picked = sorted(random.Random(seed).sample(idx, min(sample, len(idx))))
    sample_sents = [s for i in picked for s in per_text[i]]
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
        return [(0.0, None) for _ in texts]
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
    flat = [sentence for group in per_text for sentence in group]
    Xf = vec.transform(flat)
    p_all = binary.predict_proba(Xf)[:, list(binary.classes_).index(1)]
    kinds_all = kind_model.predict(Xf) if kind_model is not None else np.array([kind_of[fail_idx][0]] * len(flat))
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
