"""The SMTP transport: smtplib with verified STARTTLS (or implicit TLS on port 465) and login.

An SMTP server cannot be asked afterwards what it already accepted, so ``already_sent`` is
always empty; the caller relies on ``on_sent``, which is called right after the server answered
250 to a message.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from typing import cast

from kpr_excel.domain.errors import KprError
from kpr_excel.mail.base import (
    OnSent,
    Transport,
    TransportError,
    TransportKind,
    TransportSettings,
    is_certificate_error,
    message_id,
    recipients_text,
    require,
    trusted_ssl_context,
)

IMPLICIT_TLS_PORT = 465


class SmtpTransport(Transport):
    """Sends over one SMTP connection per open()/close()."""

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        ca_bundle=None,
        timeout: float = 60,
        envelope_sender: str | None = None,
    ) -> None:
        super().__init__()
        self.host = host
        self.port = port
        self.username = username or None
        self._password = password
        self.starttls = starttls
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        self.envelope_sender = envelope_sender or None
        self._connection: smtplib.SMTP | None = None

    def __repr__(self) -> str:
        return f"SmtpTransport({self.host!r}, {self.port!r}, username={self.username!r})"

    @property
    def _where(self) -> str:
        return f"{self.host}:{self.port}"

    def open(self) -> None:
        if self._is_open:
            return
        implicit_tls = not self.starttls and self.port == IMPLICIT_TLS_PORT
        context = trusted_ssl_context(self.ca_bundle) if (self.starttls or implicit_tls) else None
        if self.username and context is None:
            raise TransportError(
                "Eine Anmeldung am SMTP-Server ohne Verschlüsselung wird nicht unterstützt: "
                "bitte STARTTLS einschalten oder Port 465 verwenden."
            )
        connection: smtplib.SMTP | None = None
        try:
            if implicit_tls:
                connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            connection.ehlo()
            if self.starttls:
                if not connection.has_extn("starttls"):
                    raise TransportError(
                        f"Der SMTP-Server {self._where} bietet kein STARTTLS an; "
                        "unverschlüsselt wird nicht gesendet."
                    )
                connection.starttls(context=context)
                connection.ehlo()
            if self.username:
                connection.login(self.username, self._password or "")
        except TransportError:
            _quietly_close(connection)
            raise
        except smtplib.SMTPAuthenticationError as e:
            _quietly_close(connection)
            raise TransportError(
                f"Anmeldung am SMTP-Server {self._where} fehlgeschlagen: Benutzername oder Passwort "
                f"falsch (Benutzer {self.username})."
            ) from e
        except smtplib.SMTPNotSupportedError as e:
            _quietly_close(connection)
            raise TransportError(f"Der SMTP-Server {self._where} erlaubt keine Anmeldung.") from e
        except (OSError, smtplib.SMTPException) as e:
            _quietly_close(connection)
            if is_certificate_error(e):
                raise TransportError(
                    f"Das TLS-Zertifikat des SMTP-Servers {self._where} ist nicht vertrauenswürdig; "
                    "es wurde nichts gesendet."
                ) from e
            raise TransportError(f"Der SMTP-Server {self._where} ist nicht erreichbar: {_reason(e)}.") from e
        self._connection = connection
        super().open()

    def close(self) -> None:
        connection, self._connection = self._connection, None
        _quietly_close(connection)
        super().close()

    def _send(self, messages: Sequence[EmailMessage], on_sent: OnSent) -> int:
        sent = 0
        failed: dict[str, str] = {}
        for message in messages:
            msg_id = message_id(message)
            assert self._connection is not None  # send_messages() opens first
            try:
                self._connection.send_message(message, from_addr=self.envelope_sender)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as e:
                code = _code(e)
                if code is not None and code >= 500:
                    # Refused for good; smtplib has reset the transaction, the next one may go.
                    failed[msg_id] = (
                        f"Der SMTP-Server hat die Nachricht an {recipients_text(message)} abgelehnt ({code})."
                    )
                    continue
                raise TransportError(
                    f"Der SMTP-Server {self._where} nimmt vorübergehend nichts an ({code}); "
                    "bitte später erneut senden.",
                    sent=sent, failed=failed,
                ) from e
            except (OSError, smtplib.SMTPException) as e:
                raise TransportError(
                    f"Verbindung zum SMTP-Server {self._where} beim Senden an {recipients_text(message)} "
                    f"abgebrochen: {_reason(e)}.",
                    sent=sent, failed=failed, uncertain=True,
                ) from e
            on_sent(message)
            sent += 1
        if failed:
            raise TransportError(
                f"{len(failed)} Nachricht(en) wurden vom SMTP-Server abgelehnt, {sent} gesendet.",
                sent=sent, failed=failed,
            )
        return sent


def _code(error: smtplib.SMTPException) -> int | None:
    code = getattr(error, "smtp_code", None)
    if code is None and isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [value[0] for value in error.recipients.values()]
        code = min(codes) if codes else None
    return code


def _reason(error: BaseException) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        # typeshed says bytes | str; smtplib passes the server's reply, which is bytes
        return f"{error.smtp_code} {cast(bytes, error.smtp_error).decode('utf-8', 'replace')}"
    if isinstance(error, ssl.SSLError):
        return error.reason or error.__class__.__name__
    return getattr(error, "strerror", None) or str(error) or error.__class__.__name__


def _quietly_close(connection: smtplib.SMTP | None) -> None:
    if connection is None:
        return
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        pass
    finally:
        connection.close()


def _check(settings: TransportSettings) -> None:
    if settings.draft:
        raise KprError("Entwürfe gibt es nur mit den Versandkanälen outbox und exchange, nicht mit smtp.")
    require(settings.smtp_host, "der SMTP-Server (smtp_host)")


def _from_settings(settings: TransportSettings, password: str | None) -> SmtpTransport:
    return SmtpTransport(
        settings.smtp_host or "",
        settings.smtp_port,
        username=settings.smtp_user,
        password=password,
        starttls=settings.smtp_starttls,
        ca_bundle=settings.ca_bundle,
        timeout=settings.timeout,
        envelope_sender=settings.sender,
    )


KIND = TransportKind(
    "smtp", _from_settings, lambda settings: f"über den SMTP-Server {settings.smtp_host}",
    check=_check, login=lambda settings: settings.smtp_user or None)
