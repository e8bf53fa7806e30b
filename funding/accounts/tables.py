"""Staff accounts and the audit trail of what staff do. Private: never in the public journal.

A staff user is never deleted (migration 0019 refuses it): disabled, its history stays readable.
The audit trail is append-only, as the journal is."""

from enum import StrEnum

from piccolo.columns import ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.table import Table

from funding.pledges.tables import KEPT, OPTIONAL, REQUIRED


class Role(StrEnum):
    admin = "admin"
    """Manages staff accounts; does what a treasurer does."""
    treasurer = "treasurer"
    """Records spending, reconciles payments, corrects by reversal."""
    approver = "approver"
    """Approves or rejects spending someone else recorded (four eyes)."""
    auditor = "auditor"
    """Reads everything, changes nothing."""


class StaffUser(Table):
    id: Serial
    email = Varchar(length=254, unique=True, help_text="Lower case: the login name", **REQUIRED)
    role = Varchar(length=12, choices=Role, **REQUIRED)
    password_hash = Varchar(length=200, help_text="argon2id, with its parameters and salt", **REQUIRED)
    totp_secret = Varchar(length=64, help_text="Base32 secret of the second factor, once set up", **OPTIONAL)
    created_at = Timestamptz(**REQUIRED)
    disabled_at = Timestamptz(help_text="Set: the account cannot log in (it is never deleted)", **OPTIONAL)


class StaffSession(Table):
    """A logged-in browser. Its cookie holds a random token; the table only its SHA-256, so a copy
    of the database logs nobody in. Shared by every app process; ended, it stays as a record."""

    id: Serial
    token_sha256 = Varchar(length=64, unique=True, **REQUIRED)
    user = ForeignKey(references=StaffUser, index=True, **REQUIRED, **KEPT)
    started_at = Timestamptz(**REQUIRED)
    seen_at = Timestamptz(help_text="The last request: idle longer than the idle timeout ends it", **REQUIRED)
    ended_at = Timestamptz(help_text="Logged out, timed out, or replaced at the next login", **OPTIONAL)
    address = Varchar(length=45, **REQUIRED)


class AuditEvent(Table):
    """Who did what, when, from where (append-only)."""

    id: Serial
    at = Timestamptz(**REQUIRED)
    actor = Varchar(length=254, help_text="The staff user's e-mail, or `cli` / `system`", **REQUIRED)
    action = Varchar(length=40, **REQUIRED)
    subject = Varchar(
        length=200, help_text="What it was done to: `user:3`, `entry:12`, `invoice:2026-0001`", **REQUIRED
    )
    detail = Text(**REQUIRED)
    address = Varchar(length=45, help_text="The client's IP address, or empty from the command line", **REQUIRED)
