"""The calendar entry (.ics) that travels with an invitation, so Outlook can put the session in the calendar.

One event per session with a stable UID: a corrected invitation replaces the entry instead of
adding a second one. Times are Dresden's local time with its time zone written out, so
Outlook shows them right whatever the reader's settings.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from kpr_excel.domain.model import Model, Session
from kpr_excel.domain.naming import session_title
from kpr_excel.rules.confidentiality import confidentiality_notice_required

DRESDEN = ZoneInfo("Europe/Berlin")
DEFAULT_LENGTH = timedelta(hours=2)


def ics_file_name(session: Session) -> str:
    return f"{session.date:%Y-%m-%d}_{session.id}_Termin.ics"


def session_ics(session: Session, model: Model, *, now: datetime | None = None) -> bytes:
    """An iCalendar file (METHOD:PUBLISH) with the session as one event."""
    import icalendar

    event = icalendar.Event()
    event.add("uid", f"{session.id.lower()}@kpr-excel.invalid")
    event.add("dtstamp", (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(microsecond=0))
    if session.start:
        start = datetime.combine(session.date, session.start, DRESDEN)
        end = datetime.combine(session.date, session.end, DRESDEN) if session.end else start + DEFAULT_LENGTH
        event.add("dtstart", start)
        event.add("dtend", max(end, start))
    else:  # no time given: a whole-day entry rather than a made-up hour
        event.add("dtstart", session.date)
        event.add("dtend", session.date + timedelta(days=1))
    event.add("summary", session_title(session, model.settings, model))
    if session.place:
        event.add("location", session.place)
    event.add("description", "Einladung und Tagesordnung stehen im Anhang der E-Mail.")
    items = model.agenda_of(session.id)
    event.add("class", "CONFIDENTIAL" if confidentiality_notice_required(session, items) else "PUBLIC")
    if model.settings.sender:
        organizer = icalendar.vCalAddress(f"mailto:{model.settings.sender}")
        organizer.params["cn"] = icalendar.vText(model.settings.office_name)
        event.add("organizer", organizer)
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Landeshauptstadt Dresden//kpr-excel//DE")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
