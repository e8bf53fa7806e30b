"""A change counter per public table on SQLite, so cached pages know when they are stale.

PostgreSQL tells every app process about changes with NOTIFY (migration 0002). SQLite has no
such thing, and its files change under read-only load too (checkpoints, the WAL going when the
last connection closes), so triggers bump a counter in `data_version` in the same transaction
as the insert, update or delete they count. The app reads the four rows per request over one
connection it keeps open (`funding.web.cache.DataVersion`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T10:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "data version counters for the response cache (SQLite)"

PUBLIC_TABLES = ("journal_entry", "programme", "budget_period", "budget_line")

SQLITE = [
    "CREATE TABLE data_version (name TEXT PRIMARY KEY, version INTEGER NOT NULL DEFAULT 0)",
    "INSERT INTO data_version (name) VALUES " + ", ".join(f"('{table}')" for table in PUBLIC_TABLES),
    *[
        f"CREATE TRIGGER {table}_data_version_{op.lower()} AFTER {op} ON {table} "
        f"BEGIN UPDATE data_version SET version = version + 1 WHERE name = '{table}'; END"
        for table in PUBLIC_TABLES
        for op in ("INSERT", "UPDATE", "DELETE")
    ],
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            return  # NOTIFY does this job there (0002)
        for statement in SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
