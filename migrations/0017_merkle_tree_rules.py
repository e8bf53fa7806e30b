"""The Merkle tree, the checkpoints and their cosignatures are history, append-only as the journal is.

- Triggers refuse UPDATE and DELETE on `merkle_node`, `log_checkpoint` and `log_cosignature` (and TRUNCATE on
  PostgreSQL), with the journal's own `funding_refuse_change`, so `grant_app_role` revokes the
  app's UPDATE and DELETE on them as it does on the journal's.
- One node per level and position, one cosignature per witness and checkpoint (unique indexes);
  on SQLite an insert that would replace a row (INSERT OR REPLACE) is refused before SQLite can
  delete the old row.
- The tree of the entries booked before this migration is built here, from their hashes, so
  every database has the tree of all its entries.
"""

import hashlib

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-01T18:00:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "merkle tree, checkpoints, cosignatures: append-only, one node per place, the tree of earlier entries"

HISTORY = ("merkle_node", "log_checkpoint", "log_cosignature")

COMMON = [
    "CREATE UNIQUE INDEX merkle_node_level_position ON merkle_node (level, position)",
    "CREATE UNIQUE INDEX log_cosignature_size_witness ON log_cosignature (tree_size, witness)",
]

POSTGRES = [
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
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, 'the log is append-only: {op} on {table} is refused'); END"
        for table in HISTORY
        for op in ("UPDATE", "DELETE")
    ],
    "CREATE TRIGGER merkle_node_no_replace BEFORE INSERT ON merkle_node "
    "WHEN EXISTS (SELECT 1 FROM merkle_node WHERE id = NEW.id OR (level = NEW.level AND position = NEW.position)) "
    "BEGIN SELECT RAISE(ABORT, 'the log is append-only: an insert may not replace a tree node'); END",
    "CREATE TRIGGER log_checkpoint_no_replace BEFORE INSERT ON log_checkpoint "
    "WHEN EXISTS (SELECT 1 FROM log_checkpoint WHERE id = NEW.id OR tree_size = NEW.tree_size) "
    "BEGIN SELECT RAISE(ABORT, 'the log is append-only: an insert may not replace a checkpoint'); END",
    "CREATE TRIGGER log_cosignature_no_replace BEFORE INSERT ON log_cosignature "
    "WHEN EXISTS (SELECT 1 FROM log_cosignature WHERE id = NEW.id OR (tree_size = NEW.tree_size AND witness = NEW.witness)) "
    "BEGIN SELECT RAISE(ABORT, 'the log is append-only: an insert may not replace a cosignature'); END",
]

BATCH = 5_000


def _nodes(hashes):
    """(level, position, hex hash) of every complete subtree over the leaves of `hashes` (the
    entries' hashes in seq order), as RFC 9162 defines them (funding.ledger.merkle, written out
    here so this migration stays as it was applied)."""
    edge = []
    for index, entry_hash in enumerate(hashes):
        current = hashlib.sha256(b"\x00" + bytes.fromhex(entry_hash)).digest()
        yield 0, index, current.hex()
        level = 0
        while (index >> level) & 1:
            current = hashlib.sha256(b"\x01" + edge.pop() + current).digest()
            level += 1
            yield level, index >> level, current.hex()
        edge.append(current)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="funding", description=DESCRIPTION)

    async def run():
        engine = engine_finder()
        for statement in [*COMMON, *(POSTGRES if engine.engine_type == "postgres" else SQLITE)]:
            await engine.run_ddl(statement)
        rows = await engine.run_ddl("SELECT hash FROM journal_entry ORDER BY seq")
        nodes = list(_nodes(row["hash"] for row in rows))
        for start in range(0, len(nodes), BATCH):
            values = ", ".join(
                f"({level}, {position}, '{digest}')" for level, position, digest in nodes[start : start + BATCH]
            )
            await engine.run_ddl(f"INSERT INTO merkle_node (level, position, hash) VALUES {values}")

    manager.add_raw(run)
    return manager
