"""Presenting findings: grouped text for the console, JSON, and the Pruefung sheet."""

from __future__ import annotations

from datetime import date, datetime

from kpr_excel.book.edits import Edits, ReplaceSheet
from kpr_excel.domain import schema
from kpr_excel.domain.findings import Finding, Severity

HEADINGS = {Severity.FEHLER: "Fehler", Severity.WARNUNG: "Warnungen", Severity.HINWEIS: "Hinweise"}


def summary(findings) -> str:
    counts = {s: sum(1 for f in findings if f.severity == s) for s in Severity}
    if not findings:
        return "Keine Beanstandungen."
    parts = [f"{counts[s]} {HEADINGS[s] if counts[s] != 1 else s.label}" for s in reversed(Severity) if counts[s]]
    return ", ".join(parts) + "."


def grouped(findings) -> list[tuple[Severity, list[Finding]]]:
    return [(s, [f for f in findings if f.severity == s]) for s in reversed(Severity)
            if any(f.severity == s for f in findings)]


def pruefung_edits(findings, stichtag: date, now: datetime | None = None) -> Edits:
    """The Pruefung sheet, replaced: one row per finding with a link to its cell."""
    now = now or datetime.now()
    rows: list[tuple[object, ...]] = []
    links: list[tuple[str, int, str] | None] = []
    for f in findings:
        loc = f.location
        rows.append((f.severity.label, f.code, f.symbol, f.paragraph, f.message,
                     str(loc) if loc else "", f.deadline, f.act_by))
        if loc and loc.row and loc.sheet in schema.SHEETS_BY_NAME:
            links.append((loc.sheet, loc.row, loc.column or "A"))
        elif loc and loc.sheet in schema.SHEETS_BY_NAME:
            links.append((loc.sheet, 1, "A"))
        else:
            links.append(None)
    title = (f"Prüfung vom {now:%d.%m.%Y %H:%M} Uhr, Stichtag {stichtag:%d.%m.%Y}: {summary(findings)}")
    return Edits((ReplaceSheet(schema.PRUEFUNG.name, tuple(rows), title=title, links=tuple(links)),))
