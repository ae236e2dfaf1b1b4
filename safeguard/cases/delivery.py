"""How notices leave: by email over SMTP, or as JSON to a webhook; and how a URL is checked.

Each is a small class with one method, so tests and operators can plug in their own."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Protocol

import httpx

from safeguard.config import Settings


@dataclass(frozen=True)
class Letter:
    contact: str
    subject: str
    body: str
    urls: Sequence[str]
    reference: str  # our notice ids, for the reply


class Sender(Protocol):
    def send(self, letter: Letter) -> None:
        """Deliver or raise an exception whose text says why not."""


class DeliveryError(RuntimeError):
    pass


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    timeout: float = 10.0
    starttls: bool = False
    username: str = ""
    password: str = ""

    def send(self, letter: Letter) -> None:
        if not self.host or not self.sender:
            raise DeliveryError("no SMTP server configured (SAFEGUARD_SMTP_HOST, "
                                "SAFEGUARD_SMTP_FROM)")
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = letter.contact
        message["Subject"] = letter.subject
        message["Message-ID"] = make_msgid(domain=self.sender.partition("@")[2] or None)
        message["X-Safeguard-Notice"] = letter.reference
        message.set_content(letter.body)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {exc}") from exc


@dataclass
class WebhookSender:
    client: httpx.Client

    def send(self, letter: Letter) -> None:
        try:
            response = self.client.post(letter.contact, json={
                "type": "takedown_notice", "reference": letter.reference,
                "urls": list(letter.urls), "text": letter.body})
        except httpx.HTTPError as exc:
            raise DeliveryError(f"webhook {letter.contact}: {exc}") from exc
        if response.status_code >= 300:
            raise DeliveryError(f"webhook {letter.contact} answered {response.status_code}")


class Checker(Protocol):
    def is_gone(self, url: str) -> bool:
        """True when the content is gone (404/410); False when it is still served; raise
        DeliveryError when the check itself failed."""


@dataclass
class HttpChecker:
    client: httpx.Client

    def is_gone(self, url: str) -> bool:
        # The content itself must never be fetched onto our server: HEAD first; a server
        # that refuses HEAD gets a GET whose body is never read (closed after the headers).
        try:
            status = self.client.head(url, follow_redirects=True).status_code
            if status in (405, 501):
                with self.client.stream("GET", url, follow_redirects=True) as response:
                    status = response.status_code
        except httpx.HTTPError as exc:
            raise DeliveryError(f"could not check {url}: {exc}") from exc
        return status in (404, 410, 451)


def senders_for(settings: Settings, client: httpx.Client) -> dict[str, Sender]:
    return {"email": SmtpSender(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                                starttls=settings.smtp_starttls,
                                username=settings.smtp_username,
                                password=settings.smtp_password),
            "webhook": WebhookSender(client)}
