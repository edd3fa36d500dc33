"""Language flagging: Welsh, Polish and others are detected; everyday English stays English."""

from __future__ import annotations

from cxchain.insight.language import detect_languages

ENGLISH = [
    "my bin was not collected on Tuesday", "I want to pay my council tax", "ok", "Can you help me please",
    "The boiler in Llandudno Road has broken", "I paid my bill on Monday but got a reminder",
    "council tax bill", "Yes I do", "a pothole on Mill Lane", "I don't understand the letter",
]


def test_english_stays_english() -> None:
    assert detect_languages(ENGLISH) == ["en"] * len(ENGLISH)


def test_welsh_flagged() -> None:
    welsh = ["Mae fy miniau heb eu casglu ers dydd Llun", "Diolch yn fawr, dwi eisiau talu treth y cyngor",
             "Bore da, mae problem gyda fy nghyfrif", "Mae’r lori heb ddod eto", "Dw i'n byw yn y tŷ ar y gornel"]
    assert detect_languages(welsh) == ["cy"] * len(welsh)


def test_polish_and_others_flagged() -> None:
    texts = ["Dzień dobry, moje śmieci nie zostały odebrane", "Nie mogę zapłacić podatku, proszę o pomoc",
             "Bună ziua, gunoiul nu a fost ridicat", "میرا کوڑا نہیں اٹھایا گیا", "لم يتم جمع القمامة",
             "Hola, quiero pagar mi factura de la basura"]
    assert detect_languages(texts) == ["pl", "pl", "ro", "ur", "ar", "es"]


def test_no_letters() -> None:
    assert detect_languages(["", "1234", "???"]) == ["und", "und", "und"]


def test_fast_pattern_counts_equal_the_plain_regular_expressions() -> None:
    """The scorer counts characteristic letters with str.count and skips ASCII texts where only non-ASCII letters
    could match; the scores must equal counting every pattern with re.findall on every text."""
    import re

    import numpy as np

    from cxchain.insight import language as lang

    texts = ["ddd lly wyn chwarae ffordd", "Rzeka szcz cz rzsz", "£50 bill paid", "Mae’r tŷ ŵyr", "ÇA ç ção não",
             "şţ ăâî ș", "Grüße aus Köln", "ığş ėįų őű ñ ¿qué?", "", "  ", "1234", "Привет мир", "ff ch ffff chch"]
    langs, got = lang.language_scores(texts)
    norm = [t.replace("’", "'") for t in texts]
    want = np.asarray(lang._VEC.transform(norm) @ lang._W, dtype=np.float32)
    for code, pats in lang._CHARS.items():
        j = langs.index(code)
        for pat, wt in pats:
            want[:, j] += np.array([wt * len(re.findall(pat, t.lower())) for t in norm], dtype=np.float32)
    assert np.array_equal(got, want)
