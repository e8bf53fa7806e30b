"""Mollie payments: the rules in the schema (after 0012 made the tables).

- an attempt number is used once per pledge; amounts are positive and in euros; Mollie's ids
  have their prefixes;
- what a payment booked is append-only, as the journal is: a booking is never changed or
  removed, and its unique key (also in 0012) is what books a webhook delivered twice once;
- a payment attempt is never deleted (its status moves on, its row stays).
CHECK constraints on PostgreSQL; on SQLite, triggers that abort the same inserts and updates.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T15:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "mollie payments: checks, one attempt number per pledge, append-only bookings"

# (table, name, condition on PostgreSQL, the same on SQLite, where a trigger reads the row as NEW)
CHECKS = [
    ("mollie_payment", "mollie_payment_amount_positive", "amount_cents > 0", "NEW.amount_cents > 0"),
    ("mollie_payment", "mollie_payment_in_euros", "currency = 'EUR'", "NEW.currency = 'EUR'"),
    ("mollie_payment", "mollie_payment_attempt_positive", "attempt > 0", "NEW.attempt > 0"),
    ("mollie_payment", "mollie_payment_id_shape", "mollie_id LIKE 'tr\\_%'", "NEW.mollie_id GLOB 'tr_*'"),
    (
        "mollie_booking",
        "mollie_booking_object_shape",
        "object_id LIKE 'tr\\_%' OR object_id LIKE 're\\_%' OR object_id LIKE 'chb\\_%'",
        "NEW.object_id GLOB 'tr_*' OR NEW.object_id GLOB 're_*' OR NEW.object_id GLOB 'chb_*'",
    ),
    ("mollie_booking", "mollie_booking_amount_not_zero", "amount_cents <> 0", "NEW.amount_cents <> 0"),
    ("refund_request", "refund_request_amount_positive", "amount_cents > 0", "NEW.amount_cents > 0"),
]
HISTORY = ("mollie_booking",)

COMMON = ["CREATE UNIQUE INDEX mollie_payment_pledge_attempt ON mollie_payment (pledge, attempt)"]

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
        for table in (*HISTORY, "mollie_payment")
    ],
    "CREATE TRIGGER mollie_payment_no_delete BEFORE DELETE ON mollie_payment "
    "FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
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
    "CREATE TRIGGER mollie_payment_no_delete BEFORE DELETE ON mollie_payment "
    "BEGIN SELECT RAISE(ABORT, 'a payment attempt is kept: DELETE on mollie_payment is refused'); END",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in [*COMMON, *(POSTGRES if engine.engine_type == "postgres" else SQLITE)]:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
