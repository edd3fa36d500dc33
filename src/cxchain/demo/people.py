"""The synthetic population (households, couples, movers) and the noisy ways silos render identities."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from . import names as N

#: The documented identity-noise profile (probabilities per rendered identity).
NOISE = {
    "name_typo": 0.05,  # one-character edit
    "name_swapped": 0.02,  # first and last name swapped
    "nickname": 0.03,  # Bill for William, Liz for Elizabeth
    "name_case": 0.05,  # upper or lower case
    "email_case": 0.10,  # email in a different case
    "old_address": 0.30,  # movers: a silo still holds the old address after the move
    "missing_identity": 0.04,  # an identity column left empty
    "phone_formats": ["07700 900123", "+44 7700 900123", "447700900123", "07700900123",
                      "01632 960123", "(01632) 960123", "01632 960 123", "+44 1632 960123"],
    "movers": 0.10,
    "shared_landline": "people in one household share the landline",
}

_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


@dataclass
class Population:
    first: list[str]
    last: list[str]
    household: np.ndarray  # household index per person
    mobile: list[str]  # 10 digits after the leading 0, "" when none
    email: list[str]  # "" when none
    lang: np.ndarray  # "en", "cy", "pl"
    account: list[str]  # the CRM's own account number
    activity: np.ndarray  # relative contact propensity
    moved_on: np.ndarray  # day offset of the move (>= 0) or -1
    # per household
    landline: list[str]
    address: list[str]
    postcode: list[str]
    old_address: list[str]
    old_postcode: list[str]
    uprn: list[str]
    tenancy: list[str]
    prop_type: list[str]
    patch: list[str]
    tenure: list[str]

    @property
    def size(self) -> int:
        return len(self.first)


def _unique_ints(rng: np.random.Generator, n: int, low: int, high: int, fixed: np.ndarray) -> np.ndarray:
    out = np.unique(fixed)
    while len(out) < n:
        extra = rng.integers(low, high, size=int((n - len(out)) * 1.2) + 10)
        out = np.concatenate([out, np.setdiff1d(np.unique(extra), out)])
    perm = rng.permutation(len(out))
    return out[perm][:n]


def _postcode(rng: np.random.Generator, n: int) -> list[str]:
    district = rng.integers(1, 15, n)
    digit = rng.integers(1, 10, n)
    l1 = rng.integers(0, len(_INWARD_LETTERS), n)
    l2 = rng.integers(0, len(_INWARD_LETTERS), n)
    # A real postcode area (Wakefield's WF) with invented districts and units: redaction, like real
    # address validation, only accepts real areas, so a made-up area would look like no postcode at all.
    return [f"WF{d} {g}{_INWARD_LETTERS[a]}{_INWARD_LETTERS[b]}" for d, g, a, b in zip(district, digit, l1, l2, strict=True)]


def _addresses(rng: np.random.Generator, n: int, streets: list[str]) -> tuple[list[str], list[str]]:
    st = rng.integers(0, len(streets), n)
    num = rng.integers(1, 180, n)
    flat = rng.random(n) < 0.15
    town = rng.integers(0, len(N.TOWNS), n)
    # a street belongs to one postcode district and one town; houses share inward codes in blocks of 20
    pcs = _postcode(np.random.default_rng(12345), len(streets) * 9)
    addr = []
    pc = []
    for s, k, f, t in zip(st, num, flat, town, strict=True):
        street = streets[s]
        town_name = N.TOWNS[(s + t % 2) % len(N.TOWNS)]
        addr.append(f"Flat {k % 12 + 1}, {k} {street}, {town_name}" if f else f"{k} {street}, {town_name}")
        pc.append(pcs[s * 9 + k // 20])
    return addr, pc


def build(rng: np.random.Generator, people: int, sector: str, days: int) -> Population:
    """A population of about ``people`` adults in households."""
    female, male = N.first_names()
    sur = N.surnames()
    fw = 1.0 / (np.arange(len(female)) + 15.0)
    mw = 1.0 / (np.arange(len(male)) + 15.0)
    sw = 1.0 / (np.arange(len(sur)) + 30.0)
    sizes = rng.choice([1, 2, 3, 4], size=people, p=[0.38, 0.42, 0.12, 0.08])
    sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), people)) + 1]
    n_house = len(sizes)
    household = np.repeat(np.arange(n_house), sizes)[:people]
    first_in_house = np.r_[True, household[1:] != household[:-1]]
    is_f = rng.random(people) < 0.52
    fi = rng.choice(len(female), size=people, p=fw / fw.sum())
    mi = rng.choice(len(male), size=people, p=mw / mw.sum())
    first = [female[a] if f else male[b] for f, a, b in zip(is_f, fi, mi, strict=True)]
    si = rng.choice(len(sur), size=people, p=sw / sw.sum())
    # couples and families mostly share the household head's surname
    share = (~first_in_house) & (rng.random(people) < 0.7)
    head = np.maximum.accumulate(np.where(first_in_house, np.arange(people), 0))
    si = np.where(share, si[head], si)
    last = [sur[i] for i in si]

    mob_fixed = np.arange(7700900000, 7700901000)
    mob = _unique_ints(rng, people, 7400000000, 7999999999, mob_fixed)
    has_mob = rng.random(people) < 0.9
    mobile = [str(m) if h else "" for m, h in zip(mob, has_mob, strict=True)]
    land = _unique_ints(rng, n_house, 1200000000, 1999999999, np.arange(1632960000, 1632961000))
    has_land = rng.random(n_house) < 0.55
    landline = [str(x) if h else "" for x, h in zip(land, has_land, strict=True)]

    streets = [f"{r} {t}" for r in N.STREET_ROOTS for t in N.STREET_TYPES]
    streets = [streets[i] for i in np.random.default_rng(7).permutation(len(streets))]
    streets = streets[: max(40, min(len(streets), n_house // 25))]
    address, postcode = _addresses(rng, n_house, streets)
    old_address, old_postcode = _addresses(rng, n_house, streets)
    moved_house = rng.random(n_house) < NOISE["movers"]  # type: ignore[operator]
    move_day = np.where(moved_house, rng.integers(30, max(31, days - 30), n_house), -1)
    moved_on = move_day[household]

    dom = rng.choice(len(N.EMAIL_DOMAINS), size=people, p=[0.3, 0.15, 0.15, 0.1, 0.1, 0.08, 0.07, 0.05])
    pat = rng.integers(0, 5, people)
    num = rng.integers(1, 99, people)
    has_email = rng.random(people) < 0.78
    email = []
    seen: set[str] = set()
    for i in range(people):
        if not has_email[i]:
            email.append("")
            continue
        f = first[i].lower().replace("'", "")
        s = last[i].lower().replace("'", "")
        local = (f"{f}.{s}", f"{f[0]}{s}{num[i]}", f"{f}{s}{num[i]}", f"{s}.{f}{num[i] % 10}", f"{f}_{num[i]}{s[:3]}")[pat[i]]
        addr = f"{local}@{N.EMAIL_DOMAINS[dom[i]]}"
        k = 2
        while addr in seen:
            addr = f"{local}{k}@{N.EMAIL_DOMAINS[dom[i]]}"
            k += 1
        seen.add(addr)
        email.append(addr)

    u = rng.random(people)
    lang = np.where(u < 0.03, "cy", np.where(u < 0.04, "pl", "en"))
    accounts = _unique_ints(rng, people, 10_000_000, 99_999_999, np.array([], dtype=np.int64))
    account = [f"{a}" for a in accounts]
    uprn = [f"{x}" for x in _unique_ints(rng, n_house, 100_000_000_000, 100_099_999_999, np.array([], dtype=np.int64))]
    tenancy = [f"TEN{x:07d}" for x in _unique_ints(rng, n_house, 1, 9_999_999, np.array([], dtype=np.int64))]
    types = rng.choice(["House", "Flat", "Bungalow", "Maisonette", "Bedsit"], n_house, p=[0.4, 0.38, 0.1, 0.1, 0.02])
    tenure = rng.choice(["General needs", "Supported", "Leasehold", "Shared ownership", "Temporary"],
                        n_house, p=[0.72, 0.1, 0.1, 0.04, 0.04])
    patch = [f"Patch {a.split(', ')[-1]}" for a in address]
    activity = rng.gamma(0.8, 1.0, people) + 0.05
    return Population(first, last, household, mobile, email, lang, account, activity, moved_on,
                      landline, address, postcode, old_address, old_postcode, uprn, tenancy,
                      [str(t) for t in types], patch, [str(t) for t in tenure])


# --------------------------------------------------------------------------- noisy renderers

def _typo(r: random.Random, s: str) -> str:
    if len(s) < 3:
        return s
    i = r.randrange(1, len(s))
    op = r.random()
    if op < 0.33:
        return s[:i] + s[i + 1:]
    if op < 0.66 and i < len(s) - 1:
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    return s[:i] + r.choice("aeiounrst") + s[i + 1:]


def name_parts(pop: Population, pid: int, r: random.Random, noisy: bool = True) -> tuple[str, str]:
    f, s = pop.first[pid], pop.last[pid]
    if not noisy:
        return f, s
    u = r.random()
    if u < NOISE["nickname"] and f in N.NICKNAMES:  # type: ignore[operator]
        f = r.choice(N.NICKNAMES[f])
    elif u < 0.08:
        if r.random() < 0.5:
            f = _typo(r, f)
        else:
            s = _typo(r, s)
    if r.random() < NOISE["name_swapped"]:  # type: ignore[operator]
        f, s = s, f
    return f, s


def full_name(pop: Population, pid: int, r: random.Random, style: int = 0) -> str:
    f, s = name_parts(pop, pid, r)
    u = r.random()
    if style == 1 or u < 0.05:
        out = f"{s.upper()}, {f}"
    elif u < 0.08:
        out = f"{f[0]} {s}"
    else:
        out = f"{f} {s}"
    v = r.random()
    if v < 0.03:
        out = out.upper()
    elif v < 0.05:
        out = out.lower()
    if r.random() < 0.02:
        out += "  "  # trailing whitespace
    return out


def format_phone(digits: str, r: random.Random) -> str:
    """Render a 10-digit national number (without the leading 0) in a random real-world format."""
    if not digits:
        return ""
    mob = digits.startswith("7")
    a, b = (digits[:4], digits[4:])
    u = r.random()
    if u < 0.45:
        return f"0{a} {b}"
    if u < 0.6:
        return f"+44 {a} {b}"
    if u < 0.72:
        return f"44{digits}"
    if u < 0.85:
        return f"0{digits}"
    if mob:
        return f"+44{digits}"
    return f"(0{a}) {b}" if u < 0.93 else f"0{a} {b[:3]} {b[3:]}"


def phone(pop: Population, pid: int, r: random.Random, landline_first: float = 0.35) -> str:
    """A phone the person would use: own mobile, or the household's landline."""
    land = pop.landline[pop.household[pid]]
    mob = pop.mobile[pid]
    pick = land if (land and (not mob or r.random() < landline_first)) else mob
    return format_phone(pick, r)


def email(pop: Population, pid: int, r: random.Random) -> str:
    e = pop.email[pid]
    if not e:
        return ""
    u = r.random()
    if u < NOISE["email_case"]:  # type: ignore[operator]
        e = e.upper() if r.random() < 0.3 else e[0].upper() + e[1:]
    return e


def where(pop: Population, pid: int, day: int, r: random.Random) -> tuple[str, str]:
    """(address, postcode) as a silo would hold them on ``day``: old address before a move, sometimes after."""
    h = int(pop.household[pid])
    mv = int(pop.moved_on[pid])
    if mv >= 0 and (day < mv or r.random() < NOISE["old_address"]):  # type: ignore[operator]
        return pop.old_address[h], pop.old_postcode[h]
    return pop.address[h], pop.postcode[h]


def day_date(start: date, day: int) -> date:
    return start + timedelta(days=int(day))
