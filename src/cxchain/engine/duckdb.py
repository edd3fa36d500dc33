"""The DuckDB engine: the chain's SQL as written, on the workspace's own store (the default engine)."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

__all__ = ["DuckDBEngine"]


class DuckDBEngine:
    """Runs transforms on a DuckDB connection; its tables are the connection's tables."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection | None = None):
        self.con = con if con is not None else duckdb.connect()

    def connection(self) -> duckdb.DuckDBPyConnection:
        return self.con

    def tables(self) -> list[str]:
        rows = self.con.execute("SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = current_schema() ORDER BY 1").fetchall()
        return [str(r[0]) for r in rows]

    def register_parquet(self, name: str, location: str) -> None:
        """Make the Parquet data at ``location`` (a folder of part files, or one file) the table ``name``."""
        src = location if location.endswith(".parquet") else f"{location.rstrip('/')}/*.parquet"
        self.con.execute(f"""CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM read_parquet('{src}')""")

    def import_duckdb(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """Nothing to copy when the engine is the store itself; otherwise copy through Arrow."""
        if con is self.con:
            return
        for name in tables:
            tbl = con.sql(f'SELECT * FROM "{name}"').to_arrow_table()
            self.con.register("_cx_import", tbl)
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _cx_import')
            self.con.unregister("_cx_import")

    def export_duckdb(self, con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
        """Copy tables back into ``con`` (nothing to do when it is the engine's own connection)."""
        if con is self.con:
            return
        for name in tables:
            tbl = self.con.sql(f'SELECT * FROM "{name}"').to_arrow_table()
            con.register("_cx_export", tbl)
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _cx_export')
            con.unregister("_cx_export")

    def stop(self) -> None:
        return None
