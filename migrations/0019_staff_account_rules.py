"""Staff accounts: the rules in the schema (after 0018 made the tables).

- a role is one of the four; a staff user is never deleted (disabled, its history stays readable);
- the audit trail is append-only, as the journal is.
CHECK constraints on PostgreSQL; on SQLite, triggers that abort the same inserts and updates.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T19:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "staff accounts: known roles, never deleted; an append-only audit trail"

ROLES = "role IN ('admin', 'treasurer', 'approver', 'auditor')"
POSTGRES = [
    f'ALTER TABLE "staff_user" ADD CONSTRAINT "staff_user_role_known" CHECK ({ROLES})',
    'ALTER TABLE "staff_user" ADD CONSTRAINT "staff_user_email_lower" CHECK (email = lower(email))',
    "CREATE TRIGGER staff_user_no_delete BEFORE DELETE ON staff_user FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
    "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event "
    "FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
    *[
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()"
        for table in ("staff_user", "audit_event")
    ],
]
SQLITE = [
    *[
        f"CREATE TRIGGER staff_user_role_known_{op.lower()} BEFORE {op} ON staff_user "
        f"WHEN NOT (NEW.{ROLES} AND NEW.email = lower(NEW.email)) "
        "BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: staff_user_role_known'); END"
        for op in ("INSERT", "UPDATE")
    ],
    "CREATE TRIGGER staff_user_no_delete BEFORE DELETE ON staff_user "
    "BEGIN SELECT RAISE(ABORT, 'a staff user is kept: DELETE on staff_user is refused'); END",
    *[
        f"CREATE TRIGGER audit_event_no_{op.lower()} BEFORE {op} ON audit_event "
        f"BEGIN SELECT RAISE(ABORT, 'history is append-only: {op} on audit_event is refused'); END"
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
