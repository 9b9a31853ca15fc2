"""Fixtures for the mail tests: the test CA, loopback servers, planned messages, a keyring."""

from __future__ import annotations

import functools
import hashlib
from email.message import EmailMessage

import keyring
import keyring.backend
import pytest

from tests.servers.ews import EwsSchema, EwsServer, find_schema_dir
from tests.servers.smtp import SmtpServer
from tests.servers.tls import TestCA

SENDER = "geschaeftsstelle@kpr.example"
EWS_USER = "KPR\\geschaeftsstelle"
EWS_PASSWORD = "Vorsitz-2025!ÄÖ"
SMTP_USER = "kpr-versand"
SMTP_PASSWORD = "Sitzung#4711"

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def attachment_bytes(label: str, size: int) -> bytes:
    """Deterministic, incompressible bytes standing in for a .docx or .pdf."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def build_message(
    number: int,
    *,
    confidential: bool = False,
    cc: str | None = None,
    with_attachments: bool = True,
    document: str = "einladung",
) -> EmailMessage:
    """A message shaped like the planner's: one recipient, deterministic Message-ID."""
    message = EmailMessage()
    message["From"] = f"Geschäftsstelle KPR Dresden <{SENDER}>"
    message["To"] = f"Frau Dr. Müller-Lüdenscheidt {number} <mitglied{number:02d}@example.org>"
    if cc:
        message["Cc"] = cc
    message["Reply-To"] = f"Geschäftsstelle KPR <{SENDER}>"
    message["Subject"] = f"Einladung zur Sitzung des KPR am 12.03.2025 (Nr. {number})"
    message["Message-ID"] = f"<2025-03-12.{document}.mitglied{number:02d}.v1@kpr-excel.invalid>"
    if confidential:
        message["Sensitivity"] = "Company-Confidential"
    message.set_content(
        f"Sehr geehrte Frau Dr. Müller-Lüdenscheidt {number},\n\n"
        "hiermit lade ich Sie zur Sitzung des Kommunalen Präventionsrats ein.\n\n"
        "Mit freundlichen Grüßen\nGeschäftsstelle\n"
    )
    if with_attachments:
        maintype, subtype = DOCX.split("/")
        message.add_attachment(
            attachment_bytes(f"docx{number}", 3000), maintype=maintype, subtype=subtype,
            filename="Einladung 2025-03-12.docx",
        )
        message.add_attachment(
            attachment_bytes(f"pdf{number}", 5000), maintype="application", subtype="pdf",
            filename="Tagesordnung Übersicht.pdf",
        )
    return message


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> TestCA:
    return TestCA(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="session")
def server_cert(test_ca):
    return test_ca.issue()


@functools.cache
def load_ews_schema() -> EwsSchema | None:
    """Microsoft's EWS 2016 schema from ``shared/schemas`` beside the worktree; None where it is absent.

    Cached, not a fixture, so that the other test packages that take `ews_server` need nothing more.
    """
    directory = find_schema_dir()
    return EwsSchema(directory) if directory else None


@pytest.fixture
def ews_schema() -> EwsSchema | None:
    return load_ews_schema()


def schema_problems(server: EwsServer, schema: EwsSchema) -> list[str]:
    """Every request the server received and every answer it gave that the EWS schema refuses."""
    found = []
    for number, (operation, request, response) in enumerate(server.exchanges, 1):
        found += [f"#{number} {operation} Anfrage: {p}" for p in schema.problems(request)]
        found += [f"#{number} {operation} Antwort: {p}" for p in schema.problems(response)]
    return found


@pytest.fixture
def ews_server(server_cert, tmp_path):
    """The loopback EWS server; after the test, all it received and answered is checked against the schema."""
    with EwsServer(server_cert, tmp_path, {EWS_USER: EWS_PASSWORD}, auth="NTLM", mailbox=SENDER) as server:
        yield server
    schema = load_ews_schema()
    if schema is not None:
        problems = schema_problems(server, schema)
        assert not problems, "\n".join(problems[:10])


@pytest.fixture
def smtp_server(server_cert):
    with SmtpServer(server_cert, {SMTP_USER: SMTP_PASSWORD}) as server:
        yield server


@pytest.fixture(autouse=True)
def no_password_in_environment(monkeypatch):
    monkeypatch.delenv("KPR_PASSWORT", raising=False)


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that lives in a dict, so tests never touch the real one."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
