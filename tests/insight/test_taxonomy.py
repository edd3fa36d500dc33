"""Taxonomy as code: packs, load/save, stable ids and the audit trail (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxchain.insight.taxonomy import (
    FAILURE_TYPES,
    SECTORS,
    Reason,
    TaxonomyError,
    load_taxonomy,
    save_taxonomy,
    starter_taxonomy,
)


@pytest.mark.parametrize("sector", SECTORS)
def test_packs_are_valid(sector: str) -> None:
    tax = starter_taxonomy(sector)
    assert len(tax.active) >= 10
    assert tax.changes[-1].action == "seed"
    for r in tax.active:
        assert r.name and r.description and r.group
        if r.demand == "failure":
            assert r.failure_type in FAILURE_TYPES
    # the failure typology is covered in every pack
    assert {r.failure_type for r in tax.active} >= {"chasing_progress", "complaint", "did_not_understand"}


def test_council_and_housing_sizes() -> None:
    assert 30 <= len(starter_taxonomy("council").active) <= 45
    assert 25 <= len(starter_taxonomy("housing").active) <= 45


def test_packs_do_not_reuse_demo_ids() -> None:
    from cxchain.demo.taxonomy import REASONS

    demo_ids = {r.id for rs in REASONS.values() for r in rs}
    for sector in SECTORS:
        assert not demo_ids & set(starter_taxonomy(sector).ids)


def test_save_load_roundtrip_and_audit(tmp_path: Path) -> None:
    tax = starter_taxonomy("council")
    v0 = tax.version
    tax.rename("bins.not_collected", "Bin missed by the crew", who="ana")
    tax.add(Reason(id="bins.food_caddy_liners", name="Food caddy liners", group="Waste and recycling",
                   description="Asking for compostable liners for the food waste caddy."), who="ana")
    tax.merge(["streets.lights_signs"], into="streets.road_pavement_defect", who="ben", detail="one team")
    tax.split("care.children_families", [
        Reason(id="care.child_safeguarding", name="Worried about a child", description="Safeguarding concern."),
        Reason(id="care.early_help", name="Early help for a family", description="Family support."),
    ], who="ben")
    p = tmp_path / "taxonomy.yaml"
    save_taxonomy(tax, p)
    back = load_taxonomy(p)
    assert back.version == v0 + 4
    assert back.get("bins.not_collected").name == "Bin missed by the crew"  # id kept on rename
    assert [c.action for c in back.changes][-4:] == ["rename", "add", "merge", "split"]
    assert all(c.who and c.when for c in back.changes)
    assert back.resolve("streets.lights_signs") == ["streets.road_pavement_defect"]
    assert back.resolve("care.children_families") == ["care.child_safeguarding", "care.early_help"]
    assert "streets.lights_signs" not in back.ids and "streets.lights_signs" in back  # retired, not deleted
    with pytest.raises(TaxonomyError):  # ids are never reused
        back.add(Reason(id="streets.lights_signs", name="x"), who="c")


def test_bad_files_rejected(tmp_path: Path) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text("version: 1\nreasons:\n  - {id: Not Dotted, name: x}\n")
    with pytest.raises(TaxonomyError):
        load_taxonomy(p)
    p.write_text("version: 1\nreasons:\n  - {id: a.b, name: x, demand: failure}\n")
    with pytest.raises(TaxonomyError, match="failure_type"):
        load_taxonomy(p)
    with pytest.raises(TaxonomyError):
        starter_taxonomy("airline")
