"""Identity resolution on the sample organisation against its planted identities.

    python benchmarks/linkage_eval.py [--contacts 10000] [--seeds 0 1 2 3 4] [--sector council housing]

For each seed and sector: build the demo (link 1 only), then pairwise precision, recall and F1 of
"same resolved customer" against "same true person" over every record that reached the linker,
and the resolved customer count against the true people count.  Target (issue 2): F1 >= 0.98.

"ceiling" is the recall an oracle could reach from the identifiers alone: the share of true pairs
whose records are connected through records of the *same* person that share an exact identifier
(customer or household id, email, phone, UPRN, date of birth, or the exact full name).  A record
whose identifiers no other record of its person carries (a call from a number seen nowhere else, a
repair known only by a tenancy the person's other records never mention) cannot be linked by any
method; the ceiling says how much of the gap to 1.0 is that.
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
import numpy as np
import pyarrow as pa

from cxchain import Workspace
from cxchain.data.identity import normalise_identities
from cxchain.data.linkage import _components
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
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r), "records": n, "people": people, "customers": customers,
            "ceiling": recall_ceiling(ws, con)}


def recall_ceiling(ws: Workspace, con: duckdb.DuckDBPyConnection) -> float:
    """Recall of an oracle that links a person's records only where they share an exact identifier."""
    with ws.store.read(identity=True) as d:
        con.register("ids_raw", d.sql("SELECT * FROM identity_record QUALIFY row_number() OVER (PARTITION BY record_id "
                                      "ORDER BY version DESC) = 1").to_arrow_table())
    normalise_identities(con, "ids_raw", "ids_n")
    con.execute("""CREATE OR REPLACE TABLE n AS SELECT row_number() OVER () - 1 AS node, t.person_id, i.*
                   FROM ids_n i JOIN truth t ON i.record_id = t.source || ':' || t.source_key
                   JOIN rc ON rc.record_id = i.record_id""")
    a, b = [], []
    # ids compared across systems (a tenancy ref in the CRM and in repairs), as an oracle would
    for col in ("substr(customer_id, length(source) + 2)", "email", "phone", "uprn", "dob", "first_name || '|' || last_name"):
        e = con.execute(f"SELECT node, min(node) OVER (PARTITION BY person_id, {col}) AS m FROM n WHERE {col} IS NOT NULL").fetchnumpy()
        a.append(np.asarray(e["node"], dtype=np.int64))
        b.append(np.asarray(e["m"], dtype=np.int64))
    nodes = con.execute("SELECT count(*) FROM n").fetchall()[0][0]
    con.register("lab", pa.table({"node": np.arange(nodes, dtype=np.int64), "comp": _components(nodes, np.concatenate(a), np.concatenate(b))}))
    return float(con.execute("""WITH x AS (SELECT n.person_id, lab.comp FROM n JOIN lab USING (node))
        SELECT (SELECT sum(c * (c - 1) / 2) FROM (SELECT count(*) c FROM x GROUP BY person_id, comp))
             / (SELECT sum(c * (c - 1) / 2) FROM (SELECT count(*) c FROM x GROUP BY person_id))""").fetchall()[0][0])


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
                  f"(recall ceiling {s['ceiling']:.3f}) | {s['records']:,} records, {s['people']:,} true people -> {s['customers']:,} customers "
                  f"({s['seconds']:.0f} s)")
            shutil.rmtree(tmp, ignore_errors=True)
        f1 = [r["f1"] for r in rows]
        print(f"{sector:<8} median F1 {statistics.median(f1):.3f} (min {min(f1):.3f}) over {len(rows)} seeds; target >= 0.98: "
              f"{'met' if min(f1) >= 0.98 else 'MISSED'}")


if __name__ == "__main__":
    main()
