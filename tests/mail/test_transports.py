"""One contract every transport passes, run against the real other side (Django's test_backends).

The outbox is checked by what it wrote, SMTP by what aiosmtpd accepted, Exchange by what the
loopback EWS endpoint parsed out of the SOAP it received. Then the Exchange faults, TLS,
login and credentials.
"""

from __future__ import annotations

import base64
import dataclasses
import errno
import logging
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from kpr_excel.domain.errors import KprError
from kpr_excel.mail import credentials, outbox, transports
from kpr_excel.mail.base import addresses, attachments, sensitivity, text_body
from kpr_excel.mail.transports import (
    ExchangeTransport,
    OutboxTransport,
    SmtpTransport,
    TransportError,
    TransportSettings,
    make_transport,
    message_id,
)
from tests.mail.conftest import (
    EWS_PASSWORD,
    EWS_USER,
    SENDER,
    SMTP_PASSWORD,
    SMTP_USER,
    build_message,
    schema_problems,
)
from tests.servers import ews
from tests.servers.ews import EwsServer, Fault
from tests.servers.tls import TestCA

RUN = 40  # recipients in a full send


@dataclass(frozen=True)
class Got:
    """A message as the other side recorded it, reduced to what the tests compare."""

    message_id: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    reply_to: tuple[str, ...]
    subject: str
    sensitivity: str
    attachments: tuple[tuple[str, bytes], ...]  # the documents
    body: str
    draft: bool = False
    calendar: tuple[tuple[str, bytes], ...] = ()  # .ics entries, made per message, kept apart


def _split(named) -> dict:
    named = tuple(named)
    return dict(attachments=tuple(a for a in named if not a[0].endswith(".ics")),
                calendar=tuple(a for a in named if a[0].endswith(".ics")))


def got_from_email(message: EmailMessage) -> Got:
    return Got(
        message_id=message_id(message),
        to=tuple(a for _, a in addresses(message, "To")),
        cc=tuple(a for _, a in addresses(message, "Cc")),
        reply_to=tuple(a for _, a in addresses(message, "Reply-To")),
        subject=str(message["Subject"]),
        sensitivity=sensitivity(message),
        **_split((name, content) for name, _, content in attachments(message)),
        body=text_body(message).replace("\r\n", "\n").strip(),
        draft=message.get("X-Unsent") == "1",
    )


def got_from_ews(stored) -> Got:
    return Got(
        message_id=stored.message_id,
        to=stored.to,
        cc=stored.cc,
        reply_to=stored.reply_to,
        subject=stored.subject,
        sensitivity=stored.sensitivity,
        **_split((a.name, a.content) for a in stored.attachments),
        body=stored.body.replace("\r\n", "\n").strip(),
        draft=stored.folder == "drafts",
    )


def expected(message: EmailMessage) -> Got:
    return got_from_email(message)


def ids(messages) -> list[str]:
    return [message_id(m) for m in messages]


class TransportContract:
    """The tests every transport must pass. Subclasses provide the hooks below."""

    supports_draft = True
    can_reject = True  # the other side can refuse one message and take the others

    # -- hooks ------------------------------------------------------------------------------

    def transport(self, **overrides):
        raise NotImplementedError

    def received(self) -> list[Got]:
        """Every message delivered, in order, duplicates included (the other side's record)."""
        raise NotImplementedError

    def drafts(self) -> list[Got]:
        raise NotImplementedError

    def break_after(self, delivered: int) -> None:
        """Make the next send fail once ``delivered`` more messages were taken."""
        raise NotImplementedError

    def heal(self) -> None:
        """Undo break_after."""

    def reject(self, address: str) -> None:
        raise NotImplementedError

    # -- the contract -----------------------------------------------------------------------

    def test_delivers_what_was_planned(self):
        messages = [
            build_message(1),
            build_message(2, confidential=True, cc="stellvertretung02@example.org"),
            build_message(3, with_attachments=False),
        ]
        with self.transport() as transport:
            count = transport.send_messages(messages)
        assert count == 3
        assert self.received() == [expected(m) for m in messages]
        got = self.received()[1]
        assert got.sensitivity == "Confidential"
        assert got.cc == ("stellvertretung02@example.org",)
        assert got.reply_to == (SENDER,)
        assert [name for name, _ in self.received()[0].attachments] == [
            "Einladung 2025-03-12.docx", "Tagesordnung Übersicht.pdf",
        ]

    def test_on_sent_is_called_for_each_confirmed_message_in_order(self):
        messages = [build_message(n) for n in range(1, 8)]
        confirmed: list[str] = []
        count = self.transport().send_messages(messages, on_sent=lambda m: confirmed.append(message_id(m)))
        assert count == 7
        assert confirmed == ids(messages)

    def test_sending_nothing_returns_zero(self):
        assert self.transport().send_messages([]) == 0
        assert self.received() == []

    def test_one_transport_sends_several_batches(self):
        with self.transport() as transport:
            assert transport.send_messages([build_message(1)]) == 1
            assert transport.send_messages([build_message(2), build_message(3)]) == 2
        assert [g.message_id for g in self.received()] == ids([build_message(n) for n in (1, 2, 3)])

    def test_draft_mode(self):
        messages = [build_message(1), build_message(2, confidential=True)]
        if not self.supports_draft:
            with pytest.raises(KprError, match="Entwürfe"):
                self.transport(draft=True)
            return
        with self.transport(draft=True) as transport:
            assert transport.send_messages(messages) == 2
            assert transport.already_sent(ids(messages)) == set(ids(messages))
        assert [g for g in self.received() if not g.draft] == []
        drafts = self.drafts()
        assert [g.message_id for g in drafts] == ids(messages)
        assert all(g.draft for g in drafts)
        assert drafts[1].sensitivity == "Confidential"

    def test_refused_message_is_reported_and_the_others_go_out(self):
        if not self.can_reject:
            pytest.skip("this transport cannot refuse a single message")
        messages = [build_message(n) for n in range(1, 6)]
        self.reject("mitglied03@example.org")
        confirmed = []
        with pytest.raises(TransportError) as info:
            self.transport().send_messages(messages, on_sent=confirmed.append)
        assert info.value.sent == 4 == len(confirmed)
        assert list(info.value.failed) == [message_id(messages[2])]
        assert "mitglied03@example.org" in info.value.failed[message_id(messages[2])]
        assert "abgelehnt" in str(info.value)
        assert [g.message_id for g in self.received()] == ids(messages[:2] + messages[3:])

    def test_resumed_run_after_failure_has_no_duplicates_and_no_losses(self):
        messages = [build_message(n, confidential=n % 3 == 0) for n in range(1, RUN + 1)]
        self.break_after(23)
        confirmed: list[EmailMessage] = []
        with pytest.raises(TransportError) as info:
            self.transport().send_messages(messages, on_sent=confirmed.append)
        assert info.value.sent == len(confirmed) <= 23
        assert str(info.value)  # a German sentence for the person at the desk
        self.heal()
        resume_all(self.transport(), messages, confirmed)
        got = [g.message_id for g in self.received()]
        assert sorted(got) == sorted(ids(messages)), "duplicates or losses"
        assert self.received()[-1] == expected(next(m for m in messages if message_id(m) == got[-1]))

    def test_already_sent_ignores_unknown_ids(self):
        self.transport().send_messages([build_message(1)])
        with self.transport() as transport:
            known = transport.already_sent([message_id(build_message(1)), "<unbekannt@kpr-excel.invalid>"])
        assert known <= {message_id(build_message(1))}


def resume_all(transport, messages, confirmed) -> set[str]:
    """What the send log does after a failure: ask, then send only what is missing."""
    with transport:
        have = {message_id(m) for m in confirmed} | transport.already_sent(ids(messages))
        rest = [m for m in messages if message_id(m) not in have]
        transport.send_messages(rest)
    return have


# -- outbox ------------------------------------------------------------------------------------


class TestOutbox(TransportContract):
    can_reject = False

    @pytest.fixture(autouse=True)
    def _outbox(self, tmp_path, monkeypatch):
        self.directory = tmp_path / "Postausgang"
        self.writes: list[bytes] = []
        self.fail_at: int | None = None
        real_write = outbox.write_atomically

        def spy(path, data):
            if self.fail_at is not None and len(self.writes) >= self.fail_at:
                raise OSError(errno.ENOSPC, "Kein Speicherplatz auf dem Gerät")
            real_write(path, data)
            self.writes.append(data)

        monkeypatch.setattr(outbox, "write_atomically", spy)

    def transport(self, **overrides):
        return make_transport(TransportSettings(kind="outbox", outbox_dir=self.directory, **overrides))

    def _parsed(self) -> list[Got]:
        return [got_from_email(message_from_bytes(data, policy=policy.default)) for data in self.writes]

    def received(self):
        """Every file written; each is ready to send (X-Unsent), which the contract does not compare."""
        parsed = self._parsed()
        assert all(g.draft for g in parsed), "every outbox file opens in Outlook ready to send"
        return [dataclasses.replace(g, draft=False) for g in parsed]

    def drafts(self):
        return self._parsed()

    def test_draft_mode(self):
        """The outbox only prepares: with or without draft mode, the same ready-to-send files."""
        messages = [build_message(1), build_message(2, confidential=True)]
        with self.transport(draft=True) as transport:
            assert transport.send_messages(messages) == 2
            assert transport.already_sent(ids(messages)) == set(ids(messages))
        assert [g.message_id for g in self.drafts()] == ids(messages)
        assert all(g.draft for g in self.drafts())

    def break_after(self, delivered):
        self.fail_at = delivered

    def heal(self):
        self.fail_at = None

    def test_files_are_named_from_the_message_id_and_written_atomically(self):
        messages = [build_message(n) for n in (1, 2)]
        self.transport().send_messages(messages)
        names = sorted(p.name for p in self.directory.iterdir())
        assert names == ["2025-03-12.einladung.mitglied01.v1.eml", "2025-03-12.einladung.mitglied02.v1.eml"]
        data = (self.directory / names[0]).read_bytes()
        assert b"\r\n" in data and b"\n\n" not in data.replace(b"\r\n", b"")
        assert not list(self.directory.glob(".*"))  # no temporary files left

    def test_draft_file_opens_in_outlook_as_unsent(self):
        self.transport(draft=True).send_messages([build_message(1)])
        data = next(self.directory.iterdir()).read_bytes()
        assert data.startswith(b"X-Unsent: 1\r\n")

    def test_unsafe_message_id_gets_a_safe_distinct_file_name(self):
        first = outbox.file_stem("<a/b\\c:d*e@x>")
        second = outbox.file_stem("<a_b_c_d_e@x>")
        assert "/" not in first and "\\" not in first and ":" not in first
        assert first != second

    def test_failed_write_leaves_no_partial_file(self, monkeypatch):
        def broken_replace(src, dst):
            raise OSError(errno.EACCES, "Zugriff verweigert")

        monkeypatch.setattr(outbox.os, "replace", broken_replace)
        with pytest.raises(TransportError, match="Ausgangsordner"):
            OutboxTransport(self.directory).send_messages([build_message(1)])
        assert list(self.directory.iterdir()) == []


# -- SMTP --------------------------------------------------------------------------------------


@pytest.mark.slow
class TestSmtp(TransportContract):
    supports_draft = False

    @pytest.fixture(autouse=True)
    def _smtp(self, smtp_server, test_ca):
        self.server = smtp_server
        self.ca = test_ca

    def settings(self, **overrides) -> TransportSettings:
        values = dict(
            kind="smtp", smtp_host="127.0.0.1", smtp_port=self.server.port, smtp_user=SMTP_USER,
            ca_bundle=self.ca.ca_file, sender=SENDER, timeout=10,
        )
        values.update(overrides)
        return TransportSettings(**values)

    def transport(self, **overrides):
        password = overrides.pop("password", SMTP_PASSWORD)
        return make_transport(self.settings(**overrides), password=password)

    def received(self):
        return [got_from_email(mail.message) for mail in self.server.received]

    def break_after(self, delivered):
        self.server.handler.data_count = 0
        self.server.handler.fail_data_from = delivered + 1

    def heal(self):
        self.server.handler.fail_data_from = None

    def reject(self, address):
        self.server.handler.reject_rcpt.add(address)

    def test_envelope_and_login(self):
        self.transport().send_messages([build_message(1, cc="stellvertretung01@example.org")])
        mail = self.server.received[0]
        assert mail.mail_from == SENDER
        assert mail.rcpt_tos == ("mitglied01@example.org", "stellvertretung01@example.org")
        assert mail.user == SMTP_USER

    def test_wrong_password_is_a_clear_german_error(self):
        with pytest.raises(TransportError) as info:
            self.transport(password="falsch").open()
        assert "Passwort falsch" in str(info.value)
        assert "falsch" not in str(info.value).replace("Passwort falsch", "")
        assert self.server.received == []

    def test_untrusted_certificate_is_refused(self, tmp_path):
        other_ca = TestCA(tmp_path / "fremd", name="Fremde CA")
        with pytest.raises(TransportError, match="nicht vertrauenswürdig"):
            self.transport(ca_bundle=other_ca.ca_file).send_messages([build_message(1)])
        with pytest.raises(TransportError, match="nicht vertrauenswürdig"):
            self.transport(ca_bundle=None).send_messages([build_message(1)])
        assert self.server.received == []

    def test_unreachable_server(self):
        from tests.servers.smtp import _free_port

        with pytest.raises(TransportError, match="nicht erreichbar"):
            self.transport(smtp_port=_free_port()).open()


# -- Exchange ----------------------------------------------------------------------------------


class ExchangeBase:
    @pytest.fixture(autouse=True)
    def _exchange(self, ews_server, test_ca):
        self.server = ews_server
        self.ca = test_ca

    def settings(self, **overrides) -> TransportSettings:
        values = dict(
            kind="exchange", ews_url=self.server.url, mailbox=SENDER, username=EWS_USER, auth="NTLM",
            chunk_size=10, ca_bundle=self.ca.ca_file, timeout=10,
        )
        values.update(overrides)
        return TransportSettings(**values)

    def transport(self, **overrides):
        password = overrides.pop("password", EWS_PASSWORD)
        transport = make_transport(self.settings(**overrides), password=password)
        transport.max_wait = 5  # the injected back-offs are 0.1-1 s
        return transport

    def received(self):
        return [got_from_ews(m) for m in self.server.delivered]

    def drafts(self):
        return [got_from_ews(m) for m in self.server.folder("drafts")]


@pytest.mark.slow
class TestExchange(ExchangeBase, TransportContract):
    def break_after(self, delivered):
        chunk, rest = divmod(delivered, 10)
        self.server.inject(Fault("drop", nth=chunk + 1, after_items=rest))

    def reject(self, address):
        self.server.reject_recipients.add(address)

    def test_requests_for_forty_recipients(self):
        messages = [build_message(n) for n in range(1, RUN + 1)]
        with self.transport(chunk_size=10) as transport:
            assert transport.already_sent(ids(messages)) == set()
            assert transport.send_messages(messages) == RUN
        operations = self.server.operations()
        assert operations == ["GetFolder", "FindItem"] + ["CreateItem"] * 4
        assert len(operations) <= 3 + 4  # the goal: at most 3 plus one per chunk
        assert {r.user for r in self.server.requests if r.operation} == {EWS_USER}
        assert len({r.connection for r in self.server.requests}) == 1  # one NTLM handshake, kept alive

    def test_on_sent_comes_per_chunk_before_the_next_request(self):
        messages = [build_message(n) for n in range(1, 26)]
        seen_at_confirmation: list[int] = []
        self.transport(chunk_size=10).send_messages(
            messages, on_sent=lambda m: seen_at_confirmation.append(len(self.server.delivered))
        )
        assert seen_at_confirmation == [10] * 10 + [20] * 10 + [25] * 5

    def test_wrong_password_fails_fast_with_a_clear_german_error(self):
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            self.transport(password="Falsch-123").send_messages([build_message(1)])
        assert time.monotonic() - started < 3
        text = str(info.value)
        assert "Anmeldung am Exchange-Server fehlgeschlagen" in text and "Passwort falsch" in text
        assert "Falsch-123" not in text
        assert self.server.operations() == []
        assert len(self.server.requests) <= 3  # no retry loop on 401

    def test_basic_auth(self, server_cert, tmp_path):
        with EwsServer(server_cert, tmp_path / "basic", {EWS_USER: EWS_PASSWORD}, auth="Basic") as server:
            self.server = server
            assert self.transport(auth="Basic").send_messages([build_message(1)]) == 1
            assert [g.message_id for g in self.received()] == ids([build_message(1)])
            with pytest.raises(TransportError, match="Passwort falsch"):
                self.transport(auth="Basic", password="nein").open()

    def test_untrusted_certificate_is_refused(self, tmp_path):
        other_ca = TestCA(tmp_path / "fremd", name="Fremde CA")
        for ca_bundle in (other_ca.ca_file, None):
            with pytest.raises(TransportError, match="nicht vertrauenswürdig"):
                self.transport(ca_bundle=ca_bundle).send_messages([build_message(1)])
        assert self.server.operations() == []

    def test_password_never_logged(self, caplog):
        caplog.set_level(logging.DEBUG)
        with EwsServer(self.server.cert, self.server.directory / "basic", {EWS_USER: EWS_PASSWORD},
                       auth="Basic") as server:
            self.server = server
            self.transport(auth="Basic").send_messages([build_message(1)])
        assert caplog.records  # exchangelib did log at DEBUG
        assert EWS_PASSWORD not in caplog.text
        for encoding in ("latin-1", "utf-8"):  # requests sends Basic credentials as Latin-1
            assert base64.b64encode(f"{EWS_USER}:{EWS_PASSWORD}".encode(encoding)).decode() not in caplog.text

    def test_sso_without_its_package_is_a_clear_german_error(self, monkeypatch):
        from kpr_excel.mail import _ews

        monkeypatch.setattr(_ews, "sso_auth_type", lambda: None)
        with pytest.raises(TransportError, match="Windows-Anmeldung"):
            make_transport(self.settings(auth="SSO")).open()

    def test_oauth2_without_its_package_is_a_clear_german_error(self, monkeypatch):
        from kpr_excel.mail import exchange

        monkeypatch.setattr(exchange.importlib.util, "find_spec", lambda name: None)
        with pytest.raises(TransportError, match="OAuth2"):
            make_transport(self.settings(auth="OAuth2"), password="token").open()


def got_by_send_key(stored) -> Got:
    """What a server that made its own Message-ID stored, under the send key the extended property carries."""
    return replace(got_from_ews(stored), message_id=stored.extended["KprSendKey"])


@pytest.mark.slow
class TestExchangeRefusingMessageId(TestExchange):
    """The whole contract again, against an Exchange that refuses a client-set InternetMessageId."""

    @pytest.fixture(autouse=True)
    def _refusing(self, _exchange):
        self.server.refuse_message_id = True

    def received(self):
        return [got_by_send_key(m) for m in self.server.delivered]

    def drafts(self):
        return [got_by_send_key(m) for m in self.server.folder("drafts")]

    def test_requests_for_forty_recipients(self):
        messages = [build_message(n) for n in range(1, RUN + 1)]
        with self.transport(chunk_size=10) as transport:
            assert transport.already_sent(ids(messages)) == set()
            assert transport.send_messages(messages) == RUN
        # the first chunk is refused as a whole and sent again without the InternetMessageId, once
        assert self.server.operations() == ["GetFolder", "FindItem"] + ["CreateItem"] * 5
        stored = self.server.delivered
        assert [m.extended["KprSendKey"] for m in stored] == ids(messages)
        assert all(m.message_id_from_server for m in stored)
        assert len({m.message_id for m in stored}) == RUN

    def test_a_resumed_run_finds_what_went_out_by_the_send_key(self):
        messages = [build_message(n) for n in range(1, 26)]
        self.server.inject(Fault("drop", nth=3, after_items=4))  # the third CreateItem: chunk 2 after 4 items
        confirmed: list[EmailMessage] = []
        with pytest.raises(TransportError) as info:
            self.transport().send_messages(messages, on_sent=confirmed.append)
        assert info.value.uncertain and len(confirmed) == 10
        with self.transport() as transport:
            assert transport.already_sent(ids(messages)) == set(ids(messages[:14]))
        resume_all(self.transport(), messages, confirmed)
        keys = [m.extended["KprSendKey"] for m in self.server.delivered]
        assert sorted(keys) == sorted(ids(messages)), "duplicates or losses"


@pytest.mark.slow
class TestExchangeAnswersAsExchange(ExchangeBase):
    """The loopback server speaks EWS 2016 as Exchange does; what went over the wire is schema-valid."""

    def test_every_request_and_answer_of_a_varied_run_is_valid_ews(self, ews_schema):
        if ews_schema is None:
            pytest.skip("shared/schemas/ews-2016 liegt nicht neben dem Arbeitsverzeichnis")
        messages = [build_message(n, confidential=n == 2, cc="cc@example.org" if n == 3 else None)
                    for n in range(1, 13)]
        self.server.reject_recipients.add("mitglied05@example.org")
        with pytest.raises(TransportError):
            self.transport().send_messages(messages)
        with self.transport() as transport:
            assert message_id(messages[0]) in transport.already_sent(ids(messages))
        self.transport(draft=True).send_messages([build_message(20)])
        self.server.refuse_message_id = True
        self.transport().send_messages([build_message(30), build_message(31)])
        exchanges = self.server.exchanges
        assert {op for op, _, _ in exchanges} >= {"GetFolder", "FindItem", "GetItem", "CreateItem"}
        answers = b"".join(response for _, _, response in exchanges)
        assert b"ErrorInvalidRecipients" in answers and b"ErrorInvalidPropertySet" in answers
        assert schema_problems(self.server, ews_schema) == []

    def test_the_schema_check_can_fail(self, ews_schema):
        if ews_schema is None:
            pytest.skip("shared/schemas/ews-2016 liegt nicht neben dem Arbeitsverzeichnis")
        without_items = ews._envelope("CreateItem", [
            '<m:CreateItemResponseMessage ResponseClass="Error"><m:MessageText>x</m:MessageText>'
            "<m:ResponseCode>ErrorInvalidRecipients</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
            "</m:CreateItemResponseMessage>"]).replace(b"<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>", b"")
        assert ews_schema.problems(without_items)
        assert ews_schema.problems(ews._envelope("CreateItem", [ews._item_error(
            "CreateItem", "ErrorInvalidRecipients", "x")])) == []

    def test_each_answer_carries_server_version_info(self):
        self.transport().send_messages([build_message(1)])
        operation, request, response = self.server.exchanges[-1]
        assert operation == "CreateItem"
        header = ET.fromstring(response).find(f"{{{ews.SOAP}}}Header/{{{ews.T}}}ServerVersionInfo")
        assert header is not None and header.get("Version") == "V2017_07_11"
        # with the version given in the settings, exchangelib keeps asking in it (no guessing)
        asked = ET.fromstring(request).find(f"{{{ews.SOAP}}}Header/{{{ews.T}}}RequestServerVersion")
        assert asked.get("Version") == "Exchange2016"
        assert all(ET.fromstring(r).find(f"{{{ews.SOAP}}}Header/{{{ews.T}}}ServerVersionInfo") is not None
                   for _, _, r in self.server.exchanges)

    def test_error_answers_hold_an_empty_items_element(self):
        self.server.reject_recipients.add("mitglied01@example.org")
        with pytest.raises(TransportError):
            self.transport().send_messages([build_message(1)])
        _, _, response = self.server.exchanges[-1]
        message = ET.fromstring(response).find(f".//{{{ews.M}}}CreateItemResponseMessage")
        assert message.get("ResponseClass") == "Error"
        assert [child.tag.rpartition("}")[2] for child in message][-1] == "Items"
        assert len(message.find(f"{{{ews.M}}}Items")) == 0

    def test_the_send_key_rides_along_even_where_the_message_id_is_taken(self):
        messages = [build_message(1), build_message(2)]
        self.transport().send_messages(messages)
        stored = self.server.delivered
        assert [m.message_id for m in stored] == ids(messages)
        assert [m.extended["KprSendKey"] for m in stored] == ids(messages)
        assert not any(m.message_id_from_server for m in stored)


FAULTS = [
    pytest.param(Fault("http500", nth=1), id="500-first-chunk"),
    pytest.param(Fault("http500", nth=3, after_items=4), id="500-after-4-of-chunk-3"),
    pytest.param(Fault("http500", operation="GetFolder", nth=1), id="500-at-login"),
    pytest.param(Fault("http503", nth=2, retry_after=1), id="503-retry-after"),
    pytest.param(Fault("busy", nth=1, back_off_ms=100), id="server-busy-first-chunk"),
    pytest.param(Fault("busy", nth=4, back_off_ms=100), id="server-busy-last-chunk"),
    pytest.param(Fault("drop", nth=1), id="dropped-before-anything"),
    pytest.param(Fault("drop", nth=2, after_items=7), id="dropped-after-17"),
    pytest.param(Fault("drop", nth=4, after_items=10), id="dropped-after-all-40"),
]


@pytest.mark.slow
class TestExchangeFaults(ExchangeBase):
    @pytest.fixture(autouse=True)
    def _slow_submission(self, _exchange):
        self.server.submit_lag = 3  # sent messages linger in the Outbox, as on a real server

    def saved(self) -> set[str]:
        return {m.message_id for m in self.server.folder("sentitems") + self.server.folder("outbox")}

    @pytest.mark.parametrize("fault", FAULTS)
    def test_resumed_send_of_forty_ends_with_no_duplicates_and_no_losses(self, fault):
        messages = [build_message(n, confidential=n % 4 == 0) for n in range(1, RUN + 1)]
        self.server.inject(fault)
        confirmed: list[EmailMessage] = []
        started = time.monotonic()
        try:
            self.transport().send_messages(messages, on_sent=confirmed.append)
        except TransportError as e:
            assert e.sent == len(confirmed)
            assert fault.kind in ("http500", "drop")
        else:
            assert fault.kind in ("http503", "busy")  # retried by the bounded policy
        assert time.monotonic() - started < 5
        assert fault.fired
        resume_all(self.transport(), messages, confirmed)
        got = [m.message_id for m in self.server.delivered]
        assert len(got) == len(set(got)), "duplicates"
        assert set(got) == set(ids(messages)), "losses"
        assert self.saved() == set(ids(messages))
        by_id = {m.message_id: got_from_ews(m) for m in self.server.delivered}
        assert all(by_id[message_id(m)] == expected(m) for m in messages)

    def test_messages_still_in_the_outbox_count_as_sent(self):
        messages = [build_message(n) for n in range(1, 16)]
        self.server.inject(Fault("drop", nth=2, after_items=5))
        confirmed: list[EmailMessage] = []
        with pytest.raises(TransportError) as info:
            self.transport().send_messages(messages, on_sent=confirmed.append)
        assert info.value.uncertain and len(confirmed) == 10
        in_outbox = {m.message_id for m in self.server.folder("outbox")}
        assert set(ids(messages[10:15])) <= in_outbox  # delivered, not yet in Sent Items
        assert self.server.folder("sentitems") == []
        with self.transport() as transport:
            assert transport.already_sent(ids(messages)) == set(ids(messages[:15]))

    def test_lookup_failing_during_resume_is_reported_and_a_third_run_completes(self):
        messages = [build_message(n) for n in range(1, 16)]
        self.server.inject(Fault("drop", nth=2, after_items=2))
        confirmed: list[EmailMessage] = []
        with pytest.raises(TransportError):
            self.transport().send_messages(messages, on_sent=confirmed.append)
        self.server.inject(Fault("drop", operation="FindItem", nth=1))
        with pytest.raises(TransportError, match="schon gesendet"):
            with self.transport() as transport:
                transport.already_sent(ids(messages))
        resume_all(self.transport(), messages, confirmed)
        got = [m.message_id for m in self.server.delivered]
        assert sorted(got) == sorted(ids(messages))


# -- settings, credentials, import cost --------------------------------------------------------


def test_make_transport_kinds(tmp_path):
    assert isinstance(make_transport(TransportSettings(outbox_dir=tmp_path)), OutboxTransport)
    smtp = make_transport(TransportSettings(kind="smtp", smtp_host="mail.example", smtp_user="u"), password="p")
    assert isinstance(smtp, SmtpTransport) and smtp.name == "smtp"
    ews = make_transport(
        TransportSettings(kind="exchange", ews_url="https://ex/EWS/Exchange.asmx", mailbox="a@b.de", username="D\\u"),
        password="p",
    )
    assert isinstance(ews, ExchangeTransport) and ews.name == "exchange"
    with pytest.raises(KprError, match="Versandkanal"):
        make_transport(TransportSettings(kind="fax"))
    with pytest.raises(KprError, match="ews_url"):
        make_transport(TransportSettings(kind="exchange", mailbox="a@b.de", username="u"), password="p")


def test_password_from_environment_first_then_keyring(memory_keyring, monkeypatch):
    credentials.store_password("D\\u", "aus-dem-schluesselbund")
    assert credentials.get_password("D\\u") == "aus-dem-schluesselbund"
    monkeypatch.setenv("KPR_PASSWORT", "aus-der-umgebung")
    assert credentials.get_password("D\\u") == "aus-der-umgebung"
    monkeypatch.delenv("KPR_PASSWORT")
    credentials.delete_password("D\\u")
    assert credentials.get_password("D\\u") is None


def test_missing_password_is_a_clear_german_error(memory_keyring):
    settings = TransportSettings(kind="smtp", smtp_host="mail.example", smtp_user="versand")
    with pytest.raises(KprError, match=r"Kein Passwort für versand.*kpr anmelden"):
        make_transport(settings)
    memory_keyring.set_password("kpr-excel", "versand", "geheim")
    assert make_transport(settings)._password == "geheim"


@pytest.mark.slow
def test_check_login_against_both_servers(smtp_server, ews_server, test_ca):
    smtp = TransportSettings(kind="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                             smtp_user=SMTP_USER, ca_bundle=test_ca.ca_file, timeout=10)
    exchange = TransportSettings(kind="exchange", ews_url=ews_server.url, mailbox=SENDER, username=EWS_USER,
                                 ca_bundle=test_ca.ca_file, timeout=10)
    transports.check_login(smtp, SMTP_PASSWORD)
    transports.check_login(exchange, EWS_PASSWORD)
    for settings in (smtp, exchange):
        with pytest.raises(TransportError) as info:
            transports.check_login(settings, "ganz-falsch")
        assert "ganz-falsch" not in str(info.value)
        assert "Passwort falsch" in str(info.value)


@pytest.mark.slow
def test_importing_the_mail_package_does_not_import_exchangelib():
    code = (
        "import sys, kpr_excel.mail.transports, kpr_excel.mail.credentials;"
        "assert 'exchangelib' not in sys.modules, 'exchangelib imported'"
    )
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root, env=env)


def test_outbox_files_are_ready_to_send_and_only_a_complete_file_counts(tmp_path):
    from email import message_from_bytes

    from kpr_excel.mail.outbox import OutboxTransport

    message = build_message(1)
    msg_id = message["Message-ID"]
    outbox_ = OutboxTransport(tmp_path)
    assert outbox_.already_sent([msg_id]) == set()
    assert outbox_.send_messages([message]) == 1
    (eml,) = tmp_path.glob("*.eml")
    data = eml.read_bytes()
    assert data.startswith(b"X-Unsent: 1\r\n")
    assert message_from_bytes(data)["X-Unsent"] == "1"
    assert outbox_.already_sent([msg_id]) == {msg_id}
    eml.write_bytes(data[: len(data) // 2])  # cut off, as by a copy that broke
    assert outbox_.already_sent([msg_id]) == set()
    (tmp_path / ".x.eml.part").write_bytes(b"half")  # left by a killed run
    outbox_.send_messages([message])
    assert not list(tmp_path.glob(".*.eml.part"))
    assert outbox_.already_sent([msg_id]) == {msg_id}
