"""Latency of the web app's JSON views under concurrent clients, while a run writes a new generation.

    python benchmarks/web.py --workspace demo-1m --clients 50 --seconds 30 --after-publish 20

The workspace should be the 1M-contact sample organisation (``cxchain demo --contacts 1000000``);
any published workspace works.  The script starts ``uvicorn`` on a free loopback port in a
subprocess, creates a throwaway analyst and API token, waits until the server has computed its
summary views (``/healthz`` says ``views_ready``; the time is reported as ``warm_seconds``), runs
``--clients`` concurrent httpx clients against the main JSON views for ``--seconds`` and meanwhile
(unless ``--no-run``) runs ``Workspace.run()`` in a child process, which rebuilds and publishes a
generation.  With ``--after-publish S`` the clients go on until S seconds after the run published,
so the switch to the new generation is measured too.  Drill-downs ask for pages 1 to ``--pages``
in turn (not only the first, which is computed once).  It prints one JSON object: p50/p95/max per
view with its kind (summary or drill-down) and whether it met its target, requests, errors, and the
run's timing.  Targets (issue 4): p95 <= 300 ms on overview and summary views, <= 1 s on
drill-downs, zero errors.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from cxchain.web.users import add_user, create_token, remove_user
from cxchain.workspace import Workspace


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: p95 targets in milliseconds (issue 4).
TARGET_MS = {"summary": 300.0, "drill-down": 1000.0}


def _kind(path: str) -> str:
    """Drill-downs: a finding's contacts, a metric slice, one initiative or cycle; the rest are summary views."""
    return "drill-down" if path.startswith(("/insight/findings/", "/insight/metrics/", "/redesign/initiatives/",
                                            "/cycles/")) else "summary"


def _pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q * (len(xs) - 1))))]


async def _client(base: str, token: str, paths: list[str], until: Callable[[], bool], out: dict[str, list[float]],
                  errors: list[str]) -> None:
    async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30) as c:
        i = secrets.randbelow(len(paths))
        while not until():
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
    ap.add_argument("--after-publish", type=float, default=None,
                    help="Go on measuring until this many seconds after the run published (at least --seconds).")
    ap.add_argument("--pages", type=int, default=5, help="Drill-downs ask for pages 1..PAGES in turn.")
    ap.add_argument("--warm-timeout", type=float, default=1800, help="Seconds to wait for the server's views.")
    ap.add_argument("--out", type=Path, default=None,
                    help="Also write the JSON result here (stdout may carry DuckDB progress bars of the run).")
    args = ap.parse_args()
    ws = Workspace(args.workspace)
    name = "bench_" + secrets.token_hex(4)
    add_user(ws, name, secrets.token_urlsafe(16), role="analyst", actor="benchmark")
    token = create_token(ws, name, name="benchmark", actor="benchmark")
    findings = ws.findings()
    paths = ["/index.json", "/data.json", "/insight.json", "/insight/metrics/aht.json?by=channel"]
    paths += [f"/insight/findings/{f['id']}.json?page={p}" for f in findings[:3] for p in range(1, args.pages + 1)]
    # links 3-5: the plan, the board, the cycles; a cycle report and an initiative when the loop has run
    from cxchain.cycle.cycles import list_cycles
    from cxchain.redesign.initiatives import list_initiatives

    paths += ["/priorities.json", "/redesign.json", "/cycles.json", "/code.json", "/code/qa.json"]
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
        t_start = time.perf_counter()
        while time.perf_counter() - t_start < args.warm_timeout:
            try:
                r = httpx.get(base + "/healthz", timeout=5)
                if r.status_code == 200 and r.json().get("views_ready", True):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        run_info["warm_seconds"] = round(time.perf_counter() - t_start, 1)

        def writer() -> None:
            # The run is a child process of this script, as `cxchain run` beside a server would be: in a
            # thread here it would hold this process's interpreter lock and delay the clients' own clocks.
            t0 = time.perf_counter()
            before = (ws.store.current() or {}).get("generation")
            done_run = subprocess.run([sys.executable, "-c", f"from cxchain.workspace import Workspace; "
                                       f"Workspace({str(args.workspace)!r}).run()"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if done_run.returncode != 0:
                run_info["error"] = done_run.stderr.strip().splitlines()[-1:] or ["failed"]
                return
            published_at.append(time.monotonic())
            run_info.update(ran=True, seconds=round(time.perf_counter() - t0, 1), generation_before=before,
                            generation_after=(ws.store.current() or {}).get("generation"))

        published_at: list[float] = []
        thread = None if args.no_run else threading.Thread(target=writer, daemon=True)
        if thread:
            thread.start()
        lat: dict[str, list[float]] = {}
        errors: list[str] = []
        t_clients = time.monotonic()
        until = t_clients + args.seconds

        def done() -> bool:
            now = time.monotonic()
            if now < until:
                return False
            if args.after_publish is None or thread is None:
                return True
            if published_at:
                return now >= published_at[0] + args.after_publish
            return not thread.is_alive()  # the run failed: stop

        async def drive() -> None:
            await asyncio.gather(*[_client(base, token, paths, done, lat, errors) for _ in range(args.clients)])

        asyncio.run(drive())
        run_info["measured_seconds"] = round(time.monotonic() - t_clients, 1)
        if published_at:
            run_info["published_after_seconds"] = round(published_at[0] - t_clients, 1)
        run_info["overlapped"] = bool(thread and (thread.is_alive() or run_info.get("ran")))
        if thread:
            thread.join()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still busy with queued requests: no graceful end needed
            server.kill()
            server.wait()
        remove_user(ws, name, actor="benchmark")
    views = {p: {"kind": _kind(p), "requests": len(v), "p50_ms": round(statistics.median(v), 1),
                 "p95_ms": round(_pct(v, 0.95), 1), "max_ms": round(max(v), 1),
                 "target_met": _pct(v, 0.95) <= TARGET_MS[_kind(p)]} for p, v in sorted(lat.items())}
    result = {"clients": args.clients, "seconds": args.seconds, "views": views, "errors": len(errors),
              "error_examples": errors[:5], "run": run_info}
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
