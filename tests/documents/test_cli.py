"""`kpr einladung|niederschrift erstellen`, `kpr jahresbericht`, `kpr vorlagen`, and `kpr demo`'s documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpr_excel.app import jobs
from kpr_excel.documents import office
from kpr_excel.documents.produce import demo_choice, load_workbook
from tests.cli.run import kpr
from tests.documents.conftest import STICHTAG
from tests.documents.textutil import docx_text

DAY = STICHTAG.strftime("%d.%m.%Y")



def _ids(workbook):
    model, _ = load_workbook(workbook)
    choice = demo_choice(model, STICHTAG)
    return model, choice.next_session, choice.last_held


def test_invitation_writes_members_and_guest_versions_named_by_date(workbook):
    model, session, _ = _ids(workbook)
    result = kpr("einladung", "erstellen", workbook, session.id, "--datum", DAY)
    assert result.exit_code == 0, result.output
    folder = workbook.parent / model.settings.output_dir
    main = folder / f"{session.date:%Y-%m-%d}_KPR_Einladung.docx"
    guests = sorted(folder.glob(f"{session.date:%Y-%m-%d}_KPR_Einladung_Gast_*.docx"))
    assert main.is_file() and guests
    assert str(main) in result.output.replace("\n", "")
    assert f"Datum: {DAY}" in docx_text(main)


def test_an_edited_document_is_kept_and_a_new_version_written(workbook):
    model, session, _ = _ids(workbook)
    assert kpr("einladung", "erstellen", workbook, session.id, "--ohne-gaeste").exit_code == 0
    first = workbook.parent / model.settings.output_dir / f"{session.date:%Y-%m-%d}_KPR_Einladung.docx"
    first.write_bytes(first.read_bytes() + b"in Word bearbeitet")
    edited = first.read_bytes()
    result = kpr("einladung", "erstellen", workbook, session.id, "--ohne-gaeste")
    assert result.exit_code == 0, result.output
    second = first.with_name(first.stem + "_v2.docx")
    assert second.is_file() and first.read_bytes() == edited
    assert "bleibt unverändert" in result.output and "--ueberschreiben" in result.output
    result = kpr("einladung", "erstellen", workbook, session.id, "--ohne-gaeste", "--ueberschreiben")
    assert result.exit_code == 0 and first.read_bytes() != edited


def test_minutes_draft_by_default_before_the_session_and_final_on_request(workbook):
    model, upcoming, held = _ids(workbook)
    folder = workbook.parent / model.settings.output_dir
    assert kpr("niederschrift", "erstellen", workbook, upcoming.id).exit_code == 0
    assert "ENTWURF" in docx_text(folder / f"{upcoming.date:%Y-%m-%d}_KPR_Niederschrift_Entwurf.docx")
    assert kpr("niederschrift", "erstellen", workbook, held.id).exit_code == 0
    assert "ENTWURF" not in docx_text(folder / f"{held.date:%Y-%m-%d}_KPR_Niederschrift.docx")
    result = kpr("niederschrift", "erstellen", workbook, upcoming.id, "--final")
    assert result.exit_code == 0 and "noch nicht als durchgeführt" in result.output
    assert kpr("niederschrift", "erstellen", workbook, held.id, "--entwurf").exit_code == 0
    assert (folder / f"{held.date:%Y-%m-%d}_KPR_Niederschrift_Entwurf.docx").is_file()


def test_yearly_report_and_unknown_session_or_year(workbook):
    model, _, _ = _ids(workbook)
    result = kpr("jahresbericht", workbook, STICHTAG.year)
    assert result.exit_code == 0, result.output
    assert (workbook.parent / model.settings.output_dir / f"{STICHTAG.year}_KPR_Jahresbericht.docx").is_file()
    result = kpr("jahresbericht", workbook, STICHTAG.year - 5)
    assert result.exit_code == 1 and "keine Sitzung" in result.output
    result = kpr("einladung", "erstellen", workbook, "KPR-1999-9")
    assert result.exit_code == 1 and "steht nicht im Blatt „Sitzungen“" in result.output


def test_pdf_without_libreoffice_keeps_the_docx_and_says_why(workbook, monkeypatch):
    monkeypatch.setenv(office.ENV_SOFFICE, str(workbook.parent / "kein-soffice"))
    model, session, _ = _ids(workbook)
    result = kpr("einladung", "erstellen", workbook, session.id, "--ohne-gaeste", "--pdf")
    assert result.exit_code == 1
    assert "Keine PDF-Datei" in result.output and "LibreOffice wurde nicht gefunden" in result.output
    assert (workbook.parent / model.settings.output_dir / f"{session.date:%Y-%m-%d}_KPR_Einladung.docx").is_file()


@pytest.mark.slow
def test_pdf_with_libreoffice(workbook, libreoffice):
    model, _, held = _ids(workbook)
    result = kpr("niederschrift", "erstellen", workbook, held.id, "--pdf")
    assert result.exit_code == 0, result.output
    assert (workbook.parent / model.settings.output_dir / f"{held.date:%Y-%m-%d}_KPR_Niederschrift.pdf").is_file()


@pytest.mark.slow
def test_vorlagen_pruefen_and_anlegen(workbook):
    result = kpr("vorlagen", "pruefen")
    assert result.exit_code == 0 and "in Ordnung" in result.output
    result = kpr("vorlagen", "anlegen", workbook)
    assert result.exit_code == 0 and "Angelegt" in result.output
    result = kpr("vorlagen", "pruefen", workbook.parent / "Vorlagen")
    assert result.exit_code == 0, result.output
    (workbook.parent / "Vorlagen" / "Einladung.docx").write_bytes(b"kaputt")
    result = kpr("vorlagen", "pruefen", workbook.parent / "Vorlagen")
    assert result.exit_code == 1 and "VORLAGE-3" in result.output


@pytest.mark.slow
def test_demo_writes_its_documents_and_names_each_file(tmp_path):
    lines = []
    jobs.demo(tmp_path, STICHTAG, lines.append)
    named = [Path(line.rsplit(": ", 1)[1]) for line in lines if line.strip().endswith(".docx")]
    kinds = ["Einladung", "Gastfassung", "Niederschrift", "Jahresbericht"]
    assert len(named) == len(kinds) and all(p.is_file() for p in named)
    for kind in kinds:
        assert any(line.strip().startswith(kind) for line in lines), kind


def test_yearly_report_of_the_running_year_is_a_marked_interim_and_a_future_year_refused(workbook):
    model, _, _ = _ids(workbook)
    result = kpr("jahresbericht", workbook, STICHTAG.year, "--datum", DAY)
    assert result.exit_code == 0, result.output
    assert (f"Achtung: Das Jahr {STICHTAG.year} ist noch nicht zu Ende (Stand {DAY}). Der Bericht ist ein "
            f"Zwischenstand; die endgültige Fassung nach dem 31.12.{STICHTAG.year} erstellen.") in result.stderr
    assert (workbook.parent / model.settings.output_dir / f"{STICHTAG.year}_KPR_Jahresbericht.docx").is_file()
    result = kpr("jahresbericht", workbook, STICHTAG.year, "--datum", f"02.01.{STICHTAG.year + 1}")
    assert result.exit_code == 0 and "noch nicht zu Ende" not in result.output
    result = kpr("jahresbericht", workbook, STICHTAG.year + 1, "--datum", DAY)
    assert result.exit_code == 1
    assert f"Fehler: Das Jahr {STICHTAG.year + 1} hat noch nicht begonnen" in result.stderr
    assert not (workbook.parent / model.settings.output_dir / f"{STICHTAG.year + 1}_KPR_Jahresbericht.docx").exists()


def test_vorlagen_anlegen_copies_the_mail_texts_the_send_then_uses(workbook):
    from kpr_excel.documents import kinds
    from kpr_excel.sending.dispatch import load_text_template

    result = kpr("vorlagen", "anlegen", workbook)
    assert result.exit_code == 0, result.output
    folder = workbook.parent / "Vorlagen"
    for record in (kinds.INVITATION, kinds.MINUTES):
        copy = folder / record.office_mail_text
        assert f"Angelegt: {copy}" in result.stdout
        assert copy.read_bytes() == record.default_mail_text.read_bytes()
    assert sorted(p.name for p in folder.iterdir()) == [
        "Einladung.docx", "Jahresbericht.docx", "Mail_Einladung.txt", "Mail_Niederschrift.txt", "Niederschrift.docx"]
    (folder / "Mail_Einladung.txt").write_text("Eigener Text der Geschäftsstelle", encoding="utf-8")
    assert load_text_template("Einladung", workbook.parent).render() == "Eigener Text der Geschäftsstelle"
    again = kpr("vorlagen", "anlegen", workbook)
    assert f"Schon vorhanden, unverändert: {folder / 'Mail_Einladung.txt'}" in again.stdout
    assert (folder / "Mail_Einladung.txt").read_text(encoding="utf-8") == "Eigener Text der Geschäftsstelle"
