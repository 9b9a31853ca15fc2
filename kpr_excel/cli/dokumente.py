"""Commands that write Word documents: einladung, niederschrift, jahresbericht, vorlagen.

`einladung_app` and `niederschrift_app` are module-level so that the sending commands can be
added to them (`kpr einladung senden`, `kpr niederschrift senden`).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from kpr_excel.cli.common import (
    console,
    err_console,
    exit_code,
    guarded,
    print_findings,
    stichtag_option,
)
from kpr_excel.domain.errors import translate_environment_faults
from kpr_excel.domain.findings import Severity

einladung_app = typer.Typer(help="Einladungen zu Sitzungen (§ 7).", no_args_is_help=True)
niederschrift_app = typer.Typer(help="Niederschriften von Sitzungen (§ 7).", no_args_is_help=True)
vorlagen_app = typer.Typer(help="Die Word-Vorlagen prüfen und zum Bearbeiten bereitstellen.",
                           no_args_is_help=True)

DATEI = typer.Argument(..., help="Die Stammmappe (.xlsx).")
SITZUNG = typer.Argument(..., help="Die ID der Sitzung aus dem Blatt „Sitzungen“, z. B. KPR-2027-2.")
PDF = typer.Option(False, "--pdf", help="Zusätzlich eine PDF-Datei erstellen (braucht LibreOffice).")
UEBERSCHREIBEN = typer.Option(False, "--ueberschreiben",
                              help="Eine von Hand bearbeitete Datei gleichen Namens ersetzen "
                                   "(sonst entsteht eine neue Fassung _v2, _v3, …).")
DATUM = typer.Option(None, "--datum", help="Datum im Dokument TT.MM.JJJJ (Standard: heute).",
                     callback=stichtag_option, show_default=False)


def _documents():
    """The document jobs, imported on use: they bring docx and jinja2, which a start need not pay."""
    from kpr_excel.documents import produce

    return produce


def register(app: typer.Typer) -> None:
    app.add_typer(einladung_app, name="einladung")
    app.add_typer(niederschrift_app, name="niederschrift")
    app.command("jahresbericht")(jahresbericht)
    app.add_typer(vorlagen_app, name="vorlagen")


def _load(datei: Path):
    model, findings = _documents().load_workbook(datei)
    errors = sum(1 for f in findings if f.severity == Severity.FEHLER)
    if errors:
        err_console.print(f"[yellow]Achtung:[/] Die Mappe hat {errors} Datenfehler; die Dokumente können "
                          f"unvollständig sein. Einzelheiten: kpr pruefen {escape(str(datei))}")
    return model


def _show(output) -> None:
    for line in output.lines():
        console.print(line, soft_wrap=True, markup=False)
    if output.pdf_error:
        raise typer.Exit(1)


@einladung_app.command("erstellen")
@guarded
@translate_environment_faults
def einladung_erstellen(
    datei: Path = DATEI,
    sitzung: str = SITZUNG,
    pdf: bool = PDF,
    ueberschreiben: bool = UEBERSCHREIBEN,
    ohne_gaeste: bool = typer.Option(False, "--ohne-gaeste", help="Keine Gastfassungen erstellen."),
    datum=DATUM,
):
    """Die Einladung einer Sitzung erstellen, dazu je Gast eine Fassung nur mit seinen Tagesordnungspunkten."""
    model = _load(datei)
    _show(_documents().write_invitation(datei, model, sitzung, today=datum, guests=not ohne_gaeste,
                                     pdf=pdf, overwrite=ueberschreiben))


@niederschrift_app.command("erstellen")
@guarded
@translate_environment_faults
def niederschrift_erstellen(
    datei: Path = DATEI,
    sitzung: str = SITZUNG,
    entwurf: bool | None = typer.Option(
        None, "--entwurf/--final",
        help="Entwurf vor der Sitzung oder endgültige Fassung (Standard: Entwurf, solange die Sitzung "
             "nicht als durchgeführt eingetragen ist).", show_default=False),
    pdf: bool = PDF,
    ueberschreiben: bool = UEBERSCHREIBEN,
    datum=DATUM,
):
    """Die Niederschrift einer Sitzung erstellen: als Entwurf vorab oder endgültig mit den Ergebnissen."""
    model = _load(datei)
    _show(_documents().write_minutes(datei, model, sitzung, today=datum, draft=entwurf, pdf=pdf,
                                  overwrite=ueberschreiben))


@guarded
@translate_environment_faults
def jahresbericht(
    datei: Path = DATEI,
    jahr: int = typer.Argument(..., help="Das Berichtsjahr, z. B. 2026.", min=2000, max=2100),
    pdf: bool = PDF,
    ueberschreiben: bool = UEBERSCHREIBEN,
    datum=DATUM,
):
    """Den Präventions- und Tätigkeitsbericht eines Jahres erstellen (§ 5), mit Diagramm."""
    model = _load(datei)
    _show(_documents().write_yearly_report(datei, model, jahr, today=datum, pdf=pdf, overwrite=ueberschreiben))


@vorlagen_app.command("pruefen")
@guarded
def vorlagen_pruefen(
    ordner: Path | None = typer.Argument(
        None, help="Ordner mit Einladung.docx, Niederschrift.docx, Jahresbericht.docx und den E-Mail-Texten "
                   "Mail_Einladung.txt, Mail_Niederschrift.txt, meist „Vorlagen“ neben der Mappe "
                   "(Standard: die mitgelieferten Vorlagen)."),
):
    """Prüfen, ob die Word-Vorlagen und E-Mail-Texte nur bekannte Platzhalter verwenden, alle nötigen
    enthalten und nicht auf interne Teile von Python zugreifen.

    Exit-Code 0: in Ordnung; 1: Fehler gefunden.
    """
    from kpr_excel.documents.checks import check_templates

    findings = check_templates(ordner)
    if findings:
        print_findings(findings)
    if not exit_code(findings):
        console.print("Die Vorlagen sind in Ordnung.")
    raise typer.Exit(exit_code(findings))


@vorlagen_app.command("anlegen")
@guarded
def vorlagen_anlegen(datei: Path = DATEI):
    """Die mitgelieferten Vorlagen in den Ordner „Vorlagen“ neben der Mappe kopieren, zum Bearbeiten in Word.

    Vorhandene Vorlagen bleiben unverändert; bearbeitete Vorlagen dort werden statt der mitgelieferten verwendet.
    """
    copied, kept = _documents().copy_templates(datei)
    for path in copied:
        console.print(f"Angelegt: {path}", soft_wrap=True, markup=False)
    for path in kept:
        console.print(f"Schon vorhanden, unverändert: {path}", soft_wrap=True, markup=False)
