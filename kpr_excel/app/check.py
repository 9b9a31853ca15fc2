"""One call for a whole check: load the workbook, run every rule, collect the findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kpr_excel.book import loader
from kpr_excel.domain.findings import Finding, Severity, sort_key, worst
from kpr_excel.domain.model import Model


@dataclass(frozen=True)
class CheckResult:
    model: Model
    findings: tuple[Finding, ...]
    stichtag: date
    unusable: bool = False

    @property
    def exit_code(self) -> int:
        if self.unusable:
            return 2
        return 1 if worst(self.findings) == Severity.FEHLER else 0


def check_loaded(loaded: loader.LoadResult, stichtag: date) -> CheckResult:
    findings = list(loaded.findings)
    if not loaded.unusable:
        from kpr_excel.rules import run_rules

        findings.extend(run_rules(loaded.model, stichtag))
    return CheckResult(loaded.model, tuple(sorted(findings, key=sort_key)), stichtag, loaded.unusable)


def check_file(path: Path, stichtag: date) -> CheckResult:
    """Raises WorkbookUnusable for a file that is no workbook; everything else is a finding."""
    return check_loaded(loader.load_file(path), stichtag)
