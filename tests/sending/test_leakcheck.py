"""The last line of § 8: a message to an outsider that names a confidential title does not go out."""

from __future__ import annotations

import io
import re
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


# PDF: read with pypdf, so that a workstation without poppler (Windows) can check a guest's PDF.

STALE_TITLE = "Öffentliche Auffälligkeiten: Fluchtwege, Pflegefinanzierung und Straßen\xadbahn\xadhalte\xadstellen" \
              "\xadbeleuchtungs\xadmaßnahmen\xadkatalog\xadfort\xadschreibung im Stadtteil Löbtau-Süd"


def with_pdf(data: bytes, number: int = 1) -> EmailMessage:
    msg = message("gast@ngo.example", number=number)
    msg.add_attachment(data, maintype="application", subtype="pdf", filename="Einladung.pdf")
    return msg


@pytest.fixture(scope="module")
def soffice():
    """LibreOffice only: unlike the `libreoffice` fixture this does not need pdftotext, which is the point."""
    from kpr_excel.documents.office import find_soffice
    from tests.conftest import _office_missing

    if find_soffice() is None:
        _office_missing("LibreOffice (soffice)")


@pytest.fixture(scope="module")
def guest_pdf(soffice, tmp_path_factory):
    """A guest's invitation as LibreOffice writes it, and the session's model.

    The guest's item 4 gets a long title (umlauts, ß, fi/ff/fl, soft hyphens in a word too long for
    its table cell, so that LibreOffice breaks it with a hyphen at a line end); the test then marks
    that item confidential, as the office does after making the invitation (the stale file of issue 11).
    """
    from kpr_excel.app import jobs
    from kpr_excel.book.demo import demo_data
    from kpr_excel.documents import produce
    from kpr_excel.documents.office import convert
    from tests.documents.conftest import STICHTAG

    data = demo_data(STICHTAG)
    for row in data["Tagesordnung"]:
        if row["session"] == "KPR-2026-4" and row["number"] == "4":
            row["title"] = STALE_TITLE
    workbook = tmp_path_factory.mktemp("pdf") / "KPR.xlsx"
    jobs.new_workbook(workbook, data=data)
    model, findings = produce.load_workbook(workbook)
    assert not findings
    output = produce.write_invitation(workbook, model, "KPR-2026-4", today=STICHTAG)
    guest = next(f.path for f in output.files if "_Gast_" in f.path.name)
    (pdf,) = convert([guest], "pdf", workbook.parent / "pdf")
    return pdf.read_bytes(), model


@pytest.fixture
def no_pdftotext(tmp_path, monkeypatch):
    empty = tmp_path / "leer"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    import shutil

    assert shutil.which("pdftotext") is None


@pytest.mark.slow
def test_a_guests_pdf_is_read_without_pdftotext(guest_pdf, no_pdftotext):
    import dataclasses

    from kpr_excel.sending.leakcheck import attachment_text, secrets_of

    data, model = guest_pdf
    raw = attachment_text("E.pdf", "application/pdf", data)
    assert raw is not None and re.search(r"Straßen\w*-\s*\n\s*\w*fortschreibung", raw[0]), raw[0]  # broken
    session = next(s for s in model.sessions if s.id == "KPR-2026-4")
    # As generated: the guest's version holds no confidential item (TOP 3), so it goes out.
    secrets = secrets_of(model, session)
    assert any("Lagebild" in text for text, _ in secrets)
    assert leaks(with_pdf(data), secrets, INSIDERS) == []
    # Item 4 marked confidential after the PDF was made: its title, broken over lines, blocks.
    stale = dataclasses.replace(model, agenda=tuple(
        dataclasses.replace(i, confidential=True) if i.session == session.id and i.number == "4" else i
        for i in model.agenda))
    found = leaks(with_pdf(data), secrets_of(stale, session), INSIDERS)
    assert any(STALE_TITLE in reason and "im Anhang Einladung.pdf" in reason for reason in found), found
    # One word of it alone, each as pypdf saw it: umlauts, ligature letters, the hyphenated compound.
    compound = "Straßenbahnhaltestellenbeleuchtungsmaßnahmenkatalogfortschreibung"
    for word in ("Löbtau-Süd", "Pflegefinanzierung", compound, "Auffälligkeiten: Fluchtwege"):
        assert leaks(with_pdf(data), ((word, "Test"),), INSIDERS), word
    # What a viewer shows beside the pages: the document title, a bookmark, a sticky note.
    from pypdf import PdfWriter
    from pypdf.annotations import Text

    for add in ("metadata", "bookmark", "note"):
        writer = PdfWriter(clone_from=io.BytesIO(data))
        if add == "metadata":
            writer.add_metadata({"/Title": "Lagebild Innenstadt"})
        elif add == "bookmark":
            writer.add_outline_item(title="Lagebild Innenstadt", page_number=0)
        else:
            writer.add_annotation(0, Text(rect=(50, 550, 200, 650), text="Lagebild Innenstadt"))
        buffer = io.BytesIO()
        writer.write(buffer)
        assert leaks(with_pdf(buffer.getvalue()), SECRETS, INSIDERS) == [
            "„Lagebild Innenstadt“ (Titel des vertraulichen TOP 3) steht im Anhang Einladung.pdf"], add


@pytest.mark.slow
def test_pypdf_reads_what_pdftotext_reads(guest_pdf):
    """The cross-check: pypdf's words are poppler's words (the order within a page may differ)."""
    import shutil
    import subprocess

    from kpr_excel.sending.leakcheck import attachment_text, normalise

    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext ist nicht installiert (nur für den Gegenvergleich)")
    data, _ = guest_pdf
    ours = attachment_text("E.pdf", "application/pdf", data)
    assert ours is not None
    poppler = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                             check=True).stdout.decode()
    assert sorted(normalise(ours[1]).split()) == sorted(normalise(poppler).split())


def test_a_damaged_or_encrypted_pdf_blocks(no_pdftotext):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Title": "Lagebild Innenstadt"})
    buffer = io.BytesIO()
    writer.write(buffer)
    blank = buffer.getvalue()
    unreadable = "im Anhang Einladung.pdf kann nicht gelesen und daher nicht geprüft werden"
    # No text on any page (a scan): whatever it shows cannot be checked.
    for damaged in (blank, blank[: len(blank) // 2], b"%PDF-1.7\n" + b"\x00" * 200, b""):
        assert leaks(with_pdf(damaged), SECRETS, INSIDERS) == [unreadable]
    writer.encrypt("geheim")
    buffer = io.BytesIO()
    writer.write(buffer)
    assert leaks(with_pdf(buffer.getvalue()), SECRETS, INSIDERS) == [unreadable]


@pytest.mark.slow
def test_kpr_pruefen_and_loading_the_send_path_do_not_import_pypdf(tmp_path):
    # pypdf is loaded only when a PDF is really scanned, not by a check or by importing the send path.
    import subprocess
    import sys
    from pathlib import Path

    from kpr_excel.app import jobs
    from kpr_excel.book.demo import demo_data
    from tests.documents.conftest import STICHTAG

    workbook = jobs.new_workbook(tmp_path / "KPR.xlsx", data=demo_data(STICHTAG))
    code = ("import sys, kpr_excel.cli\n"
            f"code = kpr_excel.cli.main(['pruefen', {str(workbook)!r}])\n"
            "print(code, 'pypdf' in sys.modules)\n"
            "import kpr_excel.app.send, kpr_excel.sending.leakcheck\n"
            "print('pypdf' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().splitlines()[-2:] in (["0 False", "False"], ["1 False", "False"]), done.stdout


@pytest.mark.slow
def test_kpr_senden_sends_the_guests_pdf_without_pdftotext(book, soffice, tmp_path, monkeypatch):
    """The whole send on a workstation without poppler: the guest gets the PDF made with --pdf."""
    from kpr_excel.documents.office import convert
    from tests.sending.conftest import assert_clean_exit, documents_folder, outbox_received, send

    folder = documents_folder(book)
    (guest_docx,) = list(folder.glob("*Gast*.docx"))
    (pdf,) = convert([guest_docx], "pdf", folder)
    empty = tmp_path / "leer"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert_clean_exit(send(book), 0)
    guests = [g for g in outbox_received(book) if "Gast" in g.attachments[0][0]]
    assert guests and all((pdf.name, pdf.read_bytes()) in g.attachments for g in guests)
