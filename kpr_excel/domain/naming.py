"""How a session is named and described in documents and e-mails (one place for all of them)."""

from __future__ import annotations

from kpr_excel.domain import schema
from kpr_excel.domain.model import Model, Session, Settings
from kpr_excel.domain.values import german_time

_GENITIVE = {"Kommunaler Präventionsrat": "des Kommunalen Präventionsrates"}


def council_genitive(settings: Settings) -> str:
    return _GENITIVE.get(settings.council, f"des Gremiums {settings.council}")


def session_title(session: Session, settings: Settings, model: Model | None) -> str:
    """'2. Sitzung des Kommunalen Präventionsrates', '1. Sitzung des Jour fixe Prävention', ..."""
    number = f"{session.number}. " if session.number else ""
    if session.gremium == schema.GREMIUM_JF:
        return f"{number}Sitzung des Jour fixe Prävention"
    if session.gremium == schema.GREMIUM_AG:
        group = model.working_group(session.working_group) if model else None
        name = f" „{group.theme}“" if group else (f" {session.working_group}" if session.working_group else "")
        return f"{number}Sitzung der Arbeitsgruppe{name}"
    return f"{number}Sitzung {council_genitive(settings)}"


def time_span(session: Session) -> str:
    """'15:00 bis 17:30 Uhr', '15:00 Uhr' or ''."""
    if not session.start:
        return ""
    if session.end:
        return f"{german_time(session.start)} bis {german_time(session.end)} Uhr"
    return f"{german_time(session.start)} Uhr"
