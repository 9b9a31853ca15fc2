"""The transport interface every way of sending shares, and helpers to read a planned message.

Modelled on Django's mail backends: a transport is opened, sends a list of messages and is
closed again; it is also a context manager. What is new here is made for idempotent sending:

- ``send_messages(messages, on_sent=...)`` calls ``on_sent(message)`` as soon as the other side
  has confirmed a message, so the caller can record it in the send log before the next one
  goes out;
- ``already_sent(message_ids)`` asks the other side which messages it already holds, so that a
  run interrupted at an uncertain moment (the server may have taken a message without saying
  so) can be resumed without sending anything twice.

Messages are ``email.message.EmailMessage`` objects. The ``Message-ID`` header is the
idempotency key: it must be the same every time the same message is planned.
"""

from __future__ import annotations

import email.utils
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from os import PathLike
from pathlib import Path
from typing import cast

from kpr_excel.domain.errors import KprError

OnSent = Callable[[EmailMessage], object]


class TransportError(KprError):
    """Sending failed; the message is German and never contains a password.

    ``sent``: how many messages the other side confirmed before the failure (``on_sent`` was
    called for exactly those). ``failed``: Message-ID -> German reason for messages the server
    definitely refused (sending them again unchanged will fail again). ``uncertain``: the
    failure happened while messages were in flight, so some may have arrived without
    confirmation; ask ``already_sent`` before sending again.
    """

    def __init__(
        self,
        message: str,
        *,
        sent: int = 0,
        failed: dict[str, str] | None = None,
        uncertain: bool = False,
    ) -> None:
        super().__init__(message)
        self.sent = sent
        self.failed = dict(failed or {})
        self.uncertain = uncertain


class Transport:
    """Base class of all transports: open, send, close; usable as a context manager.

    ``send_messages`` opens the transport itself when it is not open yet and closes it again
    afterwards, like Django's SMTP backend; inside a ``with`` block the connection is reused.
    """

    name = "base"
    draft = False

    def __init__(self) -> None:
        self._is_open = False

    def open(self) -> None:
        """Connect and log in; raise TransportError (German) when that is not possible."""
        self._is_open = True

    def close(self) -> None:
        """Release the connection; never raises."""
        self._is_open = False

    def __enter__(self) -> Transport:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def send_messages(self, messages: Iterable[EmailMessage], *, on_sent: OnSent | None = None) -> int:
        """Send ``messages``; return how many the other side confirmed.

        ``on_sent(message)`` is called for each message as soon as it is confirmed. On failure
        a TransportError is raised after ``on_sent`` was called for everything confirmed.
        """
        messages = list(messages)
        if not messages:
            return 0
        opened_here = not self._is_open
        if opened_here:
            self.open()
        try:
            return self._send(messages, on_sent or (lambda message: None))
        finally:
            if opened_here:
                self.close()

    def _send(self, messages: Sequence[EmailMessage], on_sent: OnSent) -> int:
        raise NotImplementedError

    def already_sent(self, message_ids: Iterable[str]) -> set[str]:
        """Those of ``message_ids`` the other side already has (as given, angle brackets kept)."""
        return set()


def message_id(message: EmailMessage) -> str:
    """The message's Message-ID header, the idempotency key; a missing one is a bug."""
    value = message.get("Message-ID")
    if not value or not str(value).strip():
        raise ValueError("planned message without Message-ID header")
    return str(value).strip()


def addresses(message: EmailMessage, header: str) -> list[tuple[str, str]]:
    """(display name, address) pairs of an address header, decoded."""
    values = message.get_all(header) or []
    pairs: list[tuple[str, str]] = []
    for value in values:
        parsed = getattr(value, "addresses", None)
        if parsed is not None:
            pairs += [(a.display_name, a.addr_spec) for a in parsed]
        else:
            pairs += email.utils.getaddresses([str(value)])
    return [(name, addr) for name, addr in pairs if addr]


def recipients_text(message: EmailMessage) -> str:
    """The To addresses for a German error message."""
    return ", ".join(addr for _, addr in addresses(message, "To")) or "(ohne Empfänger)"


SENSITIVITY_FROM_HEADER = {
    "company-confidential": "Confidential",
    "personal": "Personal",
    "private": "Private",
}


def sensitivity(message: EmailMessage) -> str:
    """The Exchange sensitivity for the message's ``Sensitivity`` header (RFC 2156)."""
    value = str(message.get("Sensitivity", "")).strip().lower()
    return SENSITIVITY_FROM_HEADER.get(value, "Normal")


def text_body(message: EmailMessage) -> str:
    """The text/plain body, or an empty string."""
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def attachments(message: EmailMessage) -> list[tuple[str, str, bytes]]:
    """(file name, content type, bytes) of each attachment."""
    found = []
    for part in message.iter_attachments():
        # typeshed allows a Message too; decode=True gives the bytes of a non-multipart part
        content = cast(bytes, part.get_payload(decode=True))
        found.append((part.get_filename() or "Anhang", part.get_content_type(), content))
    return found


def trusted_ssl_context(ca_bundle: str | PathLike | None = None) -> ssl.SSLContext:
    """A verifying TLS client context using the operating system's trust store.

    The Windows certificate store usually holds the city's internal CA, which Python's own
    bundle does not know; ``truststore`` makes Python use the OS store. ``ca_bundle`` adds the
    certificates of one PEM file (an internal CA, the tests' CA).
    """
    import truststore

    context = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca_bundle:
        path = Path(ca_bundle)
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as e:
            raise KprError(
                f"Die Zertifikatsdatei {path} (ca_bundle) kann nicht gelesen werden: {e.__class__.__name__}."
            ) from e
    return context


def is_certificate_error(error: BaseException | None) -> bool:
    """True when ``error`` (or what caused it) is a refused server certificate."""
    seen = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        if isinstance(error, ssl.SSLCertVerificationError):
            return True
        if "certificate verify failed" in str(error).lower():
            return True
        error = error.__cause__ or error.__context__
    return False


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


@dataclass(frozen=True)
class TransportKind:
    """One way of sending, as the registry in ``transports`` knows it.

    ``check(settings)`` raises a German KprError for incomplete settings; ``make(settings,
    password)`` builds the transport from checked settings (nothing is contacted yet);
    ``login(settings)`` names the user whose password is needed, or None;
    ``describe(settings)`` says in German where the mail goes.
    """

    name: str
    make: Callable[[TransportSettings, str | None], Transport]
    describe: Callable[[TransportSettings], str]
    check: Callable[[TransportSettings], None] = lambda settings: None
    login: Callable[[TransportSettings], str | None] = lambda settings: None


def require(value: object, label: str) -> None:
    """A German error where a setting the transport needs is empty."""
    if not value:
        raise KprError(f"In den Einstellungen fehlt {label}.")
