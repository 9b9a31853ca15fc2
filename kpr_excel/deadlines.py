"""Deadlines of § 7 in calendar days, with the last working day in Saxony to act by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from .model import Session, Settings

AGENDA = "TOP-Anmeldung"
INVITATION = "Einladung"
MINUTES = "Niederschrift"


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.Germany(subdiv="SN", years=year, language="de").keys())


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def last_working_day(day: date) -> date:
    """The deadline itself where the office works that day, else the working day before it."""
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class Deadline:
    session_id: str
    kind: str  # AGENDA, INVITATION or MINUTES
    due: date  # the deadline of the rules of procedure, calendar days
    done_on: date | None = None  # when it was done, where recorded

    @property
    def act_by(self) -> date:
        """'spätestens versenden am': the last working day on or before the deadline."""
        return last_working_day(self.due)


def session_deadlines(session: Session, settings: Settings) -> tuple[Deadline, ...]:
    """The three § 7 deadlines of one session (only KPR sessions have them by the rules)."""
    return (
        Deadline(session.id, AGENDA, session.date - timedelta(days=settings.agenda_days)),
        Deadline(session.id, INVITATION, session.date - timedelta(days=settings.invitation_days),
                 session.invitation_sent),
        Deadline(session.id, MINUTES, session.date + timedelta(days=settings.minutes_days),
                 session.minutes_sent),
    )
