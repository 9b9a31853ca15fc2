"""The main jobs as single library calls, for the CLI and the Excel buttons alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from kpr_excel.app import report
from kpr_excel.book.generate import new_workbook_file
from kpr_excel.book.writer import write_edits
from kpr_excel.domain.errors import KprError

Say = Callable[[str], None]

DEMO_FILE = "KPR-Demo.xlsx"
#: The file that marks a folder as made by `kpr demo`: only such a folder (or an empty one) is
#: written by the demo, so that it never touches a real workbook or a real outbox.
DEMO_MARKER = "kpr-demo.txt"
DEMO_MARKER_TEXT = ("Diesen Ordner hat »kpr demo« angelegt. Alles hier ist erfunden; ein neuer Aufruf von\n"
                    "»kpr demo« für diesen Ordner ersetzt die Demo-Mappe und ihre Dokumente.\n")


def new_workbook(path: Path, *, overwrite: bool = False, data=None) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise KprError(f"Die Mappe muss die Endung .xlsx haben, nicht „{path.suffix or '(keine)'}“.")
    if path.exists() and not overwrite:
        raise KprError(f"{path} gibt es schon. Mit --ueberschreiben wird sie ersetzt (eine Sicherung bleibt).")
    path.parent.mkdir(parents=True, exist_ok=True)
    new_workbook_file(path, data)
    return path


def check_demo_folder(folder: Path) -> None:
    """Refuse a folder the demo must not write into: a file, or a folder with other content.

    A folder is the demo's when it is new, empty, or holds the marker file a former demo wrote.
    """
    for place in (folder, *folder.parents):
        if place.exists() and not place.is_dir():
            raise KprError(f"„{place}“ ist eine Datei, kein Ordner. »kpr demo« legt einen Ordner an; "
                           "bitte einen Ordnernamen angeben, z. B. »kpr demo kpr-demo«.")
    if not folder.exists() or (folder / DEMO_MARKER).is_file():
        return
    content = sorted(entry.name for entry in folder.iterdir())
    if content:
        shown = ", ".join(content[:5]) + (", …" if len(content) > 5 else "")
        raise KprError(f"Der Ordner „{folder}“ ist nicht leer ({shown}) und kein Demo-Ordner (es fehlt die "
                       f"Datei {DEMO_MARKER}). Die Demo schreibt nur in einen neuen oder leeren Ordner, damit "
                       "keine echte Mappe und kein echter Postausgang berührt wird; bitte einen anderen "
                       "Ordner angeben, z. B. »kpr demo kpr-demo«.")


def demo(folder: Path, stichtag: date, say: Say = print) -> Path:
    """Build the demo workbook in `folder` and run every step of the main job on it."""
    from kpr_excel.app.check import check_file
    from kpr_excel.book.demo import demo_data

    folder = Path(folder)
    check_demo_folder(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / DEMO_MARKER).write_text(DEMO_MARKER_TEXT, encoding="utf-8")
    path = folder / DEMO_FILE
    say(f"Demo-Mappe für {stichtag.year} (Stichtag {stichtag:%d.%m.%Y}) wird angelegt: {path}")
    new_workbook(path, overwrite=True, data=demo_data(stichtag))
    result = check_file(path, stichtag)
    say(f"Prüfung der Regeln: {report.summary(result.findings)}")
    for finding in result.findings:
        say("  " + finding.format(path.name))
    write_edits(path, report.pruefung_edits(result.findings, stichtag))
    say("  Das Ergebnis steht auch im Blatt „Pruefung“, mit Links zu den Zellen.")

    from kpr_excel.documents.produce import demo_choice, write_demo_documents

    say("Dokumente der Demo:")
    write_demo_documents(path, result.model, stichtag, lambda line: say("  " + line))

    from kpr_excel.app.send import prepare_send, report_lines, send_prepared
    from kpr_excel.book.loader import load_file
    from kpr_excel.sending.plan import INVITATION, MINUTES

    choice = demo_choice(result.model, stichtag)
    say("Versand in den Postausgang (E-Mail-Dateien, die Outlook öffnet):")
    for session, document in ((choice.next_session, INVITATION), (choice.last_held, MINUTES)):
        if session is None:
            continue
        prepared = prepare_send(path, load_file(path), session.id, document, stichtag=stichtag)
        outcome = send_prepared(prepared, stichtag=stichtag, channel="outbox",
                                write_log=lambda edits: write_edits(path, edits, side_file_allowed=False))
        for line in report_lines(outcome):
            say("  " + line)
    say(f"Fertig. Die Mappe {path} in Excel öffnen; Dokumente und Postausgang liegen in {path.parent / 'Ausgabe'}.")
    return path
