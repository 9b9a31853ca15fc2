"""Who belongs to a body on a day, and who receives a session's document: decided once.

Members get the full document; a member's deputy is copied or invited instead, as the
setting "Vertretungen bei Einladung" says; topic guests get a version that holds only the
items they are invited to and nothing confidential (§ 8, GO-8.1); minutes go to members only.

The rules (GO-7.5: everyone invited can be reached), the documents (the distribution list)
and the send plan all ask this module, so that none of them decides it differently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from kpr_excel.domain import schema
from kpr_excel.domain.model import AgendaItem, Model, Person, Session
from kpr_excel.domain.schema import Presence, Role

DEPUTY_CC = "in kopie"
DEPUTY_INSTEAD = "anstelle"
DEPUTY_NONE = "nein"


@dataclass(frozen=True)
class Recipient:
    """One person who receives a document, in a role, with the agenda they may see."""

    person: Person
    role: Role
    items: tuple[AgendaItem, ...]
    cc: tuple[Person, ...] = ()
    on_behalf_of: Person | None = None  # for a deputy invited instead of the member


@dataclass(frozen=True)
class Audience:
    recipients: tuple[Recipient, ...]
    notes: tuple[str, ...] = ()  # German remarks for the person sending (who is left out, why)

    @property
    def people(self) -> tuple[Person, ...]:
        """Every person a message goes to, copies included."""
        return tuple(r.person for r in self.recipients) + tuple(p for r in self.recipients for p in r.cc)


def invitees(model: Model, session: Session) -> tuple[Person, ...]:
    """The members to be invited to `session`, active on its date, in roster order."""
    day = session.date
    members = [p for p in model.persons if p.category == schema.KATEGORIE_MITGLIED and p.active_on(day)]
    seats = {s.id: s for s in model.seats}
    if session.gremium == schema.GREMIUM_AG:
        group = model.working_group(session.working_group)
        # set[str | None]: the explicit type argument spares mypy a wrong guess from the `else`
        wanted = set[str | None](group.members) | {group.lead} if group else set()
        return tuple(p for p in model.persons if p.id in wanted and p.active_on(day))
    if session.gremium == schema.GREMIUM_JF:
        return tuple(p for p in members if p.seat in seats and seats[p.seat].in_jour_fixe)
    # KPR: every member except those who sit only in the Jour fixe
    return tuple(p for p in members if p.seat not in seats or seats[p.seat].in_kpr)


def deputies_of(model: Model, member: Person, day: date) -> tuple[Person, ...]:
    return tuple(p for p in model.persons
                 if p.category == schema.KATEGORIE_VERTRETUNG and p.deputy_of == member.id and p.active_on(day))


def guest_items(items: Iterable[AgendaItem], guest_id: str) -> tuple[AgendaItem, ...]:
    """The items a guest is invited to, never a confidential one."""
    return tuple(item for item in items if guest_id in item.guests and not item.confidential)


def audience(model: Model, session: Session, *, guests: bool) -> Audience:
    """Who receives a document of `session`, in which role, seeing which items.

    `guests`: whether topic guests get a version of their own (the invitation does, the
    minutes do not); the document kind says so (`documents.kinds`).
    """
    day = session.date
    items = model.agenda_of(session.id)
    mode = model.settings.deputy_mode.strip().casefold()
    absent = (Presence.ENTSCHULDIGT, Presence.VERTRETEN)
    prevented = {a.person for a in model.attendance_of(session.id) if a.status in absent}
    recipients: list[Recipient] = []
    notes: list[str] = []
    for member in invitees(model, session):
        deputies = deputies_of(model, member, day)
        if mode == DEPUTY_INSTEAD and member.id in prevented and deputies:
            recipients += [Recipient(deputy, Role.DEPUTY, items, on_behalf_of=member) for deputy in deputies]
            continue
        cc = deputies if mode == DEPUTY_CC else ()
        recipients.append(Recipient(member, Role.MEMBER, items, cc=cc))
    if guests:
        members = {r.person.id for r in recipients} | {p.id for r in recipients for p in r.cc}
        for guest_id in dict.fromkeys(g for item in items for g in item.guests):
            guest = model.person(guest_id)
            if guest is None or guest.id in members:
                continue
            if guest.is_member and guest.active_on(day):
                # A member outside this session's circle (a Jour fixe, a working group, a
                # deputy not invited by the setting) gets no guest version: say so.
                notes.append(f"{guest.name} ist als Gast eingetragen, gehört als Mitglied aber nicht zu den "
                             f"Eingeladenen dieser Sitzung und erhält keine Einladung.")
                continue
            visible = guest_items(items, guest.id)
            if not visible:
                notes.append(f"{guest.name} ist nur zu vertraulichen Punkten eingetragen und erhält keine Einladung.")
                continue
            recipients.append(Recipient(guest, Role.GUEST, visible))
    return Audience(tuple(recipients), tuple(notes))
