"""The command line speaks German throughout: help, usage errors, dates, internal errors, exit codes."""

from __future__ import annotations

import json
import re

import pytest
from corpus import DEMO

from kpr_excel.app import jobs
from kpr_excel.cli import commands
from kpr_excel.cli.common import EXIT_INTERNAL
from tests.cli.run import kpr

# What argparse, click or typer print in English, and type markers a person cannot read.
ENGLISH = re.compile(r"usage:|show this|help message|positional arguments|optional arguments|options:|"
                     r"error:|required|invalid|unrecognized|expected|choose from|Traceback|"
                     r"<bool>|<path>|<text>|\bPATH\b|\bTEXT\b|\bINTEGER\b|\bBOOLEAN\b")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return jobs.new_workbook(tmp_path_factory.mktemp("ablage") / "KPR.xlsx", data=DEMO)


def test_kpr_hilfe_is_german_and_documents_the_exit_codes():
    result = kpr("--hilfe")
    assert result.exit_code == 0
    assert result.stdout.startswith("Aufruf: kpr")
    assert "-h, --hilfe, --help  Diese Hilfe anzeigen und beenden." in result.stdout
    text = " ".join(result.stdout.split())
    for code in ("0 = in Ordnung", "1 = Fehler gefunden", "2 = Datei nicht verwendbar oder Aufruf falsch",
                 "3 = interner Fehler", "130 = mit Strg+C abgebrochen"):
        assert code in text
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)
    assert kpr().stdout == result.stdout  # `kpr` alone shows the same help


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_command_has_a_german_help_without_type_markers(name):
    result = kpr(*name.split(), "-h")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"Aufruf: kpr {name} ")
    assert "Diese Hilfe anzeigen" in result.stdout and "Exit-Code" in result.stdout
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)


@pytest.mark.parametrize("group", sorted({name.rsplit(" ", 1)[0] for name in commands() if " " in name}))
def test_every_command_group_shows_its_help(group):
    """A group's help lists its commands' first docstring lines; a "%" in them once made argparse fail."""
    result = kpr(*group.split(), "--hilfe")
    assert result.exit_code == 0 and result.exception is None, result.output
    assert result.stdout.startswith(f"Aufruf: kpr {group} ")


@pytest.mark.parametrize(("args", "message"), [
    (["pruefen"], "kpr pruefen: Fehler: Es fehlt: MAPPE."),
    (["einladung", "erstellen", "KPR.xlsx"], "kpr einladung erstellen: Fehler: Es fehlt: SITZUNG."),
    (["pruefen", "KPR.xlsx", "--farbe"], "kpr pruefen: Fehler: Unbekannt: --farbe."),
    (["prufen", "KPR.xlsx"], "kpr: Fehler: „prufen“ gibt es nicht; möglich: neu, demo, pruefen,"),
    (["vorlagen", "kopieren"], "kpr vorlagen: Fehler: „kopieren“ gibt es nicht; möglich: pruefen, anlegen."),
    (["pruefen", "KPR.xlsx", "--stichtag"], "kpr pruefen: Fehler: Nach --stichtag fehlt der Wert."),
    (["niederschrift", "erstellen", "KPR.xlsx", "KPR-2026-4", "--entwurf", "--final"],
     "kpr niederschrift erstellen: Fehler: --final und --entwurf schließen einander aus."),
    (["jahresbericht", "KPR.xlsx", "zweitausend"], "kpr jahresbericht: Fehler: JAHR: „zweitausend“ ist kein Jahr"),
    (["einladung"], "kpr einladung: Fehler: Es fehlt der Befehl."),
    (["pruefen", "KPR.xlsx", "--stich", "01.12.2026"], "kpr pruefen: Fehler: Unbekannt: --stich 01.12.2026."),
])
def test_usage_errors_are_german_and_exit_2(args, message):
    result = kpr(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("Aufruf: kpr"), result.stderr
    assert message in result.stderr, result.stderr
    assert "--hilfe" in result.stderr.splitlines()[-1]
    assert not ENGLISH.search(result.output), ENGLISH.search(result.output)


@pytest.mark.parametrize(("typed", "message"), [
    ("12/01/2026", "„12/01/2026“ ist mehrdeutig (12. Januar oder 1. Dezember?)"),
    ("01/12/2026", "„01/12/2026“ ist mehrdeutig (1. Dezember oder 12. Januar?)"),
    ("13/01/2026", "„13/01/2026“: Datumsangaben mit Schrägstrich sind mehrdeutig. Bitte TT.MM.JJJJ oder "
                   "JJJJ-MM-TT schreiben, z. B. 13.01.2026 oder 2026-01-13."),
    ("2026/01/12", "„2026/01/12“ ist kein Datum (erwartet TT.MM.JJJJ wie 12.01.2026 oder JJJJ-MM-TT"),
    ("31.02.2026", "„31.02.2026“ ist kein gültiges Datum"),
    ("morgen", "„morgen“ ist kein Datum"),
])
def test_an_ambiguous_or_wrong_date_is_refused_not_guessed(book, typed, message):
    result = kpr("fristen", book, "--json", "--stichtag", typed)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"kpr fristen: Fehler: --stichtag: {message}" in result.stderr, result.stderr


def test_german_and_iso_dates_mean_the_same_day(book):
    german = kpr("fristen", book, "--json", "--stichtag", "12.01.2026")
    iso = kpr("fristen", book, "--json", "--stichtag", "2026-01-12")
    assert german.exit_code == iso.exit_code
    assert json.loads(german.stdout)["stichtag"] == "2026-01-12"
    assert german.stdout == iso.stdout


def test_datum_of_a_document_refuses_the_slash_and_writes_nothing(book):
    before = sorted(p.name for p in book.parent.iterdir())
    result = kpr("einladung", "erstellen", book, "KPR-2026-4", "--datum", "12/01/2026")
    assert result.exit_code == 2
    assert "--datum: „12/01/2026“ ist mehrdeutig" in result.stderr
    assert sorted(p.name for p in book.parent.iterdir()) == before


def test_a_long_path_in_an_error_stays_on_one_line(tmp_path):
    folder = tmp_path.joinpath(*[f"Ordner-mit-einem-recht-langen-Namen-{n}" for n in range(4)])
    result = kpr("pruefen", folder / "Präventionsrat Stammmappe 2026.xlsx")
    assert result.exit_code == 2
    line = next(line for line in result.stderr.splitlines() if "nicht gefunden" in line)
    assert str(folder / "Präventionsrat Stammmappe 2026.xlsx") in line


def test_an_internal_error_exits_3_with_a_german_message(book, monkeypatch):
    import kpr_excel.app.check

    def broken(path, stichtag):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(kpr_excel.app.check, "check_file", broken)
    monkeypatch.delenv("KPR_DEBUG", raising=False)
    result = kpr("pruefen", book)
    assert result.exit_code == EXIT_INTERNAL == 3
    assert result.exception is None
    assert "Interner Fehler (ZeroDivisionError)" in result.stderr and "Exit-Code 3" in result.stderr
    assert "division by zero" not in result.output and "Traceback" not in result.output
    result = kpr("pruefen", book, "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout) == {"file": str(book), "error": "Interner Fehler (ZeroDivisionError)",
                                         "exit_code": 3}
    monkeypatch.setenv("KPR_DEBUG", "1")
    result = kpr("pruefen", book)
    assert isinstance(result.exception, ZeroDivisionError)  # for developers: the details


@pytest.mark.parametrize("command", ["pruefen", "fristen"])
def test_json_of_a_missing_file_is_an_error_object_on_stdout(tmp_path, command):
    missing = tmp_path / "fehlt.xlsx"
    result = kpr(command, missing, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)
    assert error["file"] == str(missing) and error["exit_code"] == 2
    assert "nicht gefunden" in error["error"]
    assert "Fehler:" in result.stderr  # the person reading the console learns it too


def test_json_of_pruefen_carries_file_stichtag_and_counts(book):
    result = kpr("pruefen", book, "--json", "--stichtag", "29.11.2026")
    summary = json.loads(result.stdout)
    assert (summary["file"], summary["stichtag"], summary["exit_code"]) == (str(book), "2026-11-29",
                                                                           result.exit_code)
    severities = [f["severity"] for f in summary["findings"]]
    assert summary["counts"] == {label: severities.count(label) for label in ("Fehler", "Warnung", "Hinweis")}


@pytest.mark.slow
def test_a_console_that_cannot_show_umlauts_gets_replacements_not_an_internal_error(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([sys.executable, "-m", "kpr_excel", "pruefen", tmp_path / "Übersicht.xlsx"],
                          capture_output=True, env=env, cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 2, done.stderr
    assert b"Fehler: Die Datei " in done.stderr and b"?bersicht.xlsx wurde nicht gefunden." in done.stderr
    assert b"Interner Fehler" not in done.stderr and b"Traceback" not in done.stderr


@pytest.mark.parametrize("english", [
    "argument BEFEHL: invalid choice: 'prufen' (choose from 'neu', 'demo')",  # Python 3.10 to 3.12
    "argument BEFEHL: invalid choice: 'prufen' (choose from neu, demo)",  # Python 3.12.8 and 3.13
])
def test_argparse_messages_of_every_supported_python_are_translated(english):
    from kpr_excel.cli.common import german_error

    assert german_error(english) == "„prufen“ gibt es nicht; möglich: neu, demo"


def test_json_with_in_mappe_stays_one_object_when_the_sheet_cannot_be_written(book, monkeypatch):
    import kpr_excel.book.writer
    from kpr_excel.domain.errors import WorkbookNotWritable

    def refuse(path, edits, **options):
        raise WorkbookNotWritable(f"{path.name} ist schreibgeschützt.")

    monkeypatch.setattr(kpr_excel.book.writer, "write_edits", refuse)
    before = book.read_bytes()
    result = kpr("pruefen", book, "--json", "--in-mappe", "--stichtag", "29.11.2026")
    assert result.exit_code == 2
    summary = json.loads(result.stdout)
    assert (summary["error"], summary["exit_code"]) == ("KPR.xlsx ist schreibgeschützt.", 2)
    assert summary["findings"] and "written" not in summary
    assert "Fehler: KPR.xlsx ist schreibgeschützt." in result.stderr
    assert book.read_bytes() == before
