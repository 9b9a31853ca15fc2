"""What the buttons of the KPR ribbon tab call.

Each button of the add-in (kpr_excel/addin/files/KPR.bas) runs xlwings' ``RunPython`` with
``import kpr_excel.excel.buttons as b; b.<function>()``, which starts a fresh Python process for
every click. So this module imports nothing but the standard library at module level:
xlwings and the action code (``kpr_excel.excel.actions``, which reads the workbook and may
pull in Word, mail and plotting libraries) are imported inside the call, when a button
needs them. ``tests/excel/test_buttons.py`` holds that line.

Every function takes no arguments, works on the workbook the user has open
(``xlwings.Book.caller()``), shows progress in Excel's status bar and reports any failure
as a German message box, never as a Python traceback. An action of
``kpr_excel.excel.actions`` is called as ``action(book)``; if it returns a non-empty string,
that text is shown in a message box as the outcome.

The function names are a contract with KPR.bas: renaming one breaks a button, which
``kpr addin pruefen`` reports.
"""

from __future__ import annotations

import importlib
import os
import sys

from kpr_excel.excel.ui import TITLE, alert, fallback_message, status

# typing and pathlib cost more than the rest of this module together (about 9 ms of a cold
# start): they are imported for type checkers only, and pathlib inside the functions.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

__all__ = (
    "anmelden",
    "einladung_erstellen",
    "einladung_senden",
    "fristen_anzeigen",
    "hilfe",
    "jahresbericht_erstellen",
    "niederschrift_erstellen",
    "niederschrift_senden",
    "regeln_pruefen",
    "versand_bestaetigen",
)

#: Imported by name when a button runs, so that a click loads only what its action needs.
ACTIONS_MODULE = "kpr_excel.excel.actions"


#: Where the traceback of an unexpected error goes, for whoever supports the office.
#: Beside %USERPROFILE%\.kpr\kpr.conf, where xlwings finds the interpreter.
ERROR_LOG = os.path.join(os.path.expanduser("~"), ".kpr", "fehler.log")
_ERROR_LOG_LIMIT = 1_000_000  # bytes; a longer log starts afresh

#: The manual for the IT, in a source checkout or an editable install.
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS_PAGE = os.path.join(os.path.dirname(_PACKAGE_DIR), "docs", "windows.md")


def regeln_pruefen() -> None:
    """Regeln prüfen: check the open workbook against the rules; findings go to the Pruefung sheet."""
    _run("Regeln prüfen", _action("regeln_pruefen"))


def fristen_anzeigen() -> None:
    """Fristen: show the coming deadlines of the rules of procedure."""
    _run("Fristen", _action("fristen_anzeigen"))


def einladung_erstellen() -> None:
    """Einladung erstellen: render the invitation of the selected (or next) session."""
    _run("Einladung erstellen", _action("einladung_erstellen"))


def einladung_senden() -> None:
    """Einladung senden: send the invitation to the members and log every message."""
    _run("Einladung senden", _action("einladung_senden"))


def niederschrift_erstellen() -> None:
    """Niederschrift erstellen: render the minutes of the selected session."""
    _run("Niederschrift erstellen", _action("niederschrift_erstellen"))


def niederschrift_senden() -> None:
    """Niederschrift senden: send the minutes to the members and log every message."""
    _run("Niederschrift senden", _action("niederschrift_senden"))


def versand_bestaetigen() -> None:
    """Versand bestätigen: the office confirms that the outbox's prepared messages went out."""
    _run("Versand bestätigen", _action("versand_bestaetigen"))


def jahresbericht_erstellen() -> None:
    """Jahresbericht: render the yearly report."""
    _run("Jahresbericht", _action("jahresbericht_erstellen"))


def anmelden() -> None:
    """Anmelden: set up and test the login to the mailbox used for sending."""
    _run("Anmelden", _action("anmelden"))


def hilfe() -> None:
    """Hilfe: say what the buttons do, which versions run, and where the manual is."""
    _run("Hilfe", _show_help)


# --------------------------------------------------------------------------------------
# The one wrapper every button goes through
# --------------------------------------------------------------------------------------


def _caller_book() -> Any:
    """The workbook the user has open; the tests replace this function."""
    import xlwings

    return xlwings.Book.caller()


def _action(name: str) -> Callable[[Any], Any]:
    """The action of the same name in kpr_excel.excel.actions, imported when it runs."""

    def call(book: Any) -> Any:
        actions = importlib.import_module(ACTIONS_MODULE)
        return getattr(actions, name)(book)

    call.__name__ = name
    return call


def _run(label: str, body: Callable[[Any], Any]) -> None:
    """Run ``body(book)`` for the button ``label``; every failure becomes a German message box."""
    try:
        book = _caller_book()
    except Exception as exc:  # no workbook to talk to: Windows' own message box must do
        _log_error(label, exc)
        fallback_message(
            f"»{label}« konnte die geöffnete Arbeitsmappe nicht erreichen.\n\n"
            f"{_exception_text(exc)}\n\n{_log_hint()}"
        )
        return
    app = book.app
    status(app, f"{TITLE}: {label} …")
    try:
        outcome = body(book)
    except Exception as exc:
        _log_error(label, exc)
        status(app, False)
        alert(app, describe_error(label, exc), mode="critical")
        return
    status(app, False)
    if isinstance(outcome, str) and outcome.strip():
        alert(app, outcome, mode="info")


def describe_error(label: str, exc: BaseException) -> str:
    """The German message a user sees when the button ``label`` failed with ``exc``."""
    if _is_kpr_error(exc):
        # Raised on purpose: its message is German and written for the office.
        return f"{label}: {exc}"
    if isinstance(exc, ImportError):
        missing = getattr(exc, "name", None) or str(exc)
        return (
            f"»{label}« kann nicht starten: ein Programmteil fehlt ({missing}).\n\n"
            "Bitte die IT bitten, kpr-excel für das in kpr.conf eingetragene Python neu zu "
            "installieren (Anleitung: docs/windows.md).\n\n"
            f"{_log_hint()}"
        )
    if isinstance(exc, OSError) and not isinstance(exc, (PermissionError, FileNotFoundError)):
        # Disk full, read-only share, a file where a folder belongs: the command line's German sentence.
        from kpr_excel.domain.errors import environment_error

        fault = environment_error(exc)
        if fault is not None:
            return f"»{label}«: {fault}\n\n{_log_hint()}"
    if isinstance(exc, OSError) and exc.filename:
        # A file or folder that cannot be used (network drive, rights, open elsewhere) is no
        # bug, and Python's own text for it is English.
        if isinstance(exc, PermissionError):
            reason = "keine Berechtigung, oder die Datei ist in einem anderen Programm geöffnet"
        elif isinstance(exc, FileNotFoundError):
            reason = "die Datei oder der Ordner ist nicht vorhanden"
        else:
            reason = "Lesen oder Schreiben ist fehlgeschlagen"
        return f"»{label}« konnte {exc.filename} nicht verwenden: {reason}.\n\n{_log_hint()}"
    return (
        f"»{label}« ist mit einem unerwarteten Fehler abgebrochen.\n\n"
        f"{_exception_text(exc)}\n\n"
        f"{_log_hint()}"
    )


def _is_kpr_error(exc: BaseException) -> bool:
    # kpr_excel.domain.errors is light, but only needed on this path.
    from kpr_excel.domain.errors import KprError

    return isinstance(exc, KprError)


def _exception_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _log_hint() -> str:
    return f"Einzelheiten für die IT stehen in {ERROR_LOG}."


def _log_error(label: str, exc: BaseException) -> None:
    """Append the traceback to ERROR_LOG; a log that cannot be written is no reason to fail."""
    import datetime
    import traceback
    from pathlib import Path

    path = Path(ERROR_LOG)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and path.stat().st_size > _ERROR_LOG_LIMIT:
            path.unlink()
        stamp = datetime.datetime.now().isoformat(timespec="seconds")
        trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {stamp} {label} (Python {sys.version.split()[0]}, {sys.executable})\n{trace}\n")
    except OSError:
        pass


# --------------------------------------------------------------------------------------
# Hilfe
# --------------------------------------------------------------------------------------

HELP_TEXT = """\
Das Menüband „KPR“ arbeitet mit der geöffneten Arbeitsmappe.

Prüfen
• Regeln prüfen: prüft die Mappe gegen die Geschäftsordnung; die Befunde stehen danach im Blatt „Pruefung“.
• Fristen: zeigt die nächsten Fristen.

Sitzung (die in „Sitzungen“ oder „Tagesordnung“ markierte Zeile, sonst die nächste Sitzung)
• Einladung erstellen / Niederschrift erstellen: Word-Dokumente erstellen.
• Einladung senden / Niederschrift senden: an alle Mitglieder senden; ein zweiter Klick sendet nur, was fehlt.
• Versand bestätigen: bestätigen, dass die im Postausgang bereitgestellten Nachrichten aus Outlook versandt wurden.

Berichte
• Jahresbericht: Präventions- oder Tätigkeitsbericht erstellen.

Einrichtung
• Anmelden: Anmeldung am Postfach für den Versand einrichten und prüfen."""


def help_message() -> str:
    """The text of the Hilfe button: what each button does, the versions, where the manual is."""
    from importlib import metadata

    def version(distribution: str) -> str:
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return "nicht installiert"

    manual = DOCS_PAGE if os.path.exists(DOCS_PAGE) else "docs/windows.md im Projektverzeichnis"
    return (
        f"{HELP_TEXT}\n\n"
        f"kpr-excel {version('kpr-excel')}, xlwings {version('xlwings')}, "
        f"Python {sys.version.split()[0]}\n"
        f"Python-Programm: {sys.executable}\n"
        f"Fehlerprotokoll: {ERROR_LOG}\n"
        f"Anleitung für die IT: {manual}"
    )


def _show_help(book: Any) -> None:
    app = book.app
    text = help_message()
    if not os.path.exists(DOCS_PAGE):
        alert(app, text, mode="info")
        return
    answer = alert(app, f"{text}\n\nDie Anleitung jetzt öffnen?", mode="info", buttons="yes_no")
    if answer == "yes":
        _open_file(DOCS_PAGE)


def _open_file(path: str) -> None:
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]  # Windows only
    else:
        import webbrowser
        from pathlib import Path

        webbrowser.open(Path(path).as_uri())
