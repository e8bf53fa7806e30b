"""Staff sessions: a new one at each login, idle and absolute timeouts, logout, disabling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from funding.accounts.service import ABSOLUTE_TIMEOUT, IDLE_TIMEOUT, AccountService
from funding.accounts.tables import Role, StaffSession

PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, by: timedelta) -> None:
        self.now += by


async def logged_in(database) -> tuple[AccountService, Clock, str]:
    clock = Clock()
    accounts = AccountService(clock=clock)
    account = await accounts.create_user("beheer@example.nl", Role.admin, PASSWORD, actor="cli")
    return accounts, clock, await accounts.start_session(account, address="192.0.2.1")


async def test_a_session_ends_after_its_idle_time_and_activity_keeps_it_on(database):
    accounts, clock, token = await logged_in(database)
    for _ in range(4):
        clock.tick(IDLE_TIMEOUT - timedelta(minutes=1))
        assert await accounts.session_user(token) is not None, "each request counts as activity"
    clock.tick(IDLE_TIMEOUT + timedelta(seconds=1))
    assert await accounts.session_user(token) is None
    assert (await StaffSession.select(StaffSession.ended_at).first())["ended_at"] is not None


async def test_a_busy_session_still_ends_at_its_absolute_time(database):
    accounts, clock, token = await logged_in(database)
    while clock.now - datetime(2026, 12, 1, 9, tzinfo=UTC) < ABSOLUTE_TIMEOUT:
        assert await accounts.session_user(token) is not None
        clock.tick(timedelta(minutes=20))
    assert await accounts.session_user(token) is None


async def test_a_login_replaces_the_session_the_browser_had_and_logout_ends_it(database):
    accounts, _clock, first = await logged_in(database)
    account = await accounts.session_user(first)
    assert account is not None
    second = await accounts.start_session(account, address="192.0.2.1", replaces=first)
    assert second != first and await accounts.session_user(first) is None, "a planted token is worth nothing"
    assert (await accounts.session_user(second)).email == "beheer@example.nl"
    await accounts.end_session(second, address="192.0.2.1")
    assert await accounts.session_user(second) is None
    assert (await accounts.events(action="logout"))[0]["actor"] == "beheer@example.nl"
    stored = [row["token_sha256"] for row in await StaffSession.select(StaffSession.token_sha256)]
    assert first not in stored and second not in stored, "the table holds digests, not tokens"


async def test_disabling_an_account_ends_its_sessions(database):
    accounts, _clock, token = await logged_in(database)
    other = await accounts.create_user("kassier@example.nl", Role.treasurer, PASSWORD, actor="cli")
    theirs = await accounts.start_session(other, address="192.0.2.2")
    await accounts.disable(other.id, actor="beheer@example.nl")
    assert await accounts.session_user(theirs) is None
    assert await accounts.session_user(token) is not None
    assert await accounts.session_user("") is None and await accounts.session_user("x" * 500) is None
