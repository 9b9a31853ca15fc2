"""Writing back into the workbook: atomic, with backups, and never where it could lose work.

The office must never lose a row: a write replaces the file in one step, keeps backups, and
refuses (results go to NAME_Ergebnis.xlsx) while Excel has the file open or where openpyxl
would drop parts of it.
"""

from __future__ import annotations

import os
import shutil
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from corpus import CASES, DEMO, STICHTAG, _add_chart, _add_image, cells, edit, excel_lock, row_of, with_macros

from kpr_excel.app import jobs, report
from kpr_excel.app.check import check_file
from kpr_excel.book import loader, writer
from kpr_excel.book.edits import Edits, SetCells, UpsertRows
from kpr_excel.book.files import BACKUP_DIR, BACKUPS_KEPT
from kpr_excel.book.writer import side_file, write_edits
from kpr_excel.domain import schema
from kpr_excel.domain.errors import WorkbookNotWritable, WorkbookUnusable


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory) -> Path:
    return jobs.new_workbook(tmp_path_factory.mktemp("src") / "KPR.xlsx", data=DEMO)


@pytest.fixture
def workbook(tmp_path, demo_source) -> Path:
    target = tmp_path / "KPR.xlsx"
    shutil.copyfile(demo_source, target)
    return target


P20 = row_of("Mitglieder", id="P20")


def _rename(number: int) -> Edits:
    return Edits((SetCells("Mitglieder", "id", (("P20", "remark", f"Änderung {number}"),)),))


def _remark(path: Path) -> str:
    return loader.load_file(path).model.person("P20").remark


def test_a_write_replaces_the_file_and_leaves_no_temporary_file(workbook):
    before = workbook.read_bytes()
    assert write_edits(workbook, _rename(1)) == workbook
    assert _remark(workbook) == "Änderung 1"
    assert sorted(p.name for p in workbook.parent.iterdir()) == [BACKUP_DIR, "KPR.xlsx"]
    (backup,) = (workbook.parent / BACKUP_DIR).iterdir()
    assert backup.read_bytes() == before


def test_a_full_disk_leaves_the_workbook_untouched_and_says_so_in_german(workbook, monkeypatch):
    before = workbook.read_bytes()
    real_write = Path.write_bytes

    def full_disk(self, data):
        real_write(self, data[:100])  # half a workbook, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full_disk)
    with pytest.raises(WorkbookNotWritable, match=r"Datenträger ist voll: KPR\.xlsx wurde nicht geändert"):
        write_edits(workbook, _rename(1))
    assert workbook.read_bytes() == before
    assert not list(workbook.parent.rglob(".~kpr-*"))


@pytest.mark.slow
def test_backups_keep_the_newest_ten_of_this_workbook_only(workbook):
    other = workbook.with_name("KPR_alt.xlsx")  # its backups share the prefix "KPR_"
    shutil.copyfile(workbook, other)
    for number in range(3):
        write_edits(other, _rename(100 + number))
    states = []
    for number in range(BACKUPS_KEPT + 3):
        states.append(workbook.read_bytes())
        write_edits(workbook, _rename(number))
    folder = workbook.parent / BACKUP_DIR
    own = sorted(p for p in folder.iterdir() if not p.name.startswith("KPR_alt_"))
    assert len(own) == BACKUPS_KEPT
    assert [p.read_bytes() for p in own] == states[-BACKUPS_KEPT:]  # the newest, oldest first
    assert len([p for p in folder.iterdir() if p.name.startswith("KPR_alt_")]) == 3
    assert _remark(workbook) == f"Änderung {BACKUPS_KEPT + 2}"


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_permissions_are_kept_and_new_files_are_not_private(workbook, tmp_path):
    workbook.chmod(0o640)
    write_edits(workbook, _rename(1))
    assert workbook.stat().st_mode & 0o777 == 0o640
    umask = os.umask(0o022)
    try:
        created = jobs.new_workbook(tmp_path / "neu" / "KPR.xlsx")
    finally:
        os.umask(umask)
    assert created.stat().st_mode & 0o777 == 0o644


def test_while_excel_has_the_file_open_results_go_to_a_side_file(workbook):
    excel_lock(workbook, workbook)
    before = workbook.read_bytes()
    target = write_edits(workbook, _rename(1))
    assert target == side_file(workbook) == workbook.with_name("KPR_Ergebnis.xlsx")
    assert workbook.read_bytes() == before
    assert _remark(target) == "Änderung 1"
    assert not (workbook.parent / BACKUP_DIR).exists()
    # Excel closed, the office changed the workbook and opened it again: the side file follows.
    workbook.with_name("~$KPR.xlsx").unlink()
    write_edits(workbook, Edits((SetCells("Mitglieder", "id", (("P20", "function", "Leitung"),)),)))
    excel_lock(workbook, workbook)
    assert write_edits(workbook, _rename(2)) == target
    changed = loader.load_file(target).model.person("P20")
    assert (changed.function, changed.remark) == ("Leitung", "Änderung 2")


def test_when_the_side_file_is_open_too_nothing_is_written(workbook):
    excel_lock(workbook, workbook)
    target = write_edits(workbook, _rename(1))
    before = target.read_bytes(), workbook.read_bytes()
    target.with_name("~$" + target.name).write_bytes(b"x")
    with pytest.raises(WorkbookNotWritable, match=r"KPR_Ergebnis\.xlsx"):
        write_edits(workbook, _rename(2))
    assert (target.read_bytes(), workbook.read_bytes()) == before


@pytest.mark.parametrize("build, name", [
    (edit(_add_chart), "KPR.xlsx"), (edit(_add_image), "KPR.xlsx"), (with_macros, "KPR.xlsm"),
], ids=["diagramm", "bild", "makros"])
@pytest.mark.slow
def test_parts_openpyxl_would_drop_are_kept_byte_for_byte(build, name, tmp_path, demo_source):
    path = tmp_path / name
    build(demo_source, path)
    before = _members(path)
    writer.check_writable(path)
    assert write_edits(path, _rename(1)) == path
    after = _members(path)
    assert _remark(path) == "Änderung 1"
    changed = {n for n in before if before[n] != after.get(n)}
    assert changed == {_sheet_part(path, "Mitglieder")}
    assert set(after) == set(before)


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist()}


def _sheet_part(path: Path, name: str) -> str:
    book = openpyxl.load_workbook(path, read_only=True)
    index = book.sheetnames.index(name)
    book.close()
    with zipfile.ZipFile(path) as archive:
        return next(n for n in archive.namelist() if n == f"xl/worksheets/sheet{index + 1}.xml")


def _structure(path: Path) -> dict:
    """What a write must keep: per sheet the cells, tables, validations, widths, frozen panes."""
    workbook = openpyxl.load_workbook(path)
    sheets = {}
    for ws in workbook.worksheets:
        if ws.title == "Pruefung":
            continue
        sheets[ws.title] = dict(
            values=[tuple(c.value for c in row) for row in ws.iter_rows()],
            formats=[tuple(c.number_format for c in row) for row in ws.iter_rows()],
            tables={t.displayName: t.ref for t in ws.tables.values()},
            validations=sorted((str(v.sqref), v.type, v.formula1, bool(v.showErrorMessage))
                               for v in ws.data_validations.dataValidation),
            widths={k: d.width for k, d in ws.column_dimensions.items()},
            frozen=ws.freeze_panes, state=ws.sheet_state,
        )
    names = {name: d.attr_text for name, d in workbook.defined_names.items()}
    return dict(order=workbook.sheetnames, sheets=sheets, names=names)


@pytest.fixture
def with_findings(tmp_path, demo_source) -> Path:
    path = tmp_path / "KPR.xlsx"
    cells(("Mitglieder", P20, "email", "juliane.hempel(at)dresden.example"),
          ("Tagesordnung", 2, "submitter", "P99"))(demo_source, path)
    return path


def _link_target(cell) -> str | None:
    link = cell.hyperlink
    if link is None:
        return None
    return link.location or (link.target or "").removeprefix("#")


def test_the_pruefung_sheet_links_each_finding_to_its_cell_and_the_rest_survives(with_findings):
    before_structure, before = _structure(with_findings), loader.load_file(with_findings)
    result = check_file(with_findings, STICHTAG)
    assert {f.code for f in result.findings} >= {"DATA-2", "DATA-4"}
    written_at = datetime.now().replace(second=0, microsecond=0)
    write_edits(with_findings, report.pruefung_edits(result.findings, STICHTAG))
    after = loader.load_file(with_findings)
    assert after.model == before.model
    assert after.findings == before.findings
    assert _structure(with_findings) == before_structure

    sheet = openpyxl.load_workbook(with_findings)["Pruefung"]
    title = sheet["A1"].value
    stamp = datetime.strptime(title.split("Prüfung vom ")[1][:16], "%d.%m.%Y %H:%M")
    assert abs((stamp - written_at).total_seconds()) <= 120
    assert f"Stichtag {STICHTAG:%d.%m.%Y}" in title
    assert [c.value for c in sheet[2]][:2] == ["Schweregrad", "Code"]
    rows = list(sheet.iter_rows(min_row=3))
    assert len(rows) == len(result.findings)
    for row, finding in zip(rows, result.findings):
        assert (row[0].value, row[1].value, row[4].value) == (finding.severity.label, finding.code, finding.message)
        loc = finding.location
        expected = f"'{loc.sheet}'!{loc.column or 'A'}{loc.row or 1}" if loc else None
        assert _link_target(row[0]) == expected
    assert sheet.tables["tblPruefung"].ref == f"A2:H{2 + len(result.findings)}"


def test_upsert_updates_by_key_and_appends_inside_the_table(workbook):
    sent = datetime(2027, 5, 20, 9, 30)
    rows = tuple(dict(key=f"KPR-2027-2|Einladung|P{n:02}|1", session="KPR-2027-2", document="Einladung",
                      recipient=f"P{n:02}", state="gesendet", timestamp=sent) for n in (1, 2))
    write_edits(workbook, Edits((UpsertRows("Versand", "key", rows),)))
    update = ({**rows[0], "state": "fehlgeschlagen", "error": "Postfach voll"},)
    write_edits(workbook, Edits((UpsertRows("Versand", "key", update),)))
    log = loader.load_file(workbook).model.send_log
    assert [(e.recipient, e.state, e.timestamp, e.src.row) for e in log] == [
        ("P01", "fehlgeschlagen", sent, 2), ("P02", "gesendet", sent, 3)]
    sheet = openpyxl.load_workbook(workbook)["Versand"]
    assert sheet.tables["tblVersand"].ref.endswith("3")


def test_yes_no_is_written_as_the_dropdown_offers_it(workbook):
    row = row_of("Tagesordnung", session=f"KPR-{STICHTAG.year}-1", number="4")
    key = (f"KPR-{STICHTAG.year}-1", "4")
    write_edits(workbook, Edits((SetCells("Tagesordnung", ("session", "number"), ((key, "confidential", True),)),)))
    assert openpyxl.load_workbook(workbook)["Tagesordnung"][f"H{row}"].value == "ja"
    assert loader.load_file(workbook).model.agenda[row - 2].confidential is True


@pytest.mark.parametrize("case", [c for c in CASES if c.message], ids=lambda c: c.name)
def test_files_that_are_no_workbook_raise_one_german_error(case, tmp_path, demo_source):
    path = tmp_path / case.filename
    case.build(demo_source, path)
    with pytest.raises(WorkbookUnusable, match=case.message):
        loader.load_file(path)
    if path.is_file():
        before = path.read_bytes()
        with pytest.raises(WorkbookUnusable, match=path.name):
            write_edits(path, _rename(1))
        assert path.read_bytes() == before


def test_upsert_appends_below_a_row_typed_without_a_key(workbook):
    typed = dict(session="KPR-2027-2", recipient="P07", error="per Post nachgereicht")
    book = openpyxl.load_workbook(workbook)  # the office types a row without a key
    for key, value in typed.items():
        book["Versand"][f"{schema.VERSAND.letter(key)}2"] = value
    book.save(workbook)
    row = dict(key="KPR-2027-2|Einladung|P01|1", session="KPR-2027-2", document="Einladung", recipient="P01")
    write_edits(workbook, Edits((UpsertRows("Versand", "key", (row,)),)))
    sheet = openpyxl.load_workbook(workbook)["Versand"]
    assert [c.value for c in sheet[2]][1:4:2] == ["KPR-2027-2", "P07"] and sheet["K2"].value == typed["error"]
    assert sheet["A3"].value == row["key"] and sheet["D3"].value == "P01"


def test_a_write_into_a_column_or_header_the_office_removed_is_refused_in_german(workbook):
    book = openpyxl.load_workbook(workbook)
    book["Mitglieder"]["O1"] = None  # "Bemerkung"
    for cell in book["Versand"][1]:
        cell.value = None
    book.save(workbook)
    before = workbook.read_bytes()
    with pytest.raises(WorkbookNotWritable, match="„Mitglieder“ fehlt die Spalte „Bemerkung“"):
        write_edits(workbook, _rename(1))
    row = dict(key="KPR-2027-2|Einladung|P01|1", session="KPR-2027-2", document="Einladung")
    with pytest.raises(WorkbookNotWritable, match="„Versand“ wurde keine Überschriftenzeile gefunden"):
        write_edits(workbook, Edits((UpsertRows("Versand", "key", (row,)),)))
    assert workbook.read_bytes() == before
