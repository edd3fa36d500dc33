"""Shared fixtures: fresh workspaces and small export files written by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import pytest

from cxchain import Workspace

CALLS_MAPPING = """\
version: 1
source: calls
entity: contact
key: [CallID]
constants: {channel: phone}
fields:
  started_at: Start
  talk_s: Talk
  abandoned: Abandoned
  text: Notes
identity:
  phone: CLI
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A new council workspace with redaction switched off (tests of redaction switch it on)."""
    ws = Workspace.init(tmp_path / "ws", sector="council", overrides={"privacy.redact_text": False, "as_of": "2025-03-01"})
    return ws


@pytest.fixture
def calls_mapping(tmp_path: Path) -> Path:
    p = tmp_path / "calls.yaml"
    p.write_text(CALLS_MAPPING)
    return p
