"""Rounds and pledges: the rules in the schema.

The rules the pledge service relies on, said by the database too (after 0006 made the tables:
Piccolo runs a migration's raw SQL before its table changes):
- an organisation is covered at most once per round (unique round + organisation), directly or
  by an umbrella pledge, so two pledges for one organisation cannot both stand;
- amounts are positive, a round closes on or after it opens, references are creditor
  references, an in-kind pledge names its budget line; the registry's identifiers have their
  official shapes (CBS `GM` + 4 digits, OIN 20 digits, KvK 8 digits). CHECK constraints on
  PostgreSQL; on SQLite, whose tables cannot gain a CHECK without a rebuild, triggers that
  abort the same inserts and updates;
- a round's and a pledge's history are append-only (refused UPDATE and DELETE, as the journal's);
- rounds, pledges and the registry are public in aggregate: their changes move the response
  cache's data version (NOTIFY on PostgreSQL, counters on SQLite, as in 0002 and 0004).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T12:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rounds and pledges: checks, one cover per organisation, append-only history, data versions"

# (table, name, condition on PostgreSQL, the same on SQLite, where a trigger reads the row as NEW);
# a NULL passes, as in a CHECK.
CHECKS = [
    ("funding_round", "funding_round_target_positive", "target_cents > 0", "NEW.target_cents > 0"),
    ("funding_round", "funding_round_closes_after_opening", "closes_on >= opens_on", "NEW.closes_on >= NEW.opens_on"),
    ("pledge", "pledge_amount_positive", "amount_cents > 0", "NEW.amount_cents > 0"),
    ("pledge", "pledge_paid_not_negative", "paid_cents >= 0", "NEW.paid_cents >= 0"),
    ("pledge", "pledge_reference_rf", "reference LIKE 'RF%'", "NEW.reference LIKE 'RF%'"),
    (
        "pledge",
        "pledge_in_kind_names_line",
        "form = 'cash' OR budget_line <> ''",
        "NEW.form = 'cash' OR NEW.budget_line <> ''",
    ),
    ("pledge_cover", "pledge_cover_share_not_negative", "share_cents >= 0", "NEW.share_cents >= 0"),
    (
        "organisation",
        "organisation_cbs_code_shape",
        "cbs_code ~ '^GM[0-9]{4}$'",
        "NEW.cbs_code GLOB 'GM[0-9][0-9][0-9][0-9]'",
    ),
    (
        "organisation",
        "organisation_oin_shape",
        "oin ~ '^[0-9]{20}$'",
        "length(NEW.oin) = 20 AND NEW.oin NOT GLOB '*[^0-9]*'",
    ),
    (
        "organisation",
        "organisation_kvk_shape",
        "kvk ~ '^[0-9]{8}$'",
        "length(NEW.kvk) = 8 AND NEW.kvk NOT GLOB '*[^0-9]*'",
    ),
    ("organisation", "organisation_population_not_negative", "population >= 0", "NEW.population >= 0"),
]
HISTORY = ("round_event", "pledge_event")
PUBLIC_TABLES = ("organisation", "funding_round", "pledge", "pledge_cover")

COMMON = ["CREATE UNIQUE INDEX pledge_cover_round_organisation ON pledge_cover (round, organisation)"]

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
    *[
        f"CREATE TRIGGER {table}_notify_public AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION funding_notify_public()"
        for table in PUBLIC_TABLES
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
    "INSERT INTO data_version (name) VALUES " + ", ".join(f"('{table}')" for table in PUBLIC_TABLES),
    *[
        f"CREATE TRIGGER {table}_data_version_{op.lower()} AFTER {op} ON {table} "
        f"BEGIN UPDATE data_version SET version = version + 1 WHERE name = '{table}'; END"
        for table in PUBLIC_TABLES
        for op in ("INSERT", "UPDATE", "DELETE")
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
