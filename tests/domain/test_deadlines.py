"""Deadline arithmetic: calendar days, Saxon working days, the look-ahead, months and the yearly report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpr_excel.domain.deadlines import (
    AGENDA,
    INVITATION,
    MINUTES,
    Deadline,
    State,
    _holidays,
    add_months,
    is_working_day,
    last_working_day,
    open_deadlines,
    report_deadline,
    session_deadline,
    session_deadlines,
)
from kpr_excel.domain.model import Model, Session, Settings, Source

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous algorithm, Meeus), independent of the holidays package."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def saxon_holidays(year: int) -> set[date]:
    """The public holidays of the Free State of Saxony (SächsSFG § 1), for the whole state."""
    fixed = {date(year, m, d) for m, d in ((1, 1), (5, 1), (10, 3), (10, 31), (12, 25), (12, 26))}
    sunday = easter(year)
    movable = {sunday + timedelta(days=n) for n in (-2, 1, 39, 50)}
    november_22 = date(year, 11, 22)
    buss_und_bettag = november_22 - timedelta(days=(november_22.weekday() - 2) % 7)  # Wednesday before 23 Nov
    return fixed | movable | {buss_und_bettag}


def test_the_package_knows_saxony_s_own_holidays():
    # Reformationstag and Buß- und Bettag are Saxon, not German-wide: the subdivision matters.
    assert {date(2027, 10, 31), date(2027, 11, 17)} <= _holidays(2027)
    assert date(2027, 11, 17) not in _holidays(2026)


@given(dates)
def test_working_days_are_weekdays_outside_saxon_holidays(day):
    assert is_working_day(day) == (day.weekday() < 5 and day not in saxon_holidays(day.year))


@given(dates)
def test_last_working_day_is_the_nearest_working_day_on_or_before(day):
    act_by = last_working_day(day)
    assert act_by <= day and is_working_day(act_by)
    assert not any(is_working_day(act_by + timedelta(days=n)) for n in range(1, (day - act_by).days + 1))
    assert (day - act_by).days <= 4  # the longest run: Karfreitag to Ostermontag


@pytest.mark.parametrize("due, act_by", [
    (date(2026, 11, 18), date(2026, 11, 17)),  # Buß- und Bettag, a Wednesday
    (date(2025, 10, 31), date(2025, 10, 30)),  # Reformationstag, a Friday
    (date(2025, 11, 2), date(2025, 10, 30)),  # Sunday after Reformationstag
    (date(2026, 11, 29), date(2026, 11, 27)),  # a Sunday
    (date(2027, 1, 1), date(2026, 12, 31)),  # Neujahr: back into the old year
    (date(2027, 1, 3), date(2026, 12, 31)),  # Sunday after Neujahr
    (date(2026, 12, 27), date(2026, 12, 24)),  # Christmas and a weekend
    (date(2026, 4, 6), date(2026, 4, 2)),  # Ostermontag: back before Karfreitag
    (date(2028, 2, 29), date(2028, 2, 29)),  # a leap day, a Tuesday
    (date(2026, 11, 25), date(2026, 11, 25)),  # an ordinary Wednesday
])
def test_last_working_day_examples(due, act_by):
    assert last_working_day(due) == act_by


def _session(day: date, **fields) -> Session:
    return Session(Source("Sitzungen", 2), fields.pop("id", "KPR-1"), fields.pop("gremium", "KPR"), day, **fields)


@pytest.mark.parametrize("day, kind, due", [
    (date(2027, 1, 6), INVITATION, date(2026, 12, 23)),  # across the year end
    (date(2027, 1, 6), AGENDA, date(2026, 12, 16)),
    (date(2026, 12, 22), MINUTES, date(2027, 1, 5)),
    (date(2028, 3, 14), INVITATION, date(2028, 2, 29)),  # onto a leap day
    (date(2028, 3, 21), AGENDA, date(2028, 2, 29)),
    (date(2028, 2, 15), MINUTES, date(2028, 2, 29)),
    (date(2027, 3, 14), INVITATION, date(2027, 2, 28)),  # no leap day
    (date(2026, 3, 2), INVITATION, date(2026, 2, 16)),  # across a month end
    (date(2026, 12, 9), INVITATION, date(2026, 11, 25)),
])
def test_session_deadlines_count_calendar_days(day, kind, due):
    assert session_deadline(_session(day), Settings(), kind).due == due


@given(dates, st.integers(0, 60), st.integers(0, 60), st.integers(0, 60))
def test_session_deadlines_follow_the_settings(day, agenda, invitation, minutes):
    settings = Settings(agenda_days=agenda, invitation_days=invitation, minutes_days=minutes)
    found = {d.kind: d.due for d in session_deadlines(_session(day), settings)}
    assert found == {AGENDA: day - timedelta(days=agenda), INVITATION: day - timedelta(days=invitation),
                     MINUTES: day + timedelta(days=minutes)}


def test_state_before_within_and_after_the_look_ahead():
    deadline = Deadline("S", INVITATION, date(2026, 11, 25))  # a Wednesday
    assert deadline.state(date(2026, 11, 17), 7) is State.LATER
    assert deadline.state(date(2026, 11, 18), 7) is State.DUE_SOON
    assert deadline.state(date(2026, 11, 25), 7) is State.DUE_SOON  # the last day
    assert deadline.state(date(2026, 11, 26), 7) is State.OVERDUE
    assert replace(deadline, done_on=date(2026, 11, 25)).state(date(2027, 1, 1), 7) is State.DONE
    assert replace(deadline, done_on=date(2026, 11, 26)).state(date(2027, 1, 1), 7) is State.LATE


def test_a_weekend_deadline_is_kept_but_announced_from_the_working_day():
    deadline = Deadline("S", INVITATION, date(2026, 11, 29))  # a Sunday; act by Friday 27th
    assert deadline.state(date(2026, 11, 19), 7) is State.LATER
    assert deadline.state(date(2026, 11, 20), 7) is State.DUE_SOON  # seven days before Friday
    assert deadline.state(date(2026, 11, 28), 7) is State.DUE_SOON  # Saturday: not yet passed
    assert deadline.state(date(2026, 11, 30), 7) is State.OVERDUE


@pytest.mark.parametrize("day, months, result", [
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 11, 30), 3, date(2028, 2, 29)),
    (date(2026, 1, 31), 1, date(2026, 2, 28)),
    (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2028, 2, 29), 12, date(2029, 2, 28)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
])
def test_add_months(day, months, result):
    assert add_months(day, months) == result


@given(dates, st.integers(-24, 24))
def test_add_months_keeps_the_day_where_it_can(day, months):
    moved = add_months(day, months)
    assert (moved.year * 12 + moved.month) - (day.year * 12 + day.month) == months
    assert moved.day == day.day or (moved.day < day.day and (moved + timedelta(days=1)).day == 1)


@pytest.mark.parametrize("setting, year, due", [
    ("31.03.", 2025, date(2026, 3, 31)),
    ("1.4", 2025, date(2026, 4, 1)),
    ("29.02.", 2026, date(2027, 2, 28)),
    ("29.02.", 2027, date(2028, 2, 29)),
    ("31.12.", 2026, date(2027, 12, 31)),
])
def test_report_deadline(setting, year, due):
    assert report_deadline(year, Settings(report_due=setting)) == due


@pytest.mark.parametrize("setting", ["31.02.", "00.03.", "15.13.", "März", ""])
def test_report_deadline_rejects_what_is_no_day_and_month(setting):
    with pytest.raises(ValueError):
        report_deadline(2026, Settings(report_due=setting))


def test_open_deadlines_are_the_coming_and_overdue_ones_of_kpr_sessions():
    stichtag = date(2026, 11, 18)
    sessions = (
        _session(date(2026, 9, 9), id="K3", invitation_sent=date(2026, 8, 24), minutes_sent=date(2026, 9, 20)),
        _session(date(2026, 10, 14), id="K-late", invitation_sent=date(2026, 9, 29)),  # minutes overdue
        _session(date(2026, 12, 9), id="K4"),
        _session(date(2026, 12, 2), id="K-off", status="abgesagt"),
        _session(date(2026, 12, 1), id="JF", gremium="Jour fixe"),
    )
    found = [(d.session_id, d.kind, d.due) for d in open_deadlines(Model(sessions=sessions), stichtag)]
    assert found == [
        ("K-late", MINUTES, date(2026, 10, 28)),
        ("K4", AGENDA, date(2026, 11, 18)),
        ("K4", INVITATION, date(2026, 11, 25)),
        ("K4", MINUTES, date(2026, 12, 23)),
    ]
