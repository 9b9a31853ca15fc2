"""§ 5: the yearly prevention or activity report.

Where the report is recorded: a row of sheet Versand with Dokument "Jahresbericht" (or
"Präventionsbericht", "Tätigkeitsbericht") and the year in column Sitzung (e.g. "2026"),
written when the report is sent or typed by hand; a row whose status is "fehlgeschlagen",
"geplant" or "Entwurf" does not count.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from kpr_excel.domain import schema
from kpr_excel.domain.deadlines import Deadline, State, report_deadline
from kpr_excel.domain.findings import Location
from kpr_excel.domain.model import Model
from kpr_excel.domain.values import german_date
from kpr_excel.rules.base import Context, Issue

REPORT_DOCUMENT = schema.DocumentKind.REPORT
_REPORT_NAMES = frozenset({"jahresbericht", "präventionsbericht", "tätigkeitsbericht"})
_NOT_DONE = frozenset({"fehlgeschlagen", "geplant", "entwurf"})
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")


def yearly_report_recorded(model: Model, year: int) -> bool:
    """Whether sheet Versand records the yearly report of `year` as done."""
    for entry in model.send_log:
        if entry.document.strip().casefold() not in _REPORT_NAMES or entry.state.casefold() in _NOT_DONE:
            continue
        match = _YEAR.search(entry.session)
        if match and int(match[1]) == year:
            return True
    return False


def yearly_report(ctx: Context) -> Iterator[Issue]:
    """GO-5.1: each completed year in which the KPR met has its report, by the date set."""
    years = sorted({s.date.year for s in ctx.kpr_sessions if ctx.took_place(s) and s.date.year < ctx.stichtag.year})
    for year in years:
        try:
            due = report_deadline(year, ctx.settings)
        except ValueError as exc:
            label = next(s.label for s in schema.SETTINGS if s.key == "report_due")
            yield Issue(f"Einstellung „{label}“: {exc}; die Frist des Jahresberichts kann nicht berechnet werden.",
                        ctx.settings.location("report_due"))
            return
        if yearly_report_recorded(ctx.model, year):
            continue
        if ctx.state(Deadline(None, f"{REPORT_DOCUMENT} {year}", due)) in (State.OVERDUE, State.DUE_SOON):
            yield Issue(f"Der Jahresbericht {year} (§ 5) ist nicht erfasst; er ist am {german_date(due)} fällig. "
                        f"Erfasst wird er im Blatt {schema.VERSAND.name} mit Dokument „{REPORT_DOCUMENT}“ und "
                        f"dem Jahr in der Spalte Sitzung.", Location(schema.VERSAND.name), deadline=due)
