"""A seeded population of identity records with a documented noise profile, to measure identity resolution.

Separate from the sample organisation (:mod:`cxchain.demo`), whose silos also hold records no method can
tie to a person (calls from a number seen nowhere else, first-name-only chats, repair jobs known by their
tenancy): this population carries only the noise a resolver is expected to see through, so its pairwise
scores measure the resolver, not the data's limits.  Used by ``tests/data`` and
``benchmarks/linkage_eval.py --population``.

Noise: 1-character typos in names (6 % each of first and last name), swapped first and last names (2 %),
nicknames (15 % where one exists), movers with an old address in some sources (15 % of people, half of
their records), shared household landlines, email case and formatting differences, phone and postcode
formats, missing values (5-30 % a field; 10 % for most), duplicate accounts within a source (4 %), a date-of-birth digit
wrong (2 %), and five sources each with its own id scheme and fields.

    >>> records, people = make_population(n_people=3000, seed=7)   # doctest: +SKIP
    >>> pairwise_scores(predicted_keys, records.set_index("record_id")["person"])   # doctest: +SKIP
"""

from __future__ import annotations

import random
from typing import Any

import pandas as pd

__all__ = ["make_population", "pairwise_scores", "resolve_population"]


FIRST = (
    "william elizabeth robert james katherine susan david michael thomas christopher stephen anthony "
    "jennifer nicholas samuel alexander patricia margaret daniel andrew matthew peter joseph edward "
    "richard benjamin charles john sarah emma olivia amelia grace lucy hannah laura rachel claire "
    "helen karen julie lisa paul mark gary kevin jason craig ryan adam luke simon neil wayne dean "
    "carl lee scott ian graham colin keith brian alan derek barry trevor martin amy chloe ella mia "
    "ruby zoe leah megan holly freya isla jade kirsty nicola donna tracey joanne sharon diane linda "
    "carol janet ann brenda pauline sandra gillian fiona heather maureen irene sheila aisha fatima "
    "mohammed ali omar hassan priya anil ravi sunita deepak wojciech agnieszka piotr katarzyna"
).split()
NICK = {
    "william": ["bill", "will", "billy"], "elizabeth": ["liz", "beth"], "robert": ["bob", "rob"],
    "james": ["jim", "jimmy"], "katherine": ["kate", "katie"], "susan": ["sue"], "david": ["dave"],
    "michael": ["mike"], "thomas": ["tom"], "christopher": ["chris"], "stephen": ["steve"],
    "anthony": ["tony"], "jennifer": ["jen", "jenny"], "nicholas": ["nick"], "samuel": ["sam"],
    "alexander": ["alex"], "patricia": ["pat"], "margaret": ["maggie", "meg"], "daniel": ["dan", "danny"],
    "andrew": ["andy"], "matthew": ["matt"], "peter": ["pete"], "joseph": ["joe"],
}
LAST_BASE = (
    "smith jones williams taylor brown davies evans wilson thomas johnson roberts robinson thompson "
    "wright walker white edwards hughes green hall lewis harris clarke patel jackson wood turner "
    "martin cooper hill ward morris moore clark lee king baker harrison morgan allen james scott "
    "phillips watson davis parker price bennett young griffiths mitchell kelly cook carter richardson "
    "bailey collins bell shaw murphy miller cox richards khan marshall anderson simpson ellis adams "
    "singh begum wilkinson foster chapman powell webb rogers gray mason ali hunt hussain campbell "
    "matthews owen palmer holmes mills barnes knight lloyd butler russell barker fisher stevens jenkins"
).split()
SYL_A = "ash brad brook claw cran dun fair glen hart hol kings lang marsh new oak pen red rock stan thorn wex".split()
SYL_B = "ford ley ton field wood well by worth ham stead dale croft".split()
LAST = LAST_BASE + [a + b for a in SYL_A for b in SYL_B][:300]
STREETS = [a.capitalize() + b for a in SYL_A for b in ("field", "wood", "ley", "ton", "dale", "brook", "ham")]
STREET_TYPES = [("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln"), ("Close", "Cl"),
                ("Drive", "Dr"), ("Gardens", "Gdns"), ("Crescent", "Cres")]
DOMAINS = ["gmail.com", "hotmail.co.uk", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com"]
LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _typo(rng: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = rng.randrange(1, len(s))  # keep the first letter (as most real typos do)
    op = rng.choice("sdit")
    if op == "s":
        return s[:i] + rng.choice("aeioulnrst") + s[i + 1 :]
    if op == "d":
        return s[:i] + s[i + 1 :]
    if op == "i":
        return s[:i] + rng.choice("aeioulnrst") + s[i:]
    if i < len(s) - 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]
    return s[:i] + rng.choice("aeiou")


def _phone_format(rng: random.Random, national: str) -> str:
    rest = national[1:]
    forms = [
        national,
        f"{national[:5]} {national[5:]}",
        f"+44 {rest[:4]} {rest[4:]}",
        f"+44 (0){rest[:4]} {rest[4:]}",
        f"0044{rest}",
        f"44{rest}",
        f"({national[:5]}) {national[5:8]}-{national[8:]}",
    ]
    return rng.choice(forms)


def _postcode_format(rng: random.Random, pc: str) -> str:
    return rng.choice([pc, pc.replace(" ", ""), pc.lower(), f" {pc} "])


def make_population(n_people: int = 3000, seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Raw contact records (with truth ``person``) and the people, seeded.

    Noise: 1-char typos in names, swapped first/last, nicknames, movers with an old address in
    some sources, shared household landlines, email case and formatting differences, missing values,
    duplicate accounts within a source, and five sources each with its own id scheme and fields.
    """
    rng = random.Random(seed)
    sectors = [f"{rng.choice(LETTERS)}{rng.choice(LETTERS)}{rng.randint(1, 20)} {rng.randint(1, 9)}" for _ in range(60)]

    def new_address() -> tuple[str, str, str]:
        num = rng.randint(1, 240)
        street = rng.choice(STREETS)
        typ = rng.choice(STREET_TYPES)
        pc = f"{rng.choice(sectors)}{rng.choice(LETTERS)}{rng.choice(LETTERS)}"
        uprn = str(rng.randint(10**9, 10**11))
        return f"{num} {street} {typ[0]}", pc, uprn

    people: list[dict[str, Any]] = []
    emails: set[str] = set()
    pid = 0
    while pid < n_people:
        size = rng.choice([1, 1, 1, 2, 2, 2, 3, 3, 4])
        address, pc, uprn = new_address()
        landline = f"01{rng.randint(100, 999)}{rng.randint(100000, 999999)}" if rng.random() < 0.6 else None
        surname = rng.choice(LAST)
        used: set[str] = set()
        for _ in range(size):
            first = rng.choice([f for f in FIRST if f not in used])
            used.add(first)
            last = surname if rng.random() < 0.8 else rng.choice(LAST)
            mobile = f"07{rng.randint(100, 999)}{rng.randint(100000, 999999)}" if rng.random() < 0.75 else None
            email = None
            if rng.random() < 0.65:
                email = rng.choice([f"{first}.{last}", f"{first}{last}{rng.randint(1, 99)}", f"{first[0]}{last}{rng.randint(1, 999)}"])
                email += "@" + rng.choice(DOMAINS)
                while email in emails:  # an address belongs to one person
                    email = f"{rng.randint(2, 9999)}{email}"
                emails.add(email)
            old = new_address() if rng.random() < 0.15 else None
            people.append(dict(
                person=pid, first=first, last=last, dob=f"{rng.randint(1940, 2005)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                mobile=mobile, landline=landline, email=email, address=address, postcode=pc, uprn=uprn, old=old,
            ))
            pid += 1
            if pid >= n_people:
                break

    sources = {
        # name: (share of people, id format, fields)
        "crm": (0.75, "CRM-{:06d}", {"first_name", "last_name", "email", "phone", "postcode", "address", "dob"}),
        "housing": (0.45, "T{:07d}", {"name_comma", "phone", "postcode", "address", "uprn", "dob"}),
        "repairs": (0.35, "R/{:d}", {"name_title", "phone", "postcode", "address", "uprn"}),
        "complaints": (0.20, "CMP{:05d}", {"first_name", "last_name", "email", "postcode", "dob"}),
        "telephony": (0.35, None, {"name", "phone", "email"}),
    }
    rows: list[dict[str, Any]] = []
    for sname, (share, idfmt, flds) in sources.items():
        next_id = rng.randint(1000, 5000)
        for p in people:
            if rng.random() >= share or (sname == "telephony" and not (p["mobile"] or p["landline"])):
                continue
            for _account in range(2 if rng.random() < 0.04 else 1):
                next_id += rng.randint(1, 7)
                cid = idfmt.format(next_id) if idfmt else None
                first, last = p["first"], p["last"]
                if first in NICK and rng.random() < 0.15:
                    first = rng.choice(NICK[first])
                if rng.random() < 0.06:
                    first = _typo(rng, first)
                if rng.random() < 0.06:
                    last = _typo(rng, last)
                swapped = rng.random() < 0.02
                address, pc, uprn = p["address"], p["postcode"], p["uprn"]
                if p["old"] is not None and rng.random() < 0.5:
                    address, pc, uprn = p["old"]
                phone = p["mobile"] if p["mobile"] and (not p["landline"] or rng.random() < 0.9) else p["landline"]
                dob = p["dob"]
                if rng.random() < 0.02:
                    dob = dob[:-1] + str((int(dob[-1]) + 1) % 10)

                def miss(v: Any, q: float = 0.1) -> Any:
                    return None if rng.random() < q else v

                ident: dict[str, Any] = {"customer_id": cid}
                f_, l_ = (last, first) if swapped else (first, last)
                if "first_name" in flds:
                    ident["first_name"], ident["last_name"] = miss(f_.capitalize(), 0.05), l_.upper() if rng.random() < 0.3 else l_.capitalize()
                for key, fmt in (("name_comma", "{l}, {f}"), ("name_title", "{t} {f} {l}"), ("name", "{f} {l}")):
                    if key in flds:
                        ident["name"] = fmt.format(f=f_.capitalize(), l=l_.capitalize(), t=rng.choice(["Mr", "Mrs", "Ms", "Dr", ""]))
                if "email" in flds and p["email"]:
                    ident["email"] = miss(p["email"], 0.15)
                if "phone" in flds and phone:
                    ident["phone"] = phone if sname == "telephony" else miss(phone)  # telephony always has the CLI
                if "postcode" in flds:
                    ident["postcode"] = miss(pc)
                if "address" in flds:
                    ident["address"] = miss(address)
                if "uprn" in flds:
                    ident["uprn"] = miss(uprn, 0.3)
                if "dob" in flds:
                    ident["dob"] = miss(dob)
                for _c in range(1 + (rng.random() < 0.45) + (rng.random() < 0.25)):
                    row = dict(ident)
                    # per-contact raw formatting differences that normalise away
                    if row.get("phone"):
                        row["phone"] = _phone_format(rng, row["phone"])
                    if row.get("email") and rng.random() < 0.3:
                        row["email"] = rng.choice([row["email"].upper(), " " + row["email"].title(), row["email"] + " "])
                    if row.get("postcode"):
                        row["postcode"] = _postcode_format(rng, row["postcode"])
                    if row.get("address") and rng.random() < 0.3:
                        a = row["address"]
                        for full, short in STREET_TYPES:
                            a = a.replace(full, short)
                        row["address"] = a.upper()
                    if row.get("dob") and rng.random() < 0.3:
                        y, m, d = row["dob"].split("-")
                        row["dob"] = f"{d}/{m}/{y}"
                    row.update(source=sname, person=p["person"])
                    rows.append(row)
    df = pd.DataFrame(rows)
    df.insert(0, "record_id", [f"{s}:{i:06d}" for i, s in enumerate(df["source"])])
    for c in ("customer_id", "name", "first_name", "last_name", "email", "phone", "postcode", "address", "uprn", "dob"):
        if c not in df:
            df[c] = None
        df[c] = df[c].astype("object").where(df[c].notna(), None).astype("string")
    return df, pd.DataFrame(people)


def pairwise_scores(pred: pd.Series, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision / recall / F1 of a clustering ``pred`` against ``truth`` (same index)."""

    def pairs(s: pd.Series) -> int:
        n = s.value_counts()
        return int((n * (n - 1) // 2).sum())

    pred = pred.fillna(pred.index.to_series().astype(str).radd("unresolved:"))  # no key: a customer of its own
    tp = pairs(pred.astype(str) + "|" + truth.astype(str))
    p_pairs, t_pairs = pairs(pred), pairs(truth)
    precision = tp / p_pairs if p_pairs else 1.0
    recall = tp / t_pairs if t_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "tp": tp, "pred_pairs": p_pairs, "true_pairs": t_pairs}


def resolve_population(records: pd.DataFrame, *, seed: int = 0) -> pd.Series:
    """Resolve ``records`` (from :func:`make_population`) as a workspace would: the identity store's records through
    :func:`cxchain.data.resolve.link_workspace_identities` (the linker, trained on them, and the rules after it).

    Returns the customer key per ``record_id``, in the order of ``records``.
    """
    import tempfile
    from pathlib import Path

    import duckdb

    from ..data.resolve import link_workspace_identities
    from ..store.schema import create_data_schema, create_identity_schema

    ident, data = duckdb.connect(), duckdb.connect()
    create_identity_schema(ident)
    create_data_schema(data)
    raw = records.drop(columns=["person"]).assign(source_key=records["record_id"], version=1, batch_id="population")
    have = [c for (c, *_) in ident.execute("DESCRIBE identity_record").fetchall() if c in raw.columns]
    ident.register("_population", raw[have])
    ident.execute(f"INSERT INTO identity_record ({', '.join(have)}) SELECT * FROM _population")
    with tempfile.TemporaryDirectory() as tmp:
        link_workspace_identities(ident, data, secret="population", model_path=Path(tmp) / "model.json", seed=seed)
    keys = data.sql("SELECT record_id, customer_key FROM record_customer").df().set_index("record_id")["customer_key"]
    return keys.reindex(records["record_id"])
