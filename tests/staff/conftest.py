"""Staff users of every role, made with cheap argon2 parameters (real hashes, less costly)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from argon2 import PasswordHasher

from funding.accounts import service
from funding.accounts.service import AccountService
from funding.accounts.tables import Role
from funding.settings import Settings
from tests.pledges.conftest import clock, year

__all__ = ["clock", "year"]

PASSWORD = "correct horse battery"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The route × role test posts to every form as every role: more than a minute's rate limit."""
    return replace(settings, rate_limit_per_minute=10_000)


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    monkeypatch.setattr(service, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
async def staff_users(database: str) -> dict[Role, int]:
    """One user of each role: `<role>@example.nl`."""
    accounts = AccountService()
    return {
        role: (await accounts.create_user(f"{role.value}@example.nl", role, PASSWORD, actor="cli")).id for role in Role
    }


async def log_in(client, role: Role | str, password: str = PASSWORD):
    await client.get("/staff/login")
    return await client.post(
        "/staff/login",
        data={
            "_csrf_token": client.cookies["csrftoken"],
            "email": f"{Role(role).value}@example.nl",
            "password": password,
        },
        follow_redirects=False,
    )
