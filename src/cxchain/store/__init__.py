"""The storage boundary: published generations of the analytical and identity stores.

Layout inside a workspace's ``.cxchain`` folder::

    current.json              pointer to the published generation (replaced atomically)
    gen/000007/data.duckdb    analytical tables of generation 7 (no direct identifiers)
    gen/000007/identity.duckdb  identifiers for linkage and raw quarantined rows (protected)
    ops.sqlite                operational records many people edit (WAL mode): audit log, ...
    secret.key                key for the keyed hashes of reference fields (never leaves the workspace)
    lock                      held by the one process writing

A writer copies the current generation into a new folder, works there, and publishes by replacing
``current.json``; readers open the generation named by the pointer read-only.  A failed or killed
writer leaves an unpublished folder that the next writer deletes: the last good results stay
intact, and readers (the web app) never see a half-written run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from ..errors import WorkspaceError
from .schema import create_data_schema, create_identity_schema

KEEP_GENERATIONS = 2


@dataclass
class Transaction:
    """An open writer: connections to the new generation's stores."""

    generation: int
    folder: Path
    data: duckdb.DuckDBPyConnection
    identity: duckdb.DuckDBPyConnection
    started_at: datetime
    info: dict[str, Any]


class Store:
    """Generations of a workspace's stores; see the module docstring."""

    def __init__(self, root: Path):
        self.root = root

    @property
    def pointer(self) -> Path:
        return self.root / "current.json"

    def initialise(self) -> None:
        (self.root / "gen").mkdir(parents=True, exist_ok=True)
        key = self.root / "secret.key"
        if not key.exists():
            key.write_text(secrets.token_hex(32))
            key.chmod(0o600)
        self.ops().close()

    def secret(self) -> str:
        try:
            return (self.root / "secret.key").read_text().strip()
        except FileNotFoundError:
            raise WorkspaceError(f"{self.root} has no secret.key: was the workspace created with `cxchain init`?") from None

    def current(self) -> dict[str, Any] | None:
        """The published generation's pointer, or None before the first publish."""
        try:
            return dict(json.loads(self.pointer.read_text()))
        except FileNotFoundError:
            return None

    def data_path(self) -> Path | None:
        cur = self.current()
        return self.root / cur["data"] if cur else None

    @contextlib.contextmanager
    def read(self, *, identity: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the published analytical store (or the identity store)."""
        cur = self.current()
        if cur is None:
            raise WorkspaceError("Nothing has been published in this workspace yet: run `cxchain ingest` or `cxchain run` first.")
        path = self.root / (cur["identity"] if identity else cur["data"])
        con = duckdb.connect(str(path), read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def lock(self, wait_seconds: float = 30.0) -> Iterator[None]:
        """The single-writer lock; waits a while, then says who holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / "lock", "a+")
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "another process"
                    fh.close()
                    raise WorkspaceError(f"Another cxchain command ({holder}) is writing this workspace. "
                                         "Wait for it to finish, then try again.") from None
                time.sleep(0.2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    @contextlib.contextmanager
    def write(self, kind: str) -> Iterator[Transaction]:
        """Open a new generation copied from the current one; publish it if the block succeeds."""
        with self.lock():
            self._sweep_unpublished()
            cur = self.current()
            gen = (cur["generation"] if cur else 0) + 1
            folder = self.root / "gen" / f"{gen:06d}"
            folder.mkdir(parents=True)
            if cur:
                shutil.copyfile(self.root / cur["data"], folder / "data.duckdb")
                shutil.copyfile(self.root / cur["identity"], folder / "identity.duckdb")
            data = duckdb.connect(str(folder / "data.duckdb"))
            ident = duckdb.connect(str(folder / "identity.duckdb"))
            create_data_schema(data)
            create_identity_schema(ident)
            tx = Transaction(gen, folder, data, ident, datetime.now().replace(microsecond=0), {"kind": kind})
            try:
                yield tx
                data.execute("CHECKPOINT")
                ident.execute("CHECKPOINT")
            except BaseException:
                data.close()
                ident.close()
                shutil.rmtree(folder, ignore_errors=True)
                raise
            data.close()
            ident.close()
            self._publish(gen, folder, tx)
            self._prune(gen)

    def _publish(self, gen: int, folder: Path, tx: Transaction) -> None:
        rel = folder.relative_to(self.root)
        pointer = {"generation": gen, "data": str(rel / "data.duckdb"), "identity": str(rel / "identity.duckdb"),
                   "published_at": datetime.now().isoformat(timespec="seconds"), **tx.info}
        tmp = self.pointer.with_suffix(".json.tmp")
        with open(tmp, "w") as fh:
            json.dump(pointer, fh, indent=2, default=str)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.pointer)
        dfd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def _sweep_unpublished(self) -> None:
        cur = self.current()
        published = cur["generation"] if cur else 0
        for d in (self.root / "gen").glob("*"):
            if d.is_dir() and d.name.isdigit() and int(d.name) > published:
                shutil.rmtree(d, ignore_errors=True)

    def _prune(self, gen: int) -> None:
        for d in (self.root / "gen").glob("*"):
            if d.is_dir() and d.name.isdigit() and int(d.name) <= gen - KEEP_GENERATIONS:
                shutil.rmtree(d, ignore_errors=True)

    def ops(self) -> sqlite3.Connection:
        """The operational store (SQLite, WAL mode: many readers, concurrent writers queue briefly)."""
        con = sqlite3.connect(self.root / "ops.sqlite", timeout=30)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("""CREATE TABLE IF NOT EXISTS audit_log (id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
                       action TEXT NOT NULL, target TEXT, detail TEXT)""")
        return con

    def audit(self, actor: str, action: str, target: str = "", detail: dict[str, Any] | None = None) -> None:
        """Record who changed what (never customer text or identifiers)."""
        con = self.ops()
        with con:
            con.execute("INSERT INTO audit_log (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)",
                        (datetime.now().isoformat(timespec="seconds"), actor, action, target, json.dumps(detail or {})))
        con.close()
