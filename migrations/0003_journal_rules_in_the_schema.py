"""The schema states what the journal promises, so a direct INSERT cannot break it.

- Every reference is required and cannot dangle: NOT NULL, ON DELETE/UPDATE RESTRICT (Piccolo's
  defaults were nullable and CASCADE, which nobody chose). No default lets an incomplete row in.
- A posting is never zero (CHECK); an entry posts to an account at most once (unique index).
- Balanced entries: postings are inserted first, then their entry's row, which seals them:
  a posting for an entry that is already there is refused, and the entry's postings must be at
  least two and sum to zero — checked at commit by a deferred constraint trigger on PostgreSQL
  (as django-hordak does), and when the entry's row is inserted on SQLite (which has no deferred
  triggers; its postings are all there by then). The posting's reference to its entry is
  checked at commit (DEFERRABLE INITIALLY DEFERRED) so the postings can come first.
- SQLite: `INSERT OR REPLACE` deletes the row it replaces without firing DELETE triggers (unless
  `recursive_triggers` is on), which rewrote an entry in place. A BEFORE INSERT trigger refuses
  any insert that would replace a journal row, whatever the connection's pragmas.
- A reversal names what it reverses in its hashed reference (`reverses:N`), so the published
  `reverses` field can be checked against the hash.
- An account's name and kind are part of every hash that names it: they never change, and an
  account is never deleted.

SQLite cannot alter a column: its tables are rebuilt (create, copy, drop, rename, and their
indexes and triggers made again) on one connection with foreign keys off, as SQLite's documented
procedure for schema changes says, inside one transaction that checks the keys before it commits.
"""

from __future__ import annotations

import aiosqlite
from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import BigInt, Date, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.date import DateNow
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine import engine_finder

ID = "2026-12-01T09:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "journal rules in the schema: required references, no defaults, balanced sealed entries"

TABLE_CLASSES = {
    "account": "Account",
    "journal_entry": "JournalEntry",
    "posting": "Posting",
    "account_month_balance": "AccountMonthBalance",
    "programme": "Programme",
    "budget_period": "BudgetPeriod",
    "budget_line": "BudgetLine",
}

NO_DEFAULT = [
    ("account", "name", Varchar, ""),
    ("account", "kind", Varchar, ""),
    ("account", "opened_at", Timestamptz, TimestamptzNow()),
    ("journal_entry", "seq", BigInt, 0),
    ("journal_entry", "occurred_on", Date, DateNow()),
    ("journal_entry", "recorded_at", Timestamptz, TimestamptzNow()),
    ("journal_entry", "kind", Varchar, ""),
    ("journal_entry", "description", Text, ""),
    ("journal_entry", "prev_hash", Varchar, ""),
    ("journal_entry", "hash", Varchar, ""),
    ("posting", "position", Integer, 0),
    ("posting", "amount_cents", BigInt, 0),
    ("account_month_balance", "month", Date, DateNow()),
    ("account_month_balance", "amount_cents", BigInt, 0),
    ("programme", "slug", Varchar, ""),
    ("programme", "name", Varchar, ""),
    ("budget_period", "name", Varchar, ""),
    ("budget_period", "starts_on", Date, DateNow()),
    ("budget_period", "ends_on", Date, DateNow()),
    ("budget_line", "code", Varchar, ""),
    ("budget_line", "name", Varchar, ""),
    ("budget_line", "amount_cents", BigInt, 0),
]
"""(table, column, column class, old default): columns that lose their default."""

REFERENCES = [
    ("posting", "entry", "journal_entry", " DEFERRABLE INITIALLY DEFERRED"),
    ("posting", "account", "account", ""),
    ("account_month_balance", "account", "account", ""),
    ("budget_period", "programme", "programme", ""),
    ("budget_line", "period", "budget_period", ""),
]
"""(table, column, referenced table, deferral): foreign keys made required and RESTRICT."""

REVERSAL_NAMED = (
    "(kind = 'reversal') = (reverses_seq IS NOT NULL) "
    "AND (reverses_seq IS NULL OR reference = 'reverses:' || reverses_seq)"
)
"""`reverses` is published beside the hashed fields but is not one of them: it must agree with
the hashed kind and reference, so that `funding verify` can check it."""

CHECKS = [
    ("posting", "posting_amount_not_zero", "amount_cents <> 0"),
    ("journal_entry", "journal_entry_seq_positive", "seq >= 1"),
    ("journal_entry", "journal_entry_in_euro_era", "occurred_on >= '1999-01-01'"),
    ("journal_entry", "journal_entry_hashes_whole", "length(hash) = 64 AND length(prev_hash) = 64"),
    ("journal_entry", "journal_entry_reversal_named", REVERSAL_NAMED),
]

UNIQUE = ["CREATE UNIQUE INDEX posting_entry_account ON posting (entry, account)"]

POSTGRES = [
    *[f'ALTER TABLE "{table}" ALTER COLUMN "{column}" DROP DEFAULT' for table, column, _, _ in NO_DEFAULT],
    *[
        statement
        for table, column, target, deferral in REFERENCES
        for statement in (
            f'ALTER TABLE "{table}" ALTER COLUMN "{column}" SET NOT NULL',
            f'ALTER TABLE "{table}" DROP CONSTRAINT "{table}_{column}_fkey"',
            f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{column}_fkey" FOREIGN KEY ("{column}") '
            f'REFERENCES "{target}" ("id") ON DELETE RESTRICT ON UPDATE RESTRICT{deferral}',
        )
    ],
    *[f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ({check})' for table, name, check in CHECKS],
    *UNIQUE,
    """
    CREATE FUNCTION funding_refuse_sealed_posting() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry) THEN
            RAISE EXCEPTION 'entry % is sealed: postings come before their entry, never after', NEW.entry
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER posting_sealed BEFORE INSERT ON posting "
    "FOR EACH ROW EXECUTE FUNCTION funding_refuse_sealed_posting()",
    """
    CREATE FUNCTION funding_check_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        legs integer;
        total numeric;
    BEGIN
        SELECT count(*), coalesce(sum(amount_cents), 0) INTO legs, total FROM posting WHERE entry = NEW.id;
        IF legs < 2 OR total <> 0 THEN
            RAISE EXCEPTION 'entry seq % is unbalanced: % posting(s) summing to % cents (needs two or more summing to zero)',
                NEW.seq, legs, total USING ERRCODE = 'check_violation';
        END IF;
        RETURN NULL;
    END $$
    """,
    "CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry "
    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION funding_check_balanced()",
    """
    CREATE FUNCTION funding_keep_account() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'DELETE' OR NEW.name IS DISTINCT FROM OLD.name OR NEW.kind IS DISTINCT FROM OLD.kind THEN
            RAISE EXCEPTION 'an account is never deleted or renamed: its name is in the hash of every entry that posts to it'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER account_kept BEFORE UPDATE OR DELETE ON account "
    "FOR EACH ROW EXECUTE FUNCTION funding_keep_account()",
    "CREATE TRIGGER account_no_truncate BEFORE TRUNCATE ON account "
    "FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()",
]

SQLITE_TABLES = {
    "account": """(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "name" VARCHAR(120) UNIQUE NOT NULL,
        "kind" VARCHAR(16) NOT NULL,
        "label" VARCHAR(200) NOT NULL DEFAULT '',
        "is_open" BOOLEAN NOT NULL DEFAULT true,
        "opened_at" TIMESTAMPTZ NOT NULL)""",
    "journal_entry": f"""(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "seq" INTEGER UNIQUE NOT NULL CONSTRAINT journal_entry_seq_positive CHECK (seq >= 1),
        "occurred_on" DATE NOT NULL CONSTRAINT journal_entry_in_euro_era CHECK (occurred_on >= '1999-01-01'),
        "recorded_at" TIMESTAMPTZ NOT NULL,
        "kind" VARCHAR(40) NOT NULL,
        "description" TEXT NOT NULL,
        "reference" VARCHAR(200) DEFAULT null,
        "idempotency_key" VARCHAR(200) UNIQUE DEFAULT null,
        "reverses_seq" INTEGER UNIQUE DEFAULT null,
        "prev_hash" VARCHAR(64) NOT NULL,
        "hash" VARCHAR(64) UNIQUE NOT NULL,
        CONSTRAINT journal_entry_hashes_whole CHECK (length(hash) = 64 AND length(prev_hash) = 64),
        CONSTRAINT journal_entry_reversal_named CHECK ({REVERSAL_NAMED}))""",
    "posting": """(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "entry" INTEGER NOT NULL REFERENCES "journal_entry" ("id")
            ON DELETE RESTRICT ON UPDATE RESTRICT DEFERRABLE INITIALLY DEFERRED,
        "position" INTEGER NOT NULL,
        "account" INTEGER NOT NULL REFERENCES "account" ("id") ON DELETE RESTRICT ON UPDATE RESTRICT,
        "amount_cents" INTEGER NOT NULL CONSTRAINT posting_amount_not_zero CHECK (amount_cents <> 0))""",
    "account_month_balance": """(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "account" INTEGER NOT NULL REFERENCES "account" ("id") ON DELETE RESTRICT ON UPDATE RESTRICT,
        "month" DATE NOT NULL,
        "amount_cents" INTEGER NOT NULL)""",
    "programme": """(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "slug" VARCHAR(80) UNIQUE NOT NULL,
        "name" VARCHAR(200) NOT NULL,
        "description" TEXT NOT NULL DEFAULT '',
        "is_demo" BOOLEAN NOT NULL DEFAULT false)""",
    "budget_period": """(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "programme" INTEGER NOT NULL REFERENCES "programme" ("id") ON DELETE RESTRICT ON UPDATE RESTRICT,
        "name" VARCHAR(80) NOT NULL,
        "starts_on" DATE NOT NULL,
        "ends_on" DATE NOT NULL)""",
    "budget_line": """(
        "id" INTEGER PRIMARY KEY NOT NULL,
        "period" INTEGER NOT NULL REFERENCES "budget_period" ("id") ON DELETE RESTRICT ON UPDATE RESTRICT,
        "code" VARCHAR(60) NOT NULL,
        "name" VARCHAR(200) NOT NULL,
        "name_en" VARCHAR(200) NOT NULL DEFAULT '',
        "amount_cents" INTEGER NOT NULL,
        "position" INTEGER NOT NULL DEFAULT 0)""",
}


def _refuse(message: str) -> str:
    return f"SELECT RAISE(ABORT, '{message}')"


SQLITE_TRIGGERS = [
    # Any insert that would replace a journal row (INSERT OR REPLACE, REPLACE INTO) is refused
    # before SQLite can delete the old row; a plain insert would fail on the unique key anyway.
    "CREATE TRIGGER journal_entry_no_replace BEFORE INSERT ON journal_entry "
    "WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.id OR seq = NEW.seq OR hash = NEW.hash "
    "OR idempotency_key = NEW.idempotency_key OR reverses_seq = NEW.reverses_seq) "
    f"BEGIN {_refuse('the journal is append-only: an insert may not replace an entry')}; END",
    "CREATE TRIGGER posting_sealed BEFORE INSERT ON posting "
    "WHEN EXISTS (SELECT 1 FROM journal_entry WHERE id = NEW.entry) "
    "OR EXISTS (SELECT 1 FROM posting WHERE id = NEW.id OR (entry = NEW.entry AND position = NEW.position)) "
    f"BEGIN {_refuse('the entry is sealed: postings come before their entry and never replace one')}; END",
    "CREATE TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry "
    "WHEN (SELECT count(*) FROM posting WHERE entry = NEW.id) < 2 "
    "OR (SELECT coalesce(sum(amount_cents), 0) FROM posting WHERE entry = NEW.id) <> 0 "
    f"BEGIN {_refuse('the entry is unbalanced: it needs two or more postings summing to zero')}; END",
    "CREATE TRIGGER account_no_replace BEFORE INSERT ON account "
    "WHEN EXISTS (SELECT 1 FROM account WHERE id = NEW.id OR name = NEW.name) "
    f"BEGIN {_refuse('an account is never replaced')}; END",
    "CREATE TRIGGER account_kept BEFORE UPDATE OF name, kind ON account "
    "WHEN NEW.name IS NOT OLD.name OR NEW.kind IS NOT OLD.kind "
    f"BEGIN {_refuse('an account is never renamed: its name is in the hash of every entry')}; END",
    f"CREATE TRIGGER account_no_delete BEFORE DELETE ON account BEGIN {_refuse('an account is never deleted')}; END",
]


async def _rebuild_sqlite(path: str) -> None:
    """SQLite's twelve-step table change, for every table at once, in one transaction."""
    async with aiosqlite.connect(path, isolation_level=None) as connection:
        await connection.execute("PRAGMA foreign_keys = OFF")  # only outside a transaction
        await connection.execute("BEGIN IMMEDIATE")
        try:
            kept: list[str] = []
            for table, definition in SQLITE_TABLES.items():
                cursor = await connection.execute(
                    "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
                    "AND sql IS NOT NULL ORDER BY type, name",
                    (table,),
                )
                kept += [row[0] for row in await cursor.fetchall()]
                cursor = await connection.execute(f'PRAGMA table_info("{table}")')
                columns = ", ".join(f'"{row[1]}"' for row in await cursor.fetchall())
                await connection.execute(f'CREATE TABLE "{table}__new" {definition}')
                await connection.execute(f'INSERT INTO "{table}__new" ({columns}) SELECT {columns} FROM "{table}"')
                await connection.execute(f'DROP TABLE "{table}"')
                await connection.execute(f'ALTER TABLE "{table}__new" RENAME TO "{table}"')
            for statement in [*kept, *UNIQUE, *SQLITE_TRIGGERS]:
                await connection.execute(statement)
            cursor = await connection.execute("PRAGMA foreign_key_check")
            dangling = await cursor.fetchall()
            if dangling:
                raise RuntimeError(f"references that point nowhere: {dangling[:5]}")
            await connection.execute("COMMIT")
        except BaseException:
            await connection.execute("ROLLBACK")
            raise


class SchemaOnlyAlterations(MigrationManager):
    """Records the column changes for Piccolo's schema snapshot (so later auto migrations start
    from the truth) but leaves them to the DDL above: Piccolo cannot alter SQLite columns, and
    on PostgreSQL the constraints are named and deferred as the journal needs."""

    async def _run_alter_columns(self, backwards: bool = False) -> None:
        return None


def _record(manager: MigrationManager, table: str, column: str, column_class: type, params: dict, old: dict) -> None:
    """One column change, for Piccolo's snapshot only (see `SchemaOnlyAlterations`)."""
    manager.alter_column(
        table_class_name=TABLE_CLASSES[table],
        tablename=table,
        column_name=column,
        db_column_name=column,
        params=params,
        old_params=old,
        column_class=column_class,
        old_column_class=column_class,
        schema=None,
    )


async def forwards():
    manager = SchemaOnlyAlterations(migration_id=ID, app_name="funding", description=DESCRIPTION)
    for table, column, column_class, old_default in NO_DEFAULT:
        _record(manager, table, column, column_class, {"default": None}, {"default": old_default})
    for table, column, _target, _deferral in REFERENCES:
        _record(
            manager,
            table,
            column,
            ForeignKey,
            {"on_delete": OnDelete.restrict, "on_update": OnUpdate.restrict, "null": False},
            {"on_delete": OnDelete.cascade, "on_update": OnUpdate.cascade, "null": True},
        )

    async def run():
        engine = engine_finder()
        if engine.engine_type == "postgres":
            for statement in POSTGRES:
                await engine.run_ddl(statement)
        else:
            await _rebuild_sqlite(engine.connection_kwargs["database"])

    manager.add_raw(run)
    return manager
