"""Turning what people type into Excel cells into typed values, and typed values into German text.

Each parser returns the value or raises ValueError with a short German reason.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

_EXCEL_EPOCH = datetime(1899, 12, 30)
_DATE_PATTERNS = (
    re.compile(r"^(?P<d>\d{1,2})\.\s*(?P<m>\d{1,2})\.\s*(?P<y>\d{2}|\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ][\d:.]+Z?)?$"),
    re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4})$"),
)
_TIME_PATTERN = re.compile(r"^(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?:[:.]\d{2})?\s*(?:uhr)?$", re.I)
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_TRUE = {"ja", "j", "x", "wahr", "true", "1", "yes", "y", "✓", "✔"}
_FALSE = {"nein", "n", "falsch", "false", "0", "no", "-"}

WEEKDAYS = ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag")
MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
          "Oktober", "November", "Dezember")


def clean_text(value) -> str:
    """Cell text with stray spaces and non-breaking spaces removed; numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).replace("\xa0", " ").split())


def parse_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        raise ValueError("kein Datum")
    if isinstance(value, (int, float)):
        if 1 <= value < 2958466:  # Excel's serial day numbers up to 31.12.9999
            return (_EXCEL_EPOCH + timedelta(days=int(value))).date()
        raise ValueError("keine gültige Datumszahl")
    text = clean_text(value)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year = int(match["y"])
            if year < 100:
                year += 2000
            try:
                return date(year, int(match["m"]), int(match["d"]))
            except ValueError:
                raise ValueError(f"„{text}“ ist kein gültiges Datum") from None
    raise ValueError(f"„{text}“ ist kein Datum (erwartet TT.MM.JJJJ, z. B. 12.03.2027)")


def parse_time(value) -> time:
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return time(minutes // 60 % 24, minutes % 60)
    text = clean_text(value)
    match = _TIME_PATTERN.match(text)
    if match:
        hour, minute = int(match["h"]), int(match["m"] or 0)
        if hour < 24 and minute < 60:
            return time(hour, minute)
    raise ValueError(f"„{text}“ ist keine Uhrzeit (erwartet SS:MM, z. B. 16:00)")


def parse_datetime(value) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = clean_text(value)
    for fmt in ("%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text.rstrip("Z"), fmt)
        except ValueError:
            continue
    return datetime.combine(parse_date(value), time())


def parse_bool(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = clean_text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"„{clean_text(value)}“ ist weder ja noch nein")


def parse_int(value) -> int:
    if isinstance(value, bool):
        raise ValueError("keine Zahl")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = clean_text(value)
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    raise ValueError(f"„{text}“ ist keine ganze Zahl")


def parse_email(value) -> str:
    text = clean_text(value).removeprefix("mailto:")
    if not _EMAIL.match(text):
        raise ValueError(f"„{text}“ ist keine gültige E-Mail-Adresse")
    return text


def parse_ids(value) -> tuple[str, ...]:
    # Split before cleaning: clean_text would turn the line breaks of Alt+Enter into spaces.
    text = value if isinstance(value, str) else clean_text(value)
    parts = (clean_text(part) for part in re.split(r"[,;\r\n]", text))
    return tuple(part for part in parts if part)


def german_date(day: date | None) -> str:
    return day.strftime("%d.%m.%Y") if day else ""


def german_date_long(day: date, weekday: bool = True) -> str:
    """'Mittwoch, 12. März 2027' without depending on the machine's locale."""
    text = f"{day.day}. {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]}, {text}" if weekday else text


def german_time(moment: time | None) -> str:
    return moment.strftime("%H:%M") if moment else ""
