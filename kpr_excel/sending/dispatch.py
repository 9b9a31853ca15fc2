"""Sending a plan: build the e-mails, send what is missing, keep the send log (sheet Versand).

The send log is written before sending (state "geplant") and after it ("gesendet", "Entwurf"
or "fehlgeschlagen"). A second run skips what the log records as sent and asks the transport
about messages whose fate is unknown, so nothing goes out twice and nothing is lost.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate
from pathlib import Path

import jinja2

from kpr_excel.book.edits import Edits, SetCells, UpsertRows
from kpr_excel.documents import kinds
from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.model import Model
from kpr_excel.domain.naming import session_title, time_span
from kpr_excel.domain.schema import SendState
from kpr_excel.domain.values import german_date, german_date_long
from kpr_excel.mail.base import Transport, TransportError
from kpr_excel.rules.confidentiality import confidentiality_notice_required
from kpr_excel.sending.calendar import ics_file_name, session_ics
from kpr_excel.sending.plan import INVITATION, ROLE_GUEST, Delivery, Plan

STATE_PLANNED = SendState.GEPLANT
STATE_SENT = SendState.GESENDET
STATE_DRAFT = SendState.ENTWURF
STATE_FAILED = SendState.FEHLGESCHLAGEN
DONE_STATES = (STATE_SENT, STATE_DRAFT)

# An office copy of a mail text in this folder beside the workbook wins over the default.
OFFICE_TEXTS_DIR = "Vorlagen"

DocumentProvider = Callable[[Delivery], Sequence[Path]]
LogWriter = Callable[[Edits], object]  # what it returns is not used
Progress = Callable[[int, int, str], None]


@dataclass
class SendReport:
    plan: Plan
    transport: str
    already: list[str] = field(default_factory=list)  # keys sent in an earlier run
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    draft: bool = False
    error: str = ""

    @property
    def complete(self) -> bool:
        return not self.failed and len(self.already) + len(self.sent) == len(self.plan.deliveries)


def load_text_template(document: str, workbook_dir: Path | None) -> jinja2.Template:
    """The mail text for `document`: the office's copy in Vorlagen/ if present, else the default."""
    record = kinds.kind(document)
    name = record.office_mail_text
    folders = [workbook_dir / OFFICE_TEXTS_DIR] if workbook_dir else []
    for folder in folders:
        if (folder / name).is_file():
            source = (folder / name).read_text(encoding="utf-8")
            break
    else:
        source = record.default_mail_text.read_text(encoding="utf-8")
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)
    try:
        return env.from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise KprError(f"Die E-Mail-Vorlage {name} ist fehlerhaft (Zeile {exc.lineno}): {exc.message}") from None


def mail_text(delivery: Delivery, plan: Plan, model: Model, template: jinja2.Template) -> tuple[str, str]:
    """(subject, body) of one message."""
    session, settings = plan.session, model.settings
    reply_by = session.reply_by
    context = dict(
        anrede=delivery.recipient.letter_salutation,
        sitzung=dict(
            bezeichnung=session_title(session, settings, model),
            datum_lang=german_date_long(session.date),
            zeit=time_span(session),
            ort=session.place,
        ),
        gast=delivery.role == ROLE_GUEST,
        punkte=list(delivery.items),
        vertretung_fuer=delivery.on_behalf_of.name if delivery.on_behalf_of else "",
        rueckmeldung_bis=german_date(reply_by),
        vertraulich=confidentiality_notice_required(session, delivery.items),
        absender=dict(name=settings.office_name, stadt=settings.city, telefon=settings.office_phone),
    )
    try:
        text = template.render(**context)
    except jinja2.UndefinedError as exc:
        raise KprError(f"Die E-Mail-Vorlage für {plan.document} nutzt einen unbekannten Platzhalter: "
                       f"{exc.message}") from None
    first, _, body = text.partition("\n")
    if not first.startswith("Betreff:"):
        raise KprError(f"Die E-Mail-Vorlage für {plan.document} muss mit „Betreff: …“ beginnen.")
    return first.removeprefix("Betreff:").strip(), body.strip() + "\n"


def build_message(delivery: Delivery, plan: Plan, model: Model, template, files: Sequence[Path],
                  calendar: bytes | None = None) -> EmailMessage:
    """One recipient's e-mail; `calendar` is the session's .ics entry, attached as it is."""
    recipient, settings = delivery.recipient, model.settings
    if not recipient.email:
        raise KprError(f"{recipient.name} hat keine E-Mail-Adresse (Mitglieder, Zeile {recipient.src.row}).")
    subject, body = mail_text(delivery, plan, model, template)
    message = EmailMessage()
    message["From"] = formataddr((settings.office_name, settings.sender))
    message["To"] = formataddr((recipient.name, recipient.email))
    cc = [formataddr((p.name, p.email)) for p in delivery.cc if p.email]
    if cc:
        message["Cc"] = ", ".join(cc)
    if settings.reply_to:
        message["Reply-To"] = settings.reply_to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = delivery.message_id
    if confidentiality_notice_required(plan.session, delivery.items):
        # RFC 2156 header; Outlook and the Exchange transport show it as "Vertraulich".
        message["Sensitivity"] = "Company-Confidential"
    message.set_content(body)
    for path in files:
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = ctype.split("/", 1)
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    if calendar is not None:
        message.add_attachment(calendar, maintype="text", subtype="calendar",
                               filename=ics_file_name(plan.session), params={"method": "PUBLISH"})
    return message


def checksum(files: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def send_plan(
    plan: Plan,
    model: Model,
    transport: Transport,
    documents: DocumentProvider,
    write_log: LogWriter,
    *,
    workbook_dir: Path | None = None,
    today: date | None = None,
    progress: Progress | None = None,
) -> SendReport:
    """Send what of `plan` is not yet out; record every step in the send log."""
    if plan.blocked:
        raise KprError("Versand gesperrt: " + "; ".join(f.format() for f in plan.blocking))
    report = SendReport(plan, transport.name, draft=transport.draft)
    log = {entry.key: entry for entry in model.send_log}
    # A draft is not out yet: a real run asks the other side about it below (the office may
    # have sent it from Outlook) and sends it where it was not.
    done_states = DONE_STATES if transport.draft else (STATE_SENT,)
    pending = []
    for delivery in plan.deliveries:
        entry = log.get(delivery.key)
        if entry is not None and entry.state in done_states:
            report.already.append(delivery.key)
        else:
            pending.append(delivery)
    done_state = STATE_DRAFT if transport.draft else STATE_SENT
    rows: dict[str, dict] = {}
    now = datetime.now().replace(microsecond=0)
    template = load_text_template(plan.document, workbook_dir)
    # The calendar entry goes with invitations: made from the workbook once per run, the same for all.
    calendar = session_ics(plan.session, model) if kinds.kind(plan.document).calendar else None
    with transport:
        # Ask the other side about every pending message, not only those the log knows: a
        # message may be out without our confirmation, and the log may be lost (a workbook
        # closed in Excel without saving after a click).
        found = transport.already_sent([d.message_id for d in pending]) if pending else set()
        for delivery in [d for d in pending if d.message_id in found]:
            rows[delivery.key] = _log_row(delivery, transport.name, done_state, now)
            report.already.append(delivery.key)
        pending = [d for d in pending if d.message_id not in found]

        messages, by_id = [], {}
        for delivery in pending:
            files = list(documents(delivery))
            messages.append(build_message(delivery, plan, model, template, files, calendar))
            by_id[delivery.message_id] = delivery
            rows[delivery.key] = _log_row(delivery, transport.name, STATE_PLANNED, now, checksum(files))
        if rows:
            write_log(Edits((UpsertRows(schema.VERSAND.name, "key", tuple(rows.values())),)))

        def on_sent(message: EmailMessage) -> None:
            delivery = by_id[message["Message-ID"]]
            rows[delivery.key].update(state=done_state, timestamp=datetime.now().replace(microsecond=0), error="")
            report.sent.append(delivery.key)
            if progress:
                progress(len(report.sent), len(messages), delivery.recipient.name)

        if messages:
            try:
                transport.send_messages(messages, on_sent=on_sent)
            except TransportError as exc:
                report.error = str(exc)
                for delivery in by_id.values():
                    if delivery.key not in report.sent:
                        reason = exc.failed.get(delivery.message_id, str(exc))
                        report.failed[delivery.key] = reason
                        rows[delivery.key].update(state=STATE_FAILED, error=reason[:250])
    # The log first, on its own: should the session's cells be unwritable (a column the
    # office removed), what was sent is still recorded.
    if rows:
        write_log(Edits((UpsertRows(schema.VERSAND.name, "key", tuple(rows.values())),)))
    if report.complete:
        done = _session_done(plan, today or date.today(), transport.draft)
        if done:
            write_log(done)
    return report


def _log_row(delivery: Delivery, transport: str, state: str, when: datetime, digest: str = "") -> dict:
    row = dict(key=delivery.key, session=delivery.session_id, document=delivery.document,
               recipient=delivery.recipient.id, email=delivery.recipient.email or "",
               version=delivery.version, transport=transport, state=state, timestamp=when, error="")
    if digest:
        row["checksum"] = digest
    return row


def _session_done(plan: Plan, today: date, draft: bool) -> Edits:
    """Once every message is out, note it in Sitzungen (drafts are not yet sent)."""
    if draft:
        return Edits()
    session = plan.session
    if plan.document == INVITATION:
        if session.invitation_sent:
            return Edits()
        cells: list[tuple[str, str, object]] = [(session.id, "invitation_sent", today)]
        if session.status == schema.STATUS_GEPLANT:
            cells.append((session.id, "status", schema.STATUS_EINGELADEN))
    else:
        if session.minutes_sent:
            return Edits()
        cells = [(session.id, "minutes_sent", today)]
    # By the session's id: a row the office inserted since the load must not get this status.
    return Edits((SetCells(schema.SITZUNGEN.name, "id", tuple(cells)),))
