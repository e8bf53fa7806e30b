"""Staff accounts: creating them, logging in with a throttle, roles, disabling, and the audit trail.

Passwords are hashed with argon2id (argon2-cffi), in a worker thread: a hash takes tens of
milliseconds of CPU that the event loop must not wait for. Logging in counts failures per account
and per client address in a Litestar store, Redis when `REDIS_URL` is set, so every app process
counts the same; after `MAX_FAILURES` the account (or the address) is locked for `LOCKED_FOR`,
right password or not. Every refusal says the same thing, whether the account exists or not, and
an unknown account costs a hash too, so neither the words nor the time tell them apart.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore

from funding.accounts.tables import AuditEvent, Role, StaffSession, StaffUser
from funding.db import as_datetime, write_transaction
from funding.i18n import _

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
"""Longer is refused before hashing: a megabyte of password is an attack, not a password."""
MAX_FAILURES = 5
"""Failed logins an account or an address may have within `LOCKED_FOR` before it is locked."""
MAX_ADDRESS_FAILURES = 20
LOCKED_FOR = timedelta(minutes=15)
IDLE_TIMEOUT = timedelta(minutes=30)
"""A session that saw no request for this long has ended."""
ABSOLUTE_TIMEOUT = timedelta(hours=10)
"""A session ends this long after its login, however busy: a working day, then log in again."""
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_hasher = PasswordHasher()
_unknown: dict[int, str] = {}


def _unknown_hash() -> str:
    """Verified against when the account is unknown, so that costs what a wrong password costs:
    made once, by the hasher the accounts' hashes are made with."""
    if id(_hasher) not in _unknown:
        _unknown[id(_hasher)] = _hasher.hash("an account that does not exist")
    return _unknown[id(_hasher)]


class AccountError(ValueError):
    """Bad input for an account (the message says what; nothing was written); `field` names it."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class LoginRefused(AccountError):
    """Wrong e-mail or password, a disabled account, or a lock: said the same way for each."""


class AccountNotFound(AccountError):
    pass


@dataclass(frozen=True)
class StaffAccount:
    id: int
    email: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None
    has_second_factor: bool

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class AccountService:
    def __init__(self, store: Store | None = None, *, clock: Callable[[], datetime] | None = None) -> None:
        self.store = store or MemoryStore()
        self.clock = clock or (lambda: datetime.now(UTC))

    # -- accounts -----------------------------------------------------------------------------
    async def create_user(
        self, email: str, role: Role | str, password: str, *, actor: str, address: str = ""
    ) -> StaffAccount:
        email = normalised(email)
        if not _EMAIL.fullmatch(email) or len(email) > 254:
            raise AccountError(_("Enter an e-mail address like name@example.nl."), "email")
        role = _role(role)
        _check_password(password)
        password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
        async with write_transaction():
            if await StaffUser.exists().where(StaffUser.email == email):
                raise AccountError(_("There is a staff account with this e-mail address already."), "email")
            rows = await StaffUser.insert(
                StaffUser(
                    email=email,
                    role=role.value,
                    password_hash=password_hash,
                    totp_secret=None,
                    created_at=self.clock(),
                    disabled_at=None,
                )
            )
            await self.audit(actor, "user_created", f"user:{rows[0]['id']}", f"{email} as {role.value}", address)
        return await self.get(rows[0]["id"])

    async def get(self, user_id: int) -> StaffAccount:
        row = await StaffUser.select().where(StaffUser.id == user_id).first()
        if row is None:
            raise AccountNotFound(_("There is no staff account with this number."))
        return _account(row)

    async def users(self) -> list[StaffAccount]:
        return [_account(row) for row in await StaffUser.select().order_by(StaffUser.email)]

    async def change_role(self, user_id: int, role: Role | str, *, actor: str, address: str = "") -> StaffAccount:
        role = _role(role)
        async with write_transaction():
            before = await self.get(user_id)
            if before.role is role:
                return before
            await StaffUser.update({StaffUser.role: role.value}).where(StaffUser.id == user_id)
            await self.audit(actor, "role_changed", f"user:{user_id}", f"{before.role.value} → {role.value}", address)
        return await self.get(user_id)

    async def disable(self, user_id: int, *, actor: str, address: str = "") -> StaffAccount:
        """The account can no longer log in; it and what it did stay readable (never deleted)."""
        async with write_transaction():
            before = await self.get(user_id)
            if not before.is_active:
                return before
            await StaffUser.update({StaffUser.disabled_at: self.clock()}).where(StaffUser.id == user_id)
            await StaffSession.update({StaffSession.ended_at: self.clock()}).where(
                (StaffSession.user == user_id) & StaffSession.ended_at.is_null()
            )
            await self.audit(actor, "user_disabled", f"user:{user_id}", before.email, address)
        return await self.get(user_id)

    # -- logging in ---------------------------------------------------------------------------
    async def authenticate(self, email: str, password: str, *, address: str) -> StaffAccount:
        """The account, if `password` is its password and neither it nor `address` is locked."""
        email = normalised(email)
        refused = LoginRefused(
            _(
                "The e-mail address or password is not right, or the account is locked for a while "
                "after too many attempts."
            )
        )
        keys = (f"login:account:{email}", f"login:address:{address}")
        counts = [await self._failures(key) for key in keys]
        row = await StaffUser.select().where(StaffUser.email == email).first() if len(email) <= 254 else None
        locked = counts[0] >= MAX_FAILURES or counts[1] >= MAX_ADDRESS_FAILURES
        good = len(password) <= MAX_PASSWORD and await anyio.to_thread.run_sync(
            _verified, row["password_hash"] if row else _unknown_hash(), password
        )
        if locked or not good or row is None or row["disabled_at"] is not None:
            if not locked:
                for key in keys:
                    await self._fail(key)
            await self.audit(
                email[:254], "login_failed", f"user:{row['id']}" if row else "", _why(locked, row), address
            )
            raise refused
        await self.store.delete(keys[0])
        await self.audit(email, "login", f"user:{row['id']}", "", address)
        return _account(row)

    async def _failures(self, key: str) -> int:
        value = await self.store.get(key)
        return int(value) if value else 0

    async def _fail(self, key: str) -> None:
        count = await self._failures(key) + 1
        await self.store.set(key, str(count), expires_in=int(LOCKED_FOR.total_seconds()))

    # -- sessions -----------------------------------------------------------------------------
    async def start_session(self, account: StaffAccount, *, address: str, replaces: str | None = None) -> str:
        """A new session for a login, and its token for the cookie: always a new one, so a token
        planted before the login (session fixation) is worth nothing; the session the browser
        had, if any, ends."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        async with write_transaction():
            if replaces:
                await self._end(replaces, now)
            await StaffSession.insert(
                StaffSession(
                    token_sha256=_digest(token),
                    user=account.id,
                    started_at=now,
                    seen_at=now,
                    ended_at=None,
                    address=address[:45],
                )
            )
        return token

    async def session_user(self, token: str) -> StaffAccount | None:
        """The staff user whose session `token` is, if it is still on: not ended, not idle for
        longer than `IDLE_TIMEOUT`, not older than `ABSOLUTE_TIMEOUT`, the account not disabled.
        Every request that finds it counts as activity."""
        if not token or len(token) > 100:
            return None
        row = (
            await StaffSession.select(StaffSession.id, StaffSession.started_at, StaffSession.seen_at, StaffSession.user)
            .where((StaffSession.token_sha256 == _digest(token)) & StaffSession.ended_at.is_null())
            .first()
        )
        if row is None:
            return None
        now = self.clock()
        if (
            now - as_datetime(row["seen_at"]) >= IDLE_TIMEOUT
            or now - as_datetime(row["started_at"]) >= ABSOLUTE_TIMEOUT
        ):
            await StaffSession.update({StaffSession.ended_at: now}).where(StaffSession.id == row["id"])
            return None
        account = await self.get(row["user"])
        if not account.is_active:
            return None
        await StaffSession.update({StaffSession.seen_at: now}).where(StaffSession.id == row["id"])
        return account

    async def end_session(self, token: str, *, address: str = "") -> None:
        """Log out: the session ends (its row stays, as a record)."""
        account = await self.session_user(token)
        await self._end(token, self.clock())
        if account:
            await self.audit(account.email, "logout", f"user:{account.id}", "", address)

    async def _end(self, token: str, now: datetime) -> None:
        await StaffSession.update({StaffSession.ended_at: now}).where(
            (StaffSession.token_sha256 == _digest(token)) & StaffSession.ended_at.is_null()
        )

    # -- the audit trail ----------------------------------------------------------------------
    async def audit(self, actor: str, action: str, subject: str, detail: str = "", address: str = "") -> None:
        await AuditEvent.insert(
            AuditEvent(
                at=self.clock(),
                actor=actor[:254],
                action=action[:40],
                subject=subject[:200],
                detail=detail[:2000],
                address=address[:45],
            )
        )

    async def events(self, *, actor: str | None = None, action: str | None = None, limit: int = 100) -> list[dict]:
        """The audit trail, newest first, filtered by who and what."""
        query = AuditEvent.select().order_by(AuditEvent.id, ascending=False).limit(min(max(limit, 1), 500))
        if actor:
            query = query.where(AuditEvent.actor == normalised(actor))
        if action:
            query = query.where(AuditEvent.action == action)
        return [{**row, "at": as_datetime(row["at"])} for row in await query]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalised(email: str) -> str:
    return email.strip().lower()


def _role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise AccountError(
            _("A role is one of: %(roles)s.") % {"roles": ", ".join(r.value for r in Role)}, "role"
        ) from None


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(_("A password has at least 12 characters."), "password")
    if len(password) > MAX_PASSWORD:
        raise AccountError(_("A password has at most 1024 characters."), "password")


def _verified(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _why(locked: bool, row: dict | None) -> str:
    """For the audit trail only (the person logging in is told none of it)."""
    if locked:
        return "locked"
    if row is None:
        return "unknown account"
    return "disabled" if row["disabled_at"] is not None else "wrong password"


def _account(row: dict) -> StaffAccount:
    return StaffAccount(
        id=row["id"],
        email=row["email"],
        role=Role(row["role"]),
        created_at=as_datetime(row["created_at"]),
        disabled_at=as_datetime(row["disabled_at"]) if row["disabled_at"] else None,
        has_second_factor=bool(row["totp_secret"]),
    )
