"""The store publishes atomically: a failed or killed writer leaves the last good results intact."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cxchain import Workspace, WorkspaceError


def count(ws: Workspace) -> int:
    with ws.store.read() as con:
        return int(con.execute("SELECT count(*) FROM contact").fetchall()[0][0])


def test_failure_inside_a_writer_publishes_nothing(workspace):
    with workspace.store.write("test") as tx:
        tx.data.execute("INSERT INTO meta VALUES ('x', '1')")
    gen = workspace.store.current()["generation"]
    with pytest.raises(RuntimeError):
        with workspace.store.write("test") as tx:
            tx.data.execute("INSERT INTO meta VALUES ('y', '2')")
            raise RuntimeError("boom")
    assert workspace.store.current()["generation"] == gen
    with workspace.store.read() as con:
        assert con.execute("SELECT key FROM meta WHERE key IN ('x', 'y')").fetchall() == [("x",)]
    assert not (workspace.store.root / "gen" / f"{gen + 1:06d}").exists()


def test_second_writer_gets_a_clear_error(workspace):
    with workspace.store.lock():
        with pytest.raises(WorkspaceError, match="Another cxchain command"):
            with workspace.store.lock(wait_seconds=0.3):
                pass


def _big_csv(path: Path, n: int, offset: int = 0) -> None:
    with open(path, "w") as fh:
        fh.write("CallID,Start,Talk,Abandoned,CLI,Notes\n")
        for i in range(offset, offset + n):
            fh.write(f"{i},03/02/2025 09:{i % 60:02d},{i % 600},N,07700 900{i % 1000:03d},note {i}\n")


@pytest.mark.slow
def test_killed_runs_leave_the_previous_generation_intact(workspace, tmp_path, calls_mapping):
    first = tmp_path / "first.csv"
    _big_csv(first, 1000)
    workspace.ingest([first], source="calls", mapping=calls_mapping)
    assert count(workspace) == 1000
    rng = random.Random(7)
    cli = [sys.executable, "-m", "cxchain.cli"]
    for attempt in range(5):
        big = tmp_path / f"big{attempt}.csv"
        _big_csv(big, 60_000, offset=10_000 * (attempt + 1))
        proc = subprocess.Popen(cli + ["ingest", str(big), "--source", "calls", "--mapping", str(calls_mapping),
                                       "-w", str(workspace.path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 2.0))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        pointer = json.loads(workspace.store.pointer.read_text())
        n = count(workspace)
        assert n in (1000, 61_000) or n % 1000 == 0  # a complete generation, never a partial file
        with workspace.store.read() as con:
            assert con.execute("SELECT sum(rows_loaded) FROM batch").fetchall()[0][0] == n
        assert (workspace.store.root / pointer["data"]).exists()
    # the next writer sweeps unpublished leftovers and works
    again = tmp_path / "again.csv"
    _big_csv(again, 10, offset=900_000)
    workspace.ingest([again], source="calls", mapping=calls_mapping)
    gens = sorted(p.name for p in (workspace.store.root / "gen").iterdir())
    assert len(gens) <= 2
