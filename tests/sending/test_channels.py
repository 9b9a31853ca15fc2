"""`kpr einladung senden` on the demo workbook through each channel, judged by what the other side got.

One contract, three channels: the outbox (the .eml files it wrote), SMTP (what aiosmtpd accepted
after STARTTLS and login) and Exchange (what the loopback EWS endpoint parsed from the SOAP it
received). Expected recipients come from the demo's rows, not from the planner under test.
"""

from __future__ import annotations

import io
import math
import shutil

import docx
import pytest

from kpr_excel.book.demo import demo_data
from kpr_excel.documents.output import session_file
from kpr_excel.domain import schema
from kpr_excel.sending.dispatch import STATE_PREPARED, STATE_SENT, checksum
from kpr_excel.sending.plan import MINUTES
from tests.mail.test_transports import got_from_email, got_from_ews
from tests.sending.conftest import (
    EWS_PASSWORD,
    SESSION,
    SMTP_PASSWORD,
    SMTP_USER,
    STICHTAG,
    assert_clean_exit,
    documents_folder,
    exchange_settings,
    model_of,
    outbox_received,
    planned,
    send,
    send_log,
    set_settings,
)

pytestmark = pytest.mark.slow  # the demo sent end to end with its documents, over each channel

DEMO = demo_data(STICHTAG)
PERSONS = {p["id"]: p for p in DEMO["Mitglieder"]}
KPR_SEATS = {s["id"] for s in DEMO["Sollbesetzung"] if s.get("in_kpr")}
MEMBERS = [p for p in DEMO["Mitglieder"] if p["category"] == schema.KATEGORIE_MITGLIED and p["seat"] in KPR_SEATS]
DEPUTIES = {m["id"]: [p["email"] for p in DEMO["Mitglieder"] if p.get("deputy_of") == m["id"]] for m in MEMBERS}
AGENDA = [item for item in DEMO["Tagesordnung"] if item["session"] == SESSION]
GUESTS = sorted({g.strip() for item in AGENDA for g in (item.get("guests") or "").split(",") if g.strip()}
                - {p["id"] for p in MEMBERS})
CONFIDENTIAL_TITLES = [item["title"] for item in AGENDA if item["confidential"]]
MEMBERS_FILE = "2026-12-09_KPR_Einladung.docx"


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join([p.text for p in document.paragraphs] + cells)


class InvitationContract:
    """What sending the demo invitation must do, whatever the channel."""

    channel = ""
    done_state = STATE_SENT  # what the Versand sheet says once the channel took a message
    delivers = True  # whether the channel delivers (the outbox only prepares)

    def configure(self, book) -> None:
        raise NotImplementedError

    def received(self):
        raise NotImplementedError

    def test_demo_invitation_reaches_each_recipient_once_with_the_documents_as_they_lie(self, book):
        self.configure(book)
        result = send(book)
        assert_clean_exit(result, 0)
        got = self.received()
        by_address = {g.to[0]: g for g in got}
        assert len(got) == len(by_address) == len(MEMBERS) + len(GUESTS)
        assert set(by_address) == {p["email"] for p in MEMBERS} | {PERSONS[g]["email"] for g in GUESTS}
        for member in MEMBERS:
            assert list(by_address[member["email"]].cc) == DEPUTIES[member["id"]], member["id"]
        assert all(g.sensitivity == "Confidential" for g in got)  # the session is not public
        reply_to = model_of(book).settings.reply_to
        assert all(g.reply_to == (reply_to,) for g in got)

        folder = documents_folder(book)
        members_doc = (folder / MEMBERS_FILE).read_bytes()
        member_mails = [by_address[p["email"]] for p in MEMBERS]
        assert {g.subject for g in member_mails} == {member_mails[0].subject}
        assert member_mails[0].subject.startswith("Einladung zur") and "9. Dezember 2026" in member_mails[0].subject
        assert all(g.attachments == ((MEMBERS_FILE, members_doc),) for g in member_mails)
        seidel = by_address[PERSONS["P03"]["email"]]
        assert seidel.body.startswith("Sehr geehrte Frau Dr. Seidel,")
        assert CONFIDENTIAL_TITLES and all(t in docx_text(members_doc) for t in CONFIDENTIAL_TITLES)

        (guest_id,) = GUESTS
        guest = by_address[PERSONS[guest_id]["email"]]
        assert guest.cc == ()
        assert guest.subject.endswith("(Tagesordnungspunkt 4)")
        ((name, content),) = guest.attachments
        assert name != MEMBERS_FILE and "Gast" in name
        assert content == (folder / name).read_bytes()
        for title in CONFIDENTIAL_TITLES:
            assert title not in docx_text(content) and title not in guest.body

        plan = planned(book)
        assert {g.message_id for g in got} == {d.message_id for d in plan.values()}
        log = send_log(book)
        assert set(log) == set(plan)
        for key, entry in log.items():
            delivery = plan[key]
            files = [folder / (name if delivery.recipient.id == guest_id else MEMBERS_FILE)]
            assert (entry.state, entry.transport, entry.email) == (self.done_state, self.channel,
                                                                   delivery.recipient.email)
            assert entry.checksum == checksum(files)
            assert entry.timestamp is not None and entry.error == ""
        session = model_of(book).session(SESSION)
        if self.delivers:
            assert session.invitation_sent == STICHTAG
            assert session.status == schema.STATUS_EINGELADEN
        else:  # prepared is not sent: the § 7 deadline is not met by files in a folder
            assert session.invitation_sent is None
            assert session.status == schema.STATUS_GEPLANT

        again = send(book)
        assert_clean_exit(again, 0)
        assert f"{len(plan)} bereits früher erledigt" in again.output
        assert len(self.received()) == len(got)  # nothing new on the other side
        assert send_log(book) == log

    def test_every_invitation_carries_the_session_as_a_calendar_entry(self, book):
        import icalendar

        self.configure(book)
        assert_clean_exit(send(book), 0)
        got = self.received()
        assert got and all(len(g.calendar) == 1 for g in got)
        assert len({g.calendar[0][1] for g in got}) == 1  # one entry, the same for everybody
        name, data = got[0].calendar[0]
        assert name == f"2026-12-09_{SESSION}_Termin.ics"
        (event,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
        session = next(s for s in DEMO["Sitzungen"] if s["id"] == SESSION)
        start, end = event.decoded("dtstart"), event.decoded("dtend")
        assert (start.date(), start.time(), end.time()) == (session["date"], session["start"], session["end"])
        assert start.utcoffset().total_seconds() == 3600  # Dresden in December: CET
        assert str(event["location"]) == session["place"]
        assert str(event["summary"]) == "4. Sitzung des Kommunalen Präventionsrates"
        assert str(event["class"]) == "CONFIDENTIAL"

    def test_probelauf_sends_nothing_and_lists_the_recipients(self, book):
        self.configure(book)
        before = book.read_bytes()
        result = send(book, "--probelauf")
        assert_clean_exit(result, 0)
        assert self.received() == []
        assert book.read_bytes() == before
        for person in [*MEMBERS, *(PERSONS[g] for g in GUESTS)]:
            assert person["email"] in result.output
        assert "Kopie an Robert Franke" in result.output  # P24, deputy of P02
        assert "Gast: Sarah Engel" in result.output and "nur TOP 4" in result.output


class TestOutbox(InvitationContract):
    channel = "outbox"
    done_state = STATE_PREPARED
    delivers = False

    @pytest.fixture(autouse=True)
    def _outbox(self, book):
        self.book = book

    def configure(self, book) -> None:
        pass  # the default channel

    def received(self):
        return outbox_received(self.book)


class TestSmtp(InvitationContract):
    channel = "smtp"

    @pytest.fixture(autouse=True)
    def _smtp(self, smtp_server, test_ca, monkeypatch):
        self.server = smtp_server
        self.ca = test_ca
        monkeypatch.setenv("KPR_PASSWORT", SMTP_PASSWORD)

    def configure(self, book) -> None:
        # the CA file named relative to the workbook, as the office would put it beside it
        shutil.copyfile(self.ca.ca_file, book.parent / "stadt-ca.pem")
        set_settings(book, transport="smtp", smtp_host="127.0.0.1", smtp_port=self.server.port,
                     smtp_user=SMTP_USER, ca_bundle="stadt-ca.pem")

    def received(self):
        return [got_from_email(mail.message) for mail in self.server.received]

    def test_envelope_holds_recipient_and_deputies(self, book):
        self.configure(book)
        assert_clean_exit(send(book), 0)
        envelopes = {mail.rcpt_tos[0]: mail for mail in self.server.received}
        sender = model_of(book).settings.sender
        for member in MEMBERS:
            mail = envelopes[member["email"]]
            assert list(mail.rcpt_tos[1:]) == DEPUTIES[member["id"]]
            assert mail.user == SMTP_USER
            assert mail.mail_from == sender


class TestExchange(InvitationContract):
    channel = "exchange"

    @pytest.fixture(autouse=True)
    def _exchange(self, ews_server, test_ca, monkeypatch):
        self.server = ews_server
        self.ca = test_ca
        monkeypatch.setenv("KPR_PASSWORT", EWS_PASSWORD)

    def configure(self, book) -> None:
        exchange_settings(book, self.server, self.ca.ca_file)

    def received(self):
        return [got_from_ews(m) for m in self.server.delivered]

    def test_requests_one_login_and_one_per_chunk(self, book):
        self.configure(book)
        assert_clean_exit(send(book), 0)
        chunks = math.ceil(len(planned(book)) / model_of(book).settings.chunk_size)
        operations = self.server.operations()
        assert operations.count("CreateItem") == chunks and operations.count("GetFolder") == 1
        assert len(operations) <= 3 + chunks  # the goal: at most 3 plus one per chunk
        assert {m.folder for m in self.server.folder("sentitems")} == {"sentitems"}
        assert len(self.server.folder("sentitems")) == len(planned(book))

    def test_entwurf_saves_drafts_and_does_not_mark_the_session_sent(self, book):
        self.configure(book)
        result = send(book, "--entwurf")
        assert_clean_exit(result, 0)
        assert "als Entwurf abgelegt" in result.output
        assert self.server.delivered == []  # nothing went out
        drafts = self.server.folder("drafts")
        plan = planned(book)
        assert sorted(m.message_id for m in drafts) == sorted(d.message_id for d in plan.values())
        assert all(m.sensitivity == "Confidential" for m in drafts)
        log = send_log(book)
        assert set(log) == set(plan) and {e.state for e in log.values()} == {"Entwurf"}
        session = model_of(book).session(SESSION)
        assert session.invitation_sent is None and session.status == schema.STATUS_GEPLANT


    def test_drafts_sent_from_outlook_count_and_a_real_run_sends_only_the_rest(self, book):
        self.configure(book)
        assert_clean_exit(send(book, "--entwurf"), 0)
        by_hand = send_drafts_from_outlook(self.server, 5)
        result = send(book)
        assert_clean_exit(result, 0)
        plan = planned(book)
        assert f"{len(plan) - len(by_hand)} versandt, {len(by_hand)} bereits früher erledigt" in result.output
        got = [m.message_id for m in self.server.delivered]
        assert sorted(got) == sorted(d.message_id for d in plan.values())  # each once
        assert {e.state for e in send_log(book).values()} == {STATE_SENT}
        assert model_of(book).session(SESSION).invitation_sent == STICHTAG


def send_drafts_from_outlook(server, count: int) -> list[str]:
    """What the office does in Outlook with a reviewed draft: send it (EWS SendItem on the server)."""
    with server.state.lock:
        drafts = server.state.folders["drafts"][:count]
        for message in drafts:
            server.state.folders["drafts"].remove(message)
            message.folder = "sentitems"
            server.state.folders["sentitems"].append(message)
            server.state.delivered.append(message)
    return [m.message_id for m in drafts]

def test_minutes_go_to_members_only(book, monkeypatch):
    """Minutes of the held KPR-2026-2 (guests on two items): members only, through the outbox."""
    held = "KPR-2026-2"
    model = model_of(book)
    guests_of_session = {g for item in model.agenda_of(held) for g in item.guests}
    assert guests_of_session, "the demo session has guests, so leaving them out is shown"
    result = send(book, document="niederschrift", session=held)
    assert_clean_exit(result, 0)
    got = {g.to[0]: g for g in outbox_received(book)}
    plan = planned(book, MINUTES, held)
    assert set(got) == {d.recipient.email for d in plan.values()}
    assert {p.email for p in model.persons if p.id in guests_of_session}.isdisjoint(got)
    assert all(model.person(d.recipient.id).is_member for d in plan.values())
    minutes = documents_folder(book) / session_file(model.session(held), MINUTES)
    assert minutes.exists()  # made first, it was missing
    assert all(g.attachments == ((minutes.name, minutes.read_bytes()),) for g in got.values())
    assert all(g.calendar == () for g in got.values())  # the session is over: no calendar entry
    assert {e.document for e in send_log(book).values()} == {MINUTES}
