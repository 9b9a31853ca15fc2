"""Commands about the Excel add-in: kpr addin bauen, pruefen, installieren."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kpr_excel.cli.common import console, exit_code, guarded, print_findings
from kpr_excel.domain.findings import Finding

addin_app = typer.Typer(
    name="addin",
    help="Das Excel-Add-in KPR.xlam (Menüband „KPR“) bauen, prüfen und installieren.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)



@addin_app.command("bauen")
@guarded
def bauen(
    quellen: Path = typer.Option(None, "--quellen", show_default=False,
                                 help="Ordner mit KPR.bas und customUI.xml (Standard: die dem Paket beiliegenden)."),
    ausgabe: Path = typer.Option(None, "--ausgabe", show_default=False,
                                 help="Das gebaute Add-in (Standard: kpr_excel/addin/files/KPR.xlam im Checkout)."),
):
    """Das Add-in aus KPR.bas und customUI.xml bauen und das Ergebnis prüfen.

    Ein zweiter Build aus denselben Quellen ergibt dieselbe Datei, Byte für Byte.
    Ohne --ausgabe braucht das einen Checkout des Projekts (pip install -e .).
    Exit-Code 0: gebaut und in Ordnung; 1: gebaut, aber die Prüfung fand Fehler;
    2: Quellen oder Werkzeuge fehlen.
    """
    from kpr_excel import addin

    result = addin.build_addin(quellen or addin.SOURCES_DIR, ausgabe)
    state = "neu geschrieben" if result.changed else "unverändert (gleiche Bytes)"
    console.print(f"{result.path}: {state}, {result.size} Bytes, SHA-256 {result.sha256}",
                  markup=False, soft_wrap=True)
    raise typer.Exit(_report(result.findings, result.path.name))


@addin_app.command("pruefen")
@guarded
def pruefen(
    datei: Path = typer.Argument(None, show_default=False,
                                help="Das Add-in (Standard: das dem Paket beiliegende KPR.xlam)."),
    quellen: Path = typer.Option(None, "--quellen", show_default=False,
                                 help="Ordner mit KPR.bas und customUI.xml (Standard: die dem Paket beiliegenden); "
                                      "das Add-in muss daraus gebaut sein."),
    ohne_quellen: bool = typer.Option(False, "--ohne-quellen",
                                      help="Nur die Datei prüfen, nicht den Vergleich mit den Quellen."),
    als_json: bool = typer.Option(False, "--json", help="Befunde als JSON ausgeben."),
):
    """Das gebaute Add-in ohne Excel prüfen: Menüband, Callbacks, RunPython-Ziele, P-Code, xlwings-Version.

    Exit-Code 0: keine Fehler; 1: Fehler gefunden; 2: Datei oder Werkzeuge fehlen.
    """
    from kpr_excel import addin

    datei = datei or addin.ADDIN_FILE
    findings = addin.check_addin(datei, None if ohne_quellen else quellen or addin.SOURCES_DIR)
    if als_json:
        print(json.dumps([finding.as_dict() for finding in findings], ensure_ascii=False, indent=2))
        raise typer.Exit(exit_code(findings))
    raise typer.Exit(_report(findings, datei.name))


@addin_app.command("installieren")
@guarded
def installieren(
    datei: Path = typer.Argument(None, show_default=False,
                                help="Das Add-in (Standard: das dem Paket beiliegende KPR.xlam)."),
    ziel: Path = typer.Option(None, "--ziel", show_default=False,
                              help=r"Zielordner statt %APPDATA%\Microsoft\AddIns."),
):
    r"""Das Add-in dorthin kopieren, wo Excel Add-ins lädt (%APPDATA%\Microsoft\AddIns).

    Unter einem anderen System als Windows steht nur die Anleitung da.
    Exit-Code 0: kopiert; 1: nicht Windows, nichts kopiert; 2: Datei fehlt oder Ziel gesperrt.
    """
    from kpr_excel import addin

    result = addin.install_addin(datei or addin.ADDIN_FILE, target_dir=ziel)
    console.print(result.instructions, markup=False, soft_wrap=True)
    raise typer.Exit(0 if result.installed else 1)


def _report(findings: tuple[Finding, ...], filename: str) -> int:
    if findings:
        print_findings(findings, filename)
    else:
        console.print(f"{filename}: in Ordnung.", markup=False)
    return exit_code(findings)
