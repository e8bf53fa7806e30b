"""Outgoing e-mail: one `Mailer.send` for every caller, with or without a mail server.

Production sets `SMTP_URL` and each message goes to that server. Without it (development, the
demo, tests) a message is written to the outbox folder as an `.eml` file that any mail program
opens: nothing leaves the machine, and nothing is lost either. Callers catch one exception,
`MailError`, whatever went wrong, and never build headers themselves: values with line breaks
are refused here, so text from a form cannot add a header (a Bcc, say).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import msgspec

from funding.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 10.0
"""Seconds for connecting and for each command: a hanging server fails the send, not the request."""


class MailError(Exception):
    """A message that was not accepted: refused by the server, unreachable server, or a bad header."""


class Attachment(msgspec.Struct, frozen=True):
    filename: str
    content_type: str
    """`application/pdf`, `application/xml`: maintype/subtype."""
    data: bytes


class Mail(msgspec.Struct, frozen=True):
    """One plain-text message to one recipient, with any attachments."""

    to: str
    subject: str
    text: str
    reply_to: str = ""
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to deliver, read from `SMTP_URL`."""

    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    """`smtps://`: TLS from the first byte (usually port 465)."""
    starttls: bool = False
    """`?starttls=1`: upgrade a plain connection before anything else is sent (usually port 587)."""

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://host:port or smtps://user:password@host:port")
        tls = parts.scheme == "smtps"
        starttls = parse_qs(parts.query).get("starttls", [""])[-1].lower() in ("1", "true", "yes", "on")
        if tls and starttls:
            raise ValueError("SMTP_URL: smtps:// is TLS already; ?starttls=1 goes with smtp://")
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
            starttls=starttls,
        )


class Mailer:
    """Sends `Mail` from `settings.mail_from`, through `settings.smtp_url` or into the outbox."""

    def __init__(self, settings: Settings) -> None:
        self.server = SmtpServer.from_url(settings.smtp_url) if settings.smtp_url else None
        self.outbox = Path(settings.outbox_dir)
        self.sender = settings.mail_from

    async def send(self, message: Mail) -> None:
        email = self.build(message)
        domain = recipient_domain(message.to)
        if self.server is None:
            path = await asyncio.to_thread(self._write_to_outbox, bytes(email))
            log.info("mail to a recipient at %s written to %s", domain, path)
            return
        server = self.server
        try:
            await aiosmtplib.send(
                email,
                hostname=server.host,
                port=server.port,
                username=server.username,
                password=server.password,
                use_tls=server.tls,
                start_tls=server.starttls,
                timeout=SMTP_TIMEOUT,
            )
        except (aiosmtplib.SMTPException, OSError) as error:  # OSError: refused, reset, timed out
            raise MailError(
                f"mail to a recipient at {domain} not sent via {server.host}:{server.port}: {error}"
            ) from error
        log.info("mail to a recipient at %s sent via %s:%d", domain, server.host, server.port)

    def build(self, message: Mail) -> EmailMessage:
        """The message as it is sent: UTF-8 text, quoted-printable so it passes any server."""
        for name in ("to", "subject", "reply_to"):
            if any(character in getattr(message, name) for character in "\r\n"):
                raise MailError(f"the {name} of a message must be a single line")
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.to
        if message.reply_to:
            email["Reply-To"] = message.reply_to
        email["Subject"] = message.subject
        email["Date"] = format_datetime(datetime.now(UTC))
        # The sender's domain, not the host's name: make_msgid would otherwise look that up.
        email["Message-ID"] = make_msgid(domain=domain_of(self.sender) or "localhost")
        email.set_content(message.text, charset="utf-8", cte="quoted-printable")
        for attachment in message.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename)
        return email

    def _write_to_outbox(self, data: bytes) -> Path:
        """Write one `.eml` file, named so that a listing sorts by time; whole or not at all."""
        try:
            self.outbox.mkdir(parents=True, exist_ok=True)
            path = self.outbox / f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
            descriptor, temporary = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(descriptor, "wb") as file:
                    file.write(data)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
        except OSError as error:
            raise MailError(f"mail not written to the outbox {self.outbox}: {error}") from error
        return path


def recipient_domain(address: str) -> str:
    """The domain of an address, the most of it that goes into the log."""
    domain = domain_of(address)
    if not domain:
        raise MailError("the recipient of a message must be an e-mail address")
    return domain


def domain_of(address: str) -> str:
    """`b.example` for `A <a@b.example>`; empty for something that is not an address."""
    local, at, domain = parseaddr(address)[1].rpartition("@")
    return domain if local and at else ""
