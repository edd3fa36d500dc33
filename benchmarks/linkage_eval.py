"""Identity resolution on the sample organisation against its planted identities.

    python benchmarks/linkage_eval.py [--contacts 10000] [--seeds 0 1 2 3 4] [--sector council housing]

For each seed and sector: build the demo (link 1 only), then pairwise precision, recall and F1 of
"same resolved customer" against "same true person" over every record that reached the linker,
and the resolved customer count against the true people count.  Target (issue 2): F1 >= 0.98.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from cxchain import Workspace
from cxchain.demo import generate
from cxchain.demo.workspace import DEMO_COSTS
from cxchain.settings import SourceConfig


def build(path: Path, sector: str, contacts: int, seed: int) -> Workspace:
    manifest = json.loads(generate(path / "org", sector=sector, contacts=contacts, seed=seed).read_text())
    srcs = [SourceConfig(f["source"], (str(path / "org" / f["file"]),), str(path / "org" / "mappings" / f"{f['source']}.yaml"))
            for f in manifest["files"]]
    ws = Workspace.init(path / "ws", sector=sector, sources=srcs, overrides={"as_of": manifest["as_of"], **DEMO_COSTS})
    ws.run(until="data")
    return ws


def score(ws: Workspace, truth_file: Path) -> dict[str, float]:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE truth AS SELECT DISTINCT source, source_key, person_id FROM read_parquet('{truth_file}') "
                "WHERE person_id IS NOT NULL")
    with ws.store.read() as d:
        con.register("rc", d.sql("SELECT record_id, customer_key FROM record_customer").to_arrow_table())
        tp, pp, ap, n, people, customers = con.execute("""
            WITH j AS (SELECT t.person_id, rc.customer_key FROM rc JOIN truth t ON rc.record_id = t.source || ':' || t.source_key)
            SELECT (SELECT sum(c * (c - 1) / 2) FROM (SELECT count(*) c FROM j GROUP BY person_id, customer_key)),
                   (SELECT sum(c * (c - 1) / 2) FROM (SELECT count(*) c FROM j GROUP BY customer_key)),
                   (SELECT sum(c * (c - 1) / 2) FROM (SELECT count(*) c FROM j GROUP BY person_id)),
                   (SELECT count(*) FROM j), (SELECT count(DISTINCT person_id) FROM j), (SELECT count(DISTINCT customer_key) FROM j)
            """).fetchall()[0]
    p, r = tp / pp, tp / ap
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r), "records": n, "people": people, "customers": customers}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=10_000)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--sector", nargs="+", default=["council", "housing"])
    a = ap.parse_args()
    for sector in a.sector:
        rows = []
        for seed in a.seeds:
            tmp = Path(tempfile.mkdtemp(prefix="cxlink-"))
            t0 = time.perf_counter()
            ws = build(tmp, sector, a.contacts, seed)
            s = score(ws, tmp / "org" / "truth" / "identities.parquet")
            s["seconds"] = time.perf_counter() - t0
            rows.append(s)
            print(f"{sector:<8} seed {seed}: precision {s['precision']:.3f} recall {s['recall']:.3f} F1 {s['f1']:.3f} | "
                  f"{s['records']:,} records, {s['people']:,} true people -> {s['customers']:,} customers ({s['seconds']:.0f} s)")
            shutil.rmtree(tmp, ignore_errors=True)
        f1 = [r["f1"] for r in rows]
        print(f"{sector:<8} median F1 {statistics.median(f1):.3f} (min {min(f1):.3f}) over {len(rows)} seeds; target >= 0.98: "
              f"{'met' if min(f1) >= 0.98 else 'MISSED'}")


if __name__ == "__main__":
    main()
