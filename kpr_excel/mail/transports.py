"""Transport settings and the factory that turns them into a transport.

This is the module the rest of kpr-excel imports. It does not import exchangelib: the Exchange
transport loads it when it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kpr_excel.errors import KprError
from kpr_excel.mail.base import Transport, TransportError, message_id
from kpr_excel.mail.exchange import AUTH_METHODS, ExchangeTransport
from kpr_excel.mail.outbox import OutboxTransport
from kpr_excel.mail.smtp import SmtpTransport

__all__ = [
    "KINDS", "AUTH_METHODS", "ExchangeTransport", "OutboxTransport", "SmtpTransport", "Transport",
    "TransportError", "TransportSettings", "make_transport", "message_id", "login_name",
]

KINDS = ("outbox", "smtp", "exchange")


@dataclass(frozen=True)
class TransportSettings:
    """How to send, as read from the ``Einstellungen`` sheet (never a password).

    kind: "outbox" | "smtp" | "exchange". ``sender`` is the envelope sender for SMTP (bounces);
    the From header comes from the planned message. ``username`` is the Exchange login
    (``DOMAIN\\user`` for NTLM), ``smtp_user`` the SMTP login (empty: no login).
    ``ca_bundle``: a PEM file of extra trusted CAs in addition to the system store.
    """

    kind: str = "outbox"
    outbox_dir: Path = Path("Postausgang")
    sender: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_starttls: bool = True
    ews_url: str | None = None
    mailbox: str | None = None
    username: str | None = None
    auth: str = "NTLM"
    exchange_version: str = "2016"
    chunk_size: int = 10
    ca_bundle: Path | None = None
    draft: bool = False
    timeout: float = 60.0


def login_name(settings: TransportSettings) -> str | None:
    """The user name the password belongs to (keyring entry), or None when none is needed."""
    if settings.kind == "smtp":
        return settings.smtp_user or None
    if settings.kind == "exchange" and settings.auth != "SSO":
        return settings.username or None
    return None


def _require(value, label: str) -> None:
    if not value:
        raise KprError(f"In den Einstellungen fehlt {label}.")


def make_transport(settings: TransportSettings, password: str | None = None) -> Transport:
    """The transport ``settings`` describe.

    Without ``password`` it is looked up (environment variable ``KPR_PASSWORT``, then the
    system keyring) when the transport needs one. Raises KprError (German) for incomplete
    settings or a missing password; nothing is contacted yet.
    """
    kind = (settings.kind or "outbox").strip().lower()
    if kind not in KINDS:
        raise KprError(f"Unbekannter Versandkanal {settings.kind!r}; möglich sind: {', '.join(KINDS)}.")
    if kind == "outbox":
        return OutboxTransport(settings.outbox_dir, draft=settings.draft)
    if kind == "smtp":
        if settings.draft:
            raise KprError("Entwürfe gibt es nur mit den Versandkanälen outbox und exchange, nicht mit smtp.")
        _require(settings.smtp_host, "der SMTP-Server (smtp_host)")
    else:
        _require(settings.ews_url, "die EWS-Adresse des Exchange-Servers (ews_url)")
        _require(settings.mailbox, "das Postfach (mailbox)")
        if settings.auth not in AUTH_METHODS:
            raise KprError(f"Unbekannte Anmeldeart {settings.auth!r}; möglich sind: {', '.join(AUTH_METHODS)}.")
        if settings.auth != "SSO":
            _require(settings.username, "der Benutzername für Exchange (username)")
    user = login_name(settings)
    if user and password is None:
        from kpr_excel.mail.credentials import get_password

        password = get_password(user)
        if password is None:
            raise KprError(
                f"Kein Passwort für {user} gefunden. Bitte mit »kpr anmelden« hinterlegen "
                "oder die Umgebungsvariable KPR_PASSWORT setzen."
            )
    if kind == "smtp":
        return SmtpTransport(
            settings.smtp_host,
            settings.smtp_port,
            username=user,
            password=password,
            starttls=settings.smtp_starttls,
            ca_bundle=settings.ca_bundle,
            timeout=settings.timeout,
            envelope_sender=settings.sender,
        )
    return ExchangeTransport(
        settings.ews_url,
        settings.mailbox,
        username=settings.username,
        password=password,
        auth=settings.auth,
        version=settings.exchange_version,
        chunk_size=settings.chunk_size,
        ca_bundle=settings.ca_bundle,
        draft=settings.draft,
        timeout=settings.timeout,
    )
