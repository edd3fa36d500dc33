"""A small synthetic workspace with hand-made fact tables, for unit tests of links 3-5."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from cxchain.workspace import Workspace

AS_OF = date(2026, 3, 8)  # a Sunday: the week of 2026-03-02 is the last full week
START = date(2025, 6, 2)
COSTS = {"costs.phone": [2.0, 4.0], "costs.email": [1.0, 3.0], "costs.per_handling_minute": [0.5, 1.0]}
#: reason -> (group, contacts a week, failure share)
REASONS = {"repairs.leak": ("repairs", 30, 0.6), "rent.pay": ("rent", 20, 0.1), "asb.noise": ("asb", 8, 0.3)}


def make_workspace(path: Path, seed: int = 0) -> Workspace:
    ws = Workspace.init(path, sector="housing", overrides={"as_of": AS_OF.isoformat(), **COSTS})
    rng = np.random.default_rng(seed)
    rows = []
    i = 0
    d = START
    while d <= AS_OF:
        for rid, (grp, per_week, fail) in REASONS.items():
            for _ in range(rng.poisson(per_week / 7)):
                i += 1
                t = datetime(d.year, d.month, d.day, 10) + timedelta(minutes=int(rng.integers(0, 480)))
                ch = "phone" if rng.random() < 0.75 else "email"
                rows.append(
                    {
                        "record_id": f"r{i}",
                        "source": "acd",
                        "source_key": str(i),
                        "customer_key": f"c{rng.integers(0, 400)}",
                        "channel": ch,
                        "started_at": t,
                        "week": d - timedelta(days=d.weekday()),
                        "is_first_leg": True,
                        "interaction_id": f"r{i}",
                        "reason_id": rid,
                        "reason_group": grp,
                        "demand": "failure" if rng.random() < fail else "value",
                        "handle_s": 300.0,
                        "interaction_ended_at": t + timedelta(minutes=5),
                        "interaction_transferred": False,
                    }
                )
        d += timedelta(days=1)
    cf = pd.DataFrame(rows)
    cf["week"] = pd.to_datetime(cf["week"])
    sv = cf.sample(frac=0.3, random_state=seed)[["record_id", "reason_id"]].copy()
    sv["csat"] = np.where(
        sv["reason_id"] == "repairs.leak", rng.integers(1, 4, len(sv)), rng.integers(3, 6, len(sv))
    )
    sv["csat_scale_max"] = 5
    with ws.store.write("test") as tx:
        tx.data.register("cf_df", cf)
        tx.data.execute("CREATE OR REPLACE TABLE contact_fact AS SELECT * FROM cf_df")
        tx.data.register("sv_df", sv)
        tx.data.execute("CREATE OR REPLACE TABLE survey_fact AS SELECT * FROM sv_df")
    return ws
