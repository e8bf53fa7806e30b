"""The committed migrations match the tables: no schema change is left unmigrated."""

import re

from piccolo.apps.migrations.commands.new import AutoMigrationManager

from funding.piccolo_app import APP_CONFIG
from funding.settings import ROOT


async def test_tables_and_migrations_do_not_drift():
    statements = await AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG)
    pending = [s.statements for s in statements if s.statements]
    assert pending == [], "run `piccolo migrations new funding --auto` and commit the migration"


async def test_every_committed_migration_is_applied_to_each_test_database(database):
    from piccolo.apps.migrations.tables import Migration

    committed = {
        re.search(r'^ID = "(.+)"$', path.read_text(), re.M).group(1) for path in (ROOT / "migrations").glob("*.py")
    }
    applied = {row["name"] for row in await Migration.select(Migration.name)}
    assert len(committed) >= 2 and applied == committed
