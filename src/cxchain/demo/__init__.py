"""Seeded sample-organisation generator: a realistic, messy multi-silo export set with planted truths.

    from cxchain.demo import generate
    manifest = generate(Path("demo-org"), sector="housing", contacts=20_000, seed=1)

writes ``exports/`` (the silo files), ``mappings/`` (one YAML per silo, docs/mapping.md),
``truth/contacts.parquet`` and ``truth/identities.parquet`` (per-record truth) and ``truth.json``
(the manifest: files with expected counts, the noise profile and the planted estimands).
Same arguments give byte-identical files.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from . import contacts as contacts_mod
from . import mappings, mess, people, silos_contact, silos_records, truth
from .common import Ctx, Recorder
from .taxonomy import FAILURE_TYPES, REASONS, effects_for
from .text import Writer

__all__ = ["generate", "GENERATOR_VERSION", "SECTORS", "DEFAULT_AS_OF"]

GENERATOR_VERSION = "1.0.0"
SECTORS = ("council", "housing")
DEFAULT_AS_OF = date(2026, 9, 30)
HISTORY_DAYS = 548  # about 18 months
ORGS = {"council": ("Wexley Borough Council", "wexley.example.gov.uk"),
        "housing": ("Calderbrook Homes", "calderbrookhomes.example.org.uk")}
_OWNED = ["exports/acd_calls.csv", "exports/ivr_log.csv", "exports/chat_transcripts.json",
          "exports/email_export.ndjson", "exports/crm_cases.xlsx", "exports/repairs.xlsx",
          "exports/complaints.csv", "exports/survey_results.csv", "exports/properties.csv",
          "mappings/repairs.yaml", "mappings/properties.yaml"]


def generate(out_dir: Path, *, sector: str = "council", contacts: int = 20_000, seed: int = 0,
             as_of: date | None = None, effects: bool = True) -> Path:
    """Write the sample organisation into ``out_dir``; returns the path of ``out_dir/truth.json``.

    ``contacts`` is the number of true customer contacts (calls, IVR-only sessions, chats, emails);
    ``effects=False`` zeroes every planted effect (negative controls) and keeps everything else.
    """
    if sector not in SECTORS:
        raise ValueError(f"sector must be one of {SECTORS}, not {sector!r}")
    if contacts < 100:
        raise ValueError("contacts must be at least 100")
    out_dir = Path(out_dir)
    as_of = as_of or DEFAULT_AS_OF
    start = as_of - timedelta(days=HISTORY_DAYS - 1)
    days = HISTORY_DAYS
    for rel in _OWNED:
        (out_dir / rel).unlink(missing_ok=True)
    exports = out_dir / "exports"
    truth_dir = out_dir / "truth"
    for d in (exports, truth_dir):
        d.mkdir(parents=True, exist_ok=True)

    root = np.random.SeedSequence([seed, SECTORS.index(sector)])
    s_pop, s_con, s_text, s_silo = root.spawn(4)
    reasons = REASONS[sector]
    pop = people.build(np.random.default_rng(s_pop), max(60, int(contacts * 0.55)), sector, days)
    eff = effects_for(sector, start, as_of, effects)
    day_of = {"policy": (eff.policy_date - start).days, "worked": (eff.worked_date - start).days,
              "flop": (eff.flop_date - start).days}
    c = contacts_mod.generate(s_con, contacts, reasons, pop.activity, pop.lang, start.weekday(),
                                start.timetuple().tm_yday, days, eff, day_of)
    writer = Writer(sector, int(s_text.generate_state(1)[0]), {r.id: r.ref_prefix for r in reasons})
    org, domain = ORGS[sector]
    ctx = Ctx(sector=sector, org=org, domain=domain, start=start, days=days, as_of=as_of, pop=pop, c=c,
              reasons=reasons, eff=eff, day_of=day_of, writer=writer, exports=exports, rec=Recorder(),
              seed_seq=s_silo, contact_ref=np.full(c.size, "", dtype=object), answered=np.zeros(c.size, dtype=bool))

    silos_contact.acd(ctx)
    silos_contact.ivr(ctx)
    silos_contact.chat(ctx)
    silos_contact.email(ctx)
    silos_records.cases(ctx)
    timeliness = silos_records.complaints(ctx)
    silos_records.surveys(ctx)
    if sector == "housing":
        silos_records.properties(ctx)
    mapping_files = mappings.write(out_dir / "mappings", sector)

    frame = ctx.rec.frame()
    per_record = frame.filter(frame["entity"] != "property")
    per_record.write_parquet(truth_dir / "contacts.parquet", statistics=False)
    ident = frame.select("source", "source_key", "person_id")
    ident.write_parquet(truth_dir / "identities.parquet", statistics=False)
    truths = truth.estimands(per_record, ident, eff, start, as_of, timeliness)

    manifest = {
        "generator": "cxchain.demo", "generator_version": GENERATOR_VERSION, "seed": seed, "sector": sector,
        "organisation": org, "contacts": contacts, "effects": effects, "as_of": as_of.isoformat(),
        "date_range": {"start": start.isoformat(), "end": as_of.isoformat()},
        "population": {"people": pop.size, "households": len(pop.address)},
        "channels": {ch: int((c.channel == ch).sum()) for ch in contacts_mod.CHANNEL_MIX},
        "noise_profile": {
            "identity": people.NOISE,
            "text": {"non_english": "about 3% (Welsh, Polish) via 4% of people writing in their language 80% of the time",
                     "hostile_markup": 0.02, "embedded_pii": 0.25, "long_emails": 0.03},
            "files": {"exact_duplicates": 0.005, "changed_reexports": 0.003, "invalid_dates": 0.001,
                      "invalid_date_values": mess.INVALID_DATES, "trailing_whitespace": 0.01,
                      "wrap_code": "74% the reason's coarse code, 16% GENERAL, 10% another reason's code"},
            "volume": {"seasonality": contacts_mod.SEASONALITY, "peak": "mid-January",
                       "weekday": "Monday peak, Saturday 35%, Sunday 20% of a weekday",
                       "note": "before/after truths are naive comparisons and include seasonality; "
                               "design_value is the planted causal effect"},
        },
        "taxonomy": [{"reason_id": r.id, "label": r.label, "wrap_code": r.wrap} for r in reasons],
        "failure_types": list(FAILURE_TYPES),
        "files": [s.as_dict() for s in ctx.stats],
        "mappings": mapping_files,
        "truth_files": {"contacts": "truth/contacts.parquet", "identities": "truth/identities.parquet"},
        "truths": truths,
    }
    path = out_dir / "truth.json"
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return path
