"""Who belongs to a body on a day, and who receives a session's document: decided once.

Members get the full document; a member's deputy is copied or invited instead, as the
setting "Vertretungen bei Einladung" says; topic guests get a version that holds only the
items they are invited to and nothing confidential (§ 8, GO-8.1); minutes go to the body only.

§ 8 fail closed: whoever is not an active member of the KPR on the session day, or the deputy
of one, is an outsider (`is_insider`), whatever sheet names them: a topic guest, a working-group
participant of category Gast, a deputy of nobody. An outsider who belongs to the body (a
working group's participant) gets the outsider version (`OUTSIDER`, "extern"): every item but
the confidential ones; a topic guest gets the guest version (`GUEST`, "gast").

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

# The versions of a document (the "Version" a recipient gets, part of the dry run and the file name).
FULL = "voll"  # members and their deputies: everything
GUEST = "gast"  # a topic guest: the items they are invited to, nothing confidential
OUTSIDER = "extern"  # an outsider in the body's circle: everything but the confidential items

# How a yes/no cell that is neither yes nor no ("ja (vertraulich!)") is read until the office
# fixes it (fail closed, § 8): the loader reports DATA-2 with the note and uses the value.
UNCLEAR_FLAG_MEANS: dict[tuple[str, str], tuple[bool, str]] = {
    (schema.TAGESORDNUNG.name, "confidential"): (True, "bis zur Korrektur gilt der Punkt als vertraulich (§ 8)"),
    (schema.SITZUNGEN.name, "public"): (False, "bis zur Korrektur gilt die Sitzung als nicht öffentlich (§ 7)"),
}


@dataclass(frozen=True)
class Recipient:
    """One person who receives a document, in a role, with the agenda they may see."""

    person: Person
    role: Role
    items: tuple[AgendaItem, ...]
    cc: tuple[Person, ...] = ()
    on_behalf_of: Person | None = None  # for a deputy invited instead of the member
    version: str = FULL  # FULL, GUEST or OUTSIDER

    @property
    def outsider(self) -> bool:
        return self.version != FULL


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


def is_insider(model: Model, person: Person | None, day: date) -> bool:
    """Whether `person` may see confidential items on `day` (§ 8): an active member, or the
    active deputy of an active member. Everybody else (guests, former members, a deputy of
    nobody or of a deputy) is an outsider."""
    if person is None or not person.active_on(day):
        return False
    if person.category == schema.KATEGORIE_MITGLIED:
        return True
    if person.category == schema.KATEGORIE_VERTRETUNG and person.deputy_of:
        member = model.person(person.deputy_of)
        return member is not None and member.category == schema.KATEGORIE_MITGLIED and member.active_on(day)
    return False


def insider_addresses(model: Model, day: date) -> frozenset[str]:
    """The e-mail addresses (casefolded) that only insiders use on `day`.

    An address an outsider uses too (a shared mailbox) is not in it: fail closed.
    """
    inside: set[str] = set()
    outside: set[str] = set()
    for person in model.persons:
        if person.email:
            (inside if is_insider(model, person, day) else outside).add(person.email.strip().casefold())
    return frozenset(inside - outside)


def open_items(items: Iterable[AgendaItem]) -> tuple[AgendaItem, ...]:
    """The items an outsider of the body may see: every one that is not confidential."""
    return tuple(item for item in items if not item.confidential)


def visible_items(items: Iterable[AgendaItem], version: str, person_id: str = "") -> tuple[AgendaItem, ...]:
    """The items of `version`: all, the guest's own open ones, or all open ones."""
    if version == FULL:
        return tuple(items)
    if version == GUEST:
        return guest_items(items, person_id)
    return open_items(items)


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
        if not is_insider(model, member, day):
            # In the body's circle but no member of the KPR (a working group's Gast): § 8.
            hidden = len(items) - len(open_items(items))
            recipients.append(Recipient(member, Role.MEMBER, open_items(items), version=OUTSIDER,
                                        cc=deputies if mode == DEPUTY_CC else ()))
            if hidden:
                notes.append(f"{member.name} ist kein Mitglied des KPR und erhält die Fassung ohne "
                             f"vertrauliche Punkte (§ 8).")
            continue
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
            if is_insider(model, guest, day):
                # A member outside this session's circle (a Jour fixe, a working group, a
                # deputy not invited by the setting) gets no guest version: say so.
                notes.append(f"{guest.name} ist als Gast eingetragen, gehört als Mitglied aber nicht zu den "
                             f"Eingeladenen dieser Sitzung und erhält keine Einladung.")
                continue
            visible = guest_items(items, guest.id)
            if not visible:
                notes.append(f"{guest.name} ist nur zu vertraulichen Punkten eingetragen und erhält keine Einladung.")
                continue
            recipients.append(Recipient(guest, Role.GUEST, visible, version=GUEST))
    return Audience(tuple(recipients), tuple(notes))


def exposures(model: Model, session: Session, recipients: Iterable[Recipient]) -> list[tuple[Recipient, Person, str]]:
    """Each message of `recipients` that would give an outsider a confidential item (§ 8).

    (recipient, the outsider, German reason). `audience` decides so that the list is empty;
    the rule GO-8.1 and the send plan look again at what it decided, so that a mistake here
    later stops the send instead of reaching anyone (fail closed).
    """
    found = []
    for recipient in recipients:
        outsiders = [p for p in (recipient.person, *recipient.cc) if not is_insider(model, p, session.date)]
        if not outsiders:
            continue
        secret = [item for item in recipient.items if item.confidential]
        if recipient.version == FULL:
            found.append((recipient, outsiders[0], "erhielte die Fassung für Mitglieder"))
        elif secret:
            numbers = ", ".join(f"TOP {item.number}" for item in secret)
            found.append((recipient, outsiders[0], f"erhielte vertrauliche Punkte ({numbers})"))
    return found
