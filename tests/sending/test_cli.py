"""What stops a send before anything goes out, and `kpr anmelden`."""

from __future__ import annotations

import pytest

from kpr_excel.book.edits import Edits, SetCells
from kpr_excel.book.writer import write_edits
from kpr_excel.domain import schema
from kpr_excel.mail.credentials import SERVICE
from tests.sending.conftest import (
    EWS_PASSWORD,
    EWS_USER,
    SESSION,
    assert_clean_exit,
    documents_folder,
    exchange_settings,
    kpr,
    model_of,
    send,
    send_log,
    set_settings,
    squeeze,
)


@pytest.fixture
def exchange_book(book, ews_server, test_ca, monkeypatch):
    exchange_settings(book, ews_server, test_ca.ca_file)
    monkeypatch.setenv("KPR_PASSWORT", EWS_PASSWORD)
    return book


def set_cell(path, sheet: str, by: tuple, key: str, value) -> None:
    """Set one cell of the row whose key column(s) `by[0]` hold `by[1]`."""
    write_edits(path, Edits((SetCells(sheet, by[0], ((by[1], key, value),)),)))


def member_without_email(path) -> str:
    person = model_of(path).person("P05")
    set_cell(path, schema.MITGLIEDER.name, ("id", person.id), "email", None)
    return person.name


def guest_on_confidential_item(path) -> str:
    item = next(i for i in model_of(path).agenda_of(SESSION) if i.confidential)
    set_cell(path, schema.TAGESORDNUNG.name, (("session", "number"), (item.session, item.number)), "guests", "P32")
    return model_of(path).person("P32").name


@pytest.mark.parametrize(("break_rule", "code"), [
    pytest.param(member_without_email, "GO-7.5", id="member-without-email"),
    pytest.param(guest_on_confidential_item, "GO-8.1", id="confidential-item-with-guest"),
])
@pytest.mark.slow
def test_an_error_finding_blocks_the_send(exchange_book, ews_server, break_rule, code):
    name = break_rule(exchange_book)
    before = exchange_book.read_bytes()
    result = send(exchange_book)
    assert_clean_exit(result, 1)
    text = squeeze(result.output)
    assert squeeze(f"Der Versand der Einladung für {SESSION} ist gesperrt") in text
    assert code in text and squeeze(name) in text
    assert ews_server.requests == []  # not even a login
    assert exchange_book.read_bytes() == before
    assert send_log(exchange_book) == {}

    preview = send(exchange_book, "--probelauf")  # the preview shows the same block
    assert_clean_exit(preview, 1)
    assert code in preview.output
    assert ews_server.requests == []


@pytest.mark.slow
def test_workbook_open_in_excel_is_refused_before_anything_is_sent(exchange_book, ews_server):
    lock = exchange_book.with_name("~$" + exchange_book.name)
    lock.write_bytes(b"Juliane Hempel")
    before = exchange_book.read_bytes()
    result = send(exchange_book)
    assert_clean_exit(result, 2)
    assert squeeze("in Excel geöffnet") in squeeze(result.output)
    assert ews_server.requests == []
    assert exchange_book.read_bytes() == before
    assert not (documents_folder(exchange_book) / "Postausgang").exists()


def test_a_cancelled_session_is_not_sent(book):
    session = model_of(book).session(SESSION)
    set_cell(book, schema.SITZUNGEN.name, ("id", session.id), "status", schema.STATUS_ABGESAGT)
    before = book.read_bytes()
    result = send(book)
    assert_clean_exit(result, 1)
    assert squeeze(f"{SESSION} ist abgesagt") in squeeze(result.output)
    assert book.read_bytes() == before
    assert not (documents_folder(book) / "Postausgang").exists()


def test_minutes_of_a_session_still_to_come_are_not_sent(book):
    before = book.read_bytes()
    result = send(book, document="niederschrift")
    assert_clean_exit(result, 1)
    assert squeeze("ihre Niederschrift kann erst danach versandt werden") in squeeze(result.output)
    assert book.read_bytes() == before
    assert not (documents_folder(book) / "Postausgang").exists()


@pytest.mark.slow
def test_anmelden_stores_only_a_password_the_server_accepted(exchange_book, ews_server, memory_keyring,
                                                             monkeypatch):
    monkeypatch.delenv("KPR_PASSWORT")
    wrong = kpr("anmelden", exchange_book, input="Falsch-123\n")
    assert_clean_exit(wrong, 1)
    assert squeeze("Anmeldung am Exchange-Server fehlgeschlagen") in squeeze(wrong.output)
    assert "Falsch-123" not in wrong.output
    assert memory_keyring.store == {}

    right = kpr("anmelden", exchange_book, input=EWS_PASSWORD + "\n")
    assert_clean_exit(right, 0)
    assert EWS_PASSWORD not in right.output
    assert memory_keyring.store == {(SERVICE, EWS_USER): EWS_PASSWORD}

    assert_clean_exit(send(exchange_book), 0)  # the stored password is the one the send uses
    assert len(ews_server.delivered) == len(send_log(exchange_book))


def test_anmelden_for_the_outbox_needs_nothing(book, memory_keyring):
    result = kpr("anmelden", book)
    assert_clean_exit(result, 0)
    assert squeeze("keine Anmeldung nötig") in squeeze(result.output)
    assert memory_keyring.store == {}


@pytest.mark.parametrize(("settings", "missing"), [
    (dict(transport="exchange", ews_url="https://mail.dresden.example/EWS/Exchange.asmx", exchange_user=""),
     "In den Einstellungen fehlt der Benutzername für Exchange (username)."),
    (dict(transport="exchange", ews_url="", exchange_user="STADT\\kpr"),
     "In den Einstellungen fehlt die EWS-Adresse des Exchange-Servers (ews_url)."),
    (dict(transport="smtp", smtp_host="smtp.dresden.example", smtp_user=""),
     "Im Blatt „Einstellungen“ fehlt der SMTP-Benutzer"),
])
def test_anmelden_names_the_missing_setting(book, memory_keyring, settings, missing):
    set_settings(book, **settings)
    result = kpr("anmelden", book, input="Geheim-123\n")
    assert_clean_exit(result, 1)
    assert missing in result.stderr
    assert "keine Anmeldung nötig" not in result.output and "Kennwort für" not in result.output
    assert memory_keyring.store == {}


@pytest.mark.parametrize("sender", ["", "geschaeftsstelle(at)dresden"])
def test_no_valid_sender_stops_the_send_naming_the_cell(book, sender):
    set_settings(book, sender=sender)
    before = book.read_bytes()
    result = send(book)
    assert_clean_exit(result, 1)
    row = {s.key: r for r, s in enumerate(schema.SETTINGS, start=2)}["sender"]
    assert squeeze(f"Einstellungen!B{row}") in squeeze(result.output)
    assert book.read_bytes() == before
    assert not (documents_folder(book) / "Postausgang").exists()
