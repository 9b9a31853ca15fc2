"""Sending a session's invitation or minutes: one call for the CLI and the Excel button alike.

Check -> plan -> documents as they lie in the output folder (made only where missing) ->
transport from Einstellungen -> dispatch through the send journal (``Ausgabe/NAME.versand.sqlite``),
one send at a time per workbook (a lock file beside the journal). The caller says how the
Versand sheet is written (a file through openpyxl, or the open book through xlwings); a send
writes the workbook once, at the end.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from kpr_excel.app import check, preflight
from kpr_excel.book.loader import LoadResult
from kpr_excel.documents.kinds import SENT_BY_MAIL
from kpr_excel.documents.output import newest_version
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.model import Model, Session, Settings
from kpr_excel.domain.values import german_date_long
from kpr_excel.mail.transports import TransportSettings, kind_of, make_transport
from kpr_excel.sending import journal as journals
from kpr_excel.sending import leakcheck
from kpr_excel.sending import plan as planning
from kpr_excel.sending.dispatch import (
    STATE_IN_FLIGHT,
    STATE_UNCERTAIN,
    DocumentProvider,
    LogWriter,
    Progress,
    SendReport,
    confirm_prepared,
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
    past_session: bool = False,
    writes_file: bool = True,
) -> Prepared:
    """Check the workbook and plan the send of `document` (Einladung or Niederschrift) of a session.

    Raises KprError (German) where the send cannot be planned at all: an unusable workbook,
    a cancelled session, minutes before the session. A plan blocked by findings is returned;
    `plan_lines` shows it, `send_prepared` refuses it. The pre-flight (`app.preflight`) adds its
    blocks: `past_session` allows an invitation to a session already held; `writes_file` says
    the send log goes into the file (so its locks, layout and permissions are checked).
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
    blocks = preflight.check_send(
        Path(workbook), loaded, result.findings, the_plan, stichtag=stichtag, past_session=past_session,
        writes_file=writes_file, outbox_folder=OUTBOX_FOLDER)
    the_plan = replace(the_plan, blocking=the_plan.blocking + blocks)
    # Documents bound to the workbook (§ 8, stale files); made anew only where the pre-flight found
    # the output folder and the workbook usable.
    if isinstance(provider, SessionDocuments) and not blocks:
        the_plan = planning.bind_documents(the_plan, Path(workbook), model, today=stichtag)
    return Prepared(Path(workbook), model, the_plan, provider)


def journal_file(workbook: Path, model: Model) -> Path:
    """The send journal of `workbook`: in its output folder, beside the documents."""
    from kpr_excel.documents.output import output_dir

    return journals.journal_path(output_dir(workbook, model), workbook)


def send_lock(workbook: Path, model: Model) -> journals.SendLock:
    """The lock that lets one send at a time work on `workbook` (any workstation)."""
    return journals.SendLock(journals.lock_path(journal_file(workbook, model)), Path(workbook).name)


def send_prepared(
    prepared: Prepared,
    *,
    write_log: LogWriter,
    stichtag: date,
    channel: str | None = None,
    draft: bool = False,
    password: str | None = None,
    progress: Progress | None = None,
    resend_uncertain: bool = False,
) -> SendReport:
    """Send what `prepared` plans through the channel of the settings (or `channel`), through the journal.

    `resend_uncertain`: send again what a broken earlier run left in doubt on a channel that
    cannot be asked (SMTP); without it such messages are reported and not sent.
    """
    the_plan, model, workbook = prepared.plan, prepared.model, prepared.workbook
    if the_plan.blocked:
        raise KprError(blocked_message(the_plan))
    if not model.settings.sender:
        raise KprError(f"Es ist kein gültiger Absender eingetragen ({model.settings.location('sender')}, "
                       "„Absender (E-Mail)“); ohne ihn wird nichts versandt.")
    transport = make_transport(transport_settings(model.settings, workbook, channel=channel, draft=draft),
                               password)
    transport = leakcheck.guard(transport, model, the_plan.session)  # § 8, the last line
    with send_lock(workbook, model), journals.Journal(journal_file(workbook, model)) as journal:
        return send_plan(the_plan, model, transport, prepared.documents, write_log, journal=journal,
                         workbook_dir=workbook.resolve().parent, today=stichtag, progress=progress,
                         resend_uncertain=resend_uncertain)


def in_doubt(prepared: Prepared, *, channel: str | None = None) -> list[Delivery]:
    """Deliveries a broken earlier run left in doubt on a channel that cannot be asked (SMTP):
    the button asks before sending them again. Channels that can answer resolve doubt themselves."""
    kind = kind_of(channel or prepared.model.settings.transport).name
    path = journal_file(prepared.workbook, prepared.model)
    if kind in journals.ANSWERING_CHANNELS or not path.exists():
        return []
    with journals.Journal(path) as journal:
        return [d for d in prepared.plan.deliveries
                if (entry := journal.get(journals.journal_key(d.key, kind))) is not None
                and entry.state in (STATE_IN_FLIGHT, STATE_UNCERTAIN)
                and not any(e.state == journals.SENT for e in journal.for_delivery(d.key))]


def still_to_send(prepared: Prepared, *, channel: str | None = None) -> list[Delivery]:
    """Deliveries not yet done on the channel (delivered anywhere counts as done), by the journal
    and by the Versand sheet (a journal lost or made anew)."""
    kind = kind_of(channel or prepared.model.settings.transport).name
    finished = journals.PREPARED if kind == "outbox" else journals.SENT
    keys = {d.key for d in prepared.plan.deliveries}
    seen: list[tuple[str, str, str]] = []  # (delivery key, channel, state)
    for row in prepared.model.send_log:
        if row.key in keys:  # written before the channel was part of the key
            seen.append((row.key, row.transport, row.state))
        else:
            delivery_key, _, row_channel = row.key.rpartition("|")
            seen.append((delivery_key, row_channel, row.state))
    path = journal_file(prepared.workbook, prepared.model)
    if path.exists():
        with journals.Journal(path) as journal:
            seen += [(e.delivery, e.channel, e.state)
                     for e in journal.entries(prepared.plan.session.id, str(prepared.plan.document))]
    done = {key for key, row_channel, state in seen
            if state == journals.SENT or (row_channel == kind and state == finished)}
    return [d for d in prepared.plan.deliveries if d.key not in done]


def prepared_count(prepared: Prepared) -> int:
    """How many of the plan's messages the outbox prepared and nobody confirmed yet."""
    path = journal_file(prepared.workbook, prepared.model)
    if not path.exists():
        return 0
    with journals.Journal(path) as journal:
        return sum(1 for d in prepared.plan.deliveries
                   if (e := journal.get(journals.journal_key(d.key, "outbox"))) is not None
                   and e.state == journals.PREPARED)


def confirm_sent(prepared: Prepared, *, write_log: LogWriter, stichtag: date) -> list[str]:
    """The office confirms that the messages the outbox prepared went out from Outlook.

    They become gesendet in the journal and the Versand sheet; once every recipient has it,
    "Einladung versandt am" (or "Niederschrift versandt am") and the status are set.
    Returns German lines for the console or a message box.
    """
    the_plan, model, workbook = prepared.plan, prepared.model, prepared.workbook
    path = journal_file(workbook, model)
    if not path.exists():
        raise KprError(f"Für {workbook.name} gibt es noch kein Versandjournal ({path}); es wurde nichts "
                       "bereitgestellt, also ist nichts zu bestätigen.")
    with send_lock(workbook, model), journals.Journal(path) as journal:
        confirmed = confirm_prepared(the_plan, journal, write_log, stichtag)
        entries = journal.entries(the_plan.session.id, str(the_plan.document))
    delivered = {e.delivery for e in entries if e.state == journals.SENT}
    missing = [d for d in the_plan.deliveries if d.key not in delivered]
    lines = [f"{the_plan.document} {the_plan.session.id}: {len(confirmed)} bereitgestellte Nachrichten als "
             f"versandt bestätigt."]
    if missing:
        lines.append(f"Noch nicht versandt: {len(missing)} (u. a. {', '.join(d.recipient.name for d in missing[:5])}); "
                     "das Versanddatum der Sitzung bleibt leer.")
    else:
        lines.append(f"Alle {len(the_plan.deliveries)} Empfänger haben sie; die Sitzung ist im Blatt "
                     "„Sitzungen“ als versandt eingetragen.")
    return lines


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
    from kpr_excel.sending.dispatch import STATE_DRAFT, STATE_PREPARED

    verbs: dict[str, str] = {str(STATE_PREPARED): "im Postausgang bereitgestellt (noch nicht versandt)",
                             str(STATE_DRAFT): "als Entwurf abgelegt"}
    verb = verbs.get(str(report.state), "versandt")
    lines = [f"{report.plan.document} {report.plan.session.id} über {report.transport}: "
             f"{len(report.sent)} {verb}, {len(report.already)} bereits früher erledigt, "
             f"{len(report.failed)} fehlgeschlagen"
             + (f", {len(report.uncertain)} unsicher." if report.uncertain else ".")]
    if report.interrupted:
        names = {d.key: d.recipient.name for d in report.plan.deliveries}
        lines.append(f"Abgebrochen (Strg+C) nach der laufenden Nachricht. In diesem Lauf {verb}: "
                     + (", ".join(names[k] for k in report.sent) or "keine") + ".")
    for key, reason in report.failed.items():
        lines.append(f"  fehlgeschlagen: {key}: {reason}")
    if report.error:
        lines.append(f"Insgesamt bestätigt: {len(report.sent) + len(report.already)} von "
                     f"{len(report.plan.deliveries)}.")
    for key in report.uncertain:
        lines.append(f"  unsicher: {key}: war beim Abbruch unterwegs; ob der Server sie annahm, ist nicht "
                     "bekannt. Sie wird nur mit --unsicher-erneut noch einmal gesendet.")
    if report.failed or report.interrupted:
        lines.append("Ein erneuter Aufruf versendet nur, was noch fehlt.")
    if report.state == STATE_PREPARED and report.sent:
        counts_as = ("gilt die Niederschrift als versandt" if report.plan.document == MINUTES
                     else "gilt die Sitzung als eingeladen")
        lines.append("Die Nachrichten in Outlook öffnen und senden, dann mit „kpr versand bestaetigen“ "
                     f"(oder der Schaltfläche) bestätigen; erst dann {counts_as}.")
    if report.write_error:
        lines.append(f"Die Mappe wurde nicht aktualisiert: {report.write_error} Das Versandjournal hält "
                     "alles fest; der nächste Aufruf trägt es ins Blatt „Versand“ nach.")
    lines += list(report.plan.notes)
    return lines
