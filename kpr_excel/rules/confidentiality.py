"""§ 8: confidential items reach members only, and documents carry the confidentiality notice.

The workbook says which sessions are public and which items are confidential, who is a
guest of which item, and (sheet Versand) what was sent to whom. What a rendered document
says is known only to the code that renders it: it calls `confidentiality_notice_required` and
`has_confidentiality_notice`, or hands the texts to `run_rules(..., documents=...)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kpr_excel.domain.audience import OUTSIDER, audience, exposures, is_insider
from kpr_excel.domain.deadlines import MINUTES
from kpr_excel.domain.model import AgendaItem, Model, Person, Session
from kpr_excel.rules.base import Context, Issue, person_label, session_label

# The word every confidentiality notice contains (§ 8 "Pflicht zur Verschwiegenheit").
NOTICE_WORD = "verschwiegenheit"
_NOT_SENT = frozenset({"fehlgeschlagen"})


def confidentiality_notice_required(session: Session, items: Iterable[AgendaItem] = ()) -> bool:
    """Whether the invitation and minutes of `session` must carry the confidentiality notice.

    A session is not public unless decided otherwise (§ 7); a public session that has a
    confidential item needs the notice as well, for that item.
    """
    return not session.public or any(item.confidential for item in items)


def has_confidentiality_notice(text: str) -> bool:
    """Whether a document's text carries a notice of the duty of confidentiality (§ 8)."""
    return NOTICE_WORD in " ".join(text.split()).casefold()


def _member_on(model: Model, person: Person | None, session: Session) -> bool:
    return is_insider(model, person, session.date)


def confidential_to_members(ctx: Context) -> Iterator[Issue]:
    """GO-8.1: no guest or outside address is given a confidential item or its documents.

    Three places show it, before and after a send: the audience of a coming session's
    invitation or minutes would give an outsider (a guest, a working group's Gast, a deputy
    of nobody) a confidential item; a confidential item of a coming session lists an outsider
    as its guest (the invitation would have to give it to them); and sheet Versand records
    the full minutes of a session with confidential items, or a confidential item's
    document, sent to someone who is not a member (the outsider version, key "|extern", is
    not such a send).
    """
    model = ctx.model
    session: Session | None  # below also the session of a send-log entry, if there is one
    for session in model.sessions:
        if session.cancelled or session.date < ctx.stichtag:
            continue
        for guests in (True, False):
            # guests=True: the invitation's audience; False: the minutes' (the body only).
            for _, outsider, why in exposures(model, session, audience(model, session, guests=guests).recipients):
                yield Issue(f"{person_label(outsider)} ist kein Mitglied des KPR und {why} "
                            f"(Sitzung {session_label(session)}).", outsider.src.at("category"),
                            session_id=session.id)
        for item in ctx.agenda.get(session.id, ()):
            if not item.confidential:
                continue
            for guest in (model.person(g) for g in item.guests):
                if guest is not None and not _member_on(model, guest, session):
                    yield Issue(f"TOP {item.number} „{item.title}“ der Sitzung {session_label(session)} "
                                f"ist vertraulich, als Gast ist aber {person_label(guest)} eingetragen, kein Mitglied.",
                                item.src.at("guests"), session_id=session.id)
    by_email = {p.email.casefold(): p for p in model.persons if p.email}
    for entry in model.send_log:
        session = model.session(entry.session)
        if session is None or entry.state.casefold() in _NOT_SENT or entry.key.endswith(f"|{OUTSIDER}"):
            continue
        items = ctx.agenda.get(session.id, ())
        secret_documents = {doc.casefold() for item in items if item.confidential for doc in item.document_list}
        document = entry.document.strip()
        if not ((document == MINUTES and any(item.confidential for item in items))
                or document.casefold() in secret_documents):
            continue
        person = model.person(entry.recipient) or by_email.get(entry.email.strip().casefold())
        if not _member_on(model, person, session):
            who = person_label(person) if person else (entry.email or entry.recipient or "unbekannt")
            yield Issue(f"„{document}“ der Sitzung {session_label(session)} enthält Vertrauliches und ging an {who}, "
                        "kein Mitglied.", entry.src.at("recipient"), session_id=session.id)


def notice_on_documents(ctx: Context) -> Iterator[Issue]:
    """GO-8.2: every rendered invitation or set of minutes that needs the notice carries it."""
    for document in ctx.documents:
        session = ctx.model.session(document.session_id)
        if session is None or not confidentiality_notice_required(session, ctx.agenda.get(session.id, ())):
            continue
        if not has_confidentiality_notice(document.text):
            yield Issue(f"„{document.document}“ der Sitzung {session_label(session)} ist nicht öffentlich bzw. "
                        "enthält Vertrauliches, trägt aber keinen Hinweis auf die Pflicht zur Verschwiegenheit.",
                        document.location or session.src.at("public"), session_id=session.id)
