"""Typed, versioned metric specifications.

Each :class:`MetricSpec` says, in words and as SQL fragments over one fact table (:mod:`cxchain.metrics.facts`),
what a metric counts.  Rival conventions (repeat window, same-reason rule, service-level threshold and abandon
treatment, short abandons, CSAT top-box, CES direction, small-number suppression) are *not* fixed here: they
live in workspace settings (:data:`cxchain.settings.SETTINGS`, ``metrics.*``) and are substituted into the SQL
at compile time as ``${setting.key}``.  Each result carries the spec id and ``version`` and the convention values
used, so numbers computed under different definitions are never mixed silently.  Bump a spec's ``version`` when
its formula changes; bump ``metrics.version`` (a setting) when a workspace changes a default convention.

Aggregates (how ``value``, ``n`` and ``numerator`` are formed from the rows of the population):

``count``          value = n = rows in the population
``share``          value = numerator / n, numerator = population rows meeting ``numerator``
``mean``           value = mean of ``measure``; n = rows with a non-null measure
``quantile``       value = the ``quantile`` (continuous) of ``measure``; n = rows with a non-null measure
``sum``            value = sum of ``measure``; n = rows in the population
``nps``            value = 100 (promoters - detractors) / n, with a 95% CI from Var = 100^2 [p + d - (p - d)^2] / n
``rate_per_1000``  value = 1000 x population rows / exposure (homes when known, else customers); n = exposure
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["MetricSpec", "REGISTRY", "Aggregate", "Unit", "COMPLAINT_TIMESCALES", "get_spec"]

Aggregate = Literal["count", "share", "mean", "quantile", "sum", "nps", "rate_per_1000"]
Unit = Literal["contacts", "share", "seconds", "hours", "score", "nps", "per_1000", "gbp"]

#: Complaint Handling Code timescales in working days (Housing Ombudsman Code 2024 and LGSCO Code 2024:
#: acknowledge within 5, stage 1 response within 10 of acknowledgement, stage 2 within 20).
#: Source: domain brief sections 6.1 and 6.2.
COMPLAINT_TIMESCALES: dict[str, int] = {"ack_wd": 5, "stage1_response_wd": 10, "stage2_response_wd": 20}
_CITE_COMPLAINTS = ("domain brief 6.1 (Housing Ombudsman Complaint Handling Code 2024) and 6.2 "
                    "(LGSCO Complaint Handling Code 2024): 5 / 10 / 20 working days")


@dataclass(frozen=True)
class MetricSpec:
    """One metric: what it counts (in words and SQL), over which fact table, under which settings.

    SQL fragments are evaluated per row of the fact table (or derived source): ``population`` selects the rows
    that form the denominator / base, ``numerator`` (a predicate) the rows counted above the line, ``measure``
    the value averaged, summed or ranked.  ``${key}`` is replaced by the setting's value (numbers as numbers,
    text as a quoted literal).
    """

    id: str
    title: str
    description: str
    unit: Unit
    fact: str
    aggregate: Aggregate
    version: int = 1
    settings: tuple[str, ...] = ()
    higher_is_better: bool | None = None
    #: A boolean setting that flips ``higher_is_better`` when false (CES direction).
    direction_setting: str | None = None
    population: str = "TRUE"
    numerator: str | None = None
    measure: str | None = None
    quantile: float | None = None
    #: Derived row source built by the compiler instead of reading ``fact`` directly ('repeat', 'channel_issue').
    derived: str | None = None
    #: A setting whose value 'customer' makes the share count distinct customers instead of rows.
    denominator_setting: str | None = None
    #: The time column the ``period`` (week / month) slices come from (documentation; facts carry week/month).
    time_column: str = ""
    #: What :func:`~cxchain.metrics.compile.drilldown` returns: the rows behind ``n`` or behind ``numerator``.
    drill: Literal["denominator", "numerator"] = "denominator"
    #: Fixed constants of the definition (not settings), recorded with every result.
    constants: tuple[tuple[str, Any], ...] = field(default=())
    citation: str = ""

    def is_higher_better(self, settings_values: dict[str, Any]) -> bool | None:
        """Direction under the given settings (CES flips with ``metrics.ces_high_is_easy``)."""
        if self.direction_setting is None:
            return self.higher_is_better
        flag = bool(settings_values.get(self.direction_setting, True))
        return flag if self.higher_is_better is None else (self.higher_is_better == flag)


_CONTACT = "contact_fact"
_SURVEY = "survey_fact"
_CASE = "case_fact"
_COMPLAINT = "complaint_fact"
_SHORT = "(abandoned AND wait_s IS NOT NULL AND wait_s < ${metrics.short_abandon_seconds})"

_SPECS: list[MetricSpec] = [
    MetricSpec(
        "volume", "Contacts", "Number of contacts: one per interaction (the legs of a transferred call count once, "
        "as their first leg). All channels and directions.", "contacts", _CONTACT, "count",
        population="is_first_leg", time_column="started_at", citation="domain brief section 1"),
    MetricSpec(
        "aht", "Average handle time", "Mean of talk + hold + after-contact work (handle_s), in seconds, over answered "
        "contact legs with any handling time recorded (each agent's leg of a transferred call is a handled contact, "
        "as in queue and agent statistics).", "seconds", _CONTACT, "mean", higher_is_better=None,
        population="answered AND handle_s IS NOT NULL", measure="handle_s", time_column="started_at",
        citation="domain brief section 1: AHT"),
    MetricSpec(
        "hold_per_answered", "Average hold per answered contact", "Mean agent-initiated hold (hold_s, missing = 0) over "
        "answered contact legs with handling time recorded. Queue wait is not hold.", "seconds", _CONTACT, "mean",
        higher_is_better=False, population="answered AND handle_s IS NOT NULL", measure="coalesce(hold_s, 0)",
        time_column="started_at", citation="domain brief section 1: hold time (per call)"),
    MetricSpec(
        "hold_per_held", "Average hold per held contact", "Mean hold_s over answered contact legs that were put on hold "
        "(hold_s > 0).", "seconds", _CONTACT, "mean", higher_is_better=False,
        population="answered AND hold_s > 0", measure="hold_s", time_column="started_at",
        citation="domain brief section 1: hold time (per held call)"),
    MetricSpec(
        "transfer_rate", "Transfer rate", "Answered interactions that were transferred (a leg has transfers > 0 or "
        "the interaction has more than one leg) / answered interactions. Read on the first leg.", "share", _CONTACT,
        "share", higher_is_better=False, population="is_first_leg AND answered AND offered",
        numerator="interaction_transferred", time_column="started_at", citation="domain brief section 1: transfer rate"),
    MetricSpec(
        "abandonment_rate", "Abandonment rate", "Abandoned contacts / offered contacts (queued, not outbound, source "
        "tracks answer/abandon), per leg as queued. Short abandons (wait under metrics.short_abandon_seconds) are "
        "removed from both numerator and denominator; set it to 0 to keep them.", "share", _CONTACT, "share",
        higher_is_better=False, settings=("metrics.short_abandon_seconds",),
        population=f"offered AND NOT coalesce({_SHORT}, false)", numerator="coalesce(abandoned, false)",
        time_column="started_at", citation="domain brief section 1: abandonment rate"),
    MetricSpec(
        "service_level", "Service level", "Share of offered contacts answered within T = metrics.service_level_seconds "
        "(wait_s <= T). Abandons per metrics.service_level_abandons: 'offered' counts every abandon as a failure; "
        "'removed' excludes abandons from the denominator; 'positive' counts short abandons (wait under "
        "metrics.short_abandon_seconds) as successes and other abandons as failures. Answered contacts with no wait "
        "time are left out (they cannot be judged).", "share", _CONTACT, "share", higher_is_better=True,
        settings=("metrics.service_level_seconds", "metrics.service_level_abandons", "metrics.short_abandon_seconds"),
        population="offered AND (coalesce(abandoned, false) OR wait_s IS NOT NULL) "
                   "AND NOT (${metrics.service_level_abandons} = 'removed' AND coalesce(abandoned, false))",
        numerator="(answered AND NOT coalesce(abandoned, false) AND wait_s <= ${metrics.service_level_seconds}) "
                  f"OR (${{metrics.service_level_abandons}} = 'positive' AND coalesce({_SHORT}, false))",
        time_column="started_at", citation="domain brief section 1: service level"),
    MetricSpec(
        "fcr_agent", "First contact resolution (agent-flagged)", "Interactions agent-flagged resolved (on any leg) / "
        "interactions with a resolved flag. Method (a) of three; audit it against repeat_rate.", "share", _CONTACT,
        "share", higher_is_better=True, population="is_first_leg AND interaction_resolved IS NOT NULL",
        numerator="interaction_resolved", time_column="started_at", citation="domain brief section 1: FCR"),
    MetricSpec(
        "repeat_rate", "Repeat contact rate", "Forward-counted: share of contacts (first legs, resolved customer, "
        "comparable reason) that are followed by another contact of the same customer with the same reason "
        "(metrics.repeat_same_reason: group | reason | any; a NULL reason is not comparable unless 'any', and such "
        "contacts are left out; with metrics.repeat_follow_ups = 'issue' a contact on a follow-up reason takes the "
        "reason of the customer's last earlier contact within the window) starting within "
        "metrics.repeat_window_days days, excluding forwards (a contact "
        "starting less than metrics.repeat_transfer_gap_minutes after the end (last leg's end, else start) of the "
        "customer's previous contact, when that one was transferred). Contacts in the last window-length days before the data end (as_of, else "
        "the latest contact) are right-censored: not in n, reported as `censored`. metrics.repeat_denominator = "
        "'customer' counts customers with at least one such contact / customers.", "share", _CONTACT, "share",
        version=2, higher_is_better=False, derived="repeat",
        settings=("metrics.repeat_window_days", "metrics.repeat_same_reason", "metrics.repeat_follow_ups",
                  "metrics.repeat_transfer_gap_minutes", "metrics.repeat_denominator", "as_of"),
        population="TRUE", numerator="followed", denominator_setting="metrics.repeat_denominator",
        time_column="started_at", citation="domain brief section 1: repeat contact rate"),
    MetricSpec(
        "channel_switch_rate", "Channel switching rate", "From journey_event (contacts of resolved customers): an "
        "issue is a run of one customer's contacts with the same reason (metrics.repeat_same_reason) where each starts "
        "within metrics.repeat_window_days of the previous; an issue switched channel if it touches 2+ channels "
        "(IVR counts as phone). Value = switched issues / issues. Issues starting in the last window-length days "
        "are censored. Slices come from the issue's first contact. A follow-up contact belongs to its issue as for "
        "repeat_rate (metrics.repeat_follow_ups).", "share", "journey_event", "share",
        version=2, higher_is_better=False, derived="channel_issue",
        settings=("metrics.repeat_window_days", "metrics.repeat_same_reason", "metrics.repeat_follow_ups", "as_of"),
        population="TRUE", numerator="switched", time_column="started_at",
        citation="domain brief section 1: channel switching (synthesis operationalisation)"),
    MetricSpec(
        "csat_top2", "CSAT (top-box share)", "Share of CSAT responses in the top metrics.csat_top_box boxes of the "
        "response's own scale (score > scale_max - N; top-2 on 1-5 = 4s and 5s; on 0-10 = 9s and 10s).", "share",
        _SURVEY, "share", higher_is_better=True, settings=("metrics.csat_top_box",), population="csat IS NOT NULL",
        numerator="csat > csat_scale_max - ${metrics.csat_top_box}", time_column="responded_at",
        citation="domain brief section 1: CSAT"),
    MetricSpec(
        "csat_mean", "CSAT (mean score)", "Mean CSAT rescaled to 1-5 from each response's own scale "
        "(1 + 4 (score - min) / (max - min)); equals the plain mean when every response is on 1-5.", "score",
        _SURVEY, "mean", higher_is_better=True, population="csat IS NOT NULL AND csat_scale_max > csat_scale_min",
        measure="1 + 4 * (csat - csat_scale_min) / (csat_scale_max - csat_scale_min)", time_column="responded_at",
        citation="domain brief section 1: CSAT"),
    MetricSpec(
        "nps", "Net Promoter Score", "100 x (promoters (9-10) - detractors (0-6)) / responses on the 0-10 item, with a "
        "95% CI: NPS +/- 1.96 sqrt(100^2 [p + d - (p - d)^2] / n).", "nps", _SURVEY, "nps", higher_is_better=True,
        population="nps IS NOT NULL", time_column="responded_at", citation="domain brief section 1: NPS"),
    MetricSpec(
        "ces_mean", "Customer effort score (mean)", "Mean CES score on its own scale. Direction from "
        "metrics.ces_high_is_easy: true (CES 2.0 agreement, 1-7) means higher is better.", "score", _SURVEY, "mean",
        higher_is_better=True, direction_setting="metrics.ces_high_is_easy", settings=("metrics.ces_high_is_easy",),
        population="ces IS NOT NULL", measure="ces", time_column="responded_at", citation="domain brief section 1: CES"),
    MetricSpec(
        "complaint_rate_per_1000", "Complaints per 1,000 homes (or customers)", "Complaint records (each stage "
        "counts; slice by stage for TSM CH01) x 1000 / homes (sum of homes over current property records), or / "
        "resolved customers when no property records exist; `exposure_basis` says which. n is the exposure; the "
        "drilldown gives the complaints.", "per_1000", _COMPLAINT, "rate_per_1000", higher_is_better=False,
        drill="numerator", time_column="received_at", citation="domain brief section 1: complaint rate; TSM CH01"),
    MetricSpec(
        "complaint_response_in_time", "Complaints responded to within Code timescales", "Responded complaint stages "
        f"acknowledged within {COMPLAINT_TIMESCALES['ack_wd']} working days of receipt (a missing acknowledgement "
        "counts as made with the response) and answered within "
        f"{COMPLAINT_TIMESCALES['stage1_response_wd']} (stage 1) or {COMPLAINT_TIMESCALES['stage2_response_wd']} "
        "(stage 2) working days of acknowledgement / responded complaint stages 1-2. Working days on the England & "
        "Wales bank-holiday calendar; extensions are not modelled.", "share", _COMPLAINT, "share",
        higher_is_better=True, population="responded_at IS NOT NULL AND stage IN (1, 2) AND response_wd IS NOT NULL",
        numerator=f"coalesce(ack_wd, received_to_response_wd) <= {COMPLAINT_TIMESCALES['ack_wd']} AND response_wd <= "
                  f"CASE stage WHEN 1 THEN {COMPLAINT_TIMESCALES['stage1_response_wd']} "
                  f"ELSE {COMPLAINT_TIMESCALES['stage2_response_wd']} END",
        constants=tuple(COMPLAINT_TIMESCALES.items()), time_column="received_at", citation=_CITE_COMPLAINTS),
    MetricSpec(
        "time_to_resolve_median", "Time to resolve (median)", "Median of resolved_at - created_at in calendar hours over "
        "resolved cases (first resolution as recorded; reopenings not added).", "hours", _CASE, "quantile",
        higher_is_better=False, population="hours_to_resolve IS NOT NULL AND hours_to_resolve >= 0",
        measure="hours_to_resolve", quantile=0.5, time_column="created_at",
        citation="domain brief section 1: time to resolve"),
    MetricSpec(
        "time_to_resolve_p90", "Time to resolve (90th percentile)", "90th percentile (continuous) of resolved_at - "
        "created_at in calendar hours over resolved cases.", "hours", _CASE, "quantile", higher_is_better=False,
        population="hours_to_resolve IS NOT NULL AND hours_to_resolve >= 0", measure="hours_to_resolve", quantile=0.9,
        time_column="created_at", citation="domain brief section 1: time to resolve"),
    MetricSpec(
        "cost_to_serve_low", "Cost to serve (low)", "Sum over interactions (first legs) of the low cost per contact "
        "of its channel (settings costs.<channel>[0]); channels without a cost add nothing.", "gbp", _CONTACT,
        "sum", higher_is_better=False, settings=("costs.*",), population="is_first_leg", measure="${cost_low}",
        time_column="started_at", citation="domain brief section 5: cost to serve"),
    MetricSpec(
        "cost_to_serve_high", "Cost to serve (high)", "As cost_to_serve_low with the high cost per contact "
        "(costs.<channel>[1]).", "gbp", _CONTACT, "sum", higher_is_better=False, settings=("costs.*",),
        population="is_first_leg", measure="${cost_high}", time_column="started_at",
        citation="domain brief section 5: cost to serve"),
    MetricSpec(
        "failure_demand_share", "Failure demand share", "Interactions classified as failure demand / interactions "
        "classified value or failure ('unknown' and unclassified are left out). Read on the first leg.", "share",
        _CONTACT, "share", higher_is_better=False, population="is_first_leg AND demand IN ('value', 'failure')",
        numerator="demand = 'failure'", time_column="started_at", citation="domain brief section 2"),
    MetricSpec(
        "right_first_time", "Repairs right first time", "Repairs (case_type 'repair') completed at the first visit / "
        "repairs with a first-time-fix flag (HMPI 101; no-access and pre-inspection exclusions need source flags and "
        "are not applied).", "share", _CASE, "share", higher_is_better=True,
        population="case_type = 'repair' AND first_time_fix IS NOT NULL", numerator="first_time_fix",
        time_column="created_at", citation="domain brief section 1: right first time (HMPI 101)"),
]

#: Every metric by id.
REGISTRY: dict[str, MetricSpec] = {s.id: s for s in _SPECS}


def get_spec(metric_id: str) -> MetricSpec:
    """The spec of ``metric_id``; KeyError naming the known ids otherwise."""
    try:
        return REGISTRY[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}; known: {', '.join(sorted(REGISTRY))}") from None
