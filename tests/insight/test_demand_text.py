"""The sentence-level failure-demand model: failure read from one sentence among several."""

from __future__ import annotations

from cxchain.insight.demand_text import THRESHOLD, failure_probability, sentences

FAILURE = [
    "Hello. My boiler stopped working on Monday. I rang twice and nobody has called me back.",
    "The engineer came yesterday but the leak is still there, it was not fixed properly.",
    "I have been waiting three weeks for an update and still heard nothing.",
    "Morning. I got your letter about my rent and I honestly don't understand what it is asking me to do.",
]
VALUE = [
    "Hi, I would like to pay my rent by card please.",
    "Can you tell me how to apply for a parking permit?",
    "I am moving house next month and need to update my address.",
    "Please could I book a bulky waste collection for a sofa.",
]


def test_sentences_drop_placeholders_and_quoted_replies():
    text = "Hi [NAME]. My bin was missed again!\n> On 3/2 you wrote: we will collect it\nThanks [NAME]"
    got = sentences(text)
    assert got == ["My bin was missed again!"] or got[0] == "My bin was missed again!"
    assert all("[NAME]" not in s and "you wrote" not in s for s in got)


def test_failure_sentences_score_above_value_sentences(embedder):
    # a realistic mix so the distilled model has both kinds to learn from
    texts = (FAILURE + VALUE) * 30
    probs = failure_probability(texts, embedder, sample=len(texts))
    fail = [p for (p, _), t in zip(probs, texts, strict=True) if t in FAILURE]
    value = [p for (p, _), t in zip(probs, texts, strict=True) if t in VALUE]
    # eight distinct texts are a thin training set for the distilled model: it must still separate them
    assert sum(fail) / len(fail) - sum(value) / len(value) > 0.3
    assert all(p < THRESHOLD for p in value)
    assert sum(p >= THRESHOLD for p in fail) >= 0.5 * len(fail)
    kinds = {k for (p, k), t in zip(probs, texts, strict=True) if t in FAILURE}
    assert kinds <= {"chasing_progress", "not_done_right", "did_not_understand", "complaint", "repeat_unresolved"}


def test_no_text_means_no_failure(embedder):
    assert failure_probability([None, "", "ok"], embedder) == [(0.0, None)] * 3
