"""The dispatch plan: who gets what, and never a confidential item to a non-member (§ 8)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpr_excel.book.demo import demo_data
from kpr_excel.domain import schema
from kpr_excel.domain.findings import Finding, Location, Severity
from kpr_excel.domain.model import AgendaItem, Model, Person, Seat, Session, Settings, Source
from kpr_excel.sending.plan import INVITATION, MINUTES, ROLE_GUEST, make_plan

DAY = date(2027, 3, 10)


def _person(i: int, category: str, seat: str | None = None, deputy_of: str | None = None, active=True) -> Person:
    return Person(Source("Mitglieder", i + 2), f"P{i}", f"Vor{i}", f"Nach{i}", category, seat=seat,
                  deputy_of=deputy_of, email=f"p{i}@example.org",
                  active_until=None if active else date(2020, 1, 1))


people = st.lists(
    st.tuples(st.sampled_from(schema.KATEGORIEN), st.booleans(), st.integers(0, 30)),
    min_size=1, max_size=25,
)
items = st.lists(
    st.tuples(st.booleans(), st.lists(st.integers(0, 30), max_size=4)),
    min_size=0, max_size=8,
)


@pytest.mark.slow  # 300 hypothesis examples
@settings(max_examples=300, deadline=None)
@given(people=people, items=items, mode=st.sampled_from(["in Kopie", "anstelle", "nein"]),
       public=st.booleans(), document=st.sampled_from([INVITATION, MINUTES]))
def test_no_plan_gives_a_non_member_a_confidential_item(people, items, mode, public, document):
    persons = tuple(
        _person(i, cat, seat="AMT" if cat == "Mitglied" else None,
                deputy_of=f"P{ref}" if cat == "Vertretung" else None, active=active)
        for i, (cat, active, ref) in enumerate(people)
    )
    session = Session(Source("Sitzungen", 2), "S1", "KPR", DAY, public=public)
    agenda = tuple(
        AgendaItem(Source("Tagesordnung", n + 2), "S1", str(n + 3), f"Punkt {n}", confidential=conf,
                   guests=tuple(f"P{g}" for g in guests))
        for n, (conf, guests) in enumerate(items)
    )
    model = Model(persons=persons, seats=(Seat(Source("Sollbesetzung", 2), "AMT", "Amt"),),
                  sessions=(session,), agenda=agenda, settings=Settings(deputy_mode=mode))
    plan = make_plan(model, "S1", document)
    for delivery in plan.deliveries:
        readers = (delivery.recipient, *delivery.cc)
        if any(not (p.is_member and p.active_on(DAY)) for p in readers):
            assert delivery.confidential_items == ()
            assert delivery.role == ROLE_GUEST
            assert not delivery.cc
    keys = [d.key for d in plan.deliveries]
    assert len(keys) == len(set(keys))
    if document == MINUTES:
        assert all(d.role != ROLE_GUEST for d in plan.deliveries)


def _demo_model(stichtag=date(2026, 11, 29)):
    import tempfile
    from pathlib import Path

    from kpr_excel.book.generate import build_workbook
    from kpr_excel.book.reader import read_book

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "demo.xlsx"
        build_workbook(demo_data(stichtag)).save(path)
        from kpr_excel.book.loader import load_book

        return load_book(read_book(path)).model


def test_demo_invitation_plan_members_deputies_and_guest():
    model = _demo_model()
    plan = make_plan(model, "KPR-2026-4", INVITATION)
    by_id = {d.recipient.id: d for d in plan.deliveries}
    # every KPR member (20 seats held, the Jour fixe-only Beigeordnete P21-P23 not)
    assert {f"P{i:02d}" for i in range(1, 21)} <= set(by_id)
    assert not {"P21", "P22", "P23"} & set(by_id)
    assert [p.id for p in by_id["P02"].cc] == ["P24"]  # deputy in copy (default setting)
    guest = by_id["P31"]
    assert guest.role == ROLE_GUEST
    assert [i.number for i in guest.items] == ["4"]
    assert not plan.blocked


def test_jour_fixe_invites_only_its_composition():
    model = _demo_model()
    plan = make_plan(model, "JF-2026-4", INVITATION)
    assert {d.recipient.id for d in plan.deliveries} == {"P01", "P02", "P20", "P21", "P22", "P23"}


def test_deputy_invited_instead_when_member_is_prevented():
    from dataclasses import replace

    from kpr_excel.domain.model import Attendance

    model = _demo_model()
    model = replace(model, settings=replace(model.settings, deputy_mode="anstelle"),
                    attendance=(*model.attendance,
                                Attendance(Source("Anwesenheit", 99), "KPR-2026-4", "P04", "entschuldigt")))
    plan = make_plan(model, "KPR-2026-4", INVITATION)
    by_id = {d.recipient.id: d for d in plan.deliveries}
    assert "P04" not in by_id and by_id["P25"].on_behalf_of.id == "P04"
    assert not by_id["P02"].cc


def test_error_finding_of_the_session_blocks_but_deadline_findings_do_not():
    model = _demo_model()
    late = Finding("GO-7.4", Severity.FEHLER, "zu spät", Location("Sitzungen", 3, "R"), session_id="KPR-2026-4")
    bad_mail = Finding("DATA-2", Severity.FEHLER, "E-Mail", model.person("P05").src.at("email"))
    other = Finding("DATA-2", Severity.FEHLER, "anderswo", Location("Projekte", 2, "C"))
    plan = make_plan(model, "KPR-2026-4", INVITATION, findings=(late, other))
    assert not plan.blocked
    plan = make_plan(model, "KPR-2026-4", INVITATION, findings=(late, bad_mail, other))
    assert plan.blocking == (bad_mail,)


def test_a_member_named_as_guest_outside_the_circle_is_not_dropped_silently():
    from dataclasses import replace

    model = _demo_model()
    outsider = model.person("P05")  # a KPR member, not of the Jour fixe
    item = AgendaItem(Source("Tagesordnung", 99), "JF-2026-4", "3", "Lagebild", guests=(outsider.id,))
    model = replace(model, agenda=(*model.agenda, item))
    plan = make_plan(model, "JF-2026-4", INVITATION)
    assert outsider.id not in {d.recipient.id for d in plan.deliveries}
    assert any(outsider.name in note for note in plan.notes)


def test_a_former_member_named_as_guest_gets_the_guest_version_and_it_exists(tmp_path):
    """The plan and the documents agree on who is a guest: a member whose term ended is one."""
    from dataclasses import replace

    from kpr_excel.app.send import SessionDocuments
    from kpr_excel.documents import context

    model = _demo_model()
    former = replace(model.person("P14"), active_until=date(2026, 6, 30))
    items = tuple(replace(i, guests=(*i.guests, "P14")) if i.session == "KPR-2026-4" and i.number == "4" else i
                  for i in model.agenda)
    model = replace(model, persons=tuple(former if p.id == "P14" else p for p in model.persons), agenda=items)
    plan = make_plan(model, "KPR-2026-4", INVITATION)
    delivery = next(d for d in plan.deliveries if d.recipient.id == "P14")
    assert delivery.role == ROLE_GUEST and not delivery.confidential_items
    assert "P14" in {g.id for g in context.guests(model, model.session("KPR-2026-4"))}
    workbook = tmp_path / "KPR.xlsx"
    workbook.touch()
    files = SessionDocuments(workbook, model, model.session("KPR-2026-4"), INVITATION, date(2026, 11, 29))(delivery)
    assert [f.name for f in files] == ["2026-12-09_KPR_Einladung_Gast_Lena_Albrecht.docx"]
