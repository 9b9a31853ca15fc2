"""Saxony's public holidays as deadlines.py computes them, against the maintained `holidays` package.

The check path computes them from the law's rules (no import of `holidays`); the package,
a test dependency only, is the second opinion for every year from 1990 to 2100.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import holidays
import pytest

from kpr_excel.domain.deadlines import _holidays, is_working_day


@pytest.mark.parametrize("year", range(1991, 2101))
def test_same_days_as_the_holidays_package(year):
    assert _holidays(year) == frozenset(holidays.Germany(subdiv="SN", years=year))


def test_1990_where_the_package_knows_no_german_holidays():
    # The package's calendar of Germany begins in 1991; 1990 is checked against the days
    # written out by hand (Easter Sunday 1990 was 15 April).
    assert not holidays.Germany(subdiv="SN", years=1990)
    assert _holidays(1990) == {
        date(1990, 1, 1), date(1990, 4, 13), date(1990, 4, 16), date(1990, 5, 1), date(1990, 5, 24),
        date(1990, 6, 4), date(1990, 10, 3), date(1990, 10, 31), date(1990, 11, 21), date(1990, 12, 25),
        date(1990, 12, 26),
    }


@pytest.mark.parametrize("day, holiday", [
    (date(2026, 11, 18), True),  # Buß- und Bettag: the Wednesday before 23 November
    (date(2027, 11, 17), True),
    (date(2022, 11, 16), True),  # 23 November a Wednesday: the week before
    (date(2022, 11, 23), False),
    (date(2026, 10, 31), True),  # Reformationstag, a Saturday
    (date(2026, 6, 4), False),  # Fronleichnam: only in some Sorbian municipalities, not Dresden
    (date(2026, 4, 3), True),  # Karfreitag
    (date(2026, 5, 14), True),  # Christi Himmelfahrt
    (date(2026, 5, 25), True),  # Pfingstmontag
])
def test_the_saxon_days(day, holiday):
    assert (day in _holidays(day.year)) is holiday


def test_a_working_day_check_does_not_import_the_holidays_package():
    code = ("import sys; from datetime import date; from kpr_excel.domain.deadlines import is_working_day; "
            "assert not is_working_day(date(2026, 11, 18)); print('holidays' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
    assert is_working_day(date(2026, 11, 19))
