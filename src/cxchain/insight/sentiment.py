"""Offline sentiment for customer text: a small linear model over words and word pairs.

API
---
* :func:`score_sentiment` ``(texts) -> [(score, label), ...]``: score in -1..1, label
  ``negative`` / ``neutral`` / ``positive`` by the declared thresholds :data:`NEGATIVE_THRESHOLD`
  and :data:`POSITIVE_THRESHOLD` (score <= -0.2 negative, >= +0.2 positive, else neutral).  None
  or blank texts give ``(0.0, 'neutral')``.  For a binary (recommend yes/no) reading use the sign.
* :class:`SentimentModel`: load once (:meth:`SentimentModel.load`), then ``.score(texts)``;
  ``.explain(text)`` lists the features that drove a score.
* :func:`effort_cues` ``(texts) -> [int, ...]``: how many customer-effort phrases (repeat calls,
  on hold, still waiting, chasing, "again", no call back, transfers...) each text contains.

Model
-----
Multinomial logistic regression (negative / neutral / positive) over lower-cased words and
adjacent word pairs, with negation marking (``not_`` prefix for up to 3 words after a negator),
a ``>`` copy of words after a contrast word ("but", "however"), and no single-word features for
function words.  The score is ``P(positive) - P(negative)``.  The weights ship as
``sentiment_data/weights.json`` (about 0.5 MB, about 12k features); scoring is pure Python, about
50,000 short texts per second on one core (about 6,000/s for 700-character reviews), so a million
contacts take well under a minute.  Nothing is fetched at run time; no torch import.

Training data and provenance
----------------------------
Rebuild with ``python benchmarks/sentiment_train.py`` (deterministic: same seed, same file).  The
model is trained only on text written for cxchain by its developers, kept in that script: a domain
lexicon of customer-service adjectives and predicates, templates combining ~90 subjects (engineer,
agent, app, flight, bill, council...) with predicates of known polarity, contrast templates
("good but a bit pricey" neutral, "friendly crew but the flight was cancelled" negative),
effort phrases, negated negatives ("no complaints"), neutral requests ("I want to pay my council
tax") and multi-sentence reviews.  Labels follow from how each text was built.  No third-party
text ships and none was used as training data.

Also evaluated and rejected (see the script's ``--teacher minilm``): distilling zero-shot
all-MiniLM-L6-v2 labels (prototype sentences written for cxchain) on Banking77 (CC BY 4.0) and
CFPB narrative sentences (public records).  The teacher alone scored macro-F1 0.69 on the
hand-written DEV set against 0.92 for the template model, and adding its labels did not improve
the development checks.

Quality (``benchmarks/sentiment_eval.py``; the two proxies below were never trained on and were
only used for final evaluation) -- macro-F1, majority class / VADER 3.3.2 / this model:

* telco NPS verbatims (Detractor/Passive/Promoter as 3 classes, n=2,353): 0.234 / 0.532 / 0.635
* BA Skytrax reviews (recommended no/yes, sign of the score, n=400): 0.407 / 0.766 / 0.871

Caveats: the margin over VADER is about 10 points, not more; the neutral class (NPS passives) is
the weakest; the model knows English customer-service language only and has no notion of sarcasm.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

__all__ = [
    "EFFORT_PATTERNS",
    "NEGATIVE_THRESHOLD",
    "POSITIVE_THRESHOLD",
    "SentimentModel",
    "effort_cues",
    "features",
    "score_sentiment",
]

#: A score at or below this is labelled ``negative``.
NEGATIVE_THRESHOLD: float = -0.2
#: A score at or above this is labelled ``positive``; scores strictly between the two are ``neutral``.
POSITIVE_THRESHOLD: float = 0.2

_DATA = Path(__file__).parent / "sentiment_data"
WEIGHTS_FILE: Path = _DATA / "weights.json"

# --------------------------------------------------------------------------------------------
# Features (shared with benchmarks/sentiment_train.py, so training and scoring cannot drift)
# --------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?.,;:]")
_APOS = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NT = re.compile(r"n't\b")
_CLAUSE_END = frozenset(".,;:!?")
_NEGATORS = frozenset(
    "not no never nothing nobody none neither nor cannot cant wont dont didnt doesnt isnt wasnt "
    "arent werent havent hasnt hadnt couldnt shouldnt wouldnt without hardly barely".split()
)
_CONTRAST = frozenset({"but", "however", "although", "though", "yet"})
#: Function words emit no feature of their own (they still form word pairs), so the model cannot
#: lean on them.
_STOP = frozenset(
    "a an the and or of for to in on at by with from as is are was were be been being it its this that "
    "these those i me my we our us you your they them their he she him her his i'm i've it's there "
    "have has had do does did will would shall should can could may might am so just also about "
    "which who what when where how then than up out into over after before all some any".split()
)
#: Tokens are lower-cased words; after a negator the next few words (up to a clause end or a
#: contrast word) are prefixed ``not_`` so "not helpful" and "helpful" are different features.
NEGATION_SCOPE: int = 3


def _tokens(text: str) -> list[str]:
    t = _NT.sub(" not", text.lower().translate(_APOS))
    return _TOKEN.findall(t)


def features(text: str) -> list[str]:
    """The model's feature strings for ``text``: negation-marked words and adjacent word pairs.

    Punctuation ends a negation scope and a pair ("!" and "?" are features themselves); words after
    a contrast word ("but", "however") also emit a ``>word`` copy, so what follows "but" can count
    for more than what precedes it.  Function words emit pairs only.
    """
    out: list[str] = []
    prev: str | None = None
    neg_left = 0
    after_contrast = False
    for tok in _tokens(text):
        if tok in _CLAUSE_END:
            neg_left = 0
            prev = None
            if tok in ".!?;":
                after_contrast = False
            if tok in "!?":
                out.append(tok)
            continue
        if tok in _CONTRAST:
            neg_left = 0
            after_contrast = True
            out.append(tok)
            prev = tok
            continue
        if tok in _NEGATORS:
            out.append("not")
            if prev is not None:
                out.append(prev + " not")
            prev = "not"
            neg_left = NEGATION_SCOPE
            continue
        word = "not_" + tok if neg_left > 0 else tok
        if neg_left > 0:
            neg_left -= 1
        if tok not in _STOP:
            out.append(word)
            if after_contrast:
                out.append(">" + word)
        if prev is not None:
            out.append(prev + " " + tok)
        prev = tok
    return out


# --------------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------------

_LABELS = ("negative", "neutral", "positive")


def _label(score: float) -> str:
    if score <= NEGATIVE_THRESHOLD:
        return "negative"
    if score >= POSITIVE_THRESHOLD:
        return "positive"
    return "neutral"


class SentimentModel:
    """The shipped sentiment model, loaded once; call :meth:`score` on batches of texts.

    ``weights`` maps a feature string to its three class weights (negative, neutral, positive);
    ``bias`` holds the three intercepts.  A text's class scores are ``bias + sum(weights) /
    sqrt(number of features)`` (the L2 normalisation used in training), turned into probabilities
    with a softmax; the sentiment score is ``P(positive) - P(negative)`` in -1..1.
    """

    def __init__(self, weights: dict[str, tuple[float, float, float]], bias: Sequence[float],
                 *, version: str = "") -> None:
        self.weights = weights
        self.bias = (float(bias[0]), float(bias[1]), float(bias[2]))
        self.version = version

    @classmethod
    def load(cls, path: Path | str | None = None) -> SentimentModel:
        """Load the weights file shipped with the package (or ``path``)."""
        p = Path(path) if path is not None else WEIGHTS_FILE
        raw = json.loads(p.read_text(encoding="utf-8"))
        w = {k: (float(v[0]), float(v[1]), float(v[2])) for k, v in raw["weights"].items()}
        return cls(w, raw["bias"], version=str(raw.get("version", "")))

    def score_one(self, text: str | None) -> tuple[float, str]:
        """(score in -1..1, label) for one text; None or blank gives (0.0, 'neutral')."""
        if not text or not text.strip():
            return 0.0, "neutral"
        feats = features(text)
        if not feats:
            return 0.0, "neutral"
        w = self.weights
        a = b = c = 0.0
        for f in feats:
            v = w.get(f)
            if v is not None:
                a += v[0]
                b += v[1]
                c += v[2]
        norm = 1.0 / math.sqrt(len(feats))
        zn = self.bias[0] + a * norm
        zu = self.bias[1] + b * norm
        zp = self.bias[2] + c * norm
        m = max(zn, zu, zp)
        en, eu, ep = math.exp(zn - m), math.exp(zu - m), math.exp(zp - m)
        s = (ep - en) / (en + eu + ep)
        s = round(max(-1.0, min(1.0, s)), 4)
        return s, _label(s)

    def score(self, texts: Iterable[str | None]) -> list[tuple[float, str]]:
        """(score, label) for each text, in order."""
        return [self.score_one(t) for t in texts]

    def explain(self, text: str, top: int = 8) -> list[tuple[str, float]]:
        """The features of ``text`` that pushed its score most, as (feature, positive − negative weight)."""
        contrib: dict[str, float] = {}
        for f in features(text):
            v = self.weights.get(f)
            if v is not None:
                contrib[f] = contrib.get(f, 0.0) + v[2] - v[0]
        return sorted(contrib.items(), key=lambda kv: -abs(kv[1]))[:top]


@lru_cache(maxsize=1)
def _default_model() -> SentimentModel:
    return SentimentModel.load()


@lru_cache(maxsize=1)
def model_digest() -> str:
    """A short digest of the shipped weights: stored with each score, so new weights rescore every text."""
    import hashlib

    return hashlib.sha256(WEIGHTS_FILE.read_bytes()).hexdigest()[:16]


def text_key(text: str) -> str:
    """The key a score is kept under: md5 of the text and :func:`model_digest` (as DuckDB's ``md5``)."""
    import hashlib

    return hashlib.md5((text + "\x1f" + model_digest()).encode()).hexdigest()


def score_sentiment(texts: Sequence[str | None]) -> list[tuple[float, str]]:
    """Score customer texts with the shipped model: a (score in -1..1, label) pair per text.

    The label is ``negative`` when the score is at most :data:`NEGATIVE_THRESHOLD`, ``positive``
    when it is at least :data:`POSITIVE_THRESHOLD`, ``neutral`` otherwise.  None or blank texts
    give ``(0.0, 'neutral')``.  The model loads once per process.
    """
    return _default_model().score(texts)


# --------------------------------------------------------------------------------------------
# Effort cues
# --------------------------------------------------------------------------------------------

_NUM = r"(?:two|three|four|five|six|seven|eight|nine|ten|several|many|multiple|numerous|countless|\d+)"
#: Phrases that signal customer effort (repeat contact, waiting, chasing, being passed around).
#: ``effort_cues`` counts the matches of all patterns in a text, overlapping matches once
#: ("chased them three times" is one cue, not three).
EFFORT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(rx, re.IGNORECASE))
    for name, rx in (
        ("repeat_contact", rf"\b(?:called|rang|phoned|contacted|emailed|e-mailed|chased|wrote|messaged|"
                           rf"tried)\b(?:\s+\w+){{0,3}}?\s+(?:{_NUM}\s+times|twice)\b"),
        ("n_times", rf"\b{_NUM}\s+(?:calls|phone calls|emails|e-mails|times|attempts|visits)\b"),
        ("on_hold", r"\bon hold\b|\bhold (?:music|time)\b|\bkept (?:me )?holding\b"),
        ("still_waiting", r"\bstill\s+(?:waiting|not|no|haven'?t|hasn'?t|have not|has not|can'?t|cannot|"
                          r"unresolved|outstanding|chasing|awaiting)\b"),
        ("waited", r"\b(?:waited|waiting)\s+(?:for\s+)?(?:over\s+|more than\s+|nearly\s+|almost\s+)?"
                   rf"(?:an?|{_NUM})\s+(?:minutes?|hours?|days?|weeks?|months?)\b"),
        ("chasing", r"\b(?:chased|chasing|chase up|had to chase|keep chasing)\b"),
        ("again", r"\b(?:again and again|yet again|once again|all over again|again)\b"),
        ("no_call_back", r"\b(?:no(?:\s*one|body)|never)\s+(?:\w+\s+)?(?:called|rang|phoned|got)\s+(?:me\s+)?back\b|"
                         r"\bnever (?:heard|got a reply|received a reply|responded|replied)\b|"
                         r"\b(?:no|never got a) (?:call ?back|reply|response)\b"),
        ("transferred", r"\b(?:transferred|passed|pushed|bounced|shunted)\s+(?:\w+\s+){0,2}?(?:around|between|"
                        r"from|to another|to a different|back and forth)\b|\btransferred\b"),
        ("repeat_explain", r"\b(?:explain(?:ed)?|repeat(?:ed)?|tell|told)\b(?:\s+\w+){0,3}\s+"
                           r"(?:again|over and over|each time|every time|to each)\b"),
        ("escalate", r"\b(?:escalat\w+|complain(?:ed)? (?:again|twice)|formal complaint)\b"),
        ("chasing_days", r"\b(?:still|been)\s+(?:\w+\s+)?(?:weeks?|months?)\b(?:\s+\w+){0,2}\s+(?:later|now)\b"),
    )
)


def effort_cues(texts: Sequence[str | None]) -> list[int]:
    """Number of effort phrases (see :data:`EFFORT_PATTERNS`) in each text; None or blank gives 0."""
    out: list[int] = []
    for t in texts:
        if not t:
            out.append(0)
            continue
        spans = sorted((m.start(), m.end()) for _, p in EFFORT_PATTERNS for m in p.finditer(t))
        n, end = 0, -1
        for a, b in spans:
            if a >= end:
                n += 1
                end = b
            else:
                end = max(end, b)
        out.append(n)
    return out
