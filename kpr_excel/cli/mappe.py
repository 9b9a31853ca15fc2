"""Commands about the workbook itself: neu, demo, pruefen."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kpr_excel.app import report
from kpr_excel.cli.common import STICHTAG, guarded, print_findings, say

# Heavier modules are imported inside the commands: every `kpr` call starts Python anew.


def register(app: typer.Typer) -> None:
    app.command("neu")(neu)
    app.command("demo")(demo)
    app.command("pruefen")(pruefen)


@guarded
def neu(
    datei: Path = typer.Argument(..., help="Die neue Mappe, z. B. KPR.xlsx."),
    ueberschreiben: bool = typer.Option(False, "--ueberschreiben", help="Eine vorhandene Datei ersetzen."),
):
    """Eine leere Stammmappe anlegen, mit der Sollbesetzung nach §§ 2 bis 4."""
    from kpr_excel.app import jobs

    jobs.new_workbook(datei, overwrite=ueberschreiben)
    say(f"Neue Mappe angelegt: {datei}")


@guarded
def demo(
    ordner: Path = typer.Argument(Path("kpr-demo"), help="Zielordner (Standard: ./kpr-demo)."),
    stichtag=STICHTAG,
):
    """Eine Demo-Mappe mit erfundenen Daten anlegen und alle Schritte daran vorführen."""
    from kpr_excel.app import jobs

    jobs.demo(ordner, stichtag, say)


@guarded
def pruefen(
    datei: Path = typer.Argument(..., help="Die Stammmappe (.xlsx)."),
    als_json: bool = typer.Option(False, "--json", help="Ergebnis als JSON ausgeben."),
    in_mappe: bool = typer.Option(False, "--in-mappe", help="Ergebnis auch ins Blatt „Pruefung“ schreiben."),
    stichtag=STICHTAG,
):
    """Die Mappe und alle Regeln der Geschäftsordnung prüfen.

    Exit-Code 0: keine Fehler; 1: Fehler gefunden; 2: Datei nicht verwendbar.
    """
    from kpr_excel.app.check import check_file

    result = check_file(datei, stichtag)
    if als_json:
        print(json.dumps([f.as_dict() for f in result.findings], ensure_ascii=False, indent=2))
    else:
        print_findings(result.findings, datei.name)
    if in_mappe and not result.unusable:
        from kpr_excel.book.writer import write_edits

        written = write_edits(datei, report.pruefung_edits(result.findings, stichtag))
        if not als_json:
            say(f"Blatt „Pruefung“ geschrieben in {written}.")
    raise typer.Exit(result.exit_code)

