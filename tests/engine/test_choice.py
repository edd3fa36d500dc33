"""Choosing the engine: the `engine` setting, its override, and the Spark settings."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from cxchain import Workspace
from cxchain.engine import DuckDBEngine, open_engine
from cxchain.errors import CxchainError


def test_duckdb_is_the_default_and_runs_on_the_store(workspace: Workspace) -> None:
    assert workspace.settings["engine"] == "duckdb"
    con = duckdb.connect()
    eng = open_engine(workspace.settings, con=con)
    assert isinstance(eng, DuckDBEngine) and eng.connection() is con


def test_an_unknown_engine_is_refused_before_anything_runs(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="engine must be one of duckdb, spark"):
        open_engine({"engine": "polars"})
    with pytest.raises(CxchainError, match="engine must be duckdb or spark"):
        workspace.run(engine="polars")
    assert workspace.store.current() is None


def test_spark_settings_come_from_the_workspace(tmp_path: Path) -> None:
    pytest.importorskip("pyspark", reason="PySpark is not installed: pip install 'cxchain[spark]'")
    from cxchain.engine.spark import SparkEngine

    ws = Workspace.init(tmp_path / "ws", overrides={"engine": "spark", "spark.storage": str(tmp_path / "pq"),
                                                     "spark.master": "local[1]", "spark.driver_memory": "768m"})
    eng = open_engine(ws.settings, storage=tmp_path / "default")
    assert isinstance(eng, SparkEngine) and eng.storage == str(tmp_path / "pq")
    assert (eng._master, eng._driver_memory) == ("local[1]", "768m")  # no session is started until first use
