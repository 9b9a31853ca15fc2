"""The document jobs: pick the session, fill the template, place the file, add a PDF if asked.

One call per command or button: `write_invitation`, `write_minutes`, `write_yearly_report`,
and for `kpr demo` `write_demo_documents`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kpr_excel.documents import context, fingerprint, kinds
from kpr_excel.documents.fingerprint import Stamp, State
from kpr_excel.documents.output import (
    TEMPLATE_DIR,
    TEMPLATE_FOLDER,
    Placed,
    newest_version,
    output_dir,
    place,
    safe_name,
    session_file,
    untouched,
    write_atomically,
)
from kpr_excel.documents.render import attendance_chart, render_docx
from kpr_excel.domain import audience
from kpr_excel.domain.audience import FULL, GUEST, OUTSIDER
from kpr_excel.domain.errors import KprError, WorkbookUnusable
from kpr_excel.domain.findings import Finding, Location, Severity
from kpr_excel.domain.model import Model, Person, Session

Say = Callable[[str], None]

# The template names of the document kinds (kinds.py holds the records).
EINLADUNG, NIEDERSCHRIFT, JAHRESBERICHT = kinds.INVITATION.template, kinds.MINUTES.template, kinds.REPORT.template
TEMPLATE_NAMES = tuple(record.template for record in kinds.KINDS.values())


@dataclass(frozen=True)
class Written:
    path: Path
    label: str  # what it is, in German: "Einladung", "Einladung für Sarah Engel (Gast)", ...
    kept: Path | None = None  # an edited or open file left untouched
    pdf: Path | None = None


@dataclass(frozen=True)
class Output:
    """The files one job wrote, plus what the office should know about them."""

    files: tuple[Written, ...]
    notes: tuple[str, ...] = ()
    pdf_error: str = ""  # set where a PDF was asked for and could not be made

    def lines(self) -> list[str]:
        out = []
        for item in self.files:
            out.append(f"{item.label}: {item.path}")
            if item.kept:
                out.append(f"  {item.kept.name} wurde bearbeitet oder ist geöffnet und bleibt unverändert; "
                           "mit --ueberschreiben wird sie ersetzt.")
            if item.pdf:
                out.append(f"  PDF: {item.pdf}")
        out.extend(self.notes)
        if self.pdf_error:
            out.append(f"Keine PDF-Datei: {self.pdf_error}")
        return out


def template_path(name: str, workbook: Path | None = None) -> Path:
    """The office's own template in `Vorlagen/` beside the workbook if there is one, else ours."""
    if workbook is not None:
        own = Path(workbook).resolve().parent / TEMPLATE_FOLDER / f"{name}.docx"
        if own.is_file():
            return own
    return TEMPLATE_DIR / f"{name}.docx"


def load_workbook(path: Path) -> tuple[Model, tuple[Finding, ...]]:
    """The model of a workbook for documents; its data findings come along for a warning."""
    from kpr_excel.book.loader import load_file

    loaded = load_file(Path(path))
    if loaded.unusable:
        reasons = "; ".join(f.format() for f in loaded.findings if f.severity == Severity.FEHLER)
        raise WorkbookUnusable(f"Aus der Mappe {Path(path).name} können keine Dokumente erstellt werden: {reasons}")
    return loaded.model, loaded.findings


def copy_templates(workbook: Path) -> tuple[list[Path], list[Path]]:
    """Copy the shipped templates and mail texts into `Vorlagen/` beside the workbook, for the office to edit.

    Word templates keep their names (Einladung.docx), mail texts get the names the send looks
    for (Mail_Einladung.txt). Returns (copied, kept): a file already there is the office's and is
    left alone.
    """
    folder = Path(workbook).resolve().parent / TEMPLATE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    sources = [(TEMPLATE_DIR / f"{name}.docx", folder / f"{name}.docx") for name in TEMPLATE_NAMES]
    sources += [(record.default_mail_text, folder / record.office_mail_text)
                for record in kinds.KINDS.values() if record.mail_text]
    copied, kept = [], []
    for source, target in sources:
        if target.exists():
            kept.append(target)
        else:
            shutil.copyfile(source, target)
            copied.append(target)
    return copied, kept


def find_session(model: Model, session_id: str) -> Session:
    session = model.session(session_id)
    if session is None:
        wanted = session_id.strip().casefold()
        session = next((s for s in model.sessions if s.id.casefold() == wanted), None)
    if session is None:
        known = ", ".join(s.id for s in model.sessions[:12]) or "keine"
        raise KprError(f"Die Sitzung „{session_id}“ steht nicht im Blatt „Sitzungen“ "
                       f"(vorhanden u. a.: {known}).")
    return session


def _render(name: str, workbook: Path, values: dict) -> bytes:
    return render_docx(template_path(name, workbook), values)


def _finish(workbook: Path, model: Model, written: list[tuple[str, Path, Path | None]], *,
            template: str, pdf: bool, notes=()) -> Output:
    files = [Written(path, label, kept) for label, path, kept in written]
    pdf_error = ""
    if pdf and files:
        from kpr_excel.documents.office import convert

        try:
            pdfs = convert([f.path for f in files], "pdf", output_dir(workbook, model))
            files = [Written(f.path, f.label, f.kept, p) for f, p in zip(files, pdfs)]
        except KprError as exc:
            pdf_error = str(exc)
    used = template_path(template, workbook)
    if used.parent != TEMPLATE_DIR:
        notes = [*notes, f"Vorlage der Geschäftsstelle verwendet: {used}"]
    return Output(tuple(files), tuple(notes), pdf_error)


def _put(folder: Path, name: str, data: bytes, stamp: Stamp, *, overwrite: bool = False) -> Placed:
    """Place a document and record what it was made from (`fingerprint`)."""
    placed = place(folder, name, data, overwrite=overwrite)
    fingerprint.record(folder, placed.path.name, stamp, write_atomically)
    return placed


def has_outsiders(model: Model, session: Session, document: str) -> bool:
    """Whether the body's circle of `session` includes outsiders, who get their own version (§ 8)."""
    chosen = audience.audience(model, session, guests=kinds.kind(document).guests)
    return any(r.version == OUTSIDER for r in chosen.recipients)


def document_file(session: Session, document: str, variant: str = FULL, person: Person | None = None) -> str:
    """The file name of one recipients' version of a session's invitation or final minutes."""
    stem = kinds.kind(document).file_stem(session)
    if variant == GUEST and person is not None:
        return guest_file(session, person)
    if variant == OUTSIDER:
        return session_file(session, f"{stem}_{OUTSIDER}")
    return session_file(session, stem)


def document_values(model: Model, session: Session, document: str, variant: str = FULL,
                    person: Person | None = None, *, today: date) -> dict:
    """The template values of one recipients' version (final minutes for Niederschrift)."""
    if kinds.kind(document) is kinds.MINUTES:
        return context.minutes_context(model, session, today=today, draft=False, outsider=variant != FULL)
    guest = person if variant == GUEST else None
    return context.invitation_context(model, session, today=today, guest=guest, outsider=variant == OUTSIDER)


def document_stamp(values: dict, document: str, variant: str = FULL, person: Person | None = None) -> Stamp:
    return fingerprint.stamp_of(values, document=document, version=variant,
                                person=person.id if person is not None and variant == GUEST else "")


def version_label(document: str, variant: str, person: Person | None = None) -> str:
    if variant == GUEST and person is not None:
        return f"{document} für {person.name} (Gast)"
    if variant == OUTSIDER:
        return f"{document} (Fassung ohne vertrauliche Punkte, für Teilnehmende, die nicht Mitglied sind)"
    return str(document)


def invitation_files(model: Model, session: Session, *, today: date, workbook: Path,
                     guests: bool = True) -> tuple[list[tuple[str, str, bytes, Stamp]], list[str]]:
    """(label, file name, content, stamp) of the members' invitation, the outsiders' version where
    the body has outsiders, and each guest's version."""
    versions: list[tuple[str, Person | None]] = [(FULL, None)]
    if has_outsiders(model, session, kinds.INVITATION.kind):
        versions.append((OUTSIDER, None))
    notes = []
    for guest in context.guests(model, session) if guests else ():
        if not context.agenda(model, session, guest=guest):
            notes.append(f"{guest.name} ist nur zu vertraulichen Tagesordnungspunkten eingeladen; eine "
                         "Gastfassung gibt es deshalb nicht (§ 8).")
            continue
        versions.append((GUEST, guest))
    docs = []
    document = kinds.INVITATION.kind
    for variant, person in versions:
        values = document_values(model, session, document, variant, person, today=today)
        docs.append((version_label(EINLADUNG, variant, person), document_file(session, document, variant, person),
                     _render(EINLADUNG, workbook, values), document_stamp(values, document, variant, person)))
    return docs, notes


def guest_file(session: Session, guest: Person) -> str:
    return session_file(session, f"{EINLADUNG}_Gast_{safe_name(guest.first_name + '_' + guest.last_name)}")


def write_invitation(workbook: Path, model: Model, session_id: str, *, today: date, guests: bool = True,
                     pdf: bool = False, overwrite: bool = False) -> Output:
    """The invitation of a session for the members, and a version for every guest named on its agenda."""
    session = find_session(model, session_id)
    folder = output_dir(workbook, model)
    docs, notes = invitation_files(model, session, today=today, workbook=workbook, guests=guests)
    written = []
    for label, name, data, stamp in docs:
        placed = _put(folder, name, data, stamp, overwrite=overwrite)
        written.append((label, placed.path, placed.kept))
    if session.cancelled:
        notes.insert(0, f"Achtung: Die Sitzung {session.id} ist als abgesagt eingetragen.")
    return _finish(workbook, model, written, template=EINLADUNG, pdf=pdf, notes=notes)


def write_minutes(workbook: Path, model: Model, session_id: str, *, today: date, draft: bool | None = None,
                  pdf: bool = False, overwrite: bool = False) -> Output:
    """The minutes: a draft before the session (default until it is marked held), else final."""
    session = find_session(model, session_id)
    draft = (not session.held) if draft is None else draft
    folder = output_dir(workbook, model)
    document = kinds.MINUTES.kind
    written = []
    variants = [FULL, OUTSIDER] if has_outsiders(model, session, document) else [FULL]
    for variant in variants:
        values = context.minutes_context(model, session, today=today, draft=draft, outsider=variant == OUTSIDER)
        stem = kinds.MINUTES.file_stem(session, draft=draft)
        name = session_file(session, stem if variant == FULL else f"{stem}_{OUTSIDER}")
        placed = _put(folder, name, _render(NIEDERSCHRIFT, workbook, values),
                      document_stamp(values, document, variant), overwrite=overwrite)
        label = kinds.MINUTES.label(draft=draft)
        written.append((label if variant == FULL else version_label(label, variant), placed.path, placed.kept))
    notes = []
    if not draft and not session.held:
        notes.append(f"Hinweis: Die Sitzung {session.id} ist noch nicht als durchgeführt eingetragen.")
    return _finish(workbook, model, written, template=NIEDERSCHRIFT, pdf=pdf, notes=notes)


def yearly_report_bytes(model: Model, year: int, *, today: date, workbook: Path | None = None) -> bytes:
    values = context.yearly_report_context(model, year, today=today)
    values["diagramm"] = attendance_chart(values["sitzungen"], year)
    return render_docx(template_path(JAHRESBERICHT, workbook), values)


def write_yearly_report(workbook: Path, model: Model, year: int, *, today: date, pdf: bool = False,
                        overwrite: bool = False) -> Output:
    """The yearly report of § 5 for `year`, with the attendance chart."""
    if not any(s.date.year == year for s in model.sessions):
        raise KprError(f"Für {year} steht keine Sitzung im Blatt „Sitzungen“; ein Jahresbericht wäre leer.")
    data = yearly_report_bytes(model, year, today=today, workbook=workbook)
    placed = place(output_dir(workbook, model), f"{year}_KPR_{JAHRESBERICHT}.docx", data, overwrite=overwrite)
    return _finish(workbook, model, [(f"{JAHRESBERICHT} {year}", placed.path, placed.kept)],
                   template=JAHRESBERICHT, pdf=pdf)


# --------------------------------------------------------------------------------------
# The demo
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoChoice:
    """Which documents show the demo best around a reference date."""

    next_session: Session | None
    guest: Person | None
    last_held: Session | None
    year: int


def demo_choice(model: Model, stichtag: date) -> DemoChoice:
    upcoming = context.next_session(model, stichtag)
    guest = next(iter(g for g in context.guests(model, upcoming)
                      if context.agenda(model, upcoming, guest=g)), None) if upcoming else None
    return DemoChoice(upcoming, guest, context.last_held_session(model, stichtag), stichtag.year)


def write_demo_documents(workbook: Path, model: Model, stichtag: date, say: Say = print) -> list[Path]:
    """The demo's documents: next invitation (+ one guest's version), last minutes, yearly report."""
    choice = demo_choice(model, stichtag)
    folder = output_dir(workbook, model)
    written: list[Path] = []

    def put(label: str, name: str, data: bytes, stamp: Stamp | None = None) -> None:
        placed = _put(folder, name, data, stamp, overwrite=True) if stamp else place(folder, name, data, overwrite=True)
        path = placed.path
        written.append(path)
        say(f"{label}: {path}")

    if choice.next_session:
        session = choice.next_session
        values = context.invitation_context(model, session, today=stichtag)
        put(f"Einladung zur Sitzung {session.id}", session_file(session, EINLADUNG),
            _render(EINLADUNG, workbook, values), document_stamp(values, kinds.INVITATION.kind))
        if choice.guest:
            values = context.invitation_context(model, session, today=stichtag, guest=choice.guest)
            put(f"Gastfassung für {choice.guest.name}", guest_file(session, choice.guest),
                _render(EINLADUNG, workbook, values),
                document_stamp(values, kinds.INVITATION.kind, GUEST, choice.guest))
    if choice.last_held:
        session = choice.last_held
        values = context.minutes_context(model, session, today=stichtag, draft=False)
        put(f"Niederschrift der Sitzung {session.id}", session_file(session, NIEDERSCHRIFT),
            _render(NIEDERSCHRIFT, workbook, values), document_stamp(values, kinds.MINUTES.kind))
    put(f"Jahresbericht {choice.year}", f"{choice.year}_KPR_{JAHRESBERICHT}.docx",
        yearly_report_bytes(model, choice.year, today=stichtag, workbook=workbook))
    return written


# --------------------------------------------------------------------------------------
# Documents bound to the workbook (before a send)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """How the file one recipients' version would carry stands to the workbook now."""

    path: Path  # the newest version in the output folder, or where it will be made
    state: State
    stamp: Stamp  # what the workbook says now
    label: str
    values: dict

    @property
    def blocks(self) -> bool:
        return self.state in (State.EDITED_STALE, State.FOREIGN)

    def message(self) -> str:
        """German: why this file stops the send, and what to do."""
        if self.state is State.FOREIGN:
            return (f"{self.label}: Die Datei {self.path.name} wurde nicht mit diesem Werkzeug erstellt (oder vor "
                    "dem Fingerabdruck) und ist bearbeitet; sie kann nicht mit der Mappe verglichen werden. Bitte "
                    "neu erstellen (mit --ueberschreiben) und die Änderungen dort wieder eintragen.")
        made = fingerprint.recorded(self.path.parent, self.path.name)
        what = "; ".join(fingerprint.changes(made.summary if made else {}, self.stamp.summary))
        return (f"{self.label}: Die Datei {self.path.name} wurde nach dem Erstellen bearbeitet, und die Mappe hat "
                f"sich seither geändert ({what}). Sie wird so nicht versandt; bitte neu erstellen (mit "
                "--ueberschreiben) und die Bearbeitung dort wiederholen.")

    def finding(self) -> Finding:
        code = fingerprint.CODES_BY_NAME["DOK-2" if self.state is State.FOREIGN else "DOK-1"]
        return code.finding(self.message(), Location(str(self.path)))


def binding(workbook: Path, model: Model, session: Session, document: str, variant: str = FULL,
            person: Person | None = None, *, today: date) -> Binding:
    """Compare the file a recipients' version would carry with the workbook; writes nothing."""
    folder = output_dir(workbook, model)
    name = document_file(session, document, variant, person)
    found = newest_version(folder, name)
    path = found[0] if found else folder / name
    values = document_values(model, session, document, variant, person, today=today)
    stamp = document_stamp(values, document, variant, person)
    state = fingerprint.inspect(path, stamp, untouched=untouched(path))
    return Binding(path, state, stamp, version_label(document, variant, person), values)


def bound_file(workbook: Path, model: Model, session: Session, document: str, variant: str = FULL,
               person: Person | None = None, *, today: date) -> Path:
    """The file to attach for one recipients' version, made anew where missing or stale and untouched.

    Raises KprError (German, naming what changed) where the office edited a stale file.
    """
    bound = binding(workbook, model, session, document, variant, person, today=today)
    if bound.blocks:
        raise KprError(bound.message())
    if bound.state is State.CURRENT:
        return bound.path
    template = NIEDERSCHRIFT if kinds.kind(document) is kinds.MINUTES else EINLADUNG
    placed = _put(bound.path.parent, bound.path.name, _render(template, workbook, bound.values), bound.stamp)
    return placed.path
