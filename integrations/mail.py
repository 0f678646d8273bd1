"""The mail port: mails the assistant itself sends a customer, such as the copy of their data they asked for.

Sent to the customer's own address, because that is where only the owner of the email can read it.
Two adapters, chosen by MAIL_TRANSPORT:
  - "sandbox" (the default): the sandbox's mock mail carrier (POST /v1/sandbox/mails); the mail lands in the
    sandbox mailbox (GET /v1/sandbox/mailbox) where the one-time codes land too, so a test or a developer
    reads it there.
  - "smtp": the shop's mail server, through the standard library. SMTP_HOST, SMTP_PORT (587: STARTTLS;
    465: TLS from the start), SMTP_USERNAME and SMTP_PASSWORD (both or neither), MAIL_FROM (the sender
    address). The connection is always encrypted, except to a relay on this machine (localhost).
"""

from __future__ import annotations

import asyncio
import os
import smtplib
import ssl
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Mapping

from integrations.config import ConfigurationError, _required, _sandbox_transport
from integrations.errors import AuthenticationFailed, ServiceUnavailable
from integrations.payloads import LOOPBACK_HOSTS
from integrations.transport import HttpTransport

SMTP_TIMEOUT_SECONDS = 10
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # "application/json" or "text/plain": what the sandbox carrier takes too
    content: str


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = ()


class Mailer(ABC):
    @abstractmethod
    async def send(self, mail: Mail, *, idempotency_key: str) -> None:
        """Hand the mail over for delivery. Raises ServiceUnavailable when it cannot be taken now, Misconfigured
        (AuthenticationFailed) when the mail server refuses our credentials."""


class SandboxMailer(Mailer):
    def __init__(self, transport: HttpTransport) -> None:
        self._http = transport

    async def send(self, mail: Mail, *, idempotency_key: str) -> None:
        body = {"to": mail.to, "subject": mail.subject, "body": mail.body,
                "attachments": [{"filename": a.filename, "content_type": a.content_type, "content": a.content}
                                for a in mail.attachments]}
        # The key makes the transport's retry of a lost answer deliver one mail, not two.
        await self._http.post("/v1/sandbox/mails", body, idempotency_key=idempotency_key)


class SmtpMailer(Mailer):
    def __init__(self, host: str, sender: str, *, port: int = 587, username: str | None = None,
                 password: str | None = None) -> None:
        if bool(username) != bool(password):
            raise ValueError("give both SMTP_USERNAME and SMTP_PASSWORD, or neither")
        self._host, self._port, self._sender = host, port, sender
        self._login = (username, password) if username and password else None
        # Credentials and customers' data never travel in clear, except to a relay on this machine.
        self._encrypted = host not in LOOPBACK_HOSTS

    async def send(self, mail: Mail, *, idempotency_key: str) -> None:
        # SMTP has no idempotency keys: the mail server is asked once, and a failure is reported, not retried.
        await asyncio.to_thread(self._send, _message(mail, self._sender))

    def _send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        try:
            if self._port == IMPLICIT_TLS_PORT:
                connection = smtplib.SMTP_SSL(self._host, self._port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
            else:
                connection = smtplib.SMTP(self._host, self._port, timeout=SMTP_TIMEOUT_SECONDS)
            with connection as smtp:
                if self._encrypted and self._port != IMPLICIT_TLS_PORT:
                    smtp.starttls(context=context)
                if self._login:
                    smtp.login(*self._login)
                smtp.send_message(message)
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthenticationFailed(f"smtp: the mail server refused our credentials ({exc.smtp_code})") from exc
        except (smtplib.SMTPException, OSError) as exc:
            # The server's answer may quote the recipient: only the kind of failure is kept.
            raise ServiceUnavailable(f"smtp: the mail server did not take the mail ({type(exc).__name__})") from exc


def _message(mail: Mail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, mail.to, mail.subject
    message.set_content(mail.body)
    for attachment in mail.attachments:
        maintype, subtype = attachment.content_type.split("/")
        message.add_attachment(attachment.content.encode(), maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def mailer_from_env(env: Mapping[str, str] = os.environ) -> Mailer:
    kind = env.get("MAIL_TRANSPORT", "sandbox")
    if kind == "sandbox":
        return SandboxMailer(_sandbox_transport(env))
    if kind == "smtp":
        try:
            return SmtpMailer(_required(env, "SMTP_HOST"), _required(env, "MAIL_FROM"),
                              port=int(env.get("SMTP_PORT") or 587), username=env.get("SMTP_USERNAME"),
                              password=env.get("SMTP_PASSWORD"))
        except ValueError as exc:
            raise ConfigurationError(f"MAIL_TRANSPORT=smtp: {exc}") from exc
    raise ConfigurationError(f"MAIL_TRANSPORT={kind!r} is not a known mail transport (known: sandbox, smtp)")
