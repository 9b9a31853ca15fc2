"""The pre-flight of a send: each case blocks with a German message naming the cell, and nothing goes out.

The workbook is the demo just before the invitation of KPR-2026-4 (Stichtag 29.11.2026); the
invitation goes to aiosmtpd on loopback, so "nothing sent" is what that server received.
Environment faults that need a full or read-only disk run the command in a private mount
namespace (`unshare -m`) on a small tmpfs, so the disk really is full.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest

from kpr_excel.app import preflight
from kpr_excel.book.writer import header_row
from kpr_excel.domain import errors, schema
from kpr_excel.domain.errors import environment_error
from tests.mail.conftest import SMTP_PASSWORD, SMTP_USER
from tests.sending.conftest import (
    DAY,
    SESSION,
    assert_clean_exit,
    documents_folder,
    model_of,
    outbox_received,
    send,
    send_log,
    set_settings,
    squeeze,
)

pytestmark = pytest.mark.slow  # the demo workbook, an SMTP server per test
BLOCKED = f"Der Versand der Einladung für {SESSION} ist gesperrt"
HELD = "KPR-2026-3"  # held on 09.09.2026, its minutes already out


@pytest.fixture
def smtp_book(book, smtp_server, test_ca, monkeypatch):
    shutil.copyfile(test_ca.ca_file, book.parent / "stadt-ca.pem")
    set_settings(book, transport="smtp", smtp_host="127.0.0.1", smtp_port=smtp_server.port,
                 smtp_user=SMTP_USER, ca_bundle="stadt-ca.pem")
    monkeypatch.setenv("KPR_PASSWORT", SMTP_PASSWORD)
    return book


def set_cell(path: Path, sheet: str, row: int, key: str, value) -> None:
    """Damage one cell of the test workbook by its row number, as the office would by hand."""
    workbook = openpyxl.load_workbook(path)
    worksheet = workbook[sheet]
    _, columns = header_row(worksheet, schema.SHEETS_BY_NAME[sheet], (key,))
    worksheet.cell(row=row, column=columns[key]).value = value  # cell(value=None) would keep the old value
    workbook.save(path)


def assert_blocked(result, path: Path, before: bytes, server, *, code: int, says: list[str],
                   heading: str = BLOCKED) -> str:
    """The German block, its exit code, and nothing sent or written."""
    assert_clean_exit(result, code)
    text = squeeze(result.output)
    assert squeeze(heading) in text
    for part in says:
        assert squeeze(part) in text, (part, result.output)
    if server is not None:
        assert server.received == []
    assert outbox_received(path) == []
    assert path.read_bytes() == before
    return text


# -- recipients who would drop out ------------------------------------------------------------


def test_a_member_with_an_empty_first_name_blocks_naming_the_cell(smtp_book, smtp_server):
    member = model_of(smtp_book).person("P05")
    set_cell(smtp_book, schema.MITGLIEDER.name, member.src.row, "first_name", None)
    before = smtp_book.read_bytes()
    where = str(member.src.at("first_name"))
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=1,
                   says=[f"{where}: VERSAND-3", f"{member.last_name} (P05) in Zeile {member.src.row}",
                         "Pflichtfeld „Vorname“ ist leer"])


def test_a_category_typed_mitgleid_blocks(smtp_book, smtp_server):
    member = model_of(smtp_book).person("P06")
    set_cell(smtp_book, schema.MITGLIEDER.name, member.src.row, "category", "Mitgleid")
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=1,
                   says=[f"{member.src.at('category')}: VERSAND-3", f"{member.first_name} {member.last_name} (P06)",
                         "„Mitgleid“ ist kein zulässiger Wert"])


def test_a_duplicate_id_blocks_naming_the_second_row(smtp_book, smtp_server):
    first, second = model_of(smtp_book).person("P06"), model_of(smtp_book).person("P07")
    set_cell(smtp_book, schema.MITGLIEDER.name, second.src.row, "id", "P06")
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=1,
                   says=[f"{second.src.at('id')}: VERSAND-3",
                         f"{second.first_name} {second.last_name} (P06) in Zeile {second.src.row}",
                         f"kommt doppelt vor (zuerst in Zeile {first.src.row})"])


def test_a_guest_row_that_drops_out_does_not_block_an_invitation_it_is_no_part_of(smtp_book, smtp_server):
    """P33 is a guest of the June session only: an error in that row is not this send's business."""
    guest = model_of(smtp_book).person("P33")
    set_cell(smtp_book, schema.MITGLIEDER.name, guest.src.row, "first_name", None)
    result = send(smtp_book, "--probelauf")
    assert "VERSAND-3" not in result.output


def test_a_working_group_member_who_drops_out_blocks(book):
    model = model_of(book)
    session = next(s for s in model.sessions if s.working_group == "AG-WP" and s.date.month == 11)
    member = model.person("P24")
    set_cell(book, schema.MITGLIEDER.name, member.src.row, "last_name", None)
    before = book.read_bytes()
    result = send(book, "--vergangene-sitzung", session=session.id)
    assert_blocked(result, book, before, None, code=1, heading=f"Der Versand der Einladung für {session.id}",
                   says=[f"{member.src.at('last_name')}: VERSAND-3", "Pflichtfeld „Nachname“ ist leer"])


def test_an_agenda_item_without_a_title_blocks(smtp_book, smtp_server):
    item = model_of(smtp_book).agenda_of(SESSION)[1]
    set_cell(smtp_book, schema.TAGESORDNUNG.name, item.src.row, "title", None)
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=1,
                   says=[f"{item.src.at('title')}: VERSAND-4", f"Tagesordnungspunkt {item.number} in Zeile "
                         f"{item.src.row} fehlte in der Einladung", "Pflichtfeld „Titel“ ist leer"])


def test_a_rule_that_crashed_blocks(smtp_book, smtp_server, monkeypatch):
    import kpr_excel.rules as rules

    def broken(context):
        raise ZeroDivisionError("a bug")

    crashing = (replace(rules.RULES[0], check=broken), *rules.RULES[1:])
    real = rules.run_rules
    monkeypatch.setattr(rules, "run_rules", lambda model, stichtag: real(model, stichtag, rules=crashing))
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=1,
                   says=[f"VERSAND-5 Fehler: Die Regel {rules.RULES[0].code}", "konnte nicht geprüft werden"])


# -- the wrong moment -------------------------------------------------------------------------


def test_minutes_of_a_session_still_planned_are_blocked(book):
    session = model_of(book).session(HELD)
    set_cell(book, schema.SITZUNGEN.name, session.src.row, "status", schema.STATUS_GEPLANT)
    before = book.read_bytes()
    assert_blocked(send(book, document="niederschrift", session=HELD), book, before, None, code=1,
                   heading=f"Der Versand der Niederschrift für {HELD} ist gesperrt",
                   says=[f"{session.src.at('status')}: VERSAND-6", "noch als „geplant“"])


def test_minutes_with_an_item_without_result_are_blocked(book):
    item = model_of(book).agenda_of(HELD)[0]
    set_cell(book, schema.TAGESORDNUNG.name, item.src.row, "result", None)
    before = book.read_bytes()
    assert_blocked(send(book, document="niederschrift", session=HELD), book, before, None, code=1,
                   heading=f"Der Versand der Niederschrift für {HELD} ist gesperrt",
                   says=[f"{item.src.at('result')}: VERSAND-6", f"Zu TOP {item.number}", "kein Ergebnis"])


def test_an_invitation_to_a_past_session_needs_the_option(book):
    session = model_of(book).session(HELD)
    before = book.read_bytes()
    assert_blocked(send(book, session=HELD), book, before, None, code=1,
                   heading=f"Der Versand der Einladung für {HELD} ist gesperrt",
                   says=[f"{session.src.at('date')}: VERSAND-6", "--vergangene-sitzung"])
    preview = send(book, "--probelauf", "--vergangene-sitzung", session=HELD)
    assert "VERSAND-6" not in preview.output
    assert "VERSAND-6" in send(book, "--probelauf", session=HELD).output


# -- what the run writes back -----------------------------------------------------------------


def _edit_with_openpyxl(path: Path, change) -> None:
    workbook = openpyxl.load_workbook(path)
    change(workbook)
    workbook.save(path)


def test_a_removed_column_of_sitzungen_blocks_with_exit_2(smtp_book, smtp_server):
    def remove(workbook):
        sheet = workbook[schema.SITZUNGEN.name]
        header = [c.value for c in sheet[1]]
        sheet.delete_cols(header.index("Einladung versandt am") + 1)

    _edit_with_openpyxl(smtp_book, remove)
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=2,
                   says=["VERSAND-1", "fehlt die Spalte „Einladung versandt am“"])


def test_a_header_moved_down_blocks(smtp_book, smtp_server):
    _edit_with_openpyxl(smtp_book, lambda workbook: workbook[schema.SITZUNGEN.name].insert_rows(1, 7))
    before = smtp_book.read_bytes()
    result = send(smtp_book)
    assert_blocked(result, smtp_book, before, smtp_server, code=2,
                   says=["Sitzungen, Zeile 1: VERSAND-1", "keine Überschriftenzeile gefunden"])


def test_a_tab_renamed_with_a_trailing_space_blocks(smtp_book, smtp_server):
    def rename(workbook):
        workbook[schema.SITZUNGEN.name].title = "Sitzungen "

    _edit_with_openpyxl(smtp_book, rename)
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=2,
                   says=["VERSAND-1", "heißt „Sitzungen “ statt „Sitzungen“"])


def test_a_libreoffice_lock_file_blocks(smtp_book, smtp_server):
    (smtp_book.parent / f".~lock.{smtp_book.name}#").write_text("Juliane Hempel", encoding="utf-8")
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=2,
                   says=["VERSAND-2", "in LibreOffice geöffnet"])


def test_every_block_is_listed_at_once(smtp_book, smtp_server):
    member = model_of(smtp_book).person("P05")
    set_cell(smtp_book, schema.MITGLIEDER.name, member.src.row, "first_name", None)
    (smtp_book.parent / f".~lock.{smtp_book.name}#").write_text("x", encoding="utf-8")
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=2, says=["VERSAND-2", "VERSAND-3"])


def test_an_output_folder_that_is_a_file_blocks(smtp_book, smtp_server):
    folder = documents_folder(smtp_book)
    shutil.rmtree(folder)
    folder.write_text("kein Ordner", encoding="utf-8")
    before = smtp_book.read_bytes()
    assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=2,
                   says=["VERSAND-2", "Ausgabeordner", "ist eine Datei, kein Ordner"])
    assert send_log(smtp_book) == {}


def _immutable(folder: Path) -> bool:
    return subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0


def test_a_protected_output_folder_blocks(smtp_book, smtp_server):
    """chattr +i refuses even root (the tests run as root, so chmod would prove nothing)."""
    folder = documents_folder(smtp_book)
    if not _immutable(folder):
        pytest.skip("chattr +i is not available here")
    try:
        before = smtp_book.read_bytes()
        assert_blocked(send(smtp_book), smtp_book, before, smtp_server, code=2,
                       says=["VERSAND-2", "kann nicht beschrieben werden", "nicht erlaubt"])
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def test_stale_temporary_files_are_removed_at_the_next_run(book):
    folder = documents_folder(book)
    stale, fresh = folder / ".~kpr-1234abcd.docx", folder / ".~kpr-5678efgh.docx"
    beside = book.parent / ".~kpr-0000.xlsx"
    for path in (stale, fresh, beside):
        path.write_bytes(b"halb geschrieben")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    os.utime(beside, (an_hour_ago, an_hour_ago))
    send(book, "--probelauf")
    assert not stale.exists() and not beside.exists()
    assert fresh.exists()  # may belong to a run going on right now


# -- the disk itself: full, read-only ---------------------------------------------------------


def _in_namespace(script: str) -> subprocess.CompletedProcess:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        pytest.skip("needs unshare -m as root for a private tmpfs")
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no mount namespace here")
    return subprocess.run(["unshare", "-m", "sh", "-ec", "mount --make-rprivate /\n" + script],
                          capture_output=True, text=True, timeout=300, cwd=Path(__file__).parents[2])


def _kpr(*args: str, floor: int | None = None) -> str:
    """A shell line running `kpr` (optionally with another free-space floor) and printing its exit code."""
    setup = f"import kpr_excel.app.preflight as p; p.MIN_FREE_BYTES = {floor}; " if floor is not None else ""
    code = setup + f"import sys; sys.argv = ['kpr', *{list(args)!r}]; from kpr_excel.cli import main; sys.exit(main())"
    return f'COLUMNS=400 {sys.executable} -c "{code}" || echo "exit=$?"'


def _mount_copy(folder: Path, size: str) -> str:
    """Shell lines: put a tmpfs of `size` over `folder`, holding what was there."""
    keep = f"{folder}.keep"
    return (f"cp -a {folder} {keep}\nmount -t tmpfs -o size={size} tmpfs {folder}\ncp -a {keep}/. {folder}/\n"
            f"rm -rf {keep}\n")


def test_too_little_free_space_blocks_before_anything_is_sent(book):
    before = book.read_bytes()
    script = _mount_copy(book.parent, "8m") + _kpr("einladung", "senden", str(book), SESSION, "--stichtag", DAY)
    script += f"\nls -A {documents_folder(book)}\n"
    result = _in_namespace(script)
    out = squeeze(result.stdout + result.stderr)
    assert "exit=2" in out, result.stdout + result.stderr
    assert squeeze("VERSAND-2") in out and squeeze("MB frei, mindestens 50 MB") in out
    assert "Postausgang" not in result.stdout  # the outbox was never made
    assert "InternerFehler" not in out and "Traceback" not in out
    assert book.read_bytes() == before


def test_a_read_only_folder_blocks_before_anything_is_sent(book):
    before = book.read_bytes()
    script = (_mount_copy(book.parent, "200m") + f"mount -o remount,ro {book.parent}\n"
              + _kpr("einladung", "senden", str(book), SESSION, "--stichtag", DAY))
    result = _in_namespace(script)
    out = squeeze(result.stdout + result.stderr)
    assert "exit=2" in out, result.stdout + result.stderr
    assert squeeze("schreibgeschützt") in out and "VERSAND-2" in out
    assert "InternerFehler" not in out and "Traceback" not in out
    assert book.read_bytes() == before


def test_a_disk_that_fills_during_the_send_ends_with_a_german_message(book):
    """The floor set to 0 stands for a disk that filled between the pre-flight and the first write."""
    before = book.read_bytes()
    script = (_mount_copy(book.parent, "4m") + f"dd if=/dev/zero of={book.parent}/fill bs=64k 2>/dev/null || true\n"
              + _kpr("einladung", "senden", str(book), SESSION, "--stichtag", DAY, floor=0)
              + f"\nrm {book.parent}/fill\nls -A {book.parent} {documents_folder(book)}\n")
    result = _in_namespace(script)
    out = squeeze(result.stdout + result.stderr)
    assert "exit=2" in out, result.stdout + result.stderr
    assert squeeze("Der Speicherplatz ist voll") in out
    assert "InternerFehler" not in out and "Traceback" not in out
    assert ".eml" not in result.stdout and ".~kpr-" not in result.stdout  # nothing sent, nothing half-written
    assert book.read_bytes() == before


# -- the translation itself -------------------------------------------------------------------


@pytest.mark.parametrize(("number", "says"), [
    (errno.ENOSPC, "Der Speicherplatz ist voll"),
    (errno.EROFS, "schreibgeschützt"),
    (errno.EACCES, "Zugriff wurde verweigert"),
    (errno.ENOTDIR, "ist eine Datei, kein Ordner"),
])
def test_environment_errors_become_german_with_exit_2(number, says):
    fault = environment_error(OSError(number, os.strerror(number), "/ablage/KPR.xlsx"))
    assert fault is not None and fault.exit_code == 2
    assert says in str(fault) and "/ablage/KPR.xlsx" in str(fault)

    @errors.translate_environment_faults
    def failing():
        raise OSError(number, os.strerror(number), "/ablage/KPR.xlsx")

    with pytest.raises(errors.EnvironmentFault, match=says):
        failing()


def test_other_os_errors_stay_what_they_are():
    assert environment_error(OSError(errno.ECONNRESET, "reset")) is None


def test_the_preflight_codes_are_registered():
    from kpr_excel.app.codes import CODES_BY_NAME

    assert all(code.code in CODES_BY_NAME for code in preflight.CODES)
