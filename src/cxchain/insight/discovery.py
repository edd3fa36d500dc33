"""Discovery of contact reasons the taxonomy does not cover (ARCHITECTURE decision 8).

Not told the number of reasons.  The fast path, measured on Banking77 (see
``benchmarks/text_eval.py``):

1. MiniLM embeddings of the distinct texts (cached by :class:`~cxchain.insight.embed.Embedder`);
   above ``max_sample`` distinct texts, a seeded sample is clustered and the rest assigned.
2. Neighbourhood smoothing: each vector is replaced by the mean of itself and its nearest
   neighbours, which pulls paraphrases together (+2-3 NMI points on Banking77).
3. Average-linkage agglomerative clustering on cosine distance, cut at a fixed distance
   (``threshold``): the number of clusters follows from how far apart the texts are, not from a
   guess of k, and the same cut means the same granularity for any sample size.
4. Clusters smaller than ``min_size`` are dissolved; their texts, and texts outside the sample,
   join the nearest cluster centroid when the cosine similarity reaches ``floor``, else they are
   ``unclassified`` (label ``-1``).  Nothing is dropped.
5. Labels from class-based TF-IDF (c-TF-IDF) keywords; representatives are the verbatims
   nearest the centroid (texts are redacted before they are stored, so nothing else is done here).

Deterministic for a given ``seed`` (no random step other than the sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer
from sklearn.preprocessing import normalize

UNCLASSIFIED = -1
_EXTRA_STOP = {"hi", "hello", "thanks", "thank", "please", "just", "want", "need", "im", "ive", "dont",
               "did", "does", "know", "help", "like", "tell", "ok", "okay", "yes", "got", "get", "can"}
STOP_WORDS = sorted(set(ENGLISH_STOP_WORDS) | _EXTRA_STOP)


@dataclass
class Proposal:
    """A proposed reason: a cluster of texts with keywords and representative verbatims."""

    label: str
    keywords: list[str]
    size: int
    member_indices: list[int]
    representatives: list[str]
    cohesion: float = 0.0  # mean cosine similarity of members to the centroid

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "keywords": self.keywords, "size": self.size,
                "representatives": self.representatives, "cohesion": round(self.cohesion, 4)}


@dataclass
class DiscoveryResult:
    """Proposals plus, for every input text, the index of its proposal (``-1``: unclassified)."""

    proposals: list[Proposal]
    labels: np.ndarray
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def unclassified_share(self) -> float:
        return float((self.labels == UNCLASSIFIED).mean()) if len(self.labels) else 0.0


def _smooth(X: np.ndarray, k: int) -> np.ndarray:
    """Mean of each vector and its ``k`` nearest neighbours (cosine), re-normalised."""
    n = len(X)
    if k <= 0 or n <= k + 1:
        return X
    out = np.empty_like(X)
    step = 2048
    for s in range(0, n, step):
        sims = X[s:s + step] @ X.T
        idx = np.argpartition(-sims, k, axis=1)[:, :k + 1]  # includes the text itself
        out[s:s + step] = X[idx].mean(axis=1)
    return normalize(out).astype(np.float32)


def ctfidf_keywords(docs: Sequence[str], labels: np.ndarray, n_clusters: int, top: int = 6) -> list[list[str]]:
    """Top keywords of each cluster by class-based TF-IDF (BERTopic's c-TF-IDF)."""
    joined = [" ".join(docs[i] for i in np.where(labels == c)[0]) for c in range(n_clusters)]
    if not any(j.strip() for j in joined):
        return [[] for _ in range(n_clusters)]
    try:
        cv = CountVectorizer(stop_words=STOP_WORDS, ngram_range=(1, 2), token_pattern=r"(?u)\b[a-zA-Z][a-zA-Z]+\b")
        tf = cv.fit_transform(joined).astype(np.float64)
    except ValueError:  # only stop words
        return [[] for _ in range(n_clusters)]
    vocab = np.array(cv.get_feature_names_out())
    freq = np.asarray(tf.sum(axis=0)).ravel()  # f_t: frequency of each term over all clusters
    avg_words = float(tf.sum()) / max(n_clusters, 1)  # A: average number of words per cluster
    idf = np.log(1 + avg_words / np.maximum(freq, 1e-12))
    tf = normalize(tf, norm="l1")
    scores = tf.multiply(idf).tocsr()
    out: list[list[str]] = []
    for c in range(n_clusters):
        row = scores.getrow(c).toarray().ravel()
        order = np.lexsort((vocab, -row))  # by score, ties alphabetically (deterministic)
        words: list[str] = []
        for j in order:
            if row[j] <= 0 or len(words) >= top:
                break
            w = str(vocab[j])
            if any(w in x.split() or x in w.split() for x in words):  # skip "card" after "new card"
                continue
            words.append(w)
        out.append(words)
    return out


def cluster_embeddings(X: np.ndarray, *, threshold: float = 0.3, smooth_k: int = 5, min_size: int = 5,
                       floor: float = 0.3) -> np.ndarray:
    """Cluster unit vectors; returns a label per row, ``-1`` for unclassified."""
    n = len(X)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n < 2:
        return np.full(n, UNCLASSIFIED if min_size > 1 else 0, dtype=int)
    Xs = _smooth(X, smooth_k)
    Z = linkage(Xs.astype(np.float64), method="average", metric="cosine")
    raw = fcluster(Z, t=threshold, criterion="distance") - 1
    sizes = np.bincount(raw)
    keep = np.where(sizes >= min_size)[0]
    labels = np.full(n, UNCLASSIFIED, dtype=int)
    if len(keep) == 0:
        return labels
    # renumber kept clusters by size (desc), then by first member (deterministic)
    first = np.array([np.where(raw == c)[0][0] for c in keep])
    order = keep[np.lexsort((first, -sizes[keep]))]
    remap = {int(c): i for i, c in enumerate(order)}
    for c, i in remap.items():
        labels[raw == c] = i
    _assign_leftovers(X, labels, floor)
    return labels


def _centroids(X: np.ndarray, labels: np.ndarray) -> np.ndarray:
    k = int(labels.max()) + 1
    C = np.zeros((k, X.shape[1]), dtype=np.float32)
    np.add.at(C, labels[labels >= 0], X[labels >= 0])
    return normalize(C).astype(np.float32)


def _assign_leftovers(X: np.ndarray, labels: np.ndarray, floor: float) -> None:
    left = np.where(labels == UNCLASSIFIED)[0]
    if len(left) == 0 or labels.max() < 0:
        return
    C = _centroids(X, labels)
    sims = X[left] @ C.T
    best = sims.argmax(axis=1)
    ok = sims[np.arange(len(left)), best] >= floor
    labels[left[ok]] = best[ok]


def discover_labels(texts: Sequence[str], *, embedder: Any, min_size: int | None = None, seed: int = 0,
                    threshold: float = 0.3, smooth_k: int = 5, floor: float = 0.3, max_sample: int = 6000,
                    n_representatives: int = 5) -> DiscoveryResult:
    """Cluster ``texts`` into proposed reasons; see the module docstring for the method.

    ``min_size`` defaults to ``max(3, round(0.0015 * distinct texts))``.  ``floor`` is the cosine
    similarity a text needs to its nearest centroid to join a cluster rather than stay unclassified.
    """
    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    clean = [(t or "").strip() for t in texts]
    uniq: dict[str, int] = {}
    inv = np.empty(len(clean), dtype=int)
    for i, t in enumerate(clean):
        inv[i] = uniq.setdefault(t, len(uniq))
    utexts = list(uniq)
    nonempty = np.array([bool(t) for t in utexts], dtype=bool)
    ulabels = np.full(len(utexts), UNCLASSIFIED, dtype=int)
    if min_size is None:
        min_size = max(3, round(0.0015 * int(nonempty.sum())))
    idx = np.where(nonempty)[0]
    X = embedder.encode([utexts[i] for i in idx]) if len(idx) else np.zeros((0, 384), dtype=np.float32)
    timings["embed_s"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    if len(idx):
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.permutation(len(idx))[:max_sample]) if len(idx) > max_sample else np.arange(len(idx))
        lab_s = cluster_embeddings(X[sample], threshold=threshold, smooth_k=smooth_k, min_size=min_size, floor=floor)
        lab = np.full(len(idx), UNCLASSIFIED, dtype=int)
        lab[sample] = lab_s
        if len(sample) < len(idx):
            _assign_leftovers(X, lab, floor)
        ulabels[idx] = lab
    labels = ulabels[inv]
    # proposals
    k = int(labels.max()) + 1 if len(labels) else 0
    keywords = ctfidf_keywords(clean, labels, k) if k else []
    proposals: list[Proposal] = []
    Xall = np.zeros((len(utexts), X.shape[1] if len(X) else 384), dtype=np.float32)
    if len(idx):
        Xall[idx] = X
    for c in range(k):
        members = np.where(labels == c)[0]
        umembers = np.unique(inv[members])
        cen = normalize(Xall[umembers].mean(axis=0, keepdims=True))[0]
        sims = Xall[umembers] @ cen
        order = umembers[np.lexsort((umembers, -sims))]
        reps = [utexts[i] for i in order[:n_representatives]]
        kw = keywords[c]
        label = " / ".join(kw[:3]) if kw else (reps[0][:60] if reps else f"cluster {c}")
        proposals.append(Proposal(label=label, keywords=kw, size=len(members), member_indices=members.tolist(),
                                  representatives=reps, cohesion=float(sims.mean()) if len(sims) else 0.0))
    timings["cluster_s"] = time.perf_counter() - t1
    return DiscoveryResult(proposals=proposals, labels=labels, timings=timings)


def discover(texts: Sequence[str], *, embedder: Any, min_size: int | None = None, seed: int = 0,
             **kw: Any) -> list[Proposal]:
    """Proposed new reasons for ``texts`` (largest first); see :func:`discover_labels`."""
    return discover_labels(texts, embedder=embedder, min_size=min_size, seed=seed, **kw).proposals
