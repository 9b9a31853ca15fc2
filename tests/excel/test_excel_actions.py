"""The button actions on xlwings' remote engine, called the way the ribbon calls them."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from kpr_excel.app import check, report
from kpr_excel.book import loader, xlwings_io
from kpr_excel.documents import context
from kpr_excel.domain import deadlines, schema
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Location
from kpr_excel.domain.model import Model, Session, Source
from kpr_excel.excel import actions as excel_actions
from kpr_excel.excel import buttons
from tests.excel import remote
from tests.excel.conftest import STICHTAG


def _alerts(xlbook) -> list[dict]:
    return [dict(zip(("prompt", "title", "buttons", "mode"), a["args"]))
            for a in xlbook.json()["actions"] if a["func"] == "alert"]


@pytest.mark.slow
def test_regeln_pruefen_end_to_end(workbooks, click):
    generated, computed = workbooks["damaged"]
    request = remote.payload(computed)
    xlbook = remote.book(request)

    log = click(buttons.regeln_pruefen, xlbook)

    today = date.today()
    expected = check.check_file(generated, today)
    (op,) = report.pruefung_edits(expected.findings, today).operations
    written = remote.sheet_values(remote.apply(request, xlbook.json()["actions"]), schema.PRUEFUNG.name)
    assert written[0][0].startswith("Prüfung vom ") and f"Stichtag {today:%d.%m.%Y}" in written[0][0]
    assert written[1] == [c.header for c in schema.PRUEFUNG.columns]
    assert written[2:] == [[remote.excel_value(v) for v in row] for row in op.rows]
    (alert,) = _alerts(xlbook)
    assert (alert["title"], alert["buttons"], alert["mode"]) == ("KPR", "ok", "info")
    assert alert["prompt"].startswith(f"Prüfung zum Stichtag {today:%d.%m.%Y}: {report.summary(expected.findings)}")
    assert expected.findings[0].format() in alert["prompt"]
    assert "Blatt „Pruefung“" in alert["prompt"]
    assert not log.exists()


@pytest.mark.slow
def test_progress_goes_to_the_status_bar_and_back_to_excel(workbooks, click):
    app = remote.StandInApp()
    click(buttons.regeln_pruefen, remote.StandInBook(remote.book(remote.payload(workbooks["demo"][1])), app))

    assert app.statuses == ["KPR: Regeln prüfen …", "KPR: Mappe wird gelesen …", "KPR: Regeln werden geprüft …",
                            "KPR: Blatt „Pruefung“ wird geschrieben …", False]
    assert [a["mode"] for a in app.alerts] == ["info"]


@pytest.mark.slow
def test_fristen_lists_the_open_deadlines(workbooks):
    generated, computed = workbooks["demo"]
    expected = deadlines.open_deadlines(loader.load_file(generated).model, STICHTAG)
    assert expected

    text = excel_actions.fristen_anzeigen(remote.book(remote.payload(computed)), stichtag=STICHTAG)

    lines = [line for line in text.splitlines() if line.startswith("• ")]
    assert len(lines) == min(len(expected), excel_actions.SHOWN_LINES)
    for line, deadline in zip(lines, expected):
        assert line.startswith(f"• {deadline.due:%d.%m.%Y}  {deadline.kind} {deadline.session_id}")


# ---------------------------------------------------------------- the session to work on


def _book_selecting(workbooks, name, sheet, row, answer=None):
    request = remote.payload(workbooks[name][1], active=sheet, selection=f"B{row}")
    app = remote.StandInApp(answer)
    xlbook = remote.StandInBook(remote.book(request), app)
    loaded = loader.load_book(xlwings_io.read_book(xlbook))
    return xlbook, loaded, app


@pytest.mark.slow
def test_the_selected_session_row_is_used_without_asking(workbooks):
    xlbook, loaded, app = _book_selecting(workbooks, "demo", "Sitzungen", 5)
    (session,) = [s for s in loaded.model.sessions if s.src.row == 5]
    assert excel_actions.choose_session(xlbook, loaded, STICHTAG) == session.id
    assert app.alerts == []


@pytest.mark.slow
def test_a_selected_agenda_row_gives_its_session(workbooks):
    xlbook, loaded, app = _book_selecting(workbooks, "demo", "Tagesordnung", 9)
    (item,) = [i for i in loaded.model.agenda if i.src.row == 9]
    assert excel_actions.choose_session(xlbook, loaded, STICHTAG) == item.session
    assert app.alerts == []


@pytest.mark.parametrize(("sheet", "row"), [("Sitzungen", 1), ("Mitglieder", 5)])
@pytest.mark.parametrize("answer", ["yes", "no"])
@pytest.mark.slow
def test_without_a_selected_session_the_next_one_is_offered(workbooks, sheet, row, answer):
    xlbook, loaded, app = _book_selecting(workbooks, "demo", sheet, row, answer)
    upcoming = context.next_session(loaded.model, STICHTAG)

    chosen = excel_actions.choose_session(xlbook, loaded, STICHTAG)

    assert chosen == (upcoming.id if answer == "yes" else None)
    (question,) = app.alerts
    assert question["buttons"] == "yes_no" and upcoming.id in question["prompt"]
    assert "keine Sitzung markiert" in question["prompt"]


@pytest.mark.slow
def test_a_selected_row_that_cannot_be_used_is_explained(workbooks):
    damaged = loader.load_file(workbooks["damaged"][0])
    (broken,) = [f.location.row for f in damaged.findings
                 if f.code == "DATA-1" and f.location.sheet == "Sitzungen"]
    xlbook, loaded, app = _book_selecting(workbooks, "damaged", "Sitzungen", broken)
    with pytest.raises(KprError, match=f"Die markierte Zeile {broken} im Blatt „Sitzungen“ kann nicht "
                                       "verwendet werden:\n• .*Pflichtfeld „Gremium“ ist leer"):
        excel_actions.choose_session(xlbook, loaded, STICHTAG)
    assert app.alerts == []


@pytest.mark.slow
def test_an_agenda_row_of_an_unknown_session_is_explained(workbooks):
    damaged = loader.load_file(workbooks["damaged"][0])
    (row,) = [i.src.row for i in damaged.model.agenda if damaged.model.session(i.session) is None]
    with pytest.raises(KprError, match="„KPR-1999-9“"):
        excel_actions.session_at(damaged, Location("Tagesordnung", row))


def _session(sid, gremium, day, status="geplant", row=2):
    return Session(Source("Sitzungen", row), id=sid, gremium=gremium, date=day, status=status)


def test_the_next_session_is_the_next_kpr_session_that_takes_place():
    today = date(2027, 3, 1)
    model = Model(sessions=(
        _session("KPR-alt", "KPR", date(2027, 2, 28), "durchgeführt"),
        _session("JF", "Jour fixe", date(2027, 3, 2)),
        _session("KPR-abgesagt", "KPR", date(2027, 3, 3), "abgesagt"),
        _session("KPR-spaeter", "KPR", date(2027, 6, 9)),
        _session("KPR-heute", "KPR", today, "eingeladen"),
    ))
    assert context.next_session(model, today).id == "KPR-heute"
    assert context.next_session(model, date(2027, 6, 10)) is None


def test_without_any_coming_session_the_user_is_told_what_to_do():
    class Loaded:
        model, findings = Model(), ()

    class NothingSelected:
        selection = None

    with pytest.raises(KprError, match="im Blatt „Sitzungen“ die Zeile der Sitzung anklicken"):
        excel_actions.choose_session(NothingSelected(), Loaded(), STICHTAG)


# ---------------------------------------------------------------- errors


def _without_sheet(request, name):
    request["sheets"] = [s for s in request["sheets"] if s["name"] != name]
    return request


@pytest.mark.slow
def test_an_unusable_workbook_is_explained_in_german(workbooks, click):
    xlbook = remote.book(_without_sheet(remote.payload(workbooks["demo"][1]), "Mitglieder"))
    click(buttons.regeln_pruefen, xlbook)

    (alert,) = _alerts(xlbook)
    assert alert["mode"] == "critical"
    assert alert["prompt"].startswith("Regeln prüfen: Die Mappe kann so nicht verwendet werden:\n• ")
    assert "Das Tabellenblatt „Mitglieder“ fehlt" in alert["prompt"]
    assert [a["func"] for a in xlbook.json()["actions"]] == ["alert"]  # nothing written


@pytest.mark.slow
def test_fristen_on_an_unusable_workbook_is_no_empty_list(workbooks, click):
    xlbook = remote.book(_without_sheet(remote.payload(workbooks["demo"][1]), "Sitzungen"))
    click(buttons.fristen_anzeigen, xlbook)
    (alert,) = _alerts(xlbook)
    assert alert["mode"] == "critical" and "„Sitzungen“ fehlt" in alert["prompt"]


@pytest.mark.slow
def test_a_bug_is_reported_in_german_with_the_details_in_the_log(workbooks, click, monkeypatch):
    def broken(*args):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(check, "check_loaded", broken)
    xlbook = remote.book(remote.payload(workbooks["demo"][1]))
    log = click(buttons.regeln_pruefen, xlbook)

    (alert,) = _alerts(xlbook)
    assert alert["mode"] == "critical"
    assert alert["prompt"].startswith("»Regeln prüfen« ist mit einem unerwarteten Fehler abgebrochen.")
    assert "Traceback" not in alert["prompt"]
    assert "Traceback" in log.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_write_that_cannot_be_done_is_explained_in_german(workbooks, click, monkeypatch):
    """The Versand header is gone: the adapter refuses, the user reads why."""
    from kpr_excel.book.edits import Edits, UpsertRows

    request = remote.payload(workbooks["demo"][1])
    versand = next(s for s in request["sheets"] if s["name"] == "Versand")
    versand["values"] = [[]]
    xlbook = remote.book(request)

    def log_something(book):
        xlwings_io.write_edits(book, Edits((UpsertRows("Versand", "key", ({"key": "K"},)),)))

    monkeypatch.setattr(excel_actions, "einladung_senden", log_something, raising=False)
    click(buttons.einladung_senden, xlbook)

    (alert,) = _alerts(xlbook)
    assert alert["mode"] == "critical"
    assert alert["prompt"] == ("Einladung senden: Im Blatt „Versand“ wurde keine Überschriftenzeile gefunden "
                               "(erwartet u. a. „Schlüssel“). Es wird nichts hineingeschrieben; bitte die "
                               "Überschriften wiederherstellen.")


@pytest.mark.slow
def test_the_actions_module_imports_no_heavy_library():
    heavy = ("openpyxl", "xlwings", "docx", "docxtpl", "exchangelib", "matplotlib", "jinja2", "holidays")
    code = ("import sys, kpr_excel.excel.actions; "
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))")
    root = Path(excel_actions.__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- documents


def _saved_book(workbooks, folder, *, sheet=None, row=None, answer=None):
    request = remote.saved_payload(workbooks["demo"][1], folder, active=sheet, selection=f"A{row}" if row else None)
    app = remote.StandInApp(answer)
    return remote.StandInBook(remote.book(request), app), app


def _docx_text(path) -> str:
    import docx

    document = docx.Document(path)
    cells = [c.text for t in document.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


@pytest.mark.slow
def test_the_invitation_of_the_selected_session_goes_beside_the_workbook(workbooks, tmp_path):
    from kpr_excel.domain.values import german_date_long

    model = loader.load_file(workbooks["demo"][0]).model
    session = next(s for s in model.sessions if s.gremium == "KPR" and s.date > STICHTAG)
    xlbook, app = _saved_book(workbooks, tmp_path, sheet="Sitzungen", row=session.src.row)

    text = excel_actions.einladung_erstellen(xlbook, today=STICHTAG)

    files = sorted((tmp_path / model.settings.output_dir).glob("*.docx"))
    assert files and all(f.name in text for f in files)
    (members,) = [f for f in files if f.name.endswith("_Einladung.docx")]
    assert german_date_long(session.date) in _docx_text(members)
    assert app.alerts == []  # the selection answered which session
    assert app.statuses[-1] == f"KPR: Einladung zur Sitzung {session.id} wird erstellt …"


@pytest.mark.slow
def test_declining_the_offered_session_writes_nothing(workbooks, tmp_path):
    xlbook, app = _saved_book(workbooks, tmp_path, answer="no")
    assert excel_actions.niederschrift_erstellen(xlbook, today=STICHTAG) == ""
    assert len(app.alerts) == 1 and not list(tmp_path.rglob("*.docx"))


@pytest.mark.slow
def test_the_yearly_report_is_of_the_year_due(workbooks, tmp_path):
    xlbook, _ = _saved_book(workbooks, tmp_path)
    text = excel_actions.jahresbericht_erstellen(xlbook, today=STICHTAG)
    (report_file,) = tmp_path.rglob("*.docx")
    assert report_file.name == f"{STICHTAG.year}_KPR_Jahresbericht.docx" and report_file.name in text


@pytest.mark.parametrize(("today", "year"), [
    (date(2027, 3, 31), 2026), (date(2027, 4, 1), 2027), (date(2027, 1, 2), 2026), (date(2026, 12, 1), 2026)])
def test_report_year_follows_the_deadline_of_paragraph_5(today, year):
    assert excel_actions.report_year(Model(), today) == year


@pytest.mark.slow
def test_documents_need_a_saved_workbook(workbooks, click):
    request = remote.payload(workbooks["demo"][1])
    request["book"]["name"] = "Mappe1"  # a new book that was never saved
    xlbook = remote.book(request)
    click(buttons.einladung_erstellen, xlbook)
    (alert,) = _alerts(xlbook)
    assert alert["mode"] == "critical"
    assert alert["prompt"].startswith("Einladung erstellen: Die Mappe „Mappe1“ ist noch nicht gespeichert.")
