"""Sending a session's invitation or minutes: one call for the CLI and the Excel button alike.

Check -> plan -> documents as they lie in the output folder (made only where missing) ->
transport from Einstellungen -> dispatch with the send log. The caller says how the log is
written (a file through openpyxl, or the open book through xlwings).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kpr_excel.app import check
from kpr_excel.book.loader import LoadResult
from kpr_excel.documents.kinds import SENT_BY_MAIL
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.model import Model, Session, Settings
from kpr_excel.domain.values import german_date_long
from kpr_excel.mail.transports import TransportSettings, kind_of, make_transport
from kpr_excel.sending import leakcheck
from kpr_excel.sending import plan as planning
from kpr_excel.sending.dispatch import (
    DocumentProvider,
    LogWriter,
    Progress,
    SendReport,
    send_plan,
)
from kpr_excel.sending.plan import MINUTES, Delivery, Plan

OUTBOX_FOLDER = "Postausgang"


def transport_settings(settings: Settings, workbook: Path, *, channel: str | None = None,
                       draft: bool = False) -> TransportSettings:
    """How to send, from the Einstellungen sheet; `channel` overrides Versandkanal."""
    from kpr_excel.documents.output import output_dir
    from kpr_excel.domain.model import Model

    kind = kind_of(channel or settings.transport).name
    ca_bundle = Path(settings.ca_bundle) if settings.ca_bundle else None
    if ca_bundle is not None and not ca_bundle.is_absolute():
        ca_bundle = Path(workbook).resolve().parent / ca_bundle
    return TransportSettings(
        kind=kind,
        outbox_dir=output_dir(workbook, Model(settings=settings)) / OUTBOX_FOLDER,
        sender=settings.sender or None,
        smtp_host=settings.smtp_host or None,
        smtp_port=settings.smtp_port,
        smtp_user=settings.smtp_user or None,
        ews_url=settings.ews_url or None,
        mailbox=settings.mailbox or settings.sender or None,
        username=settings.exchange_user or None,
        auth=settings.exchange_auth or "NTLM",
        chunk_size=max(1, settings.chunk_size),
        ca_bundle=ca_bundle,
        draft=draft,
    )


_VERSION = re.compile(r"_v(\d+)$")


def newest_version(folder: Path, name: str) -> tuple[Path, int] | None:
    """The newest of `name`, `name_v2`, `name_v3`, ... in `folder` (the office may have edited)."""
    base = folder / name
    found = [(base, 1)] if base.exists() else []
    for path in folder.glob(f"{base.stem}_v*{base.suffix}"):
        match = _VERSION.search(path.stem)
        if match and path.stem[: match.start()] == base.stem:
            found.append((path, int(match[1])))
    return max(found, key=lambda pair: pair[1]) if found else None


@dataclass
class SessionDocuments:
    """The files a session's deliveries carry, resolved once per run."""

    workbook: Path
    model: Model
    session: Session
    document: str
    today: date

    def __post_init__(self) -> None:
        from kpr_excel.documents.output import output_dir

        self.folder = output_dir(self.workbook, self.model)

    def _name(self, delivery: Delivery | None) -> str:
        from kpr_excel.documents.produce import document_file

        if delivery is None:
            return document_file(self.session, self.document)
        return document_file(self.session, self.document, delivery.variant, delivery.recipient)

    def version(self) -> int:
        """The version of the members' document as it lies in the folder (1 where still missing)."""
        found = newest_version(self.folder, self._name(None))
        return found[1] if found else 1

    def resolve(self, delivery: Delivery | None = None) -> tuple[Path, int]:
        """The file of `delivery`'s version, bound to the workbook (`documents.fingerprint`):
        made anew where missing or stale and untouched; a stale file the office edited stops."""
        from kpr_excel.documents.produce import bound_file

        variant = delivery.variant if delivery is not None else planning.FULL
        person = delivery.recipient if delivery is not None else None
        path = bound_file(self.workbook, self.model, self.session, self.document, variant, person, today=self.today)
        found = newest_version(self.folder, self._name(delivery))
        return path, found[1] if found and found[0] == path else 1

    def __call__(self, delivery: Delivery) -> list[Path]:
        """The .docx as reviewed, and its PDF where one was made from it.

        A PDF older than the .docx was made before the office edited it: it is left out, so
        nobody receives two versions that disagree.
        """
        path, _ = self.resolve(delivery)
        pdf = path.with_suffix(".pdf")
        if pdf.exists() and pdf.stat().st_mtime >= path.stat().st_mtime:
            return [path, pdf]
        return [path]


@dataclass(frozen=True)
class Prepared:
    """A send that is planned and may go out: the plan, the model and the documents it sends."""

    workbook: Path
    model: Model
    plan: Plan
    documents: DocumentProvider


def prepare_send(
    workbook: Path,
    loaded: LoadResult,
    session_id: str,
    document: str,
    *,
    stichtag: date,
    documents: DocumentProvider | None = None,
) -> Prepared:
    """Check the workbook and plan the send of `document` (Einladung or Niederschrift) of a session.

    Raises KprError (German) where the send cannot be planned at all: an unusable workbook,
    a cancelled session, minutes before the session. A plan blocked by findings is returned;
    `plan_lines` shows it, `send_prepared` refuses it.
    """
    from kpr_excel.documents.produce import find_session

    if document not in SENT_BY_MAIL:
        raise KprError(f"Unbekanntes Dokument „{document}“.")
    result = check.check_loaded(loaded, stichtag)
    if result.unusable:
        raise KprError("Die Mappe kann nicht verwendet werden: "
                       + "; ".join(f.format() for f in result.findings if f.code == "DATA-5"))
    model = result.model
    session = find_session(model, session_id)
    if session.cancelled:
        raise KprError(f"Die Sitzung {session.id} ist abgesagt (Blatt „Sitzungen“, Zeile {session.src.row}); "
                       f"es wird keine {document} versandt.")
    if document == MINUTES and session.date > stichtag:
        raise KprError(f"Die Sitzung {session.id} findet erst am {german_date_long(session.date)} "
                       "statt; ihre Niederschrift kann erst danach versandt werden.")
    provider = documents or SessionDocuments(Path(workbook), model, session, document, stichtag)
    version = provider.version() if isinstance(provider, SessionDocuments) else 1
    the_plan = planning.make_plan(model, session.id, document, result.findings, version=str(version))
    if isinstance(provider, SessionDocuments):  # documents bound to the workbook (§ 8, stale files)
        the_plan = planning.bind_documents(the_plan, Path(workbook), model, today=stichtag)
    return Prepared(Path(workbook), model, the_plan, provider)


def send_prepared(
    prepared: Prepared,
    *,
    write_log: LogWriter,
    stichtag: date,
    channel: str | None = None,
    draft: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Send what `prepared` plans through the channel of the settings (or `channel`), logging each message."""
    the_plan, model, workbook = prepared.plan, prepared.model, prepared.workbook
    if the_plan.blocked:
        raise KprError(blocked_message(the_plan))
    if not model.settings.sender:
        raise KprError(f"Es ist kein gültiger Absender eingetragen ({model.settings.location('sender')}, "
                       "„Absender (E-Mail)“); ohne ihn wird nichts versandt.")
    transport = make_transport(transport_settings(model.settings, workbook, channel=channel, draft=draft),
                               password)
    transport = leakcheck.guard(transport, model, the_plan.session)  # § 8, the last line
    return send_plan(the_plan, model, transport, prepared.documents, write_log,
                     workbook_dir=workbook.resolve().parent, today=stichtag, progress=progress)


def blocked_message(the_plan: Plan) -> str:
    lines = [f"Der Versand der {the_plan.document} für {the_plan.session.id} ist gesperrt, "
             "bis diese Fehler behoben sind:"]
    lines += [f"  {f.format()}" for f in the_plan.blocking]
    return "\n".join(lines)


def plan_lines(the_plan: Plan) -> list[str]:
    """German preview of a plan (--probelauf): who would get what."""
    lines = [f"Probelauf: {the_plan.document} {the_plan.session.id}, {len(the_plan.deliveries)} Nachrichten"]
    for delivery in the_plan.deliveries:
        person = delivery.recipient
        extra = f", Kopie an {', '.join(p.name for p in delivery.cc)}" if delivery.cc else ""
        if delivery.on_behalf_of:
            extra += f", in Vertretung von {delivery.on_behalf_of.name}"
        if delivery.role == planning.ROLE_GUEST:
            extra += f", nur TOP {', '.join(i.number for i in delivery.items)}"
        extra += f", Fassung: {planning.version_text(delivery)}"
        lines.append(f"  {delivery.role}: {person.name} <{person.email or 'keine E-Mail-Adresse'}>{extra}")
    lines += list(the_plan.notes)
    if the_plan.blocked:
        lines.append(blocked_message(the_plan))
    return lines


def report_lines(report: SendReport) -> list[str]:
    """German summary of a send run, for the console and the message box."""
    verb = "als Entwurf abgelegt" if report.draft else "versandt"
    lines = [f"{report.plan.document} {report.plan.session.id} über {report.transport}: "
             f"{len(report.sent)} {verb}, {len(report.already)} bereits früher erledigt, "
             f"{len(report.failed)} fehlgeschlagen."]
    for key, reason in report.failed.items():
        lines.append(f"  fehlgeschlagen: {key}: {reason}")
    if report.failed:
        lines.append("Ein erneuter Aufruf versendet nur, was noch fehlt.")
    lines += list(report.plan.notes)
    return lines
