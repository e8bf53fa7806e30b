"""Staff users with cheap argon2 hashes, a programme year, a receipt store, and the service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher

from funding.accounts import service as account_service
from funding.accounts.service import AccountService
from funding.ledger.service import LedgerService
from funding.programme.service import ProgrammeService
from funding.spending.receipts import ReceiptStore
from funding.spending.service import SpendingService
from tests.factories import programme_year

NOW = datetime(2026, 6, 15, 10, tzinfo=UTC)
PASSWORD = "correct horse battery"
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(account_service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def receipts(tmp_path) -> ReceiptStore:
    return ReceiptStore(tmp_path / "receipts", max_bytes=1000)


@pytest.fixture
async def period(ledger: LedgerService) -> int:
    """2026, with `events` (EUR 18,000) and `magazine` (EUR 5,000)."""
    return await programme_year(ledger)


@pytest.fixture
def accounts(database: str) -> AccountService:
    return AccountService(clock=lambda: NOW)


@pytest.fixture
def spending(ledger, accounts, receipts) -> SpendingService:
    return SpendingService(ledger, ProgrammeService(ledger), accounts, receipts, lambda: NOW)


@pytest.fixture
async def staff(accounts: AccountService):
    """One account per role, and a second approver and treasurer, by name."""
    people = {}
    for name, role in [
        ("treasurer", "treasurer"),
        ("treasurer2", "treasurer"),
        ("approver", "approver"),
        ("approver2", "approver"),
        ("admin", "admin"),
        ("auditor", "auditor"),
    ]:
        people[name] = await accounts.create_user(f"{name}@example.nl", role, PASSWORD, actor="cli")
    return people
