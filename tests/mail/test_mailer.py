"""Mail reaches a real SMTP server (aiosmtpd, started here), or the outbox when none is set."""

from __future__ import annotations

import asyncio
import email
import logging
import re
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from funding import mail
from funding.mail import Mail, Mailer, MailError, SmtpServer
from funding.settings import Settings

RECIPIENT = "Zoë de Vries <zoe@gemeente.example>"
MESSAGE = Mail(
    to=RECIPIENT,
    subject="Bijdrage ontvangen: € 1.000,00",
    text="Beste Zoë,\n\nWe ontvingen uw bijdrage van € 1.000,00.\n\nMet vriendelijke groet\n",
    reply_to="Penningmeester <penningmeester@programma.example>",
)


class Recorder:
    """An aiosmtpd handler that keeps what it receives and refuses the recipients it is told to."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.logins: list[LoginPassword] = []
        self.refuse = ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if self.refuse:
            return self.refuse
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        self.logins.append(auth_data)
        # handled=False: aiosmtpd answers a failure itself (with True it would leave the client waiting)
        return AuthResult(success=auth_data.password == b"p@ss/w:rd", handled=False)

    def received(self) -> EmailMessage:
        [envelope] = self.envelopes
        return email.message_from_bytes(envelope.original_content, policy=default_policy)


def free_port() -> int:
    """A port nothing listens on (for the moment it takes to use it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Recorder]]:
    recorder = Recorder()
    # Authentication is offered without TLS, for the test only: aiosmtpd requires TLS by default.
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), authenticator=recorder.authenticate, auth_require_tls=False
    )
    controller.start()
    yield controller, recorder
    controller.stop()


def mailer(smtp_url: str = "", outbox: str = "outbox") -> Mailer:
    return Mailer(Settings(smtp_url=smtp_url, outbox_dir=outbox, mail_from="Programma <noreply@programma.example>"))


async def test_a_message_reaches_the_smtp_server_as_utf8_text(smtp_server):
    controller, recorder = smtp_server
    await mailer(f"smtp://127.0.0.1:{controller.port}").send(MESSAGE)
    [envelope] = recorder.envelopes
    assert envelope.mail_from == "noreply@programma.example"
    assert envelope.rcpt_tos == ["zoe@gemeente.example"]
    received = recorder.received()
    assert received["To"] == RECIPIENT
    assert received["From"] == "Programma <noreply@programma.example>"
    assert received["Reply-To"] == "Penningmeester <penningmeester@programma.example>"
    assert received["Subject"] == "Bijdrage ontvangen: € 1.000,00"
    assert received["Date"] and re.fullmatch(r"<.+@programma\.example>", received["Message-ID"])
    assert received.get_content_type() == "text/plain" and received.get_content_charset() == "utf-8"
    body = received.get_content()
    assert "€ 1.000,00" in body and "Beste Zoë," in body
    assert envelope.original_content.isascii(), "quoted-printable passes servers without 8BITMIME"
    assert recorder.logins == []


async def test_user_and_password_in_the_url_log_in(smtp_server):
    controller, recorder = smtp_server
    await mailer(f"smtp://funding:p%40ss%2Fw%3Ard@127.0.0.1:{controller.port}").send(MESSAGE)
    assert [(login.login, login.password) for login in recorder.logins] == [(b"funding", b"p@ss/w:rd")]
    assert len(recorder.envelopes) == 1


async def test_a_wrong_password_is_a_mail_error(smtp_server):
    controller, recorder = smtp_server
    with pytest.raises(MailError, match=f"not sent via 127.0.0.1:{controller.port}: .*535"):
        await mailer(f"smtp://funding:wrong@127.0.0.1:{controller.port}").send(MESSAGE)
    assert recorder.envelopes == []


async def test_a_refused_recipient_is_a_mail_error(smtp_server):
    controller, recorder = smtp_server
    recorder.refuse = "550 5.1.1 No such mailbox"
    with pytest.raises(MailError, match="No such mailbox"):
        await mailer(f"smtp://127.0.0.1:{controller.port}").send(MESSAGE)
    assert recorder.envelopes == []


async def test_an_unreachable_server_is_a_mail_error():
    port = free_port()
    with pytest.raises(MailError, match=f"at gemeente.example not sent via 127.0.0.1:{port}"):
        await mailer(f"smtp://127.0.0.1:{port}").send(MESSAGE)


async def test_a_server_that_never_answers_times_out_as_a_mail_error(monkeypatch):
    monkeypatch.setattr(mail, "SMTP_TIMEOUT", 0.2)
    silent = await asyncio.start_server(lambda reader, writer: None, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        with pytest.raises(MailError, match="not sent"):
            await asyncio.wait_for(mailer(f"smtp://127.0.0.1:{port}").send(MESSAGE), timeout=5)
    finally:
        silent.close()


async def test_without_smtp_url_the_message_is_written_to_the_outbox(tmp_path, caplog):
    outbox = tmp_path / "not" / "yet" / "there"
    caplog.set_level(logging.INFO, logger="funding.mail")
    await mailer(outbox=str(outbox)).send(MESSAGE)
    [path] = outbox.iterdir()  # and no temporary file left beside it
    assert re.fullmatch(r"\d{8}T\d{12}Z-[0-9a-f]{8}\.eml", path.name)
    written = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert written["To"] == RECIPIENT and written["Subject"] == MESSAGE.subject
    assert "€ 1.000,00" in written.get_content()
    [record] = [r for r in caplog.records if r.name == "funding.mail"]
    assert record.levelno == logging.INFO
    assert record.getMessage() == f"mail to a recipient at gemeente.example written to {path}"
    assert "zoe@" not in caplog.text


async def test_outbox_files_sort_in_the_order_they_were_written(tmp_path):
    sender = mailer(outbox=str(tmp_path))
    subjects = [f"bericht {number}" for number in range(5)]
    for subject in subjects:
        await sender.send(Mail(to="a@b.example", subject=subject, text="x"))
    files = sorted(tmp_path.glob("*.eml"))
    assert [email.message_from_bytes(f.read_bytes(), policy=default_policy)["Subject"] for f in files] == subjects


@pytest.mark.parametrize("field", ["to", "subject", "reply_to"])
@pytest.mark.parametrize("line_break", ["\r\n", "\n", "\r"])
async def test_a_line_break_in_a_header_is_refused(tmp_path, field, line_break):
    values = {"to": "a@b.example", "subject": "Hallo", "reply_to": "c@d.example"}
    values[field] += f"{line_break}Bcc: everyone@elsewhere.example"
    with pytest.raises(MailError, match=f"the {field} of a message must be a single line"):
        await mailer(outbox=str(tmp_path)).send(Mail(text="x", **values))
    assert list(tmp_path.iterdir()) == []


async def test_a_recipient_without_a_domain_is_refused(tmp_path):
    with pytest.raises(MailError, match="must be an e-mail address"):
        await mailer(outbox=str(tmp_path)).send(Mail(to="zoe", subject="Hallo", text="x"))
    assert list(tmp_path.iterdir()) == []


async def test_an_outbox_that_cannot_be_written_is_a_mail_error(tmp_path):
    (tmp_path / "outbox").write_text("a file where the folder should be")
    with pytest.raises(MailError, match="not written to the outbox"):
        await mailer(outbox=str(tmp_path / "outbox")).send(MESSAGE)


@pytest.mark.parametrize(
    ("url", "server"),
    [
        ("smtp://mail.example", SmtpServer("mail.example", 25)),
        ("smtp://mail.example:1025", SmtpServer("mail.example", 1025)),
        ("smtps://u%40x:p%3Aw@mail.example", SmtpServer("mail.example", 465, "u@x", "p:w", tls=True)),
        ("smtp://u:p@mail.example:587?starttls=1", SmtpServer("mail.example", 587, "u", "p", starttls=True)),
        ("smtp://mail.example:587?starttls=0", SmtpServer("mail.example", 587)),
    ],
)
def test_the_smtp_url_says_where_and_how(url, server):
    assert SmtpServer.from_url(url) == server
    assert "p:w" not in repr(SmtpServer.from_url(url)), "no password in logs or tracebacks"


@pytest.mark.parametrize("url", ["mail.example:25", "http://mail.example", "smtp://", "smtps://h?starttls=1"])
def test_a_malformed_smtp_url_is_refused_when_the_mailer_is_made(url):
    with pytest.raises(ValueError, match="SMTP_URL"):
        mailer(url)


def test_the_mail_settings_come_from_the_environment():
    settings = Settings.from_env(
        {"SMTP_URL": "smtp://h:1025", "FUNDING_OUTBOX": "/var/mail/out", "FUNDING_MAIL_FROM": "X <x@y.example>"}
    )
    assert (settings.smtp_url, settings.outbox_dir, settings.mail_from) == (
        "smtp://h:1025",
        "/var/mail/out",
        "X <x@y.example>",
    )
    defaults = Settings.from_env({})
    assert (defaults.smtp_url, defaults.outbox_dir, defaults.mail_from) == ("", "outbox", "funding <noreply@localhost>")
