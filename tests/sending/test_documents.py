"""Sending attaches the documents as they lie in the output folder, and makes only what is missing."""

from __future__ import annotations

import io
import shutil

import docx
import pytest

from kpr_excel.documents.office import convert
from kpr_excel.documents.output import MANIFEST
from kpr_excel.sending.dispatch import checksum
from tests.sending.conftest import (
    assert_clean_exit,
    documents_folder,
    outbox_received,
    planned,
    planned_with_version,
    send,
    send_log,
)
from tests.sending.test_channels import MEMBERS_FILE, docx_text

pytestmark = pytest.mark.slow  # documents made, converted to PDF and sent

ADDED = "Ergänzung der Geschäftsstelle: Parkplätze im Innenhof"


def edit_in_word(path, text: str = ADDED) -> bytes:
    """What the office does: open the .docx, add a paragraph, save."""
    document = docx.Document(path)
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    path.write_bytes(buffer.getvalue())
    return buffer.getvalue()


def members_mails(book):
    return [g for g in outbox_received(book) if "Gast" not in g.attachments[0][0]]


def test_an_edited_document_is_sent_as_edited(book):
    folder = documents_folder(book)
    original = (folder / MEMBERS_FILE).read_bytes()
    edited = edit_in_word(folder / MEMBERS_FILE)
    assert edited != original
    assert_clean_exit(send(book), 0)
    mails = members_mails(book)
    assert mails and all(g.attachments == ((MEMBERS_FILE, edited),) for g in mails)
    assert ADDED in docx_text(mails[0].attachments[0][1])
    assert not list(folder.glob("*_v2.docx"))  # nothing re-rendered over or beside the office's work
    member_keys = [k for k, d in planned(book).items() if d.role != "Gast"]
    assert {send_log(book)[k].checksum for k in member_keys} == {checksum([folder / MEMBERS_FILE])}


def test_a_v2_is_preferred_and_is_a_new_version_of_the_message(book):
    folder = documents_folder(book)
    assert_clean_exit(send(book), 0)
    first = {g.message_id for g in outbox_received(book)}
    v2 = folder / MEMBERS_FILE.replace(".docx", "_v2.docx")
    shutil.copyfile(folder / MEMBERS_FILE, v2)
    v2_bytes = edit_in_word(v2)

    result = send(book)
    assert_clean_exit(result, 0)
    again = [g for g in outbox_received(book) if g.message_id not in first]
    plan_v2 = planned_with_version(book, "2")
    assert {g.message_id for g in again} == {d.message_id for d in plan_v2.values()}
    assert all(g.attachments == ((v2.name, v2_bytes),) for g in again if "Gast" not in g.attachments[0][0])
    log = send_log(book)
    assert set(plan_v2) <= set(log) and set(planned_with_version(book, "1")) <= set(log)
    assert {log[k].version for k in plan_v2} == {"2"}


def test_a_pdf_beside_the_docx_is_attached_too(book, libreoffice):
    folder = documents_folder(book)
    (pdf,) = convert([folder / MEMBERS_FILE], "pdf", folder)
    assert pdf.name == MEMBERS_FILE.replace(".docx", ".pdf")
    assert_clean_exit(send(book), 0)
    mails = members_mails(book)
    expected = ((MEMBERS_FILE, (folder / MEMBERS_FILE).read_bytes()), (pdf.name, pdf.read_bytes()))
    assert mails and all(g.attachments == expected for g in mails)
    member_keys = [k for k, d in planned(book).items() if d.role != "Gast"]
    assert {send_log(book)[k].checksum for k in member_keys} == {checksum([folder / MEMBERS_FILE, pdf])}


def test_missing_documents_are_made_first(book):
    folder = documents_folder(book)
    shutil.rmtree(folder)
    assert_clean_exit(send(book), 0)
    made = sorted(p.name for p in folder.glob("*.docx"))
    got = outbox_received(book)
    assert len(got) == len(planned(book))
    attached = {name: content for g in got for name, content in g.attachments}
    assert sorted(attached) == made and MEMBERS_FILE in made
    assert all((folder / name).read_bytes() == content for name, content in attached.items())


def test_only_the_missing_guest_version_is_made_the_edited_one_stays(book):
    """The members' file was edited in Word, the guest's is missing: make the guest's alone."""
    folder = documents_folder(book)
    edited = edit_in_word(folder / MEMBERS_FILE)
    (guest_file,) = list(folder.glob("*Gast*.docx"))
    guest_file.unlink()
    manifest = (folder / MANIFEST).read_bytes()
    assert_clean_exit(send(book), 0)
    assert guest_file.exists()
    assert sorted(p.name for p in folder.glob("*.docx")) == sorted([MEMBERS_FILE, guest_file.name])
    assert (folder / MEMBERS_FILE).read_bytes() == edited
    assert (folder / MANIFEST).read_bytes() != manifest  # the new guest file is recorded as the tool's
    assert_clean_exit(send(book), 0)  # and a second run finds nothing new to send
    assert len(outbox_received(book)) == len(planned(book))


def test_a_pdf_older_than_the_edited_docx_is_not_attached(book, libreoffice):
    import os

    folder = documents_folder(book)
    (pdf,) = convert([folder / MEMBERS_FILE], "pdf", folder)
    edited = edit_in_word(folder / MEMBERS_FILE)
    later = pdf.stat().st_mtime + 60
    os.utime(folder / MEMBERS_FILE, (later, later))
    assert_clean_exit(send(book), 0)
    mails = members_mails(book)
    assert mails and all(g.attachments == ((MEMBERS_FILE, edited),) for g in mails)
