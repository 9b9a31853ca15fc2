"""The context builders: pure functions from the model to what the templates show."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta

from kpr_excel.documents import context
from kpr_excel.documents.produce import demo_choice
from kpr_excel.domain import schema
from kpr_excel.domain.values import german_date, german_date_long
from tests.documents.conftest import STICHTAG


def _number(text: str) -> int:
    return int(text)


def _model_with(model, **changes):
    return dataclasses.replace(model, **changes)


def test_invitation_subject_uses_number_body_and_long_german_date(demo_model):
    session = dataclasses.replace(demo_choice(demo_model, STICHTAG).next_session, number=2, date=date(2027, 3, 12))
    info = context.invitation_context(demo_model, session, today=STICHTAG)["sitzung"]
    subject = f"Einladung zur {info['titel']} am {info['datum_lang']}"
    assert subject == "Einladung zur 2. Sitzung des Kommunalen Präventionsrates am Freitag, 12. März 2027"


def test_agenda_wraps_the_workbook_items_in_opening_and_closing_items(demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    items = context.agenda(demo_model, session)
    own = sorted(demo_model.agenda_of(session.id), key=lambda i: _number(i.number))
    assert [i["nr"] for i in items] == ["1", "2", *[i.number for i in own], str(_number(own[-1].number) + 1)]
    assert items[0]["titel"] == context.OPENING
    previous = context.previous_session(demo_model, session)
    assert items[1]["titel"].endswith(german_date(previous.date))
    assert items[-1]["titel"] == context.CLOSING
    assert [i["titel"] for i in items[2:-1]] == [i.title for i in own]
    chair = demo_model.person(session.chair)
    assert items[0]["vortragende"] == f"{chair.salutation} {chair.last_name} (Sitzungsleitung)"
    assert [i["vertraulich"] for i in items[2:-1]] == [i.confidential for i in own]


def test_first_session_of_a_body_asks_only_to_confirm_the_agenda(demo_model):
    first = min((s for s in demo_model.sessions if s.gremium == schema.GREMIUM_KPR), key=lambda s: s.date)
    assert context.agenda(demo_model, first)[1]["titel"] == context.AGENDA_ONLY


def test_items_numbered_1_and_2_in_the_workbook_are_renumbered_and_keep_their_decisions(demo_model):
    session = next(s for s in demo_model.sessions if s.held and demo_model.decisions_of(s.id))
    own = sorted(demo_model.agenda_of(session.id), key=lambda i: _number(i.number))
    shift = {item.number: str(index) for index, item in enumerate(own, start=1)}
    agenda = tuple(dataclasses.replace(i, number=shift[i.number]) if i.session == session.id else i
                   for i in demo_model.agenda)
    decisions = tuple(dataclasses.replace(d, item=shift.get(d.item, d.item)) if d.session == session.id else d
                      for d in demo_model.decisions)
    model = _model_with(demo_model, agenda=agenda, decisions=decisions)
    items = context.agenda(model, session, with_results=True)
    assert [i["nr"] for i in items] == [str(n) for n in range(1, len(own) + 4)]
    original = context.agenda(demo_model, session, with_results=True)
    assert [(i["titel"], i["beschluesse"] and i["beschluesse"][0]["text"]) for i in items] == \
           [(i["titel"], i["beschluesse"] and i["beschluesse"][0]["text"]) for i in original]


def test_decision_naming_no_item_lands_under_verschiedenes(demo_model):
    session = next(s for s in demo_model.sessions if s.held and demo_model.decisions_of(s.id))
    loose = dataclasses.replace(demo_model.decisions_of(session.id)[0], id="B-LOSE", item="")
    model = _model_with(demo_model, decisions=(*demo_model.decisions, loose))
    items = context.agenda(model, session, with_results=True)
    assert loose.text in [b["text"] for b in items[-1]["beschluesse"] + items[-1]["aufgaben"]]


def test_guest_sees_only_own_items_and_nothing_confidential(demo_model):
    choice = demo_choice(demo_model, STICHTAG)
    session, guest = choice.next_session, choice.guest
    values = context.invitation_context(demo_model, session, today=STICHTAG, guest=guest)
    wanted = [i for i in demo_model.agenda_of(session.id) if guest.id in i.guests and not i.confidential]
    assert wanted and [i["titel"] for i in values["tagesordnung"]] == [i.title for i in wanted]
    assert not any(i["vertraulich"] for i in values["tagesordnung"])
    confidential_docs = [d for i in demo_model.agenda_of(session.id) if i.confidential for d in i.document_list]
    assert confidential_docs and not any(d in u for d in confidential_docs for u in values["unterlagen"])
    assert values["anrede"] == guest.letter_salutation
    assert values["vertraulichkeitsvermerk"] == context.NOTICE_GUESTS


def test_guest_invited_only_to_a_confidential_item_gets_no_items(demo_model):
    choice = demo_choice(demo_model, STICHTAG)
    session, guest = choice.next_session, choice.guest
    agenda = tuple(dataclasses.replace(i, confidential=True) if i.session == session.id and guest.id in i.guests
                   else i for i in demo_model.agenda)
    model = _model_with(demo_model, agenda=agenda)
    assert context.agenda(model, session, guest=guest) == []


def test_confidentiality_notice_follows_publicity_and_confidential_items(demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    items = context.agenda(demo_model, session)
    assert not session.public
    assert context.confidentiality_notice(session, items, for_guest=False) == context.NOTICE_MEMBERS
    public = dataclasses.replace(session, public=True)
    assert any(i["vertraulich"] for i in items)
    assert context.confidentiality_notice(public, items, for_guest=False) == context.NOTICE_CONFIDENTIAL_ITEMS
    plain = [dict(i, vertraulich=False) for i in items]
    assert context.confidentiality_notice(public, plain, for_guest=False) == ""


def test_reply_by_defaults_to_the_reply_days_before_the_session(demo_model):
    session = dataclasses.replace(demo_choice(demo_model, STICHTAG).next_session, reply_by=None)
    values = context.invitation_context(demo_model, session, today=STICHTAG)
    expected = session.date - timedelta(days=demo_model.settings.reply_days)
    assert values["rueckmeldung_bis"] == german_date_long(expected, weekday=False)


def test_invitation_is_signed_by_both_chairs(demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    chairs = demo_model.chairs(session.date)
    assert len(chairs) == 2
    signed = context.invitation_context(demo_model, session, today=STICHTAG)["unterzeichnende"]
    assert [s["name"] for s in signed] == [p.name for p in chairs]


def test_working_group_meeting_names_the_group_and_is_signed_by_its_lead(demo_model):
    session = next(s for s in demo_model.sessions if s.gremium == schema.GREMIUM_AG)
    group = demo_model.working_group(session.working_group)
    values = context.invitation_context(demo_model, session, today=STICHTAG)
    assert values["sitzung"]["genitiv"] == f"der Arbeitsgruppe „{group.theme}“"
    assert [s["name"] for s in values["unterzeichnende"]] == [demo_model.person(group.lead).name]
    assert values["sitzung"]["leitung"] == demo_model.person(group.lead).name


def test_minutes_list_attendance_with_deputies_and_guests(demo_model):
    session = next(s for s in demo_model.sessions
                   if any(a.status == "vertreten" for a in demo_model.attendance_of(s.id)))
    values = context.minutes_context(demo_model, session, today=STICHTAG, draft=False)
    rows = demo_model.attendance_of(session.id)
    represented = [a for a in rows if a.status == "vertreten"]
    for row in represented:
        member, deputy = demo_model.person(row.person), demo_model.person(row.deputy)
        assert any(deputy.name in line and f"in Vertretung für {member.name}" in line for line in values["vertreten"])
    members = [a for a in rows if demo_model.person(a.person).is_member]
    assert len(values["anwesend"]) == sum(1 for a in members if a.status == "anwesend")
    assert len(values["entschuldigt"]) == sum(1 for a in members if a.status == "entschuldigt")
    assert len(values["gaeste"]) == sum(1 for a in rows if not demo_model.person(a.person).is_member)
    assert values["anwesenheit_erfasst"] and not values["entwurf"]
    tasks = [d for d in demo_model.decisions_of(session.id) if d.kind == "Aufgabe"]
    assert [(t["text"], t["faellig"]) for t in values["aufgaben"]] == [(d.text, german_date(d.due)) for d in tasks]


def test_draft_minutes_before_the_session_list_the_invited(demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    values = context.minutes_context(demo_model, session, today=STICHTAG, draft=True)
    assert values["entwurf"] and not values["anwesenheit_erfasst"]
    assert values["eingeladen"] and all(not values[k] for k in ("anwesend", "vertreten", "entschuldigt"))


def test_yearly_report_covers_sessions_groups_projects_and_attendance(demo_model):
    year = STICHTAG.year
    values = context.yearly_report_context(demo_model, year, today=STICHTAG)
    kpr = [s for s in demo_model.sessions if s.gremium == schema.GREMIUM_KPR and s.date.year == year]
    assert [s["datum"] for s in values["sitzungen"]] == [german_date(s.date) for s in sorted(kpr, key=lambda s: s.date)]
    assert values["sitzungen_durchgefuehrt"] == sum(1 for s in kpr if s.held)
    assert len(values["jour_fixe"]) == sum(1 for s in demo_model.sessions
                                           if s.gremium == schema.GREMIUM_JF and s.date.year == year)
    assert [g["thema"] for g in values["arbeitsgruppen"]] == [g.theme for g in demo_model.working_groups]
    assert [p["titel"] for p in values["projekte"]] == [p.title for p in demo_model.projects if p.year == year]
    held = sum(1 for s in kpr if s.held)
    assert values["teilnahme"] and all(t["teilnahme"].endswith(f"von {held}") for t in values["teilnahme"])
    for row, session in zip(values["sitzungen"], sorted(kpr, key=lambda s: s.date)):
        members = [a for a in demo_model.attendance_of(session.id) if demo_model.person(a.person).is_member]
        assert row["anwesend"] + row["vertreten"] + row["entschuldigt"] + row["abwesend"] == len(members)


def test_yearly_report_leaves_out_decisions_on_confidential_items(demo_model):
    session = next(s for s in demo_model.sessions if s.held and s.gremium == schema.GREMIUM_KPR)
    secret = next(i for i in demo_model.agenda_of(session.id) if i.confidential)
    decision = dataclasses.replace(demo_model.decisions_of(session.id)[0], id="B-GEHEIM", item=secret.number,
                                   text="Verdeckte Maßnahme im Bereich Hauptbahnhof")
    model = dataclasses.replace(demo_model, decisions=(*demo_model.decisions, decision))
    values = context.yearly_report_context(model, session.date.year, today=STICHTAG)
    texts = [d["text"] for d in values["beschluesse"]]
    assert decision.text not in texts
    assert len(texts) == sum(1 for d in demo_model.decisions if model.session(d.session).date.year == session.date.year)
