"""Who may see what (§ 8), decided once: insiders, outsiders and the version each gets."""

from __future__ import annotations

from datetime import date

from kpr_excel.domain import schema
from kpr_excel.domain.audience import FULL, GUEST, OUTSIDER, audience, exposures, insider_addresses, is_insider
from kpr_excel.domain.model import AgendaItem, Model, Person, Session, Source, WorkingGroup

DAY = date(2027, 3, 10)


def person(pid: str, category: str, **more) -> Person:
    return Person(Source("Mitglieder", int(pid[1:]) + 1), pid, "Vor", f"Name{pid}", category,
                  email=f"{pid.lower()}@example.org", **more)


MEMBER = person("P1", schema.KATEGORIE_MITGLIED)
LEAD = person("P2", schema.KATEGORIE_MITGLIED)
DEPUTY = person("P3", schema.KATEGORIE_VERTRETUNG, deputy_of="P1")
NOBODYS_DEPUTY = person("P4", schema.KATEGORIE_VERTRETUNG)
GAST = person("P5", schema.KATEGORIE_GAST)
FORMER = person("P6", schema.KATEGORIE_MITGLIED, active_until=date(2026, 12, 31))
FORMERS_DEPUTY = person("P7", schema.KATEGORIE_VERTRETUNG, deputy_of="P6")


def ag_model(*items: AgendaItem) -> Model:
    group = WorkingGroup(Source("Arbeitsgruppen", 2), "AG-X", "Thema", lead="P2", members=("P1", "P4", "P5"))
    session = Session(Source("Sitzungen", 2), "AG-X-1", schema.GREMIUM_AG, DAY, working_group="AG-X")
    return Model(persons=(MEMBER, LEAD, DEPUTY, NOBODYS_DEPUTY, GAST, FORMER, FORMERS_DEPUTY), sessions=(session,),
                 agenda=items, working_groups=(group,))


def item(number: str, confidential: bool, guests=()) -> AgendaItem:
    return AgendaItem(Source("Tagesordnung", int(number)), "AG-X-1", number, f"Punkt {number}",
                      confidential=confidential, guests=tuple(guests))


def test_insiders_are_active_members_and_their_deputies_only():
    model = ag_model()
    assert [p.id for p in model.persons if is_insider(model, p, DAY)] == ["P1", "P2", "P3"]
    assert not is_insider(model, None, DAY)
    assert insider_addresses(model, DAY) == {"p1@example.org", "p2@example.org", "p3@example.org"}


def test_a_shared_address_is_no_insiders_address():
    model = ag_model()
    shared = person("P8", schema.KATEGORIE_GAST, )
    model = Model(persons=(*model.persons, Person(shared.src, "P8", "A", "B", schema.KATEGORIE_GAST,
                                                   email="P1@example.org")))
    assert "p1@example.org" not in insider_addresses(model, DAY)


def test_outsiders_in_a_working_group_get_the_version_without_confidential_items():
    model = ag_model(item("3", True), item("4", False, guests=("P7",)))
    chosen = audience(model, model.sessions[0], guests=True)
    versions = {r.person.id: (r.version, [i.number for i in r.items]) for r in chosen.recipients}
    assert versions == {"P1": (FULL, ["3", "4"]), "P2": (FULL, ["3", "4"]), "P4": (OUTSIDER, ["4"]),
                        "P5": (OUTSIDER, ["4"]), "P7": (GUEST, ["4"])}
    assert exposures(model, model.sessions[0], chosen.recipients) == []
    minutes = audience(model, model.sessions[0], guests=False)
    assert {r.person.id: r.version for r in minutes.recipients} == {"P1": FULL, "P2": FULL, "P4": OUTSIDER,
                                                                    "P5": OUTSIDER}


def test_exposures_catch_a_full_version_for_an_outsider():
    from kpr_excel.domain.audience import Recipient

    model = ag_model(item("3", True))
    wrong = [Recipient(GAST, schema.Role.MEMBER, model.agenda), Recipient(NOBODYS_DEPUTY, schema.Role.MEMBER,
                                                                          model.agenda, version=OUTSIDER)]
    found = exposures(model, model.sessions[0], wrong)
    assert [(p.id, why) for _, p, why in found] == [("P5", "erhielte die Fassung für Mitglieder"),
                                                     ("P4", "erhielte vertrauliche Punkte (TOP 3)")]
