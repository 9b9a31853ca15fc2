"""Commands about the Excel add-in: kpr addin bauen, pruefen, installieren."""

from __future__ import annotations

from pathlib import Path

from kpr_excel.cli.common import (
    add_command,
    add_group,
    counts,
    exit_code,
    flag,
    json_option,
    print_findings,
    print_json,
    say,
)
from kpr_excel.domain.findings import Finding

ADDIN_FILE_HELP = "Das Add-in (Standard: das dem Paket beiliegende KPR.xlam)."


def register(commands) -> None:
    addin = add_group(commands, "addin", "Das Excel-Add-in KPR.xlam (Menüband „KPR“) bauen, prüfen und installieren.")
    parser = add_command(addin, "bauen", bauen)
    parser.add_argument("--quellen", type=Path, default=None, metavar="ORDNER",
                        help="Ordner mit KPR.bas und customUI.xml (Standard: die dem Paket beiliegenden).")
    parser.add_argument("--ausgabe", type=Path, default=None, metavar="DATEI",
                        help="Das gebaute Add-in (Standard: kpr_excel/addin/files/KPR.xlam im Checkout).")

    parser = add_command(addin, "pruefen", pruefen)
    parser.add_argument("datei", type=Path, nargs="?", default=None, metavar="DATEI", help=ADDIN_FILE_HELP)
    parser.add_argument("--quellen", type=Path, default=None, metavar="ORDNER",
                        help="Ordner mit KPR.bas und customUI.xml (Standard: die dem Paket beiliegenden); "
                             "das Add-in muss daraus gebaut sein.")
    flag(parser, "--ohne-quellen", "Nur die Datei prüfen, nicht den Vergleich mit den Quellen.")
    json_option(parser, "Befunde als JSON ausgeben: Datei, Anzahl je Schweregrad, Befunde.")

    parser = add_command(addin, "installieren", installieren)
    parser.add_argument("datei", type=Path, nargs="?", default=None, metavar="DATEI", help=ADDIN_FILE_HELP)
    parser.add_argument("--ziel", type=Path, default=None, metavar="ORDNER",
                        help=r"Zielordner statt %%APPDATA%%\Microsoft\AddIns.")


def bauen(quellen: Path | None = None, ausgabe: Path | None = None) -> int:
    """Das Add-in aus KPR.bas und customUI.xml bauen und das Ergebnis prüfen.

    Ein zweiter Build aus denselben Quellen ergibt dieselbe Datei, Byte für Byte.
    Ohne --ausgabe braucht das einen Checkout des Projekts (pip install -e .).
    Exit-Code 0: gebaut und in Ordnung; 1: gebaut, aber die Prüfung fand Fehler;
    2: Quellen oder Werkzeuge fehlen.
    """
    from kpr_excel import addin

    result = addin.build_addin(quellen or addin.SOURCES_DIR, ausgabe)
    state = "neu geschrieben" if result.changed else "unverändert (gleiche Bytes)"
    say(f"{result.path}: {state}, {result.size} Bytes, SHA-256 {result.sha256}")
    return _report(result.findings, result.path.name)


def pruefen(datei: Path | None = None, quellen: Path | None = None, ohne_quellen: bool = False,
            als_json: bool = False) -> int:
    """Das gebaute Add-in ohne Excel prüfen: Menüband, Callbacks, RunPython-Ziele, P-Code, xlwings-Version.

    Exit-Code 0: keine Fehler; 1: Fehler gefunden; 2: Datei oder Werkzeuge fehlen.
    """
    from kpr_excel import addin

    datei = datei or addin.ADDIN_FILE
    findings = addin.check_addin(datei, None if ohne_quellen else quellen or addin.SOURCES_DIR)
    if als_json:
        print_json({"file": str(datei), "exit_code": exit_code(findings), "counts": counts(findings),
                    "findings": [finding.as_dict() for finding in findings]})
        return exit_code(findings)
    return _report(findings, datei.name)


def installieren(datei: Path | None = None, ziel: Path | None = None) -> int:
    r"""Das Add-in dorthin kopieren, wo Excel Add-ins lädt (%APPDATA%\Microsoft\AddIns).

    Unter einem anderen System als Windows steht nur die Anleitung da.
    Exit-Code 0: kopiert; 1: nicht Windows, nichts kopiert; 2: Datei fehlt oder Ziel gesperrt.
    """
    from kpr_excel import addin

    result = addin.install_addin(datei or addin.ADDIN_FILE, target_dir=ziel)
    say(result.instructions)
    return 0 if result.installed else 1


def _report(findings: tuple[Finding, ...], filename: str) -> int:
    if findings:
        print_findings(findings, filename)
    else:
        say(f"{filename}: in Ordnung.")
    return exit_code(findings)
