"""Record silos: CRM cases, repairs jobs, complaints, post-contact surveys and (housing) properties."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import xlsxwriter

from . import mess, people
from .common import Ctx
from .mess import FileStats

CRM_COLUMNS = ["Case Ref", "Account No", "Customer Name", "Postcode", "Email", "Phone", "Type", "Category",
               "Created", "Promised", "Closed", "Status", "Reopened", "Description"]
REPAIR_COLUMNS = ["Job No", "Tenancy Ref", "UPRN", "Trade", "Priority", "Raised", "Target Date", "Completed",
                  "Visits", "First Time Fix", "Description"]
TRADES = {"repairs.leak": ["Plumbing", "Roofing"], "repairs.heating": ["Heating", "Gas"],
          "repairs.damp_mould": ["Damp & Mould", "Plastering"], "repairs.doors_windows": ["Carpentry", "Glazing"]}


def _episode_facts(ctx: Ctx) -> tuple[dict[int, int], set[int], set[int]]:
    """First selected contact per episode; episodes with a complaint; episodes with a repeat."""
    c = ctx.c
    first: dict[int, int] = {}
    comp: set[int] = set()
    rep: set[int] = set()
    for i, (e, f) in enumerate(zip(c.episode.tolist(), c.ftype.tolist(), strict=True)):
        first.setdefault(e, i)
        if f == "complaint":
            comp.add(e)
        elif f in ("repeat_unresolved", "not_done_right"):
            rep.add(e)
    return first, comp, rep


def _xlsx(path, sheets: dict[str, list[list[object]]], columns: list[str], as_of) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": datetime(as_of.year, as_of.month, as_of.day, 23, 0, 0),
                       "author": "CRM export service", "title": path.stem})
    dfmt = wb.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, columns)
        for i, row in enumerate(rows, start=1):
            for j, v in enumerate(row):
                if isinstance(v, datetime):
                    ws.write_datetime(i, j, v, dfmt)
                elif v is None or v == "":
                    continue
                elif isinstance(v, int | float):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
    wb.close()


def _to_dt(t: np.datetime64) -> datetime:
    return datetime.fromisoformat(str(t.astype("datetime64[s]")))


def _mess_rows(rows: list[list[object]], keys: list[str], rng: np.random.Generator, date_j: int, change_j: int,
               st: FileStats) -> list[list[object]]:
    inv, dup, re = mess.plan(rng, len(rows))
    for k in inv.tolist():
        rows[k][date_j] = mess.INVALID_DATES[k % len(mess.INVALID_DATES)]
    st.invalid_keys = [keys[k] for k in inv.tolist()]
    out: list[list[object]] = []
    dups, res = set(dup.tolist()), set(re.tolist())
    for k, row in enumerate(rows):
        out.append(row)
        if k in dups:
            out.append(list(row))
        if k in res:
            ch = list(row)
            ch[change_j] = "Closed" if ch[change_j] != "Closed" else "Reopened"
            out.append(ch)
    st.rows_written, st.distinct_keys = len(out), len(rows)
    st.expected_duplicates, st.expected_reexports, st.expected_invalid = len(dup), len(re), len(inv)
    return out


def cases(ctx: Ctx) -> None:
    """CRM cases (and, for housing, repairs jobs) raised at the first contact of some episodes."""
    c, pop, w = ctx.c, ctx.pop, ctx.writer
    rng, r = ctx.rng(), ctx.pyrng()
    first, comp, rep = _episode_facts(ctx)
    crm_rows: list[list[object]] = []
    crm_keys: list[str] = []
    crm_idx: list[int] = []
    job_rows: list[list[object]] = []
    job_keys: list[str] = []
    job_idx: list[int] = []
    as_of_dt = datetime(ctx.as_of.year, ctx.as_of.month, ctx.as_of.day, 23, 59)
    for e, i in first.items():
        reason = ctx.reasons[c.reason[i]]
        kind = reason.case_type
        if not kind or r.random() > (0.85 if kind == "repair" else 0.5):
            continue
        p = int(c.person[i])
        created = _to_dt(ctx.when(c.day[i:i + 1], c.second[i:i + 1] + r.randint(60, 900))[0])
        a, pc = people.where(pop, p, int(c.day[i]), r)
        desc = w.customer(reason.id, str(c.ftype[i]), "en", None, c.day[i] >= ctx.day_of["policy"], 1,
                          bool(c.hostile[i]) and r.random() < 0.5)
        h = int(pop.household[p])
        if kind == "repair":
            prio = r.choices(["Emergency", "Urgent", "Routine"], [0.15, 0.3, 0.55])[0]
            target = created + np.timedelta64({"Emergency": 1, "Urgent": 7, "Routine": 28}[prio], "D").item()
            visits = 1 + (e in rep) + (r.random() < 0.15) + (r.random() < 0.05)
            done = created + np.timedelta64(int(r.expovariate(1 / 12)) + 1, "D").item()
            key = f"J{7_000_000 + len(job_rows) * 3 + r.randrange(3)}"
            job_rows.append([key, pop.tenancy[h] if r.random() > 0.03 else "", pop.uprn[h],
                             r.choice(TRADES.get(reason.id, ["General"])), prio, created, target,
                             done if done < as_of_dt else None, visits, "Y" if visits == 1 else "N", desc])
            job_keys.append(key)
            job_idx.append(i)
            ctx.case_of_episode[e] = key
            continue
        promised = created + np.timedelta64(r.choice([5, 10, 10, 15, 20, 28]), "D").item()
        closed = created + np.timedelta64(int(r.expovariate(1 / 9)) + 1, "D").item()
        open_ = closed >= as_of_dt or r.random() < 0.05
        status = "Open" if open_ else r.choices(["Closed", "Resolved", "Cancelled"], [0.8, 0.15, 0.05])[0]
        if open_ and r.random() < 0.5:
            status = "In Progress"
        key = f"CAS-{1_000_000 + len(crm_rows) * 7 + r.randrange(7)}"
        typ = "Complaint" if e in comp else r.choice(["Service Request", "Service Request", "Enquiry"])
        account = pop.tenancy[h] if ctx.sector == "housing" else pop.account[p]
        crm_rows.append([key, account if r.random() > 0.1 else "", people.full_name(pop, p, r),
                         pc if r.random() > 0.04 else "", people.email(pop, p, r) if r.random() > 0.2 else "",
                         # the CRM holds the number on file: the mobile where there is one
                         people.phone(pop, p, r, landline_first=0.0) if r.random() > 0.1 else "", typ,
                         reason.label if r.random() > 0.1 else reason.area, created, promised,
                         None if open_ else closed, status, "Y" if (e in rep and r.random() < 0.6) else "N", desc])
        crm_keys.append(key)
        crm_idx.append(i)
        ctx.case_of_episode[e] = key
    st = FileStats("exports/crm_cases.xlsx", "crm")
    out = _mess_rows(crm_rows, crm_keys, rng, 8, 11, st)
    sheets: dict[str, list[list[object]]] = {}
    for row in out:
        y = row[8].year if isinstance(row[8], datetime) else ctx.as_of.year
        sheets.setdefault(f"Cases {y}", []).append(row)
    _xlsx(ctx.exports / "crm_cases.xlsx", dict(sorted(sheets.items())), CRM_COLUMNS, ctx.as_of)
    st.notes.append("one sheet per year of Created: " + ", ".join(sorted(sheets)))
    ctx.stats.append(st)
    ix = np.array(crm_idx, dtype=np.int64)
    ctx.rec.add("crm", "case", crm_keys, contact_id=ix, episode_id=c.episode[ix], person_id=c.person[ix],
                reason_id=ctx.reason_ids(c.reason[ix]), demand=c.failure[ix], failure_type=c.ftype[ix],
                language=np.full(len(ix), "en"), started_at=ctx.when(c.day[ix], c.second[ix]))
    if ctx.sector == "housing":
        st = FileStats("exports/repairs.xlsx", "repairs")
        out = _mess_rows(job_rows, job_keys, rng, 5, 4, st)
        _xlsx(ctx.exports / "repairs.xlsx", {"Jobs": out}, REPAIR_COLUMNS, ctx.as_of)
        ctx.stats.append(st)
        ix = np.array(job_idx, dtype=np.int64)
        ctx.rec.add("repairs", "case", job_keys, contact_id=ix, episode_id=c.episode[ix], person_id=c.person[ix],
                    reason_id=ctx.reason_ids(c.reason[ix]), demand=c.failure[ix], failure_type=c.ftype[ix],
                    language=np.full(len(ix), "en"), started_at=ctx.when(c.day[ix], c.second[ix]))


def _wd(d: date, n: int) -> date:
    """``n`` working days (Mon-Fri) after ``d``."""
    return date.fromisoformat(str(np.busday_offset(np.datetime64(d, "D"), n, roll="forward")))


def _ddmmyyyy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


def complaints(ctx: Ctx) -> dict[str, float]:
    """Complaints (stage 1, some escalated to stage 2); returns the realised timeliness shares."""
    c, pop, w = ctx.c, ctx.pop, ctx.writer
    rng, r = ctx.rng(), ctx.pyrng()
    seen: set[int] = set()
    rows: list[dict[str, str]] = []
    keys: list[str] = []
    src: list[int] = []
    as_of = ctx.as_of
    breach = {"ack": [0, 0], "s1": [0, 0], "s2": [0, 0]}
    for i in np.flatnonzero(c.ftype == "complaint").tolist():
        e = int(c.episode[i])
        if e in seen:
            continue
        seen.add(e)
        p = int(c.person[i])
        reason = ctx.reasons[c.reason[i]]
        cid = f"CMP{200_000 + len(seen) * 3 + r.randrange(3)}"
        received = ctx.start + timedelta(days=int(c.day[i]))
        a, pc = people.where(pop, p, int(c.day[i]), r)
        who = {"Complainant Name": people.full_name(pop, p, r),
               "Complainant Email": people.email(pop, p, r) if r.random() < 0.6 else "",
               "Complainant Phone": people.phone(pop, p, r) if r.random() < 0.5 else "", "Postcode": pc}
        summary = w.customer(reason.id, "complaint", str(c.lang[i]), None, False, r.randint(2, 4), bool(c.hostile[i]))
        stages = [1, 2] if r.random() < 0.2 else [1]
        for stage in stages:
            ack_wd = r.randint(1, 5) if r.random() < 0.88 else r.randint(6, 12)
            limit = 10 if stage == 1 else 20
            resp_wd = r.randint(3, limit) if r.random() < (0.78 if stage == 1 else 0.7) else r.randint(limit + 1, limit + 25)
            ack_wd = min(ack_wd, resp_wd)
            ack = _wd(received, ack_wd)
            resp = _wd(received, resp_wd)
            if received > as_of:
                break
            responded = resp <= as_of
            if ack <= as_of:
                breach["ack"][0] += ack_wd > 5
                breach["ack"][1] += 1
            if responded:
                b = breach["s1" if stage == 1 else "s2"]
                b[0] += resp_wd > limit
                b[1] += 1
            rows.append({"Complaint ID": cid, "Stage": str(stage), "Received": _ddmmyyyy(received),
                         "Acknowledged": _ddmmyyyy(ack) if ack <= as_of else "",
                         "Responded": _ddmmyyyy(resp) if responded else "",
                         "Upheld": r.choice(["Yes", "No", "Partly", "No"]) if responded else "",
                         "Category": r.choice(["Service failure", "Delay", "Staff conduct", "Policy", "Communication"]),
                         "Service Area": reason.area, "Linked Case": ctx.case_of_episode.get(e, ""),
                         **who, "Summary": summary if stage == 1 else "Not satisfied with stage 1 response. " + summary})
            keys.append(f"{cid}|{stage}")
            src.append(i)
            received = _wd(resp, r.randint(3, 25))
    df = pl.DataFrame(rows, schema={k: pl.String for k in (
        ["Complaint ID", "Stage", "Received", "Acknowledged", "Responded", "Upheld", "Category", "Service Area",
         "Linked Case", "Complainant Name", "Complainant Email", "Complainant Phone", "Postcode", "Summary"])})
    st = FileStats("exports/complaints.csv", "complaints")
    df = mess.apply(df, rng, ["Complaint ID", "Stage"], "Received", "Upheld", st, change=" (revised)")
    mess.write_csv(df, ctx.exports / "complaints.csv", bom=True)
    st.notes.append("UTF-8 with BOM; key is Complaint ID + Stage")
    ctx.stats.append(st)
    ix = np.array(src, dtype=np.int64)
    ctx.rec.add("complaints", "complaint", keys, contact_id=ix, episode_id=c.episode[ix], person_id=c.person[ix],
                reason_id=ctx.reason_ids(c.reason[ix]), demand=c.failure[ix], failure_type=c.ftype[ix],
                language=c.lang[ix], started_at=ctx.when(c.day[ix], np.zeros(len(ix), dtype=np.int64)))
    return {k: (v[0] / v[1] if v[1] else 0.0) for k, v in breach.items()} | {
        f"{k}_n": float(v[1]) for k, v in breach.items()}


def surveys(ctx: Ctx) -> None:
    c, pop, w = ctx.c, ctx.pop, ctx.writer
    rng, r = ctx.rng(), ctx.pyrng()
    ids = [x.id for x in ctx.reasons]
    i_drv = ids.index(ctx.eff.csat_reason)
    ok = np.flatnonzero(ctx.answered & np.isin(c.channel, ["phone", "chat", "email"]) & (c.day < ctx.days - 3))
    idx = ok[rng.random(len(ok)) < 0.12]
    n = len(idx)
    drv = c.reason[idx] == i_drv
    fail = c.failure[idx]
    p_top = 0.80 - 0.30 * fail - ctx.eff.csat_penalty * drv
    top = rng.random(n) < p_top
    csat = np.where(top, rng.choice([4, 5], n, p=[0.45, 0.55]), rng.choice([1, 2, 3], n, p=[0.35, 0.3, 0.35]))
    hard = drv & (ctx.eff.csat_penalty > 0)
    ces = np.clip(np.round(rng.normal(5.6 - 1.8 * fail - 2.2 * hard + 0.4 * (csat - 3), 1.0)), 1, 7).astype(int)
    nps = np.clip(np.round(rng.normal(2.2 * csat - 1.0, 1.4)), 0, 10).astype(int)
    resp = ctx.when(c.day[idx] + rng.integers(0, 4, n), rng.integers(8 * 3600, 21 * 3600, n))
    chan = np.array(["Phone", "Webchat", "Email"])[
        np.select([c.channel[idx] == "phone", c.channel[idx] == "chat"], [0, 1], 2)]
    rid = np.char.add("R", (4_000_000 + np.arange(n) * 5 + rng.integers(0, 5, n)).astype(str))
    refs, comments, em, ph = [], [], [], []
    for j, i in enumerate(idx.tolist()):
        p = int(c.person[i])
        refs.append(str(ctx.contact_ref[i]) if r.random() < 0.85 else "")
        comments.append(w.comment(ctx.reasons[c.reason[i]].id, bool(top[j]), str(c.ftype[i]))
                        if r.random() < 0.55 else "")
        em.append(people.email(pop, p, r) if r.random() < 0.3 else "")
        ph.append(people.phone(pop, p, r) if r.random() < 0.15 else "")
    df = pl.DataFrame({
        "Response ID": rid, "Date": mess.fmt_datetimes(resp, np.zeros(n, dtype=np.int64), ["%d/%m/%Y %H:%M"]),
        "Contact Ref": refs, "Channel": chan, "Q1 Satisfaction": csat.astype(str), "Q2 Recommend": nps.astype(str),
        "Q3 Effort": ces.astype(str), "Comment": comments, "Email": em, "Phone": ph,
    })
    st = FileStats("exports/survey_results.csv", "surveys")
    df = mess.apply(df, rng, ["Response ID"], "Date", "Comment", st, change=" [edited]")
    mess.write_csv(df, ctx.exports / "survey_results.csv", crlf=True)
    st.notes.append("CRLF line endings")
    ctx.stats.append(st)
    ctx.rec.add("surveys", "survey", rid.tolist(), contact_id=idx, episode_id=c.episode[idx], person_id=c.person[idx],
                reason_id=ctx.reason_ids(c.reason[idx]), demand=c.failure[idx], failure_type=c.ftype[idx],
                language=c.lang[idx], channel=c.channel[idx], started_at=resp, csat=csat)


def properties(ctx: Ctx) -> None:
    pop = ctx.pop
    rng = ctx.rng()
    n = len(pop.uprn)
    df = pl.DataFrame({"UPRN": pop.uprn, "Address": mess.trailing_spaces(pop.address, rng, 0.02),
                       "Postcode": pop.postcode, "Type": pop.prop_type, "Patch": pop.patch, "Tenure": pop.tenure})
    st = FileStats("exports/properties.csv", "properties")
    df = mess.apply(df, rng, ["UPRN"], None, "Tenure", st, change=" (review)")
    mess.write_csv(df, ctx.exports / "properties.csv")
    ctx.stats.append(st)
    ctx.rec.add("properties", "property", pop.uprn, person_id=np.full(n, -1))
