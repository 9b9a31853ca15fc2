"""Who gets what: the dispatch plan of one session's invitation or minutes, as pure data.

Members get the full document; a member's deputy is copied or invited instead, as the
setting "Vertretungen bei Einladung" says; topic guests get a version that holds only the
items they are invited to and nothing confidential (§ 8, GO-8.1); minutes go to members only.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date

from kpr_excel.domain import schema
from kpr_excel.domain.findings import Finding, Severity
from kpr_excel.domain.model import AgendaItem, Model, Person, Session

INVITATION = "Einladung"
MINUTES = "Niederschrift"
DOCUMENTS = (INVITATION, MINUTES)

ROLE_MEMBER = "Mitglied"
ROLE_DEPUTY = "Vertretung"
ROLE_GUEST = "Gast"

DEPUTY_CC = "in kopie"
DEPUTY_INSTEAD = "anstelle"
DEPUTY_NONE = "nein"

# Deadline findings say a send is late; they must not stop the late send itself.
NOT_BLOCKING = frozenset({"GO-7.4", "GO-7.6"})


@dataclass(frozen=True)
class Delivery:
    """One message to one recipient."""

    session_id: str
    document: str  # INVITATION or MINUTES
    recipient: Person
    role: str  # ROLE_MEMBER, ROLE_DEPUTY (invited instead of the member) or ROLE_GUEST
    items: tuple[AgendaItem, ...]  # the agenda this recipient may see
    cc: tuple[Person, ...] = ()
    version: str = "1"
    on_behalf_of: Person | None = None  # for a deputy invited instead of the member

    @property
    def variant(self) -> str:
        return "gast" if self.role == ROLE_GUEST else "voll"

    @property
    def key(self) -> str:
        """Stable send key: session, document, recipient, version (RULES: sending is idempotent)."""
        return f"{self.session_id}|{self.document}|{self.recipient.id}|v{self.version}"

    @property
    def message_id(self) -> str:
        """The e-mail's Message-ID, derived from the key: transports use it to avoid duplicates.

        Readable parts first (the outbox names its files after it), a hash of the key last.
        """
        digest = hashlib.sha256(self.key.encode("utf-8")).hexdigest()[:10]
        parts = (self.session_id, self.document, self.recipient.id, f"v{self.version}")
        readable = ".".join(re.sub(r"[^A-Za-z0-9-]+", "-", part) for part in parts).lower()
        return f"<{readable}.{digest}@kpr-excel.invalid>"

    @property
    def confidential_items(self) -> tuple[AgendaItem, ...]:
        return tuple(item for item in self.items if item.confidential)


@dataclass(frozen=True)
class Plan:
    session: Session
    document: str
    deliveries: tuple[Delivery, ...]
    blocking: tuple[Finding, ...] = ()  # error-level findings that stop the send
    notes: tuple[str, ...] = ()  # German remarks for the person sending (who is left out, why)

    @property
    def blocked(self) -> bool:
        return bool(self.blocking)


def invitees(model: Model, session: Session) -> tuple[Person, ...]:
    """The members to be invited to `session`, active on its date, in roster order."""
    day = session.date
    members = [p for p in model.persons if p.category == schema.KATEGORIE_MITGLIED and p.active_on(day)]
    seats = {s.id: s for s in model.seats}
    if session.gremium == schema.GREMIUM_AG:
        group = model.working_group(session.working_group)
        wanted = set(group.members) | {group.lead} if group else set()
        return tuple(p for p in model.persons if p.id in wanted and p.active_on(day))
    if session.gremium == schema.GREMIUM_JF:
        return tuple(p for p in members if p.seat in seats and seats[p.seat].in_jour_fixe)
    # KPR: every member except those who sit only in the Jour fixe
    return tuple(p for p in members if p.seat not in seats or seats[p.seat].in_kpr)


def deputies_of(model: Model, member: Person, day: date) -> tuple[Person, ...]:
    return tuple(p for p in model.persons
                 if p.category == schema.KATEGORIE_VERTRETUNG and p.deputy_of == member.id and p.active_on(day))


def guest_items(items, guest_id: str) -> tuple[AgendaItem, ...]:
    """The items a guest is invited to, never a confidential one."""
    return tuple(item for item in items if guest_id in item.guests and not item.confidential)


def make_plan(model: Model, session_id: str, document: str, findings=(), version: str = "1") -> Plan:
    """The deliveries of `document` for `session_id`; `findings` from the check decide blocking."""
    session = model.session(session_id)
    if session is None:
        raise KeyError(session_id)
    day = session.date
    items = model.agenda_of(session.id)
    mode = model.settings.deputy_mode.strip().casefold()
    prevented = {a.person for a in model.attendance_of(session.id) if a.status in ("entschuldigt", "vertreten")}
    deliveries: list[Delivery] = []
    notes: list[str] = []
    for member in invitees(model, session):
        deputies = deputies_of(model, member, day)
        if mode == DEPUTY_INSTEAD and member.id in prevented and deputies:
            for deputy in deputies:
                deliveries.append(Delivery(session.id, document, deputy, ROLE_DEPUTY, items, version=version,
                                           on_behalf_of=member))
            continue
        cc = deputies if mode == DEPUTY_CC else ()
        deliveries.append(Delivery(session.id, document, member, ROLE_MEMBER, items, cc=cc, version=version))
    if document == INVITATION:
        members = {d.recipient.id for d in deliveries} | {p.id for d in deliveries for p in d.cc}
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
            deliveries.append(Delivery(session.id, document, guest, ROLE_GUEST, visible, version=version))
    blocking = tuple(f for f in findings if f.severity == Severity.FEHLER and f.code not in NOT_BLOCKING
                     and _concerns(f, session, deliveries))
    return Plan(session, document, tuple(deliveries), blocking, tuple(notes))


def _concerns(finding: Finding, session: Session, deliveries) -> bool:
    """Whether an error-level finding is about this session or one of its recipients."""
    if finding.session_id == session.id:
        return True
    loc = finding.location
    if loc is None or loc.row is None:
        return False
    rows = {(session.src.sheet, session.src.row)}
    rows |= {(d.recipient.src.sheet, d.recipient.src.row) for d in deliveries}
    rows |= {(p.src.sheet, p.src.row) for d in deliveries for p in d.cc}
    rows |= {(i.src.sheet, i.src.row) for d in deliveries for i in d.items}
    return (loc.sheet, loc.row) in rows
