"""The main jobs as single library calls, for the CLI and the Excel buttons alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from . import report
from .book.generate import new_workbook_file
from .errors import KprError

Say = Callable[[str], None]

DEMO_FILE = "KPR-Demo.xlsx"


def new_workbook(path: Path, *, overwrite: bool = False, data=None) -> Path:
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise KprError(f"Die Mappe muss die Endung .xlsx haben, nicht „{path.suffix or '(keine)'}“.")
    if path.exists() and not overwrite:
        raise KprError(f"{path} gibt es schon. Mit --ueberschreiben wird sie ersetzt (eine Sicherung bleibt).")
    path.parent.mkdir(parents=True, exist_ok=True)
    new_workbook_file(path, data)
    return path


def demo(folder: Path, stichtag: date, say: Say = print) -> Path:
    """Build the demo workbook in `folder` and run every step of the main job on it."""
    from .check import check_file
    from .demo import demo_data

    folder = Path(folder)
    path = folder / DEMO_FILE
    say(f"Demo-Mappe für {stichtag.year} (Stichtag {stichtag:%d.%m.%Y}) wird angelegt: {path}")
    new_workbook(path, overwrite=True, data=demo_data(stichtag))
    result = check_file(path, stichtag)
    say(f"Prüfung der Regeln: {report.summary(result.findings)}")
    for finding in result.findings:
        say("  " + finding.format(path.name))
    from .documents import write_demo_documents

    say("Dokumente der Demo:")
    write_demo_documents(path, result.model, stichtag, lambda line: say("  " + line))
    return path
