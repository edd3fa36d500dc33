"""The public API: a :class:`Workspace` opened on a folder.

The CLI, and later the REST API and web pages, are thin adapters over these methods::

    ws = Workspace.init("acme", sector="housing")
    report = ws.ingest(["exports/calls.csv"], source="acd_calls")
    ws.run()                       # ingest new files of configured sources, link, publish
    ws.health()["links"]["data"]["status"]
"""

from __future__ import annotations

import copy
import dataclasses
import fnmatch
import glob
import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa

from .data.catalogue import daily_totals, data_health, source_catalogue
from .data.ingest import IngestReport, file_sha256, ingest_file, ingest_raw
from .data.journeys import build_journeys
from .data.mapping import Mapping, load_mapping
from .data.model import ENTITIES, IDENTITY_FIELDS
from .data.readers import RawTable
from .data.suggest import suggest_mapping
from .errors import CxchainError, InputFileError, NotFoundError, WorkspaceError
from .settings import SECTORS, Settings, SourceConfig, load_settings, render_toml
from .store import Store, Transaction

Progress = Callable[[str, int, int], None]
_CATALOGUE_CACHE: dict[str, Any] = {}
_CATALOGUE_LOCK = threading.Lock()
_HEALTH_CACHE: dict[tuple[str, int, int], tuple[dict[str, Any], dict[str, Any]]] = {}


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def _delete_derived(con: Any, ids: list[str]) -> None:
    """Delete ``ids`` from every table keyed by record (reasons, sentiment, demand, facts...), so an
    erased or purged contact leaves nothing behind before the next run recomputes them."""
    tables = [r[0] for r in con.execute("""SELECT DISTINCT c.table_name FROM information_schema.columns c
                                            JOIN information_schema.tables t USING (table_schema, table_name)
                                            WHERE c.column_name = 'record_id' AND c.table_schema = 'main'
                                              AND t.table_type = 'BASE TABLE'""").fetchall()]
    for table in tables:
        con.execute(f'DELETE FROM "{table}" WHERE record_id IN (SELECT unnest(?))', [ids])


class Workspace:
    """One organisation's cxchain workspace: settings, mappings and stores in a folder."""

    def __init__(self, path: str | Path):
        self.path = Path(path).resolve()
        if not (self.path / "cxchain.toml").exists():
            raise WorkspaceError(f"{self.path} is not a cxchain workspace (no cxchain.toml). "
                                 f"Create one with `cxchain init {path}` or pass --workspace.")
        self.settings: Settings = load_settings(self.path / "cxchain.toml")
        self.store = Store(self.path / ".cxchain")
        self._redactor: Any = None

    # --- creation ---------------------------------------------------------------------------------

    @classmethod
    def init(cls, path: str | Path, *, sector: str = "council", overrides: dict[str, Any] | None = None,
             sources: list[SourceConfig] | None = None, exist_ok: bool = False) -> Workspace:
        """Create a workspace folder with a documented ``cxchain.toml``, ``mappings/`` and empty stores."""
        if sector not in SECTORS:
            raise WorkspaceError(f"Unknown sector {sector!r}: choose one of {', '.join(SECTORS)}.")
        p = Path(path)
        if (p / "cxchain.toml").exists() and not exist_ok:
            raise WorkspaceError(f"{p} is already a workspace. Use it with --workspace {p}, or choose another folder.")
        p.mkdir(parents=True, exist_ok=True)
        (p / "mappings").mkdir(exist_ok=True)
        (p / "cxchain.toml").write_text(render_toml({"sector": sector, **(overrides or {})}, sources), encoding="utf-8")
        Store(p / ".cxchain").initialise()
        (p / ".gitignore").write_text(".cxchain/\n", encoding="utf-8")
        return cls(p)

    # --- helpers ----------------------------------------------------------------------------------

    def redactor(self) -> Callable[[Sequence[str | None]], list[str | None]] | None:
        """The redaction function used before storage, or None when the workspace opted out."""
        if not self.settings["privacy.redact_text"]:
            return None
        if self._redactor is None:
            from .data.redact import Redactor

            r = Redactor(names=bool(self.settings["privacy.detect_names"])) if _accepts_names(Redactor) else Redactor()
            self._redactor = r.redact
        return self._redactor  # type: ignore[no-any-return]

    def mapping_for(self, source: str, mapping: str | Path | None = None) -> Mapping | None:
        if mapping:
            return load_mapping(Path(mapping))
        cfg = self.settings.source(source)
        if cfg and cfg.mapping:
            return load_mapping(self.path / cfg.mapping)
        default = self.path / "mappings" / f"{source}.yaml"
        return load_mapping(default) if default.exists() else None

    # --- link 1: ingest ---------------------------------------------------------------------------

    def ingest(self, paths: Sequence[str | Path], *, source: str, mapping: str | Path | None = None,
               progress: Progress = _no_progress) -> IngestReport:
        """Ingest files for one source and publish.  Without a mapping, one is suggested and saved for review."""
        files = [Path(p) for p in paths]
        for f in files:
            if not f.exists():
                raise InputFileError(f"{f}: no such file.")
        mp = self.mapping_for(source, mapping)
        if mp is None:
            mp, notes = suggest_mapping(files[0], source)
            out = self.path / "mappings" / f"{source}.yaml"
            mp.dump(out, header="# Suggested by cxchain; review it:\n" + "\n".join(f"#  - {n}" for n in notes))
            mp.path = out
        if mp.source != source:
            raise CxchainError(f"The mapping {mp.path} is for source {mp.source!r}, not {source!r}.")
        report = IngestReport()
        with self.store.write("ingest") as tx:
            for i, f in enumerate(files):
                progress(f"ingest {f.name}", i, len(files))
                report.files.append(ingest_file(tx, self.settings, f, mp, secret=self.store.secret(), redact=self.redactor(),
                                                scratch=tx.folder))
            progress("ingest", len(files), len(files))
            tx.info["last"] = "ingest"
        self.store.audit("cli", "ingest", source, report.totals())
        return report

    def suggest_mapping(self, file: str | Path, source: str, *, entity: str | None = None) -> tuple[Mapping, list[str]]:
        """Propose a mapping for a file (nothing is written)."""
        return suggest_mapping(Path(file), source, entity=entity)

    def _pending_files(self, tx: Transaction) -> list[tuple[SourceConfig, Path]]:
        seen = {(s, h) for s, h in tx.data.execute("SELECT source, file_sha256 FROM batch WHERE kind = 'ingest'").fetchall()}
        out = []
        for src in self.settings.sources:
            for pattern in src.paths:
                for f in sorted(Path(m) for m in glob.glob(str(self.path / pattern))):  # relative or absolute
                    if f.is_file() and not fnmatch.fnmatch(f.name, ".*") and (src.name, file_sha256(f)) not in seen:
                        out.append((src, f))
        return out

    # --- link 1: identities and journeys ------------------------------------------------------------

    def _link(self, tx: Transaction, progress: Progress = _no_progress, engine: Any = None) -> dict[str, Any]:
        from .data.resolve import link_workspace_identities

        t0 = time.perf_counter()
        progress("link identities", 0, 1)
        schemes: dict[str, str] = {}
        households: set[str] = set()
        not_people: set[str] = set()
        for (src,) in tx.data.execute("SELECT DISTINCT source FROM batch").fetchall():
            mp = self.mapping_for(src)
            if mp is None:
                continue
            if mp.customer_id_scheme:
                schemes[src] = mp.customer_id_scheme
            if mp.customer_id_level == "household":
                households.add(src)
            if mp.entity == "property":
                not_people.add(src)  # a property register names homes, not customers
        stats = link_workspace_identities(tx.identity, tx.data, secret=self.store.secret(),
                                          model_path=self.path / "linkage_model.json", id_schemes=schemes,
                                          household_sources=households, exclude_sources=not_people, engine=engine)
        progress("build journeys", 0, 1)
        stats["journey_events"] = build_journeys(tx.data)
        stats["seconds"] = round(time.perf_counter() - t0, 2)
        tx.data.execute("INSERT INTO run_log VALUES (?, ?, ?, 'link', ?)", [uuid.uuid4().hex[:8], datetime.now(), stats["seconds"], json.dumps(stats, default=str)])
        return stats

    def _insight(self, tx: Transaction, progress: Progress = _no_progress, settings: Settings | None = None, *,
                 full: bool = False, engine: Any = None) -> dict[str, Any]:
        from .insight.pipeline import run_insight

        stats = run_insight(tx.data, settings or self.settings, self.path, secret=self.store.secret(), progress=progress,
                            incremental=not full, engine=engine)
        tx.data.execute("INSERT INTO run_log VALUES (?, ?, ?, 'insight', ?)",
                        [uuid.uuid4().hex[:8], datetime.now(), stats["seconds"], json.dumps(stats, default=str)])
        return stats

    def story(self) -> dict[str, Any]:
        """The insight story of the published run, as data (render it with :mod:`cxchain.report.story`), with the
        CX Code (``story["code"]``: each principle, its evidence and its adherence)."""
        from .code.story import code_section
        from .insight.story import build_story

        cur = self.store.current() or {}
        with self.store.read() as con:
            story = build_story(con, self.settings, run=cur.get("generation", ""))
        story["code"] = code_section(self)  # the CX Code next to the evidence behind it
        return story

    def findings(self) -> list[dict[str, Any]]:
        """The published findings in rank order."""
        from .insight.findings import load_findings

        with self.store.read() as con:
            return load_findings(con)

    def metric(self, metric_id: str, *, by: Sequence[str] = (), filters: dict[str, Any] | None = None,
               period: str | None = None) -> list[dict[str, Any]]:
        """Compute a registered metric on the published run, sliced ``by`` columns, with provenance."""
        from .metrics import compute

        with self.store.read() as con:
            return compute(con, metric_id, self.settings, by=by, filters=filters, period=period)

    def link(self, progress: Progress = _no_progress) -> dict[str, Any]:
        """Resolve identities across all silos and rebuild journeys; returns link statistics and rates."""
        with self.store.write("link") as tx:
            stats = self._link(tx, progress)
            tx.info["last"] = "link"
        stats["link_rates"] = self.link_rates()
        return stats

    def _catalogue(self) -> list[dict[str, Any]]:
        """The source catalogue of the published generation, computed once per (generation, settings file):
        the web app's data page and overview ask for it on every request."""
        cur = self.store.current()
        assert cur is not None
        key = (str(self.path), cur["generation"], (self.path / "cxchain.toml").stat().st_mtime_ns)
        with _CATALOGUE_LOCK:  # concurrent first requests wait for one computation instead of each doing it
            if _CATALOGUE_CACHE.get("key") != key:
                with self.store.read() as con:
                    _CATALOGUE_CACHE.update(key=key, value=source_catalogue(con, self.settings))
            return copy.deepcopy(_CATALOGUE_CACHE["value"])  # type: ignore[no-any-return]

    def link_rates(self) -> list[dict[str, Any]]:
        """Per ordered source pair: the share of A's records whose customer also appears in B."""
        if self.store.current() is None:
            return []
        cat = self._catalogue()
        return [{"source": e["source"], "other": o, "share": v} for e in cat for o, v in e.get("link_coverage", {}).items()]

    # --- the chain --------------------------------------------------------------------------------

    def run(self, progress: Progress = _no_progress, *, until: str = "insight", full: bool = False,
            engine: str | None = None) -> dict[str, Any]:
        """Bring the workspace up to date: ingest new files of configured sources, link, compute the later
        links (``until`` the named one: ``data`` stops after link 1), publish.  ``engine`` ('duckdb' or
        'spark') overrides the workspace's ``engine`` setting for this run.

        Link 2 is incremental: contacts whose inputs, taxonomy and models are unchanged keep their
        reasons and sentiment.  ``full`` recomputes every contact (and refits the bulk reason model).
        """
        if until not in ("data", "insight"):
            raise CxchainError(f"until must be data or insight, not {until!r}.")
        settings = self.settings
        if engine is not None:
            if engine not in ("duckdb", "spark"):
                raise CxchainError(f"engine must be duckdb or spark, not {engine!r}.")
            settings = dataclasses.replace(settings, values={**settings.values, "engine": engine})
        t0 = time.perf_counter()
        result: dict[str, Any] = {"ingest": None, "link": None}
        with self.store.write("run") as tx:
            pending = self._pending_files(tx)
            # One engine for the run: the mapping transforms of link 1 and the table steps of link 2 run on it
            # (on Spark, one session and one storage location; docs/spark.md).
            eng = None
            if settings["engine"] != "duckdb":
                from .engine import open_engine

                eng = open_engine(settings, storage=self.path / ".cxchain" / "spark", con=tx.data)
            try:
                report = IngestReport()
                for i, (src, f) in enumerate(pending):
                    progress(f"ingest {f.name}", i, len(pending))
                    mp = self.mapping_for(src.name)
                    if mp is None:
                        raise CxchainError(f"Source {src.name} has no mapping: set mapping in its [[sources]] entry, or "
                                           f"create mappings/{src.name}.yaml with `cxchain map suggest {f} --source {src.name}`.")
                    report.files.append(ingest_file(tx, self.settings, f, mp, secret=self.store.secret(),
                                                    redact=self.redactor(), scratch=tx.folder, engine=eng))
                result["ingest"] = {**report.to_dict(), "engine": eng.name if eng else "duckdb"}
                result["link"] = self._link(tx, progress, engine=eng)
                if until != "data":
                    result["insight"] = self._insight(tx, progress, settings, full=full, engine=eng)
            finally:
                if eng is not None:
                    eng.stop()
            tx.info["last"] = "run"
            tx.info["run_seconds"] = round(time.perf_counter() - t0, 2)
        result["seconds"] = round(time.perf_counter() - t0, 2)
        result["published"] = self.store.current()
        self.store.audit("cli", "run", "", {"files": len(result["ingest"]["files"])})
        return result

    # --- catalogue and health ---------------------------------------------------------------------

    def sources(self) -> list[dict[str, Any]]:
        """The data catalogue: one entry per source."""
        if self.store.current() is None:
            return [{"source": s.name, "rows": 0} for s in self.settings.sources]
        return self._catalogue()

    def daily_totals(self, source: str) -> list[tuple[Any, int]]:
        """Records per day for one source."""
        with self.store.read() as con:
            return daily_totals(con, source)

    def health(self) -> dict[str, Any]:
        """Chain health: ``{"as_of", "links": {name: {"status", "reasons": [{"code", "text"}]}}}`` for the links
        data, insight, priorities, redesign and cycle, judged against the ``as_of`` setting."""
        out: dict[str, Any] = {"as_of": self.settings.as_of.isoformat(), "links": {}}
        from .insight.health import insight_health

        cur = self.store.current()
        if cur is None:
            out["links"]["data"] = data_health(None, self.settings)
            out["links"]["insight"] = insight_health(None)
        else:
            # The data and insight links depend only on the published generation and the settings:
            # computed once per (generation, settings file), so the web overview stays fast.
            key = (str(self.path), cur["generation"], (self.path / "cxchain.toml").stat().st_mtime_ns)
            cached = _HEALTH_CACHE.get(key)
            if cached is None:
                with self.store.read() as con:
                    cached = (data_health(con, self.settings), insight_health(con))
                _HEALTH_CACHE.clear()
                _HEALTH_CACHE[key] = cached
            out["links"]["data"], out["links"]["insight"] = copy.deepcopy(cached)
        from .code.health import code_health
        from .cycle.health import chain_health

        out["links"].update(chain_health(self))
        out["links"]["code"] = code_health(self)
        return out

    # --- quarantine -------------------------------------------------------------------------------

    def quarantine(self, *, source: str | None = None, status: str = "open", limit: int = 1000) -> list[dict[str, Any]]:
        """Quarantined rows with file, location, column and reason (raw values are not shown here)."""
        if self.store.current() is None:
            return []
        with self.store.read() as con:
            sql = "SELECT quarantine_id, source, file, location, \"column\", reason, status FROM quarantine WHERE status = ?"
            args: list[Any] = [status]
            if source:
                sql += " AND source = ?"
                args.append(source)
            rows = con.execute(sql + f" ORDER BY batch_id, quarantine_id LIMIT {int(limit)}", args).fetchall()
        keys = ("quarantine_id", "source", "file", "location", "column", "reason", "status")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def replay_quarantine(self, *, source: str | None = None) -> IngestReport:
        """Re-apply the current mapping and settings to open quarantined rows; rows that now pass are loaded."""
        report = IngestReport()
        with self.store.write("replay") as tx:
            srcs = [s for (s,) in tx.data.execute("SELECT DISTINCT source FROM quarantine WHERE status = 'open'").fetchall()
                    if source is None or s == source]
            for src in srcs:
                mp = self.mapping_for(src)
                if mp is None:
                    raise NotFoundError(f"No mapping for source {src}: cannot replay its quarantined rows.")
                q_rows = tx.data.execute("SELECT quarantine_id, location FROM quarantine WHERE status = 'open' AND source = ? ORDER BY quarantine_id", [src]).fetchall()
                ids = [r[0] for r in q_rows]
                raws = dict(tx.identity.execute("SELECT quarantine_id, raw FROM quarantine_raw WHERE quarantine_id IN (SELECT unnest(?))", [ids]).fetchall())
                rows: list[dict[str, str | None]] = []
                replay_ids: dict[int, str] = {}
                for qid, loc in q_rows:
                    doc = json.loads(raws.get(qid) or "{}")
                    if "_line" in doc:  # the reader could not split this record: only a fixed file helps
                        continue
                    replay_ids[len(rows)] = qid
                    rows.append({**{k: (None if v is None else str(v)) for k, v in doc.items()}, "_loc": loc})
                if not rows:
                    continue
                cols = list(dict.fromkeys(k for r in rows for k in r if k != "_loc"))
                tbl = pa.table({**{c: pa.array([r.get(c) for r in rows], pa.string()) for c in cols},
                                "_loc": pa.array([r["_loc"] for r in rows], pa.string()),
                                "_row": pa.array(range(len(rows)), pa.int64())})
                name = f"replay_{uuid.uuid4().hex[:8]}"
                tx.data.register(name + "_a", tbl)
                tx.data.execute(f'CREATE TEMP TABLE "{name}" AS SELECT * FROM "{name}_a"')
                tx.data.unregister(name + "_a")
                raw = RawTable(name, cols, len(rows), [], [], "replay", excel=any("!" in str(r["_loc"]) for r in rows))
                report.files.append(ingest_raw(tx, self.settings, raw, mp, secret=self.store.secret(), redact=self.redactor(),
                                               label=f"quarantine:{src}", file_name=f"quarantine:{src}", sha="", size=0,
                                               t0=time.perf_counter(), kind="replay", replay_ids=replay_ids))
            tx.info["last"] = "replay"
        self.store.audit("cli", "quarantine.replay", source or "", report.totals())
        return report

    # --- data protection ----------------------------------------------------------------------------

    def find_customer(self, *, email: str | None = None, phone: str | None = None, customer_key: str | None = None) -> str:
        """The resolved customer key for an identifier (for subject access and erasure)."""
        if customer_key:
            return customer_key
        from .data import identity as idn

        with self.store.read(identity=True) as ident:
            if email:
                rows = ident.execute("SELECT DISTINCT m.customer_key FROM identity_record r JOIN customer_map m USING (record_id) "
                                     "WHERE lower(trim(r.email)) = ?", [email.strip().lower()]).fetchall()
            elif phone:
                target = idn.normalise_phone(phone)
                cand = ident.execute("SELECT DISTINCT r.phone, m.customer_key FROM identity_record r JOIN customer_map m USING (record_id) WHERE r.phone IS NOT NULL").fetchall()
                rows = [(k,) for p, k in cand if idn.normalise_phone(p) == target]
            else:
                raise CxchainError("Give an email, a phone number or a customer key.")
        keys = sorted({r[0] for r in rows})
        if not keys:
            raise NotFoundError("No customer matches that identifier.")
        if len(keys) > 1:
            raise CxchainError(f"{len(keys)} customers match that identifier; use --customer-key with one of: {', '.join(keys)}.")
        return keys[0]

    def subject_access(self, customer_key: str) -> dict[str, Any]:
        """Everything held about one resolved customer, across all silos (identity values included)."""
        out: dict[str, Any] = {"customer_key": customer_key, "generated_at": datetime.now().isoformat(timespec="seconds"), "records": {}}
        with self.store.read(identity=True) as ident:
            recs = ident.execute("SELECT r.* FROM identity_record r JOIN customer_map m USING (record_id) WHERE m.customer_key = ?", [customer_key]).fetchall()
            cols = [d[0] for d in ident.description]
            out["identities"] = [dict(zip(cols, r, strict=True)) for r in recs]
        with self.store.read() as con:
            ids = [r[0] for r in con.execute("SELECT record_id FROM record_customer WHERE customer_key = ?", [customer_key]).fetchall()]
            for entity in ENTITIES:
                rows = con.execute(f'SELECT * FROM "{entity}" WHERE record_id IN (SELECT unnest(?))', [ids]).fetchall()
                if rows:
                    cols = [d[0] for d in con.description]
                    out["records"][entity] = [{k: (str(v) if v is not None else None) for k, v in zip(cols, r, strict=True)} for r in rows]
        return out

    def erase(self, customer_key: str, *, actor: str = "cli") -> dict[str, int]:
        """Erase one resolved customer from every silo: records, text, identities and their quarantined rows."""
        counts: dict[str, int] = {}
        with self.store.write("erase") as tx:
            ids = [r[0] for r in tx.identity.execute("SELECT record_id FROM customer_map WHERE customer_key = ?", [customer_key]).fetchall()]
            if not ids:
                raise NotFoundError(f"No customer {customer_key}.")
            for entity in ENTITIES:
                n = tx.data.execute(f'SELECT count(*) FROM "{entity}" WHERE record_id IN (SELECT unnest(?))', [ids]).fetchall()[0][0]
                tx.data.execute(f'DELETE FROM "{entity}" WHERE record_id IN (SELECT unnest(?))', [ids])
                counts[entity] = int(n)
            tx.data.execute("DELETE FROM survey_item WHERE record_id IN (SELECT unnest(?))", [ids])
            _delete_derived(tx.data, ids)
            tx.data.execute("DELETE FROM journey_event WHERE customer_key = ?", [customer_key])
            tx.data.execute("DELETE FROM record_customer WHERE customer_key = ?", [customer_key])
            # Quarantined rows carrying any of this customer's identifiers go too.
            idents = tx.identity.execute(f"SELECT {', '.join(IDENTITY_FIELDS)} FROM identity_record WHERE record_id IN (SELECT unnest(?))", [ids]).fetchall()
            values = sorted({str(v).strip().lower() for row in idents for v in row if v and len(str(v).strip()) >= 5})
            qids: list[str] = []
            if values:
                for qid, raw in tx.identity.execute("SELECT quarantine_id, raw FROM quarantine_raw").fetchall():
                    low = (raw or "").lower()
                    if any(v in low for v in values):
                        qids.append(qid)
            tx.identity.execute("DELETE FROM quarantine_raw WHERE quarantine_id IN (SELECT unnest(?))", [qids])
            tx.data.execute("DELETE FROM quarantine WHERE quarantine_id IN (SELECT unnest(?))", [qids])
            counts["quarantine"] = len(qids)
            counts["identities"] = len(idents)
            tx.identity.execute("DELETE FROM identity_record WHERE record_id IN (SELECT unnest(?))", [ids])
            tx.identity.execute("DELETE FROM customer_map WHERE customer_key = ?", [customer_key])
            tx.info["last"] = "erase"
        self.store.audit(actor, "erase", customer_key, counts)
        return counts

    def purge(self, *, actor: str = "cli") -> dict[str, int]:
        """Delete records older than their source's retention period (judged against as_of)."""
        from .data.journeys import EVENT_SOURCES

        counts: dict[str, int] = {}
        with self.store.write("purge") as tx:
            for entity, (ts, _, _) in EVENT_SOURCES.items():
                for (src,) in tx.data.execute(f'SELECT DISTINCT source FROM "{entity}"').fetchall():
                    cfg = self.settings.source(src)
                    days = (cfg.retention_days if cfg and cfg.retention_days else None) or self.settings["data.retention_days"]
                    cutoff = datetime.combine(self.settings.as_of - timedelta(days=int(days)), datetime.min.time())
                    ids = [r[0] for r in tx.data.execute(f'SELECT record_id FROM "{entity}" WHERE source = ? AND {ts} < ?', [src, cutoff]).fetchall()]
                    if not ids:
                        continue
                    tx.data.execute(f'DELETE FROM "{entity}" WHERE record_id IN (SELECT unnest(?))', [ids])
                    tx.data.execute("DELETE FROM record_customer WHERE record_id IN (SELECT unnest(?))", [ids])
                    tx.data.execute("DELETE FROM journey_event WHERE record_id IN (SELECT unnest(?))", [ids])
                    _delete_derived(tx.data, ids)
                    tx.identity.execute("DELETE FROM identity_record WHERE record_id IN (SELECT unnest(?))", [ids])
                    tx.identity.execute("DELETE FROM customer_map WHERE record_id IN (SELECT unnest(?))", [ids])
                    counts[src] = counts.get(src, 0) + len(ids)
            tx.info["last"] = "purge"
        self.store.audit(actor, "purge", "", counts)
        return counts

    def data_flow(self) -> str:
        """A Markdown description of what is stored where and for how long, for a DPIA."""
        from .data.privacy import data_flow_markdown

        return data_flow_markdown(self)


def _accepts_names(cls: type) -> bool:
    import inspect

    try:
        return "names" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
