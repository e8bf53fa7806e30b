"""`funding verify --checkpoint/--entry/--key`: a saved checkpoint catches history rewritten so
well that the chain, the monthly totals and the stored tree all check out again."""

from __future__ import annotations

import json

import pytest

from funding import db
from funding.ledger import merkle
from funding.ledger.chain import record_hash
from funding.ledger.log import LogService
from funding.ledger.notes import Signer
from funding.ledger.service import LedgerService
from tests.factories import book_contribution, open_chart
from tests.ledger.test_tampering import run_verify

HISTORY = {
    "sqlite": ["journal_entry", "posting", "merkle_node", "log_checkpoint"],
    "postgresql": ["journal_entry", "posting", "merkle_node", "log_checkpoint"],
}


@pytest.fixture
def signer() -> Signer:
    return Signer.generate("funding.test")


@pytest.fixture
async def saved(ledger: LedgerService, signer: Signer, tmp_path) -> tuple[str, str]:
    """Six entries, a checkpoint of them saved to a file, then three more entries; (file, key)."""
    await open_chart(ledger)
    for euros in range(1, 7):
        await book_contribution(ledger, euros * 100)
    issued = await LogService(signer).issue()
    assert issued is not None
    path = tmp_path / "checkpoint.txt"
    path.write_text(issued.note)
    for euros in range(7, 10):
        await book_contribution(ledger, euros * 100)
    await LogService(signer).issue()
    return str(path), str(signer.verifier)


async def test_a_grown_ledger_extends_its_saved_checkpoint(saved, database):
    checkpoint, key = saved
    result = run_verify("--checkpoint", checkpoint, "--key", key, "--entry", "4", database=database)
    assert result.exit_code == 0, result.output
    assert "intact: 9 entries" in result.output
    assert "the saved checkpoint (6 entries) matches" in result.output
    assert "consistency proof 6 → 9 entries verified" in result.output
    assert "entry 4 is in the tree of 9 entries" in result.output


async def test_a_checkpoint_needs_the_right_key(saved, database):
    checkpoint, _ = saved
    other = str(Signer.generate("funding.test").verifier)
    result = run_verify("--checkpoint", checkpoint, "--key", other, database=database)
    assert result.exit_code == 1 and "does not open" in result.output


async def _rewrite_history(ledger: LedgerService, backend: str, seq: int) -> None:
    """What an operator with the owner's rights could do: change entry `seq`'s description,
    rehash every entry after it, rebuild the whole tree, and drop the checkpoints issued."""
    engine = db.current_engine()
    for table in HISTORY[backend]:
        if backend == "postgresql":
            await engine.run_ddl(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only")
        else:
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_no_update")
            await engine.run_ddl(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    await engine.run_ddl(f"UPDATE journal_entry SET description = 'herschreven' WHERE seq = {seq}")
    entries = [entry async for entry in ledger.iter_entries()]
    prev = entries[seq - 2].hash if seq > 1 else "0" * 64
    compact_nodes: dict[merkle.Node, bytes] = {}
    for entry in entries:
        if entry.seq >= seq:
            fixed = type(entry)(**{**{f: getattr(entry, f) for f in entry.__struct_fields__}, "prev_hash": prev})
            new_hash = record_hash(fixed)
            await engine.run_ddl(
                f"UPDATE journal_entry SET prev_hash = '{prev}', hash = '{new_hash}' WHERE seq = {entry.seq}"
            )
            prev = new_hash
        else:
            prev = entry.hash
        compact_nodes.update(merkle.new_nodes(entry.seq - 1, merkle.leaf_hash(prev), compact_nodes))
    await engine.run_ddl("DELETE FROM merkle_node")
    await engine.run_ddl("DELETE FROM log_checkpoint")
    values = ", ".join(f"({level}, {position}, '{h.hex()}')" for (level, position), h in compact_nodes.items())
    await engine.run_ddl(f"INSERT INTO merkle_node (level, position, hash) VALUES {values}")


async def test_history_rewritten_and_rehashed_is_caught_by_a_saved_checkpoint(saved, ledger, database, backend):
    checkpoint, key = saved
    await _rewrite_history(ledger, backend, seq=3)
    assert (await ledger.verify()).ok, "the rewrite is complete: the chain alone cannot tell"
    assert run_verify(database=database).exit_code == 0
    result = run_verify("--checkpoint", checkpoint, "--key", key, database=database)
    assert result.exit_code == 1, result.output
    assert "history before seq 7 was rewritten" in result.output


async def test_a_rewritten_export_is_caught_by_a_saved_checkpoint(saved, ledger, client, backend, tmp_path):
    checkpoint, key = saved
    good = tmp_path / "ledger.json"
    good.write_bytes((await client.get("/ledger.json")).content)
    result = run_verify(str(good), "--checkpoint", checkpoint, "--key", key, "--entry", "2")
    assert result.exit_code == 0, result.output
    assert "the saved checkpoint (6 entries) matches" in result.output and "entry 2 is in" in result.output

    await _rewrite_history(ledger, backend, seq=5)
    bad = tmp_path / "rewritten.json"
    bad.write_text(json.dumps((await client.get("/ledger.json")).json(), indent=1))  # another layout too
    assert run_verify(str(bad)).exit_code == 0
    result = run_verify(str(bad), "--checkpoint", checkpoint, "--key", key)
    assert result.exit_code == 1 and "was rewritten" in result.output


async def test_entries_cut_off_after_a_checkpoint_are_named(saved, ledger, client, tmp_path):
    checkpoint, key = saved
    export = (await client.get("/ledger.json")).json()
    del export["entries"][4:]
    export["head_seq"], export["head_hash"] = 4, export["entries"][-1]["hash"]
    cut = tmp_path / "cut.json"
    cut.write_text(json.dumps(export))
    result = run_verify(str(cut), "--checkpoint", checkpoint, "--key", key)
    assert result.exit_code == 1 and "entries 5–6 were removed" in result.output


async def test_a_changed_tree_node_is_caught(saved, database, backend):
    engine = db.current_engine()
    if backend == "postgresql":
        await engine.run_ddl("ALTER TABLE merkle_node DISABLE TRIGGER merkle_node_append_only")
    else:
        await engine.run_ddl("DROP TRIGGER merkle_node_no_update")
    await engine.run_ddl(f"UPDATE merkle_node SET hash = '{'0' * 64}' WHERE level = 1 AND position = 0")
    result = run_verify(database=database)
    assert result.exit_code == 1 and "a tree node was changed" in result.output
