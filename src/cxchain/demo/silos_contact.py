"""Contact silos: ACD call legs, IVR sessions, web-chat transcripts and the email export."""

from __future__ import annotations

import json

import numpy as np
import polars as pl

from . import mess, people
from .common import Ctx
from .mess import FileStats

ACD_FORMATS = ["%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M", "UNPADDED"]
MOJIBAKE = [("£", "Â£"), ("é", "Ã©"), ("'", "â€™")]


def _hms(sec: np.ndarray, plain: np.ndarray) -> list[str]:
    s = sec.astype(np.int64)
    return [str(v) if p else f"{v // 3600:02d}:{v % 3600 // 60:02d}:{v % 60:02d}" for v, p in zip(s.tolist(), plain, strict=True)]


def acd(ctx: Ctx) -> None:
    c, pop, w = ctx.c, ctx.pop, ctx.writer
    rng, r = ctx.rng(), ctx.pyrng()
    idx = np.flatnonzero(c.channel == "phone")
    n = len(idx)
    abandoned = rng.random(n) < 0.08
    transferred = (~abandoned) & (rng.random(n) < 0.12)
    conn = (51_000_000 + idx * 3 + rng.integers(0, 3, n)).astype(np.int64)
    ivr_s = rng.integers(25, 140, n)
    offered = ctx.when(c.day[idx], c.second[idx]) + ivr_s.astype("timedelta64[s]")
    wait = np.where(abandoned, rng.exponential(70, n), rng.lognormal(4.3, 0.9, n)).astype(np.int64)
    talk = np.where(abandoned, 0, rng.lognormal(5.7, 0.6, n)).astype(np.int64)
    hold = np.where((~abandoned) & (rng.random(n) < 0.3), rng.integers(10, 400, n), 0)
    wrap = np.where(abandoned, 0, rng.integers(10, 180, n))
    legs = 1 + transferred.astype(int)
    li = np.repeat(np.arange(n), legs)  # row -> contact position
    leg = np.arange(len(li)) - np.repeat(np.cumsum(legs) - legs, legs) + 1
    m = len(li)
    second_leg = leg == 2
    t_off = offered[li] + np.where(second_leg, wait[li] + talk[li], 0).astype("timedelta64[s]")
    codes = rng.choice(3, size=m, p=[0.65, 0.22, 0.13])
    reason = c.reason[idx][li]
    reasons = ctx.reasons
    wrap_codes = np.array([x.wrap for x in reasons])
    other = rng.integers(0, len(reasons), m)
    u = rng.random(m)
    wcode = np.where(u < 0.74, wrap_codes[reason], np.where(u < 0.9, "GENERAL", wrap_codes[other]))
    wcode = np.where(abandoned[li], "", wcode)
    queues = np.array([x.queue for x in reasons])
    queue = np.where(second_leg | (rng.random(m) < 0.92), queues[reason], "General Enquiries")
    first_q = np.where(transferred[li] & ~second_leg & (rng.random(m) < 0.7), "General Enquiries", queue)
    queue = np.where(second_leg, queues[reason], first_q)
    agent = np.where(abandoned[li], "", np.char.add("AG", rng.integers(100, 460, m).astype(str)))
    plain = rng.random(m) < 0.15
    leg_talk = np.where(second_leg, talk[li] * 0.6, np.where(transferred[li], talk[li] * 0.4, talk[li]))
    leg_wait = np.where(second_leg, rng.integers(5, 90, m), wait[li])
    cli = []
    notes = []
    ftype = c.ftype[idx]
    pers = c.person[idx]
    ridx = c.reason[idx]
    for j, row in enumerate(li.tolist()):
        if leg[j] == 1:
            p = int(pers[row])
            cur = "" if r.random() < 0.03 else people.phone(pop, p, r)
        cli.append(cur)
        if abandoned[row]:
            notes.append("")
            continue
        note = w.note(ctx.reasons[ridx[row]].id, ftype[row])
        v = r.random()
        if v < 0.002:
            note = f"{note}\ncust rang back\nsee previous"
        elif v < 0.004:
            a, b = MOJIBAKE[r.randrange(len(MOJIBAKE))]
            note = f"{note} pd {a}20" .replace(a, b)
        notes.append(note)
    call_id = (880_000_000 + np.arange(m) * 2 + rng.integers(0, 2, m)).astype(str)
    df = pl.DataFrame({
        "CallID": call_id, "ConnID": conn[li].astype(str), "Leg": leg.astype(str),
        "CLI": mess.trailing_spaces(cli, rng), "Queue": mess.trailing_spaces(queue.tolist(), rng),
        "Agent": agent, "Offered": mess.fmt_datetimes(t_off, codes, ACD_FORMATS),
        "WaitTime": _hms(leg_wait, plain), "TalkTime": _hms(leg_talk, plain),
        "HoldTime": _hms(np.where(second_leg, 0, hold[li]), plain), "WrapTime": _hms(wrap[li], plain),
        "Abandoned": np.where(abandoned[li], "Y", "N"),
        "Transferred": np.where(transferred[li] & ~second_leg, "Y", "N"),
        "WrapCode": wcode, "Notes": notes,
    })
    st = FileStats("exports/acd_calls.csv", "acd_calls")
    df = mess.apply(df, rng, ["CallID"], "Offered", "Notes", st, change=" - updated by TL")
    mess.write_csv(df, ctx.exports / "acd_calls.csv")
    st.notes.append("Offered mixes dd/mm/yyyy hh:mm:ss, ISO without seconds and unpadded d/m/yyyy h:mm")
    ctx.stats.append(st)
    cid = idx[li]
    ctx.rec.add("acd_calls", "contact", call_id.tolist(), contact_id=cid, episode_id=c.episode[cid],
                person_id=c.person[cid], reason_id=ctx.reason_ids(c.reason[cid]), demand=c.failure[cid],
                failure_type=c.ftype[cid], language=c.lang[cid], channel=np.full(m, "phone"),
                started_at=t_off)
    ctx.contact_ref[idx] = conn.astype(str)
    ctx.answered[idx] = ~abandoned


def ivr(ctx: Ctx) -> None:
    c, pop = ctx.c, ctx.pop
    rng, r = ctx.rng(), ctx.pyrng()
    phone_idx = np.flatnonzero(c.channel == "phone")
    linked = phone_idx[rng.random(len(phone_idx)) < 0.9]
    own = np.flatnonzero(c.channel == "ivr")
    idx = np.sort(np.concatenate([linked, own]))
    n = len(idx)
    is_call = c.channel[idx] == "phone"
    reason = c.reason[idx]
    paths = np.array([x.ivr_path for x in ctx.reasons])
    labels = np.array([x.ivr_option for x in ctx.reasons])
    wrong = rng.random(n) < 0.12
    ri = np.where(wrong, rng.integers(0, len(ctx.reasons), n), reason)
    deeper = rng.random(n) < 0.35
    path = [f"{p}>{d}" if dp else str(p) for p, d, dp in zip(paths[ri], rng.integers(1, 5, n), deeper, strict=True)]
    exitp = np.where(is_call, "agent", np.where(rng.random(n) < 0.55, "self-serve", "hangup"))
    sess = (30_000_000 + idx * 2 + rng.integers(0, 2, n)).astype(str)
    start = ctx.when(c.day[idx], c.second[idx])
    number = []
    vname = []
    for i in idx.tolist():
        p = int(c.person[i])
        digits = pop.mobile[p] or pop.landline[pop.household[p]]
        if r.random() < 0.04:
            digits = ""
        number.append(("44" + digits if r.random() < 0.7 else "0" + digits) if digits else "Withheld")
        vname.append(people.full_name(pop, p, r) if r.random() < 0.2 else "")
    df = pl.DataFrame({
        "SessionID": sess, "CallerNumber": number, "VerifiedName": vname,
        "StartTime": mess.fmt_datetimes(start, np.zeros(n, dtype=np.int64), ["%Y-%m-%d %H:%M:%S"]),
        "MenuPath": path, "Option": labels[ri], "ExitPoint": exitp,
        "ConnID": np.where(is_call, ctx.contact_ref[idx].astype(str), ""),
        "DurationSec": rng.integers(20, 240, n).astype(str),
    })
    st = FileStats("exports/ivr_log.csv", "ivr")
    df = mess.apply(df, rng, ["SessionID"], "StartTime", "ExitPoint", st, change="-retry")
    mess.write_csv(df, ctx.exports / "ivr_log.csv", sep=";", encoding="cp1252")
    st.notes.append("semicolon-delimited, cp1252 (£ in option labels, accented names)")
    ctx.stats.append(st)
    ctx.rec.add("ivr", "contact", sess.tolist(), contact_id=idx, episode_id=c.episode[idx], person_id=c.person[idx],
                reason_id=ctx.reason_ids(reason), demand=c.failure[idx], failure_type=c.ftype[idx],
                language=c.lang[idx], channel=np.full(n, "ivr"), started_at=start)


def _sentences(text: str, k: int) -> list[str]:
    parts = [p.strip() for p in text.replace("? ", "?|").replace(". ", ".|").split("|") if p.strip()]
    if len(parts) <= 1 or k <= 1:
        return [text]
    step = max(1, len(parts) // k)
    return [" ".join(parts[i:i + step]) for i in range(0, len(parts), step)]


def _iso(t: np.datetime64) -> str:
    return str(t)[:19]


def chat(ctx: Ctx) -> None:
    c, pop, w = ctx.c, ctx.pop, ctx.writer
    rng, r = ctx.rng(), ctx.pyrng()
    idx = np.flatnonzero(c.channel == "chat")
    n = len(idx)
    start = ctx.when(c.day[idx], c.second[idx])
    ids = [f"CH-{5_000_000 + int(i)}" for i in idx]
    convs: list[dict] = []
    for j, i in enumerate(idx.tolist()):
        p = int(c.person[i])
        reason = ctx.reasons[c.reason[i]]
        pii = None
        if c.pii[i]:
            a, pc = people.where(pop, p, int(c.day[i]), r)
            pii = {"name": people.full_name(pop, p, r), "phone": people.phone(pop, p, r),
                   "email": pop.email[p] or "no email", "address": a, "postcode": pc}
        text = w.customer(reason.id, str(c.ftype[i]), str(c.lang[i]), pii, c.day[i] >= ctx.day_of["policy"],
                          1 + (r.random() < 0.3), bool(c.hostile[i]))
        t = start[j]
        msgs = [{"from": "bot", "body": w.bot(0), "ts": _iso(t)}]
        for k, part in enumerate(_sentences(text, r.randint(1, 3))):
            t = t + np.timedelta64(r.randint(10, 90), "s")
            msgs.append({"from": "visitor", "body": part, "ts": _iso(t)})
            if k == 0:
                t = t + np.timedelta64(r.randint(20, 400), "s")
                msgs.append({"from": "agent", "body": w.reply(), "ts": _iso(t)})
        t = t + np.timedelta64(r.randint(30, 300), "s")
        msgs.append({"from": "agent", "body": w.reply(), "ts": _iso(t)})
        u = r.random()
        name = "Guest" if u < 0.1 else (pop.first[p] if u < 0.25 else people.full_name(pop, p, r))
        conv: dict[str, object] = {
            "id": ids[j], "started": _iso(start[j]), "ended": _iso(t),
            "visitor": {"name": name, "email": people.email(pop, p, r) if r.random() < 0.75 else None},
            "department": reason.queue, "messages": msgs,
        }
        if r.random() < 0.3:
            conv["rating"] = r.randint(1, 5)
        convs.append(conv)
    st = FileStats("exports/chat_transcripts.json", "webchat")
    inv, dup, re = mess.plan(rng, n)
    for k in inv.tolist():
        convs[k]["started"] = mess.INVALID_DATES[k % len(mess.INVALID_DATES)]
    st.invalid_keys = [ids[k] for k in inv.tolist()]
    out: list[dict] = []
    dups, res = set(dup.tolist()), set(re.tolist())
    for k, conv in enumerate(convs):
        out.append(conv)
        if k in dups:
            out.append(conv)
        if k in res:
            changed = json.loads(json.dumps(conv))
            changed["messages"].append({"from": "agent", "body": "Transcript amended by supervisor.",
                                        "ts": changed["ended"]})
            out.append(changed)
    st.rows_written, st.distinct_keys = len(out), n
    st.expected_duplicates, st.expected_reexports, st.expected_invalid = len(dup), len(re), len(inv)
    meta = {"system": "LiveAssist 4.2", "exported_at": f"{ctx.as_of.isoformat()}T23:59:00",
            "organisation": ctx.org, "count": len(out)}
    (ctx.exports / "chat_transcripts.json").write_text(
        json.dumps({"export": meta, "conversations": out}, ensure_ascii=False, indent=1), encoding="utf-8")
    ctx.stats.append(st)
    ctx.rec.add("webchat", "contact", ids, contact_id=idx, episode_id=c.episode[idx], person_id=c.person[idx],
                reason_id=ctx.reason_ids(c.reason[idx]), demand=c.failure[idx], failure_type=c.ftype[idx],
                language=c.lang[idx], channel=np.full(n, "chat"), started_at=start)
    ctx.contact_ref[idx] = np.array(ids, dtype=object)
    ctx.answered[idx] = True


SUBJECTS = ["{label}", "Re: {label}", "URGENT - {label}", "Query", "complaint", "ref {ref}", "Help please",
            "FW: {label}", "", "Council enquiry", "{label} - {name}", "still waiting!!"]


def email(ctx: Ctx) -> None:
    c, pop, w = ctx.c, ctx.pop, ctx.writer
    rng, r = ctx.rng(), ctx.pyrng()
    idx = np.flatnonzero(c.channel == "email")
    n = len(idx)
    start = ctx.when(c.day[idx], c.second[idx])
    rows: list[dict] = []
    ids = []
    for j, i in enumerate(idx.tolist()):
        p = int(c.person[i])
        reason = ctx.reasons[c.reason[i]]
        addr = people.email(pop, p, r) or f"{pop.first[p].lower()}{p % 997}@example.net"
        name = people.full_name(pop, p, r)
        pii = None
        if c.pii[i]:
            a, pc = people.where(pop, p, int(c.day[i]), r)
            pii = {"name": name, "phone": people.phone(pop, p, r), "email": addr, "address": a, "postcode": pc}
        long = r.random() < 0.03
        body = w.customer(reason.id, str(c.ftype[i]), str(c.lang[i]), pii, c.day[i] >= ctx.day_of["policy"],
                          14 if long else 1 + (r.random() < 0.5), bool(c.hostile[i]))
        body += w.signoff(name.split(" ")[0] if r.random() < 0.6 else name,
                          people.phone(pop, p, r) if r.random() < 0.4 else "")
        if c.seq[i] > 0 or long:
            body += w.quoted(ctx.org, 10 if long else 1)
        mid = f"<{int(i):08x}.{r.randrange(16**6):06x}@{addr.split('@')[1]}>"
        ids.append(mid)
        subj = r.choice(SUBJECTS).format(label=reason.label, ref=f"{reason.ref_prefix}-{r.randint(100000, 999999)}",
                                         name=name)
        rows.append({"message_id": mid, "thread_id": f"TH{int(c.episode[i]):08d}", "received": _iso(start[j]),
                     "from_address": addr, "from_name": name if r.random() < 0.85 else "",
                     "subject": subj, "body": body,
                     "mailbox": f"{reason.area.lower().replace(' ', '').replace('&', 'and')}@{ctx.domain}"})
    st = FileStats("exports/email_export.ndjson", "email")
    inv, dup, re = mess.plan(rng, n)
    for k in inv.tolist():
        rows[k]["received"] = mess.INVALID_DATES[k % len(mess.INVALID_DATES)]
    st.invalid_keys = [ids[k] for k in inv.tolist()]
    lines: list[str] = []
    dups, res = set(dup.tolist()), set(re.tolist())
    for k, row in enumerate(rows):
        lines.append(json.dumps(row, ensure_ascii=False))
        if k in dups:
            lines.append(lines[-1])
        if k in res:
            lines.append(json.dumps({**row, "mailbox": f"archive@{ctx.domain}"}, ensure_ascii=False))
    st.rows_written, st.distinct_keys = len(lines), n
    st.expected_duplicates, st.expected_reexports, st.expected_invalid = len(dup), len(re), len(inv)
    (ctx.exports / "email_export.ndjson").write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx.stats.append(st)
    ctx.rec.add("email", "contact", ids, contact_id=idx, episode_id=c.episode[idx], person_id=c.person[idx],
                reason_id=ctx.reason_ids(c.reason[idx]), demand=c.failure[idx], failure_type=c.ftype[idx],
                language=c.lang[idx], channel=np.full(n, "email"), started_at=start)
    ctx.contact_ref[idx] = np.array(ids, dtype=object)
    ctx.answered[idx] = True
