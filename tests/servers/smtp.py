"""An SMTP server on 127.0.0.1 (aiosmtpd) with STARTTLS and AUTH that records what it accepted.

STARTTLS is required before AUTH and AUTH before MAIL, so a test passes only when the client
really negotiated TLS (verified against the tests' CA) and logged in.

Faults: ``reject_rcpt`` addresses get a permanent 550 at RCPT; ``fail_data_from`` makes the
n-th and every later DATA answer with ``fail_code`` (default a temporary 451).
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    user: str | None

    @property
    def message(self) -> email.message.EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)


@dataclass
class _Handler:
    users: dict[str, str]
    received: list[ReceivedMail] = field(default_factory=list)
    reject_rcpt: set[str] = field(default_factory=set)
    fail_data_from: int | None = None
    fail_code: str = "451 4.3.0 Bitte spaeter erneut versuchen"
    data_count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject_rcpt:
            return "550 5.1.1 Empfaenger unbekannt"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.data_count += 1
            if self.fail_data_from is not None and self.data_count >= self.fail_data_from:
                return self.fail_code
            user = session.auth_data  # what authenticate() put into its AuthResult
            self.received.append(ReceivedMail(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                data=envelope.original_content or envelope.content,
                user=user,
            ))
        return "250 2.0.0 OK"

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            user = auth_data.login.decode()
            if self.users.get(user) == auth_data.password.decode():
                return AuthResult(success=True, auth_data=user)
        return AuthResult(success=False, handled=False)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpServer:
    """Context manager around an aiosmtpd Controller on loopback."""

    def __init__(self, cert, users: dict[str, str]) -> None:
        self.handler = _Handler(users=dict(users))
        self.port = _free_port()
        self.controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            ready_timeout=5,
            tls_context=cert.server_context(),
            require_starttls=True,
            authenticator=self.handler.authenticate,
            auth_required=True,
            auth_require_tls=True,
        )

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.received)
