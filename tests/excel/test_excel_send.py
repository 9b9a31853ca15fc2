"""Einladung senden, Niederschrift senden and Anmelden, pressed the way the ribbon presses them.

The workbook is xlwings' remote engine fed as Excel feeds it, with a stand-in for Excel's
message box and status bar (`remote.StandInApp`); the outbox is the real transport, the
Exchange login goes to the loopback EWS server, the keyring is a dict.
"""

from __future__ import annotations

import email
import functools

import pytest

from kpr_excel.app import send as send_job
from kpr_excel.book import loader, xlwings_io
from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError
from kpr_excel.excel import actions as excel_actions
from kpr_excel.excel import buttons
from kpr_excel.mail import credentials
from kpr_excel.sending.dispatch import STATE_PREPARED
from kpr_excel.sending.plan import INVITATION, MINUTES
from tests.excel import remote
from tests.excel.conftest import STICHTAG
from tests.mail.conftest import (  # noqa: F401 - fixtures used by the Anmelden tests
    EWS_PASSWORD,
    EWS_USER,
    SENDER,
    ews_server,
    memory_keyring,
    no_password_in_environment,
    server_cert,
    test_ca,
)

pytestmark = pytest.mark.slow  # workbooks computed by LibreOffice, mail servers


@pytest.fixture
def on_stichtag(monkeypatch):
    """The buttons call each action with today's date; here it is the workbooks' Stichtag."""
    for name in ("einladung_senden", "niederschrift_senden"):
        monkeypatch.setattr(excel_actions, name,
                            functools.partial(getattr(excel_actions, name), stichtag=STICHTAG))


def _book(request: dict, answer: str | None = None):
    app = remote.StandInApp(answer)
    return remote.StandInBook(remote.book(request), app), app


def _next_session(path):
    model = loader.load_file(path).model
    return next(s for s in model.sessions if s.gremium == schema.GREMIUM_KPR and s.date > STICHTAG)


def _expected_plan(path, session_id, document):
    """The plan the library makes from the file, for comparison with what the button did."""
    return send_job.prepare_send(path, loader.load_file(path), session_id, document, stichtag=STICHTAG).plan


def _outbox(folder):
    return sorted((folder / "Ausgabe" / send_job.OUTBOX_FOLDER).glob("*.eml"))


def _writes(xlbook) -> list[dict]:
    return [a for a in xlbook.json()["actions"] if a["func"] == "setValues"]


# ---------------------------------------------------------------- sending


def test_sending_the_invitation_end_to_end_and_a_second_click_sends_nothing(workbooks, click, on_stichtag,
                                                                          tmp_path):
    generated, computed = workbooks["demo"]
    session = _next_session(generated)
    plan = _expected_plan(generated, session.id, INVITATION)
    guests = [d for d in plan.deliveries if d.role == "Gast"]
    assert not plan.blocked and guests
    request = remote.saved_payload(computed, tmp_path, active="Sitzungen", selection=f"B{session.src.row}")
    xlbook, app = _book(request, answer="yes")

    log = click(buttons.einladung_senden, xlbook)

    question, outcome = app.alerts
    assert question["buttons"] == "yes_no" and question["prompt"].endswith("Jetzt senden?")
    assert f"Empfänger: {len(plan.deliveries)} (" in question["prompt"]
    assert f"{len(guests)} Gast" in question["prompt"]
    assert f"Jetzt zu senden: {len(plan.deliveries)}\n" in question["prompt"]
    assert (outcome["mode"], outcome["buttons"]) == ("info", "ok")
    assert outcome["prompt"].startswith(f"Einladung {session.id} über outbox: {len(plan.deliveries)} im "
                                        "Postausgang bereitgestellt (noch nicht versandt), 0 bereits früher "
                                        "erledigt, 0 fehlgeschlagen.")
    assert "Bitte die Mappe jetzt speichern" in outcome["prompt"]
    total = len(plan.deliveries)
    assert f"KPR: Versand 1 von {total} …" in app.statuses and f"KPR: Versand {total} von {total} …" in app.statuses
    assert app.statuses[-1] is False and not log.exists()

    # Every message lies in the outbox, addressed as planned.
    files = _outbox(tmp_path)
    recipients = sorted(email.message_from_bytes(f.read_bytes())["To"] for f in files)
    assert len(files) == total
    assert all(any(d.recipient.email in to for to in recipients) for d in plan.deliveries)

    # The send log came back from the journal as one block at the end, not cell by cell.
    position = [s["name"] for s in request["sheets"]].index(schema.VERSAND.name)
    versand = [a for a in _writes(xlbook) if a["sheet_position"] == position]
    assert len(versand) == 1 and all(a["row_count"] == total for a in versand)
    after = remote.apply(request, xlbook.json()["actions"])
    logged = loader.load_book(xlwings_io.read_book(remote.book(after))).model.send_log
    assert sorted(e.key for e in logged) == sorted(f"{d.key}|outbox" for d in plan.deliveries)
    assert {e.state for e in logged} == {STATE_PREPARED}  # the outbox prepares, Outlook sends

    # Excel now shows the log: a second click sends nothing and writes nothing.
    stamps = {f: f.stat().st_mtime_ns for f in files}
    again, app_again = _book(after, answer="yes")
    click(buttons.einladung_senden, again)
    (told,) = app_again.alerts
    assert told["buttons"] == "ok" and f"bereits an alle {total} Empfänger versandt" in told["prompt"]
    assert {f: f.stat().st_mtime_ns for f in _outbox(tmp_path)} == stamps
    assert _writes(again) == []


def test_a_blocked_send_lists_the_findings_and_sends_nothing(workbooks, click, on_stichtag, tmp_path):
    generated, computed = workbooks["damaged"]
    session = _next_session(generated)
    plan = _expected_plan(generated, session.id, INVITATION)
    assert plan.blocked
    xlbook, app = _book(remote.saved_payload(computed, tmp_path, active="Sitzungen",
                                             selection=f"A{session.src.row}"), answer="yes")

    click(buttons.einladung_senden, xlbook)

    (message,) = app.alerts
    assert message["mode"] == "critical"
    assert message["prompt"].startswith(f"Der Versand der Einladung für {session.id} ist gesperrt, bis diese "
                                        "Fehler behoben sind:\n• ")
    for finding in plan.blocking:
        assert f"• {finding.format()}" in message["prompt"]
    assert "Es wurde nichts gesendet." in message["prompt"]
    assert _writes(xlbook) == [] and not list(tmp_path.rglob("*.eml"))


def test_saying_no_at_the_question_sends_nothing(workbooks, click, on_stichtag, tmp_path):
    generated, computed = workbooks["demo"]
    session = _next_session(generated)
    item = next(i for i in loader.load_file(generated).model.agenda if i.session == session.id)
    xlbook, app = _book(remote.saved_payload(computed, tmp_path, active="Tagesordnung",
                                             selection=f"C{item.src.row}"), answer="no")

    click(buttons.einladung_senden, xlbook)

    (question,) = app.alerts  # the agenda row named the session; only the send was asked
    assert question["buttons"] == "yes_no" and f"Einladung zur Sitzung {session.id}" in question["prompt"]
    assert _writes(xlbook) == [] and not list(tmp_path.rglob("*.eml"))


def test_the_minutes_of_the_last_held_session_are_offered_and_sent(workbooks, on_stichtag, tmp_path):
    generated, computed = workbooks["demo"]
    model = loader.load_file(generated).model
    held = max((s for s in model.sessions if s.gremium == schema.GREMIUM_KPR and s.held), key=lambda s: s.date)
    plan = _expected_plan(generated, held.id, MINUTES)
    xlbook, app = _book(remote.saved_payload(computed, tmp_path), answer="yes")

    text = excel_actions.niederschrift_senden(xlbook)

    offer, question = app.alerts
    assert f"letzte durchgeführte KPR-Sitzung verwenden: {held.id}" in offer["prompt"]
    assert f"Niederschrift zur Sitzung {held.id}" in question["prompt"]
    assert text.startswith(f"Niederschrift {held.id} über outbox: {len(plan.deliveries)} im Postausgang "
                           "bereitgestellt")
    assert len(_outbox(tmp_path)) == len(plan.deliveries) > 0


def test_minutes_of_a_session_still_to_come_are_refused(workbooks, tmp_path):
    generated, computed = workbooks["demo"]
    session = _next_session(generated)
    xlbook, app = _book(remote.saved_payload(computed, tmp_path, active="Sitzungen",
                                             selection=f"A{session.src.row}"), answer="yes")
    with pytest.raises(KprError, match=f"Die Sitzung {session.id} findet erst am .* statt"):
        excel_actions.niederschrift_senden(xlbook, stichtag=STICHTAG)
    assert app.alerts == [] and not list(tmp_path.rglob("*.eml"))


def _with_settings(request: dict, **values) -> dict:
    """The payload with Einstellungen changed, as the office would type them."""
    labels = {s.label: s.key for s in schema.SETTINGS}
    rows = remote.sheet_values(request, schema.EINSTELLUNGEN.name)
    for row in rows:
        key = labels.get(row[0])
        if key in values:
            row[1] = values.pop(key)
    assert not values, f"no such setting rows: {values}"
    return request


def test_sending_without_a_stored_password_points_to_anmelden(workbooks, on_stichtag, memory_keyring, tmp_path):
    generated, computed = workbooks["demo"]
    session = _next_session(generated)
    request = _with_settings(remote.saved_payload(computed, tmp_path, active="Sitzungen",
                                                  selection=f"A{session.src.row}"),
                             transport="exchange", ews_url="https://127.0.0.1:9/EWS/Exchange.asmx",
                             mailbox=SENDER, exchange_user=EWS_USER)
    xlbook, app = _book(request, answer="yes")
    with pytest.raises(KprError, match=r"kein Kennwort für KPR\\geschaeftsstelle .*„Anmelden“"):
        excel_actions.einladung_senden(xlbook)
    assert app.alerts == [] and _writes(xlbook) == []


# ---------------------------------------------------------------- Anmelden


@pytest.fixture
def exchange_book(workbooks, ews_server, test_ca, tmp_path):
    """The demo set up to send through the loopback Exchange server."""
    request = _with_settings(remote.saved_payload(workbooks["demo"][1], tmp_path),
                             transport="exchange", ews_url=ews_server.url, mailbox=SENDER,
                             exchange_user=EWS_USER, ca_bundle=str(test_ca.ca_file))
    return _book(request)


def _typed(monkeypatch, answer):
    asked = []

    def ask(user):
        asked.append(user)
        return answer

    monkeypatch.setattr(credentials, "ask_password", ask)
    return asked


def _nowhere(password, xlbook, app, log):
    seen = [a["prompt"] for a in app.alerts] + [str(s) for s in app.statuses] + [str(xlbook.json())]
    assert not any(password in text for text in seen)
    assert not log.exists() or password not in log.read_text(encoding="utf-8")


def test_anmelden_checks_the_password_against_exchange_and_keeps_it(exchange_book, click, monkeypatch,
                                                                   memory_keyring, ews_server):
    xlbook, app = exchange_book
    asked = _typed(monkeypatch, EWS_PASSWORD)

    log = click(buttons.anmelden, xlbook)

    assert asked == [EWS_USER]
    assert memory_keyring.get_password(credentials.SERVICE, EWS_USER) == EWS_PASSWORD
    assert any(r.auth == "ok" for r in ews_server.requests)
    (message,) = app.alerts
    assert message["mode"] == "info" and message["prompt"].startswith(f"Anmeldung als {EWS_USER} geprüft.")
    _nowhere(EWS_PASSWORD, xlbook, app, log)


def test_a_wrong_password_is_explained_and_not_kept(exchange_book, click, monkeypatch, memory_keyring):
    xlbook, app = exchange_book
    _typed(monkeypatch, "ganz-falsch")

    log = click(buttons.anmelden, xlbook)

    (message,) = app.alerts
    assert message["mode"] == "critical"
    assert message["prompt"].startswith("Anmelden: Anmeldung am Exchange-Server fehlgeschlagen: "
                                        "Benutzername oder Passwort falsch")
    assert memory_keyring.store == {}
    _nowhere("ganz-falsch", xlbook, app, log)


def test_a_cancelled_password_dialog_changes_nothing(exchange_book, click, monkeypatch, memory_keyring,
                                                     ews_server):
    xlbook, app = exchange_book
    asked = _typed(monkeypatch, None)
    click(buttons.anmelden, xlbook)
    assert asked == [EWS_USER] and app.alerts == []
    assert memory_keyring.store == {} and ews_server.requests == []


def test_the_outbox_needs_no_login(workbooks, click, monkeypatch, tmp_path):
    xlbook, app = _book(remote.saved_payload(workbooks["demo"][1], tmp_path))
    asked = _typed(monkeypatch, "nie gefragt")
    click(buttons.anmelden, xlbook)
    (message,) = app.alerts
    assert message["mode"] == "info" and "„outbox“ ist keine Anmeldung nötig" in message["prompt"]
    assert asked == []


def test_without_a_display_anmelden_points_to_the_command_line(exchange_book, click, monkeypatch,
                                                               memory_keyring):
    """The real dialog: here there is no screen, so tkinter cannot open a window."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    xlbook, app = exchange_book
    click(buttons.anmelden, xlbook)
    (message,) = app.alerts
    assert message["mode"] == "critical"
    assert message["prompt"].startswith("Anmelden: Das Fenster für die Kennworteingabe kann hier nicht "
                                        "geöffnet werden.")
    assert "»kpr anmelden <Mappe.xlsx>«" in message["prompt"]
    assert memory_keyring.store == {}
