"""Identity resolution: which records, across and within sources, are the same customer.

:func:`link_identities` takes a table of *normalised* identity fields (see
:func:`cxchain.data.identity.normalise_identities`) and writes a mapping
``(record_id, customer_key)`` covering every input record.

Pipeline (all heavy lifting in DuckDB):

1. **Collapse** the records to distinct identity tuples: many contacts carry the same identity, and
   only the distinct tuples are linked.  A tuple with nothing identifying (no customer id, email,
   phone, UPRN or date of birth, and no surname with a postcode or address) is *not* collapsed:
   each such record stays on its own.
2. **Deterministic edges**: same ``customer_id`` (already prefixed with its source) -> same
   customer; same email -> same customer.
3. **Probabilistic edges**: a Splink 5 Fellegi-Sunter model (DuckDB backend) compares identities
   on name (exact, nickname, swapped, Jaro-Winkler / one edit), email, date of birth and a joint
   *contact* comparison of phone and location (UPRN, address, postcode).  Phone and location are
   one comparison because a household shares its landline and address: scored independently they
   add up and merge household members.  Blocking: email, phone, postcode + surname initial,
   first name + surname, date of birth + surname initial or first name, UPRN, swapped names.
   All sources are deduplicated and linked in one pass (Splink ``dedupe_only`` over the union of
   the sources: the same comparison space as ``link_and_dedupe`` over one input per source).
   The prior (match probability of two random identities) is estimated from the deterministic
   rules (email, customer id), u by seeded random sampling, m by EM over each blocking rule that
   yields pairs in the data (name; email; phone; date of birth: exports without dates of birth
   skip that one); the prior is kept through EM, which would re-estimate it on blocked pairs.
   Levels training cannot estimate keep the default model's values.  Small (< 500 identities) or
   degenerate data, or a training error, falls back to the shipped default model
   ``linkage_model.json``.  A saved model (:meth:`LinkResult.save_model`) passed back as
   ``model_path`` is used as is, without training, so the results are reproducible.
4. **Clusters**: connected components over the pairs with match probability >= ``threshold``
   plus the deterministic edges.
5. **Keys**: ``customer_key`` is ``"C"`` + 12 hex characters of SHA-256 of the cluster's smallest
   record_id.  That key is stable across reruns on the same data, but changes when a later run
   merges the cluster with another one (the smallest record_id may change).  Pass the previous
   mapping table as ``previous`` to keep keys stable as data grows: each new cluster keeps the old
   key held by most of its members; when an old cluster is split, the part holding most of its
   records keeps the key and the other parts get fresh keys.

Identity values are never logged; Splink logs at WARNING only (ERROR while training, where it
warns about every level it cannot estimate).

Caveats: a shared email address (family, carer) merges its users, as the deterministic rule says.
Working tables are named ``__cx_link_*`` in ``con``: do not run two linkages on one connection at
the same time.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from .identity import nickname_sql
from .linkage_spark import model_version

__all__ = [
    "DEFAULT_MODEL_PATH",
    "LINK_COLUMNS",
    "LinkResult",
    "default_settings",
    "link_identities",
    "link_rates",
]

log = logging.getLogger(__name__)

#: Shipped default model (m/u values trained on a synthetic population).
DEFAULT_MODEL_PATH = Path(__file__).with_name("linkage_model.json")

#: Identity columns ``link_identities`` reads (besides record_id and source).
LINK_COLUMNS = ("customer_id", "first_name", "last_name", "email", "phone", "postcode", "address", "uprn", "dob")

#: Below this many distinct identities the model is not trained: the default model is used.
MIN_IDENTITIES_TO_TRAIN = 500

_P = "__cx_link"  # prefix of the working tables

#: Floor of a trained agreement level's m probability (see ``_train``).
MIN_AGREEMENT_M = 1e-4


@dataclass
class LinkResult:
    """Result of :func:`link_identities`.

    ``table`` names a table in ``con`` with one row per input record: ``record_id``,
    ``customer_key``.  ``stats`` holds counts (records, identities, clusters, deterministic_edges,
    pairs_above_threshold), ``model_source`` ("trained", "loaded" or "default") and
    ``seconds`` (per step).  ``model`` is the Splink model (settings with m/u values) that scored
    the pairs.
    """

    con: duckdb.DuckDBPyConnection
    table: str
    stats: dict[str, Any]
    model: dict[str, Any] = field(repr=False)

    def arrow(self) -> pa.Table:
        """The mapping as a pyarrow table, ordered by record_id."""
        return self.con.sql(f"SELECT record_id, customer_key FROM {self.table} ORDER BY record_id").to_arrow_table()

    def save_model(self, path: str | Path) -> Path:
        """Write the model as JSON (loadable with ``link_identities(..., model_path=path)``)."""
        p = Path(path)
        p.write_text(json.dumps(self.model, indent=2, sort_keys=True))
        return p


# ------------------------------------------------------------------------------------------- model


def default_settings() -> Any:
    """The Splink ``SettingsCreator`` of the linkage model (comparisons and blocking rules, no m/u)."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on
    from splink.blocking_rule_library import CustomRule

    def lvl(sql: str, label: str, *, null: bool = False) -> Any:
        level = cll.CustomLevel(sql, label_for_charts=label)
        return level.configure(is_null_level=True) if null else level

    jw = "jaro_winkler_similarity"
    # a one-character typo near the start of a short surname drops Jaro-Winkler below 0.9
    last_close = f"({jw}(last_name_l, last_name_r) >= 0.9 OR damerau_levenshtein(last_name_l, last_name_r) <= 1)"
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="first and last name",
        comparison_levels=[
            lvl("last_name_l IS NULL OR last_name_r IS NULL", "null", null=True),
            lvl("first_name_l = first_name_r AND last_name_l = last_name_r", "exact"),
            lvl("first_name_canon_l = first_name_canon_r AND last_name_l = last_name_r", "nickname"),
            lvl("(first_name_l = last_name_r OR damerau_levenshtein(first_name_l, last_name_r) <= 1 "
                "OR first_name_canon_l = last_name_canon_r) AND (last_name_l = first_name_r "
                "OR damerau_levenshtein(last_name_l, first_name_r) <= 1 OR last_name_canon_l = first_name_canon_r)",
                "swapped"),
            lvl(f"first_name_canon_l = first_name_canon_r AND {last_close}", "first name exact, surname close"),
            lvl(f"{last_close} AND {jw}(first_name_canon_l, first_name_canon_r) >= 0.9", "both close"),
            lvl(f"{last_close} AND damerau_levenshtein(first_name_l, first_name_r) <= 1",
                "surname close, first name 1 edit"),
            # "surname agrees, first name missing": with trained m/u (Bayes factor ~2^9) such a record
            # matches every member of its household on the address alone and bridges them into one
            # cluster, so its weight is fixed at 2^5: enough with a shared mobile or date of birth,
            # not with a shared address or landline.
            cll.CustomLevel(
                "last_name_l = last_name_r AND (first_name_l IS NULL OR first_name_r IS NULL)",
                label_for_charts="surname exact, first name missing",
            ).configure(m_probability=0.05, u_probability=0.05 / 32, fix_m_probability=True, fix_u_probability=True),
            # a first initial ("i brookstead") may be the same person; two different first names with the
            # same surname are, most often, two people of one household: kept apart as their own level so
            # that agreement on a surname is not read as evidence when the first names disagree
            lvl(f"{last_close} AND (length(first_name_l) = 1 OR length(first_name_r) = 1) "
                "AND left(first_name_l, 1) = left(first_name_r, 1)", "surname close, first initial agrees"),
            lvl(last_close, "surname close, first names differ"),
            lvl("first_name_canon_l = first_name_canon_r", "first name only"),
            cll.ElseLevel(),
        ],
    )
    # Phone and location (UPRN, address, postcode) are one comparison: a household shares its
    # landline and its address, so counting them as independent evidence merges households.
    ph = "phone_l = phone_r"
    mobile = "starts_with(phone_l, '07')"
    loc = f"(uprn_l = uprn_r OR (postcode_l = postcode_r AND {jw}(address_l, address_r) >= 0.92))"
    contact = cl.CustomComparison(
        output_column_name="contact",
        comparison_description="phone and location (uprn, address, postcode) jointly",
        comparison_levels=[
            lvl("(phone_l IS NULL OR phone_r IS NULL) AND (postcode_l IS NULL OR postcode_r IS NULL) "
                "AND (uprn_l IS NULL OR uprn_r IS NULL) AND (address_l IS NULL OR address_r IS NULL)", "null", null=True),
            lvl(f"{ph} AND {mobile} AND {loc}", "same mobile, same address"),
            lvl(f"{ph} AND {loc}", "same landline, same address"),
            lvl(f"{ph} AND {mobile}", "same mobile"),
            lvl(ph, "same landline"),
            lvl(loc, "same address"),
            lvl("postcode_l = postcode_r", "same postcode"),
            lvl("split_part(postcode_l, ' ', 1) = split_part(postcode_r, ' ', 1)", "same postcode district"),
            cll.ElseLevel(),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            lvl("damerau_levenshtein(dob_l, dob_r) <= 1", "1 edit"),
            lvl("left(dob_l, 4) = left(dob_r, 4)", "same year"),
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        probability_two_random_records_match=1e-4,
        comparisons=[
            name,
            cl.CustomComparison(
                output_column_name="email",
                comparison_levels=[
                    cll.NullLevel("email"),
                    cll.ExactMatchLevel("email"),
                    # no "same username" level: usernames are made of names (john.smith@...), so
                    # that agreement is not independent of the name comparison.
                    cll.ElseLevel(),
                ],
            ),
            contact,
            dob,
        ],
        blocking_rules_to_generate_predictions=[
            block_on("email"),
            block_on("phone"),
            block_on("postcode", "last_initial"),
            block_on("first_name_canon", "last_name"),
            block_on("dob", "last_initial"),
            block_on("dob", "first_name_canon"),
            block_on("uprn"),
            CustomRule("l.first_name = r.last_name AND l.last_name = r.first_name"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
        max_iterations=20,
        em_convergence=1e-4,
    )


def _fill_missing(model: dict[str, Any], fallback: dict[str, Any] | None) -> dict[str, Any]:
    """Fill m/u values that training could not estimate (level not observed).

    From the level with the same comparison and SQL condition in ``fallback`` (the default model)
    where there is one, else neutral (m = u, Bayes factor 1).  Returns a new dict.
    """
    model = json.loads(json.dumps(model))
    def key(comp: dict[str, Any], lev: dict[str, Any]) -> tuple[str, str]:
        return comp.get("output_column_name", ""), lev.get("sql_condition", "")

    fb = {key(comp, lev): lev for comp in (fallback or {}).get("comparisons", []) for lev in comp["comparison_levels"]}
    for comp in model.get("comparisons", []):
        for lev in comp.get("comparison_levels", []):
            if lev.get("is_null_level"):
                continue
            ref = fb.get(key(comp, lev), {})
            for k in ("m_probability", "u_probability"):
                v = lev.get(k)
                if v is None or not math.isfinite(float(v)) or not 0 < float(v) <= 1:
                    lev[k] = ref.get(k)
            m, u = lev.get("m_probability"), lev.get("u_probability")
            if m is None and u is None:
                lev["m_probability"] = lev["u_probability"] = 0.5
            elif m is None:
                lev["m_probability"] = u
            elif u is None:
                lev["u_probability"] = m
    return model


def _model_is_sane(model: dict[str, Any], expected: dict[str, Any] | None = None) -> bool:
    """Exact agreement on name, email and date of birth must be evidence *for* a match, and no comparison of
    ``expected`` (the default model) may be missing."""
    names = {comp.get("output_column_name") for comp in model.get("comparisons", [])}
    if expected is not None and not {comp.get("output_column_name") for comp in expected.get("comparisons", [])} <= names:
        return False
    for comp in model.get("comparisons", []):
        if comp.get("output_column_name") in ("name", "email", "dob"):
            levs = [lev for lev in comp["comparison_levels"] if not lev.get("is_null_level")]
            m, u = levs[0].get("m_probability"), levs[0].get("u_probability")
            if m is None or u is None or float(m) <= float(u):
                return False
    return True


@contextmanager
def _quiet_splink(level: int = logging.WARNING) -> Iterator[None]:
    lg = logging.getLogger("splink")
    old = lg.level
    lg.setLevel(level)
    try:
        yield
    finally:
        lg.setLevel(old)


# ------------------------------------------------------------------------------------------ helpers


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.sql(sql).fetchall()[0][0]


def _components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Connected components of nodes 0..n-1 under edges (a, b): the smallest node of each component."""
    lab = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return lab
    while True:
        la, lb = lab[a], lab[b]
        diff = la != lb
        if not diff.any():
            return lab
        la, lb = la[diff], lb[diff]
        np.minimum.at(lab, np.maximum(la, lb), np.minimum(la, lb))  # hook the larger root under the smaller
        while True:  # pointer jumping to full compression
            nxt = lab[lab]
            if np.array_equal(nxt, lab):
                break
            lab = nxt


def _identifying_sql() -> str:
    return (
        "customer_id IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL OR uprn IS NOT NULL "
        "OR dob IS NOT NULL OR (last_name IS NOT NULL AND (postcode IS NOT NULL OR address IS NOT NULL))"
    )


def _relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    sql = "SELECT table_name FROM duckdb_tables() UNION ALL SELECT view_name FROM duckdb_views() WHERE NOT internal"
    return {r[0] for r in con.sql(sql).fetchall()}


def _drop_splink_leftovers(con: duckdb.DuckDBPyConnection, before: set[str]) -> None:
    """Remove what Splink registered in the caller's connection (e.g. its ``result_df`` view)."""
    for name in _relations(con) - before:
        if name == "result_df" or name.startswith("__splink__"):
            try:
                con.unregister(name)
            except Exception:  # noqa: BLE001 - not a registered view: a table
                con.execute(f'DROP TABLE IF EXISTS "{name}"')


def _copy(settings: Any) -> Any:
    return json.loads(json.dumps(settings)) if isinstance(settings, dict) else settings


def _train(make_linker: Any, settings: Any, n_ident: int, seed: int, fallback: dict[str, Any] | None) -> dict[str, Any]:
    """Train a linker made by ``make_linker(settings)`` (lambda, u by seeded sampling, m by EM); return the filled model.

    Each EM session starts from the model the sessions before it left.  Splink takes the comparisons a
    training rule blocks on out of the linker's settings for the session and puts them back at its end;
    a session that fails (no pairs under its rule: an export without dates of birth; an m value that
    underflows) leaves them out.  So a failed session is undone by rebuilding the linker from the last
    good model, rather than carrying on without, say, the phone-and-address comparison (measured on a
    housing sample: recall 0.70 -> 0.42 when the phone session failed and took that comparison with it).
    """
    from splink import block_on

    linker = make_linker(settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("email"), block_on("customer_id"), block_on("first_name", "last_name", "dob")], recall=0.7
    )
    lam = linker.misc.save_model_to_json()["probability_two_random_records_match"]
    max_pairs = float(min(2e6, max(1e5, n_ident * (n_ident - 1) / 2)))
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    good = linker.misc.save_model_to_json()
    trained = 0
    for rule in (block_on("first_name_canon", "last_name"), block_on("email"), block_on("phone"), block_on("dob")):
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, estimate_without_term_frequencies=True)
            good = linker.misc.save_model_to_json()
            trained += 1
        except Exception as exc:  # noqa: BLE001 - e.g. a rule with no pairs in this data (no dates of birth): skip it
            log.info("linkage: EM skipped a blocking rule (%s)", type(exc).__name__)
            linker = make_linker(good)
    if not trained:
        raise RuntimeError("no training blocking rule produced record pairs")
    model = linker.misc.save_model_to_json()
    # EM over a blocked sample re-estimates the prior on *blocked* pairs, where matches are far
    # more common than among all pairs: keep the prior estimated over all pairs.
    model["probability_two_random_records_match"] = lam
    # An agreement level EM drove to almost no matches (a training population whose movers all left their
    # postcode district) would veto every real match it fires on: agreement is never near-proof of a
    # non-match, so its m is floored.  "Else" levels (disagreement) may stay decisive.
    for comp in model.get("comparisons", []):
        for lev in comp.get("comparison_levels", []):
            m = lev.get("m_probability")
            if not lev.get("is_null_level") and lev.get("sql_condition", "").strip().upper() != "ELSE" and m is not None:
                lev["m_probability"] = max(float(m), MIN_AGREEMENT_M)
    return _fill_missing(model, fallback)


# ------------------------------------------------------------------------------------------ linking


def link_identities(
    con: duckdb.DuckDBPyConnection,
    table: str,
    *,
    model_path: Path | None = None,
    threshold: float = 0.9,
    seed: int = 0,
    previous: str | None = None,
    output: str = "customer_keys",
    train: bool = True,
    engine: Any = None,
) -> LinkResult:
    """Resolve the customers behind the records of ``table``; see the module docstring.

    Args:
        con: DuckDB connection holding ``table``; working tables are created and dropped in it.
        table: record_id (unique), source and the normalised :data:`LINK_COLUMNS` (any may be NULL).
        model_path: a saved model (JSON) to score with; no training then.
        threshold: match probability at or above which two identities are the same customer.
        seed: seed of the u-sampling, so training is reproducible.
        previous: a mapping table (record_id, customer_key) of an earlier run whose keys are kept.
        output: name of the mapping table to (re)create.
        train: train the model on this data (when ``model_path`` is None); False uses the default.
        engine: a Spark engine (:mod:`cxchain.engine.spark`) to score the candidate pairs on, with Splink's
            Spark backend (:mod:`cxchain.data.linkage_spark`); training, when there is no saved model,
            stays on DuckDB.  None (or the DuckDB engine) scores them here.

    Returns:
        A :class:`LinkResult`.
    """
    from splink import DuckDBAPI, Linker

    secs: dict[str, float] = {}
    t0 = time.perf_counter()
    cols = {r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()}
    missing = {"record_id", "source"} - cols
    if missing:
        raise ValueError(f"{table} lacks required columns {sorted(missing)}")

    def c(name: str) -> str:
        return f"CAST({name} AS VARCHAR)" if name in cols else "CAST(NULL AS VARCHAR)"

    fields = ", ".join(f"{c(f)} AS {f}" for f in LINK_COLUMNS)
    tuple_sql = "concat_ws(chr(31), source, " + ", ".join(f"coalesce({f}, chr(0))" for f in LINK_COLUMNS) + ")"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_P}_rec AS
        WITH r AS (SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(source AS VARCHAR) AS source, {fields}
                   FROM {table})
        SELECT record_id, source, {", ".join(LINK_COLUMNS)},
               CASE WHEN {_identifying_sql()} THEN md5({tuple_sql}) ELSE md5('record' || chr(31) || record_id) END
                   AS unique_id
        FROM r
        """
    )
    n_records = _scalar(con, f"SELECT count(*) FROM {_P}_rec")
    if n_records != _scalar(con, f"SELECT count(DISTINCT record_id) FROM {_P}_rec"):
        raise ValueError(f"record_id is not unique in {table}")
    any_v = ", ".join(f"any_value({f}) AS {f}" for f in LINK_COLUMNS)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_P}_ident AS
        SELECT unique_id, any_value(source) AS source, {any_v},
               {nickname_sql("any_value(first_name)")} AS first_name_canon,
               {nickname_sql("any_value(last_name)")} AS last_name_canon,
               left(any_value(last_name), 1) AS last_initial,
               row_number() OVER (ORDER BY unique_id) - 1 AS node
        FROM {_P}_rec GROUP BY unique_id ORDER BY unique_id
        """
    )
    n_ident = _scalar(con, f"SELECT count(*) FROM {_P}_ident")
    secs["collapse"] = time.perf_counter() - t0

    # deterministic edges: stars to the smallest node of each customer_id / email group
    t = time.perf_counter()
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_P}_edges AS
        SELECT node AS a, min(node) OVER (PARTITION BY customer_id) AS b FROM {_P}_ident WHERE customer_id IS NOT NULL
        UNION ALL
        SELECT node AS a, min(node) OVER (PARTITION BY email) AS b FROM {_P}_ident WHERE email IS NOT NULL
        """
    )
    con.execute(f"DELETE FROM {_P}_edges WHERE a = b")
    n_det = _scalar(con, f"SELECT count(*) FROM {_P}_edges")
    secs["deterministic"] = time.perf_counter() - t

    # probabilistic edges
    t = time.perf_counter()
    n_pairs = 0
    model: dict[str, Any] = {}
    model_source = "loaded" if model_path is not None else "default"
    if n_ident >= 2:
        before = _relations(con)
        with _quiet_splink():
            db_api = DuckDBAPI(connection=con)
            try:
                sdf = db_api.register(f"{_P}_ident", table_name=f"{_P}_input")
                # the fixed model: a saved one, else the shipped default (else untrained settings)
                settings: Any
                if model_path is not None:
                    settings = json.loads(Path(model_path).read_text())
                elif DEFAULT_MODEL_PATH.exists():
                    settings = json.loads(DEFAULT_MODEL_PATH.read_text())
                else:
                    settings = default_settings()
                default_model = settings if isinstance(settings, dict) and model_path is None else None
                linker = Linker(sdf, _copy(settings), log_level=None)
                if model_path is None and train and n_ident >= MIN_IDENTITIES_TO_TRAIN:
                    t_train = time.perf_counter()
                    try:
                        # train the comparisons defined in code; the default model fills the gaps
                        with _quiet_splink(logging.ERROR):
                            trained = _train(lambda st: Linker(sdf, st, log_level=None), default_settings(), int(n_ident),
                                             seed, default_model)
                    except Exception as exc:  # noqa: BLE001 - any training failure falls back
                        log.warning("linkage: training failed (%s); using the default model", type(exc).__name__)
                        trained = None
                    if trained is not None and _model_is_sane(trained, default_model):
                        model_source = "trained"
                        linker = Linker(sdf, trained, log_level=None)
                    else:
                        if trained is not None:
                            log.warning("linkage: trained model is degenerate; using the default model")
                        linker = Linker(sdf, _copy(settings), log_level=None)
                    secs["train"] = time.perf_counter() - t_train
                model = linker.misc.save_model_to_json()
                t_pred = time.perf_counter()
                if getattr(engine, "name", "duckdb") == "spark":
                    from .linkage_spark import predict_pairs_on_spark

                    con.register(f"{_P}_pairs_arrow", predict_pairs_on_spark(engine, con, f"{_P}_ident", model, threshold))
                    pairs = f"{_P}_pairs_arrow"
                else:
                    pred = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
                    pairs = f"(SELECT * FROM {pred.physical_name} WHERE match_probability >= {float(threshold)!r})"
                con.execute(
                    f"""
                    INSERT INTO {_P}_edges
                    SELECT l.node, r.node FROM {pairs} p
                    JOIN {_P}_ident l ON l.unique_id = p.unique_id_l
                    JOIN {_P}_ident r ON r.unique_id = p.unique_id_r
                    """
                )
                n_pairs = _scalar(con, f"SELECT count(*) FROM {pairs}")
                if pairs.endswith("_arrow"):
                    con.unregister(pairs)
                secs["predict"] = time.perf_counter() - t_pred
            finally:
                db_api.delete_tables_created_by_splink_from_db()
                _drop_splink_leftovers(con, before)
    secs["probabilistic"] = time.perf_counter() - t

    # clusters
    t = time.perf_counter()
    edges = con.sql(f"SELECT a, b FROM {_P}_edges").fetchnumpy()
    lab = _components(int(n_ident), np.asarray(edges["a"], dtype=np.int64), np.asarray(edges["b"], dtype=np.int64))
    con.register(f"{_P}_lab_arrow", pa.table({"node": np.arange(n_ident, dtype=np.int64), "cluster": lab}))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_P}_cl AS
        SELECT r.record_id, l.cluster
        FROM {_P}_rec r JOIN {_P}_ident i USING (unique_id) JOIN {_P}_lab_arrow l ON l.node = i.node
        """
    )
    con.unregister(f"{_P}_lab_arrow")
    n_clusters = _scalar(con, f"SELECT count(DISTINCT cluster) FROM {_P}_cl")
    secs["cluster"] = time.perf_counter() - t

    # keys
    t = time.perf_counter()
    _assign_keys(con, previous, output)
    secs["keys"] = time.perf_counter() - t

    for name in ("rec", "ident", "edges", "cl"):
        con.execute(f"DROP TABLE IF EXISTS {_P}_{name}")
    secs["total"] = time.perf_counter() - t0
    stats: dict[str, Any] = {
        "records": int(n_records),
        "identities": int(n_ident),
        "clusters": int(n_clusters),
        "deterministic_edges": int(n_det),
        "pairs_above_threshold": int(n_pairs),
        "threshold": threshold,
        "model_source": model_source,
        "model_version": model_version(model) if model else "",
        "scored_on": getattr(engine, "name", "duckdb"),
        "seconds": {k: round(v, 3) for k, v in secs.items()},
    }
    return LinkResult(con=con, table=output, stats=stats, model=model)


def _fresh_key_sql(expr: str) -> str:
    return f"'C' || left(sha256({expr}), 12)"


def _assign_keys(con: duckdb.DuckDBPyConnection, previous: str | None, output: str) -> None:
    """Create ``output`` (record_id, customer_key) from ``{_P}_cl`` (record_id, cluster)."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {_P}_cmin AS
            SELECT cluster, min(record_id) AS min_rid, count(*) AS n FROM {_P}_cl GROUP BY cluster"""
    )
    if previous is None:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {output} AS
            SELECT c.record_id, {_fresh_key_sql("m.min_rid")} AS customer_key
            FROM {_P}_cl c JOIN {_P}_cmin m USING (cluster) ORDER BY c.record_id
            """
        )
        con.execute(f"DROP TABLE IF EXISTS {_P}_cmin")
        return
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {_P}_claim AS
        WITH votes AS (
            SELECT c.cluster, CAST(p.customer_key AS VARCHAR) AS old_key, count(*) AS n
            FROM {_P}_cl c JOIN {previous} p ON CAST(p.record_id AS VARCHAR) = c.record_id
            GROUP BY ALL
        ),
        best AS (   -- each new cluster's favourite old key
            SELECT * FROM votes QUALIFY row_number() OVER (PARTITION BY cluster ORDER BY n DESC, old_key) = 1
        ),
        won AS (    -- each old key goes to the cluster holding most of its records
            SELECT b.cluster, b.old_key FROM best b JOIN {_P}_cmin m USING (cluster)
            QUALIFY row_number() OVER (PARTITION BY b.old_key ORDER BY b.n DESC, m.min_rid) = 1
        )
        SELECT m.cluster, coalesce(w.old_key,
               CASE WHEN {_fresh_key_sql("m.min_rid")} IN (SELECT old_key FROM won)
                         OR {_fresh_key_sql("m.min_rid")} IN (SELECT CAST(customer_key AS VARCHAR) FROM {previous})
                    THEN {_fresh_key_sql("m.min_rid || chr(31) || 'split'")}
                    ELSE {_fresh_key_sql("m.min_rid")} END) AS customer_key
        FROM {_P}_cmin m LEFT JOIN won w USING (cluster)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {output} AS
        SELECT c.record_id, k.customer_key FROM {_P}_cl c JOIN {_P}_claim k USING (cluster) ORDER BY c.record_id
        """
    )
    for name in ("cmin", "claim"):
        con.execute(f"DROP TABLE IF EXISTS {_P}_{name}")


# ------------------------------------------------------------------------------------------- rates


def link_rates(con: duckdb.DuckDBPyConnection, mapping_table: str, records_table: str) -> pa.Table:
    """Per ordered pair of sources (A, B): the share of A's customers that also appear in B.

    ``mapping_table`` has (record_id, customer_key), ``records_table`` (record_id, source).
    Returns a pyarrow table: source_a, source_b, customers_a, shared, rate (shared / customers_a),
    one row per pair of distinct sources, ordered by source_a, source_b.
    """
    return con.sql(
        f"""
        WITH cs AS (
            SELECT DISTINCT CAST(r.source AS VARCHAR) AS source, m.customer_key
            FROM {records_table} r JOIN {mapping_table} m ON CAST(m.record_id AS VARCHAR) = CAST(r.record_id AS VARCHAR)
        ),
        n AS (SELECT source, count(*) AS customers FROM cs GROUP BY source),
        shared AS (
            SELECT a.source AS source_a, b.source AS source_b, count(*) AS shared
            FROM cs a JOIN cs b ON a.customer_key = b.customer_key AND a.source <> b.source
            GROUP BY ALL
        )
        SELECT a.source AS source_a, b.source AS source_b, a.customers AS customers_a,
               coalesce(s.shared, 0) AS shared,
               coalesce(s.shared, 0) / a.customers AS rate
        FROM n a JOIN n b ON a.source <> b.source
        LEFT JOIN shared s ON s.source_a = a.source AND s.source_b = b.source
        ORDER BY source_a, source_b
        """
    ).to_arrow_table()
