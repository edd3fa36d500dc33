"""Fixtures of the insight tests: one MiniLM embedder per session (the model load costs seconds)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory):
    from cxchain.insight.embed import Embedder

    return Embedder(tmp_path_factory.mktemp("emb_cache"))


@pytest.fixture(scope="session")
def banking_sample() -> list[dict[str, str]]:
    with open(FIXTURES / "banking77_sample.csv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
