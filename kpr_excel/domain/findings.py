"""Findings: what the loader and the rules report, as plain values."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date


class Severity(enum.IntEnum):
    """How serious a finding is; Fehler blocks sending."""

    HINWEIS = 1
    WARNUNG = 2
    FEHLER = 3

    @property
    def label(self) -> str:
        return {1: "Hinweis", 2: "Warnung", 3: "Fehler"}[self.value]


@dataclass(frozen=True, order=True)
class Location:
    """A place in the workbook; row and column are optional (a whole sheet, a whole row)."""

    sheet: str
    row: int | None = None
    column: str | None = None  # column letter as Excel shows it, e.g. "C"

    @property
    def cell(self) -> str:
        if self.row is None:
            return self.sheet
        return f"{self.sheet}!{self.column or 'A'}{self.row}"

    def __str__(self) -> str:
        if self.row is None:
            return self.sheet
        return f"{self.sheet}!{self.column}{self.row}" if self.column else f"{self.sheet}, Zeile {self.row}"


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    location: Location | None = None
    symbol: str = ""
    paragraph: str = ""
    deadline: date | None = None
    act_by: date | None = None  # last working day on or before the deadline
    session_id: str | None = None  # the session it concerns, where it concerns one
    extra: tuple[tuple[str, str], ...] = field(default=())

    def format(self, filename: str = "") -> str:
        where = str(self.location) if self.location else ""
        prefix = ":".join(part for part in (filename, where) if part)
        paragraph = f" ({self.paragraph})" if self.paragraph else ""
        return f"{prefix}: {self.code} {self.severity.label}: {self.message}{paragraph}".lstrip(": ")

    def as_dict(self) -> dict:
        loc = self.location
        return {
            "code": self.code,
            "symbol": self.symbol,
            "severity": self.severity.label,
            "paragraph": self.paragraph,
            "message": self.message,
            "sheet": loc.sheet if loc else None,
            "row": loc.row if loc else None,
            "column": loc.column if loc else None,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "act_by": self.act_by.isoformat() if self.act_by else None,
            "session": self.session_id,
        }


@dataclass(frozen=True)
class Code:
    """A finding code the tool can print: stable code and symbol, severities, what it means.

    Every family of checks (rules of procedure, the workbook itself, templates, the add-in)
    declares its codes as values of this type; `app.codes.CODES` holds them all, and
    `kpr regeln` lists that registry whole.
    """

    code: str
    symbol: str
    severities: tuple[Severity, ...]  # the worst first
    description: str  # German
    family: str  # the heading `kpr regeln` lists it under
    paragraph: str = ""  # the paragraph of the rules of procedure it enforces
    quote: str = ""  # the words of that paragraph

    @property
    def severity(self) -> Severity:
        return self.severities[0]

    @property
    def severity_label(self) -> str:
        return " / ".join(s.label for s in self.severities)

    def finding(self, message: str, location: Location | None = None, severity: Severity | None = None) -> Finding:
        return Finding(self.code, severity or self.severity, message, location, symbol=self.symbol,
                       paragraph=self.paragraph)

    def as_dict(self) -> dict:
        return {"code": self.code, "symbol": self.symbol, "severity": self.severity_label,
                "severities": [s.label for s in self.severities], "family": self.family,
                "paragraph": self.paragraph, "quote": self.quote, "description": self.description}


FAMILY_RULES = "Regeln der Geschäftsordnung"
FAMILY_DATA = "Prüfungen der Mappe selbst"
FAMILY_TEMPLATES = "Prüfungen der Word-Vorlagen"
FAMILY_ADDIN = "Prüfungen des Excel-Add-ins"


def worst(findings) -> Severity | None:
    return max((f.severity for f in findings), default=None)


def sort_key(finding: Finding):
    loc = finding.location
    return (-finding.severity, finding.code, loc.sheet if loc else "", (loc.row or 0) if loc else 0)
