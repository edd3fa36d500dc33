"""Benchmark the engine-portable part of the chain on DuckDB and on Spark (local mode) on this machine.

    python benchmarks/spark.py [--contacts 5000] [--seed 0] [--keep DIR] [--driver-memory 2g] [--replicate K]

Builds the sample organisation once (links 1 and 2 on DuckDB: the published store), then runs the
engine-portable transforms from that store on each engine, each in its own process:
sentiment (the text model; per partition with mapInPandas on Spark), failure demand, the metric fact
tables, and every registered metric (overall).  Prints wall time per step and in all, and the peak
memory of the process tree (Python plus, for Spark, its JVM), sampled from /proc every 0.2 s; then
checks the two engines' tables agree (floats within 1e-9).  Spark in local mode is expected to be
slower on one machine; the point is parity and a path to clusters (docs/spark.md has the estimate
for 50M contacts).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

STEPS = """
import json, sys, time
import duckdb
from cxchain import Workspace
from cxchain.engine import DuckDBEngine, build_facts_on
from cxchain.engine.insight import classify_demand_on, score_contacts_on
from cxchain.insight.pipeline import workspace_taxonomy
from cxchain.metrics.compile import compute
from cxchain.metrics.registry import REGISTRY

engine_name, ws_path, out_db, storage, driver_memory, replicate = sys.argv[1:7]
replicate = int(replicate)
ws = Workspace(ws_path)
settings = ws.settings
tax = workspace_taxonomy(ws.path, str(settings["sector"]))
times = {}
t_all = time.perf_counter()
with ws.store.read() as store:
    out = duckdb.connect(out_db)
    for (name,) in store.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall():
        if name in ("contact_fact", "survey_fact", "complaint_fact", "case_fact", "homes", "contact_sentiment", "contact_demand"):
            continue
        out.register("_t", store.sql(f'SELECT * FROM "{name}"').to_arrow_table())
        out.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _t')
        out.unregister("_t")
# --replicate K: K copies of the contact side (new record ids, interactions and customers) for per-row costs.
REPL = {"contact": ("record_id", "interaction_ref", "source_key"), "record_customer": ("record_id", "customer_key"),
        "contact_reason": ("record_id",), "journey_event": ("record_id", "customer_key")}
if replicate > 1:
    for name, cols in REPL.items():
        sets = ", ".join(f"{c} || '~' || CAST(k AS VARCHAR) AS {c}" for c in cols)
        out.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * REPLACE ({sets}) FROM "{name}", range({replicate}) r(k)')
times["copy_store"] = time.perf_counter() - t_all
t = time.perf_counter()
if engine_name == "duckdb":
    eng = DuckDBEngine(out)
else:
    from cxchain.engine.spark import SparkEngine, start_session
    eng = SparkEngine(storage, session=start_session("local[2]", driver_memory=driver_memory))
    eng.spark.range(1).count()
times["start"] = time.perf_counter() - t
t = time.perf_counter(); n_sent = score_contacts_on(eng, out); times["sentiment"] = time.perf_counter() - t
t = time.perf_counter(); demand = classify_demand_on(eng, out, tax, settings); times["demand"] = time.perf_counter() - t
t = time.perf_counter(); facts = build_facts_on(eng, out, secret=ws.store.secret()); times["facts"] = time.perf_counter() - t
con = eng.connection()
t = time.perf_counter()
for m in REGISTRY:
    compute(con, m, settings)
times["metrics"] = time.perf_counter() - t
times["total"] = time.perf_counter() - t_all
eng.stop()
print(json.dumps({"times": times, "facts": facts, "demand": demand, "sentiment_rows": n_sent, "metrics": len(REGISTRY)}))
"""


def _tree_rss_kb(root: int) -> int:
    """Resident memory of ``root`` and all its descendants (kB), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{d}/status") as f:
                kb = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d))
        rss[int(d)] = kb
    total, todo = 0, [root]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        todo += children.get(p, [])
    return total


def run_engine(engine: str, ws: Path, work: Path, driver_memory: str, replicate: int = 1) -> dict:
    out_db = work / f"{engine}.duckdb"
    out_db.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[1] / "src"),
                                                        os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", STEPS, engine, str(ws), str(out_db), str(work / "spark"), driver_memory,
                             str(replicate)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak = [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_kb(proc.pid))
            time.sleep(0.2)
    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{engine} run failed:\n{err[-3000:]}")
    res = json.loads(out.strip().splitlines()[-1])
    res.update(engine=engine, wall_s=round(wall, 1), peak_rss_mb=round(peak[0] / 1024), store=str(out_db))
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contacts", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sector", default="council")
    ap.add_argument("--keep", type=Path, help="Folder to keep (and reuse) the demo workspace in.")
    ap.add_argument("--driver-memory", default="2g")
    ap.add_argument("--replicate", type=int, default=1,
                    help="Run on K copies of the contact side of the store (per-row costs without a bigger demo build).")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from cxchain.demo.workspace import build_demo

    work = args.keep or Path(tempfile.mkdtemp(prefix="cx-spark-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    ws = work / f"ws-{args.sector}-{args.contacts}-{args.seed}"
    t0 = time.perf_counter()
    if not (ws / ".cxchain" / "current.json").exists():
        build_demo(ws, sector=args.sector, contacts=args.contacts, seed=args.seed)
        print(f"demo built (links 1 and 2 on DuckDB) in {time.perf_counter() - t0:.1f} s: {ws}")
    results = [run_engine(e, ws, work, args.driver_memory, args.replicate) for e in ("duckdb", "spark")]

    import duckdb

    from cxchain.engine.parity import diff_tables
    from cxchain.metrics.facts import FACT_TABLES

    a, b = (duckdb.connect(r["store"], read_only=True) for r in results)
    diffs = {t: diff_tables(a, b, t) for t in (*FACT_TABLES, "contact_sentiment", "contact_demand")}
    steps = ["copy_store", "start", "sentiment", "demand", "facts", "metrics", "total"]
    print(f"\n{args.contacts} contacts (seed {args.seed}, {args.sector}), contact side x{args.replicate}; "
          f"contact_fact rows: {results[0]['facts']['contact_fact']}, texts scored: {results[0]['sentiment_rows']}")
    print(f"{'engine':<8}" + "".join(f"{s:>11}" for s in steps) + f"{'wall':>9}{'peak MB':>9}")
    for r in results:
        print(f"{r['engine']:<8}" + "".join(f"{r['times'][s]:>10.1f}s" for s in steps)
              + f"{r['wall_s']:>8.1f}s{r['peak_rss_mb']:>9}")
    ratio = results[1]["times"]["total"] / max(results[0]["times"]["total"], 1e-9)
    print(f"spark / duckdb (total): {ratio:.1f}x")
    bad = {t: d for t, d in diffs.items() if d}
    print("parity: identical" if not bad else f"parity: DIFFERENT {json.dumps(bad, default=str)[:2000]}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
