"""The Spark engine: the chain's DuckDB SQL, transpiled, on a Spark session; tables as Parquet.

A :class:`SparkEngine` holds a session (an existing one, or one it starts on a master URL, ``local[2]``
by default) and a storage location (a local folder, or any URI the cluster's Hadoop file system reads:
``s3a://``, ``abfss://``, ``gs://``, ``hdfs://``).  Every table it creates is written there as Parquet
and registered in the session under its own name, so later statements read it like any table.

:meth:`SparkEngine.connection` answers like a DuckDB connection (``execute(sql, params)`` then
``fetchall()`` / ``description``), so the transforms of :mod:`cxchain.metrics` run on Spark unchanged:

    >>> eng = SparkEngine("/tmp/cx-spark")                                           # doctest: +SKIP
    >>> eng.import_duckdb(duck_con, ["contact", "record_customer"])                  # doctest: +SKIP
    >>> build_facts(eng.connection())                                                # doctest: +SKIP

Statements that add or delete rows in place (INSERT, DELETE, MERGE) are refused: on Spark a transform is a
``CREATE OR REPLACE TABLE ... AS SELECT``, which is also how the chain's own transforms are written.  An
``UPDATE`` (of a table, optionally from one other table or subquery joined on a key) becomes such a statement: the
table's new version, every row kept, the assigned columns replaced where the condition holds.
"""

from __future__ import annotations

import os
import shutil
import sys
import uuid
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlglot import exp

from ..errors import CxchainError
from .sql import INFO_COLUMNS, INFO_TABLES, SCHEMA, bind_params, parse_duckdb, spark_statement

if TYPE_CHECKING:  # pragma: no cover
    import duckdb
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkEngine", "SparkConnection", "SparkResult", "spark_available", "java_available"]


def java_available() -> bool:
    """Whether a Java runtime is on the machine (Spark needs one)."""
    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))


def spark_available() -> bool:
    """Whether PySpark is installed and Java is present."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return java_available()


def _quiet_pandas_warning() -> None:
    # PySpark 4.3 warns that it does not fully support pandas >= 3; the chain exchanges Arrow and Parquet.
    warnings.filterwarnings("ignore", message=".*PySpark.*pandas.*", category=FutureWarning)


def start_session(master: str = "local[2]", *, driver_memory: str = "1g", shuffle_partitions: int = 4,
                  app_name: str = "cxchain", extra: dict[str, str] | None = None) -> SparkSession:
    """A Spark session on ``master`` with the settings parity depends on (UTC, ANSI off for NULL on errors)."""
    _quiet_pandas_warning()
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:  # pragma: no cover - depends on the install
        raise CxchainError("The Spark engine needs PySpark: pip install 'cxchain[spark]' (and Java 17).") from e
    if not java_available():
        raise CxchainError("The Spark engine needs a Java runtime (Java 17): none was found (set JAVA_HOME).")
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.driver.memory", driver_memory)
               .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.parquet.inferTimestampNTZ.enabled", "true"))
    if master.startswith("local"):
        # Python workers (text models per partition) run this interpreter, so they see cxchain and its
        # models; PySpark reads the environment variable, not the spark.pyspark.python setting, here.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    jar = _similarity_jar()
    if jar:  # Splink's string-similarity UDFs, for identity resolution on Spark (data/linkage_spark.py)
        builder = builder.config("spark.jars", jar)
    for k, v in (extra or {}).items():
        builder = builder.config(k, v)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("OFF")
    _parity_conf(spark)
    return spark


def _similarity_jar() -> str | None:
    try:
        from splink.backends.spark import similarity_jar_location
    except ImportError:  # pragma: no cover - splink is a dependency
        return None
    path = similarity_jar_location()
    return path if Path(path).exists() else None


#: Session settings the answers depend on.  DuckDB's TIMESTAMP has no time zone: Spark must read and make
#: TIMESTAMP_NTZ (not its default, a UTC instant shown in the session zone), and evaluate in UTC.  Dates are
#: parsed by the current (java.time) parser only: a text it cannot read is NULL, not an error about the
#: parser of Spark 2 reading it differently.
PARITY_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.timestampType": "TIMESTAMP_NTZ",
               "spark.sql.parquet.inferTimestampNTZ.enabled": "true", "spark.sql.legacy.timeParserPolicy": "CORRECTED"}


def _parity_conf(spark: SparkSession) -> None:
    for k, v in PARITY_CONF.items():
        spark.conf.set(k, v)


class SparkResult:
    """The rows of one query, shaped like a DuckDB result (``description``, ``fetchall``, ``fetchone``)."""

    def __init__(self, columns: Sequence[str], rows: list[tuple[Any, ...]]):
        self.description: list[tuple[str, ...]] | None = [(c,) for c in columns] if columns else None
        self._rows = rows
        self._at = 0

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._at = self._rows[self._at:], len(self._rows)
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._at >= len(self._rows):
            return None
        self._at += 1
        return self._rows[self._at - 1]


class SparkConnection:
    """A DuckDB-connection look-alike over a :class:`SparkEngine` (``execute`` takes DuckDB SQL)."""

    def __init__(self, engine: SparkEngine):
        self.engine = engine

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> SparkResult:
        result = SparkResult([], [])
        for tree in parse_duckdb(sql):
            result = self.engine.run_statement(bind_params(tree, params))
        return result

    def register(self, name: str, table: Any) -> None:
        """Make an in-memory table (PyArrow table or pandas frame) readable as ``name``, like DuckDB's register."""
        self.engine.register_frame(name, self.engine.spark.createDataFrame(table))

    def unregister(self, name: str) -> None:
        self.engine.drop_table(name)

    def sql(self, sql: str) -> DataFrame:
        """A Spark DataFrame of one DuckDB-dialect query (for callers that keep working in Spark)."""
        trees = parse_duckdb(sql)
        if len(trees) != 1:
            raise ValueError("sql() takes one query")
        return self.engine.dataframe(trees[0])


class SparkEngine:
    """Spark session + Parquet storage location + the tables registered from it."""

    name = "spark"

    def __init__(self, storage: str | Path, *, session: SparkSession | None = None, master: str = "local[2]",
                 driver_memory: str = "1g", shuffle_partitions: int = 4):
        self.storage = str(storage).rstrip("/")
        self._session = session
        self._owns_session = session is None
        self._master = master
        self._driver_memory = driver_memory
        self._shuffle_partitions = shuffle_partitions
        self._tables: dict[str, str] = {}  # name -> Parquet location
        self._written: list[str] = []  # every location this engine wrote, for stop(discard=True)
        self._run = uuid.uuid4().hex[:8]
        self._isolate()

    # --- session and catalogue ------------------------------------------------------------------------

    @property
    def spark(self) -> SparkSession:
        if self._session is None:
            self._session = start_session(self._master, driver_memory=self._driver_memory,
                                          shuffle_partitions=self._shuffle_partitions)
        return self._session

    def _isolate(self) -> None:
        # A session handed in (a notebook's, a job's) keeps its own settings and views: work in a child
        # session that shares its cluster but not its SQL configuration or temporary views.
        if self._session is not None and not self._owns_session:
            self._session = self._session.newSession()
            _parity_conf(self._session)

    def connection(self) -> SparkConnection:
        return SparkConnection(self)

    def tables(self) -> list[str]:
        return sorted(self._tables)

    def location(self, name: str) -> str:
        """Where table ``name`` is stored (Parquet)."""
        return self._tables[name]

    def _new_location(self, name: str) -> str:
        # A new folder per version, so a table can be replaced by a query that reads its old version.
        loc = f"{self.storage}/{name}/{self._run}-{uuid.uuid4().hex[:8]}"
        self._written.append(loc)
        return loc

    def register_parquet(self, name: str, location: str) -> None:
        """Make the Parquet data at ``location`` the table ``name``."""
        self.spark.read.parquet(location).createOrReplaceTempView(name)
        self._tables[name] = location

    def write_table(self, name: str, df: DataFrame) -> None:
        """Store ``df`` as table ``name`` (Parquet in the storage location)."""
        loc = self._new_location(name)
        df.write.mode("overwrite").parquet(loc)
        self.register_parquet(name, loc)

    def register_frame(self, name: str, df: DataFrame) -> None:
        """Make a DataFrame readable as table ``name`` without storing it (small lookups)."""
        df.createOrReplaceTempView(name)
        self._tables[name] = ""

    def drop_table(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)
        self._tables.pop(name, None)

    # --- exchange with DuckDB -------------------------------------------------------------------------

    def import_duckdb(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """Copy DuckDB tables into the storage location as Parquet and register them.

        A local storage folder is written by DuckDB directly; a remote one (``s3a://`` ...) through the
        Spark session, from Arrow batches on the driver.
        """
        for name in tables:
            loc = self._new_location(name)
            if "://" in loc:
                tbl = con.sql(f'SELECT * FROM "{name}"').to_arrow_table()
                self.spark.createDataFrame(tbl).write.mode("overwrite").parquet(loc)
            else:
                Path(loc).mkdir(parents=True, exist_ok=True)
                con.execute(f"""COPY (SELECT * FROM "{name}") TO '{loc}/part-0.parquet' (FORMAT parquet)""")
            self.register_parquet(name, loc)

    def export_duckdb(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """Replace DuckDB tables by the Spark tables of the same names (read back from their Parquet)."""
        for name in tables:
            loc = self._tables[name]
            if loc and "://" not in loc:
                con.execute(f"""CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_parquet('{loc}/*.parquet')""")
                continue
            # Remote storage (or an unstored frame): through the driver as Arrow.
            tbl = self.spark.table(name).toArrow()
            con.register("_cx_export", tbl)
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _cx_export')
            con.unregister("_cx_export")

    # --- statements -----------------------------------------------------------------------------------

    def _refresh_information_schema(self) -> None:
        spark = self.spark
        tables = [(n, SCHEMA, "BASE TABLE") for n in sorted(self._tables)]
        spark.createDataFrame(tables, "table_name string, table_schema string, table_type string").createOrReplaceTempView(INFO_TABLES)
        cols = []
        for n in sorted(self._tables):
            for i, f in enumerate(spark.table(n).schema.fields):
                cols.append((n, SCHEMA, f.name, i + 1, f.dataType.simpleString().upper()))
        spark.createDataFrame(cols, "table_name string, table_schema string, column_name string, ordinal_position int, "
                                    "data_type string").createOrReplaceTempView(INFO_COLUMNS)

    def dataframe(self, tree: exp.Expr) -> DataFrame:
        sql = spark_statement(tree)
        if INFO_TABLES in sql or INFO_COLUMNS in sql:
            self._refresh_information_schema()
        return self.spark.sql(sql)

    def _create(self, tree: exp.Create) -> None:
        target = tree.this
        table = target.this if isinstance(target, exp.Schema) else target
        name = table.name
        exists = name in self._tables
        if exists and tree.args.get("exists"):
            return  # CREATE ... IF NOT EXISTS
        if exists and not tree.args.get("replace"):
            raise CxchainError(f"table {name} already exists")
        query = tree.expression
        if query is None:
            if not isinstance(target, exp.Schema):
                raise CxchainError(f"CREATE TABLE {name} needs columns or a query")
            cols = [exp.alias_(exp.cast(exp.Null(), c.args["kind"]), c.name) for c in target.expressions
                    if isinstance(c, exp.ColumnDef)]
            query = exp.select(*cols).limit(0)
        self.write_table(name, self.dataframe(query))

    def _update(self, tree: exp.Update) -> None:
        """``UPDATE t SET c = e, ... [FROM u] [WHERE cond]`` as a new version of ``t``: every row of ``t``, with
        ``e`` for ``c`` where ``cond`` holds (for the row of ``u`` it matches; ``u`` a table or a subquery).

        Each row of ``t`` must match at most one row of ``u``, as DuckDB requires for a determined result (the
        chain's updates join on a key).  Parquet files are not changed in place: the whole table is rewritten,
        so an update is worth it when the table is small or most of its rows change.
        """
        target = tree.this
        if not isinstance(target, exp.Table) or tree.args.get("returning") or tree.args.get("with_"):
            raise CxchainError("UPDATE on the Spark engine takes one table, SET, an optional FROM and WHERE")
        name, ref = target.name, target.alias_or_name
        if name not in self._tables:
            raise CxchainError(f"table {name} does not exist")
        sets = {}
        for eq in tree.expressions:
            if not isinstance(eq, exp.EQ) or not isinstance(eq.this, exp.Column):
                raise CxchainError(f"UPDATE on the Spark engine: unsupported assignment {eq.sql()}")
            sets[eq.this.name] = eq.expression
        where = tree.args.get("where")
        cond: exp.Expr = where.this if where is not None else exp.true()
        source = tree.args.get("from") or tree.args.get("from_")
        relation: exp.Expr = exp.to_table(name).as_(ref) if ref != name else exp.to_table(name)
        query = exp.select().from_(relation)
        if source is not None:
            src = source.this
            if isinstance(src, exp.Table) and not src.args.get("joins"):
                rows: exp.Expr = exp.to_table(src.name)
            elif isinstance(src, exp.Subquery) and src.alias:
                rows = src.this.subquery("__cx_from")
            else:
                raise CxchainError("UPDATE ... FROM on the Spark engine takes one table or one aliased subquery")
            # LEFT JOIN on the condition, with a marker column, so that the rows it does not match are kept
            marked = exp.select("*", exp.alias_(exp.true(), "__cx_matched")).from_(rows)
            query = query.join(marked.subquery(src.alias_or_name), on=cond, join_type="left")
            cond = exp.column("__cx_matched", table=src.alias_or_name).is_(exp.true())
        columns = self.spark.table(name).columns
        unknown = set(sets) - set(columns)
        if unknown:
            raise CxchainError(f"UPDATE {name}: no column {', '.join(sorted(unknown))}")
        cols = [exp.alias_(exp.Case(ifs=[exp.If(this=cond.copy(), true=sets[c].copy())],
                                    default=exp.column(c, table=ref)), c)
                if c in sets else exp.column(c, table=ref) for c in columns]
        self.write_table(name, self.dataframe(query.select(*cols)))

    def run_statement(self, tree: exp.Expr) -> SparkResult:
        """Run one bound DuckDB statement on Spark."""
        if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() in ("TABLE", "VIEW"):
            self._create(tree)
            return SparkResult([], [])
        if isinstance(tree, exp.Drop):
            # SQLGlot keeps the dropped tables under "tables" (older versions: "this").
            for table in tree.args.get("tables") or [tree.this]:
                if table.name in self._tables:
                    self.drop_table(table.name)
                elif not tree.args.get("exists"):
                    raise CxchainError(f"table {table.name} does not exist")
            return SparkResult([], [])
        if isinstance(tree, exp.Update):
            self._update(tree)
            return SparkResult([], [])
        if isinstance(tree, (exp.Insert, exp.Delete, exp.Merge)):
            raise CxchainError(f"{tree.key.upper()} is not supported on the Spark engine: write the transform as "
                               "CREATE OR REPLACE TABLE ... AS SELECT")
        df = self.dataframe(tree)
        limit = tree.args.get("limit") if isinstance(tree, exp.Select) else None
        if isinstance(limit, exp.Limit) and limit.expression.sql() == "0":
            return SparkResult(df.columns, [])  # a schema probe: analysing the plan is enough, no job
        return SparkResult(df.columns, [tuple(r) for r in df.collect()])

    def stop(self, *, discard: bool = True) -> None:
        """Stop a session this engine started (a session given to it is left running); with ``discard``,
        delete the Parquet this engine wrote to a local storage folder (its results are in DuckDB by then)."""
        if self._session is not None and self._owns_session:
            self._session.stop()
            self._session = None
        if discard:
            for loc in self._written:
                if "://" not in loc:
                    shutil.rmtree(loc, ignore_errors=True)
                    for folder in (Path(loc).parent, Path(loc).parent.parent):  # the table's folder, then storage
                        if folder.is_dir() and not any(folder.iterdir()):
                            folder.rmdir()
            self._written.clear()


def active_session() -> SparkSession | None:
    """The Spark session already running in this process (a notebook, a Databricks job), if any."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()
