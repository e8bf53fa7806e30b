"""Invoices: the rules in the schema (after 0014 made the tables).

- a number is used once per year and sequence (the number itself is unique since 0014), and it
  reads `<year>-<sequence>`; amounts are positive; a credit note names the invoice it corrects;
- an issued document and its deliveries are append-only, as the journal is: never changed,
  never removed, so the PDF and XML served are the ones issued;
- what a pledge's invoice claims is never negative.
CHECK constraints on PostgreSQL; on SQLite, triggers that abort the same inserts and updates.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T17:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "invoices: checks, one number per year and sequence, append-only documents"

# (table, name, condition on PostgreSQL, the same on SQLite, where a trigger reads the row as NEW)
CHECKS = [
    ("invoice", "invoice_amount_positive", "amount_cents > 0", "NEW.amount_cents > 0"),
    ("invoice", "invoice_sequence_positive", "sequence > 0", "NEW.sequence > 0"),
    (
        "invoice",
        "invoice_number_shape",
        "number = year::text || '-' || lpad(sequence::text, greatest(4, length(sequence::text)), '0')",
        "NEW.number = NEW.year || '-' || substr('0000' || NEW.sequence, -max(4, length(NEW.sequence)))",
    ),
    (
        "invoice",
        "invoice_kind_known",
        "(kind = 'invoice' AND corrects IS NULL) OR (kind = 'credit_note' AND corrects IS NOT NULL)",
        "(NEW.kind = 'invoice' AND NEW.corrects IS NULL) OR (NEW.kind = 'credit_note' AND NEW.corrects IS NOT NULL)",
    ),
    ("pledge", "pledge_billed_not_negative", "billed_cents >= 0", "NEW.billed_cents >= 0"),
]
HISTORY = ("invoice", "invoice_delivery")

COMMON = ["CREATE UNIQUE INDEX invoice_year_sequence ON invoice (year, sequence)"]

POSTGRES = [
    *[f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ({check})' for table, name, check, _ in CHECKS],
    *[
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()"
        for table in HISTORY
    ],
    *[
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()"
        for table in HISTORY
    ],
]

SQLITE = [
    *[
        f"CREATE TRIGGER {name}_{op.lower()} BEFORE {op} ON {table} WHEN NOT ({sqlite}) "
        f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
        for table, name, _, sqlite in CHECKS
        for op in ("INSERT", "UPDATE")
    ],
    *[
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'history is append-only: {op} on {table} is refused'); END"
        for table in HISTORY
        for op in ("UPDATE", "DELETE")
    ],
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in [*COMMON, *(POSTGRES if engine.engine_type == "postgres" else SQLITE)]:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
