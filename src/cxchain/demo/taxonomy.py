"""Reason taxonomies of the sample organisations, and the planted effects' configuration.

Each reason carries what the silos need to look plausible: the coarse ACD wrap code, the queue,
the IVR menu path, the business area, the case category, a volume weight and a base share of
first contacts that are failure demand.  The true ``reason_id`` is recorded only in the truth files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Reason:
    id: str
    label: str
    wrap: str  # coarse ACD wrap code
    queue: str
    ivr_path: str
    ivr_option: str
    area: str  # business area
    case_type: str  # "case" (CRM), "repair" (repairs silo) or "" (no case)
    weight: float
    base_fail: float  # share of first contacts that are failure demand
    ref_prefix: str  # prefix of reference numbers customers quote


COUNCIL: tuple[Reason, ...] = (
    Reason("council_tax.bill_query", "Council tax bill query", "CTAX", "Council Tax", "1>1",
           "Council tax bills and balances", "Revenues", "case", 9.0, 0.30, "CT"),
    Reason("council_tax.payment", "Council tax payments and direct debits", "CTAX", "Council Tax", "1>2",
           "Pay council tax (£)", "Revenues", "case", 8.0, 0.40, "CT"),
    Reason("council_tax.reduction", "Council tax reduction / discounts", "CTAX", "Benefits", "2>2",
           "Council tax reduction", "Revenues", "case", 4.0, 0.25, "CTR"),
    Reason("benefits.housing_benefit", "Housing benefit claims", "BEN", "Benefits", "2>1",
           "Housing benefit", "Benefits", "case", 5.0, 0.30, "HB"),
    Reason("waste.missed_collection", "Missed bin collection", "WASTE", "Waste & Recycling", "3>1",
           "Missed bin collections", "Waste Services", "case", 9.0, 0.22, "WR"),
    Reason("waste.bulky", "Bulky waste collection", "WASTE", "Waste & Recycling", "3>2",
           "Bulky waste", "Waste Services", "case", 4.0, 0.15, "BW"),
    Reason("waste.containers", "Recycling containers and bins", "WASTE", "Waste & Recycling", "3>3",
           "New or replacement bins", "Waste Services", "case", 5.0, 0.20, "WR"),
    Reason("parking.permits", "Parking permits", "PARK", "Parking", "4>1",
           "Parking permits", "Parking Services", "case", 4.0, 0.20, "PP"),
    Reason("parking.fines", "Parking fines (PCNs)", "PARK", "Parking", "4>2",
           "Parking fines", "Parking Services", "case", 4.0, 0.25, "PCN"),
    Reason("highways.potholes_lighting", "Potholes and street lighting", "HWAY", "Streets", "5>1",
           "Roads, potholes and street lights", "Highways", "case", 5.0, 0.18, "HW"),
    Reason("planning.applications", "Planning applications", "PLAN", "Planning", "5>2",
           "Planning and building control", "Planning", "case", 2.5, 0.20, "PL"),
    Reason("env_health.noise_asb", "Noise and anti-social behaviour", "ENV", "Environmental Health", "5>3",
           "Noise and nuisance", "Environmental Health", "case", 3.0, 0.22, "EH"),
    Reason("housing.repairs", "Council housing repairs", "HOUS", "Housing", "6>1",
           "Council housing repairs", "Housing", "case", 6.0, 0.30, "HR"),
    Reason("social_care.blue_badge", "Blue badge applications", "BB", "Adult Services", "6>2",
           "Blue badges", "Adult Social Care", "case", 2.5, 0.25, "BB"),
    Reason("education.school_admissions", "School admissions", "EDU", "Education", "7>1",
           "School admissions", "Education", "case", 2.5, 0.22, "SA"),
    Reason("registrars.certificates", "Registrars: births, deaths, marriages", "REG", "Registrars", "7>2",
           "Register office", "Registrars", "", 2.5, 0.12, "REG"),
)

HOUSING: tuple[Reason, ...] = (
    Reason("repairs.leak", "Leaks and water ingress", "REPAIR", "Repairs", "1>1",
           "Report a leak", "Property Services", "repair", 8.0, 0.25, "JOB"),
    Reason("repairs.heating", "Heating, boilers and hot water", "REPAIR", "Repairs", "1>2",
           "Heating and hot water", "Property Services", "repair", 9.0, 0.30, "JOB"),
    Reason("repairs.damp_mould", "Damp and mould", "REPAIR", "Repairs", "1>3",
           "Damp and mould", "Property Services", "repair", 6.0, 0.30, "JOB"),
    Reason("repairs.doors_windows", "Doors, windows and locks", "REPAIR", "Repairs", "1>4",
           "Doors, windows and locks", "Property Services", "repair", 5.0, 0.20, "JOB"),
    Reason("repairs.appointment", "Repair appointment chasing", "REPAIR", "Repairs", "1>5",
           "An existing repair or appointment", "Property Services", "", 7.0, 0.70, "JOB"),
    Reason("rent.payment_arrears", "Rent payments and arrears", "RENT", "Income", "2>1",
           "Pay rent (£) or arrears", "Income Management", "case", 8.0, 0.25, "RA"),
    Reason("rent.statement", "Rent statement and balance queries", "RENT", "Income", "2>2",
           "Rent statements and balances", "Income Management", "case", 4.0, 0.20, "RS"),
    Reason("rent.service_charges", "Service charges", "RENT", "Income", "2>3",
           "Service charges", "Leasehold & Service Charges", "case", 3.0, 0.25, "SC"),
    Reason("asb.report", "Anti-social behaviour", "ASB", "Neighbourhoods", "3>1",
           "Anti-social behaviour", "Neighbourhoods", "case", 4.0, 0.25, "ASB"),
    Reason("tenancy.changes", "Tenancy changes (joint, succession, exchange)", "TEN", "Neighbourhoods", "3>2",
           "Your tenancy", "Tenancy Services", "case", 3.5, 0.20, "TEN"),
    Reason("lettings.voids", "Lettings, moving in and empty homes", "LET", "Lettings", "4>1",
           "Moving home and lettings", "Lettings", "case", 3.0, 0.20, "LET"),
    Reason("complaints.general", "Complaints about service", "COMP", "Customer Relations", "0>1",
           "Make a complaint", "Customer Relations", "case", 2.5, 0.60, "CMP"),
    Reason("safety.gas_check", "Gas safety checks", "GAS", "Compliance", "1>6",
           "Gas safety check", "Compliance", "case", 3.5, 0.20, "GS"),
    Reason("adaptations.request", "Aids and adaptations", "ADAPT", "Repairs", "1>7",
           "Aids and adaptations", "Property Services", "case", 2.0, 0.25, "AD"),
)

REASONS: dict[str, tuple[Reason, ...]] = {"council": COUNCIL, "housing": HOUSING}

FAILURE_TYPES = ("chasing_progress", "not_done_right", "did_not_understand", "repeat_unresolved", "complaint")


@dataclass(frozen=True)
class Effects:
    """The planted effects of one sector (reason ids and dates relative to ``as_of``)."""

    policy_reason: str
    policy_name: str
    policy_date: date
    policy_fail_before: float
    policy_fail_after: float  # equal to before when effects are off
    repeat_reason: str
    repeat_base: float  # probability that an episode continues, every reason
    repeat_hot: float  # ... for the hot-spot reason (equal to base when effects are off)
    csat_reason: str
    csat_penalty: float  # drop in top-2-box probability for the driver reason (0 when off)
    worked_reason: str
    worked_name: str
    worked_date: date
    worked_drop: float  # share of failure contacts removed after go-live (0 when off)
    flop_reason: str
    flop_name: str
    flop_date: date


def _monday(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _extreme_monday(start: date, end: date, at: float, avoid: date | None) -> date:
    """A Monday near a seasonal extreme (mid-January or mid-July) with 14 clear weeks either side,
    nearest the point ``at`` of the range, so naive before/after windows are seasonally balanced."""
    span = (end - start).days
    target = start + timedelta(days=int(span * at))
    lo, hi = start + timedelta(weeks=14), end - timedelta(weeks=14)
    cands = [_monday(date(y, m, 15)) for y in range(start.year, end.year + 1) for m in (1, 7)]
    cands = [d for d in cands if lo <= d <= hi and d != avoid]
    if not cands:
        return _monday(target)
    return min(cands, key=lambda d: abs((d - target).days))


def effects_for(sector: str, start: date, end: date, on: bool) -> Effects:
    """The planted effects for ``sector`` within [start, end]; zero-sized when ``on`` is False."""
    span = (end - start).days
    policy_date = _monday(start + timedelta(days=int(span * 0.55)))
    worked_date = _extreme_monday(start, end, 0.40, avoid=None)
    flop_date = _extreme_monday(start, end, 0.75, avoid=worked_date)
    if sector == "council":
        names = dict(
            policy_reason="waste.missed_collection", policy_name="New fortnightly bin-collection schedule",
            repeat_reason="waste.containers", csat_reason="parking.fines",
            worked_reason="council_tax.payment", worked_name="Online direct-debit set-up form",
            flop_reason="council_tax.bill_query", flop_name="Redesigned online council-tax account page",
        )
    else:
        names = dict(
            policy_reason="rent.statement", policy_name="New-style quarterly rent statement letter",
            repeat_reason="repairs.damp_mould", csat_reason="repairs.appointment",
            worked_reason="repairs.heating", worked_name="Heating-repair triage by a qualified engineer",
            flop_reason="rent.payment_arrears", flop_name="Rent-arrears text-message reminders",
        )
    return Effects(
        policy_date=policy_date, policy_fail_before=0.25, policy_fail_after=0.55 if on else 0.25,
        repeat_base=0.18, repeat_hot=0.50 if on else 0.18,
        csat_penalty=0.35 if on else 0.0,
        worked_date=worked_date, worked_drop=0.70 if on else 0.0,
        flop_date=flop_date,
        **names,
    )
