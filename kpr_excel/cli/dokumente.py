"""Commands that write Word documents: einladung, niederschrift, jahresbericht, vorlagen.

`register` returns nothing; the groups `einladung` and `niederschrift` are kept in
`GROUPS` so that the sending commands can be added to them (`kpr einladung senden`).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kpr_excel.cli.common import (
    add_command,
    add_group,
    date_argument,
    datei_argument,
    exit_code,
    flag,
    print_findings,
    say,
    stichtag_or_today,
    warn,
    year_argument,
)
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Severity

#: The command groups other modules add to ("einladung", "niederschrift").
GROUPS: dict[str, object] = {}


def sitzung_argument(parser) -> None:
    parser.add_argument("sitzung", metavar="SITZUNG",
                        help="Die ID der Sitzung aus dem Blatt „Sitzungen“, z. B. KPR-2027-2.")


def _document_options(parser) -> None:
    flag(parser, "--pdf", "Zusätzlich eine PDF-Datei erstellen (braucht LibreOffice).")
    flag(parser, "--ueberschreiben", "Eine von Hand bearbeitete Datei gleichen Namens ersetzen "
                                     "(sonst entsteht eine neue Fassung _v2, _v3, …).")
    parser.add_argument("--datum", type=date_argument, default=None, metavar="TT.MM.JJJJ",
                        help="Datum im Dokument, TT.MM.JJJJ oder JJJJ-MM-TT (Standard: heute).")


def _documents():
    """The document jobs, imported on use: they bring docx and jinja2, which a start need not pay."""
    from kpr_excel.documents import produce

    return produce


def register(commands) -> None:
    einladung = GROUPS["einladung"] = add_group(commands, "einladung", "Einladungen zu Sitzungen (§ 7).")
    parser = add_command(einladung, "erstellen", einladung_erstellen)
    datei_argument(parser)
    sitzung_argument(parser)
    _document_options(parser)
    flag(parser, "--ohne-gaeste", "Keine Gastfassungen erstellen.")

    niederschrift = GROUPS["niederschrift"] = add_group(commands, "niederschrift",
                                                        "Niederschriften von Sitzungen (§ 7).")
    parser = add_command(niederschrift, "erstellen", niederschrift_erstellen)
    datei_argument(parser)
    sitzung_argument(parser)
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--entwurf", dest="entwurf", action="store_const", const=True, default=None,
                      help="Entwurf vor der Sitzung (Standard, solange die Sitzung nicht als durchgeführt "
                           "eingetragen ist).")
    kind.add_argument("--final", dest="entwurf", action="store_const", const=False,
                      help="Endgültige Fassung mit den Ergebnissen.")
    _document_options(parser)

    parser = add_command(commands, "jahresbericht", jahresbericht)
    datei_argument(parser)
    parser.add_argument("jahr", type=year_argument, metavar="JAHR", help="Das Berichtsjahr, z. B. 2026.")
    _document_options(parser)

    vorlagen = add_group(commands, "vorlagen", "Die Word-Vorlagen und E-Mail-Texte prüfen und zum Bearbeiten "
                                               "bereitstellen.")
    parser = add_command(vorlagen, "pruefen", vorlagen_pruefen)
    parser.add_argument("ordner", type=Path, nargs="?", default=None, metavar="ORDNER",
                        help="Ordner mit Einladung.docx, Niederschrift.docx, Jahresbericht.docx "
                             "(Standard: die mitgelieferten Vorlagen).")
    parser = add_command(vorlagen, "anlegen", vorlagen_anlegen)
    datei_argument(parser)


def _load(datei: Path):
    model, findings = _documents().load_workbook(datei)
    errors = sum(1 for f in findings if f.severity == Severity.FEHLER)
    if errors:
        warn(f"Achtung: Die Mappe hat {errors} Datenfehler; die Dokumente können "
             f"unvollständig sein. Einzelheiten: kpr pruefen {datei}")
    return model


def _show(output) -> int:
    for line in output.lines():
        say(line)
    return 1 if output.pdf_error else 0


def einladung_erstellen(datei: Path, sitzung: str, pdf: bool = False, ueberschreiben: bool = False,
                        ohne_gaeste: bool = False, datum: date | None = None) -> int:
    """Die Einladung einer Sitzung erstellen, dazu je Gast eine Fassung nur mit seinen Tagesordnungspunkten.

    Exit-Code 0: erstellt; 1: Sitzung unbekannt oder PDF nicht erstellt; 2: Mappe nicht verwendbar.
    """
    model = _load(datei)
    return _show(_documents().write_invitation(datei, model, sitzung, today=stichtag_or_today(datum),
                                               guests=not ohne_gaeste, pdf=pdf, overwrite=ueberschreiben))


def niederschrift_erstellen(datei: Path, sitzung: str, entwurf: bool | None = None, pdf: bool = False,
                            ueberschreiben: bool = False, datum: date | None = None) -> int:
    """Die Niederschrift einer Sitzung erstellen: als Entwurf vorab oder endgültig mit den Ergebnissen.

    Exit-Code 0: erstellt; 1: Sitzung unbekannt oder PDF nicht erstellt; 2: Mappe nicht verwendbar.
    """
    model = _load(datei)
    return _show(_documents().write_minutes(datei, model, sitzung, today=stichtag_or_today(datum), draft=entwurf,
                                            pdf=pdf, overwrite=ueberschreiben))


def jahresbericht(datei: Path, jahr: int, pdf: bool = False, ueberschreiben: bool = False,
                  datum: date | None = None) -> int:
    """Den Präventions- und Tätigkeitsbericht eines Jahres erstellen (§ 5), mit Diagramm.

    Für das laufende Jahr entsteht ein Zwischenstand (mit Hinweis); die endgültige Fassung nach
    dem 31.12. erstellen. Ein Jahr, das noch nicht begonnen hat, wird abgelehnt.
    Exit-Code 0: erstellt; 1: keine Sitzung im Jahr, Jahr noch nicht begonnen oder PDF nicht
    erstellt; 2: Mappe nicht verwendbar.
    """
    today = stichtag_or_today(datum)
    if jahr > today.year:
        raise KprError(f"Das Jahr {jahr} hat noch nicht begonnen (heute ist der {today:%d.%m.%Y}); "
                       "ein Jahresbericht entsteht für ein laufendes oder abgeschlossenes Jahr.")
    model = _load(datei)
    if jahr == today.year:
        warn(f"Achtung: Das Jahr {jahr} ist noch nicht zu Ende (Stand {today:%d.%m.%Y}). Der Bericht ist ein "
             f"Zwischenstand; die endgültige Fassung nach dem 31.12.{jahr} erstellen.")
    return _show(_documents().write_yearly_report(datei, model, jahr, today=today, pdf=pdf,
                                                  overwrite=ueberschreiben))


def vorlagen_pruefen(ordner: Path | None = None) -> int:
    """Prüfen, ob die Vorlagen nur bekannte Platzhalter verwenden und alle nötigen enthalten.

    Exit-Code 0: in Ordnung; 1: Fehler gefunden.
    """
    from kpr_excel.documents.checks import check_templates

    findings = check_templates(ordner)
    if findings:
        print_findings(findings)
    if not exit_code(findings):
        say("Die Vorlagen sind in Ordnung.")
    return exit_code(findings)


def vorlagen_anlegen(datei: Path) -> int:
    """Die mitgelieferten Word-Vorlagen und E-Mail-Texte in den Ordner „Vorlagen“ neben der Mappe kopieren.

    Dort in Word bzw. einem Texteditor bearbeiten: Vorlagen und Texte in diesem Ordner werden statt
    der mitgelieferten verwendet. Was dort schon liegt, bleibt unverändert.
    Exit-Code 0: angelegt oder schon vorhanden.
    """
    copied, kept = _documents().copy_templates(datei)
    for path in copied:
        say(f"Angelegt: {path}")
    for path in kept:
        say(f"Schon vorhanden, unverändert: {path}")
    return 0
