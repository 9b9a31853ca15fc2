"""Commands about the workbook itself: neu, demo, pruefen."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from kpr_excel.cli.common import (
    add_command,
    counts,
    datei_argument,
    flag,
    json_option,
    print_findings,
    print_json,
    say,
    stichtag_option,
    stichtag_or_today,
    warn,
)
from kpr_excel.domain.errors import KprError

# Heavier modules are imported inside the commands: every `kpr` call starts Python anew.


def register(commands) -> None:
    parser = add_command(commands, "neu", neu)
    parser.add_argument("datei", type=Path, metavar="MAPPE", help="Die neue Mappe, z. B. KPR.xlsx.")
    flag(parser, "--ueberschreiben", "Eine vorhandene Datei ersetzen (eine Sicherung bleibt).")

    parser = add_command(commands, "demo", demo)
    parser.add_argument("ordner", type=Path, nargs="?", default=Path("kpr-demo"), metavar="ORDNER",
                        help="Zielordner (Standard: ./kpr-demo); leer oder ein früherer Demo-Ordner.")
    stichtag_option(parser)

    parser = add_command(commands, "pruefen", pruefen)
    datei_argument(parser)
    json_option(parser, "Ergebnis als JSON ausgeben: Datei, Stichtag, Anzahl je Schweregrad, Befunde.")
    flag(parser, "--in-mappe", "Ergebnis auch ins Blatt „Pruefung“ schreiben.")
    stichtag_option(parser)


def neu(datei: Path, ueberschreiben: bool = False) -> int:
    """Eine leere Stammmappe anlegen, mit der Sollbesetzung nach §§ 2 bis 4.

    Exit-Code 0: angelegt; 1: die Datei gibt es schon oder der Name endet nicht auf .xlsx.
    """
    from kpr_excel.app import jobs

    jobs.new_workbook(datei, overwrite=ueberschreiben)
    say(f"Neue Mappe angelegt: {datei}")
    return 0


def demo(ordner: Path, stichtag: date | None = None) -> int:
    """Eine Demo-Mappe mit erfundenen Daten anlegen und alle Schritte daran vorführen.

    Der Ordner muss leer sein, neu oder ein früherer Demo-Ordner (mit der Datei kpr-demo.txt);
    in einen anderen Ordner schreibt die Demo nichts, damit keine echte Mappe und kein echter
    Postausgang berührt wird.
    Exit-Code 0: vorgeführt; 1: Ordner abgelehnt.
    """
    from kpr_excel.app import jobs

    jobs.demo(ordner, stichtag_or_today(stichtag), say)
    return 0


def pruefen(datei: Path, als_json: bool = False, in_mappe: bool = False, stichtag: date | None = None) -> int:
    """Die Mappe und alle Regeln der Geschäftsordnung prüfen.

    Exit-Code 0: keine Fehler; 1: Fehler gefunden; 2: Datei nicht verwendbar.
    """
    from kpr_excel.app.check import check_file

    stichtag = stichtag_or_today(stichtag)
    result = check_file(datei, stichtag)
    write = in_mappe and not result.unusable
    if not als_json:
        print_findings(result.findings, datei.name)
        if write:
            say(f"Blatt „Pruefung“ geschrieben in {_write_pruefung(datei, result.findings, stichtag)}.")
        return result.exit_code
    # JSON: one object on stdout, also where writing the sheet fails after the check.
    summary: dict[str, Any] = {"file": str(datei), "stichtag": stichtag.isoformat(), "exit_code": result.exit_code,
               "counts": counts(result.findings), "findings": [f.as_dict() for f in result.findings]}
    if write:
        try:
            summary["written"] = str(_write_pruefung(datei, result.findings, stichtag))
        except KprError as exc:
            warn(f"Fehler: {exc}")
            summary.update(error=str(exc), exit_code=exc.exit_code)
    print_json(summary)
    return int(summary["exit_code"])


def _write_pruefung(datei: Path, findings, stichtag: date) -> Path:
    from kpr_excel.app import report
    from kpr_excel.book.writer import write_edits

    return write_edits(datei, report.pruefung_edits(findings, stichtag))
