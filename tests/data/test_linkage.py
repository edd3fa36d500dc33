"""Identity linkage on a seeded synthetic population with a realistic noise profile."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

try:
    import cxchain  # noqa: F401
except ImportError:  # running from a checkout without an install
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

from cxchain.data.identity import normalise_identities
from cxchain.data.linkage import DEFAULT_MODEL_PATH, link_identities, link_rates
from cxchain.demo.identities import make_population, pairwise_scores


def strong_field_recall(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> float:
    """Recall of an oracle that links two records of the same person only when they share a customer
    id, email, phone, date of birth, UPRN or address + postcode exactly: what exact evidence allows."""
    from cxchain.data.linkage import _components

    truth = df[["record_id", "person"]]  # noqa: F841 - read by DuckDB
    con.execute("CREATE OR REPLACE TEMP TABLE _oracle AS SELECT i.*, t.person, row_number() OVER (ORDER BY record_id) - 1 AS node "
                "FROM ident i JOIN truth t USING (record_id)")
    e = con.sql(
        """SELECT a.node AS a, b.node AS b FROM _oracle a JOIN _oracle b ON a.person = b.person AND a.node < b.node
           AND (a.customer_id = b.customer_id OR a.email = b.email OR a.phone = b.phone OR a.dob = b.dob
                OR a.uprn = b.uprn OR (a.address = b.address AND a.postcode = b.postcode))"""
    ).fetchnumpy()
    nodes = con.sql("SELECT record_id, node, person FROM _oracle ORDER BY node").df()
    lab = _components(len(nodes), e["a"].astype("int64"), e["b"].astype("int64"))
    pred = pd.Series(lab[nodes["node"].to_numpy()], index=nodes["record_id"])
    return pairwise_scores(pred, nodes.set_index("record_id")["person"])["recall"]


# ----------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def population() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_population()


@pytest.fixture(scope="module")
def con(population: tuple[pd.DataFrame, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    df, _ = population
    c = duckdb.connect()
    raw = df.drop(columns=["person"])  # noqa: F841 - read by DuckDB
    c.execute("CREATE TABLE raw AS SELECT * FROM raw")
    t = time.perf_counter()
    normalise_identities(c, "raw", "ident")
    print(f"normalise {len(df)} records: {time.perf_counter() - t:.2f}s")
    return c


@pytest.fixture(scope="module")
def first_run(con: duckdb.DuckDBPyConnection) -> Any:
    return link_identities(con, "ident", output="keys1", seed=0)


def _keys(con: duckdb.DuckDBPyConnection, table: str) -> pd.Series:
    df = con.sql(f"SELECT record_id, customer_key FROM {table}").df()
    return df.set_index("record_id")["customer_key"].sort_index()


# -------------------------------------------------------------------------------------------- tests


def test_population_shape(population: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    df, people = population
    assert 8_000 <= len(df) <= 13_000
    assert df["person"].nunique() >= 2_700
    assert df["source"].nunique() == 5


def test_accuracy(con: duckdb.DuckDBPyConnection, population: tuple[pd.DataFrame, pd.DataFrame], first_run: Any) -> None:
    df, _ = population
    keys = _keys(con, first_run.table)
    truth = df.set_index("record_id")["person"].sort_index()
    assert keys.index.equals(truth.index), "every record gets exactly one key"
    s = pairwise_scores(keys, truth)
    print("stats", first_run.stats)
    print("pairwise", {k: round(v, 4) if isinstance(v, float) else v for k, v in s.items()})
    assert first_run.stats["records"] == len(df)
    assert first_run.stats["model_source"] == "trained"
    # measured: precision 0.999, recall 0.960, F1 0.979.  Most missed pairs share nothing but a
    # name (e.g. a call from the landline, the CRM holding the mobile): no safe rule links those.
    # An oracle linking only on exact shared identifiers reaches recall 0.942 on this population.
    ceiling = strong_field_recall(con, df)
    print("exact-identifier oracle recall", round(ceiling, 4))
    assert s["recall"] >= ceiling
    assert s["precision"] >= 0.99
    assert s["f1"] >= 0.97


def test_shared_landline_does_not_merge(con: duckdb.DuckDBPyConnection) -> None:
    c = duckdb.connect()
    c.execute(
        """CREATE TABLE t AS SELECT * FROM (VALUES
        ('a1', 'crm', 'crm:1', 'john', 'smith', NULL, '01632960001', 'AB1 2CD', '1 high st', NULL, '1970-01-01'),
        ('a2', 'crm', 'crm:2', 'mary', 'smith', NULL, '01632960001', 'AB1 2CD', '1 high st', NULL, '1972-05-09'),
        ('a3', 'housing', 'housing:9', 'jon', 'smith', NULL, '01632960001', 'AB1 2CD', '1 high st', NULL, '1970-01-01')
        ) v(record_id, source, customer_id, first_name, last_name, email, phone, postcode, address, uprn, dob)"""
    )
    res = link_identities(c, "t", train=False)
    k = _keys(c, res.table)
    assert k["a1"] != k["a2"], "household members sharing a landline stay apart"
    assert k["a1"] == k["a3"]
    assert res.stats["model_source"] == "default"


def test_a_shared_surname_with_different_first_names_is_little_evidence(first_run: Any) -> None:
    """Two different first names with one surname are, most often, two people of one home: trained on the
    population, that level weighs almost nothing next to an agreeing first name, and the shipped default agrees."""
    def bayes_factors(model: dict[str, Any]) -> dict[str, float]:
        name = next(c for c in model["comparisons"] if c["output_column_name"] == "name")
        return {lev["label_for_charts"]: lev["m_probability"] / lev["u_probability"]
                for lev in name["comparison_levels"] if not lev.get("is_null_level")}

    for model in (first_run.model, json.loads(DEFAULT_MODEL_PATH.read_text())):
        bf = bayes_factors(model)
        assert bf["surname close, first names differ"] < 4
        assert bf["surname close, first names differ"] * 100 < bf["first name exact, surname close"]


def test_deterministic_rules_and_singletons() -> None:
    c = duckdb.connect()
    c.execute(
        """CREATE TABLE t AS SELECT * FROM (VALUES
        ('r1', 'crm', 'crm:1', 'ann', 'lee', 'x@y.com', NULL, NULL, NULL, NULL, NULL),
        ('r2', 'crm', 'crm:1', 'anne', 'leigh', NULL, NULL, NULL, NULL, NULL, NULL),
        ('r3', 'web', NULL, 'zed', 'qux', 'x@y.com', NULL, NULL, NULL, NULL, NULL),
        ('r4', 'web', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
        ('r5', 'web', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
        ) v(record_id, source, customer_id, first_name, last_name, email, phone, postcode, address, uprn, dob)"""
    )
    res = link_identities(c, "t")
    k = _keys(c, res.table)
    assert k["r1"] == k["r2"] == k["r3"]
    assert len({k["r1"], k["r4"], k["r5"]}) == 3, "empty records are never collapsed together"
    assert res.stats["records"] == 5 and res.stats["clusters"] == 3


def test_tiny_and_empty_inputs() -> None:
    c = duckdb.connect()
    c.execute("CREATE TABLE e (record_id VARCHAR, source VARCHAR, first_name VARCHAR, last_name VARCHAR)")
    res = link_identities(c, "e")
    assert res.stats["records"] == 0 and len(res.arrow()) == 0
    c.execute("INSERT INTO e VALUES ('1', 's', 'a', 'b')")
    res = link_identities(c, "e")
    assert res.arrow().column("customer_key").to_pylist()[0].startswith("C")


def test_training_failure_falls_back_to_default(con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    import cxchain.data.linkage as linkage

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("degenerate")

    monkeypatch.setattr(linkage, "_train", boom)
    con.execute("CREATE OR REPLACE TABLE ident_small AS SELECT * FROM ident WHERE hash(record_id) % 10 < 3")
    res = link_identities(con, "ident_small", output="keys_fb")
    assert res.stats["model_source"] == "default"
    assert res.stats["clusters"] > 0


def test_failed_training_session_keeps_every_comparison(con: duckdb.DuckDBPyConnection, population: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """An export without dates of birth fails the date-of-birth EM session; Splink leaves the comparisons that
    session blocked on out of the linker, so training must carry on from the model before it (a housing demo
    once lost its phone-and-address comparison this way and its recall fell from 0.70 to 0.42)."""
    con.execute("CREATE OR REPLACE TABLE ident_nodob AS SELECT * REPLACE (CAST(NULL AS VARCHAR) AS dob) FROM ident")
    res = link_identities(con, "ident_nodob", output="keys_nodob", seed=0)
    assert res.stats["model_source"] == "trained"
    assert [c["output_column_name"] for c in res.model["comparisons"]] == ["name", "email", "contact", "dob"]
    df, _ = population
    s = pairwise_scores(_keys(con, "keys_nodob"), df.set_index("record_id")["person"].sort_index())
    assert s["precision"] >= 0.99 and s["recall"] >= 0.9


def test_determinism(con: duckdb.DuckDBPyConnection, first_run: Any) -> None:
    second = link_identities(con, "ident", output="keys2", seed=0)
    assert _keys(con, "keys1").equals(_keys(con, "keys2"))
    assert second.stats["clusters"] == first_run.stats["clusters"]


def test_model_round_trip(con: duckdb.DuckDBPyConnection, first_run: Any, tmp_path: Path) -> None:
    path = first_run.save_model(tmp_path / "model.json")
    loaded = link_identities(con, "ident", output="keys3", model_path=path)
    assert loaded.stats["model_source"] == "loaded"
    assert _keys(con, "keys1").equals(_keys(con, "keys3"))
    assert loaded.stats["pairs_above_threshold"] == first_run.stats["pairs_above_threshold"]


def test_incremental_keeps_keys(
    con: duckdb.DuckDBPyConnection, population: tuple[pd.DataFrame, pd.DataFrame], first_run: Any, tmp_path: Path
) -> None:
    df, _ = population
    con.execute("CREATE OR REPLACE TABLE ident_old AS SELECT * FROM ident WHERE hash(record_id) % 10 < 7")
    model = first_run.save_model(tmp_path / "model.json")  # a fixed model: the runs differ only in data
    old = link_identities(con, "ident_old", output="keys_old", model_path=model)
    new = link_identities(con, "ident", output="keys_new", model_path=model, previous="keys_old")
    ko, kn = _keys(con, "keys_old"), _keys(con, "keys_new")
    kept = (kn.loc[ko.index] == ko).mean()
    print("incremental: kept", round(float(kept), 4), old.stats["clusters"], new.stats["clusters"])
    assert kept >= 0.99
    # new records that belong to an old customer get that customer's old key
    truth = df.set_index("record_id")["person"]
    new_ids = kn.index.difference(ko.index)
    old_people = truth.loc[ko.index]
    key_of_person = ko.groupby(old_people.values).agg(lambda s: s.mode().iloc[0])
    joined = [(kn[r], key_of_person.get(truth[r])) for r in new_ids if truth[r] in key_of_person.index]
    share = sum(a == b for a, b in joined) / max(1, len(joined))
    assert share >= 0.95


def test_link_rates(con: duckdb.DuckDBPyConnection, first_run: Any) -> None:
    rates = link_rates(con, first_run.table, "ident").to_pandas()
    assert len(rates) == 5 * 4
    assert rates["rate"].between(0, 1).all()
    crm_in_housing = rates.query("source_a == 'housing' and source_b == 'crm'")["rate"].iloc[0]
    assert 0.6 <= crm_in_housing <= 0.9  # ~75% of people are in crm
