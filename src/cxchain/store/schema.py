"""DDL of the analytical and identity stores, derived from the canonical model."""

from __future__ import annotations

import duckdb

from ..data.model import ENTITIES, IDENTITY_FIELDS, SQL_TYPES, SYSTEM_COLUMNS

SCHEMA_VERSION = 1

BATCH_COLUMNS = (
    ("batch_id", "VARCHAR"), ("kind", "VARCHAR"), ("source", "VARCHAR"), ("file", "VARCHAR"), ("file_sha256", "VARCHAR"),
    ("file_bytes", "BIGINT"), ("mapping_version", "INTEGER"), ("mapping_fingerprint", "VARCHAR"), ("started_at", "TIMESTAMP"),
    ("seconds", "DOUBLE"), ("rows_read", "BIGINT"), ("rows_loaded", "BIGINT"), ("rows_quarantined", "BIGINT"),
    ("rows_duplicate", "BIGINT"), ("rows_updated", "BIGINT"), ("notes", "VARCHAR"),
)


def entity_ddl(entity: str) -> str:
    cols = [f'"{n}" {t}' for n, t, _ in SYSTEM_COLUMNS]
    cols += [f'"{f.name}" {SQL_TYPES[f.type]}' for f in ENTITIES[entity]]
    return f'CREATE TABLE IF NOT EXISTS "{entity}" ({", ".join(cols)})'


def create_data_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the analytical tables if missing (idempotent)."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    con.execute(f"INSERT OR IGNORE INTO meta VALUES ('schema_version', '{SCHEMA_VERSION}')")
    for entity in ENTITIES:
        con.execute(entity_ddl(entity))
    con.execute("""CREATE TABLE IF NOT EXISTS survey_item (record_id VARCHAR, version INTEGER, item VARCHAR, score DOUBLE,
                   scale_min DOUBLE, scale_max DOUBLE)""")
    con.execute(f"CREATE TABLE IF NOT EXISTS batch ({', '.join(f'{n} {t}' for n, t in BATCH_COLUMNS)})")
    con.execute("""CREATE TABLE IF NOT EXISTS quarantine (quarantine_id VARCHAR, batch_id VARCHAR, source VARCHAR, file VARCHAR,
                   location VARCHAR, "column" VARCHAR, reason VARCHAR, status VARCHAR, resolved_batch VARCHAR)""")
    con.execute("""CREATE TABLE IF NOT EXISTS record_customer (record_id VARCHAR, source VARCHAR, customer_key VARCHAR)""")
    con.execute("""CREATE TABLE IF NOT EXISTS link_stats (key VARCHAR, value DOUBLE)""")
    con.execute("""CREATE TABLE IF NOT EXISTS journey_event (customer_key VARCHAR, seq INTEGER, occurred_at TIMESTAMP, entity VARCHAR,
                   record_id VARCHAR, source VARCHAR, channel VARCHAR, kind VARCHAR, gap_hours DOUBLE, channel_switch BOOLEAN)""")
    con.execute("""CREATE TABLE IF NOT EXISTS run_log (run_id VARCHAR, started_at TIMESTAMP, seconds DOUBLE, kind VARCHAR,
                   steps VARCHAR)""")


def create_identity_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the identity-store tables if missing (idempotent)."""
    cols = ", ".join(f'"{k}" VARCHAR' for k in IDENTITY_FIELDS)
    con.execute(f"""CREATE TABLE IF NOT EXISTS identity_record (record_id VARCHAR, source VARCHAR, source_key VARCHAR,
                    version INTEGER, batch_id VARCHAR, {cols})""")
    con.execute("""CREATE TABLE IF NOT EXISTS quarantine_raw (quarantine_id VARCHAR, raw VARCHAR)""")
    con.execute("""CREATE TABLE IF NOT EXISTS customer_map (record_id VARCHAR, customer_key VARCHAR)""")
