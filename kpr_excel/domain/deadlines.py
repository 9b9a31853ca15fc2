"""Deadlines of the rules of procedure in calendar days, with the last working day in Saxony to act by.

RULES.md: a deadline counts in calendar days and is kept as it is; where it falls on a
Saturday, Sunday or a Saxon public holiday, the office is shown the last working day on or
before it ("spätestens versenden am"). Whether a deadline needs attention depends on the
reference date (Stichtag): nothing before the look-ahead window, a warning within it, an
error once it has passed.
"""

from __future__ import annotations

import calendar
import enum
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from kpr_excel.domain import schema
from kpr_excel.domain.model import Model, Session, Settings
from kpr_excel.domain.schema import DocumentKind

AGENDA = "TOP-Anmeldung"
INVITATION = DocumentKind.INVITATION
MINUTES = DocumentKind.MINUTES


# Fixed public holidays of the Free State of Saxony (Sächsisches Sonn- und Feiertagsgesetz § 1):
# Neujahr, Tag der Arbeit, Tag der Deutschen Einheit, Reformationstag, 1. and 2. Weihnachtstag.
_FIXED_HOLIDAYS = ((1, 1), (5, 1), (10, 3), (10, 31), (12, 25), (12, 26))
# Movable ones, in days from Easter Sunday: Karfreitag, Ostermontag, Christi Himmelfahrt, Pfingstmontag.
_EASTER_OFFSETS = (-2, 1, 39, 50)


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    """Saxony's public holidays of `year`, computed from the law's rules.

    Computed rather than taken from the `holidays` package, which loads some 250 modules
    (about 120 ms) for one country on every check; a test compares the two for 1990-2100.
    Easter from dateutil; Buß- und Bettag is the Wednesday before 23 November. Fronleichnam
    is a holiday only in some Sorbian municipalities, not in Dresden, and is left out.
    """
    from dateutil.easter import easter

    sunday = easter(year)
    november_22 = date(year, 11, 22)
    repentance_day = november_22 - timedelta(days=(november_22.weekday() - 2) % 7)
    return frozenset(
        {date(year, month, day) for month, day in _FIXED_HOLIDAYS}
        | {sunday + timedelta(days=offset) for offset in _EASTER_OFFSETS}
        | {repentance_day}
    )


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def last_working_day(day: date) -> date:
    """The deadline itself where the office works that day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


def add_months(day: date, months: int) -> date:
    """The same day `months` later; the 31st becomes the month's last day where it has none."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class State(enum.Enum):
    """Where a deadline stands on the reference date."""

    DONE = "erledigt"
    LATE = "verspätet erledigt"
    OVERDUE = "überfällig"
    DUE_SOON = "bald fällig"  # within the look-ahead window
    LATER = "später"


@dataclass(frozen=True)
class Deadline:
    session_id: str | None
    kind: str  # AGENDA, INVITATION, MINUTES or another label such as "Jahresbericht 2026"
    due: date  # the deadline of the rules of procedure, calendar days
    done_on: date | None = None  # when it was done, where recorded

    @property
    def act_by(self) -> date:
        """'spätestens versenden am': the last working day on or before the deadline."""
        return last_working_day(self.due)

    def state(self, stichtag: date, lookahead_days: int) -> State:
        """Done (in time or late); or not done: overdue, due within the look-ahead, or later.

        The deadline is kept: on a Saturday before a Sunday deadline it has not passed yet.
        The look-ahead counts up to the day to act by, so a deadline after a weekend is
        announced as early as the working day it must be met on.
        """
        if self.done_on is not None:
            return State.DONE if self.done_on <= self.due else State.LATE
        if self.due < stichtag:
            return State.OVERDUE
        if (self.act_by - stichtag).days <= lookahead_days:
            return State.DUE_SOON
        return State.LATER


def session_deadlines(session: Session, settings: Settings) -> tuple[Deadline, ...]:
    """The three § 7 deadlines of one session (only KPR sessions have them by the rules)."""
    return (
        Deadline(session.id, AGENDA, session.date - timedelta(days=settings.agenda_days)),
        Deadline(session.id, INVITATION, session.date - timedelta(days=settings.invitation_days),
                 session.invitation_sent),
        Deadline(session.id, MINUTES, session.date + timedelta(days=settings.minutes_days),
                 session.minutes_sent),
    )


def session_deadline(session: Session, settings: Settings, kind: str) -> Deadline:
    """One of the three § 7 deadlines of `session`: AGENDA, INVITATION or MINUTES."""
    return next(d for d in session_deadlines(session, settings) if d.kind == kind)


def has_deadlines(session: Session) -> bool:
    """§ 7 sets deadlines for the sessions of the KPR itself, not for Jour fixe or working groups."""
    return session.gremium == schema.GREMIUM_KPR and not session.cancelled


def open_deadlines(model: Model, stichtag: date) -> tuple[Deadline, ...]:
    """The coming and overdue § 7 deadlines of all sessions, sorted by date.

    A deadline that has been met is left out; so is a passed agenda deadline (it concerns the
    members, there is nothing left to do for the office).
    """
    found = []
    for session in model.sessions:
        if not has_deadlines(session):
            continue
        for deadline in session_deadlines(session, model.settings):
            if deadline.done_on is not None:
                continue
            if deadline.kind == AGENDA and deadline.due < stichtag:
                continue
            found.append(deadline)
    return tuple(sorted(found, key=lambda d: (d.due, d.session_id or "", d.kind)))


_DAY_MONTH = re.compile(r"^\s*(\d{1,2})\.\s*(\d{1,2})\.?\s*$")


def report_deadline(year: int, settings: Settings) -> date:
    """When the yearly report of `year` is due (§ 5): the setting's day and month of the next year.

    Raises ValueError with a German reason for a setting that is no day and month; 29.02.
    means the last day of February in a year without a leap day.
    """
    text = str(settings.report_due)
    match = _DAY_MONTH.match(text)
    if not match:
        raise ValueError(f"„{text}“ ist kein Tag und Monat (erwartet TT.MM., z. B. 31.03.)")
    day, month = int(match[1]), int(match[2])
    if not 1 <= month <= 12 or not 1 <= day <= (29 if month == 2 else calendar.monthrange(2001, month)[1]):
        raise ValueError(f"„{text}“ ist kein gültiger Tag und Monat")
    return date(year + 1, month, min(day, calendar.monthrange(year + 1, month)[1]))
