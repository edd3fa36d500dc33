"""Contact-reason classifier: zero-shot from the taxonomy, few-shot from taught examples, and a
fast distilled lexical model for bulk labelling (ARCHITECTURE decisions 7 and 8).

* **Zero-shot**: each reason is embedded from its name, name + description and examples (MiniLM);
  a text's score for a reason mixes its cosine similarity to the reason's centroid and to its
  closest view.  Below a threshold calibrated from the taxonomy itself (held-out views against a
  built-in set of off-topic and gibberish texts) the text is ``unclassified``.
* **Few-shot**: with examples ``(text, reason_id)``, a logistic regression on the embeddings of
  the examples plus the taxonomy's own views, with a lexical (TF-IDF word + char) model in the
  ensemble (weight 0.4; prototypes only decide ``unclassified``).  Optional self-training on the
  texts being labelled (off by default: it lost 2 points on Banking77 10-shot).
* **Bulk**: when there are more distinct texts than ``embed_all_max``, only a sample is embedded
  (the ``sample_size`` texts of smallest seeded hash, chosen by a query); a TF-IDF logistic regression over words, word pairs and word stems
  (:func:`bulk_features`) is trained on the embedding model's confident labels of the sample plus
  the taxonomy's descriptions and examples, labels everything, and only the ambiguous texts
  (lowest margin, up to ``ambiguous_max``; ties by hash) are embedded and relabelled by the embedding
  model.  The per-row work runs in phases (:mod:`cxchain.insight.reasons_bulk`) that Spark runs per
  partition and DuckDB in process.
  (Character n-grams cost five times as much at a million contacts for no measured gain on the
  bulk path: ``benchmarks/reasons_bulk.py``.)
* **Coded reason / IVR**: a prior ``P(reason | code)`` is learned from how codes co-occur with
  confident text predictions (codes that equal a reason id or name map directly) and multiplied
  into the text probabilities; a text with no usable words but a telling code gets the code's
  reason (method ``coded`` or ``ivr``).
* **Language**: non-English texts are ``unclassified`` with method ``non_english``.

Every input gets exactly one :class:`Prediction`, in input order.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.sparse import hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from .language import ENGLISH
from .taxonomy import UNCLASSIFIED, Taxonomy

__all__ = ["Prediction", "ReasonClassifier", "UNCLASSIFIED", "OFF_TOPIC", "bulk_features"]

# Off-topic and gibberish texts used to calibrate the "nothing fits" threshold.  Deliberately far
# from any contact centre: weather, sport, cooking, trivia, keyboard mash.
OFF_TOPIC: tuple[str, ...] = (
    "what a lovely sunny day it is today", "who won the football last night", "my favourite colour is green",
    "the recipe needs two eggs and a cup of flour", "elephants are the largest land animals",
    "I like listening to jazz on Sunday mornings", "the cat is sleeping on the sofa",
    "how tall is the eiffel tower", "let's go to the cinema tonight", "the capital of france is paris",
    "happy birthday to my best friend", "I prefer tea to coffee", "the moon orbits the earth",
    "what time does the match kick off", "this song is stuck in my head", "knitting a scarf for winter",
    "the dinosaurs lived millions of years ago", "my dog loves chasing squirrels",
    "asdfgh jkl qwerty", "zxcv bnm lkjh", "xyz abc 123", "lorem ipsum dolor sit amet",
    "blah blah blah", "hmm", "test test test", "qqqq wwww eeee", "ok", "...", "sdfkj sdlkfj woeiru",
    "bananas are yellow and full of potassium", "the train to edinburgh was lovely",
    "I'm learning to play the guitar", "pizza or pasta for dinner", "the stars are bright tonight",
)

# A batch with more distinct texts than this is labelled by a kept bulk model when one is given.
REUSE_MIN_TEXTS = 200

METHODS = ("zero_shot", "few_shot", "lexical", "coded", "ivr", "non_english", "empty")


@dataclass(frozen=True)
class Prediction:
    """The reason given to one text.

    ``reason_id`` is an active taxonomy id or ``'unclassified'``; ``confidence`` is in 0..1;
    ``method`` says which model decided (one of :data:`METHODS`); ``language`` the detected
    language code (``'en'``, ``'cy'``, ``'pl'``..., ``'und'`` when there are no letters).
    """

    reason_id: str
    confidence: float
    method: str
    language: str = ENGLISH


_WORD = re.compile(r"[a-z0-9£]+(?:'[a-z]+)?")
STEM_LETTERS = 5


def bulk_features(text: str) -> list[str]:
    """Features of the bulk lexical model: words, adjacent word pairs, and word stems.

    A stem is a long word's first :data:`STEM_LETTERS` letters, so "repairs", "repaired" and
    "repairing" share evidence without a language-specific stemmer.  Module-level (picklable) so a
    fitted model can be kept between runs.
    """
    words = _WORD.findall(text.lower())
    feats = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
    feats += ["~" + w[:STEM_LETTERS] for w in words if len(w) > STEM_LETTERS]
    return feats


def _softmax(z: np.ndarray, temp: float) -> np.ndarray:
    z = z / temp
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _humanise(label: str) -> str:
    return label.replace("_", " ").replace(".", " ").strip()


class ReasonClassifier:
    """Labels texts with the reasons of ``taxonomy``.  Call :meth:`fit` once, then :meth:`predict`.

    Parameters: ``embedder`` (an :class:`~cxchain.insight.embed.Embedder`; one without a cache is
    made if omitted), ``seed`` (sampling), ``embed_all_max`` (above this many distinct texts the
    distilled lexical path is used), ``sample_size`` (texts embedded to train it),
    ``ambiguous_max`` (ambiguous texts re-scored by the embedding model), ``self_train``
    (transductive refit in few-shot mode), ``threshold`` (override the calibrated zero-shot
    threshold on the 0..1 similarity scale).
    """

    def __init__(self, taxonomy: Taxonomy, embedder: Any = None, *, seed: int = 0, embed_all_max: int = 20000,
                 sample_size: int = 4000, ambiguous_max: int = 2000, self_train: bool = False,
                 threshold: float | None = None, temperature: float = 0.05, placeholders: bool = False) -> None:
        if embedder is None:
            from .embed import Embedder

            embedder = Embedder()
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.seed = seed
        self.embed_all_max = embed_all_max
        self.sample_size = sample_size
        self.ambiguous_max = ambiguous_max
        self.self_train = self_train
        self.temperature = temperature
        self._threshold_override = threshold
        self.placeholders = placeholders
        self.reason_ids: list[str] = [r.id for r in taxonomy.active]
        if not self.reason_ids:
            raise ValueError("the taxonomy has no active reasons")
        self.threshold = 0.0
        self.mode = "zero_shot"
        self._fitted = False
        self._lr: LogisticRegression | None = None
        self._bulk: tuple[TfidfVectorizer, LogisticRegression] | None = None
        self._bulk_given = False
        self.reuse_min_texts = REUSE_MIN_TEXTS
        self._train_texts: list[str] = []
        self._train_y: list[int] = []
        self._train_X: np.ndarray | None = None
        self.report: dict[str, Any] = {}
        self.label_of: dict[str, str] = {}  # reason id -> the user's label (fit_from_labelled)

    # ------------------------------------------------------------------------------------------
    # fitting
    def fit(self, examples: Sequence[tuple[str, str]] | None = None) -> ReasonClassifier:
        """Build the reason prototypes; with ``examples`` ``(text, reason_id)`` also the few-shot models.

        Unknown reason ids in ``examples`` raise ``ValueError``; ids of retired reasons are mapped
        forward through merges (a split reason's examples are dropped: they are ambiguous).
        """
        index = {rid: i for i, rid in enumerate(self.reason_ids)}
        views: list[str] = []
        owner: list[int] = []
        for i, rid in enumerate(self.reason_ids):
            r = self.taxonomy.get(rid)
            vs = r.text_views()
            if _humanise(r.name) != r.name:
                vs.append(_humanise(r.name))
            for v in dict.fromkeys(vs):
                views.append(v)
                owner.append(i)
        self._views, self._owner = views, np.array(owner)
        V = self.embedder.encode(views)
        self._V = V
        R = len(self.reason_ids)
        self._centroids = normalize(np.stack([V[self._owner == i].mean(axis=0) for i in range(R)]))
        ex: list[tuple[str, int]] = []
        for text, rid in examples or []:
            if rid not in index:
                if rid in self.taxonomy:
                    ids = self.taxonomy.resolve(rid)
                    if len(ids) != 1:
                        continue
                    rid = ids[0]
                else:
                    raise ValueError(f"example labelled with unknown reason {rid!r}")
            if isinstance(text, str) and text.strip():
                ex.append((text, index[rid]))
        if ex:
            self.mode = "few_shot"
            ex_texts = [t for t, _ in ex]
            ex_y = np.array([y for _, y in ex])
            EX = self.embedder.encode(ex_texts)
            # training set: the examples plus every reason's own views (so untaught reasons remain)
            X = np.vstack([EX, V])
            y = np.concatenate([ex_y, self._owner])
            w = np.concatenate([np.ones(len(ex_y)), np.full(len(self._owner), 0.5)])
            self._train_X, self._train_y = X, list(y)
            self._train_w = w
            self._train_texts = ex_texts + views
            self._fit_fewshot(X, y, w, self._train_texts)
        else:
            self.mode = "zero_shot"
        self._calibrate()
        self._fitted = True
        return self

    def _fit_fewshot(self, X: np.ndarray, y: np.ndarray, w: np.ndarray, texts: list[str]) -> None:
        R = len(self.reason_ids)
        self._lr = LogisticRegression(C=10.0, max_iter=3000).fit(X, y, sample_weight=w)
        cents = np.zeros((R, X.shape[1]), dtype=np.float32)
        np.add.at(cents, y, X * w[:, None])
        self._proto = normalize(cents)
        self._proto_X, self._proto_y = X, y
        self._lex_few = self._fit_lexical(texts, y, w)

    def _fit_lexical(self, texts: list[str], y: np.ndarray, w: np.ndarray | None = None
                     ) -> tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression] | None:
        if len(set(y.tolist())) < 2:
            return None
        vw = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1, lowercase=True)
        vc = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=1, lowercase=True,
                             max_features=200000)
        F = hstack([vw.fit_transform(texts), vc.fit_transform(texts)]).tocsr()
        lr = LogisticRegression(C=10.0, max_iter=2000).fit(F, y, sample_weight=w)
        return vw, vc, lr

    @staticmethod
    def _fit_bulk_lexical(texts: list[str], y: np.ndarray, w: np.ndarray) -> tuple[TfidfVectorizer, LogisticRegression]:
        vec = TfidfVectorizer(analyzer=bulk_features, sublinear_tf=True, min_df=1)
        lr = LogisticRegression(C=10.0, max_iter=2000).fit(vec.fit_transform(texts), y, sample_weight=w)
        return vec, lr

    @staticmethod
    def _lex_proba(model: tuple[TfidfVectorizer, TfidfVectorizer, LogisticRegression], texts: list[str],
                   n_classes: int) -> np.ndarray:
        vw, vc, lr = model
        F = hstack([vw.transform(texts), vc.transform(texts)]).tocsr()
        p = lr.predict_proba(F)
        out = np.zeros((len(texts), n_classes), dtype=np.float64)
        out[:, lr.classes_.astype(int)] = p
        return out

    def _similarity(self, X: np.ndarray) -> np.ndarray:
        """Per reason: 0.5 x cosine to the centroid + 0.5 x cosine to the closest view (or example)."""
        R = len(self.reason_ids)
        if self.mode == "few_shot" and self._proto_X is not None:
            Pts, owner, cents = self._proto_X, self._proto_y, self._proto
        else:
            Pts, owner, cents = self._V, self._owner, self._centroids
        sims = X @ Pts.T
        best = np.full((len(X), R), -1.0, dtype=np.float32)
        for i in range(R):
            cols = owner == i
            if cols.any():
                best[:, i] = sims[:, cols].max(axis=1)
        return 0.5 * (X @ cents.T) + 0.5 * best

    def _calibrate(self) -> None:
        """Threshold between off-topic texts' best scores and held-out taxonomy views' scores."""
        if self._threshold_override is not None:
            self.threshold = float(self._threshold_override)
            self.report["threshold"] = self.threshold
            return
        off = self._similarity(self.embedder.encode(list(OFF_TOPIC))).max(axis=1)
        # held-out views: each view against its own reason's other views
        ins: list[float] = []
        for j in range(len(self._views)):
            i = self._owner[j]
            others = np.where((self._owner == i) & (np.arange(len(self._views)) != j))[0]
            if len(others) == 0:
                continue
            sims = self._V[others] @ self._V[j]
            cen = normalize(self._V[others].mean(axis=0, keepdims=True))[0]
            ins.append(0.5 * float(cen @ self._V[j]) + 0.5 * float(sims.max()))
        hi_off = float(np.quantile(off, 0.9))
        lo_in = float(np.quantile(ins, 0.25)) if ins else hi_off + 0.1
        thr = 0.5 * (hi_off + lo_in) if lo_in > hi_off else hi_off
        if self.mode == "few_shot":
            thr = min(thr, hi_off)  # taught reasons: trust the examples; only reject the clearly off-topic
        self.threshold = float(np.clip(thr, 0.2, 0.55))
        self.report.update(threshold=self.threshold, off_topic_q90=hi_off, held_out_q25=lo_in)

    # ------------------------------------------------------------------------------------------
    # prediction
    def _embed_proba(self, texts: list[str], extra: list[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(probabilities over reasons, best similarity) for texts, using the embedding model."""
        X = self.embedder.encode(texts)
        sim = self._similarity(X)
        top = sim.max(axis=1)
        if self.mode == "zero_shot":
            return _softmax(sim, self.temperature), top
        assert self._lr is not None
        R = len(self.reason_ids)
        p_lr = np.zeros((len(texts), R))
        p_lr[:, self._lr.classes_.astype(int)] = self._lr.predict_proba(X)
        p = p_lr  # measured on Banking77 10-shot: LR 84.6%, + prototypes 82.9%, + 0.4 x lexical 85.2%
        if self._lex_few is not None:
            p = p + 0.4 * self._lex_proba(self._lex_few, texts, R)
        p = p / p.sum(axis=1, keepdims=True)
        return p, top

    def _self_train(self, texts: list[str]) -> None:
        """Refit the few-shot models once with the confident half of ``texts`` added (transductive)."""
        if self.mode != "few_shot" or not self.self_train or len(texts) < 50 or self._train_X is None:
            return
        p, top = self._embed_proba(texts)
        conf = p.max(axis=1)
        ok = (top >= self.threshold) & (conf >= np.quantile(conf, 0.5))
        if ok.sum() < 10:
            return
        X = self.embedder.encode([t for t, k in zip(texts, ok, strict=True) if k])
        y = p.argmax(axis=1)[ok]
        Xa = np.vstack([self._train_X, X])
        ya = np.concatenate([np.array(self._train_y), y])
        wa = np.concatenate([self._train_w, np.full(len(y), 0.5)])
        ta = self._train_texts + [t for t, k in zip(texts, ok, strict=True) if k]
        self._fit_fewshot(Xa, ya, wa, ta)
        self.report["self_trained_on"] = int(ok.sum())

    def predict(self, texts: Sequence[str], *, coded: Sequence[Any] | None = None,
                ivr: Sequence[Any] | None = None,
                code_evidence: dict[str, dict[str, Counter[str]]] | None = None) -> list[Prediction]:
        """One :class:`Prediction` per text, in order.  ``coded``/``ivr``: the source's coded
        reason (wrap code) and IVR menu choice per text (``None``/empty when unknown).

        ``code_evidence`` (``{"coded"|"ivr": {code: Counter(reason_id)}}``) adds how codes went with
        confident predictions in earlier runs, so a small batch of new contacts learns the same code
        priors as the whole history did.
        """
        reason, conf, method, langs = self.label_rows(texts, coded=coded, ivr=ivr, code_evidence=code_evidence)
        return [Prediction(r, float(c), m, lang) for r, c, m, lang in zip(reason, conf.tolist(), method, langs, strict=True)]

    def label_rows(self, texts: Sequence[Any], *, coded: Sequence[Any] | None = None, ivr: Sequence[Any] | None = None,
                   code_evidence: dict[str, dict[str, Counter[str]]] | None = None, partitions: int = 1
                   ) -> tuple[list[str], np.ndarray, list[str], list[str]]:
        """:meth:`predict` as columns: (reason ids, confidences, methods, languages), one per text.

        Runs the phases of :mod:`cxchain.insight.reasons_bulk` on the texts as one partition (or as
        ``partitions`` slices reduced as Spark reduces its partitions: the result is the same), the
        same functions the Spark engine runs per partition.
        """
        from .reasons_bulk import InMemoryRows, run_phases

        if not self._fitted:
            self.fit()
        n = len(texts)
        codes: dict[str, Sequence[Any]] = {}
        for name, seq in (("coded", coded), ("ivr", ivr)):
            if seq is not None:
                if len(seq) != n:
                    raise ValueError(f"{name} has {len(seq)} values for {n} texts")
                codes[name] = seq
        rows = InMemoryRows(texts, codes, partitions=partitions)
        state = run_phases(self, rows, evidence=code_evidence)
        return rows.label(state)

    def _fit_bulk_from_sample(self, s_texts: list[str], Ps: np.ndarray, tops: np.ndarray) -> None:
        """Train the bulk lexical model on the embedding model's confident labels of the sample ``s_texts``
        (scored ``Ps``, ``tops``), the taxonomy's views, off-topic texts and any taught examples."""
        R = len(self.reason_ids)
        conf = Ps.max(axis=1)
        # classes 0..R-1 are reasons, R is "nothing fits"
        ys = np.where(tops >= self.threshold, Ps.argmax(axis=1), R)
        keep = (conf >= 0.4) | (ys == R)
        tr_texts = [t for t, k in zip(s_texts, keep, strict=True) if k] + self._views + list(OFF_TOPIC)
        tr_y = np.concatenate([ys[keep], self._owner, np.full(len(OFF_TOPIC), R)])
        tr_w = np.concatenate([np.ones(int(keep.sum())), np.full(len(self._views) + len(OFF_TOPIC), 2.0)])
        if self.mode == "few_shot" and self._train_texts:
            n_ex = len(self._train_texts) - len(self._views)
            tr_texts += self._train_texts[:n_ex]
            tr_y = np.concatenate([tr_y, np.array(self._train_y[:n_ex])])
            tr_w = np.concatenate([tr_w, np.full(n_ex, 3.0)])
        if len(set(tr_y.tolist())) < 2:
            raise ValueError("the bulk lexical model needs at least two classes in its training labels")
        self._bulk = self._fit_bulk_lexical(tr_texts, tr_y, tr_w)

    # ------------------------------------------------------------------------------------------
    # keeping the bulk model between runs
    def bulk_state(self) -> dict[str, Any] | None:
        """The fitted bulk lexical model (after a bulk :meth:`predict`), to label later batches alike."""
        if self._bulk is None:
            return None
        return {"reason_ids": list(self.reason_ids), "mode": self.mode, "model": self._bulk}

    def use_bulk_state(self, state: dict[str, Any]) -> None:
        """Label batches of more than ``reuse_min_texts`` distinct texts with a kept bulk model."""
        if state.get("reason_ids") != self.reason_ids or state.get("mode") != self.mode:
            raise ValueError("the kept bulk model belongs to another taxonomy or mode")
        self._bulk = state["model"]
        self._bulk_given = True


def fit_from_labelled(examples: Sequence[tuple[str, str]], embedder: Any = None, **kw: Any) -> ReasonClassifier:
    """A few-shot classifier whose reasons are the distinct labels of ``examples``."""
    labels = list(dict.fromkeys(lbl for _, lbl in examples))
    tax = Taxonomy.from_names([(_humanise(lbl), "") for lbl in labels], sector="adhoc")
    mapping = dict(zip(labels, tax.ids, strict=True))
    clf = ReasonClassifier(tax, embedder, **kw)
    clf.fit([(t, mapping[lbl]) for t, lbl in examples])
    clf.label_of = {rid: lbl for lbl, rid in mapping.items()}
    return clf
