"""The journal is append-only, enforced by the database itself.

Triggers refuse UPDATE and DELETE on journal entries and postings (and TRUNCATE on PostgreSQL),
whoever asks. Monthly totals get the unique key their upsert needs. On PostgreSQL, appends and
budget changes NOTIFY `funding_public`, so every app process drops its cached public pages.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-29T04:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "append-only journal triggers, monthly total key, change notifications"

APPEND_ONLY = ("journal_entry", "posting")
PUBLIC_TABLES = ("journal_entry", "programme", "budget_period", "budget_line")

POSTGRES = [
    """
    CREATE FUNCTION funding_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'the journal is append-only: % on % is refused (book a reversal instead)',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE FUNCTION funding_notify_public() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('funding_public', TG_TABLE_NAME);
        RETURN NULL;
    END $$
    """,
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()"
        for table in APPEND_ONLY
    ],
    *[
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()"
        for table in APPEND_ONLY
    ],
    *[
        f"CREATE TRIGGER {table}_notify_public AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION funding_notify_public()"
        for table in PUBLIC_TABLES
    ],
]

SQLITE = [
    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
    f"BEGIN SELECT RAISE(ABORT, 'the journal is append-only: {op} on {table} is refused "
    f"(book a reversal instead)'); END"
    for table in APPEND_ONLY
    for op in ("UPDATE", "DELETE")
]

COMMON = [
    "CREATE UNIQUE INDEX account_month_balance_account_month ON account_month_balance (account, month)",
    "CREATE UNIQUE INDEX posting_entry_position ON posting (entry, position)",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        statements = POSTGRES if engine.engine_type == "postgres" else SQLITE
        for statement in [*COMMON, *statements]:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
