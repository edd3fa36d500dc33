"""Personal data redaction for free text, on by default before anything is stored.

Typed placeholders replace what is found, so analysts still see *that* a customer gave a phone
number or a card number, but never the value::

    >>> redact_texts(["Call me on 07700 900123 or email jo.bloggs@example.com"])
    ['Call me on [PHONE] or email [EMAIL]']

Kinds (the placeholder is ``[KIND]``):

=============  ===========================================================================
``EMAIL``      addresses ``local@domain.tld``
``PHONE``      UK national (``0161 496 0123``, ``(01632) 960123``, ``07700900123``), UK and
               international with ``+``/``00`` (``+44 (0)7700 900123``, ``0044 ...``,
               ``+1 415-555-0100``) and North-American ``(415) 555-0100`` / ``415-555-0100``
``POSTCODE``   UK postcodes, any case, with or without the space (outward code must start
               with a real postcode area, inward letters exclude C I K M O V)
``CARD``       13-19 digits, spaced/dashed in the usual groups, Luhn-valid, issuer digit 2-6
``SORT_CODE``  ``12-34-56`` anywhere (unless it is a date after a date word); ``12 34 56`` or
               ``123456`` after "sort code"
``ACCOUNT_NO`` 8 digits (or ``1234 5678``) within 40 characters after account/acc/a/c/sort code,
               unless a reference word (ref, case, order, job...) comes in between
``IBAN``       mod-97 checksum valid, length checked for the country where known
``NI_NUMBER``  ``AB123456C`` / ``AB 12 34 56 C`` with the HMRC prefix rules
``NAME``       heuristic: cue phrases, titles, a gazetteer of UK names (``redact_data/``)
``ADDRESS``    heuristic: [Flat n,] house number + capitalised street name + street suffix
               [, town]
=============  ===========================================================================

Not redacted on purpose: reference numbers (``CT-123456``, ``job no 4471234``), money
(``£1,234.56``), dates, times, percentages and counts.

Speed: patterns are compiled once per :class:`Redactor`; a text is only scanned for the
digit-bearing kinds when it holds a digit, for e-mails when it holds ``@``, and the validators
(Luhn, mod-97) run only on candidates.  Every pattern is linear in the text length (bounded or
possessive quantifiers, word-start anchors), so multi-megabyte texts cannot hang.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Final, NamedTuple

__all__ = ["KINDS", "Redactor", "Span", "redact_texts", "luhn_ok", "iban_ok", "strip_placeholders"]

#: Every kind this module can emit, in the order of the module docs.
KINDS: Final = ("EMAIL", "PHONE", "POSTCODE", "CARD", "SORT_CODE", "ACCOUNT_NO", "IBAN", "NI_NUMBER",
                "NAME", "ADDRESS")

_DATA = Path(__file__).parent / "redact_data"


class Span(NamedTuple):
    """One piece of personal data: ``text[start:end]`` is of ``kind`` (one of :data:`KINDS`)."""

    start: int
    end: int
    kind: str


# --------------------------------------------------------------------------------------------
# validators
# --------------------------------------------------------------------------------------------

def luhn_ok(digits: str) -> bool:
    """True when the digit string passes the Luhn check (payment cards)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


#: IBAN length per country (ISO 13616 registry, the common ones).
_IBAN_LEN: Final[dict[str, int]] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LI": 21,
    "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30,
    "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}


def iban_ok(compact: str) -> bool:
    """True when ``compact`` (no spaces, any case) is a checksum-valid IBAN of a plausible length."""
    s = compact.upper()
    if not 15 <= len(s) <= 34 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    want = _IBAN_LEN.get(s[:2])
    if want is not None and len(s) != want:
        return False
    rearranged = s[4:] + s[:4]
    try:
        num = int("".join(str(int(c, 36)) for c in rearranged))
    except ValueError:
        return False
    return num % 97 == 1


# --------------------------------------------------------------------------------------------
# patterns (all linear: word-start anchored, bounded or possessive quantifiers)
# --------------------------------------------------------------------------------------------

_HAS_DIGIT = re.compile(r"\d")

_EMAIL = re.compile(
    r"(?<![\w.%+'-])[\w.%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])")

_POSTCODE_AREAS = (
    "AB AL B BA BB BD BF BH BL BN BR BS BT BX CA CB CF CH CM CO CR CT CV CW DA DD DE DG DH DL DN DT DY E EC "
    "EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV JE KA KT KW KY L LA LD LE LL LN LS LU M "
    "ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW "
    "SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF WN WR WS WV YO ZE").split()
_POSTCODE_AREA_SET: Final = frozenset(_POSTCODE_AREAS)
_POSTCODE = re.compile(r"(?<!\w)([A-Za-z]{1,2})\d[A-Za-z\d]?[ \t]{0,2}\d([A-Za-z]{2})(?!\w)")
_INWARD_OK: Final = frozenset("ABDEFGHJLNPQRSTUWXYZabdefghjlnpqrstuwxyz")

_NI = re.compile(
    r"(?<!\w)(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r"[ \t]?\d{2}[ \t]?\d{2}[ \t]?\d{2}[ \t]?[A-D](?!\w)", re.I)

_IBAN = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?:[ \t]?[A-Z0-9]){10,30}(?!\w)", re.I)

# A cluster of digit groups joined by single spaces/dashes (or "(0)"/parentheses in phones).
# Not started inside a word, an amount (£1,234.56), a date (03/02/2025), a time (10:30) or a
# reference (CT-123456).  At most 12 groups, so a pathological "1 1 1 1 ..." text stays linear.
_CLUSTER = re.compile(
    r"(?<![\w£$€.,/:+\-@#])(?:\+[ \t]?)?\(?\d+\)?(?:[ \t]?\(0\)[ \t]?\d+|[ \t\-]{1,2}\(?\d+\)?){0,11}+")
_GROUP = re.compile(r"\d+")

_ACCOUNT_CUE = re.compile(r"account|\bacc(?:t|s)?\b|\ba/c\b|\ba\.c\.|\bac\b|sort[\s-]*code")
_SORT_CUE = re.compile(r"sort[\s-]*code|\bs/c\b")
_REF_CUE = re.compile(
    r"\b(?:ref|reference|case|job|order|invoice|ticket|booking|claim|policy|tracking|confirmation|"
    r"transaction|complaint|customer\s+(?:no|number)|membership|serial|id)\b")
_REF_BEFORE = re.compile(
    r"(?i:\b(?:ref|reference|order|invoice|ticket|booking|tracking|confirmation|transaction|serial|"
    r"policy|claim|case|job|id)\b\W*(?:(?:no|number|num|code|id)\b\W*)?(?:is\W*)?)\Z")
_DATE_CUE = re.compile(r"\b(?:on|dated?|since|until|till|before|after)\W*\Z")

_STREET_SUFFIX = (
    "Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Cl|Drive|Dr|Court|Ct|Crescent|Cres|Way|Place|Pl|Gardens|"
    "Gdns|Terrace|Terr|Tce|Grove|Gr|Walk|Row|Hill|Park|Square|Sq|Mews|View|Rise|Green|Parade|Pde|"
    "Boulevard|Vale|Wharf|Yard|Gate|Chase|Croft|Fields|Meadows?|Heights|Promenade|Esplanade|Embankment|"
    "Quay|Wynd|Brae|Loan|Hollow|End|Approach|Circus|Drove|Dene|Garth|Glen|Grange|Green|Hey|Leys|Orchard|"
    "Paddock|Ridge|Side|Spinney|Villas|Wood|Broadway|Bank|Brow|Crest|Lawn|Lea|Path")
_WORD = r"(?:[A-Z][a-z'’]+|[A-Z]{2,}|St\.?|[A-Z][a-z]+-[A-Z][a-z]+)"
_TOWN = r"(?!(?:And|Or|But|The|I|Is|Was|It|Has|Had)\b)[A-Z][a-z]+(?:[ \t-](?:upon|on|under|in|le)[ \t-][A-Z][a-z]+|[ \t][A-Z][a-z]+(?=[ \t]*[,.\n]))?"
_ADDRESS = re.compile(
    r"(?<![\w£$€.,/:\-])"
    r"(?:(?:Flat|Apartment|Apt|Unit|Room|Studio|Maisonette)\.?[ \t]+\d{1,4}[A-Za-z]?,?[ \t]+"
    r"(?:[A-Z][a-z]+[ \t]+(?:House|Court|Lodge|Mansions|Building|Tower|Point),?[ \t]+)?)?"
    r"\d{1,4}[A-Za-z]?(?:-\d{1,4})?,?[ \t]+"
    r"(?:" + _WORD + r"[ \t]+){0,3}"
    r"(?:" + _STREET_SUFFIX + r")\b\.?"
    r"(?:,[ \t]*" + _TOWN + r"|[ \t]+" + _TOWN + r"(?=[ \t]*(?:,|\.|$|\n|[A-Za-z]{1,2}\d)))?")
# lower-case street followed by a postcode ("12 mill lane ls1 4ap")
_ADDRESS_LOWER = re.compile(
    r"(?<![\w£$€.,/:\-])\d{1,4}[a-z]?,?[ \t]+(?:[a-z]{2,}[ \t]+){1,3}?(?:" + _STREET_SUFFIX.lower() +
    r")\b(?=,?[ \t]+(?:[a-z][a-z\s]{0,30}?[ \t])?[a-z]{1,2}\d[a-z\d]?[ \t]?\d[a-z]{2}\b)")

# ---- names -----------------------------------------------------------------------------------

_LETTER = "a-zà-öø-ÿāăąćčďđēėęěğīįıķĺļľłńņňōőœŕřśşšţťūůűųźżž"
_CAP_TOKEN = re.compile(
    rf"(?<![\w'’\-\[])(?:[OD]['’])?(?:Ma?c)?[A-ZÀ-ÖØ-ÞĀ-Ž][{_LETTER}]+(?:-[A-ZÀ-ÖØ-ÞĀ-Ž][{_LETTER}]+)?"
    r"(?=['’]s\b|(?![\w'’\]]))")
_SENT_START = re.compile(r"(?:^|[.!?:;\"“(]|\n)\s*\Z")
_STRONG_CUE = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|MR|MRS|MS|DR|Sir|Lady|Dame|Prof)\.?[ \t]+"
    r"|(?i:\bmy[ \t]+name[ \t]+is|\bmy[ \t]+name['’]s|\bname[ \t]*:|\bcalled[ \t]+me|\bdear|\bsigned|"
    r"\bregards|\bsincerely|\bfaithfully|\bbest[ \t]+wishes|\bkind[ \t]+regards|\bmany[ \t]+thanks|"
    r"\bspeak[ \t]+to|\bspoke[ \t]+(?:to|with)|\bspeaking[ \t]+(?:to|with)|\btalked[ \t]+to|"
    r"\bask(?:ed)?[ \t]+for|\bin[ \t]+the[ \t]+names?[ \t]+of|\bname[ \t]+(?:was|is)|\bnamed|\bcalled)[\s,:.-]*)\Z")
_WEAK_CUE = re.compile(
    r"(?i:\bthis[ \t]+is|\bi[ \t]+am|\bi['’]?m|\bit['’]s|\bfrom|\bthanks|\bthank[ \t]+you|\bcheers|"
    r"\bagent|\badvis[eo]r|\bcolleague|\bmanager|\bengineer|\btechnician|\bhusband|\bwife|\bpartner|"
    r"\bson|\bdaughter|\bmother|\bfather|\bmum|\bmom|\bdad|\bbrother|\bsister|\bneighbour|"
    r"\blandlord|\bcarer|\bfriend)[\s,:.-]*\Z")
_END_AFTER = re.compile(r"[ \t]*(?:[.!,]?[ \t]*(?:\n|\Z))")
_LOWER_STOP: Final = frozenset("""on not in the a an and still is was being also listed correct wrong spelt spelled
missing under there already mr mrs ms miss dr at as for from with of to by my your their his her our it this that
same different written shown down up""".split())
_LOWER_NAME_CUE = re.compile(r"(?i:\bmy[ \t]+name[ \t]+is|\bthis[ \t]+is|\bi['’]?m|\bi[ \t]+am)[ \t]+"
                             rf"([{_LETTER}]+)(?:[ \t]+([{_LETTER}]+))?")

#: Capitalised words that never start a name extension (beyond the gazetteer's own exclusions).
_NOT_NAME: Final = frozenset("""
I I'm I've I'd I'll A An The This That These Those There Their They Them Then Than Thanks Thank Hi Hello
Dear Sir Madam Yes No Not Ok Okay Please Sorry Also And But Or So If When Why What Who How Where Which
My Our Your His Her Its We You He She It Me Us Mr Mrs Ms Miss Dr Customer Customers Service Services
Team Manager Council Tax Bank Account Card Credit Debit Direct Payment Payments Housing Association
Street Road Lane Avenue Monday Tuesday Wednesday Thursday Friday Saturday Sunday January February March
April May June July August September October November December Christmas Easter British English UK
Gas Water Energy Electric Electricity Broadband Mobile Phone Internet Online App Website Email Premium
Family Student Support Care Help Office Department Government Universal Credit Benefit Benefits Housing
Repairs Repair Complaint Complaints Company Limited Ltd Plc Inc Group Services Police Court Judge NHS
Hospital School University College Church Station Airport Centre Center Street Music Spotify Apple
Google Amazon Microsoft Samsung Android Iphone Facebook Twitter Instagram Netflix Sky Virgin Talk Fargo
Capital One Chase Citi Lloyds Barclays Halifax Santander Natwest Nationwide Tesco Vodafone Openreach Discover Navient Experian Equifax Transunion Bureau Federal Financial Consumer
Protection Loan Loans Mortgage Home Homes Great North South East West New Old Royal Mail Post Best
Dear Regards Kind Best Many Cheers Signed Thanks Sincerely Faithfully Love Merry Happy Good Bad Very Just
""".split())


def _read_words(name: str) -> list[str]:
    out: list[str] = []
    for line in (_DATA / name).read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        out.extend(line.split())
    return out


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(first names, surnames, ambiguous names), exactly as capitalised in the data files."""
    amb = frozenset(_read_words("ambiguous.txt"))
    first = frozenset(w for w in _read_words("first_names.txt") if w not in amb)
    sur = frozenset(w for w in _read_words("surnames.txt") if w not in amb)
    return first, sur, amb


# token classes
_F, _S, _A, _C = 1, 2, 3, 0


# --------------------------------------------------------------------------------------------
# the redactor
# --------------------------------------------------------------------------------------------

class Redactor:
    """Finds and replaces personal data; build once, reuse for every batch.

    ``names`` turns on the heuristic detection of personal names; ``addresses`` (default: same as
    ``names``, matching the ``privacy.detect_names`` setting) the street-address detection.  The
    structured kinds (e-mail, phone, postcode, card, sort code, account number, IBAN, NI number)
    are always on.
    """

    def __init__(self, *, names: bool = True, addresses: bool | None = None) -> None:
        self.names = names
        self.addresses = names if addresses is None else addresses
        self._first, self._sur, self._amb = _gazetteer()
        self._first_lower = frozenset(w.lower() for w in self._first)
        self._sur_lower = frozenset(w.lower() for w in self._sur)

    # ---- public API ------------------------------------------------------------------------

    def find(self, text: str) -> list[Span]:
        """Non-overlapping spans of personal data in ``text``, sorted by start."""
        spans: list[Span] = []
        if "@" in text:
            spans.extend(Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text))
        if _HAS_DIGIT.search(text) is not None:
            self._digits(text, spans)
        if self.names:
            self._names(text, spans)
        return _resolve(spans)

    def redact_one(self, text: str | None) -> str | None:
        """``text`` with every span replaced by its ``[KIND]`` placeholder (None stays None)."""
        if text is None:
            return None
        spans = self.find(text)
        if not spans:
            return text
        parts: list[str] = []
        pos = 0
        for s in spans:
            parts.append(text[pos:s.start])
            parts.append(f"[{s.kind}]")
            pos = s.end
        parts.append(text[pos:])
        return "".join(parts)

    def redact(self, texts: Iterable[str | None]) -> list[str | None]:
        """Redact a batch; the output has one entry per input, None for None."""
        one = self.redact_one
        return [one(t) for t in texts]

    __call__ = redact

    # ---- digit-bearing kinds ---------------------------------------------------------------

    def _digits(self, text: str, spans: list[Span]) -> None:
        pos = 0
        while (m := _IBAN.search(text, pos)) is not None:
            sp = _iban_span(text, m.start(), m.end())
            if sp is not None:
                spans.append(sp)
                pos = sp.end
            else:
                pos = m.start() + 1
        spans.extend(Span(m.start(), m.end(), "NI_NUMBER") for m in _NI.finditer(text))
        for m in _POSTCODE.finditer(text):
            inward = m.group(2)
            if m.group(1).upper() in _POSTCODE_AREA_SET and inward[0] in _INWARD_OK and inward[1] in _INWARD_OK:
                spans.append(Span(m.start(), m.end(), "POSTCODE"))
        for m in _CLUSTER.finditer(text):
            if m.end() - m.start() >= 6:  # fewer than 6 digits is never one of ours
                _classify_cluster(text, m.start(), m.end(), spans)
        if self.addresses:
            spans.extend(Span(m.start(), m.end(), "ADDRESS") for m in _ADDRESS.finditer(text))
            spans.extend(Span(m.start(), m.end(), "ADDRESS") for m in _ADDRESS_LOWER.finditer(text))

    # ---- names -----------------------------------------------------------------------------

    def _names(self, text: str, spans: list[Span]) -> None:
        first, sur, amb = self._first, self._sur, self._amb
        toks: list[tuple[int, int, int]] = []  # (start, end, class)
        for m in _CAP_TOKEN.finditer(text):
            w = m.group()
            if w in _NOT_NAME:
                cls = -1
            elif w in first:
                cls = _F
            elif w in sur:
                cls = _S
            elif w in amb:
                cls = _A
            else:
                cls = _C
            toks.append((m.start(), m.end(), cls))
        # runs of capitalised tokens separated by a single space / tab
        i, n = 0, len(toks)
        while i < n:
            j = i
            while j + 1 < n and toks[j + 1][0] - toks[j][1] == 1 and text[toks[j][1]] in " \t" \
                    and toks[j + 1][2] >= 0 and toks[j][2] >= 0 and j - i < 3:
                j += 1
            run = toks[i:j + 1]
            i = j + 1
            if run[0][2] < 0:
                continue
            classes = [t[2] for t in run]
            start = run[0][0]
            has_name = any(c in (_F, _S) for c in classes)
            if not has_name and _A not in classes and len(run) == 1 and classes[0] == _C:
                # unknown word: a name only after a strong cue ("Mrs Okonkwo", "my name is Zeb")
                if _STRONG_CUE.search(text, max(0, start - 25), start):
                    spans.append(Span(start, run[0][1], "NAME"))
                continue
            if has_name or _A in classes:
                strong = _STRONG_CUE.search(text, max(0, start - 25), start) is not None
                if strong:
                    spans.append(Span(start, run[-1][1], "NAME"))
                    continue
                if has_name:
                    idx = [k for k, c in enumerate(classes) if c in (_F, _S, _A)]
                    a, b = idx[0], idx[-1]
                    # ambiguous tokens at the edge only count when beside a real name token
                    while a < b and classes[a] == _A and classes[a + 1] not in (_F, _S):
                        a += 1
                    while b > a and classes[b] == _A and classes[b - 1] not in (_F, _S):
                        b -= 1
                    if classes[a] == _A and not (a + 1 <= b):
                        continue
                    # extend by an unknown capitalised token: "Sarah Okonkwo", "Olu Jenkins"
                    if b + 1 < len(run) and classes[b] == _F:
                        b += 1
                    if a > 0 and classes[a] == _S and classes[a] != _F and \
                            not _SENT_START.search(text, 0, run[a - 1][0]):
                        a -= 1
                    spans.append(Span(run[a][0], run[b][1], "NAME"))
                    continue
                # only ambiguous (+ unknown) tokens: need a cue, and not at sentence start
                if len(run) >= 2 and classes.count(_A) >= 2 and not _SENT_START.search(text, 0, start):
                    spans.append(Span(start, run[-1][1], "NAME"))
                elif _WEAK_CUE.search(text, max(0, start - 25), start) and \
                        not _SENT_START.search(text, 0, start):
                    spans.append(Span(start, run[-1][1], "NAME"))
                continue
            # unknown capitalised runs: after a strong cue; after a weak cue ("this is", "my
            # husband", "thanks,") when two tokens long or closing the text/line
            if _STRONG_CUE.search(text, max(0, start - 25), start):
                spans.append(Span(start, run[-1][1], "NAME"))
            elif (len(run) >= 2 or _END_AFTER.match(text, run[-1][1])) and \
                    _WEAK_CUE.search(text, max(0, start - 25), start) and not _SENT_START.search(text, 0, start):
                spans.append(Span(start, run[-1][1], "NAME"))
        # lower-case names after "my name is" / "this is" / "I'm"
        if "name" in text or "this is" in text or "i" in text:
            fl, sl = self._first_lower, self._sur_lower
            for m in _LOWER_NAME_CUE.finditer(text):
                w1, w2 = m.group(1), m.group(2)
                named = m.group(0)[:2].lower() == "my"  # "my name is ...": any non-stopword
                if w1 in fl or (named and w1 not in _LOWER_STOP):
                    ok2 = w2 is not None and (w2 in sl or w2 in fl or (named and w2 not in _LOWER_STOP))
                    spans.append(Span(m.start(1), m.end(2) if ok2 else m.end(1), "NAME"))


def _resolve(spans: list[Span]) -> list[Span]:
    """Drop overlaps: among overlapping spans keep the longest (then the earliest)."""
    if len(spans) < 2:
        return spans
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            last = out[-1]
            if s.end - s.start > last.end - last.start:
                out[-1] = s
            continue
        out.append(s)
    return out


def _iban_span(text: str, start: int, end: int) -> Span | None:
    compact_pos: list[int] = []
    chars: list[str] = []
    for k in range(start, end):
        ch = text[k]
        if ch not in " \t":
            chars.append(ch)
            compact_pos.append(k)
    compact = "".join(chars).upper()
    want = _IBAN_LEN.get(compact[:2])
    if want is None or want > len(compact) or not iban_ok(compact[:want]):
        return None
    end = compact_pos[want - 1] + 1
    if end < len(text) and text[end].isalnum() and text[end - 1].isalnum():
        return None  # the IBAN would end inside a word
    return Span(start, end, "IBAN")


def _context(text: str, start: int, cue: re.Pattern[str]) -> bool:
    """A ``cue`` in the 40 characters before ``start``, with no reference word after it."""
    window = text[max(0, start - 40):start].lower()
    matches = list(cue.finditer(window))
    if not matches:
        return False
    last = matches[-1]
    return _REF_CUE.search(window, last.end()) is None


def _classify_cluster(text: str, cstart: int, cend: int, spans: list[Span]) -> None:
    groups = [(m.start(), m.end()) for m in _GROUP.finditer(text, cstart, cend)]
    plus = text[cstart] == "+"
    # a glued trailing group (e.g. "0161 496 0123abc", "10.30") cannot be trusted: drop it
    if cend < len(text):
        nxt = text[cend]
        if nxt.isalnum() or nxt in "£%/_" or (nxt in ".,:" and cend + 1 < len(text) and text[cend + 1].isdigit()):
            groups.pop()
    k = len(groups)
    i = 0
    while i < k:
        found = False
        for j in range(min(k, i + 7) - 1, i - 1, -1):
            kind = _classify(text, groups, i, j, plus and i == 0)
            if kind is not None:
                s = cstart if i == 0 else groups[i][0] - (text[groups[i][0] - 1] == "(")
                e = groups[j][1] + (groups[j][1] < len(text) and text[groups[j][1]] == ")")
                spans.append(Span(s, e, kind))
                i = j + 1
                found = True
                break
        if not found:
            i += 1


def _classify(text: str, groups: list[tuple[int, int]], i: int, j: int, plus: bool) -> str | None:
    lens = [e - s for s, e in groups[i:j + 1]]
    n = sum(lens)
    if n < 6 or n > 19 + 2:
        return None
    gs = [text[s:e] for s, e in groups[i:j + 1]]
    if plus:
        # international: drop a trunk "(0)"
        if len(gs) > 2 and gs[1] == "0" and text[groups[i + 1][0] - 1] == "(":
            n -= 1
        return "PHONE" if 8 <= n <= 15 and gs[0][0] != "0" else None
    digits = "".join(gs)
    first = groups[i][0]
    paren = first > 0 and text[first - 1] == "("
    seps = {text[groups[k][1]:groups[k + 1][0]] for k in range(i, j)}
    if digits.startswith("00") and 9 <= n - 2 <= 15 and digits[2] != "0":
        return "PHONE"
    if lens == [2, 2, 2]:
        if seps == {"-"} and not (_DATE_CUE.search(text, max(0, first - 12), first)
                                  and _plausible_date(gs) and not _context(text, first, _SORT_CUE)):
            return "SORT_CODE"
        if _context(text, first, _SORT_CUE):
            return "SORT_CODE"
        return None
    if n == 6 and len(gs) == 1 and _context(text, first, _SORT_CUE):
        return "SORT_CODE"
    if digits[0] == "0" and digits[1] != "0" and n in (10, 11) and (
            len(gs) == 1 or (3 <= lens[0] <= 5 and min(lens[1:]) >= 3)):
        return "PHONE"
    if n == 10 and lens == [3, 3, 4] and (paren or seps <= {"-", " "}) and digits[0] not in "01":
        return "PHONE"
    if 13 <= n <= 19 and digits[0] in "23456" and (
            len(gs) == 1 or all(ln == 4 for ln in lens[:-1]) or lens in ([4, 6, 5], [4, 6, 4])) \
            and luhn_ok(digits):
        return None if _REF_BEFORE.search(text, max(0, first - 30), first) else "CARD"
    if n == 8 and (len(gs) == 1 or lens == [4, 4]) and _context(text, first, _ACCOUNT_CUE):
        return "ACCOUNT_NO"
    return None


def _plausible_date(gs: list[str]) -> bool:
    a, b = int(gs[0]), int(gs[1])
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


@lru_cache(maxsize=4)
def _default(names: bool) -> Redactor:
    return Redactor(names=names)


def redact_texts(texts: Sequence[str | None], *, names: bool = True) -> list[str | None]:
    """Replace personal data in every text by typed placeholders (``[EMAIL]``, ``[PHONE]``...).

    ``names=False`` skips the heuristic name and street-address detection (the structured kinds
    are always redacted).  None stays None; the output has the same length as the input.
    """
    return _default(names).redact(texts)


_PLACEHOLDER_RE = re.compile(r"\s*\[(?:" + "|".join(KINDS) + r")\]")


def strip_placeholders(text: str | None) -> str:
    """Redacted text without its placeholders, for models that read words (reason, sentiment):
    ``[PHONE]`` carries no meaning about why the customer called, only noise."""
    return _PLACEHOLDER_RE.sub("", text or "").strip()
