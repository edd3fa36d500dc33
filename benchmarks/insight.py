"""Benchmark link 2 (insight) on a large sample organisation, in full and as an incremental refresh.

    python benchmarks/insight.py [--contacts 1000000] [--new 20000] [--sector council] [--keep DIR]

1. Generates the sample organisation and holds back the newest rows of every CSV contact export
   (about ``--new`` contacts, cut at CSV record boundaries, so quoted newlines stay whole).
2. ``cxchain run --until data`` on the rest (link 1; timed but not the subject here).
3. **Full**: ``cxchain run --full`` computes link 2 for every contact: reasons, sentiment, failure demand,
   metric facts, findings, with the wall time of each step and the process's peak memory.
4. **Incremental**: the held-back rows arrive (each export re-delivered with its new rows at the
   end) and ``cxchain run`` brings the workspace up to date: link 1 for the new rows, then link 2,
   where unchanged contacts keep their reasons and sentiment.

Each phase runs in its own process (peak memory = its VmHWM).  Targets (issue 3, item 12, on the
2-core machine): the whole link on 1M contacts in <= 5 minutes; an incremental refresh of 20k new
contacts in <= 1 minute.

Last measured 2026-11-24 05:21-05:32 UTC, 1M council contacts, seed 0, on the 2-core machine with nothing
else running (load average 0.0 before): link 1 92 s (peak 2,955 MB); link 2 in full 186.1 s (reasons
129.6 s, sentiment 15.9 s, failure demand 32.0 s, facts 6.0 s, findings 2.5 s; peak 5,103 MB): met;
incremental refresh of 21,883 new contact rows 41.1 s end to end (link 2: 21.6 s): met.  Unclassified 7.7 %.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

PHASE = """
import json, sys, time
from cxchain import Workspace
ws = Workspace(sys.argv[1]); until = sys.argv[2]; t0 = time.perf_counter()
res = ws.run(until=until, full=sys.argv[3] == "full")
out = {"seconds": time.perf_counter() - t0, "rows_loaded": res.get("ingest", {}).get("totals", {}).get("rows_loaded")}
if until == "insight":
    ins = res.get("insight") or {}
    out.update(insight_seconds=ins.get("seconds"), steps=ins.get("step_seconds"), contacts=ins.get("reasons", {}).get("contacts"),
               reasons=ins.get("reasons"), findings=ins.get("findings"))
print("RESULT " + json.dumps(out))
for _l in open("/proc/self/status"):
    if _l.startswith("VmHWM:"):
        print("PEAK " + json.dumps({"peak_kb": int(_l.split()[1])}))
"""


def run_phase(ws: Path, until: str, mode: str = "incremental") -> dict:
    proc = subprocess.run([sys.executable, "-c", PHASE, str(ws), until, mode], stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"cxchain run --until {until} failed ({proc.returncode})")
    # The run may print notes of its own (linkage training, say): read only the marked lines.
    lines = proc.stdout.splitlines()
    res = json.loads(next(line[7:] for line in lines if line.startswith("RESULT ")))
    res["peak_mb"] = json.loads(next(line[5:] for line in lines if line.startswith("PEAK ")))["peak_kb"] / 1024
    return res


def record_ends(raw: bytes, quote: int = ord('"')) -> list[int]:
    """Byte offsets just after each CSV record's line break (a newline outside quotes)."""
    ends, inside = [], False
    for i, b in enumerate(raw):
        if b == quote:
            inside = not inside
        elif b == 10 and not inside:
            ends.append(i + 1)
    return ends


def hold_back(path: Path, fraction: float) -> tuple[bytes, int]:
    """Cut the file's last ``fraction`` of records off (written back); returns (the full file, records held)."""
    raw = path.read_bytes()
    ends = record_ends(raw)
    records = len(ends) - 1  # the header is the first
    keep = records - int(round(records * fraction))
    if records <= 0 or keep >= records:
        return raw, 0
    path.write_bytes(raw[: ends[keep]])  # header + the first `keep` records
    return raw, records - keep


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contacts", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=20_000, help="contacts held back for the incremental refresh")
    ap.add_argument("--sector", default="council")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the workspace in this folder")
    a = ap.parse_args()
    from cxchain import Workspace
    from cxchain.demo import generate
    from cxchain.settings import SourceConfig

    base = a.keep or Path(tempfile.mkdtemp(prefix="cxbench-insight-"))
    base.mkdir(parents=True, exist_ok=True)
    ws_path = base / "ws"
    shutil.rmtree(ws_path, ignore_errors=True)
    t0 = time.perf_counter()
    manifest = json.loads(generate(ws_path / "org", sector=a.sector, contacts=a.contacts, seed=a.seed).read_text())
    print(f"sample organisation: {a.contacts:,} contacts ({a.sector}, seed {a.seed}), generated in "
          f"{time.perf_counter() - t0:.0f} s")
    org = ws_path / "org"
    files = manifest["files"]
    fraction = min(a.new / a.contacts, 0.5)
    held: dict[str, bytes] = {}
    new_rows = 0
    for f in files:
        mapping = yaml.safe_load((org / "mappings" / f"{f['source']}.yaml").read_text()) or {}
        if mapping.get("entity") == "contact" and f["file"].endswith(".csv"):
            full, n = hold_back(org / f["file"], fraction)
            held[f["file"]], new_rows = full, new_rows + n
    srcs = [SourceConfig(f["source"], (f"org/{f['file']}",), f"mappings/{f['source']}.yaml") for f in files]
    ws = Workspace.init(ws_path, sector=a.sector, sources=srcs, exist_ok=True, overrides={"as_of": manifest["as_of"]})
    for f in files:
        shutil.copy(org / "mappings" / f"{f['source']}.yaml", ws.path / "mappings" / f"{f['source']}.yaml")
    print(f"held back {new_rows:,} contact rows ({fraction:.1%} of each CSV contact export) for the refresh")

    data = run_phase(ws_path, "data")
    print(f"link 1 on the base: {data['seconds']:.0f} s, peak {data['peak_mb']:,.0f} MB")
    full = run_phase(ws_path, "insight", "full")
    for rel, raw in held.items():
        (org / rel).write_bytes(raw)
    inc = run_phase(ws_path, "insight")

    print(f"\n{'phase':<44} {'contacts':>10} {'seconds':>9} {'peak MB':>9}")
    print(f"{'full: link 2 for every contact':<44} {full['contacts'] or 0:>10,} {full['insight_seconds']:>9.1f} {full['peak_mb']:>9,.0f}")
    for step, s in (full.get("steps") or {}).items():
        print(f"    {step:<40} {'':>10} {s:>9.1f}")
    print(f"{'incremental: run after new rows arrive':<44} {new_rows:>10,} {inc['seconds']:>9.1f} {inc['peak_mb']:>9,.0f}")
    print(f"    {'of which link 2':<40} {inc['contacts'] or 0:>10,} {inc['insight_seconds']:>9.1f}")
    for step, s in (inc.get("steps") or {}).items():
        print(f"        {step:<36} {'':>10} {s:>9.1f}")
    # No extrapolation: above ReasonClassifier.embed_all_max distinct texts the classifier switches from
    # embedding every text to a distilled lexical model, so time is not linear in contacts.
    ok_full = "met" if full["insight_seconds"] <= 300 else "MISSED"
    print(f"\nfull link 2: {full['insight_seconds']:.0f} s for {full['contacts']:,} contacts; reasons by method "
          f"{(full.get('reasons') or {}).get('methods')}"
          + (f" (target <= 300 s at 1M: {ok_full})" if a.contacts >= 1_000_000 else " (target applies at 1M contacts)"))
    print(f"incremental refresh of {new_rows:,} new contact rows: {inc['seconds']:.0f} s end to end "
          f"(target <= 60 s for 20k: {'met' if inc['seconds'] <= 60 else 'MISSED'})")
    print("unclassified share (full): " + str((full.get("reasons") or {}).get("unclassified_share")))
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
