"""Shared state of one generator run: the population, the true contacts, random streams and the truth recorder."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl

from .contacts import Contacts
from .mess import FileStats
from .people import Population
from .taxonomy import Effects, Reason
from .text import Writer

TRUTH_SCHEMA: dict[str, type[pl.DataType] | pl.DataType] = {
    "source": pl.String, "source_key": pl.String, "entity": pl.String, "contact_id": pl.Int64,
    "episode_id": pl.Int64, "person_id": pl.String, "reason_id": pl.String, "demand": pl.String,
    "failure_type": pl.String, "language": pl.String, "channel": pl.String,
    "started_at": pl.Datetime("us"), "csat": pl.Int64,
}


class Recorder:
    """Collects the per-record truth of every silo."""

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []

    def add(self, source: str, entity: str, keys: list[str], **cols: np.ndarray | list) -> None:
        n = len(keys)
        data: dict[str, object] = {"source": [source] * n, "source_key": keys, "entity": [entity] * n}
        for name in TRUTH_SCHEMA:
            if name in data:
                continue
            v = cols.get(name)
            if v is None:
                data[name] = [None] * n
            elif name == "person_id":
                arr = np.asarray(v)
                data[name] = [None if p < 0 else f"P{p:07d}" for p in arr.tolist()]
            elif name == "demand":
                data[name] = np.where(np.asarray(v, dtype=bool), "failure", "value").tolist()
            elif name == "failure_type":
                data[name] = [x if x else None for x in np.asarray(v).tolist()]
            elif name == "csat":
                arr = np.asarray(v)
                data[name] = [None if x < 0 else int(x) for x in arr.tolist()]
            else:
                data[name] = np.asarray(v).tolist() if not isinstance(v, list) else v
        self.parts.append(pl.DataFrame(data, schema=TRUTH_SCHEMA))

    def frame(self) -> pl.DataFrame:
        return pl.concat(self.parts) if self.parts else pl.DataFrame(schema=TRUTH_SCHEMA)


@dataclass
class Ctx:
    sector: str
    org: str
    domain: str
    start: date
    days: int
    as_of: date
    pop: Population
    c: Contacts
    reasons: tuple[Reason, ...]
    eff: Effects
    day_of: dict[str, int]
    writer: Writer
    exports: Path
    rec: Recorder
    seed_seq: np.random.SeedSequence
    stats: list[FileStats] = field(default_factory=list)
    # filled by the contact silos and used by the record silos
    contact_ref: np.ndarray = field(default_factory=lambda: np.array([], dtype=object))
    answered: np.ndarray = field(default_factory=lambda: np.array([], dtype=bool))
    case_of_episode: dict[int, str] = field(default_factory=dict)

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed_seq.spawn(1)[0])

    def pyrng(self) -> random.Random:
        return random.Random(int(self.seed_seq.spawn(1)[0].generate_state(1)[0]))

    def when(self, day: np.ndarray, second: np.ndarray) -> np.ndarray:
        base = np.datetime64(datetime(self.start.year, self.start.month, self.start.day), "s")
        return base + day.astype("timedelta64[D]").astype("timedelta64[s]") + second.astype("timedelta64[s]")

    def reason_ids(self, idx: np.ndarray) -> np.ndarray:
        return np.array([r.id for r in self.reasons])[idx]
