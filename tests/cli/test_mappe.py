"""`kpr neu`, `kpr demo` and `kpr pruefen --in-mappe`: the workbook commands as the office uses them."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from corpus import DEMO, STICHTAG, cells, excel_lock, row_of

from kpr_excel.app import jobs
from kpr_excel.book import loader
from kpr_excel.book.files import BACKUP_DIR
from kpr_excel.book.generate import composition_rows
from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError
from tests.cli.run import kpr

DAY = STICHTAG.strftime("%d.%m.%Y")



def _squeeze(text: str) -> str:
    """Text without any whitespace: rich wraps long lines wherever the terminal width ends."""
    return "".join(text.split())


def test_neu_creates_a_workbook_the_loader_reads_without_findings(tmp_path):
    path = tmp_path / "Ablage" / "KPR.xlsx"
    result = kpr("neu", path)
    assert result.exit_code == 0, result.output
    assert "Neue Mappe angelegt" in result.output
    loaded = loader.load_file(path)
    assert loaded.findings == () and not loaded.unusable
    assert [s.id for s in loaded.model.seats] == [row["id"] for row in composition_rows()]
    assert openpyxl.load_workbook(path).sheetnames[:len(schema.SHEETS)] == [
        s.name for s in schema.SHEETS]


def test_neu_refuses_to_overwrite_and_replaces_only_when_asked(tmp_path):
    path = jobs.new_workbook(tmp_path / "KPR.xlsx", data=DEMO)
    before = path.read_bytes()
    refused = kpr("neu", path)
    assert refused.exit_code == 1
    assert _squeeze("--ueberschreiben") in _squeeze(refused.output)
    assert "Traceback" not in refused.output
    assert path.read_bytes() == before
    assert not (tmp_path / BACKUP_DIR).exists()

    replaced = kpr("neu", path, "--ueberschreiben")
    assert replaced.exit_code == 0, replaced.output
    assert loader.load_file(path).model.persons == ()
    (backup,) = (tmp_path / BACKUP_DIR).iterdir()  # as the refusal promised: a backup stays
    assert backup.read_bytes() == before


@pytest.mark.parametrize("name", ["KPR.xls", "KPR.xlsm", "KPR"])
def test_neu_wants_an_xlsx_name(tmp_path, name):
    result = kpr("neu", tmp_path / name)
    assert result.exit_code == 1
    assert ".xlsx" in result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_demo_builds_a_workbook_without_data_findings(tmp_path):
    folder = tmp_path / "kpr-demo"
    result = kpr("demo", folder, "--stichtag", DAY)
    assert result.exit_code == 0, result.output
    path = folder / jobs.DEMO_FILE
    assert f"Stichtag {DAY}) wird angelegt" in result.output
    loaded = loader.load_file(path)
    assert loaded.findings == ()
    assert len(loaded.model.persons) == len(DEMO["Mitglieder"])
    assert (folder / jobs.DEMO_MARKER).is_file()
    again = kpr("demo", folder, "--stichtag", DAY)  # a demo folder may be demonstrated in again
    assert again.exit_code == 0, again.output


def test_a_stichtag_that_is_no_date_is_a_clear_error(tmp_path):
    path = jobs.new_workbook(tmp_path / "KPR.xlsx")
    result = kpr("pruefen", path, "--stichtag", "morgen")
    assert result.exit_code == 2
    assert _squeeze("„morgen“ ist kein Datum") in _squeeze(result.output)


@pytest.fixture
def faulty(tmp_path, tmp_path_factory) -> Path:
    """The demo with an invalid e-mail address and an agenda item by an unknown person."""
    demo = tmp_path_factory.mktemp("demo") / "Demo.xlsx"
    jobs.new_workbook(demo, data=DEMO)
    path = tmp_path / "KPR.xlsx"
    cells(("Mitglieder", row_of("Mitglieder", id="P20"), "email", "juliane.hempel(at)dresden.example"),
          ("Tagesordnung", 2, "submitter", "P99"))(demo, path)
    return path


def _pruefung(path: Path):
    sheet = openpyxl.load_workbook(path)["Pruefung"]
    return sheet["A1"].value, [[c.value for c in row] for row in sheet.iter_rows(min_row=3)], sheet


def test_pruefen_in_mappe_writes_the_findings_with_links_and_a_timestamp(faulty):
    model_before = loader.load_file(faulty).model
    started = datetime.now().replace(second=0, microsecond=0)
    result = kpr("pruefen", faulty, "--in-mappe", "--stichtag", DAY, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)  # --json prints nothing but the JSON, also with --in-mappe
    findings = summary["findings"]
    assert {("DATA-2", "Mitglieder", row_of("Mitglieder", id="P20"), "L"), ("DATA-4", "Tagesordnung", 2, "D")} <= {
        (f["code"], f["sheet"], f["row"], f["column"]) for f in findings}
    title, rows, sheet = _pruefung(faulty)
    stamp = datetime.strptime(title.removeprefix("Prüfung vom ")[:16], "%d.%m.%Y %H:%M")
    assert 0 <= (stamp - started).total_seconds() <= 120
    assert f"Stichtag {DAY}" in title
    assert [(r[0], r[1], r[4]) for r in rows] == [(f["severity"], f["code"], f["message"]) for f in findings]
    for number, finding in enumerate(findings, start=3):
        link = sheet[f"A{number}"].hyperlink
        if finding["sheet"] in schema.SHEETS_BY_NAME:
            target = link.location or link.target.removeprefix("#")
            assert target == f"'{finding['sheet']}'!{finding['column'] or 'A'}{finding['row'] or 1}"
    assert loader.load_file(faulty).model == model_before
    assert len(list((faulty.parent / BACKUP_DIR).iterdir())) == 1


def test_pruefen_in_mappe_again_replaces_the_sheet(faulty):
    kpr("pruefen", faulty, "--in-mappe", "--stichtag", DAY)
    first = _pruefung(faulty)[1]
    fixed = faulty.with_name("fixed.xlsx")
    shutil.copyfile(faulty, fixed)
    cells(("Tagesordnung", 2, "submitter", "P01"))(fixed, faulty)
    result = kpr("pruefen", faulty, "--in-mappe", "--stichtag", DAY)
    assert _squeeze("Blatt „Pruefung“ geschrieben in") in _squeeze(result.output)
    second = _pruefung(faulty)[1]
    assert len(second) == len(first) - 1
    assert "DATA-4" not in [r[1] for r in second]


def test_pruefen_in_mappe_while_excel_has_it_open_names_the_side_file(faulty):
    excel_lock(faulty, faulty)
    before = faulty.read_bytes()
    result = kpr("pruefen", faulty, "--in-mappe", "--stichtag", DAY)
    assert result.exit_code == 1
    side = faulty.with_name("KPR_Ergebnis.xlsx")
    assert _squeeze(str(side)) in _squeeze(result.output)
    assert faulty.read_bytes() == before
    assert _pruefung(side)[1]


def test_an_error_message_with_brackets_reaches_the_person_as_it_is(tmp_path):
    # A folder named like "[alt]" vanished from the message; "[/alt]" made rich raise a traceback.
    folder = tmp_path / "[alt]" / "[/alt]"
    folder.mkdir(parents=True)
    result = kpr("pruefen", folder / "KPR.xlsx")
    assert result.exit_code == 2, result.output
    assert "[alt]" in _squeeze(result.output) and "[/alt]" in _squeeze(result.output)
    assert "Traceback" not in result.output and "Interner Fehler" not in result.output


@pytest.mark.slow
def test_kpr_start_and_the_loader_do_not_import_openpyxl():
    # Every `kpr` call and every ribbon click starts Python anew; openpyxl costs about 0.1 s,
    # rich about 0.05 s (it is only for a send's progress bar), typer with pydantic more.
    import subprocess
    import sys

    code = ("import sys, kpr_excel.cli, kpr_excel.book.loader; "
            "kpr_excel.cli.main(['pruefen', '--hilfe']); "
            "print(sorted(m for m in ('openpyxl', 'docx', 'exchangelib', 'holidays', 'rich', 'typer', 'pydantic') "
            "if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip().splitlines()[-1] == "[]"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_demo_refuses_a_folder_that_holds_a_real_workbook(tmp_path):
    real = jobs.new_workbook(tmp_path / "Ablage" / "KPR.xlsx", data=DEMO)
    (real.parent / "Ausgabe" / "Postausgang").mkdir(parents=True)
    before = _snapshot(real.parent)
    result = kpr("demo", real.parent, "--stichtag", DAY)
    assert result.exit_code == 1
    refusal = f"Fehler: Der Ordner „{real.parent}“ ist nicht leer (Ausgabe, KPR.xlsx) und kein Demo-Ordner"
    assert refusal in result.stderr
    assert "kpr demo kpr-demo" in result.stderr and "Interner Fehler" not in result.output
    assert _snapshot(real.parent) == before  # no demo workbook, no marker, no mail in the outbox


def test_demo_given_a_file_says_so_in_german(tmp_path):
    real = jobs.new_workbook(tmp_path / "KPR.xlsx", data=DEMO)
    before = real.read_bytes()
    for target in (real, real / "demo"):
        result = kpr("demo", target)
        assert result.exit_code == 1, result.output
        assert f"Fehler: „{real}“ ist eine Datei, kein Ordner." in result.stderr
        assert "Interner Fehler" not in result.output and "Traceback" not in result.output
    assert real.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["KPR.xlsx"]


def test_a_demo_folder_is_known_by_its_marker(tmp_path):
    folder = tmp_path / "kpr-demo"
    jobs.check_demo_folder(folder)  # new
    folder.mkdir()
    jobs.check_demo_folder(folder)  # empty
    (folder / jobs.DEMO_FILE).write_bytes(b"")
    with pytest.raises(KprError, match="kein Demo-Ordner"):
        jobs.check_demo_folder(folder)  # a workbook, but nothing says the demo made it
    (folder / jobs.DEMO_MARKER).write_text(jobs.DEMO_MARKER_TEXT, encoding="utf-8")
    jobs.check_demo_folder(folder)
