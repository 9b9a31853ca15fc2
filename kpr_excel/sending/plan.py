"""The dispatch plan of one session's invitation or minutes, as pure data.

Who receives what is the domain's decision (`domain.audience`, § 8 fail closed); the plan
adds what sending needs: a stable key and Message-ID per message, and the findings that
block the send.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from kpr_excel.documents import kinds
from kpr_excel.domain.audience import FULL, GUEST, OUTSIDER, audience, exposures
from kpr_excel.domain.findings import Finding, Severity
from kpr_excel.domain.model import AgendaItem, Model, Person, Session
from kpr_excel.domain.schema import DocumentKind, Role
from kpr_excel.rules import RULES_BY_CODE

INVITATION = DocumentKind.INVITATION
MINUTES = DocumentKind.MINUTES
DOCUMENTS = (INVITATION, MINUTES)

ROLE_MEMBER = Role.MEMBER
ROLE_DEPUTY = Role.DEPUTY
ROLE_GUEST = Role.GUEST

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
    variant: str = FULL  # the recipient's version of the document: FULL, GUEST or OUTSIDER (§ 8)

    @property
    def outsider(self) -> bool:
        return self.variant != FULL

    @property
    def key(self) -> str:
        """Stable send key: session, document, recipient, version (RULES: sending is idempotent).

        The outsider version ends in "|extern": the send log then says which version went out
        (GO-8.1 reads it), and a participant who got the full version before this was decided
        is sent the right one. Members' and guests' keys stay as they were, so that nothing
        recorded as sent goes out twice.
        """
        key = f"{self.session_id}|{self.document}|{self.recipient.id}|v{self.version}"
        return f"{key}|{OUTSIDER}" if self.variant == OUTSIDER else key

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


def make_plan(model: Model, session_id: str, document: str, findings=(), version: str = "1") -> Plan:
    """The deliveries of `document` for `session_id`; `findings` from the check decide blocking."""
    session = model.session(session_id)
    if session is None:
        raise KeyError(session_id)
    chosen = audience(model, session, guests=kinds.kind(document).guests)
    deliveries = [Delivery(session.id, document, r.person, r.role, r.items, cc=r.cc, version=version,
                           on_behalf_of=r.on_behalf_of, variant=r.version) for r in chosen.recipients]
    blocking = tuple(f for f in findings if f.severity == Severity.FEHLER and f.code not in NOT_BLOCKING
                     and _concerns(f, session, deliveries))
    # GO-8.1 on the plan itself (the check's GO-8.1 looks at coming sessions only).
    known = {(f.code, f.location) for f in blocking}
    breaches = [_breach(person, session, document, why)
                for _, person, why in exposures(model, session, chosen.recipients)]
    blocking += tuple(f for f in dict.fromkeys(breaches) if (f.code, f.location) not in known)
    return Plan(session, document, tuple(deliveries), blocking, chosen.notes)


def _breach(person: Person, session: Session, document: str, why: str) -> Finding:
    """GO-8.1 before the send: the plan would give an outsider a confidential item."""
    rule = RULES_BY_CODE["GO-8.1"]
    return Finding("GO-8.1", Severity.FEHLER,
                   f"{person.name} ist kein Mitglied des KPR und {why}: {document} {session.id} "
                   "wird nicht versandt.", person.src.at("category"), symbol=rule.symbol, paragraph=rule.paragraph,
                   session_id=session.id)


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


def version_text(delivery: Delivery) -> str:
    """The recipient's version in German, for the dry run."""
    if delivery.variant == FULL:
        return "vollständig"
    hidden = "" if delivery.variant == OUTSIDER else ", nur eigene Punkte"
    return f"{delivery.variant} (ohne vertrauliche Punkte{hidden})"


def bind_documents(plan: Plan, workbook: Path, model: Model, *, today: date) -> Plan:
    """The plan with what the documents it would attach say against the workbook (`fingerprint`).

    A stale file the office edited, or an edited file of unknown origin, blocks the send (DOK-1,
    DOK-2, naming what changed); a missing or stale untouched one is noted as made anew.
    """
    from kpr_excel.documents.fingerprint import State
    from kpr_excel.documents.produce import binding

    blocking, notes, seen = list(plan.blocking), list(plan.notes), set()
    for delivery in plan.deliveries:
        person = delivery.recipient if delivery.variant == GUEST else None
        if (delivery.variant, person) in seen:
            continue
        seen.add((delivery.variant, person))
        bound = binding(workbook, model, plan.session, plan.document, delivery.variant, person, today=today)
        if bound.blocks:
            blocking.append(replace(bound.finding(), session_id=plan.session.id))
        elif bound.state is State.STALE:
            notes.append(f"{bound.label}: {bound.path.name} ist veraltet und wird vor dem Versand neu erstellt.")
        elif bound.state is State.MISSING:
            notes.append(f"{bound.label}: {bound.path.name} fehlt und wird vor dem Versand erstellt.")
    return replace(plan, blocking=tuple(blocking), notes=tuple(notes))
