"""Views computed once per published state, so a request reads a small precomputed object.

The web app's pages are views of three things that change rarely compared with how often they are read:
the published generation (a run publishes a new one), the settings file, and the operational store
(``ops.sqlite``: plans, initiatives, cycles, the CX Code, users; every edit commits there).  A
:class:`ViewCache` keys each view's context dict on that state, so the chain health, the CX Code's QA
scores, the story and the plan are computed once per state instead of on every request.

* **Edits are never hidden.** SQLite's ``PRAGMA data_version`` on one long-lived connection changes
  whenever any other connection (this process or another) commits to the ops store, so a page read
  after an edit is recomputed.  After an edit made through this app (:meth:`ViewCache.note_edit`) no
  view computed before it is served again: the next readers wait for the new one.  An edit based on
  a stale page is refused with a 409 by the library in any case (it checks versions, not the cache).
* **One computes, the others wait** (single flight): fifty clients asking for the overview at once
  cost one computation, not fifty.
* **A new run never stalls the app.** When a run publishes a new generation (or something else
  commits to the ops store: an audit record, a command-line edit), the view is recomputed in the
  background; the request that noticed waits up to ``refresh_wait`` seconds for it, and requests
  arriving meanwhile get the last view at once (as the app keeps serving the last published run
  while a run writes the next) instead of queueing behind a computation that takes minutes at a
  million contacts.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..workspace import Workspace

__all__ = ["ViewCache", "State", "encode"]

#: Entries kept (views times their arguments: drill-down pages and metric slices are many).
MAX_ENTRIES = 512


@dataclass(frozen=True)
class State:
    """What every cached view depends on: the published generation, the settings file, the ops store."""

    generation: int | None
    settings_mtime: int
    ops_version: int


@dataclass
class _Entry:
    state: State
    edits: int  # the number of edits made through this app when the value was computed
    value: Any
    body: bytes | None = None  # the JSON twin's encoding, made on first use


class ViewCache:
    """Context dicts of views, one per (view, arguments), recomputed when the published state changes."""

    def __init__(self, ws: Workspace, max_entries: int = MAX_ENTRIES, refresh_wait: float = 2.0) -> None:
        self.ws = ws
        self.max_entries = max_entries
        self.refresh_wait = refresh_wait
        self.warmed = False  # set by :meth:`warm` when the start-up views are computed
        self._entries: OrderedDict[tuple[Hashable, ...], _Entry] = OrderedDict()
        self._locks: dict[tuple[Hashable, ...], threading.Lock] = {}
        self._by_id: dict[int, _Entry] = {}  # id(value) -> entry, for the JSON encoding of a cached value
        self._guard = threading.Lock()
        self._ops: sqlite3.Connection | None = None
        self._ops_lock = threading.Lock()
        self._edits = 0

    # --- the state ---------------------------------------------------------------------------------

    def ops_version(self) -> int:
        """``PRAGMA data_version`` of a connection that never writes: it moves on every commit by any other."""
        with self._ops_lock:
            if self._ops is None:
                path = self.ws.store.root / "ops.sqlite"
                if not path.exists():
                    return 0
                self._ops = sqlite3.connect(path, check_same_thread=False, timeout=30)
            return int(self._ops.execute("PRAGMA data_version").fetchone()[0])

    def state(self) -> State:
        """The published state now (a few file reads and one pragma: cheap enough for every request)."""
        cur = self.ws.store.current() or {}
        toml = self.ws.path / "cxchain.toml"
        try:
            mtime = toml.stat().st_mtime_ns
        except FileNotFoundError:
            mtime = 0
        return State(cur.get("generation"), mtime, self.ops_version())

    def note_edit(self) -> None:
        """An edit went through this app: views computed before it are never served again."""
        with self._guard:
            self._edits += 1

    # --- the views ---------------------------------------------------------------------------------

    def get(self, view: str, args: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``'s value for ``view`` with ``args`` in the current state, computed once per state.

        Errors are not kept: a view that raises (a finding gone from the new run) raises for each caller.
        """
        key = (view, *args)
        now = self.state()
        with self._guard:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            lock = self._locks.setdefault(key, threading.Lock())
            edits = self._edits
        if entry is not None and entry.state == now:
            return entry.value
        if entry is not None and entry.edits == edits and entry.state.settings_mtime == now.settings_mtime:
            return self._refresh(key, entry, lock, compute)
        with lock:  # single flight: the others wait for the one computing
            with self._guard:
                entry = self._entries.get(key)
            now = self.state()
            if entry is not None and entry.state == now:
                return entry.value  # computed by the request we waited for
            return self._compute(key, compute)

    def _compute(self, key: tuple[Hashable, ...], compute: Callable[[], Any]) -> Any:
        """Compute and keep a view (the caller holds its lock).  The state and edit count are read first, so a
        change made while computing makes the next request compute again rather than trust this value."""
        now = self.state()
        with self._guard:
            edits = self._edits
        try:
            value = compute()
        except BaseException:
            with self._guard:
                gone = self._entries.pop(key, None)  # a view that fails is computed afresh by the next request
                if gone is not None:
                    self._by_id.pop(id(gone.value), None)
                self._locks.pop(key, None)
            raise
        with self._guard:
            replaced = self._entries.pop(key, None)
            if replaced is not None:
                self._by_id.pop(id(replaced.value), None)
            self._entries[key] = new = _Entry(now, edits, value)
            self._by_id[id(value)] = new
            while len(self._entries) > self.max_entries:
                old, gone = self._entries.popitem(last=False)
                self._locks.pop(old, None)
                self._by_id.pop(id(gone.value), None)
        return value

    def _refresh(self, key: tuple[Hashable, ...], entry: _Entry, lock: threading.Lock,
                 compute: Callable[[], Any]) -> Any:
        """A run published a new generation (or the ops store changed, not through this app): compute the view in
        the background, and meanwhile answer with the last one.  The request that starts the computation waits up to ``refresh_wait`` seconds for it (at the
        20,000-contact demo a new view is ready by then, so one person clicking through sees the new run)."""
        if not lock.acquire(blocking=False):
            return entry.value  # someone is computing it already
        done = threading.Event()

        def work() -> None:
            try:
                self._compute(key, compute)
            except Exception:  # noqa: BLE001 - the entry is dropped; the next request computes and raises
                pass
            finally:
                lock.release()
                done.set()

        threading.Thread(target=work, name=f"cxchain-view-{key[0]}", daemon=True).start()
        if done.wait(self.refresh_wait):
            with self._guard:
                fresh = self._entries.get(key)
            if fresh is None:
                return self.get(str(key[0]), key[1:], compute)  # it failed: compute here, and raise here
            return fresh.value
        return entry.value

    def warm(self, views: list[tuple[str, tuple[Hashable, ...], Callable[[], Any]]]) -> None:
        """Compute ``views`` now (at start, so the first readers do not wait); a view that fails is skipped."""
        for view, args, compute in views:
            try:
                self.get(view, args, compute)
            except Exception:  # noqa: BLE001 - the page shows its error when someone asks for it
                pass
        self.warmed = True

    def json_body(self, ctx: dict[str, Any], *, ok: bool = True) -> bytes:
        """The JSON twin's body for ``ctx`` (``{"ok": ok, **ctx}``); encoded once when ``ctx`` is a cached view,
        so fifty readers of the story share one encoding."""
        with self._guard:
            entry = self._by_id.get(id(ctx))
        if entry is None or entry.value is not ctx or not ok:
            return encode({"ok": ok, **ctx})
        if entry.body is None:
            entry.body = encode({"ok": ok, **ctx})
        return entry.body

    def clear(self) -> None:
        """Forget every view (tests; a settings reload)."""
        with self._guard:
            self._entries.clear()
            self._by_id.clear()


def _default(o: Any) -> Any:
    return o.isoformat() if isinstance(o, (date, datetime)) else str(o)


def encode(content: Any) -> bytes:
    """JSON as the app sends it (as Starlette's ``JSONResponse``: UTF-8, compact, no NaN), dates as ISO text and
    anything else unknown as its text."""
    return json.dumps(content, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
