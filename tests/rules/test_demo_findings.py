"""The demo shows a handful of realistic findings on any reference date, none blocking the next invitation."""

from __future__ import annotations

from datetime import date

import pytest

from kpr_excel.app.check import check_file
from kpr_excel.book.demo import demo_data
from kpr_excel.book.generate import build_workbook
from kpr_excel.domain.findings import Severity

# Twice a month through 2026 (slow), and four single dates that stay in the fast run.
STICHTAGE = [pytest.param(date(2026, month, day), marks=pytest.mark.slow)
             for month in range(1, 13) for day in (3, 20)] + [
    date(2026, 11, 18), date(2026, 11, 29), date(2027, 12, 31), date(2028, 2, 29)]


@pytest.mark.parametrize("stichtag", STICHTAGE, ids=str)
def test_demo_has_a_handful_of_findings(tmp_path, stichtag):
    path = tmp_path / "demo.xlsx"
    build_workbook(demo_data(stichtag)).save(path)
    result = check_file(path, stichtag)
    assert 1 <= len(result.findings) <= 8, [f.format() for f in result.findings]
    assert all(f.code.startswith("GO-") and not f.extra for f in result.findings)
    for finding in result.findings:
        if finding.severity == Severity.FEHLER:
            session = result.model.session(finding.session_id)
            assert session is not None and session.date < stichtag, finding.format()
