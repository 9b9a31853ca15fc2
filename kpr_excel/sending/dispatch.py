"""Sending a plan: build the e-mails, send what is missing, through the write-ahead journal.

Every message has a journal row (``sending.journal``), committed before it goes ("wird
gesendet") and after ("gesendet", "bereitgestellt" for the outbox, "Entwurf", "fehlgeschlagen";
"unsicher" where a crash left it in flight and the channel cannot say). A second run skips what
the journal records as done and asks the channel about messages in doubt, so nothing goes out
twice without the user saying so and nothing is lost. The Versand sheet is written once at the
end, from the journal: it is the office's view of it.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import signal
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
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
from kpr_excel.domain.values import german_date, german_date_long
from kpr_excel.mail.base import Transport, TransportError
from kpr_excel.rules.confidentiality import confidentiality_notice_required
from kpr_excel.sending import journal as journals
from kpr_excel.sending.calendar import ics_file_name, session_ics
from kpr_excel.sending.journal import ANSWERING_CHANNELS, Journal, journal_key
from kpr_excel.sending.plan import INVITATION, ROLE_GUEST, Delivery, Plan

# The journal names the states once; the send log's older names are the same members.
STATE_PLANNED, STATE_IN_FLIGHT, STATE_SENT = journals.PLANNED, journals.IN_FLIGHT, journals.SENT
STATE_PREPARED, STATE_DRAFT, STATE_FAILED = journals.PREPARED, journals.DRAFT, journals.FAILED
STATE_UNCERTAIN = journals.UNCERTAIN
DONE_STATES = (STATE_SENT, STATE_PREPARED, STATE_DRAFT)

# An office copy of a mail text in this folder beside the workbook wins over the default.
OFFICE_TEXTS_DIR = "Vorlagen"

DocumentProvider = Callable[[Delivery], Sequence[Path]]
LogWriter = Callable[[Edits], object]  # what it returns is not used
Progress = Callable[[int, int, str], None]


@dataclass
class SendReport:
    """What a run did, by delivery key (without the channel)."""

    plan: Plan
    transport: str
    already: list[str] = field(default_factory=list)  # done in an earlier run
    sent: list[str] = field(default_factory=list)  # done in this run (sent, prepared or saved as draft)
    failed: dict[str, str] = field(default_factory=dict)
    uncertain: list[str] = field(default_factory=list)  # in doubt, not sent again
    draft: bool = False
    state: str = STATE_SENT  # what "done" means on this channel
    interrupted: bool = False  # Ctrl+C: stopped after the current message
    error: str = ""
    write_error: str = ""  # the Versand sheet could not be written (the journal holds it all)

    @property
    def complete(self) -> bool:
        return (not self.failed and not self.uncertain and not self.interrupted
                and len(self.already) + len(self.sent) == len(self.plan.deliveries))


def done_state(transport: Transport) -> str:
    """What a message is once this transport took it: only a delivering channel "sends"."""
    if transport.name == "outbox":
        return STATE_PREPARED
    return STATE_DRAFT if transport.draft else STATE_SENT


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
    from kpr_excel.documents.render import mail_text_env  # the sandbox shared with the Word templates

    env = mail_text_env()
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


class _StopAfterCurrent:
    """Ctrl+C (SIGINT) during a send: finish the message in flight, then stop.

    A second Ctrl+C interrupts at once (the journal then says "wird gesendet" for what was in
    flight, and the next run asks the channel). Only the main thread may set signal handlers; a
    send from another thread keeps Python's default behaviour.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: object = None

    def __enter__(self) -> _StopAfterCurrent:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc_info) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)  # type: ignore[arg-type]


def _test_fault(event: str, count: int) -> None:
    """Test-only hook for the fault matrix (tests/sending/test_fault_matrix.py).

    ``KPR_TEST_FAULT=<action>-<event>:<n>`` with action kill (SIGKILL, as a crash), sigint
    (Ctrl+C) or touch (create the file named after a third colon, e.g. Excel's lock file) and
    event ``unrecorded`` (the channel confirmed message n, the journal does not know yet) or
    ``after`` (message n is recorded; ``after:0`` is before the first message is marked in
    flight). Unset, it costs one dictionary lookup per message.
    """
    spec = os.environ.get("KPR_TEST_FAULT")
    if not spec:
        return
    action, _, rest = spec.partition("-")
    what, _, rest = rest.partition(":")
    number, _, argument = rest.partition(":")
    if what != event or not number.isdigit() or int(number) != count:
        return
    if action == "kill":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
    elif action == "sigint":
        os.kill(os.getpid(), signal.SIGINT)
    elif action == "touch" and argument:
        Path(argument).touch()


def _journal_rows(plan: Plan, channel: str, model: Model) -> list[dict]:
    """Rows to plan in the journal: the Versand sheet's word first (a journal lost or made
    anew must not forget what the sheet records as done), then a fresh geplant row."""
    by_delivery = {d.key: d for d in plan.deliveries}
    rows = []
    for entry in model.send_log:
        parts = entry.key.rsplit("|", 1)
        state = entry.state
        if entry.key in by_delivery:  # a row written before the channel was part of the key
            delivery, entry_channel = by_delivery[entry.key], entry.transport or channel
            if entry_channel == "outbox" and state == STATE_SENT:
                state = STATE_PREPARED  # the old outbox called its files "gesendet"; it never sent
        elif len(parts) == 2 and parts[0] in by_delivery:
            delivery, entry_channel = by_delivery[parts[0]], parts[1]
        else:
            continue
        if state in (*DONE_STATES, STATE_UNCERTAIN, STATE_IN_FLIGHT):
            rows.append(_plan_row(delivery, entry_channel, state, entry.checksum))
    rows += [_plan_row(d, channel, STATE_PLANNED) for d in plan.deliveries]
    return rows


def _plan_row(delivery: Delivery, channel: str, state: str, digest: str = "") -> dict:
    return dict(key=journal_key(delivery.key, channel), delivery=delivery.key, session=delivery.session_id,
                document=str(delivery.document), recipient=delivery.recipient.id,
                email=delivery.recipient.email or "", version=delivery.version, channel=channel,
                message_id=delivery.message_id, state=state, checksum=digest or "")


def send_plan(
    plan: Plan,
    model: Model,
    transport: Transport,
    documents: DocumentProvider,
    write_log: LogWriter,
    *,
    journal: Journal,
    workbook_dir: Path | None = None,
    today: date | None = None,
    progress: Progress | None = None,
    resend_uncertain: bool = False,
) -> SendReport:
    """Send what of `plan` is not yet out, one journal commit before and after each message.

    The Versand sheet and the session's cells are written once at the end (a second time only
    where the session's cells cannot be written: then the Versand rows alone).
    """
    if plan.blocked:
        raise KprError("Versand gesperrt: " + "; ".join(f.format() for f in plan.blocking))
    channel = transport.name
    finished = done_state(transport)
    report = SendReport(plan, channel, draft=transport.draft, state=finished)
    journal.plan(_journal_rows(plan, channel, model))
    key_of = {d.key: journal_key(d.key, channel) for d in plan.deliveries}

    pending: list[Delivery] = []
    in_doubt: list[Delivery] = []
    for delivery in plan.deliveries:
        entries = journal.for_delivery(delivery.key)
        mine = next(e for e in entries if e.channel == channel)
        if any(e.state == STATE_SENT for e in entries) or mine.state == finished:
            report.already.append(delivery.key)
        elif mine.state in (STATE_IN_FLIGHT, STATE_UNCERTAIN):
            in_doubt.append(delivery)
        else:
            pending.append(delivery)
    answers = channel in ANSWERING_CHANNELS
    if not answers:
        doubtful = [key_of[d.key] for d in in_doubt
                    if (entry := journal.get(key_of[d.key])) is not None and entry.state == STATE_IN_FLIGHT]
        if doubtful:
            journal.mark(doubtful, STATE_UNCERTAIN, error="Beim Abbruch eines früheren Versands unterwegs; "
                         "ob der Server die Nachricht angenommen hat, ist nicht bekannt.")
        if resend_uncertain:
            pending = [d for d in plan.deliveries if d in pending or d in in_doubt]
        else:
            report.uncertain = [d.key for d in in_doubt]
    else:
        pending = [d for d in plan.deliveries if d in pending or d in in_doubt]

    template = load_text_template(plan.document, workbook_dir)
    # The calendar entry goes with invitations: made from the workbook once per run, the same for all.
    calendar = session_ics(plan.session, model) if kinds.kind(plan.document).calendar else None
    batch_size = max(1, int(getattr(transport, "chunk_size", 1))) if channel == "exchange" else 1
    if pending:
        with transport, _StopAfterCurrent() as stop:
            if answers:
                # Ask the other side about every pending message, not only those in doubt: a
                # message may be out without our confirmation (a journal lost or made anew).
                found = transport.already_sent([d.message_id for d in pending])
                have = [d for d in pending if d.message_id in found]
                if have:
                    journal.mark([key_of[d.key] for d in have], finished)
                    report.already += [d.key for d in have]
                pending = [d for d in pending if d.message_id not in found]
            _send_batches(plan, model, transport, documents, journal, report, pending, template, calendar,
                          batch_size, stop, progress, key_of)
    _write_view(plan, journal, write_log, report, today or date.today())
    return report


def _send_batches(plan, model, transport, documents, journal, report, pending, template, calendar,
                  batch_size, stop, progress, key_of) -> None:
    finished = report.state
    total = len(pending)
    by_id = {d.message_id: d for d in pending}
    _test_fault("after", 0)

    def on_sent(message: EmailMessage) -> None:
        delivery = by_id[message["Message-ID"]]
        count = len(report.sent) + 1
        _test_fault("unrecorded", count)
        journal.mark([key_of[delivery.key]], finished)
        report.sent.append(delivery.key)
        _test_fault("after", count)
        if progress:
            progress(len(report.sent), total, delivery.recipient.name)

    for start in range(0, total, batch_size):
        batch = pending[start:start + batch_size]
        if stop.requested:
            report.interrupted = True
            break
        messages, starting = [], {}
        for delivery in batch:
            files = list(documents(delivery))
            message = build_message(delivery, plan, model, template, files, calendar)
            messages.append(message)
            subject_and_body = (str(message["Subject"]) + "\n" + _body_text(message)).encode("utf-8")
            starting[key_of[delivery.key]] = dict(
                checksum=checksum(files), body_sum=hashlib.sha256(subject_and_body).hexdigest()[:16])
        journal.mark_each(STATE_IN_FLIGHT, starting)  # committed before the batch goes
        try:
            transport.send_messages(messages, on_sent=on_sent)
        except TransportError as exc:
            report.error = str(exc)
            _failed(journal, report, batch, exc, key_of)
            rest = pending[start + batch_size:]
            reason = f"nicht versucht, weil der Versand abbrach: {exc}"
            journal.mark([key_of[d.key] for d in rest], STATE_FAILED, error=reason)
            report.failed.update({d.key: reason for d in rest})
            return
    if stop.requested and len(report.sent) < total:
        report.interrupted = True


def _failed(journal: Journal, report: SendReport, batch: list[Delivery], exc: TransportError, key_of) -> None:
    """The unconfirmed messages of the batch that broke: refused, or in doubt where the
    connection broke mid-message and the channel cannot be asked."""
    for delivery in batch:
        if delivery.key in report.sent:
            continue
        key = key_of[delivery.key]
        reason = exc.failed.get(delivery.message_id, str(exc))
        if exc.uncertain and delivery.message_id not in exc.failed and report.transport not in ANSWERING_CHANNELS:
            journal.mark([key], STATE_UNCERTAIN, error=reason)
            report.uncertain.append(delivery.key)
        else:
            # Refused, or on a channel that is asked before every run: safe to send again.
            journal.mark([key], STATE_FAILED, error=reason)
            report.failed[delivery.key] = reason


def _body_text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


def _write_view(plan: Plan, journal: Journal, write_log: LogWriter, report: SendReport, today: date) -> None:
    """Refresh the Versand sheet from the journal and, once every message is delivered, the
    session's cells: one write; a second with the Versand rows alone where the first failed."""
    entries = journal.entries(plan.session.id, str(plan.document))
    log = Edits((UpsertRows(schema.VERSAND.name, "key", tuple(e.versand_row() for e in entries)),)) \
        if entries else Edits()
    delivered = {e.delivery for e in entries if e.state == STATE_SENT}
    every = bool(plan.deliveries) and all(d.key in delivered for d in plan.deliveries)
    done = _session_done(plan, today, not every)
    if not (log or done):
        return
    try:
        write_log(log + done)
    except KprError as exc:
        report.write_error = str(exc)
        if done and log:
            try:
                write_log(log)
            except KprError:
                return
            report.write_error = (f"{exc} Das Blatt „Versand“ ist geschrieben; „Sitzungen“ wird beim "
                                  "nächsten Aufruf nachgetragen.")


def confirm_prepared(plan: Plan, journal: Journal, write_log: LogWriter, today: date) -> list[str]:
    """The office says the prepared (outbox) messages of `plan` went out from Outlook: they
    become gesendet, and the session's cells are set once all are delivered. Returns the
    delivery keys confirmed now."""
    confirmed = []
    for delivery in plan.deliveries:
        entry = journal.get(journal_key(delivery.key, "outbox"))
        if entry is not None and entry.state == STATE_PREPARED:
            confirmed.append(delivery.key)
            journal.mark([entry.key], STATE_SENT, error="von der Geschäftsstelle als versandt bestätigt")
    report = SendReport(plan, "outbox")
    _write_view(plan, journal, write_log, report, today)
    if report.write_error:
        raise KprError(report.write_error)
    return confirmed


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
