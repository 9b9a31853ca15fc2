"""The pre-flight of a send: what would stop the run half-way or make it lie, found before the first message.

A send that fails after twenty messages because the send log cannot be written, or that
reports "20 versandt" while a member fell out of the roster for a typo, is worse than one that
does not start. So before anything goes out this module checks

- everything the run will write back: the sheets `Sitzungen` and `Versand` as the writer finds
  them (exact tab name, header row, the columns it fills), lock files of Excel and LibreOffice,
  write permission and free space of the workbook's folder and the output folder;
- everyone who should receive the document but was left out by the loader for a data error
  (an empty Vorname, a Kategorie typed `Mitgleid`, a duplicate id), an agenda item left out
  (no title), a working group member who is not in the roster, and every rule that crashed;
- the moment: minutes only of a session that took place and whose items all have a result;
  an invitation to a past session only when asked for explicitly.

Each problem is an error-level finding with its place; the send job adds them to the plan's
blocking findings, so that the preview shows them and the send refuses to start.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kpr_excel.book.layout import norm
from kpr_excel.book.loader import LoadResult
from kpr_excel.domain import schema, values
from kpr_excel.domain.errors import WorkbookNotWritable
from kpr_excel.domain.findings import Code, Finding, Location, Severity
from kpr_excel.domain.model import Model, Session, Source
from kpr_excel.domain.schema import DocumentKind

FAMILY_PREFLIGHT = "Prüfungen vor dem Versand"
_F = (Severity.FEHLER,)
WRITE_BACK = Code("VERSAND-1", "rueckschreiben-unmoeglich", _F,
                  "Das Versandprotokoll oder der Stand der Sitzung könnte nach dem Versand nicht in die Mappe "
                  "geschrieben werden: ein Blatt ist umbenannt, die Überschriftenzeile verschoben oder eine Spalte "
                  "fehlt.", FAMILY_PREFLIGHT)
STORAGE = Code("VERSAND-2", "ablage-nicht-beschreibbar", _F,
               "Die Mappe oder der Ausgabeordner kann nicht beschrieben werden: in Excel oder LibreOffice "
               "geöffnet, schreibgeschützt, kein Ordner oder zu wenig freier Speicherplatz.", FAMILY_PREFLIGHT)
DROPPED_RECIPIENT = Code("VERSAND-3", "empfaenger-faellt-weg", _F,
                         "Eine Person, die das Dokument erhalten müsste, fiele wegen eines Datenfehlers "
                         "stillschweigend aus dem Versand.", FAMILY_PREFLIGHT, "§ 7")
DROPPED_ITEM = Code("VERSAND-4", "top-faellt-weg", _F,
                    "Ein Tagesordnungspunkt der Sitzung wird wegen eines Datenfehlers (etwa ohne Titel) nicht "
                    "berücksichtigt und fehlte im Dokument.", FAMILY_PREFLIGHT, "§ 7")
RULE_CRASHED = Code("VERSAND-5", "regel-nicht-geprueft", _F,
                    "Eine Regel konnte nicht geprüft werden; solange ist nicht sicher, dass der Versand die "
                    "Geschäftsordnung einhält.", FAMILY_PREFLIGHT)
WRONG_MOMENT = Code("VERSAND-6", "falscher-zeitpunkt", _F,
                    "Niederschrift einer Sitzung, die noch nicht als stattgefunden eingetragen ist oder deren "
                    "Ergebnisse fehlen, oder Einladung zu einer vergangenen Sitzung ohne ausdrückliche Bestätigung.",
                    FAMILY_PREFLIGHT, "§ 7")
CODES: tuple[Code, ...] = (WRITE_BACK, STORAGE, DROPPED_RECIPIENT, DROPPED_ITEM, RULE_CRASHED, WRONG_MOMENT)
#: Blocks that concern the files, not the data: the command exits with 2 as for an unusable file.
ENVIRONMENT_CODES = frozenset({WRITE_BACK.code, STORAGE.code})

#: Free space the workbook's folder and the output folder need at least: a backup and a temporary
#: copy of the workbook, the documents and one .eml per recipient fit many times over.
MIN_FREE_BYTES = 50 * 1024 * 1024
#: Temporary files (`.~kpr-*`, see book/files.py and documents/output.py) older than this were left
#: by a run that crashed; younger ones may belong to a run going on right now.
STALE_TEMP_SECONDS = 15 * 60
TEMP_PREFIX = ".~kpr-"
#: Columns of Versand the send needs to find again on the next run (the key and what happened).
VERSAND_NEEDED = ("key", "session", "document", "recipient", "state")
#: What a sent document records in Sitzungen.
SITZUNGEN_NEEDED = {DocumentKind.INVITATION: ("invitation_sent", "status"),
                    DocumentKind.MINUTES: ("minutes_sent",)}
PAST_SESSION_OPTION = "--vergangene-sitzung"


@dataclass(frozen=True)
class Request:
    """One send as the pre-flight sees it."""

    workbook: Path
    loaded: LoadResult
    findings: tuple[Finding, ...]  # the loader's and the rules' findings
    session: Session
    document: str
    delivered: frozenset[str]  # ids of everyone the plan sends to, copies included
    stichtag: date
    past_session: bool = False  # the user confirmed an invitation to a session already held
    writes_file: bool = True  # the send log goes into the file (command line), not the open book (button)
    output: Path | None = None  # the output folder (documents, Postausgang)
    outbox: Path | None = None  # the outbox folder where the channel is the outbox


def preflight(request: Request) -> tuple[Finding, ...]:
    """Every reason the send must not start, as error-level findings; removes stale temporary files first."""
    folders = [request.workbook.resolve().parent] + [f for f in (request.output, request.outbox) if f]
    remove_stale_temp_files(folders)
    found: list[Finding] = []
    if request.writes_file:
        found += workbook_write_back(request.workbook, request.document, request.session)
    found += folder_problems(request.workbook, request.output, request.outbox, workbook_folder=request.writes_file)
    found += dropped_recipients(request)
    found += dropped_items(request.loaded, request.session, request.document)
    found += crashed_rules(request.findings)
    found += wrong_moment(request)
    return tuple(found)


def check_send(workbook: Path, loaded: LoadResult, findings: tuple[Finding, ...], plan, *, stichtag: date,
               past_session: bool = False, writes_file: bool = True,
               outbox_folder: str | None = None) -> tuple[Finding, ...]:
    """The pre-flight of `plan` (a sending.plan.Plan): what blocks it besides the rules' findings.

    `outbox_folder`: the outbox's folder inside the output folder, checked where the channel of
    Einstellungen is the outbox.
    """
    from kpr_excel.documents.output import output_dir

    output = output_dir(workbook, loaded.model)
    channel = (loaded.model.settings.transport or "outbox").strip().casefold()
    outbox = output / outbox_folder if outbox_folder and channel == "outbox" else None
    delivered = frozenset({d.recipient.id for d in plan.deliveries} | {p.id for d in plan.deliveries for p in d.cc})
    return preflight(Request(Path(workbook), loaded, findings, plan.session, plan.document, delivered, stichtag,
                             past_session, writes_file, output, outbox))


def exit_code(blocking: Iterable[Finding]) -> int:
    """2 where a file or folder blocks (as for an unusable workbook), else 1."""
    return 2 if any(f.code in ENVIRONMENT_CODES for f in blocking) else 1


# ------------------------------------------------------------------ what the run writes back


def workbook_write_back(path: Path, document: str, session: Session) -> list[Finding]:
    """The workbook file as the writer will see it after the last message: lock files, parts, layout."""
    from kpr_excel.book import writer

    found: list[Finding] = []
    name = path.name
    office_lock = path.with_name(f".~lock.{name}#")
    if office_lock.exists():
        found.append(STORAGE.finding(
            f"Die Mappe {name} ist gerade in LibreOffice geöffnet ({office_lock.name}). Bitte dort schließen; "
            "sonst ginge das Versandprotokoll beim Speichern verloren.", Location(name)))
    try:
        writer.check_writable(path)
    except WorkbookNotWritable as exc:
        found.append(STORAGE.finding(str(exc), Location(name)))
    found += _probe_file(path)
    if found:
        return found
    return _layout(path, document, session)


def _layout(path: Path, document: str, session: Session) -> list[Finding]:
    """Sitzungen and Versand where the writer looks for them: exact tab names, header, columns."""
    from kpr_excel.book import writer
    from kpr_excel.book.reader import load_workbook

    workbook = load_workbook(path, read_only=True)
    try:
        found: list[Finding] = []
        for sheet, needed in ((schema.SITZUNGEN, SITZUNGEN_NEEDED.get(DocumentKind(document), ())),
                              (schema.VERSAND, VERSAND_NEEDED)):
            similar = [title for title in workbook.sheetnames if norm(title) == norm(sheet.name)]
            if sheet.name not in workbook.sheetnames:
                if similar:
                    found.append(WRITE_BACK.finding(
                        f"Das Tabellenblatt heißt „{similar[0]}“ statt „{sheet.name}“ (Leerzeichen oder Groß- und "
                        f"Kleinschreibung). Gelesen wird es, beschrieben nicht; bitte in „{sheet.name}“ "
                        "umbenennen.", Location(similar[0])))
                elif sheet.required:
                    found.append(WRITE_BACK.finding(f"Das Tabellenblatt „{sheet.name}“ fehlt.", Location(sheet.name)))
                continue
            try:
                _, columns = writer.header_row(workbook[sheet.name], sheet, needed=needed)
            except WorkbookNotWritable as exc:
                found.append(WRITE_BACK.finding(f"{exc} Der Versand könnte danach nicht eingetragen werden.",
                                                Location(sheet.name, 1)))
                continue
            if sheet is schema.SITZUNGEN:
                found += _same_columns(session.src, columns, needed)
        return found
    finally:
        workbook.close()


def _same_columns(src: Source, columns: dict[str, int], needed: Iterable[str]) -> list[Finding]:
    """The writer must find each column where the loader read it, or it writes into the wrong cell."""
    found = []
    read = dict(src.columns)
    for key in needed:
        written = schema.column_letter(columns[key])
        if read.get(key) not in (None, written):
            header = schema.SITZUNGEN.column(key).header
            found.append(WRITE_BACK.finding(
                f"Die Spalte „{header}“ wird in Spalte {read[key]} gelesen, aber in Spalte {written} "
                "geschrieben (steht die Überschriftenzeile zu weit unten?). Bitte die Überschriften in die "
                "oberste Zeile setzen.", src.at(key)))
    return found


def _probe_file(path: Path) -> list[Finding]:
    """Open the workbook for writing without writing: refused on a read-only share or a protected file."""
    try:
        with open(path, "r+b"):
            pass
    except OSError as exc:
        return [STORAGE.finding(f"Die Mappe {path.name} kann nicht beschrieben werden: {_reason(exc)}.",
                                Location(path.name))]
    return []


def folder_problems(workbook: Path, output: Path | None, outbox: Path | None, *,
                    workbook_folder: bool = True) -> list[Finding]:
    """Each folder the run writes into exists as a folder (or can be made), is writable and has room."""
    found: list[Finding] = []
    folders: list[tuple[Path, str]] = []
    if workbook_folder:
        folders.append((workbook.resolve().parent, "Ordner der Mappe (Sicherung und Speichern)"))
    if output is not None:
        folders.append((output, "Ausgabeordner (Einstellungen, „Ausgabeordner“)"))
    if outbox is not None:
        folders.append((outbox, "Postausgang"))
    checked: set[Path] = set()
    for folder, label in folders:
        existing, blocker = _nearest_folder(folder)
        if blocker is not None:
            found.append(STORAGE.finding(f"{label}: {blocker} ist eine Datei, kein Ordner. Bitte die Datei "
                                         "umbenennen oder einen anderen Ordner eintragen.", Location(str(folder))))
            continue
        if existing in checked:
            continue
        checked.add(existing)
        problem = _probe_folder(existing) or _free_space(existing)
        if problem:
            found.append(STORAGE.finding(f"{label} {existing}: {problem}.", Location(str(existing))))
    return found


def _nearest_folder(folder: Path) -> tuple[Path, Path | None]:
    """The folder itself or its nearest existing parent; and a file standing where a folder must be."""
    for candidate in (folder, *folder.parents):
        if candidate.is_dir():
            return candidate, None
        if candidate.exists():
            return candidate, candidate
    return folder, None  # pragma: no cover - the root always exists


def _probe_folder(folder: Path) -> str:
    """Create and remove a temporary file: the only test that holds on network shares and for root."""
    try:
        handle, name = tempfile.mkstemp(prefix=TEMP_PREFIX + "probe-", dir=folder)
    except OSError as exc:
        return f"kann nicht beschrieben werden: {_reason(exc)}"
    import os

    os.close(handle)
    Path(name).unlink(missing_ok=True)
    return ""


def _free_space(folder: Path) -> str:
    free = shutil.disk_usage(folder).free
    if free < MIN_FREE_BYTES:
        return (f"nur noch {free / 1024 / 1024:.1f} MB frei, mindestens {MIN_FREE_BYTES // 1024 // 1024} MB "
                "werden gebraucht; bitte Platz schaffen")
    return ""


def _reason(exc: OSError) -> str:
    from kpr_excel.domain.errors import environment_error

    translated = environment_error(exc)
    if translated is not None:
        return str(translated).split(" (")[0].rstrip(".")
    return exc.strerror or type(exc).__name__


def remove_stale_temp_files(folders: Iterable[Path]) -> list[Path]:
    """Remove `.~kpr-*` files a crashed run left behind; returns what was removed."""
    removed = []
    limit = time.time() - STALE_TEMP_SECONDS
    for folder in dict.fromkeys(folders):
        if not folder.is_dir():
            continue
        for path in folder.glob(TEMP_PREFIX + "*"):
            try:
                if path.is_file() and path.stat().st_mtime < limit:
                    path.unlink()
                    removed.append(path)
            except OSError:
                continue  # a file another program holds is tried again next time
    return removed


# ------------------------------------------------------------------ who would drop out


def _dropped(loaded: LoadResult, sheet: schema.Sheet) -> Iterator[tuple[Source, dict[str, object]]]:
    return ((src, raw) for src, raw in loaded.dropped if src.sheet == sheet.name)


def _why(findings: Iterable[Finding], src: Source) -> tuple[str, Location]:
    """The loader's reasons for leaving out the row at `src`, and the first cell they name."""
    own = [f for f in findings if f.location and f.location.sheet == src.sheet and f.location.row == src.row
           and f.code in ("DATA-1", "DATA-2", "DATA-3")]
    reasons = "; ".join(f.message.rstrip(".") for f in own) or "Datenfehler"
    return reasons, own[0].location if own and own[0].location else src.location


def _text(value: object) -> str:
    return values.clean_text(value) if value is not None else ""


def _date(value: object) -> date | None:
    try:
        return values.parse_date(value) if value not in (None, "") else None
    except ValueError:
        return None


def _would_be_invited(raw: dict[str, object], model: Model, session: Session, guest_ids: set[str]) -> bool:
    """Whether a row the loader left out could be someone the session's document goes to (fail closed)."""
    pid = _text(raw.get("id"))
    if pid and pid in guest_ids:
        return True
    if session.gremium == schema.GREMIUM_AG:
        group = model.working_group(session.working_group)
        return group is None or pid in set(group.members) | {group.lead}
    day = session.date
    start, end = _date(raw.get("active_from")), _date(raw.get("active_until"))
    if (start and day < start) or (end and end < day):
        return False
    category = norm(raw.get("category"))
    if category == norm(schema.KATEGORIE_GAST):
        return False
    if category == norm(schema.KATEGORIE_VERTRETUNG):
        return norm(model.settings.deputy_mode) != "nein"
    seat = next((s for s in model.seats if s.id == _text(raw.get("seat"))), None)
    if seat is not None:
        return seat.in_jour_fixe if session.gremium == schema.GREMIUM_JF else seat.in_kpr
    return True  # a member, a typo of one (`Mitgleid`) or an empty category: in doubt, invited


def dropped_recipients(request: Request) -> list[Finding]:
    """Everyone who should receive the document but is not among its recipients for a data error."""
    model, session = request.loaded.model, request.session
    items = model.agenda_of(session.id)
    guest_ids = {g for item in items for g in item.guests} if request.document == DocumentKind.INVITATION else set()
    delivered = request.delivered
    found: list[Finding] = []
    for src, raw in _dropped(request.loaded, schema.MITGLIEDER):
        if not _would_be_invited(raw, model, session, guest_ids):
            continue
        kept = model.person(_text(raw.get("id")))
        if kept is not None and kept.id in delivered and _same_person(kept, raw):
            continue  # the same person typed twice: nobody is missing
        who = " ".join(p for p in (_text(raw.get("first_name")), _text(raw.get("last_name"))) if p) or "(ohne Namen)"
        pid = _text(raw.get("id"))
        reasons, where = _why(request.findings, src)
        found.append(DROPPED_RECIPIENT.finding(
            f"{who}{f' ({pid})' if pid else ''} in Zeile {src.row} erhielte die {request.document} zur Sitzung "
            f"{session.id} nicht: {reasons}. Bitte die Zeile berichtigen.", where))
    if session.gremium == schema.GREMIUM_AG:
        found += _working_group_gaps(request, delivered)
    return found


def _same_person(kept, raw: dict[str, object]) -> bool:
    return (kept.first_name, kept.last_name) == (_text(raw.get("first_name")), _text(raw.get("last_name")))


def _working_group_gaps(request: Request, delivered: frozenset[str]) -> list[Finding]:
    """A working group that is missing, or a member of it who is not in the roster."""
    model, session = request.loaded.model, request.session
    group = model.working_group(session.working_group)
    if group is None:
        return [DROPPED_RECIPIENT.finding(
            f"Die Arbeitsgruppe „{session.working_group or ''}“ der Sitzung {session.id} ist im Blatt "
            "„Arbeitsgruppen“ nicht (fehlerfrei) eingetragen; niemand erhielte die "
            f"{request.document}.", session.src.at("working_group"))]
    dropped_ids = {_text(raw.get("id")) for _, raw in _dropped(request.loaded, schema.MITGLIEDER)}
    found = []
    for pid in dict.fromkeys((*group.members, *((group.lead,) if group.lead else ()))):
        if model.person(pid) is None and pid not in dropped_ids:
            found.append(DROPPED_RECIPIENT.finding(
                f"„{pid}“ gehört zur Arbeitsgruppe {group.id}, steht aber nicht im Blatt „Mitglieder“; "
                f"diese Person erhielte die {request.document} zur Sitzung {session.id} nicht.",
                group.src.at("members")))
    return found


def dropped_items(loaded: LoadResult, session: Session, document: str) -> list[Finding]:
    """Agenda rows of this session (or of no readable session) that the loader left out."""
    found = []
    for src, raw in _dropped(loaded, schema.TAGESORDNUNG):
        belongs = _text(raw.get("session"))
        if belongs and norm(belongs) != norm(session.id):
            continue
        reasons, where = _why(loaded.findings, src)
        number = _text(raw.get("number"))
        found.append(DROPPED_ITEM.finding(
            f"Der Tagesordnungspunkt{f' {number}' if number else ''} in Zeile {src.row} fehlte in der "
            f"{document} zur Sitzung {session.id}: {reasons}.", where))
    return found


def crashed_rules(findings: Iterable[Finding]) -> list[Finding]:
    """A rule that could not be checked blocks: what it would have found is unknown (rules/base.py)."""
    return [RULE_CRASHED.finding(f"Die Regel {f.code} ({f.symbol}) konnte nicht geprüft werden; der Versand "
                                 "wartet, bis sie wieder prüft. Bitte dem IT-Support melden.", f.location)
            for f in findings if f.severity == Severity.FEHLER and any(key == "fehler" for key, _ in f.extra)]


# ------------------------------------------------------------------ the moment


def wrong_moment(request: Request) -> list[Finding]:
    session, model = request.session, request.loaded.model
    found = []
    if request.document == DocumentKind.MINUTES:
        if session.status == schema.STATUS_GEPLANT:
            found.append(WRONG_MOMENT.finding(
                f"Die Sitzung {session.id} steht noch als „{schema.STATUS_GEPLANT}“ im Blatt „Sitzungen“; eine "
                f"Niederschrift wird erst versandt, wenn sie als „{schema.STATUS_DURCHGEFUEHRT}“ eingetragen ist.",
                session.src.at("status")))
        for item in model.agenda_of(session.id):
            if not item.result.strip():
                found.append(WRONG_MOMENT.finding(
                    f"Zu TOP {item.number} „{item.title}“ ist kein Ergebnis eingetragen; die Niederschrift "
                    "enthielte nur einen Platzhalter.", item.src.at("result")))
    elif request.document == DocumentKind.INVITATION and session.date < request.stichtag and not request.past_session:
        found.append(WRONG_MOMENT.finding(
            f"Die Sitzung {session.id} war am {values.german_date(session.date)}, vor dem Stichtag "
            f"{values.german_date(request.stichtag)}. Eine Einladung dazu wird nur auf ausdrücklichen Wunsch "
            f"versandt (Befehlszeile: {PAST_SESSION_OPTION}).", session.src.at("date")))
    return found


def raise_if_blocked(blocking: tuple[Finding, ...], message: str) -> None:
    """Raise SendBlocked with the exit code the blocks call for (a helper for the entry points)."""
    if blocking:
        from kpr_excel.domain.errors import SendBlocked

        raise SendBlocked(message, exit_code=exit_code(blocking))

