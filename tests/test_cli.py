"""The CLI: help everywhere, JSON where it reports, errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from cxchain.cli import cli

from .conftest import CALLS_MAPPING


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append(prefix + (name,))
        if isinstance(cmd, click.Group):
            out += all_commands(cmd, prefix + (name,))
    return out


@pytest.mark.parametrize("path", all_commands(cli))
def test_every_command_has_help(path):
    res = CliRunner().invoke(cli, [*path, "--help"])
    assert res.exit_code == 0, res.output
    cmd = cli
    for p in path:
        cmd = cmd.commands[p]  # type: ignore[attr-defined]
    assert cmd.help and len(cmd.help) > 20


def test_init_ingest_json_then_health_through_the_real_cli(tmp_path: Path):
    exe = [sys.executable, "-m", "cxchain.cli"]
    ws = tmp_path / "ws"
    subprocess.run(exe + ["init", str(ws), "--sector", "housing"], check=True, capture_output=True)
    (ws / "cxchain.toml").write_text((ws / "cxchain.toml").read_text().replace("redact_text = true", "redact_text = false"))
    csv = tmp_path / "calls.csv"
    csv.write_text("CallID,Start,Talk,Abandoned,CLI,Notes\n1,03/02/2025 09:14,60,N,07700 900123,hi\n2,N/A,1,N,,x\n")
    m = tmp_path / "calls.yaml"
    m.write_text(CALLS_MAPPING)
    out = subprocess.run(exe + ["ingest", str(csv), "--source", "calls", "--mapping", str(m), "-w", str(ws), "--json"],
                         check=True, capture_output=True, text=True).stdout
    d = json.loads(out)
    assert d["totals"] == {"rows_read": 2, "rows_loaded": 1, "rows_quarantined": 1, "rows_duplicate": 0, "rows_updated": 0}
    assert d["files"][0]["quarantine_sample"][0]["location"] == "calls.csv:3"
    h = json.loads(subprocess.run(exe + ["health", "-w", str(ws), "--json"], check=True, capture_output=True, text=True).stdout)
    assert h["links"]["data"]["status"] in ("holds", "weak", "broken")
    assert {"code", "text"} <= set(h["links"]["data"]["reasons"][0])


def test_user_errors_have_no_traceback(tmp_path: Path):
    exe = [sys.executable, "-m", "cxchain.cli"]
    res = subprocess.run(exe + ["sources", "-w", str(tmp_path)], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "cxchain init" in res.stderr
    ws = tmp_path / "ws"
    subprocess.run(exe + ["init", str(ws)], check=True, capture_output=True)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = subprocess.run(exe + ["ingest", str(empty), "--source", "x", "-w", str(ws)], capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr and "empty" in res.stderr


def test_map_suggest_reads_shapes(tmp_path: Path):
    csv = tmp_path / "export.csv"
    csv.write_text("Ref,Date Received,Customer Email,Phone,Wait Time,Comments\n"
                   "A1,03/02/2025 09:14,a@example.com,07700 900123,00:01:10,my bin was not collected again this week\n")
    res = CliRunner().invoke(cli, ["map", "suggest", str(csv), "--source", "calls"])
    assert res.exit_code == 0, res.output
    assert "email: Customer Email" in res.output and "phone: Phone" in res.output
    assert "started_at: Date Received" in res.output and "wait_s: Wait Time" in res.output and "key:\n- Ref" in res.output
