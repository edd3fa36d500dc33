"""Latency of the web app's JSON views under concurrent clients, while a run writes a new generation.

    python benchmarks/web.py --workspace demo-1m --clients 50 --seconds 30

The workspace should be the 1M-contact sample organisation (``cxchain demo --contacts 1000000``);
any published workspace works.  The script starts ``uvicorn`` on a free loopback port in a
subprocess, creates a throwaway analyst and API token, runs ``--clients`` concurrent httpx clients
against the main JSON views for ``--seconds``, and meanwhile (unless ``--no-run``) runs
``Workspace.run()`` in this process, which rebuilds and publishes a generation.  It prints one JSON
object: p50/p95/max per view, requests, errors, and whether the run overlapped.  Targets (issue 4):
p95 <= 300 ms on overview and summary views, <= 1 s on drill-downs, zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from cxchain.web.users import add_user, create_token, remove_user
from cxchain.workspace import Workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def _client(base: str, token: str, paths: list[str], until: float, out: dict[str, list[float]],
                  errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30) as c:
        i = secrets.randbelow(len(paths))
        while time.monotonic() < until:
            path = paths[i % len(paths)]
            i += 1
            t0 = time.perf_counter()
            try:
                r = await c.get(path)
                if r.status_code != 200:
                    errors.append(f"{path}: {r.status_code}")
            except httpx.HTTPError as e:
                errors.append(f"{path}: {type(e).__name__}")
            out.setdefault(path.split("?")[0], []).append((time.perf_counter() - t0) * 1000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workspace", required=True, type=Path)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--no-run", action="store_true", help="Do not run the chain while measuring.")
    ap.add_argument("--out", type=Path, default=None,
                    help="Also write the JSON result here (stdout may carry DuckDB progress bars of the run).")
    args = ap.parse_args()
    ws = Workspace(args.workspace)
    name = "bench_" + secrets.token_hex(4)
    add_user(ws, name, secrets.token_urlsafe(16), role="analyst", actor="benchmark")
    token = create_token(ws, name, name="benchmark", actor="benchmark")
    findings = ws.findings()
    paths = ["/index.json", "/data.json", "/insight.json", "/insight/metrics/aht.json?by=channel"]
    paths += [f"/insight/findings/{f['id']}.json" for f in findings[:3]]
    # links 3-5: the plan, the board, the cycles; a cycle report and an initiative when the loop has run
    from cxchain.cycle.cycles import list_cycles
    from cxchain.redesign.initiatives import list_initiatives

    paths += ["/priorities.json", "/redesign.json", "/cycles.json"]
    cycles = list_cycles(ws)
    paths += [f"/cycles/{c['id']}.json" for c in cycles[:1]]
    paths += [f"/redesign/initiatives/{i['id']}.json" for i in list_initiatives(ws)[:1]]
    port = _free_port()
    code = (f"import uvicorn; from cxchain.web.app import create_app; "
            f"uvicorn.run(create_app({str(args.workspace)!r}), host='127.0.0.1', port={port}, log_level='warning')")
    server = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL)  # keep stdout for the result
    base = f"http://127.0.0.1:{port}"
    run_info: dict[str, Any] = {"ran": False}
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)

        def writer() -> None:
            t0 = time.perf_counter()
            before = (ws.store.current() or {}).get("generation")
            ws.run()
            run_info.update(ran=True, seconds=round(time.perf_counter() - t0, 1), generation_before=before,
                            generation_after=(ws.store.current() or {}).get("generation"))

        thread = None if args.no_run else threading.Thread(target=writer, daemon=True)
        if thread:
            thread.start()
        lat: dict[str, list[float]] = {}
        errors: list[str] = []
        until = time.monotonic() + args.seconds

        async def drive() -> None:
            await asyncio.gather(*[_client(base, token, paths, until, lat, errors) for _ in range(args.clients)])

        asyncio.run(drive())
        run_info["overlapped"] = bool(thread and (thread.is_alive() or run_info.get("ran")))
        if thread:
            thread.join()
    finally:
        server.terminate()
        server.wait(timeout=10)
        remove_user(ws, name, actor="benchmark")
    views = {p: {"requests": len(v), "p50_ms": round(statistics.median(v), 1), "p95_ms": round(_pct(v, 0.95), 1),
                 "max_ms": round(max(v), 1)} for p, v in sorted(lat.items())}
    result = {"clients": args.clients, "seconds": args.seconds, "views": views, "errors": len(errors),
              "error_examples": errors[:5], "run": run_info}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
