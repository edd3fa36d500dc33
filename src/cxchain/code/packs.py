"""Sector starter packs: a CX Code to start from, written from the domain brief (``packs/<sector>.yaml``).

Every starter principle starts as ``assumption`` ("assumption: no evidence yet"); :mod:`cxchain.code.draft`
turns it into a draft when the workspace's findings support it (its ``evidence`` rule) and flags it
``contradicted`` when its measures are already kept everywhere.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ..errors import CxchainError
from .principles import ASSUMPTION_NOTE, Measure, Principle

__all__ = ["PACK_SECTORS", "load_pack", "pack_principles"]

PACK_SECTORS = ("council", "housing", "utility", "bank", "telecom", "retail")
_DIR = Path(__file__).parent / "packs"


@cache
def _read(sector: str) -> dict[str, Any]:
    data = yaml.safe_load((_DIR / f"{sector}.yaml").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("principles"), list):
        raise CxchainError(f"Code pack {sector}.yaml has no principles list.")
    return data


def load_pack(sector: str) -> dict[str, Any]:
    """The raw pack of a sector (``sector``, ``name``, ``sources``, ``principles``, and for housing and council
    ``complaint_handling_code`` with its stages, working-day timescales and self-assessment)."""
    if sector not in PACK_SECTORS:
        raise CxchainError(f"No CX Code pack for sector {sector!r}: choose one of {', '.join(PACK_SECTORS)}.")
    return _read(sector)


def pack_principles(sector: str) -> list[Principle]:
    """The sector's starter principles, each an ``assumption`` with no evidence."""
    out = []
    for d in load_pack(sector)["principles"]:
        rule = {k: [str(x) for x in v] for k, v in (d.get("evidence") or {}).items()}
        if d.get("theme"):
            rule.setdefault("themes", [])
            if d["theme"] not in rule["themes"]:
                rule["themes"].insert(0, str(d["theme"]))
        out.append(
            Principle(
                id=str(d["id"]),
                title=str(d["title"]),
                statement=str(d["statement"]),
                for_staff=str(d["for_staff"]),
                measures=[Measure.from_dict(m) for m in d.get("measures") or []],
                evidence=[],
                sector=sector,
                status="assumption",
                note=ASSUMPTION_NOTE,
                evidence_rule=rule,
                refs=[str(r) for r in d.get("refs") or []],
                source="pack",
            )
        )
    return out
