"""`pledge_member` (0009): filled from the covers of the umbrella pledges standing now (an ended
one's covers were deleted before 0009, so its members are not known), and append-only like the
other histories (0007).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T14:10:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "pledge members from the standing covers; append-only"

COMMON = [
    "INSERT INTO pledge_member (pledge, organisation) "
    "SELECT c.pledge, c.organisation FROM pledge_cover c JOIN pledge p ON p.id = c.pledge "
    "WHERE c.organisation <> p.organisation ORDER BY c.id",
]
POSTGRES = [
    "CREATE TRIGGER pledge_member_append_only BEFORE UPDATE OR DELETE ON pledge_member "
    "FOR EACH ROW EXECUTE FUNCTION funding_refuse_change()",
    "CREATE TRIGGER pledge_member_no_truncate BEFORE TRUNCATE ON pledge_member "
    "FOR EACH STATEMENT EXECUTE FUNCTION funding_refuse_change()",
]
SQLITE = [
    f"CREATE TRIGGER pledge_member_no_{op.lower()} BEFORE {op} ON pledge_member "
    f"BEGIN SELECT RAISE(ABORT, 'history is append-only: {op} on pledge_member is refused'); END"
    for op in ("UPDATE", "DELETE")
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in [*COMMON, *(POSTGRES if engine.engine_type == "postgres" else SQLITE)]:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
