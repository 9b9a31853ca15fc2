"""The dispatch plan of one session's invitation or minutes, as pure data.

Who receives what is the domain's decision (`domain.audience`, § 8 fail closed); the plan
adds what sending needs: a stable key and Message-ID per message, and the findings that
block the send.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from kpr_excel.documents import kinds
from kpr_excel.domain.audience import audience
from kpr_excel.domain.findings import Finding, Severity
from kpr_excel.domain.model import AgendaItem, Model, Person, Session
from kpr_excel.domain.schema import DocumentKind, Role

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


def make_plan(model: Model, session_id: str, document: str, findings=(), version: str = "1") -> Plan:
    """The deliveries of `document` for `session_id`; `findings` from the check decide blocking."""
    session = model.session(session_id)
    if session is None:
        raise KeyError(session_id)
    chosen = audience(model, session, guests=kinds.kind(document).guests)
    deliveries = [Delivery(session.id, document, r.person, r.role, r.items, cc=r.cc, version=version,
                           on_behalf_of=r.on_behalf_of) for r in chosen.recipients]
    blocking = tuple(f for f in findings if f.severity == Severity.FEHLER and f.code not in NOT_BLOCKING
                     and _concerns(f, session, deliveries))
    return Plan(session, document, tuple(deliveries), blocking, chosen.notes)


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
