"""The calendar entry of a session, parsed back with icalendar."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time, timezone

import icalendar

from kpr_excel.domain.model import Model, Session, Settings, Source
from kpr_excel.sending.calendar import session_ics

NOW = datetime(2027, 5, 2, 8, 30, tzinfo=timezone.utc)


def _event(session: Session, model: Model | None = None):
    model = model or Model(sessions=(session,), settings=Settings(sender="kpr@dresden.example"))
    (event,) = icalendar.Calendar.from_ical(session_ics(session, model, now=NOW)).walk("VEVENT")
    return event


SUMMER = Session(Source("Sitzungen", 5), "KPR-2027-2", "KPR", date(2027, 6, 9), number=2,
                 start=time(15, 0), end=time(17, 30), place="Neues Rathaus, Plenarsaal")


def test_summer_session_in_dresden_time_with_a_stable_uid():
    event = _event(SUMMER)
    start = event.decoded("dtstart")
    assert start == datetime(2027, 6, 9, 13, 0, tzinfo=timezone.utc)  # 15:00 CEST
    assert event.decoded("dtend") - start == datetime(2027, 6, 9, 17, 30) - datetime(2027, 6, 9, 15, 0)
    assert str(event["uid"]) == "kpr-2027-2@kpr-excel.invalid"
    moved = _event(dataclasses.replace(SUMMER, date=date(2027, 6, 16)))
    assert str(moved["uid"]) == str(event["uid"])  # a corrected invitation replaces the entry
    assert str(event["summary"]) == "2. Sitzung des Kommunalen Präventionsrates"
    assert str(event["organizer"]) == "mailto:kpr@dresden.example"
    assert str(event["class"]) == "CONFIDENTIAL"  # not public unless decided otherwise (§ 7)


def test_public_session_is_public_and_a_session_without_time_is_a_whole_day():
    event = _event(dataclasses.replace(SUMMER, public=True, start=None, end=None))
    assert str(event["class"]) == "PUBLIC"
    assert event.decoded("dtstart") == date(2027, 6, 9)
    assert event.decoded("dtend") == date(2027, 6, 10)
