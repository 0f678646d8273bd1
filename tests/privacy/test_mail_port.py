"""The mail port's SMTP adapter against a small SMTP server on loopback, and the choice of adapter.

The sandbox adapter is tested against the real sandbox in tests/integrations/test_sandbox_adapters.py.
"""

from __future__ import annotations

import asyncio
import base64
import email
import socketserver
import threading
from contextlib import contextmanager
from typing import Iterator

import pytest

from integrations.config import ConfigurationError
from integrations.errors import AuthenticationFailed, ServiceUnavailable
from integrations.mail import Attachment, Mail, SandboxMailer, SmtpMailer, mailer_from_env

MAIL = Mail("rosa@example.com", "Your data", "Attached.", (Attachment("my-data.json", "application/json", '{"a": 1}'),))


class SmtpServer(socketserver.ThreadingTCPServer):
    """Just enough SMTP (RFC 5321) to take a mail: EHLO, optional AUTH PLAIN, MAIL, RCPT, DATA, QUIT; no STARTTLS."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, password: str | None = None, host: str = "127.0.0.1") -> None:
        super().__init__((host, 0), SmtpSession)
        self.password = password
        self.received: list[email.message.Message] = []


class SmtpSession(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        self.say("220 localhost ESMTP test")
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ")[0].upper()
            if verb == "EHLO":
                self.say("250-localhost", "250-AUTH PLAIN", "250 8BITMIME")
            elif verb == "AUTH":  # AUTH PLAIN <base64 of "\0user\0password">, as smtplib sends it
                given = base64.b64decode(line.split(" ")[2]).split(b"\0")[-1].decode()
                self.say("235 ok" if given == self.server.password else "535 5.7.8 authentication failed")
            elif verb in ("MAIL", "RCPT", "RSET", "NOOP"):
                self.say("250 ok")
            elif verb == "DATA":
                self.say("354 go on")
                lines = []
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    lines.append(data)
                self.server.received.append(email.message_from_bytes(b"".join(lines)))
                self.say("250 queued")
            elif verb == "QUIT":
                self.say("221 bye")
                return
            else:
                self.say("502 not here")

    def say(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())


@contextmanager
def smtp_server(password: str | None = None, host: str = "127.0.0.1") -> Iterator[SmtpServer]:
    server = SmtpServer(password, host)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_a_mail_goes_out_with_its_json_attachment():
    with smtp_server(password="s3cret") as server:
        mailer = SmtpMailer("127.0.0.1", "shop@example.com", port=server.server_address[1],
                            username="shop", password="s3cret")
        asyncio.run(mailer.send(MAIL, idempotency_key="export:1"))
    (received,) = server.received
    assert (received["To"], received["From"], received["Subject"]) == ("rosa@example.com", "shop@example.com",
                                                                       "Your data")
    body, attachment = [part for part in received.walk() if not part.is_multipart()]
    assert body.get_payload(decode=True).decode().strip() == "Attached."
    assert (attachment.get_filename(), attachment.get_content_type()) == ("my-data.json", "application/json")
    assert attachment.get_payload(decode=True) == b'{"a": 1}'


def test_refused_credentials_are_a_configuration_problem():
    with smtp_server(password="right") as server:
        mailer = SmtpMailer("127.0.0.1", "shop@example.com", port=server.server_address[1],
                            username="shop", password="wrong")
        with pytest.raises(AuthenticationFailed):
            asyncio.run(mailer.send(MAIL, idempotency_key="export:1"))
    assert server.received == []


def test_a_mail_server_that_cannot_encrypt_gets_nothing():
    # Any host but this machine's usual names must encrypt: 127.0.0.2 stands in for a remote one here.
    with smtp_server(host="127.0.0.2") as server:
        mailer = SmtpMailer("127.0.0.2", "shop@example.com", port=server.server_address[1])
        with pytest.raises(ServiceUnavailable, match="SMTPNotSupportedError"):
            asyncio.run(mailer.send(MAIL, idempotency_key="export:1"))
    assert server.received == []


def test_an_unreachable_mail_server_is_unavailable():
    with smtp_server() as server:
        port = server.server_address[1]
    with pytest.raises(ServiceUnavailable):
        asyncio.run(SmtpMailer("127.0.0.1", "shop@example.com", port=port).send(MAIL, idempotency_key="k"))


def test_the_transport_is_chosen_by_the_environment():
    assert isinstance(mailer_from_env({"SANDBOX_API_KEY": "k"}), SandboxMailer)
    assert isinstance(mailer_from_env({"MAIL_TRANSPORT": "smtp", "SMTP_HOST": "mail.example.com",
                                       "MAIL_FROM": "shop@example.com"}), SmtpMailer)
    for env in ({"MAIL_TRANSPORT": "pigeon"}, {"MAIL_TRANSPORT": "smtp", "SMTP_HOST": "mail.example.com"},
                {"MAIL_TRANSPORT": "smtp", "SMTP_HOST": "h", "MAIL_FROM": "f", "SMTP_USERNAME": "only-a-user"}):
        with pytest.raises(ConfigurationError):
            mailer_from_env(env)
