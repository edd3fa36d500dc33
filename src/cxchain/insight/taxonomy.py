"""Contact-reason taxonomy as code (ARCHITECTURE decision 8).

A workspace keeps its reasons in one versioned YAML file, seeded from a sector pack
(``packs/<sector>.yaml``).  Each reason has a stable dotted ``id`` that never changes: a rename
changes the ``name`` only; a merge retires the merged ids with ``replaced_by`` pointing at the
survivor; a split retires the old id with ``replaced_by`` listing the new ones.  Every edit bumps
``version`` and appends an entry to the ``changes`` audit trail (action, who, when, detail), so
labels recorded under an old version can always be mapped forward with :meth:`Taxonomy.resolve`.

    >>> tax = starter_taxonomy("council")
    >>> tax.get("bins.not_collected").demand
    'value'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

Demand = Literal["value", "failure", "either"]
FAILURE_TYPES = ("chasing_progress", "not_done_right", "did_not_understand", "repeat_unresolved", "complaint")
DEMANDS = ("value", "failure", "either")
ACTIONS = ("seed", "accept", "add", "merge", "split", "rename", "edit", "retire")
SECTORS = ("council", "housing", "utility", "bank", "telecom", "retail")
UNCLASSIFIED = "unclassified"
_ID_RE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class TaxonomyError(ValueError):
    """A taxonomy file or edit that breaks the rules (bad id, unknown reason, duplicate...)."""


@dataclass
class Reason:
    """One contact reason.  ``id`` is stable; everything else may be edited."""

    id: str
    name: str
    group: str = ""
    description: str = ""
    examples: list[str] = field(default_factory=list)
    demand: Demand = "value"
    failure_type: str | None = None
    self_serviceable: bool = False
    #: A follow-up (chasing, not done right, reported again, complaint) is about whatever the customer
    #: contacted us about before, not a subject of its own: repeat linkage matches it to that issue.
    follows_up: bool = False
    status: Literal["active", "retired"] = "active"
    replaced_by: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status == "active"

    def text_views(self) -> list[str]:
        """The reason in words a model can match: name, name + description, each example."""
        views = [self.name]
        if self.description:
            views.append(f"{self.name}. {self.description}")
        views.extend(e for e in self.examples if e.strip())
        return views

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "name": self.name, "group": self.group,
                             "description": self.description}
        if self.examples:
            d["examples"] = list(self.examples)
        d["demand"] = self.demand
        if self.failure_type:
            d["failure_type"] = self.failure_type
        d["self_serviceable"] = bool(self.self_serviceable)
        if self.follows_up:
            d["follows_up"] = True
        if self.status != "active":
            d["status"] = self.status
            d["replaced_by"] = list(self.replaced_by)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Reason:
        try:
            r = cls(id=str(d["id"]), name=str(d.get("name") or d["id"]), group=str(d.get("group") or ""),
                    description=str(d.get("description") or ""),
                    examples=[str(e) for e in (d.get("examples") or [])],
                    demand=d.get("demand", "value"), failure_type=d.get("failure_type"),
                    self_serviceable=bool(d.get("self_serviceable", False)),
                    follows_up=bool(d.get("follows_up", False)),
                    status=d.get("status", "active"), replaced_by=[str(x) for x in d.get("replaced_by") or []])
        except KeyError as e:
            raise TaxonomyError(f"reason without {e.args[0]!r}: {d!r}") from None
        r.validate()
        return r

    def validate(self) -> None:
        if not _ID_RE.match(self.id):
            raise TaxonomyError(f"reason id {self.id!r} must be dotted lower-case, e.g. 'bins.not_collected'")
        if self.demand not in DEMANDS:
            raise TaxonomyError(f"{self.id}: demand must be one of {DEMANDS}, not {self.demand!r}")
        if self.failure_type is not None and self.failure_type not in FAILURE_TYPES:
            raise TaxonomyError(f"{self.id}: failure_type must be one of {FAILURE_TYPES}")
        if self.demand == "failure" and not self.failure_type:
            raise TaxonomyError(f"{self.id}: a failure reason needs a failure_type")
        if self.status not in ("active", "retired"):
            raise TaxonomyError(f"{self.id}: status must be active or retired")


@dataclass
class Change:
    """One entry of the audit trail."""

    action: str
    who: str
    when: str
    detail: str
    ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "who": self.who, "when": self.when, "detail": self.detail,
                "ids": list(self.ids)}


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass
class Taxonomy:
    """A versioned set of reasons with an audit trail.  Edit through the methods, then save."""

    reasons: list[Reason]
    version: int = 1
    sector: str = ""
    changes: list[Change] = field(default_factory=list)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for r in self.reasons:
            r.validate()
            if r.id in seen:
                raise TaxonomyError(f"duplicate reason id {r.id!r}")
            seen.add(r.id)

    # -- reading -------------------------------------------------------------------------------
    @property
    def active(self) -> list[Reason]:
        """The reasons contacts can be labelled with (retired ones are kept for history)."""
        return [r for r in self.reasons if r.active]

    @property
    def ids(self) -> list[str]:
        return [r.id for r in self.active]

    def get(self, reason_id: str) -> Reason:
        for r in self.reasons:
            if r.id == reason_id:
                return r
        raise TaxonomyError(f"no reason {reason_id!r}")

    def __contains__(self, reason_id: object) -> bool:
        return any(r.id == reason_id for r in self.reasons)

    def resolve(self, reason_id: str) -> list[str]:
        """The active id(s) an old label now means, following merges and splits."""
        if reason_id == UNCLASSIFIED:
            return [UNCLASSIFIED]
        out: list[str] = []
        stack, seen = [reason_id], set()
        while stack:
            rid = stack.pop(0)
            if rid in seen:
                continue
            seen.add(rid)
            r = self.get(rid)
            if r.active:
                out.append(rid)
            else:
                stack.extend(r.replaced_by)
        return out

    # -- editing (each bumps the version and is recorded) ---------------------------------------
    def _record(self, action: str, who: str, detail: str, ids: list[str]) -> None:
        self.version += 1
        self.changes.append(Change(action=action, who=who, when=_now(), detail=detail, ids=ids))

    def _check_new(self, r: Reason) -> None:
        r.validate()
        if r.id in self:
            raise TaxonomyError(f"reason id {r.id!r} is already used (ids are never reused)")

    def add(self, reason: Reason, *, who: str, detail: str = "", action: str = "add") -> Reason:
        """Add a new reason (``action='accept'`` when it comes from a discovery proposal)."""
        self._check_new(reason)
        self.reasons.append(reason)
        self._record(action, who, detail or f"added {reason.id} ({reason.name})", [reason.id])
        return reason

    def accept(self, reason: Reason, *, who: str, detail: str = "") -> Reason:
        """Accept a discovered proposal as a new reason."""
        return self.add(reason, who=who, detail=detail or f"accepted proposal as {reason.id}", action="accept")

    def rename(self, reason_id: str, new_name: str, *, who: str) -> None:
        """Change a reason's name; the id stays."""
        r = self.get(reason_id)
        old = r.name
        r.name = new_name
        self._record("rename", who, f"{reason_id}: {old!r} -> {new_name!r}", [reason_id])

    def edit(self, reason_id: str, *, who: str, **fields: Any) -> None:
        """Change fields other than the id (description, examples, demand...)."""
        r = self.get(reason_id)
        for k, v in fields.items():
            if k in ("id", "status", "replaced_by") or not hasattr(r, k):
                raise TaxonomyError(f"cannot edit {k!r}")
            setattr(r, k, v)
        r.validate()
        self._record("edit", who, f"{reason_id}: {', '.join(sorted(fields))}", [reason_id])

    def merge(self, ids: list[str], into: str, *, who: str, detail: str = "") -> None:
        """Merge ``ids`` into the existing reason ``into``; the merged ids are retired, not deleted."""
        target = self.get(into)
        if not target.active:
            raise TaxonomyError(f"cannot merge into retired reason {into!r}")
        for rid in ids:
            if rid == into:
                continue
            r = self.get(rid)
            r.status, r.replaced_by = "retired", [into]
        self._record("merge", who, detail or f"{', '.join(ids)} -> {into}", [*ids, into])

    def split(self, reason_id: str, into: list[Reason], *, who: str, detail: str = "") -> None:
        """Split a reason into new ones; the old id is retired with ``replaced_by`` = the new ids."""
        old = self.get(reason_id)
        for r in into:
            self._check_new(r)
        self.reasons.extend(into)
        old.status, old.replaced_by = "retired", [r.id for r in into]
        self._record("split", who, detail or f"{reason_id} -> {', '.join(old.replaced_by)}",
                     [reason_id, *old.replaced_by])

    def retire(self, reason_id: str, *, who: str, detail: str = "") -> None:
        r = self.get(reason_id)
        r.status = "retired"
        self._record("retire", who, detail or f"retired {reason_id}", [reason_id])

    # -- (de)serialisation ----------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"version": self.version, "sector": self.sector,
                "reasons": [r.to_dict() for r in self.reasons],
                "changes": [c.to_dict() for c in self.changes]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Taxonomy:
        if not isinstance(d, dict) or not isinstance(d.get("reasons"), list):
            raise TaxonomyError("a taxonomy needs a 'reasons' list")
        changes = [Change(action=str(c.get("action", "")), who=str(c.get("who", "")),
                          when=str(c.get("when", "")), detail=str(c.get("detail", "")),
                          ids=[str(x) for x in c.get("ids") or []]) for c in d.get("changes") or []]
        return cls(reasons=[Reason.from_dict(r) for r in d["reasons"]], version=int(d.get("version", 1)),
                   sector=str(d.get("sector") or ""), changes=changes)

    @classmethod
    def from_names(cls, items: list[tuple[str, str]], *, sector: str = "adhoc") -> Taxonomy:
        """An ad-hoc taxonomy from ``(name, description)`` pairs; ids are made from the names."""
        reasons: list[Reason] = []
        used: set[str] = set()
        for name, desc in items:
            rid = f"{sector}.{slug(name) or 'reason'}"
            base, n = rid, 2
            while rid in used:
                rid, n = f"{base}_{n}", n + 1
            used.add(rid)
            reasons.append(Reason(id=rid, name=name, description=desc, demand="either"))
        return cls(reasons=reasons, sector=sector)


def slug(text: str) -> str:
    """A lower-case ``a_b_c`` form of ``text`` usable inside an id."""
    s = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    if s and not s[0].isalpha():
        s = "r_" + s
    return s[:60]


def load_taxonomy(path: Path | str) -> Taxonomy:
    """Read a taxonomy YAML file (a workspace's file or a sector pack)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    try:
        return Taxonomy.from_dict(data)
    except TaxonomyError as e:
        raise TaxonomyError(f"{path}: {e}") from None


def save_taxonomy(tax: Taxonomy, path: Path | str) -> None:
    """Write ``tax`` as YAML (atomically: a temporary file renamed over the target)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        yaml.safe_dump(tax.to_dict(), fh, sort_keys=False, allow_unicode=True, width=110)
    tmp.replace(p)


def pack_path(sector: str) -> Path:
    """The path of the sector pack shipped with cxchain."""
    if sector not in SECTORS:
        raise TaxonomyError(f"no sector pack {sector!r}; known: {', '.join(SECTORS)}")
    return Path(str(resources.files("cxchain.insight").joinpath("packs", f"{sector}.yaml")))


def starter_taxonomy(sector: str, *, who: str = "cxchain") -> Taxonomy:
    """A new workspace taxonomy seeded from the sector pack, with a ``seed`` entry in its trail."""
    tax = load_taxonomy(pack_path(sector))
    tax.sector = sector
    tax.changes.append(Change(action="seed", who=who, when=_now(),
                              detail=f"seeded from the {sector} pack, version {tax.version}", ids=[]))
    return tax
