"""Staff accounts through the service, on the backend under test: creating, logging in with its
throttle and lock, roles, disabling, and the audit trail the database keeps append-only."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid

import pytest
from litestar.stores.redis import RedisStore

from funding.accounts.service import (
    MAX_ADDRESS_FAILURES,
    MAX_FAILURES,
    AccountError,
    AccountService,
    LoginRefused,
)
from funding.accounts.tables import AuditEvent, Role, StaffUser
from funding.i18n import gettext, use_locale
from funding.settings import ROOT
from tests.web.test_rate_limit import REDIS_URL, redis  # noqa: F401 (fixture)

PASSWORD = "correct horse battery"
HERE = "192.0.2.10"


def said(message: str) -> str:
    with use_locale("nl"):
        return re.escape(gettext(message))


REFUSED = said(
    "The e-mail address or password is not right, or the account is locked for a while after too many attempts."
)


@pytest.fixture
def accounts(database: str) -> AccountService:
    return AccountService()


async def test_an_account_is_made_with_an_argon2_hash_and_bad_input_is_refused(accounts):
    account = await accounts.create_user(" Penningmeester@Example.NL ", "treasurer", PASSWORD, actor="cli")
    assert (account.email, account.role, account.is_active) == ("penningmeester@example.nl", Role.treasurer, True)
    stored = await StaffUser.select(StaffUser.password_hash).first()
    assert stored["password_hash"].startswith("$argon2id$") and PASSWORD not in stored["password_hash"]
    cases = [
        ("someone@example.nl", "admin", "too short", "password"),
        ("not an address", "admin", PASSWORD, "email"),
        ("someone@example.nl", "owner", PASSWORD, "role"),
        ("PENNINGMEESTER@example.nl", "auditor", PASSWORD, "email"),
    ]
    for email, role, password, field in cases:
        with pytest.raises(AccountError) as refused:
            await accounts.create_user(email, role, password, actor="cli")
        assert refused.value.field == field
    assert await StaffUser.count() == 1


async def test_logging_in_refuses_alike_and_locks_after_repeated_failures(accounts):
    await accounts.create_user("penningmeester@example.nl", Role.treasurer, PASSWORD, actor="cli")
    assert (await accounts.authenticate("Penningmeester@example.nl", PASSWORD, address=HERE)).role is Role.treasurer
    for email, password in [("penningmeester@example.nl", "wrong password!"), ("niemand@example.nl", PASSWORD)]:
        with pytest.raises(LoginRefused, match=REFUSED):
            await accounts.authenticate(email, password, address=HERE)
    for _ in range(MAX_FAILURES - 1):
        with pytest.raises(LoginRefused):
            await accounts.authenticate("penningmeester@example.nl", "wrong password!", address=HERE)
    with pytest.raises(LoginRefused, match=REFUSED):
        await accounts.authenticate("penningmeester@example.nl", PASSWORD, address="198.51.100.7")
    failed = [e["detail"] for e in await accounts.events(action="login_failed")]
    assert failed[0] == "locked" and "wrong password" in failed and "unknown account" in failed


async def test_an_address_that_tries_many_accounts_is_locked(accounts):
    await accounts.create_user("controleur@example.nl", Role.auditor, PASSWORD, actor="cli")
    for n in range(MAX_ADDRESS_FAILURES):
        with pytest.raises(LoginRefused):
            await accounts.authenticate(f"gok{n}@example.nl", PASSWORD, address=HERE)
    with pytest.raises(LoginRefused):
        await accounts.authenticate("controleur@example.nl", PASSWORD, address=HERE)
    assert (await accounts.authenticate("controleur@example.nl", PASSWORD, address="198.51.100.7")).email


async def test_roles_change_and_a_disabled_account_cannot_log_in_but_stays(accounts):
    admin = await accounts.create_user("beheer@example.nl", Role.admin, PASSWORD, actor="cli")
    user = await accounts.create_user("fiatteur@example.nl", Role.approver, PASSWORD, actor=admin.email)
    assert (await accounts.change_role(user.id, "treasurer", actor=admin.email, address=HERE)).role is Role.treasurer
    disabled = await accounts.disable(user.id, actor=admin.email, address=HERE)
    assert not disabled.is_active
    with pytest.raises(LoginRefused):
        await accounts.authenticate("fiatteur@example.nl", PASSWORD, address=HERE)
    assert [u.email for u in await accounts.users()] == ["beheer@example.nl", "fiatteur@example.nl"]
    trail = [(e["actor"], e["action"], e["subject"]) for e in reversed(await accounts.events())]
    assert trail == [
        ("cli", "user_created", f"user:{admin.id}"),
        ("beheer@example.nl", "user_created", f"user:{user.id}"),
        ("beheer@example.nl", "role_changed", f"user:{user.id}"),
        ("beheer@example.nl", "user_disabled", f"user:{user.id}"),
        ("fiatteur@example.nl", "login_failed", f"user:{user.id}"),
    ]
    assert (await accounts.events(actor="Beheer@example.nl", limit=1))[0]["action"] == "user_disabled"
    assert (await accounts.events())[0]["address"] == HERE


async def test_the_database_keeps_users_and_the_audit_trail(accounts):
    await accounts.create_user("beheer@example.nl", Role.admin, PASSWORD, actor="cli")
    for statement in (
        StaffUser.delete().where(StaffUser.id > 0),
        AuditEvent.update({AuditEvent.detail: "nothing happened"}).where(AuditEvent.id > 0),
        AuditEvent.delete().where(AuditEvent.id > 0),
        StaffUser.update({StaffUser.role: "owner"}).where(StaffUser.id > 0),
    ):
        with pytest.raises(Exception, match=r"refused|append-only|CHECK|check constraint"):
            await statement
    assert await AuditEvent.count() == 1 and await StaffUser.count() == 1


async def test_with_redis_every_process_counts_the_same_failures(database, redis):  # noqa: F811
    namespace = f"funding-test-{uuid.uuid4().hex}"
    first, second = (AccountService(RedisStore.with_client(url=REDIS_URL, namespace=namespace)) for _ in range(2))
    await first.create_user("penningmeester@example.nl", Role.treasurer, PASSWORD, actor="cli")
    for service in [first, second] * MAX_FAILURES:
        with pytest.raises(LoginRefused):
            await service.authenticate("penningmeester@example.nl", "wrong password!", address=HERE)
    failed = [e["detail"] for e in await first.events(action="login_failed")]
    assert failed.count("locked") == MAX_FAILURES, "the fifth failure, in either process, locked it for both"


def test_funding_users_create_takes_the_password_from_the_environment(database):
    env = {**os.environ, "DATABASE_URL": database, "FUNDING_NEW_PASSWORD": PASSWORD}
    made = subprocess.run(
        [sys.executable, "-m", "funding", "users", "create", "--email", "beheer@example.nl", "--role", "admin"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stderr
    assert re.search(r"staff account \d+: beheer@example.nl, admin", made.stdout)
    env["FUNDING_NEW_PASSWORD"] = "short"
    refused = subprocess.run(
        [sys.executable, "-m", "funding", "users", "create", "--email", "b@example.nl", "--role", "admin"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and refused.stderr.strip()
