"""The true contact stream: episodes of demand per person and reason, with the planted effects.

An *episode* is one need of one person (a reason); its first contact is value demand or (with a
reason-specific probability) failure demand, and each follow-up within the episode is mostly
failure demand (chasing, repeat, complaint).  Everything is vectorised with numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .taxonomy import Effects, Reason

CHANNEL_MIX = {"phone": 0.50, "ivr": 0.08, "chat": 0.17, "email": 0.25}
FIRST_FAIL_TYPES = (("did_not_understand", 0.45), ("not_done_right", 0.35), ("repeat_unresolved", 0.20))
POLICY_FAIL_TYPES = (("did_not_understand", 0.75), ("not_done_right", 0.25))
FOLLOW_FAIL_TYPES = (("chasing_progress", 0.50), ("repeat_unresolved", 0.25), ("not_done_right", 0.10),
                     ("complaint", 0.15))
SEASONALITY = 0.08  # amplitude of the yearly volume cycle (winter busier)
FOLLOW_FAIL = 0.85  # share of follow-up contacts that are failure demand


@dataclass
class Contacts:
    person: np.ndarray
    reason: np.ndarray  # index into the sector's reasons
    episode: np.ndarray
    seq: np.ndarray  # 0 = first contact of the episode
    day: np.ndarray  # day offset from the start date
    second: np.ndarray  # seconds since midnight
    failure: np.ndarray  # bool
    ftype: np.ndarray  # str; "" for value demand
    channel: np.ndarray  # str
    lang: np.ndarray  # str
    hostile: np.ndarray  # bool
    pii: np.ndarray  # bool: the text embeds personal data

    @property
    def size(self) -> int:
        return len(self.person)


def _pick(rng: np.random.Generator, n: int, table: tuple[tuple[str, float], ...]) -> np.ndarray:
    names = np.array([t[0] for t in table])
    p = np.array([t[1] for t in table])
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _day_weights(start_weekday: int, start_doy: int, days: int) -> np.ndarray:
    wd = (start_weekday + np.arange(days)) % 7
    w = np.where(wd < 5, 1.0, np.where(wd == 5, 0.35, 0.2))
    w = w * np.where(wd == 0, 1.3, 1.0)  # Monday peak
    doy = start_doy + np.arange(days)
    season = 1.0 + SEASONALITY * np.cos(2 * np.pi * (doy - 15) / 365.25)  # mid-January peak
    return w * season


def generate(seed_seq: np.random.SeedSequence, n: int, reasons: tuple[Reason, ...], activity: np.ndarray,
             person_lang: np.ndarray, start_weekday: int, start_doy: int, days: int, eff: Effects,
             day_of: dict[str, int]) -> Contacts:
    """``n`` contacts over ``days`` days; ``day_of`` maps effect names to day offsets."""
    streams = [np.random.default_rng(s) for s in seed_seq.spawn(12)]
    ids = [r.id for r in reasons]
    weights = np.array([r.weight for r in reasons])
    base_fail = np.array([r.base_fail for r in reasons])
    i_policy, i_repeat = ids.index(eff.policy_reason), ids.index(eff.repeat_reason)
    i_worked = ids.index(eff.worked_reason)
    cont = np.full(len(reasons), eff.repeat_base)
    cont[i_repeat] = eff.repeat_hot

    n_ep = int(n * 1.05) + 50
    rng = streams[0]
    ep_reason = rng.choice(len(reasons), size=n_ep, p=weights / weights.sum())
    ep_person = streams[1].choice(len(activity), size=n_ep, p=activity / activity.sum())
    dw = _day_weights(start_weekday, start_doy, days)
    ep_day = streams[2].choice(days, size=n_ep, p=dw / dw.sum())
    u = streams[3].random((n_ep, 6))
    k = (u < cont[ep_reason][:, None]).cumprod(axis=1).sum(axis=1)  # follow-ups, capped at 6
    size = 1 + k
    episode = np.repeat(np.arange(n_ep), size)
    starts = np.cumsum(size) - size
    seq = np.arange(len(episode)) - np.repeat(starts, size)
    gaps = np.where(seq == 0, 0, 1 + np.floor(streams[4].exponential(2.5, len(episode))).astype(np.int64))
    # cumulative gap within episode
    csum = np.cumsum(gaps)
    day = ep_day[episode] + csum - np.repeat(csum[starts], size)
    reason = ep_reason[episode]
    person = ep_person[episode]

    m = len(episode)
    uf = streams[5].random(m)
    p_first = base_fail[reason].copy()
    pol = reason == i_policy
    p_first[pol] = np.where(day[pol] >= day_of["policy"], eff.policy_fail_after, eff.policy_fail_before)
    failure = np.where(seq == 0, uf < p_first, uf < FOLLOW_FAIL)
    t_first = _pick(streams[6], m, FIRST_FAIL_TYPES)
    t_policy = _pick(streams[6], m, POLICY_FAIL_TYPES)
    t_follow = _pick(streams[6], m, FOLLOW_FAIL_TYPES)
    ftype = np.where(seq == 0, np.where(pol & (day >= day_of["policy"]), t_policy, t_first), t_follow)
    ftype = np.where(failure, ftype, "")

    keep = day < days
    drop_u = streams[7].random(m)
    prevented = (reason == i_worked) & failure & (day >= day_of["worked"]) & (drop_u < eff.worked_drop)
    # a prevented contact also prevents the rest of its episode: the follow-ups it would have caused
    # (episodes are contiguous runs; count the prevented contacts so far within each one)
    so_far = np.cumsum(prevented)
    keep &= (so_far - np.repeat(so_far[starts] - prevented[starts], size)) == 0
    idx = np.flatnonzero(keep)
    if len(idx) < n:
        raise RuntimeError("episode model produced too few contacts; raise the oversampling factor")
    idx = np.sort(streams[8].choice(idx, size=n, replace=False))

    r9 = streams[9]
    chan_names = np.array(list(CHANNEL_MIX))
    chan_p = np.array(list(CHANNEL_MIX.values()))
    pref = streams[10].choice(len(chan_names), size=len(activity), p=chan_p)
    own = r9.random(n) < 0.6
    chan = np.where(own, pref[person[idx]], r9.choice(len(chan_names), size=n, p=chan_p))
    channel = chan_names[chan]
    sec = np.where(channel == "email", r9.integers(6 * 3600, 23 * 3600, n),
                   np.clip(r9.normal(12.5 * 3600, 2.6 * 3600, n), 8 * 3600, 18 * 3600 - 60)).astype(np.int64)
    own_lang = person_lang[person[idx]]
    lang = np.where((own_lang != "en") & (r9.random(n) < 0.8), own_lang, "en")
    hostile = r9.random(n) < 0.02
    pii = r9.random(n) < 0.25
    order = np.lexsort((sec, day[idx]))
    sel = idx[order]
    return Contacts(person=person[sel], reason=reason[sel], episode=episode[sel], seq=seq[sel], day=day[sel],
                    second=sec[order], failure=failure[sel], ftype=ftype[sel], channel=channel[order],
                    lang=lang[order], hostile=hostile[order], pii=pii[order])
