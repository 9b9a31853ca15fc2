"""What each ribbon button does, on the workbook open in Excel (an xlwings Book).

``kpr_excel.excel.buttons`` calls ``<action>(book)`` and shows a returned text in a message box; a
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

from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError, WorkbookUnusable
from kpr_excel.domain.findings import Location, Severity
from kpr_excel.domain.schema import DocumentKind
from kpr_excel.excel.ui import alert, status

#: At most this many findings or deadlines are listed in a message box.
SHOWN_LINES = 12


def regeln_pruefen(book: Any, *, stichtag: date | None = None) -> str:
    """Check the open workbook against every rule; the findings replace the Pruefung sheet."""
    from kpr_excel.app import check, report
    from kpr_excel.book import xlwings_io
    from kpr_excel.domain.values import german_date

    stichtag = stichtag or date.today()
    loaded = _load(book)
    progress(book, "Regeln werden geprüft …")
    result = check.check_loaded(loaded, stichtag)
    progress(book, "Blatt „Pruefung“ wird geschrieben …")
    xlwings_io.write_edits(book, report.pruefung_edits(result.findings, stichtag))
    text = f"Prüfung zum Stichtag {german_date(stichtag)}: {report.summary(result.findings)}"
    serious = [f.format() for f in result.findings if f.severity >= Severity.WARNUNG]
    if serious:
        text += "\n\n" + _listed(serious)
    if result.findings:
        text += "\n\nAlle Befunde mit Verweis auf die Zelle stehen im Blatt „Pruefung“."
    return text


def fristen_anzeigen(book: Any, *, stichtag: date | None = None) -> str:
    """The coming and overdue deadlines of § 7, in a message box."""
    from kpr_excel.domain import deadlines
    from kpr_excel.domain.values import german_date

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
        return f"Zum Stichtag {german_date(stichtag)} ist keine Frist offen."
    return f"Offene Fristen zum Stichtag {german_date(stichtag)}:\n\n" + _listed(lines)


def einladung_erstellen(book: Any, *, today: date | None = None) -> str:
    """The invitation of the selected (or next) session, and a version for each guest."""
    return _session_document(book, DocumentKind.INVITATION, today or date.today())


def niederschrift_erstellen(book: Any, *, today: date | None = None) -> str:
    """The minutes of the selected (or next) session: a draft until it is marked held."""
    return _session_document(book, DocumentKind.MINUTES, today or date.today())


def jahresbericht_erstellen(book: Any, *, today: date | None = None) -> str:
    """The yearly report (§ 5) of the year of the selected session, else of the year due."""
    from kpr_excel.book import xlwings_io
    from kpr_excel.documents import produce

    today = today or date.today()
    loaded = _load(book)
    workbook = xlwings_io.workbook_path(book)
    selected = session_at(loaded, xlwings_io.selected_cell(book))
    year = loaded.model.session(selected).date.year if selected else report_year(loaded.model, today)
    progress(book, f"Jahresbericht {year} wird erstellt …")
    output = produce.write_yearly_report(workbook, loaded.model, year, today=today)
    return (_written(output, loaded) + "\n\nFür ein anderes Jahr: eine Sitzung dieses Jahres im Blatt "
            "„Sitzungen“ markieren und erneut klicken.")


def report_year(model, today: date) -> int:
    """The year whose report is due: the last one until its deadline (§ 5), then this one."""
    from kpr_excel.domain.deadlines import report_deadline

    try:
        due = report_deadline(today.year - 1, model.settings)
    except ValueError:  # a broken setting is a finding of its own; the rules' default here
        due = date(today.year, 3, 31)
    return today.year - 1 if today <= due else today.year


def choose_session(book: Any, loaded, today: date, *, held: bool = False) -> str | None:
    """The session to work on: the one whose row is selected in Sitzungen or Tagesordnung,
    otherwise, after asking, the next KPR session (with `held`: the last one held).
    None where the user declined."""
    from kpr_excel.book import xlwings_io
    from kpr_excel.documents.context import last_held_session, next_session

    selected = session_at(loaded, xlwings_io.selected_cell(book))
    if selected is not None:
        return selected
    offered = last_held_session(loaded.model, today) if held else next_session(loaded.model, today)
    which = "letzte durchgeführte" if held else "nächste"
    if offered is None:
        raise KprError(
            f"Es ist keine Sitzung markiert und keine {'durchgeführte' if held else 'kommende'} "
            "KPR-Sitzung eingetragen. Bitte im Blatt „Sitzungen“ die Zeile der Sitzung anklicken "
            "und erneut versuchen.")
    from kpr_excel.domain.values import german_date_long

    question = (f"Im Blatt „Sitzungen“ oder „Tagesordnung“ ist keine Sitzung markiert.\n\n"
                f"Die {which} KPR-Sitzung verwenden: {offered.id} am "
                f"{german_date_long(offered.date)}?")
    if alert(book.app, question, mode="info", buttons="yes_no") == "yes":
        return offered.id
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


def _session_document(book: Any, document: str, today: date) -> str:
    from kpr_excel.book import xlwings_io
    from kpr_excel.documents import produce

    loaded = _load(book)
    workbook = xlwings_io.workbook_path(book)
    session_id = choose_session(book, loaded, today)
    if session_id is None:
        return ""
    progress(book, f"{document} zur Sitzung {session_id} wird erstellt …")
    write = produce.write_invitation if document == DocumentKind.INVITATION else produce.write_minutes
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


def einladung_senden(book: Any, *, stichtag: date | None = None) -> str:
    """Send the invitation of the selected (or next) session, after showing whom it goes to."""
    from kpr_excel.sending.plan import INVITATION

    return _send(book, INVITATION, stichtag or date.today())


def niederschrift_senden(book: Any, *, stichtag: date | None = None) -> str:
    """Send the minutes of the selected (or last held) session, after showing whom they go to."""
    from kpr_excel.sending.plan import MINUTES

    return _send(book, MINUTES, stichtag or date.today())


def _send(book: Any, document: str, stichtag: date) -> str:
    """Plan, show the plan and ask, then send what is missing; the send log goes to the book.

    Nothing is sent while the plan is blocked, when everything is out already or when the
    user says no. One writer serves the whole run: the remote engine does not show a write
    to a later read, so the writer keeps track of the Versand sheet itself.
    """
    from kpr_excel.app import send as send_job
    from kpr_excel.book import xlwings_io
    from kpr_excel.domain.values import german_date_long
    from kpr_excel.mail import credentials
    from kpr_excel.mail.transports import login_name
    from kpr_excel.sending.plan import MINUTES

    loaded = _load(book)
    workbook = xlwings_io.workbook_path(book)
    session_id = choose_session(book, loaded, stichtag, held=document == MINUTES)
    if session_id is None:
        return ""
    session = loaded.model.session(session_id)
    progress(book, f"Versand der {document} zur Sitzung {session_id} wird geplant …")
    write_log = xlwings_io.Writer(book)
    # The log goes into the open book (xlwings), so the file's locks are Excel's own.
    prepared = send_job.prepare_send(workbook, loaded, session_id, document, stichtag=stichtag, writes_file=False)
    plan = prepared.plan
    if plan.blocked:
        heading, *blocking = send_job.blocked_message(plan).splitlines()
        alert(book.app, f"{heading}\n{_listed([line.strip() for line in blocking])}\n\nEs wurde nichts "
                        "gesendet. Die Befunde mit Verweis auf die Zelle zeigt „Regeln prüfen“.",
              mode="critical")
        return ""
    what = f"{plan.document} zur Sitzung {session.id} am {german_date_long(session.date)}"
    # By the send journal (and the Versand sheet): a draft saved earlier is not yet out; the
    # outbox counts what it prepared.
    pending = send_job.still_to_send(prepared)
    if not plan.deliveries:
        return f"Die {what} hat keine Empfänger; es wurde nichts gesendet."
    if not pending:
        return (f"Die {what} ist laut Versandjournal bereits an alle {len(plan.deliveries)} "
                "Empfänger versandt oder bereitgestellt; es wurde nichts erneut gesendet.")
    settings = send_job.transport_settings(loaded.model.settings, workbook)
    user = login_name(settings)
    if user and credentials.get_password(user) is None:
        raise KprError(f"Für den Versand ist kein Kennwort für {user} hinterlegt. Bitte zuerst im "
                       "Menüband „KPR“ auf „Anmelden“ klicken.")
    question = _plan_summary(plan, what, len(pending), settings)
    if document == MINUTES and not session.held:
        question += ("\n\nAchtung: Die Sitzung ist im Blatt „Sitzungen“ noch nicht als "
                     "„durchgeführt“ eingetragen.")
    if alert(book.app, question + "\n\nJetzt senden?", mode="info", buttons="yes_no") != "yes":
        return ""
    resend = False
    doubtful = send_job.in_doubt(prepared)
    if doubtful:
        names = [d.recipient.name for d in doubtful]
        answer = alert(book.app, f"{len(doubtful)} Nachricht(en) waren unterwegs, als ein früherer Versand "
                                 "abbrach; der Server kann nicht sagen, ob er sie angenommen hat:\n"
                                 f"{_listed(names)}\n\nDiese noch einmal senden? (Die Empfänger erhalten "
                                 "sie dann womöglich doppelt.) Bei „Nein“ werden sie als „unsicher“ "
                                 "gemeldet und nicht gesendet.", mode="info", buttons="yes_no")
        resend = answer == "yes"
    progress(book, f"Versand der {document} zur Sitzung {session_id} beginnt …")
    outcome = send_job.send_prepared(
        prepared, write_log=write_log, stichtag=stichtag, resend_uncertain=resend,
        progress=lambda sent, total, _name: progress(book, f"Versand {sent} von {total} …"))
    text = _capped(send_job.report_lines(outcome))
    if settings.kind == "outbox":
        text += (f"\n\nDie E-Mails liegen als Dateien (.eml) in {settings.outbox_dir}, bereit zum Senden "
                 "aus Outlook. Danach „Versand bestätigen“ klicken.")
    text += ("\n\nDas Versandjournal hält jede Nachricht fest; das Blatt „Versand“ zeigt es. Bitte die "
             "Mappe jetzt speichern.")
    if outcome.failed or outcome.uncertain:
        alert(book.app, text, mode="critical")
        return ""
    return text


def versand_bestaetigen(book: Any, *, stichtag: date | None = None) -> str:
    """The office confirms that the messages the outbox prepared for the selected session went
    out from Outlook; then "Einladung versandt am" and the status are set (invitation first,
    else the minutes, whichever has prepared messages)."""
    from kpr_excel.app import send as send_job
    from kpr_excel.book import xlwings_io
    from kpr_excel.sending.plan import INVITATION, MINUTES

    stichtag = stichtag or date.today()
    loaded = _load(book)
    workbook = xlwings_io.workbook_path(book)
    session_id = choose_session(book, loaded, stichtag)
    if session_id is None:
        return ""
    write_log = xlwings_io.Writer(book)
    for document in (INVITATION, MINUTES):
        prepared = send_job.prepare_send(workbook, loaded, session_id, document, stichtag=stichtag)
        if send_job.prepared_count(prepared):
            question = (f"Sind die {send_job.prepared_count(prepared)} im Postausgang bereitgestellten "
                        f"Nachrichten der {document} zur Sitzung {session_id} aus Outlook versandt?")
            if alert(book.app, question, mode="info", buttons="yes_no") != "yes":
                return ""
            return "\n".join(send_job.confirm_sent(prepared, write_log=write_log, stichtag=stichtag))
    return f"Für die Sitzung {session_id} ist nichts im Postausgang bereitgestellt, das zu bestätigen wäre."


def _plan_summary(plan, what: str, pending: int, settings) -> str:
    """What is about to happen, for the question before sending."""
    from collections import Counter

    from kpr_excel.mail import transports
    from kpr_excel.sending.plan import ROLE_DEPUTY, ROLE_GUEST, ROLE_MEMBER

    names = {ROLE_MEMBER: ("Mitglied", "Mitglieder"), ROLE_GUEST: ("Gast", "Gäste"),
             ROLE_DEPUTY: ("Vertretung anstelle des Mitglieds", "Vertretungen anstelle des Mitglieds")}
    roles = Counter(d.role for d in plan.deliveries)
    parts = [f"{count} {names.get(role, (role, role))[count != 1]}" for role, count in roles.items()]
    copies = sum(len(d.cc) for d in plan.deliveries)
    if copies:
        parts.append(f"dazu {copies} {'Vertretung' if copies == 1 else 'Vertretungen'} in Kopie")
    lines = [what, "", f"Empfänger: {len(plan.deliveries)} ({', '.join(parts)})"]
    if roles[ROLE_GUEST]:
        lines.append("Gäste erhalten nur die Tagesordnungspunkte, zu denen sie eingeladen sind.")
    already = len(plan.deliveries) - pending
    lines.append(f"Jetzt zu senden: {pending}" + (f" (bereits versandt: {already})" if already else ""))
    lines.append(f"Versand: {transports.describe(settings)}")
    if plan.notes:
        lines += ["", "Hinweise:", _listed(list(plan.notes))]
    return "\n".join(lines)


def anmelden(book: Any) -> str:
    """Ask for the mailbox password, prove it against the server, then keep it in the keyring.

    The password goes from the dialog to the server and the keyring only: never through the
    VBA command line, a log or a message.
    """
    from kpr_excel.app import send as send_job
    from kpr_excel.book import xlwings_io
    from kpr_excel.mail import credentials, transports
    from kpr_excel.mail.transports import login_name

    loaded = _load(book)
    settings = send_job.transport_settings(loaded.model.settings, xlwings_io.workbook_path(book))
    user = login_name(settings)
    if user is None:
        return (f"Für den Versandkanal „{settings.kind}“ ist keine Anmeldung nötig "
                "(Blatt „Einstellungen“, Versandkanal).")
    password = credentials.ask_password(user)
    if password is None:
        return ""
    progress(book, f"Anmeldung als {user} wird geprüft …")
    transports.check_login(settings, password)
    credentials.store_password(user, password)
    return (f"Anmeldung als {user} geprüft. Das Kennwort liegt im Kennwortspeicher des Systems "
            "(Windows: Anmeldeinformationsverwaltung); „Einladung senden“ und „Niederschrift "
            "senden“ verwenden es.")


def progress(book: Any, text: str) -> None:
    """Show `text` in Excel's status bar (cosmetic: never fails)."""
    status(book.app, f"KPR: {text}")


def _load(book: Any):
    """The open workbook, loaded; WorkbookUnusable where it is no master workbook."""
    from kpr_excel.book import loader, xlwings_io

    progress(book, "Mappe wird gelesen …")
    loaded = loader.load_book(xlwings_io.read_book(book))
    if loaded.unusable:
        errors = [f.format() for f in loaded.findings if f.severity == Severity.FEHLER]
        raise WorkbookUnusable("Die Mappe kann so nicht verwendet werden:\n" + _listed(errors))
    return loaded


def _listed(entries: list[str]) -> str:
    """Entries as bullets for a message box, at most SHOWN_LINES of them."""
    return _capped([f"• {entry}" for entry in entries])


def _capped(lines: list[str]) -> str:
    """At most SHOWN_LINES lines, so that a message box fits on the screen."""
    kept = lines[:SHOWN_LINES]
    if len(lines) > SHOWN_LINES:
        kept.append(f"… und {len(lines) - SHOWN_LINES} weitere")
    return "\n".join(kept)
