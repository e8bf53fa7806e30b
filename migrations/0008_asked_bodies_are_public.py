"""The public bodies funding rounds ask (gemeente, provincie, ministerie, waterschap) are never
anonymous in the registry.

A round's fair-share table lists every one of them, pledged or not; one that could be anonymous
would leave that list for the aggregated anonymous row when it pledged, and so be named by
elimination. Their money is public anyway (Wet open overheid). So the registry keeps them public
(`funding.organisations.tables.ALWAYS_PUBLIC`): a CHECK on PostgreSQL, triggers on SQLite (which
cannot add a CHECK to a table without rebuilding it), as 0007 does for its rules.

Rows the registry held as anonymous before are made public first: that is the decision, and a
pledge of theirs is named from now on whatever its `publish_name` says (`pledges.service.is_named`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the public bodies rounds ask are always public in the registry"

NAME = "organisation_asked_bodies_public"
KINDS = "('gemeente', 'provincie', 'ministerie', 'waterschap')"

COMMON = [f"UPDATE organisation SET is_public = true WHERE kind IN {KINDS} AND NOT is_public"]
POSTGRES = [f'ALTER TABLE "organisation" ADD CONSTRAINT "{NAME}" CHECK (is_public OR kind NOT IN {KINDS})']
SQLITE = [
    f"CREATE TRIGGER {NAME}_{op.lower()} BEFORE {op} ON organisation "
    f"WHEN NOT (NEW.is_public OR NEW.kind NOT IN {KINDS}) "
    f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {NAME}'); END"
    for op in ("INSERT", "UPDATE")
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in [*COMMON, *(POSTGRES if engine.engine_type == "postgres" else SQLITE)]:
            await engine.run_ddl(statement)

    manager.add_raw(run)
    return manager
