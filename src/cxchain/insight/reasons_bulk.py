"""Reason classification in phases, so the per-row work runs per partition (issue 7, ARCHITECTURE decisions 4 and 7).

Every row is labelled by pure functions of (the row, a small fitted :class:`ReasonState`), so Spark runs
them per partition (``mapInPandas``, :class:`cxchain.engine.insight.SparkReasonRows`) and DuckDB runs the very same
functions in process on one "partition" (:class:`InMemoryRows`).  The driver does bounded work only:

1. per row (:func:`prepare_batch`): the text without placeholders and outer spaces, its language,
   and a hash of the text;
2. driver (:func:`run_phases`): the distinct English texts are counted; up to ``embed_all_max`` of them
   are all embedded, else the ``sample_size`` with the smallest hash (a query, no collect of all texts)
   are embedded and train the bulk lexical model;
3. per row (:func:`score_batch`): probabilities over reasons, the similarity-scale ``top``, the method
   and the lexical model's margin between its two best classes;
4. driver: the ``ambiguous_max`` texts of smallest margin (ties by hash, then text: a query) are
   embedded and join the state's embedded texts (:func:`rescore`);
5. per row (:func:`code_mass_batch`): soft counts of reasons per wrap code and IVR route, in exact
   integer units so any split into partitions sums to the same; the driver adds them up and turns
   them into code priors (:func:`code_priors`);
6. per row (:func:`label_batch`): the text's probabilities times what its codes say, the final reason.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import csr_matrix, hstack

from ..data.redact import strip_placeholders
from .language import ENGLISH, UNKNOWN, detect_languages
from .taxonomy import UNCLASSIFIED

__all__ = ["ReasonState", "Scored", "InMemoryRows", "prepare_batch", "score_batch", "rescore", "code_mass_batch",
           "code_priors", "label_batch", "code_keys", "run_phases", "KINDS", "MASS_UNIT"]

#: The code columns that carry evidence about the reason, in the order their priors are tried.
KINDS = ("coded", "ivr")
#: Soft counts are summed in units of 1e-9 as integers: exact, so partitions add up in any order.
MASS_UNIT = 1e9
#: Lexical texts whose two best classes are closer than this may be re-scored by the embedding model.
AMBIGUOUS_MARGIN = 0.2

# The queries the driver runs on the prepared and the scored rows (the same text on DuckDB and Spark).
DISTINCT_SQL = "SELECT count(DISTINCT t) FROM _reason_rows WHERE lang = 'en' AND t <> ''"
BY_HASH_SQL = """SELECT t FROM (SELECT DISTINCT t, text_hash FROM _reason_rows WHERE lang = 'en' AND t <> '') s
                 ORDER BY text_hash, t"""
AMBIGUOUS_SQL = f"""SELECT t FROM (SELECT DISTINCT t, text_hash, margin FROM _reason_scored
                                  WHERE method = 'lexical' AND margin < {AMBIGUOUS_MARGIN}) s
                    ORDER BY margin, text_hash, t"""


@dataclass
class ReasonState:
    """What every partition needs to label its rows: small (a lexical model and a few thousand texts' scores)."""

    reason_ids: list[str]
    mode: str
    threshold: float
    seed: int = 0
    placeholders: bool = False
    bulk: Any = None  # (TfidfVectorizer, LogisticRegression) over reasons + "nothing fits"
    embedded: dict[str, int] = field(default_factory=dict)  # text -> row of emb_P / emb_top
    emb_P: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    emb_top: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # kind -> (sorted codes, factor per code (C x R), score per code, best prior per code)
    priors: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)

    def with_embedded(self, texts: Sequence[str], P: np.ndarray, top: np.ndarray) -> ReasonState:
        """This state with ``texts`` scored by the embedding model (they override the lexical model)."""
        R = len(self.reason_ids)
        new = [t for t in texts if t not in self.embedded]
        keep = [i for i, t in enumerate(texts) if t not in self.embedded]
        base = self.emb_P if self.emb_P.size else np.zeros((0, R))
        index = dict(self.embedded)
        for t in new:
            index[t] = len(index)
        return replace(self, embedded=index, emb_P=np.vstack([base, P[keep]]),
                       emb_top=np.concatenate([self.emb_top, top[keep]]))


def text_hash(text: str, seed: int) -> str:
    """The sampling key of a text: the first 16 hex digits of md5(seed, text)."""
    return hashlib.md5(f"{seed}\x1f{text}".encode()).hexdigest()[:16]


def prepare_batch(texts: Sequence[Any], *, seed: int, placeholders: bool) -> tuple[list[str], list[str], list[str]]:
    """Per row: (clean text, language, sampling hash).  ``placeholders`` drops ``[PHONE]``-style placeholders."""
    clean = [("" if not isinstance(t, str) else (strip_placeholders(t) if placeholders else t.strip()))
             for t in texts]
    langs = detect_languages(clean)
    # texts repeat (templates, wrap phrases): hash each distinct one once
    hash_of = {t: text_hash(t, seed) for t in dict.fromkeys(clean) if t}
    hashes = [hash_of.get(t, "") for t in clean]
    return clean, langs, hashes


@dataclass
class Scored:
    """A batch's rows scored: ``row_u`` maps each row to its distinct text (-1: no usable English text)."""

    row_u: np.ndarray
    texts: list[str]
    P: np.ndarray
    top: np.ndarray
    method: np.ndarray
    margin: np.ndarray

    @classmethod
    def from_rows(cls, clean: Sequence[str], langs: Sequence[str], P: np.ndarray, top: np.ndarray,
                  method: np.ndarray, margin: np.ndarray) -> Scored:
        """Back from :meth:`rows` (a partition of a scored table): each distinct text's values from its first row."""
        row_u, texts = _distinct(clean, langs)
        first = np.full(len(texts), -1, dtype=np.int64)
        ok = np.flatnonzero(row_u >= 0)
        first[row_u[ok][::-1]] = ok[::-1]  # the last write wins: the first row of each text
        return cls(row_u, texts, P[first].reshape(len(texts), P.shape[1]), top[first], np.asarray(method, dtype=object)[first],
                   margin[first])

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per row (P, top, method, margin); rows without a usable text get zeros and method ''."""
        ok = self.row_u >= 0
        R = self.P.shape[1]
        P = np.zeros((len(self.row_u), R))
        top, margin = np.zeros(len(self.row_u)), np.full(len(self.row_u), np.inf)
        method = np.full(len(self.row_u), "", dtype=object)
        P[ok], top[ok], method[ok], margin[ok] = (self.P[self.row_u[ok]], self.top[self.row_u[ok]],
                                                  self.method[self.row_u[ok]], self.margin[self.row_u[ok]])
        return P, top, method, margin


def _distinct(clean: Sequence[str], langs: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    uniq: dict[str, int] = {}
    row_u = np.full(len(clean), -1, dtype=np.int64)
    for i, (t, lang) in enumerate(zip(clean, langs, strict=True)):
        if t and lang == ENGLISH:
            row_u[i] = uniq.setdefault(t, len(uniq))
    return row_u, list(uniq)


def bulk_proba(model: Any, texts: list[str], n_classes: int) -> np.ndarray:
    """The bulk lexical model's probabilities over ``n_classes`` (reasons + "nothing fits").

    ``model`` is (vectoriser, regression); a tuple of vectorisers has their features side by side.
    """
    vec, lr = model
    out = np.zeros((len(texts), n_classes), dtype=np.float64)
    step = 50_000  # bounded memory for the sparse matrix at a million texts
    for lo in range(0, len(texts), step):
        part = texts[lo:lo + step]
        X = hstack([v.transform(part) for v in vec]).tocsr() if isinstance(vec, tuple) else vec.transform(part)
        out[lo:lo + step, lr.classes_.astype(int)] = lr.predict_proba(X)
    return out


def score_batch(clean: Sequence[str], langs: Sequence[str], state: ReasonState) -> Scored:
    """Phase 3: each distinct English text's probabilities, from the embedded texts or the lexical model."""
    R = len(state.reason_ids)
    row_u, texts = _distinct(clean, langs)
    U = len(texts)
    P, top = np.zeros((U, R)), np.zeros(U)
    method = np.full(U, state.mode, dtype=object)
    margin = np.full(U, np.inf)
    at = np.fromiter((state.embedded.get(t, -1) for t in texts), dtype=np.int64, count=U)
    hit = at >= 0
    if hit.any():
        P[hit], top[hit] = state.emb_P[at[hit]], state.emb_top[at[hit]]
    lex = np.flatnonzero(~hit)
    if len(lex):
        if state.bulk is None:
            raise ValueError("texts outside the embedded set need the bulk lexical model")
        Pl = bulk_proba(state.bulk, [texts[j] for j in lex], R + 1)
        Pr = Pl[:, :R]
        # pseudo-similarity on the threshold scale: above it when a reason beats "nothing fits"
        top[lex] = np.where(Pr.max(axis=1) > Pl[:, R], state.threshold + 0.01, state.threshold - 0.01)
        P[lex] = Pr / np.maximum(Pr.sum(axis=1, keepdims=True), 1e-12)
        srt = np.sort(Pl, axis=1)
        margin[lex] = srt[:, -1] - srt[:, -2]
        method[lex] = "lexical"
    return Scored(row_u, texts, P, top, method, margin)


def rescore(scored: Scored, state: ReasonState) -> Scored:
    """Phase 4's result applied to a batch: lexical texts the driver has since embedded take those scores."""
    at = np.fromiter((state.embedded.get(t, -1) for t in scored.texts), dtype=np.int64, count=len(scored.texts))
    swap = (at >= 0) & (scored.method == "lexical")
    if not swap.any():
        return scored
    P, top, method, margin = scored.P.copy(), scored.top.copy(), scored.method.copy(), scored.margin.copy()
    P[swap], top[swap] = state.emb_P[at[swap]], state.emb_top[at[swap]]
    method[swap], margin[swap] = state.mode, np.inf
    return Scored(scored.row_u, scored.texts, P, top, method, margin)


def _key(c: Any) -> str:
    if isinstance(c, str):
        return c.strip()
    if c is None or (isinstance(c, float) and c != c) or type(c).__name__ == "NAType":
        return ""
    s = str(c).strip()
    return "" if s == "nan" else s


def code_keys(codes: Iterable[Any]) -> np.ndarray:
    """A code as the priors key it: trimmed text, ``''`` when missing."""
    return np.array([_key(c) for c in codes], dtype=object)


def code_mass_batch(scored: Scored, keys: dict[str, np.ndarray], threshold: float) -> dict[str, dict[str, np.ndarray]]:
    """Phase 5: per kind and code, the summed text probabilities (integer units of 1/:data:`MASS_UNIT`)
    of the rows whose text is confidently on a reason.  Sums of these are exact in any order."""
    ok_u = scored.top >= threshold
    usable = scored.row_u >= 0
    ok_row = np.zeros(len(scored.row_u), dtype=bool)
    ok_row[usable] = ok_u[scored.row_u[usable]]
    Q = np.rint(scored.P * MASS_UNIT).astype(np.int64)
    out: dict[str, dict[str, np.ndarray]] = {}
    for kind, k in keys.items():
        sel = ok_row & (k != "")
        if not sel.any():
            out[kind] = {}
            continue
        codes, code_at = np.unique(k[sel].astype(str), return_inverse=True)
        # rows per (code, distinct text), then one sparse product: no per-row Python
        M = csr_matrix((np.ones(int(sel.sum()), dtype=np.int64), (code_at, scored.row_u[sel])),
                       shape=(len(codes), len(scored.texts)))
        mass = np.asarray(M @ Q, dtype=np.int64)
        out[kind] = {str(c): mass[i] for i, c in enumerate(codes)}
    return out


def add_mass(total: dict[str, dict[str, np.ndarray]], part: dict[str, dict[str, np.ndarray]]) -> None:
    """Add one batch's :func:`code_mass_batch` into ``total`` (the reduce)."""
    for kind, by_code in part.items():
        into = total.setdefault(kind, {})
        for code, m in by_code.items():
            into[code] = into[code] + m if code in into else m.copy()


def code_priors(state: ReasonState, names: dict[str, str], mass: dict[str, dict[str, np.ndarray]],
                evidence: dict[str, dict[str, Counter[str]]] | None, codes_seen: dict[str, set[str]],
                report: dict[str, Any]) -> ReasonState:
    """What each code says about the reason, from the summed soft counts plus ``evidence`` of earlier runs.

    A code equal to a reason's id or name (``names``: lower-cased name -> id) is direct.  Any other code's
    prior is learned from the text probabilities of the rows that carry it (soft counts: a hesitant
    "Pay council tax" text still counts towards paying, where counting only confident predictions would
    credit the reasons whose texts happen to be easy) plus ``evidence``; ``P(reason)`` is the same over
    every coded row, so a prior can enter as a likelihood ratio.  ``codes_seen``: the codes of the rows
    being labelled, per kind.
    """
    R = len(state.reason_ids)
    index = {rid: i for i, rid in enumerate(state.reason_ids)}
    priors = dict(state.priors)
    for kind in codes_seen:
        counts: dict[str, np.ndarray] = {c: m / MASS_UNIT for c, m in mass.get(kind, {}).items()}
        for code, by_reason in ((evidence or {}).get(kind) or {}).items():
            for rid, m in by_reason.items():
                if rid in index:
                    counts.setdefault(code, np.zeros(R))[index[rid]] += m
        base = sum(counts.values(), np.zeros(R)) + 1.0
        base = base / base.sum()
        rows: list[tuple[str, np.ndarray, np.ndarray, bool]] = []
        for code in sorted(codes_seen[kind] - {""}):
            direct = index.get(code, index.get(names.get(code.lower(), ""), None))
            if direct is not None:
                pr = np.full(R, 0.1 / R)
                pr[direct] += 0.9
                rows.append((code, pr, pr, True))
            elif code in counts and counts[code].sum() >= 5:
                pr = counts[code] + 1.0 / R  # add-one-reason smoothing
                pr = pr / pr.sum()
                rows.append((code, pr, pr / base, False))
        report[f"{kind}_codes_mapped"] = len(rows)
        if rows:
            # A direct code multiplies by its prior (it names the reason) and always wins; a learned
            # one by its likelihood ratio, scored by how strongly it singles out a reason.
            priors[kind] = (np.array([r[0] for r in rows], dtype=str), np.stack([r[2] for r in rows]),
                            np.array([np.inf if r[3] else float(r[2].max()) for r in rows]),
                            np.stack([r[1] for r in rows]))
    return replace(state, priors=priors)


def _code_rows(keys: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Per row, the index of its code in the sorted ``codes`` (-1 when it has no prior)."""
    k = keys.astype(str)
    pos = np.searchsorted(codes, k)
    pos = np.minimum(pos, len(codes) - 1)
    return np.where(codes[pos] == k, pos, -1)


def label_batch(scored: Scored, langs: Sequence[str], keys: dict[str, np.ndarray], state: ReasonState
                ) -> tuple[list[str], np.ndarray, list[str]]:
    """Phase 6: per row (reason id, confidence, method), the text's reason combined with its codes.

    With a usable text, the posterior multiplies the text's probabilities by the likelihood ratio
    P(reason | code) / P(reason) of one code, not by the prior itself: a broad code such as ``CTAX``
    is mostly the commonest council-tax reason only because that reason is common, and must not
    out-vote a text that says "pay".  A direct code multiplies by its prior.  A wrap code often
    restates the IVR route, so the two are not independent evidence: only the code that singles out
    a reason most strongly is used; on the 20,000-contact council demo, multiplying both agreed less
    with the generator's reasons (0.710 against 0.715, one-to-one).  Without a usable text, the most
    decisive prior (at least 0.6) labels the row, method ``coded`` or ``ivr``.
    """
    n = len(scored.row_u)
    R = len(state.reason_ids)
    names = np.array([*state.reason_ids, UNCLASSIFIED], dtype=object)
    langs_a = np.asarray(langs, dtype=object)
    usable = scored.row_u >= 0
    ok_u = scored.top >= state.threshold
    P_u = scored.P
    best_u = P_u.argmax(axis=1) if len(P_u) else np.zeros(0, dtype=np.int64)
    pmax_u = P_u.max(axis=1) if len(P_u) else np.zeros(0)
    reason = np.full(n, R, dtype=np.int64)
    conf = np.zeros(n)
    method = np.where(langs_a == ENGLISH, "empty", "non_english").astype(object)
    method[langs_a == UNKNOWN] = "empty"
    u = scored.row_u[usable]
    reason[usable] = np.where(ok_u[u], best_u[u], R)
    conf[usable] = np.where(ok_u[u], pmax_u[u], 1 - pmax_u[u])
    method[usable] = scored.method[u]
    text_ok = np.zeros(n, dtype=bool)
    text_ok[usable] = ok_u[u]
    # Which code of each row counts: per kind its prior row, then the kind that scores highest.
    kinds = [k for k in KINDS if k in state.priors and k in keys]
    if kinds:
        at = np.stack([_code_rows(keys[k], state.priors[k][0]) for k in kinds])  # (kinds, n)
        has = at >= 0
        score = np.full(at.shape, -np.inf)
        decisive = np.full(at.shape, -np.inf)
        for j, k in enumerate(kinds):
            _, _, sc, best = state.priors[k]
            score[j, has[j]] = sc[at[j, has[j]]]
            decisive[j, has[j]] = best[at[j, has[j]]].max(axis=1)
        any_code = has.any(axis=0) & (method != "non_english")
        # with a confident text: the posterior
        rows = np.flatnonzero(any_code & text_ok)
        if len(rows):
            pick = score[:, rows].argmax(axis=0)
            factor = np.zeros((len(rows), R))
            for j, k in enumerate(kinds):
                mine = pick == j
                factor[mine] = state.priors[k][1][at[j, rows[mine]]]
            post = P_u[scored.row_u[rows]] * factor
            post = post / post.sum(axis=1, keepdims=True)
            reason[rows] = post.argmax(axis=1)
            conf[rows] = post.max(axis=1)
        # without one: the most decisive prior, when it is decisive enough
        rows = np.flatnonzero(any_code & ~text_ok)
        if len(rows):
            pick = decisive[:, rows].argmax(axis=0)
            for j, k in enumerate(kinds):
                mine = rows[pick == j]
                pr = state.priors[k][3][at[j, mine]]
                strong = pr.max(axis=1) >= 0.6
                mine, pr = mine[strong], pr[strong]
                reason[mine] = pr.argmax(axis=1)
                conf[mine] = pr.max(axis=1) * 0.8
                method[mine] = k
    return list(names[reason]), np.round(conf, 4), list(method)


# ------------------------------------------------------------------------------------------------
# the driver


#: Most rows scored and labelled in one slice in process (about 140 MB per (rows x reasons) float array
#: of a 43-reason taxonomy); larger slices share more repeated texts.
ROWS_PER_SLICE = 400_000


class InMemoryRows:
    """The rows to label held in this process, for DuckDB and the library API: one partition, or
    ``partitions`` consecutive slices labelled apart and reduced as Spark does (for tests).

    The driver's queries run on DuckDB over the prepared and scored rows, the same query text Spark
    runs (:class:`cxchain.engine.insight.SparkReasonRows`).
    """

    def __init__(self, texts: Sequence[Any], codes: dict[str, Sequence[Any]], *, partitions: int = 1):
        self.texts = texts
        self.codes = codes
        self.con = duckdb.connect()
        # Slices of at most ROWS_PER_SLICE rows bound the (rows x reasons) arrays labelling builds; results
        # are per row and code masses exact integers, so slicing never changes them.
        parts = max(1, partitions, -(-len(texts) // ROWS_PER_SLICE))
        self.slices = [sl for sl in np.array_split(np.arange(len(texts)), parts) if len(sl)] or [np.arange(0)]
        self.clean: list[list[str]] = []
        self.langs: list[list[str]] = []
        self.keys: list[dict[str, np.ndarray]] = []
        self.scored: list[Scored] = []
        self.hash_of: dict[str, str] = {}  # each text's sampling hash, from prepare

    def prepare(self, state: ReasonState) -> None:
        # One call over every row (each distinct text's language is detected once), then sliced.
        clean, langs, hashes = prepare_batch(list(self.texts), seed=state.seed, placeholders=state.placeholders)
        for sl in self.slices:
            self.clean.append([clean[i] for i in sl])
            self.langs.append([langs[i] for i in sl])
            self.keys.append({k: code_keys([v[i] for i in sl]) for k, v in self.codes.items()})
        self.hash_of = dict(zip(clean, hashes, strict=True))
        self.con.register("_reason_rows", pa.table({"t": clean, "lang": langs, "text_hash": hashes}))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        return self.con.execute(sql).fetchall()

    def score(self, state: ReasonState) -> None:
        self.scored = [score_batch(c, lg, state) for c, lg in zip(self.clean, self.langs, strict=True)]
        texts = [t for s in self.scored for t in s.texts]
        self.con.register("_reason_scored", pa.table({
            "t": texts, "text_hash": [self.hash_of[t] for t in texts],
            "method": pa.array([m for s in self.scored for m in s.method.tolist()], pa.string()),
            "margin": np.concatenate([s.margin for s in self.scored])}))

    def code_mass(self, state: ReasonState) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, set[str]]]:
        self.scored = [rescore(s, state) for s in self.scored]
        total: dict[str, dict[str, np.ndarray]] = {}
        seen: dict[str, set[str]] = {k: set() for k in self.codes}
        for s, keys in zip(self.scored, self.keys, strict=True):
            add_mass(total, code_mass_batch(s, keys, state.threshold))
            for k, v in keys.items():
                seen[k] |= set(v.tolist())
        return total, seen

    def label(self, state: ReasonState) -> tuple[list[str], np.ndarray, list[str], list[str]]:
        reason: list[str] = []
        conf: list[np.ndarray] = []
        method: list[str] = []
        for s, langs, keys in zip(self.scored, self.langs, self.keys, strict=True):
            r, c, m = label_batch(rescore(s, state), langs, keys, state)
            reason += r
            conf.append(c)
            method += m
        self.con.close()
        return reason, np.concatenate(conf), method, [x for lg in self.langs for x in lg]


def run_phases(clf: Any, rows: Any, *, evidence: dict[str, dict[str, Counter[str]]] | None = None) -> ReasonState:
    """Phases 2, 4 and the code-prior reduce of classifier ``clf`` over ``rows`` (an :class:`InMemoryRows`
    or the Spark engine's equivalent), leaving the rows scored; returns the state :func:`label_batch` needs."""
    state = ReasonState(list(clf.reason_ids), clf.mode, clf.threshold, seed=clf.seed, placeholders=clf.placeholders)
    rows.prepare(state)
    n = int(rows.query(DISTINCT_SQL)[0][0])
    amb_max = clf.ambiguous_max
    sample: list[str] = []
    if n and clf._bulk_given and n > clf.reuse_min_texts:
        state.bulk = clf._bulk  # the kept model of the last full run
        amb_max = min(clf.ambiguous_max, max(clf.reuse_min_texts, n // 10))
    elif n and n <= clf.embed_all_max:
        texts = [str(r[0]) for r in rows.query(BY_HASH_SQL)]
        clf._self_train(texts)
        P, top = clf._embed_proba(texts)
        state = state.with_embedded(texts, P, top)
    elif n:
        sample = [str(r[0]) for r in rows.query(f"{BY_HASH_SQL} LIMIT {int(clf.sample_size)}")]
        clf._self_train(sample)
        Ps, tops = clf._embed_proba(sample)
        clf._fit_bulk_from_sample(sample, Ps, tops)
        state.bulk = clf._bulk
        state = state.with_embedded(sample, Ps, tops)
    rows.score(state)
    amb: list[str] = []
    if state.bulk is not None and amb_max > 0:
        amb = [str(r[0]) for r in rows.query(f"{AMBIGUOUS_SQL} LIMIT {int(amb_max)}")]
        if amb:
            Pa, topa = clf._embed_proba(amb)
            state = state.with_embedded(amb, Pa, topa)
    if state.bulk is not None:
        clf.report.update(bulk_sample=len(sample), bulk_ambiguous_embedded=len(amb))
    mass, seen = rows.code_mass(state)
    if seen:
        names = {clf.taxonomy.get(rid).name.strip().lower(): rid for rid in clf.reason_ids}
        state = code_priors(state, names, mass, evidence, seen, clf.report)
    return state
