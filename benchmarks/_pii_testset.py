"""Labelled PII test set for ``cxchain.data.redact``: real verbatims with PII inserted.

The formats below are written as data, per kind, from how people actually write these things,
*not* from the detectors' patterns.  Names come from a list kept here, separate from the
gazetteer shipped with the redactor (it overlaps on common names, as real data would, and also
holds names the gazetteer does not know).  Hard negatives (references, money, dates, times,
percentages, counts, ordinary words that are also names) are inserted the same way and carry
no gold span: anything predicted on them is a false positive.

Used by ``tests/data/test_redact.py`` and ``benchmarks/redaction.py``.  Seeded, deterministic.
"""

from __future__ import annotations

import csv
import os
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KINDS = ("EMAIL", "PHONE", "POSTCODE", "CARD", "SORT_CODE", "ACCOUNT_NO", "IBAN", "NI_NUMBER", "NAME", "ADDRESS")
STRUCTURED = KINDS[:8]
#: (recall, precision) targets per kind
TARGETS: dict[str, tuple[float, float]] = {k: (0.99, 0.98) for k in STRUCTURED}
TARGETS.update({"NAME": (0.85, 0.0), "ADDRESS": (0.85, 0.0)})

# ---- source data ---------------------------------------------------------------------------

REAL_SOURCES = (  # (file under data/real, text column)
    ("telco_nps_verbatims/nps_verbatims.csv", "text"),
    ("twcs_customer_support/spotifycares_inbound_requests.csv", "text"),
    ("cfpb_complaints/cfpb_payday_personal_loans_2023_narratives.csv", "Consumer complaint narrative"),
    ("cfpb_complaints/cfpb_sample_2015_2020.csv", "Consumer complaint narrative"),
)


def shared_dir() -> Path | None:
    """``$CXCHAIN_SHARED`` or the ``shared`` folder beside the checkout, if it holds the real data."""
    env = os.environ.get("CXCHAIN_SHARED")
    cand = Path(env) if env else Path(__file__).resolve().parents[2] / "shared"
    return cand if (cand / "data" / "real").is_dir() else None


def load_real_texts(shared: Path, *, max_chars: int = 320) -> list[str]:
    """Real verbatims (each cut to ``max_chars`` at a word boundary), in file order."""
    out: list[str] = []
    for rel, col in REAL_SOURCES:
        path = shared / "data" / "real" / rel
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                t = (row.get(col) or "").strip()
                if len(t) < 15:
                    continue
                if len(t) > max_chars:
                    t = t[:max_chars].rsplit(" ", 1)[0]
                out.append(t)
    return out


#: Ordinary contact-centre sentences written for the self-contained test (no PII in them).
BASE_SENTENCES = [
    "I have been waiting three weeks for someone to come and fix the boiler.",
    "Can I pay my bill over the phone instead of online?",
    "Mark the bin as missed please, the lorry did not come down our road again.",
    "I will call back tomorrow if nobody rings me.",
    "The council tax bill is wrong, I live on my own and should get the discount.",
    "My broadband keeps dropping out every evening around eight.",
    "Nobody told me the direct debit would go up this month.",
    "The engineer never turned up and I took the day off work.",
    "Thank you for sorting this out so quickly, really pleased.",
    "There is damp and mould in the bedroom and the children keep getting ill.",
    "I was charged twice for the same month and want a refund.",
    "Your app will not let me log in after the update.",
    "We reported the leak in January and it is still dripping.",
    "Please stop sending me letters about an account I closed last year.",
    "The rose bushes by the communal garden have not been cut back.",
    "I'd like to know why my bill went up by so much.",
    "The agent was polite but could not answer my question.",
    "I'm still waiting on the replacement card you promised.",
    "Will someone please confirm the appointment in writing?",
    "Grace period for the payment ended before the letter even arrived.",
    "Hope you can help, this has gone on for far too long.",
    "The new meter reads much higher than the old one did.",
    "I want to make a complaint about how I was spoken to.",
    "Bill me monthly rather than quarterly if that is possible.",
    "May I ask why the repair was cancelled without telling me?",
    "The lift in the block has been broken for two weeks.",
    "I tried the chat three times and got cut off each time.",
    "Dawn till dusk the streetlight outside is flickering.",
    "Great service from the team on the phone today.",
    "The payment went out but the account still shows arrears.",
]

# ---- values, written per kind ---------------------------------------------------------------

FIRST_NAMES = """Sarah James Emily Thomas Olivia Daniel Chloe Matthew Hannah Ryan Sophie Liam Jessica Adam
Rebecca Kieran Bethany Jamal Priya Wojciech Siobhan Aleksandra Oluwaseun Nasreen Tobias Ffion Gráinne Ezra
Delphine Kwame Anouk Ravinder Teodora Bartholomew Imelda Cosmo Marek Yusra Leighton Shona Rhodri Mairi
Benedict Farhana Ilse Jolene Augustin Precious Naveed Clemency""".split()
SURNAMES = """Smith Jones Williams Taylor Brown Davies Evans Wilson Thomas Johnson Roberts Walker Wright
Robinson Thompson Hughes Edwards Green Patel Khan Okonkwo Nowicki Fairbairn Abernethy Quarshie
Lindqvist Pemberton Achterberg Delacroix MacAulay Ruddock Thistlethwaite Oyelaran Szymanski Cheung
Grimshaw Featherstone Ogunleye Braithwaite Kowalczyk Haverford Mbeki Trelawney Ashworth""".split()
STREET_NAMES = ["Mill", "Church", "Station", "Victoria", "Oak Tree", "Manor Farm", "Chapel", "Albert",
                "Meadow", "Orchard", "Kings", "Springfield", "Windsor", "Highfield", "Castle", "Elm",
                "Willow", "Beech", "Grange", "St Mary's", "Alexandra", "Cromwell", "Hawthorn", "Primrose",
                "Lime Tree", "Brook", "Ashby", "Belvedere", "High", "New", "Queen's", "Bramble Hill"]
STREET_TYPES = ["Road", "Street", "Lane", "Avenue", "Close", "Drive", "Court", "Crescent", "Way", "Place",
                "Gardens", "Terrace", "Grove", "Walk", "Row", "Hill", "Park", "Square", "Mews", "View",
                "Rd", "St", "Ave"]
TOWNS = ["Leeds", "Bristol", "Croydon", "Stockport", "Swansea", "Wakefield", "Newcastle upon Tyne", "Luton",
         "Dundee", "Norwich", "Bolton", "Exeter"]
OUTWARD = ["SW1A", "M1", "B33", "CR2", "DN55", "LS1", "EH1", "W1A", "EC1V", "BS8", "NE1", "G2", "CF10", "BT7",
           "L1", "S10", "OX4", "PL4", "SK4", "WF1", "LU1", "NR2", "TN13", "HU5"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
PHONE_FORMATS = [
    "07700 900{n3}", "07700900{n3}", "07700-900-{n3}", "+44 7700 900{n3}", "+447700900{n3}",
    "+44 (0)7700 900{n3}", "+44 (0) 7700 900 {n3}", "(01632) 960{n3}", "01632 960{n3}", "0161 496 0{n3}",
    "020 7946 0{n3}", "0113 496 0{n3}", "0044 7700 900{n3}", "0044 20 7946 0{n3}", "+1 415-555-01{n2}",
    "+1 (415) 555-01{n2}", "+353 1 234 5{n3}", "+33 1 23 45 67 {n2}", "+49 30 1234 5{n3}", "0800 123 4{n3}",
    "0300 123 4{n3}", "(415) 555-01{n2}",
]
EMAIL_FORMATS = ["{first}.{last}@example.com", "{first}{n2}@gmail.com", "{f}{last}@leeds.gov.uk",
                 "{first}_{last}@outlook.co.uk", "{first}.{last}+cx@mail.example.org", "{FIRST}.{LAST}@BTINTERNET.COM",
                 "{last}{n3}@hotmail.co.uk", "info@{last}-plumbing.co.uk"]
CARD_LAYOUTS = ["4444", "4444-dash", "plain", "amex"]
IBAN_COUNTRIES = {"GB": ("WEST", 14), "IE": ("AIBK", 14), "DE": ("", 18), "FR": ("", 23), "NL": ("ABNA", 10),
                  "ES": ("", 20)}
NI_PREFIX_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
NI_PREFIX_SECOND = "ABCEGHJKLMNPRSTWXYZ"

CONTEXTS: dict[str, list[str]] = {
    "PHONE": ["Call me on {x} please.", "My number is {x}.", "ring me on {x} after 5", "mobile: {x}",
              "{x} is my new number.", "You can reach me at {x} any time.", "tel {x}", "text me on {x}"],
    "EMAIL": ["Email me at {x} please.", "my email is {x}", "{x} is the best way to reach me.",
              "sent it to {x} twice", "contact: {x}"],
    "POSTCODE": ["My postcode is {x}.", "we are in {x}", "postcode {x} not recognised", "Moved to {x} in May.",
                 "the area around {x} has no signal"],
    "CARD": ["my card number is {x}", "charged to {x} twice", "card {x} was declined", "I paid with {x}.",
             "Debit card: {x}"],
    "SORT_CODE": ["sort code {x}", "the sort code is {x}", "bank details {x}",
                  "Sort code: {x}", "paid from {x} at Lloyds"],
    "ACCOUNT_NO": ["account number {x}", "acc no. {x}", "a/c {x}", "my bank account is {x}", "Account: {x}",
                   "bank account {x} (sort code sent earlier)", "account no {x} please refund"],
    "IBAN": ["IBAN {x}", "please pay {x}", "my iban is {x}", "Transfer to {x} by Friday."],
    "NI_NUMBER": ["my NI number is {x}", "National Insurance {x}", "NINO: {x}", "NI no {x} for the claim"],
    "NAME": ["My name is {full}.", "This is {full} calling about my account.", "Mrs {last} next door complained.",
             "Mr {last} from your office rang.", "Dear {first},", "Regards,\n{full}", "Thanks, {first}",
             "Kind regards {full}", "I spoke to {first} on Tuesday.", "{first} was very helpful.",
             "{full} said it would be fixed.", "your engineer {full} came round", "please ask for {first}",
             "my husband {full} holds the account", "signed {full}", "Dr {last} wrote to me.",
             "The account is in the name of {full}.", "I'm {full} and I rent the flat.",
             "my name is {lower_full}", "Ms {full} is my carer."],
    "ADDRESS": ["I live at {x}.", "The property at {x} has damp.", "{x} has had no collection.",
                "my address is {x}", "send it to {x} please", "We moved to {x} last month."],
}
NEGATIVES = [
    "Reference CT-{n6}.", "job no {n7}", "case ref {n8z}", "I paid £{money}.", "refund of £{money} owed",
    "on {date_dmy}", "due {date_iso}", "at {time}", "about {pct}% more", "{count} times this month",
    "order number {ref16}", "reference {ref16}", "ticket {n7}", "invoice INV-{n6}", "booking ref {n8z}",
    "Can I pay my bill", "Mark the bin as missed", "I will call back", "council tax bill", "the rose bed",
    "Will you call me?", "Bill me later", "May I ask", "a mark on the wall", "the bill, will and rose garden",
    "{count} days", "{n4} customers", "flat {count}", "3 weeks later", "tracking {n12}",
]


@dataclass(frozen=True)
class Gold:
    """A gold entity: ``text[start:end]`` is of ``kind``."""

    start: int
    end: int
    kind: str


@dataclass
class Case:
    """One labelled text; ``negatives`` are hard-negative spans (no PII there)."""

    text: str
    gold: list[Gold] = field(default_factory=list)
    negatives: list[tuple[int, int]] = field(default_factory=list)


# ---- value generators -----------------------------------------------------------------------

def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _luhn_valid(num: str) -> bool:
    return _luhn_digit(num[:-1]) == num[-1]


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(k))


def _card(rng: random.Random) -> str:
    layout = rng.choice(CARD_LAYOUTS)
    if layout == "amex":
        body = rng.choice(["34", "37"]) + _digits(rng, 12)
        num = body + _luhn_digit(body)
        return f"{num[:4]} {num[4:10]} {num[10:]}"
    prefix = rng.choice(["4", "51", "52", "53", "54", "55", "6011", "2221"])
    body = prefix + _digits(rng, 15 - len(prefix))
    num = body + _luhn_digit(body)
    if layout == "plain":
        return num
    sep = "-" if layout == "4444-dash" else " "
    return sep.join(num[i:i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    cc = rng.choice(sorted(IBAN_COUNTRIES))
    bank, ndig = IBAN_COUNTRIES[cc]
    bban = bank + _digits(rng, ndig)
    rearranged = bban + cc + "00"
    num = int("".join(str(int(c, 36)) for c in rearranged))
    check = 98 - num % 97
    iban = f"{cc}{check:02d}{bban}"
    if rng.random() < 0.6:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


def _ni(rng: random.Random) -> str:
    while True:
        p = rng.choice(NI_PREFIX_FIRST) + rng.choice(NI_PREFIX_SECOND)
        if p not in {"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"}:
            break
    d = _digits(rng, 6)
    s = rng.choice("ABCD")
    style = rng.randrange(3)
    if style == 0:
        return f"{p}{d}{s}"
    if style == 1:
        return f"{p} {d[:2]} {d[2:4]} {d[4:]} {s}"
    return f"{p}{d}{s}".lower()


def _postcode(rng: random.Random) -> str:
    pc = f"{rng.choice(OUTWARD)} {rng.randrange(10)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"
    r = rng.random()
    if r < 0.2:
        return pc.replace(" ", "")
    if r < 0.35:
        return pc.lower()
    return pc


def _phone(rng: random.Random) -> str:
    return rng.choice(PHONE_FORMATS).format(n3=f"{rng.randrange(1000):03d}", n2=f"{rng.randrange(100):02d}")


def _email(rng: random.Random) -> str:
    first, last = rng.choice(FIRST_NAMES).lower(), rng.choice(SURNAMES).lower()
    first = first.encode("ascii", "ignore").decode()
    return rng.choice(EMAIL_FORMATS).format(first=first, last=last, f=first[0], FIRST=first.upper(),
                                            LAST=last.upper(), n2=rng.randrange(10, 99), n3=rng.randrange(100, 999))


def _sort_code(rng: random.Random) -> str:
    d = _digits(rng, 6)
    return rng.choice([f"{d[:2]}-{d[2:4]}-{d[4:]}", f"{d[:2]}-{d[2:4]}-{d[4:]}", f"{d[:2]} {d[2:4]} {d[4:]}", d])


def _account(rng: random.Random) -> str:
    d = _digits(rng, 8)
    return d if rng.random() < 0.8 else f"{d[:4]} {d[4:]}"


def _address(rng: random.Random) -> tuple[str, str | None]:
    """(address text, postcode appended after it or None)."""
    num = str(rng.randrange(1, 250)) + (rng.choice("ab") if rng.random() < 0.1 else "")
    street = f"{num} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
    r = rng.random()
    if r < 0.25:
        street = f"Flat {rng.randrange(1, 40)}, {street}"
    if rng.random() < 0.4:
        street = f"{street}, {rng.choice(TOWNS)}"
    pc = _postcode(rng) if rng.random() < 0.35 else None
    return street, pc


def _negative(rng: random.Random) -> str:
    tmpl = rng.choice(NEGATIVES)
    while True:
        ref16 = str(rng.randrange(1, 10)) + _digits(rng, 15)
        if not _luhn_valid(ref16):
            break
    d, m, y = rng.randrange(1, 29), rng.randrange(1, 13), rng.randrange(2015, 2027)
    return tmpl.format(
        n4=rng.randrange(1000, 9999), n6=_digits(rng, 6), n7=str(rng.randrange(1, 10)) + _digits(rng, 6),
        n8z="00" + _digits(rng, 6), n12=str(rng.randrange(1, 10)) + _digits(rng, 11),
        money=f"{rng.randrange(1, 5000):,}.{rng.randrange(100):02d}",
        date_dmy=f"{d:02d}/{m:02d}/{y}", date_iso=f"{y}-{m:02d}-{d:02d}",
        time=rng.choice([f"{rng.randrange(24):02d}:{rng.randrange(60):02d}", f"{rng.randrange(1, 13)}pm",
                         f"{rng.randrange(1, 13)}.{rng.randrange(60):02d}am"]),
        pct=rng.choice([str(rng.randrange(1, 100)), f"{rng.randrange(1, 100)}.{rng.randrange(10)}"]),
        count=rng.randrange(2, 60), ref16=ref16)


VALUE: dict[str, Callable[[random.Random], str]] = {
    "PHONE": _phone, "EMAIL": _email, "POSTCODE": _postcode, "CARD": _card, "SORT_CODE": _sort_code,
    "ACCOUNT_NO": _account, "IBAN": _iban, "NI_NUMBER": _ni,
}


def _snippet(rng: random.Random, kind: str) -> tuple[str, list[Gold]]:
    """A carrier phrase holding one entity of ``kind``; gold offsets relative to the phrase."""
    ctx = rng.choice(CONTEXTS[kind])
    if kind == "NAME":
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        vals = {"first": first, "last": last, "full": f"{first} {last}", "lower_full": f"{first} {last}".lower()}
        key = re.search(r"\{(\w+)\}", ctx)
        assert key is not None
        val = vals[key.group(1)]
        pos = key.start()
        return ctx[:pos] + val + ctx[key.end():], [Gold(pos, pos + len(val), "NAME")]
    if kind == "ADDRESS":
        addr, pc = _address(rng)
        x = addr if pc is None else f"{addr} {pc}"
        pos = ctx.index("{x}")
        gold = [Gold(pos, pos + len(addr), "ADDRESS")]
        if pc is not None:
            gold.append(Gold(pos + len(addr) + 1, pos + len(x), "POSTCODE"))
        return ctx.replace("{x}", x), gold
    x = VALUE[kind](rng)
    if kind == "SORT_CODE" and "-" not in x and "sort" not in ctx.lower():
        ctx = "sort code " + ctx
    pos = ctx.index("{x}")
    return ctx.replace("{x}", x), [Gold(pos, pos + len(x), kind)]


def _insert(base: str, snippet: str, rng: random.Random,
            taken: Sequence[tuple[int, int]] = ()) -> tuple[str, int]:
    """Insert ``snippet`` into ``base`` at a sentence/clause boundary outside the ``taken`` ranges
    (earlier snippets); returns (text, offset)."""
    bounds = [0, len(base)] + [m.end() for m in re.finditer(r"[.!?]\s+|,\s+", base)]
    bounds = [b for b in bounds if not any(a < b < e for a, e in taken)]
    at = rng.choice(bounds)
    if at == 0:
        return snippet + " " + base, 0
    if at >= len(base):
        return base + " " + snippet, len(base) + 1
    return base[:at] + snippet + " " + base[at:], at


def build_cases(base_texts: Sequence[str], n: int, *, seed: int = 20250203,
                kinds: Sequence[str] = KINDS, neg_rate: float = 0.5) -> list[Case]:
    """``n`` labelled texts: each a base text with 1-2 PII snippets and maybe a hard negative."""
    rng = random.Random(seed)
    cases: list[Case] = []
    for i in range(n):
        text = base_texts[i % len(base_texts)] if i < len(base_texts) else rng.choice(base_texts)
        gold: list[Gold] = []
        negs: list[tuple[int, int]] = []
        taken: list[tuple[int, int]] = []
        items: list[tuple[str, Any]] = [("pii", kinds[i % len(kinds)])]
        if rng.random() < 0.3:
            items.append(("pii", rng.choice(kinds)))
        if rng.random() < neg_rate:
            items.append(("neg", None))
        rng.shuffle(items)
        for what, kind in items:
            if what == "pii":
                snip, g = _snippet(rng, kind)
            else:
                snip, g = _negative(rng), []
            text, off = _insert(text, snip, rng, taken)
            # shift previous spans that sit after the insertion point
            shift = len(snip) + 1
            taken = [(a + shift, b + shift) if a >= off else (a, b) for a, b in taken]
            taken.append((off, off + len(snip)))
            gold = [Gold(x.start + shift, x.end + shift, x.kind) if x.start >= off else x for x in gold]
            negs = [(a + shift, b + shift) if a >= off else (a, b) for a, b in negs]
            gold += [Gold(x.start + off, x.end + off, x.kind) for x in g]
            if what == "neg":
                negs.append((off, off + len(snip)))
        cases.append(Case(text, gold, negs))
    return cases


# ---- metric ---------------------------------------------------------------------------------

def evaluate(find: Callable[[str], Sequence[Any]], cases: Sequence[Case]) -> dict[str, dict[str, float]]:
    """Per-kind recall/precision.

    A gold entity is found when a predicted span of the same kind overlaps it (``recall``), or any
    predicted span does (``recall_any``).  ``precision`` = predicted spans of the kind overlapping a
    gold entity of that kind / predicted spans of the kind (``precision_any``: overlapping any gold).
    ``neg_hits`` counts predicted spans of the kind that touch a hard negative.
    """
    stats = {k: {"gold": 0, "found": 0, "found_any": 0, "pred": 0, "pred_ok": 0, "pred_ok_any": 0,
                 "neg_hits": 0} for k in KINDS}
    for c in cases:
        pred = list(find(c.text))
        for g in c.gold:
            st = stats[g.kind]
            st["gold"] += 1
            ov = [p for p in pred if p.start < g.end and g.start < p.end]
            st["found"] += any(p.kind == g.kind for p in ov)
            st["found_any"] += bool(ov)
        for p in pred:
            st = stats[p.kind]
            st["pred"] += 1
            ov = [g for g in c.gold if p.start < g.end and g.start < p.end]
            st["pred_ok"] += any(g.kind == p.kind for g in ov)
            st["pred_ok_any"] += bool(ov)
            st["neg_hits"] += any(p.start < b and a < p.end for a, b in c.negatives)
    out: dict[str, dict[str, float]] = {}
    for k, st in stats.items():
        out[k] = {
            "gold": st["gold"], "pred": st["pred"], "neg_hits": st["neg_hits"],
            "recall": st["found"] / st["gold"] if st["gold"] else 1.0,
            "recall_any": st["found_any"] / st["gold"] if st["gold"] else 1.0,
            "precision": st["pred_ok"] / st["pred"] if st["pred"] else 1.0,
            "precision_any": st["pred_ok_any"] / st["pred"] if st["pred"] else 1.0,
        }
    return out


def misses(find: Callable[[str], Sequence[Any]], cases: Sequence[Case], kind: str) -> list[tuple[str, str]]:
    """(gold text, full text) of the gold entities of ``kind`` that were not found; for debugging."""
    out = []
    for c in cases:
        pred = list(find(c.text))
        for g in c.gold:
            if g.kind == kind and not any(p.kind == kind and p.start < g.end and g.start < p.end for p in pred):
                out.append((c.text[g.start:g.end], c.text))
    return out


def false_positives(find: Callable[[str], Sequence[Any]], cases: Sequence[Case], kind: str) -> list[tuple[str, str]]:
    """(predicted text, full text) of the predictions of ``kind`` overlapping no gold of that kind."""
    out = []
    for c in cases:
        for p in find(c.text):
            if p.kind == kind and not any(g.kind == kind and p.start < g.end and g.start < p.end for g in c.gold):
                out.append((c.text[p.start:p.end], c.text))
    return out
