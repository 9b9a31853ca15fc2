"""What each ribbon button does, on the workbook open in Excel (an xlwings Book).

``kpr_excel.buttons`` calls ``<action>(book)`` and shows a returned text in a message box; a
``KprError`` raised here reaches the user as its German message. Each action reads the book
through the xlwings adapter, calls the same library functions as the CLI and writes the
results back in blocks.

A click starts a fresh Python, so this module imports only light modules at the top;
openpyxl (through the loader), Word, mail and plotting libraries are imported by the action
that needs them.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from . import schema
from .buttons import _alert, _status
from .errors import KprError, WorkbookUnusable
from .findings import Location, Severity

#: At most this many findings or deadlines are listed in a message box.
SHOWN_LINES = 12


def regeln_pruefen(book: Any, *, stichtag: date | None = None) -> str:
    """Check the open workbook against every rule; the findings replace the Pruefung sheet."""
    from . import check, report
    from .book import xlwings_io

    stichtag = stichtag or date.today()
    loaded = _load(book)
    progress(book, "Regeln werden geprüft …")
    result = check.check_loaded(loaded, stichtag)
    progress(book, "Blatt „Pruefung“ wird geschrieben …")
    xlwings_io.write_edits(book, report.pruefung_edits(result.findings, stichtag))
    text = f"Prüfung zum Stichtag {stichtag:%d.%m.%Y}: {report.summary(result.findings)}"
    serious = [f.format() for f in result.findings if f.severity >= Severity.WARNUNG]
    if serious:
        text += "\n\n" + _listed(serious)
    if result.findings:
        text += "\n\nAlle Befunde mit Verweis auf die Zelle stehen im Blatt „Pruefung“."
    return text


def fristen_anzeigen(book: Any, *, stichtag: date | None = None) -> str:
    """The coming and overdue deadlines of § 7, in a message box."""
    from . import deadlines
    from .values import german_date

    stichtag = stichtag or date.today()
    loaded = _load(book)
    settings = loaded.model.settings
    lines = []
    for deadline in deadlines.open_deadlines(loaded.model, stichtag):
        session = loaded.model.session(deadline.session_id)
        line = (f"{german_date(deadline.due)}  {deadline.kind} {deadline.session_id} "
                f"(Sitzung am {german_date(session.date)})")
        if deadline.act_by != deadline.due:
            line += f" (spätestens am {german_date(deadline.act_by)})"
        state = deadline.state(stichtag, settings.lookahead_days)
        lines.append(f"{line}: {state.value}")
    if not lines:
        return f"Zum Stichtag {stichtag:%d.%m.%Y} ist keine Frist offen."
    return f"Offene Fristen zum Stichtag {stichtag:%d.%m.%Y}:\n\n" + _listed(lines)


def einladung_erstellen(book: Any, *, today: date | None = None) -> str:
    """The invitation of the selected (or next) session, and a version for each guest."""
    return _session_document(book, "Einladung", today or date.today())


def niederschrift_erstellen(book: Any, *, today: date | None = None) -> str:
    """The minutes of the selected (or next) session: a draft until it is marked held."""
    return _session_document(book, "Niederschrift", today or date.today())


def jahresbericht_erstellen(book: Any, *, today: date | None = None) -> str:
    """The yearly report (§ 5) of the year of the selected session, else of the year due."""
    from . import documents
    from .book import xlwings_io

    today = today or date.today()
    loaded = _load(book)
    workbook = xlwings_io.workbook_path(book)
    selected = session_at(loaded, xlwings_io.selected_cell(book))
    year = loaded.model.session(selected).date.year if selected else report_year(loaded.model, today)
    progress(book, f"Jahresbericht {year} wird erstellt …")
    output = documents.write_yearly_report(workbook, loaded.model, year, today=today)
    return (_written(output, loaded) + "\n\nFür ein anderes Jahr: eine Sitzung dieses Jahres im Blatt "
            "„Sitzungen“ markieren und erneut klicken.")


def report_year(model, today: date) -> int:
    """The year whose report is due: the last one until its deadline (§ 5), then this one."""
    from .deadlines import report_deadline

    try:
        due = report_deadline(today.year - 1, model.settings)
    except ValueError:  # a broken setting is a finding of its own; the rules' default here
        due = date(today.year, 3, 31)
    return today.year - 1 if today <= due else today.year


def choose_session(book: Any, loaded, today: date) -> str | None:
    """The session to work on: the one whose row is selected in Sitzungen or Tagesordnung,
    otherwise the next KPR session after asking. None where the user declined."""
    from .book import xlwings_io

    selected = session_at(loaded, xlwings_io.selected_cell(book))
    if selected is not None:
        return selected
    upcoming = next_session(loaded.model, today)
    if upcoming is None:
        raise KprError(
            "Es ist keine Sitzung markiert und keine kommende KPR-Sitzung eingetragen. Bitte im "
            "Blatt „Sitzungen“ die Zeile der Sitzung anklicken und erneut versuchen.")
    from .values import german_date_long

    question = (f"Im Blatt „Sitzungen“ oder „Tagesordnung“ ist keine Sitzung markiert.\n\n"
                f"Die nächste KPR-Sitzung verwenden: {upcoming.id} am "
                f"{german_date_long(upcoming.date)}?")
    if _alert(book.app, question, mode="info", buttons="yes_no") == "yes":
        return upcoming.id
    return None


def session_at(loaded, where: Location | None) -> str | None:
    """The session of the row at `where` (a row of Sitzungen or Tagesordnung), else None.

    A row the loader could not use raises KprError with the reason, so the user is not asked
    about another session when they meant this one.
    """
    if where is None or where.sheet not in (schema.SITZUNGEN.name, schema.TAGESORDNUNG.name):
        return None
    model = loaded.model
    if where.sheet == schema.SITZUNGEN.name:
        found = next((s.id for s in model.sessions if s.src.row == where.row), None)
    else:
        found = next((i.session for i in model.agenda if i.src.row == where.row), None)
    if found is not None and model.session(found) is not None:
        return found
    problems = [f.format() for f in loaded.findings
                if f.location and (f.location.sheet, f.location.row) == (where.sheet, where.row)]
    if found is None and not problems:
        return None  # a title, header or empty row
    raise KprError(
        f"Die markierte Zeile {where.row} im Blatt „{where.sheet}“ kann nicht verwendet werden:\n"
        + _listed(problems or [f"Die Sitzung „{found}“ gibt es im Blatt „Sitzungen“ nicht."]))


def next_session(model, today: date):
    """The next KPR session on or after `today` that is not cancelled, or None."""
    upcoming = [s for s in model.sessions
                if s.gremium == schema.GREMIUM_KPR and not s.cancelled and s.date >= today]
    return min(upcoming, key=lambda s: (s.date, s.src.row), default=None)


def _session_document(book: Any, document: str, today: date) -> str:
    from . import documents
    from .book import xlwings_io

    loaded = _load(book)
    workbook = xlwings_io.workbook_path(book)
    session_id = choose_session(book, loaded, today)
    if session_id is None:
        return ""
    progress(book, f"{document} zur Sitzung {session_id} wird erstellt …")
    write = documents.write_invitation if document == "Einladung" else documents.write_minutes
    return _written(write(workbook, loaded.model, session_id, today=today), loaded)


def _written(output, loaded) -> str:
    """What a document job wrote, for a message box."""
    lines = ["Erstellt:"]
    for item in output.files:
        lines.append(f"• {item.label}: {item.path.name}")
        if item.kept:
            lines.append(f"  ({item.kept.name} ist in Word bearbeitet oder geöffnet und bleibt, wie sie ist.)")
    if output.files:
        lines.append(f"\nOrdner: {output.files[0].path.parent}")
    lines += output.notes
    errors = sum(1 for f in loaded.findings if f.severity == Severity.FEHLER)
    if errors:
        lines.append(f"\nAchtung: Die Mappe hat {errors} Datenfehler; die Dokumente können "
                     "unvollständig sein. Einzelheiten zeigt „Regeln prüfen“.")
    return "\n".join(lines)


def progress(book: Any, text: str) -> None:
    """Show `text` in Excel's status bar (cosmetic: never fails)."""
    _status(book.app, f"KPR: {text}")


def _load(book: Any):
    """The open workbook, loaded; WorkbookUnusable where it is no master workbook."""
    from . import loader
    from .book import xlwings_io

    progress(book, "Mappe wird gelesen …")
    loaded = loader.load_book(xlwings_io.read_book(book))
    if loaded.unusable:
        errors = [f.format() for f in loaded.findings if f.severity == Severity.FEHLER]
        raise WorkbookUnusable("Die Mappe kann so nicht verwendet werden:\n" + _listed(errors))
    return loaded


def _listed(entries: list[str]) -> str:
    """Lines for a message box, at most SHOWN_LINES of them."""
    lines = [f"• {entry}" for entry in entries[:SHOWN_LINES]]
    if len(entries) > SHOWN_LINES:
        lines.append(f"… und {len(entries) - SHOWN_LINES} weitere")
    return "\n".join(lines)
