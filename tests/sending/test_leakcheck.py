"""The last line of § 8: a message to an outsider that names a confidential title does not go out."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from email.message import EmailMessage

import docx
import pytest

from kpr_excel.mail.base import TransportError
from kpr_excel.mail.outbox import OutboxTransport
from kpr_excel.sending.leakcheck import LeakGuard, leaks

SECRETS = (("Lagebild Innenstadt", "Titel des vertraulichen TOP 3"),)
INSIDERS = frozenset({"mitglied@stadt.example"})


def a_docx(*paragraphs: str) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def message(to: str, body: str = "Guten Tag", docx_bytes: bytes | None = None, ics: bytes | None = None,
            number: int = 1) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "gs@stadt.example", to, "Einladung"
    msg["Message-ID"] = f"<m{number}@kpr-excel.invalid>"
    msg.set_content(body)
    if docx_bytes is not None:
        msg.add_attachment(docx_bytes, maintype="application",
                           subtype="vnd.openxmlformats-officedocument.wordprocessingml.document", filename="E.docx")
    if ics is not None:
        msg.add_attachment(ics, maintype="text", subtype="calendar", filename="S.ics")
    return msg


def test_members_messages_are_not_searched():
    assert leaks(message("mitglied@stadt.example", "Lagebild Innenstadt"), SECRETS, INSIDERS) == []


@pytest.mark.parametrize("where", ["body", "docx", "ics", "split-run"])
def test_a_title_anywhere_in_an_outsiders_message_is_found(where):
    body = "TOP 3: lagebild  innenstadt" if where == "body" else "Guten Tag"
    document = a_docx("TOP 3: Lagebild Innenstadt") if where == "docx" else None
    if where == "split-run":
        word = docx.Document()
        paragraph = word.add_paragraph("TOP 3: Lage")
        paragraph.add_run("bild Innen")
        paragraph.add_run("stadt")
        buffer = io.BytesIO()
        word.save(buffer)
        document = buffer.getvalue()
    folded = b"BEGIN:VCALENDAR\r\nDESCRIPTION:TOP 3 Lagebild \r\n Innenstadt\r\nEND:VCALENDAR\r\n"
    ics = folded if where == "ics" else None
    found = leaks(message("gast@ngo.example", body, document, ics), SECRETS, INSIDERS)
    assert len(found) == 1 and "Lagebild Innenstadt" in found[0]


def test_a_word_that_only_contains_the_title_is_no_hit_and_an_unreadable_attachment_blocks():
    clean = message("gast@ngo.example", "Lagebild Innenstadtteile folgen", a_docx("Offener Punkt"))
    assert leaks(clean, SECRETS, INSIDERS) == []
    odd = message("gast@ngo.example")
    odd.add_attachment(b"\x00\x01", maintype="application", subtype="octet-stream", filename="x.bin")
    assert leaks(odd, SECRETS, INSIDERS) == ["im Anhang x.bin kann nicht gelesen und daher nicht geprüft werden"]


def test_the_guard_sends_the_clean_messages_and_fails_the_leaky_one(tmp_path):
    inner = OutboxTransport(tmp_path)
    guard = LeakGuard(inner, SECRETS, INSIDERS)
    good = message("gast@ngo.example", "Offener Punkt", number=1)
    bad = message("gast@ngo.example", "Offen", a_docx("Lagebild Innenstadt"), number=2)
    confirmed = []
    with pytest.raises(TransportError) as caught:
        with guard:
            guard.send_messages([good, bad], on_sent=confirmed.append)
    assert [m["Message-ID"] for m in confirmed] == ["<m1@kpr-excel.invalid>"]
    assert list(caught.value.failed) == ["<m2@kpr-excel.invalid>"]
    assert "§ 8" in caught.value.failed["<m2@kpr-excel.invalid>"]
    written = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in tmp_path.glob("*.eml")]
    assert [m["Message-ID"] for m in written] == ["<m1@kpr-excel.invalid>"]
