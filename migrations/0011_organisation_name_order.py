"""The fair-share table's order: organisations by name, then id (`pledges.service._PAGE`), read a
page at a time after a row (keyset pagination). An index in that order lets the database walk the
registry from the cursor instead of sorting all of it for every page."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T14:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "organisations in name order, for the fair-share table's pages"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        await engine_finder().run_ddl("CREATE INDEX organisation_name_id ON organisation (name, id)")

    manager.add_raw(run)
    return manager
