"""What goes into the templates: pure functions from the model to plain dicts of German text.

Every value is already formatted (German dates, names, lists), so the templates hold only
wording and layout, which the office may change in Word. The placeholder names are German
because the office sees them; `kpr vorlagen pruefen` compares a template with them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from kpr_excel.domain import schema
from kpr_excel.domain.audience import guest_items, invitees, is_insider
from kpr_excel.domain.model import AgendaItem, Decision, Model, Person, Session
from kpr_excel.domain.naming import session_title, time_span
from kpr_excel.domain.values import german_date, german_date_long

NOTICE_MEMBERS = (
    "Vertraulich (§ 8 der Geschäftsordnung): Die Sitzung ist nicht öffentlich. Die Mitglieder des KPR "
    "sind zur Verschwiegenheit über die Beratungen, deren Inhalte sowie über die vertraulich "
    "bezeichneten Beratungsunterlagen und Informationen verpflichtet."
)
NOTICE_GUESTS = (
    "Vertraulich (§ 8 der Geschäftsordnung): Die Sitzung ist nicht öffentlich. Über die Beratungen "
    "und ihre Inhalte ist Verschwiegenheit zu wahren."
)
NOTICE_CONFIDENTIAL_ITEMS = (
    "Vertraulich (§ 8 der Geschäftsordnung): Über die als vertraulich bezeichneten "
    "Tagesordnungspunkte und Unterlagen ist Verschwiegenheit zu wahren."
)
OPENING = "Eröffnung und Feststellung der ordnungsgemäßen Einladung"
AGENDA_AND_MINUTES = "Bestätigung der Tagesordnung und Genehmigung der Niederschrift der Sitzung vom {}"
AGENDA_ONLY = "Bestätigung der Tagesordnung"
CLOSING = "Verschiedenes"


# --------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------


def letterhead(model: Model) -> dict:
    """Sender data from Einstellungen, shared by every document."""
    s = model.settings
    lines = [part.strip() for part in s.office_address.split("|") if part.strip()]
    return {
        "stadt": s.city,
        "gremium": s.council,
        "geschaeftsstelle": s.office_name,
        "anschrift": lines,
        "anschrift_einzeilig": ", ".join(lines),
        "telefon": s.office_phone,
        "email": s.reply_to or s.sender,
    }


def short_name(person: Person) -> str:
    """'Herr Rodig', 'Frau Dr. Seidel': how a person is named in running text."""
    family = " ".join(p for p in (person.title, person.last_name) if p)
    return f"{person.salutation} {family}" if person.salutation else f"{person.first_name} {family}"


def institution_of(person: Person) -> str:
    """The institution, for a city councillor with the parliamentary group."""
    if person.fraktion and person.institution in ("", "Stadtrat"):
        return f"Stadtrat, {person.fraktion}"
    return person.institution


def with_institution(person: Person) -> str:
    institution = institution_of(person)
    return f"{person.name}, {institution}" if institution else person.name


def leader(model: Model, session: Session) -> Person | None:
    """Who leads the meeting: the named chair, for a working group its lead."""
    person = model.person(session.chair)
    if person is None and session.gremium == schema.GREMIUM_AG:
        group = model.working_group(session.working_group)
        person = model.person(group.lead) if group else None
    return person


def session_info(model: Model, session: Session) -> dict:
    title = session_title(session, model.settings, model)
    when = german_date_long(session.date)
    time_text = time_span(session)
    chair, taker = leader(model, session), model.person(session.minute_taker)
    if session.public:
        publicity = "öffentlich" + (f" ({session.public_basis})" if session.public_basis else "")
    else:
        publicity = "nicht öffentlich (§ 7 der Geschäftsordnung)"
    return {
        "id": session.id,
        "gremium": session.gremium,
        "titel": title,  # '2. Sitzung des Kommunalen Präventionsrates'
        "genitiv": title.partition("Sitzung ")[2],  # 'des Kommunalen Präventionsrates'
        "nummer": session.number or "",
        "bezeichnung": f"{session.number}. Sitzung" if session.number else "Sitzung",
        "datum": german_date(session.date),
        "datum_lang": when,
        "zeit": time_text or "Uhrzeit wird noch mitgeteilt",
        "termin": f"{when}, {time_text}" if time_text else when,
        "ort": session.place or "wird noch mitgeteilt",
        "oeffentlich": session.public,
        "oeffentlichkeit": publicity,
        "schwerpunkte": session.focus,
        "leitung": chair.name if chair else "",
        "protokoll": taker.name if taker else "",
        "status": session.status,
    }


def guests(model: Model, session: Session) -> tuple[Person, ...]:
    """People named as guests on the session's agenda who are not members on its day (§ 2 last sentence).

    A former member counts as a guest: they get the guest version, never a confidential item.
    """
    ids = dict.fromkeys(g for item in model.agenda_of(session.id) for g in item.guests)
    found = (model.person(i) for i in ids)
    return tuple(p for p in found if p is not None and not is_insider(model, p, session.date))


def next_session(model: Model, today: date) -> Session | None:
    """The next KPR session on or after `today` that is not cancelled, or None."""
    upcoming = [s for s in model.sessions
                if s.gremium == schema.GREMIUM_KPR and not s.cancelled and s.date >= today]
    return min(upcoming, key=lambda s: (s.date, s.src.row), default=None)


def last_held_session(model: Model, today: date) -> Session | None:
    """The last KPR session held on or before `today`, or None."""
    held = [s for s in model.sessions
            if s.gremium == schema.GREMIUM_KPR and s.held and s.date <= today]
    return max(held, key=lambda s: (s.date, s.src.row), default=None)


def previous_session(model: Model, session: Session) -> Session | None:
    earlier = [s for s in model.sessions
               if s.gremium == session.gremium and s.working_group == session.working_group
               and s.date < session.date and not s.cancelled]
    return max(earlier, key=lambda s: s.date, default=None)


def _number_key(number: str):
    match = re.match(r"\s*(\d+)(.*)", number)
    return (int(match[1]), match[2].strip()) if match else (10**6, number)


def _numbered_items(model: Model, session: Session) -> list[tuple[str, AgendaItem]]:
    """The workbook's items with the numbers shown; renumbered from 3 only where they would
    clash with the opening items the tool adds."""
    items = sorted(model.agenda_of(session.id), key=lambda i: _number_key(i.number))
    numbers = [_number_key(i.number)[0] for i in items]
    clash = any(n < 3 for n in numbers) or len({i.number for i in items}) != len(items)
    if clash:
        return [(str(index), item) for index, item in enumerate(items, start=3)]
    return [(item.number, item) for item in items]


def _on_secret_item(decision: Decision, numbered: list[tuple[str, AgendaItem]]) -> bool:
    """Whether a decision belongs to a confidential item (by the workbook's or the shown number)."""
    return any(item.confidential and decision.item in (number, item.number) for number, item in numbered)


def _presenter(model: Model, item: AgendaItem) -> str:
    if item.presenter:
        return item.presenter
    submitter = model.person(item.submitter)
    if submitter is None:
        return ""
    return f"{short_name(submitter)}, {submitter.institution}" if submitter.institution else short_name(submitter)


def _decision(decision: Decision, number: str) -> dict:
    return {
        "top": number,
        "art": decision.kind,
        "text": decision.text,
        "verantwortlich": decision.owner or "offen",
        "faellig": german_date(decision.due),
        "stand": decision.state,
    }


def agenda(model: Model, session: Session, *, guest: Person | None = None,
           with_results: bool = False, outsider: bool = False) -> list[dict]:
    """The agenda as shown: opening items, the workbook's items, Verschiedenes.

    For a guest only the items the guest is invited to, never a confidential one (§ 8).
    For an outsider of the body (`outsider`) every item but the confidential ones, without
    their documents, results and decisions (they do not move to Verschiedenes either).
    """
    numbered = _numbered_items(model, session)
    decisions = model.decisions_of(session.id) if with_results else ()
    if outsider:
        decisions = tuple(d for d in decisions if not _on_secret_item(d, numbered))
        numbered = [(number, item) for number, item in numbered if not item.confidential]
    chair = leader(model, session)
    lead = f"{short_name(chair)} (Sitzungsleitung)" if chair else "Sitzungsleitung"
    closing = str(max((_number_key(n)[0] for n, _ in numbered), default=2) + 1)
    shown = {item.number: number for number, item in numbered}
    # Each decision under the item it names; one naming no item shown goes to Verschiedenes.
    placed = [(shown.get(d.item) or (d.item if d.item in ("1", "2") else closing), d)
              for d in decisions]

    def entry(number, title, presenter, item: AgendaItem | None = None) -> dict:
        own = [d for at, d in placed if at == number]
        guests_here = [model.person(g) for g in (item.guests if item else ())]
        return {
            "nr": number,
            "titel": title,
            "vortragende": presenter,
            "vertraulich": bool(item and item.confidential),
            "gaeste": ", ".join(f"{short_name(p)} ({p.institution})" if p.institution else short_name(p)
                                for p in guests_here if p is not None),
            "unterlagen": list(item.document_list) if item else [],
            "ergebnis": item.result if item else "",
            "beschluesse": [_decision(d, number) for d in own if d.kind == "Beschluss"],
            "aufgaben": [_decision(d, number) for d in own if d.kind != "Beschluss"],
        }

    if guest is not None:
        visible = set(guest_items(model.agenda_of(session.id), guest.id))
        return [entry(number, item.title, _presenter(model, item), item) for number, item in numbered
                if item in visible]
    before = previous_session(model, session)
    second = AGENDA_AND_MINUTES.format(german_date(before.date)) if before else AGENDA_ONLY
    rows = [entry("1", OPENING, lead), entry("2", second, lead)]
    rows += [entry(number, item.title, _presenter(model, item), item) for number, item in numbered]
    rows.append(entry(closing, CLOSING, "alle"))
    return rows


def _documents(items: Iterable[dict]) -> list[str]:
    return [f"{doc} (TOP {item['nr']}{', vertraulich' if item['vertraulich'] else ''})"
            for item in items for doc in item["unterlagen"]]


def confidentiality_notice(session: Session, items: Iterable[dict], *, for_guest: bool) -> str:
    """The § 8 notice: always for a non-public session (GO-8.2), else where items are confidential."""
    if not session.public:
        return NOTICE_GUESTS if for_guest else NOTICE_MEMBERS
    return NOTICE_CONFIDENTIAL_ITEMS if any(i["vertraulich"] for i in items) else ""


def signatories(model: Model, session: Session) -> list[dict]:
    """Both chairs (§ 3) for the KPR and the Jour fixe; a working group's lead for its meetings."""
    if session.gremium == schema.GREMIUM_AG:
        lead = leader(model, session)
        return [{"name": lead.name, "funktion": lead.function, "rolle": "Leitung der Arbeitsgruppe"}] if lead else []
    role = {"Frau": "Vorsitzende", "Herr": "Vorsitzender"}
    return [{"name": p.name, "funktion": p.function, "rolle": f"{role.get(p.salutation, 'Vorsitz')} des KPR"}
            for p in model.chairs(session.date)]


# --------------------------------------------------------------------------------------
# One context per document
# --------------------------------------------------------------------------------------


def invitation_context(model: Model, session: Session, *, today: date, guest: Person | None = None,
                       outsider: bool = False) -> dict:
    """Einladung: the members' letter, with `guest` the guest's version (own items only), with
    `outsider` the version for the body's participants who are not members (no confidential item)."""
    info = session_info(model, session)
    items = agenda(model, session, guest=guest, outsider=outsider)
    reply_by = session.reply_by or session.date - timedelta(days=model.settings.reply_days)
    if guest is None:
        addressed = "An die Teilnehmenden" if session.gremium == schema.GREMIUM_JF else "An die Mitglieder"
        recipient = [addressed, info["genitiv"], "per E-Mail"]
        salutation = "Sehr geehrte Damen und Herren,"
    else:
        recipient = [line for line in (guest.institution, f"{guest.salutation} {guest.name}".strip()) if line]
        recipient.append("per E-Mail")
        salutation = guest.letter_salutation
    return {
        **letterhead(model),
        "datum": german_date(today),
        "sitzung": info,
        "empfaenger": recipient,
        "anrede": salutation,
        "gast": {"name": guest.name, "institution": guest.institution} if guest else None,
        "tagesordnung": items,
        "unterlagen": _documents(items),
        "rueckmeldung_bis": german_date_long(reply_by, weekday=False),
        "vertraulichkeitsvermerk": confidentiality_notice(session, items, for_guest=guest is not None or outsider),
        "unterzeichnende": signatories(model, session),
    }


def _attendance_lists(model: Model, session: Session) -> dict[str, list[str]]:
    lists: dict[str, list[str]] = {k: [] for k in ("anwesend", "vertreten", "entschuldigt", "abwesend", "gaeste")}
    for row in model.attendance_of(session.id):
        person = model.person(row.person)
        if person is None:
            continue
        if not person.is_member:
            if row.status == "anwesend":
                lists["gaeste"].append(with_institution(person) + (f" ({row.remark})" if row.remark else ""))
            continue
        if row.status == "vertreten":
            deputy = model.person(row.deputy)
            lists["vertreten"].append(
                f"{with_institution(deputy)}, in Vertretung für {person.name}" if deputy
                else f"{with_institution(person)} (Vertretung nicht angegeben)")
        elif row.status in lists:
            lists[row.status].append(with_institution(person))
    return lists


def minutes_context(model: Model, session: Session, *, today: date, draft: bool, outsider: bool = False) -> dict:
    """Niederschrift: session data, attendance, per item results, decisions and action items.

    `outsider`: the version for the body's participants who are not members (§ 8): without the
    confidential items, their results and decisions.
    """
    items = agenda(model, session, with_results=True, outsider=outsider)
    attendance = _attendance_lists(model, session)
    expected = [with_institution(p) for p in invitees(model, session)]
    return {
        **letterhead(model),
        "datum": german_date(today),
        "sitzung": session_info(model, session),
        "entwurf": draft,
        "anwesenheit_erfasst": bool(model.attendance_of(session.id)),
        "eingeladen": expected,
        **attendance,
        "tagesordnung": items,
        "aufgaben": [task for item in items for task in item["aufgaben"]],
        "vertraulichkeitsvermerk": confidentiality_notice(session, items, for_guest=outsider),
        "verteiler": expected,
    }


def yearly_report_context(model: Model, year: int, *, today: date) -> dict:
    """Jahresbericht (§ 5): sessions, Jour fixe, working groups, projects, decisions, attendance."""
    in_year = sorted((s for s in model.sessions if s.date.year == year), key=lambda s: s.date)
    kpr = [s for s in in_year if s.gremium == schema.GREMIUM_KPR]
    held = [s for s in kpr if s.held]
    sessions = []
    for s in kpr:
        counts = dict.fromkeys(("anwesend", "vertreten", "entschuldigt", "abwesend"), 0)
        members = [a for a in model.attendance_of(s.id) if (p := model.person(a.person)) and p.is_member]
        for row in members:
            counts[row.status] = counts.get(row.status, 0) + 1
        present = counts["anwesend"] + counts["vertreten"]
        sessions.append({
            "nr": s.number or "",
            "datum": german_date(s.date),
            "schwerpunkte": s.focus,
            "status": s.status,
            "teilnahme": f"{present} von {len(members)}" if members else "",
            **counts,
        })
    end_of_year = date(year, 12, 31)
    groups = []
    for group in model.working_groups:
        if group.established and group.established > end_of_year:
            continue
        meetings = sum(1 for s in in_year if s.working_group == group.id and s.held)
        lead = model.person(group.lead)
        facts = [group.kind or "Arbeitsgruppe",
                 f"Leitung: {short_name(lead)}" if lead else "",
                 f"eingerichtet am {german_date(group.established)}" if group.established else "",
                 f"befristet bis {german_date(group.limited_until)}" if group.limited_until else "",
                 f"Status: {group.status}",
                 f"{meetings} Sitzung{'en' if meetings != 1 else ''} {year}"]
        groups.append({
            "thema": group.theme,
            "eckdaten": " · ".join(f for f in facts if f),
            "zustand": group.status_description,
            "empfehlungen": group.recommendations,
            "ziele": group.goals,
        })
    decisions = []
    for s in in_year:
        label = "JF" if s.gremium == schema.GREMIUM_JF else s.working_group or s.gremium
        # The report leaves the council (§ 5); decisions on confidential items stay inside (§ 8).
        confidential = {item.number for item in model.agenda_of(s.id) if item.confidential}
        for d in model.decisions_of(s.id):
            if d.item in confidential:
                continue
            state = " · ".join(p for p in (f"fällig {german_date(d.due)}" if d.due else "", d.state) if p)
            decisions.append({"sitzung": f"{label} {german_date(s.date)}", "art": d.kind, "text": d.text,
                              "verantwortlich": d.owner, "stand": state})
    return {
        **letterhead(model),
        "jahr": year,
        "datum": german_date(today),
        "sitzungen": sessions,
        "sitzungen_durchgefuehrt": len(held),
        "jour_fixe": [{"datum": german_date(s.date), "schwerpunkte": s.focus, "status": s.status}
                      for s in in_year if s.gremium == schema.GREMIUM_JF],
        "arbeitsgruppen": groups,
        "projekte": [{"titel": p.title, "traeger": p.owner, "beschreibung": p.description, "stand": p.state}
                     for p in model.projects if p.year == year],
        "beschluesse": decisions,
        "teilnahme": _attendance_by_institution(model, held),
        "diagramm": None,  # the chart; the renderer puts the picture here
    }


def _attendance_by_institution(model: Model, held: list[Session]) -> list[dict]:
    """For each institution of the members: in how many held sessions it took part (itself or by deputy)."""
    present: dict[str, set[str]] = {}
    for session in held:
        for row in model.attendance_of(session.id):
            person = model.person(row.person)
            if person is None or not person.is_member:
                continue
            bucket = present.setdefault(institution_of(person) or person.name, set())
            if row.status in ("anwesend", "vertreten"):
                bucket.add(session.id)
    return [{"institution": name, "teilnahme": f"{len(ids)} von {len(held)}"}
            for name, ids in sorted(present.items(), key=lambda kv: (-len(kv[1]), kv[0]))]
