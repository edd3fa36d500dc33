"""Workspace settings, declared once as data.

:data:`SETTINGS` is the single declaration.  From it come the defaults written into a new
``cxchain.toml`` (with each setting's help as a comment), validation and typed access
(:class:`Settings`), and the settings reference in ``docs/settings.md`` (a test checks that the
doc is current).  Definitions with rival conventions (repeat window, service-level threshold,
CSAT top-box...) live here and nowhere else; ``metrics.version`` is bumped when a default
convention changes, so results computed under different conventions are never mixed silently.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from .errors import SettingsError

SECTORS = ("council", "housing", "utility", "bank", "telecom", "retail")


@dataclass(frozen=True)
class Setting:
    """One setting: dotted key, default, help; ``source`` cites where a default comes from.

    ``placeholder`` marks a default the organisation must replace with its own figure; chain
    health reports placeholders still in use.
    """

    key: str
    default: Any
    help: str
    choices: tuple[Any, ...] = ()
    source: str = ""
    placeholder: bool = False


_SOCITM = "domain brief section 5: Socitm Channel Value Benchmarking 2011 and other UK local-government studies"

SETTINGS: tuple[Setting, ...] = (
    Setting("sector", "council", "Sector of the organisation; selects starter taxonomy, code pack and timescales.", SECTORS),
    Setting("organisation", "", "Name of the organisation, shown on reports."),
    Setting("timezone", "Europe/London", "Time zone in which source timestamps without an offset are read."),
    Setting("as_of", "", "Date (YYYY-MM-DD) the chain is judged against; empty means today. Set it for reproducible runs."),
    Setting("engine", "duckdb", "Engine that runs the table transforms: duckdb on this machine, spark on a Spark cluster (docs/spark.md). `--engine` on `cxchain run` and `cxchain demo` overrides it.", ("duckdb", "spark")),
    Setting("spark.master", "", "Spark master URL for engine = spark (e.g. spark://host:7077, yarn, k8s://...); empty: a session already running in the process, else local[2]."),
    Setting("spark.storage", "", "Where the Spark engine keeps its tables as Parquet (a folder, or s3a://, abfss://, gs://, hdfs:// URI the cluster reads); empty: .cxchain/spark in the workspace."),
    Setting("spark.driver_memory", "2g", "Driver memory of a Spark session cxchain starts itself (local mode)."),
    Setting("dates.day_first", True, "Read ambiguous dates like 03/02/2025 as 3 February (UK) rather than 2 March."),
    Setting("cycle.length_weeks", 12, "Length of one improvement cycle, in weeks."),
    Setting("priorities.code_weight", 0.1, "Weight of the CX Code term in the opportunity score: contacts a year that break a published principle (interaction QA). The other weights are scaled by (1 - this) so scores stay 0-100; 0 leaves the Code out."),
    Setting("privacy.redact_text", True, "Redact personal data from free text before storage. Turn off only with a lawful basis recorded in your impact assessment."),
    Setting("privacy.detect_names", True, "Also redact personal names and street addresses (slower than the structured types)."),
    # Costs: ranges, because published benchmarks differ about 2x by source.
    Setting("costs.phone", [2.83, 5.00], "Cost per phone contact, GBP [low, high].", source=_SOCITM),
    Setting("costs.face_to_face", [7.40, 14.00], "Cost per face-to-face contact, GBP [low, high].", source=_SOCITM),
    Setting("costs.web", [0.08, 0.32], "Cost per web self-service transaction, GBP [low, high].", source=_SOCITM),
    Setting("costs.letter", [6.62, 12.10], "Cost per letter or post item, GBP [low, high].", source="domain brief section 5: GDS 2013 and PwC London/SE councils"),
    Setting("costs.ivr", [0.20, 0.20], "Cost per IVR-only contact, GBP [low, high].", source="domain brief section 5: Socitm NW group"),
    Setting("costs.chat", [2.00, 4.00], "Cost per web chat, GBP [low, high]. No published UK benchmark: set your own.", placeholder=True),
    Setting("costs.email", [2.50, 5.00], "Cost per email, GBP [low, high]. No published UK benchmark: set your own.", placeholder=True),
    Setting("costs.social", [2.00, 4.00], "Cost per social-media contact, GBP [low, high]. Set your own.", placeholder=True),
    Setting("costs.sms", [0.10, 0.30], "Cost per SMS contact, GBP [low, high]. Set your own.", placeholder=True),
    Setting("costs.per_handling_minute", [0.50, 0.90], "Fully loaded cost of one agent handling minute, GBP [low, high]. Set your own.", placeholder=True),
    # Metric conventions (domain brief section 1).
    Setting("metrics.version", 2, "Version of the metric conventions below; bump it when you change one."),
    Setting("metrics.repeat_window_days", 7, "A contact is a repeat if the same customer contacts again within this many days.", source="domain brief section 1: repeat contact rate"),
    Setting("metrics.repeat_same_reason", "group", "What counts as the same issue for repeats: the same reason group, the same reason, or any reason.", ("group", "reason", "any")),
    Setting("metrics.repeat_follow_ups", "issue", "A contact on a follow-up reason (chasing, not done right, reported again, complaint: the taxonomy's follows_up reasons) is about the issue of the same customer's last earlier contact within the repeat window (issue), or about its own reason (own).", ("issue", "own")),
    Setting("metrics.repeat_transfer_gap_minutes", 15, "Contacts this soon after a transfer are a forward, not a repeat.", source="domain brief section 1: repeat contact rate"),
    Setting("metrics.repeat_denominator", "contact", "Repeat rate per contact or per customer.", ("contact", "customer")),
    Setting("metrics.service_level_seconds", 20, "Service-level threshold T in 'X% answered within T seconds'.", source="domain brief section 1: service level (80/20)"),
    Setting("metrics.service_level_target", 0.8, "Service-level target X (share answered within T)."),
    Setting("metrics.service_level_abandons", "offered", "How abandoned contacts count in service level: as failures (offered), excluded (removed), short abandons as successes (positive).", ("offered", "removed", "positive")),
    Setting("metrics.short_abandon_seconds", 5, "Abandons within this many seconds are short abandons.", source="domain brief section 1: abandonment rate"),
    Setting("metrics.csat_top_box", 2, "CSAT counts the top N boxes of its scale as satisfied (top-2-box on 1-5: 4s and 5s).", source="domain brief section 1: CSAT"),
    Setting("metrics.ces_high_is_easy", True, "CES scale direction: true when a high score means easy (CES 2.0 agreement scale)."),
    Setting("metrics.small_number", 10, "Counts below this are suppressed wherever they are shown."),
    # Freshness and retention defaults (per source overrides in [[sources]]).
    Setting("data.freshness_days", 14, "A source whose newest record is older than this (against as_of) is stale."),
    Setting("data.retention_days", 2190, "Default retention for records of a source, in days (6 years)."),
    Setting("data.min_link_share", 0.2, "A source whose records link to another source's customers less than this is reported as unlinked."),
    # Single sign-on (OpenID Connect): off while web.oidc.issuer is empty.
    Setting("web.oidc.issuer", "", "OpenID Connect issuer URL for single sign-on, e.g. https://login.microsoftonline.com/TENANT/v2.0 for Entra ID; empty switches SSO off."),
    Setting("web.oidc.client_id", "", "Client (application) id the identity provider issued to cxchain."),
    Setting("web.oidc.client_secret_env", "CXCHAIN_OIDC_CLIENT_SECRET", "Name of the environment variable that holds the client secret (never put the secret in this file); empty for a public client."),
    Setting("web.oidc.scopes", "openid profile email", "Scopes asked for at sign-in; must include openid."),
    Setting("web.oidc.username_claim", "preferred_username", "ID-token claim used as the cxchain username."),
    Setting("web.oidc.role_claim", "roles", "ID-token claim listing the person's app roles or groups."),
    Setting("web.oidc.role_map", "cxchain-admin=admin,cxchain-analyst=analyst,cxchain-owner=owner,cxchain-viewer=viewer", "Comma-separated CLAIM_VALUE=ROLE pairs; a person with none of these values is refused. The most powerful match wins."),
    Setting("web.oidc.area_claim", "cxchain_area", "ID-token claim naming a business-area owner's area."),
    Setting("web.oidc.redirect_uri", "", "Redirect URI registered with the provider; empty derives it from the request (set it behind a proxy)."),
)

_BY_KEY = {s.key: s for s in SETTINGS}


@dataclass(frozen=True)
class SourceConfig:
    """One configured source: a name, file patterns (relative to the workspace) and its mapping."""

    name: str
    paths: tuple[str, ...] = ()
    mapping: str = ""
    freshness_days: int | None = None
    retention_days: int | None = None


@dataclass(frozen=True)
class Settings:
    """Validated settings of one workspace.  ``values`` holds every declared key."""

    values: dict[str, Any]
    sources: tuple[SourceConfig, ...] = field(default=())

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    @property
    def as_of(self) -> date:
        raw = self.values["as_of"]
        return date.fromisoformat(raw) if raw else date.today()

    def source(self, name: str) -> SourceConfig | None:
        return next((s for s in self.sources if s.name == name), None)

    def placeholders_in_use(self) -> list[str]:
        """Keys whose value is still a placeholder default the organisation must set."""
        return [s.key for s in SETTINGS if s.placeholder and self.values[s.key] == s.default]

    def cost(self, channel: str) -> tuple[float, float]:
        low, high = self.values.get(f"costs.{channel}", [0.0, 0.0])
        return float(low), float(high)


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def _check(key: str, value: Any, where: str) -> Any:
    spec = _BY_KEY[key]
    if spec.choices and value not in spec.choices:
        raise SettingsError(f"{where}: {key} = {value!r} is not one of {', '.join(map(str, spec.choices))}.")
    d = spec.default
    if isinstance(d, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{where}: {key} must be true or false, not {value!r}.")
    elif isinstance(d, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"{where}: {key} must be a number, not {value!r}.")
    elif isinstance(d, list):
        if not (isinstance(value, list) and len(value) == 2 and all(isinstance(x, (int, float)) for x in value)):
            raise SettingsError(f"{where}: {key} must be [low, high], e.g. {d}.")
        if value[0] > value[1]:
            raise SettingsError(f"{where}: {key} low {value[0]} is above high {value[1]}.")
    elif isinstance(d, str) and not isinstance(value, str):
        raise SettingsError(f"{where}: {key} must be text, not {value!r}.")
    if key == "as_of" and value:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise SettingsError(f"{where}: as_of = {value!r} is not a date like 2026-09-30.") from None
    return value


def load_settings(path: Path) -> Settings:
    """Read and validate ``cxchain.toml``.  Unknown keys are an error naming the key."""
    where = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"No {path.name} in {path.parent}: run `cxchain init {path.parent}` first, or pass --workspace.") from None
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(f"{where} is not valid TOML: {e}. Fix the line it names.") from None
    sources_raw = raw.pop("sources", [])
    flat = _flatten(raw)
    values = {s.key: s.default for s in SETTINGS}
    for key, value in flat.items():
        if key not in _BY_KEY:
            raise SettingsError(f"{where}: unknown setting {key!r}. See docs/settings.md for the settings cxchain knows.")
        values[key] = _check(key, value, where)
    sources = []
    for i, s in enumerate(sources_raw):
        if "name" not in s:
            raise SettingsError(f"{where}: sources[{i}] has no name.")
        paths = s.get("paths", [])
        sources.append(
            SourceConfig(
                name=str(s["name"]),
                paths=tuple([paths] if isinstance(paths, str) else paths),
                mapping=str(s.get("mapping", "")),
                freshness_days=s.get("freshness_days"),
                retention_days=s.get("retention_days"),
            )
        )
    return Settings(values=values, sources=tuple(sources))


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def render_toml(overrides: dict[str, Any] | None = None, sources: list[SourceConfig] | None = None) -> str:
    """The text of a ``cxchain.toml`` with every setting, its help as a comment, and ``overrides`` applied."""
    overrides = overrides or {}
    lines = ["# cxchain workspace settings. Every key is documented in docs/settings.md.", ""]
    section = None
    for s in SETTINGS:
        sec, _, name = s.key.rpartition(".")
        if sec != section:
            if sec:
                lines += ["", f"[{sec}]"]
            section = sec
        note = s.help + (f" Source: {s.source}." if s.source else "") + (" PLACEHOLDER: set your own." if s.placeholder else "")
        lines.append(f"# {note}")
        lines.append(f"{name} = {_toml_value(overrides.get(s.key, s.default))}")
    for src in sources or []:
        lines += ["", "[[sources]]", f"name = {_toml_value(src.name)}", f"paths = {_toml_value(list(src.paths))}",
                  f"mapping = {_toml_value(src.mapping)}"]
        if src.freshness_days is not None:
            lines.append(f"freshness_days = {src.freshness_days}")
        if src.retention_days is not None:
            lines.append(f"retention_days = {src.retention_days}")
    return "\n".join(lines) + "\n"


def settings_reference() -> str:
    """Markdown reference of every setting (written to docs/settings.md)."""
    rows = ["# Settings reference", "", "Generated from `cxchain.settings.SETTINGS`; do not edit by hand "
            "(`python -m cxchain.settings > docs/settings.md`).", "",
            "| key | default | meaning | source |", "|---|---|---|---|"]
    for s in SETTINGS:
        choices = f" One of: {', '.join(map(str, s.choices))}." if s.choices else ""
        src = s.source or ("placeholder: set your own" if s.placeholder else "")
        rows.append(f"| `{s.key}` | `{_toml_value(s.default)}` | {s.help}{choices} | {src} |")
    rows += ["", "## Sources", "", "Each `[[sources]]` table names a source, the file patterns (`paths`, relative to the",
             "workspace, globs allowed) that `cxchain run` ingests, its `mapping` file, and optional `freshness_days` and",
             "`retention_days` overriding the data defaults above.", ""]
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover
    print(settings_reference(), end="")
