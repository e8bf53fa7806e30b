"""Spending: the rules in the schema (after 0020 made the tables).

- an amount is more than zero, a status and a receipt's type are known ones, a receipt is named by
  a SHA-256 (64 lower-case hex digits);
- four eyes: whoever approved or rejected an expense did not submit it, and the second approver
  of an override is neither of them; a decided expense names its decider, a booked one its entry;
- an expense's facts (payee, date, amount, line, description, receipt, submitter) never change
  once submitted, and an expense is never deleted; its history is append-only, as the journal is.
CHECK constraints and a trigger function on PostgreSQL; on SQLite, triggers that abort the same.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T19:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "spending: checks, four eyes, fixed facts, append-only history"

STATUSES = "('submitted', 'approved', 'rejected', 'paid', 'reversed')"
MEDIA_TYPES = "('application/pdf', 'image/png', 'image/jpeg')"
# (name, condition on PostgreSQL, the same on SQLite, where a trigger reads the row as NEW)
CHECKS = [
    ("expense_amount_positive", "amount_cents > 0", "NEW.amount_cents > 0"),
    ("expense_status_known", f"status IN {STATUSES}", f"NEW.status IN {STATUSES}"),
    ("expense_receipt_type_known", f"receipt_media_type IN {MEDIA_TYPES}", f"NEW.receipt_media_type IN {MEDIA_TYPES}"),
    (
        "expense_receipt_sha256_shape",
        "receipt_sha256 ~ '^[0-9a-f]{64}$'",
        "length(NEW.receipt_sha256) = 64 AND NEW.receipt_sha256 NOT GLOB '*[^0-9a-f]*'",
    ),
    (
        "expense_four_eyes",
        "decided_by IS NULL OR decided_by <> submitted_by",
        "NEW.decided_by IS NULL OR NEW.decided_by <> NEW.submitted_by",
    ),
    (
        "expense_override_by_a_third",
        "override_by IS NULL OR (decided_by IS NOT NULL AND override_by <> decided_by AND override_by <> submitted_by)",
        "NEW.override_by IS NULL OR (NEW.decided_by IS NOT NULL AND NEW.override_by <> NEW.decided_by "
        "AND NEW.override_by <> NEW.submitted_by)",
    ),
    (
        "expense_decided_and_booked",
        "(status = 'submitted' AND decided_by IS NULL AND approved_seq IS NULL) "
        "OR (status = 'rejected' AND decided_by IS NOT NULL AND approved_seq IS NULL) "
        "OR (status IN ('approved', 'paid', 'reversed') AND decided_by IS NOT NULL AND approved_seq IS NOT NULL)",
        "(NEW.status = 'submitted' AND NEW.decided_by IS NULL AND NEW.approved_seq IS NULL) "
        "OR (NEW.status = 'rejected' AND NEW.decided_by IS NOT NULL AND NEW.approved_seq IS NULL) "
        "OR (NEW.status IN ('approved', 'paid', 'reversed') AND NEW.decided_by IS NOT NULL "
        "AND NEW.approved_seq IS NOT NULL)",
    ),
    (
        "expense_paid_is_booked",
        "(status <> 'paid' OR paid_seq IS NOT NULL) AND (status <> 'reversed' OR reversal_seq IS NOT NULL)",
        "(NEW.status <> 'paid' OR NEW.paid_seq IS NOT NULL) AND (NEW.status <> 'reversed' OR NEW.reversal_seq IS NOT NULL)",
    ),
]
FIXED = (
    "payee",
    "occurred_on",
    "amount_cents",
    "period",
    "budget_line",
    "description",
    "receipt_sha256",
    "receipt_media_type",
    "receipt_size",
    "receipt_filename",
    "submitted_by",
    "submitted_at",
)
CHANGED = " OR ".join(f"NEW.{column} IS DISTINCT FROM OLD.{column}" for column in FIXED)

POSTGRES = [
    *[f'ALTER TABLE "expense" ADD CONSTRAINT "{name}" CHECK ({check})' for name, check, _ in CHECKS],
    f"""
    CREATE FUNCTION funding_expense_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF {CHANGED} THEN
            RAISE EXCEPTION 'an expense''s facts are fixed once submitted: reject or reverse it instead'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER expense_facts_fixed BEFORE UPDATE ON expense FOR EACH ROW EXECUTE FUNCTION funding_expense_fixed()",
    "CREATE TRIGGER expense_no_delete BEFORE DELETE ON expense FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
    "CREATE TRIGGER expense_event_append_only BEFORE UPDATE OR DELETE ON expense_event "
    "FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
    *[
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()"
        for table in ("expense", "expense_event")
    ],
]
SQLITE = [
    *[
        f"CREATE TRIGGER {name}_{op.lower()} BEFORE {op} ON expense WHEN NOT ({sqlite}) "
        f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
        for name, _, sqlite in CHECKS
        for op in ("INSERT", "UPDATE")
    ],
    f"CREATE TRIGGER expense_facts_fixed BEFORE UPDATE ON expense WHEN {CHANGED.replace('IS DISTINCT FROM', 'IS NOT')} "
    "BEGIN SELECT RAISE(ABORT, 'an expense''s facts are fixed once submitted: reject or reverse it instead'); END",
    "CREATE TRIGGER expense_no_delete BEFORE DELETE ON expense "
    "BEGIN SELECT RAISE(ABORT, 'an expense is kept: DELETE on expense is refused'); END",
    *[
        f"CREATE TRIGGER expense_event_no_{op.lower()} BEFORE {op} ON expense_event "
        f"BEGIN SELECT RAISE(ABORT, 'history is append-only: {op} on expense_event is refused'); END"
        for op in ("UPDATE", "DELETE")
    ],
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in POSTGRES if engine.engine_type == "postgres" else SQLITE:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
