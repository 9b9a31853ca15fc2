"""The registry of transports and the factory that turns settings into a transport.

This is the module the rest of kpr-excel imports. It does not import exchangelib: the Exchange
transport loads it when it opens. A new way of sending is one module that defines a
``TransportKind`` and one line in ``REGISTRY``.
"""

from __future__ import annotations

from collections.abc import Callable

from kpr_excel.domain.errors import KprError
from kpr_excel.mail import credentials, exchange, outbox, smtp
from kpr_excel.mail.base import (
    Transport,
    TransportError,
    TransportKind,
    TransportSettings,
    message_id,
)
from kpr_excel.mail.exchange import AUTH_METHODS, ExchangeTransport
from kpr_excel.mail.outbox import OutboxTransport
from kpr_excel.mail.smtp import SmtpTransport

__all__ = [
    "AUTH_METHODS", "KINDS", "REGISTRY", "ExchangeTransport", "OutboxTransport", "SmtpTransport", "Transport",
    "TransportError", "TransportSettings", "check_login", "describe", "kind_of", "login_name", "make_transport",
    "message_id",
]

REGISTRY: dict[str, TransportKind] = {kind.name: kind for kind in (outbox.KIND, smtp.KIND, exchange.KIND)}
KINDS = tuple(REGISTRY)

PasswordLookup = Callable[[str], "str | None"]


def kind_of(name: str | None) -> TransportKind:
    """The registered transport called `name` (case and spaces ignored; empty: outbox)."""
    key = (name or "outbox").strip().lower()
    if key not in REGISTRY:
        raise KprError(f"Unbekannter Versandkanal „{name}“ (Einstellungen: Versandkanal). "
                       f"Erlaubt: {', '.join(KINDS)}.")
    return REGISTRY[key]


def login_name(settings: TransportSettings) -> str | None:
    """The user name the password belongs to (keyring entry), or None when none is needed."""
    return kind_of(settings.kind).login(settings)


def describe(settings: TransportSettings) -> str:
    """Where the mail goes, in German: 'als E-Mail-Dateien in den Ordner …', 'über …'."""
    return kind_of(settings.kind).describe(settings)


def make_transport(settings: TransportSettings, password: str | None = None, *,
                   lookup: PasswordLookup = credentials.get_password) -> Transport:
    """The transport ``settings`` describe.

    Without ``password`` it is looked up with ``lookup`` (by default the environment variable
    ``KPR_PASSWORT``, then the system keyring) when the transport needs one. Raises KprError
    (German) for incomplete settings or a missing password; nothing is contacted yet.
    """
    kind = kind_of(settings.kind)
    kind.check(settings)
    user = kind.login(settings)
    if user and password is None:
        password = lookup(user)
        if password is None:
            raise KprError(
                f"Kein Passwort für {user} gefunden. Bitte mit »kpr anmelden« hinterlegen "
                "oder die Umgebungsvariable KPR_PASSWORT setzen."
            )
    return kind.make(settings, password)


def check_login(settings: TransportSettings, password: str | None) -> None:
    """Log in to the configured server once (SMTP login, or one cheap EWS call) and log out.

    Raises a TransportError with a German message when the server, the certificate or the
    password is not right. The outbox needs no login and always passes.
    """
    with make_transport(settings, password):
        pass
