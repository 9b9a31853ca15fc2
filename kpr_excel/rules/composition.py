"""§§ 2 to 4: the composition of the KPR, its chairs and the Jour fixe, on the reference date.

Each seat of sheet Sollbesetzung is checked by exactly one rule, so that one empty seat is
one finding: the chairs by GO-3.1, the other KPR seats by GO-2.1, the seats only in the
Jour fixe by GO-4.1.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from kpr_excel.domain import schema
from kpr_excel.domain.findings import Location
from kpr_excel.domain.values import german_date
from kpr_excel.rules.base import Context, Issue, person_label


def seats_filled(ctx: Context) -> Iterator[Issue]:
    """GO-2.1: every KPR seat (one per Fraktion for the city-council seat) has an active member."""
    day = german_date(ctx.stichtag)
    for seat in ctx.model.seats:
        if not seat.in_kpr or seat.chair:
            continue
        holders = ctx.seat_holders.get(seat.id, ())
        if seat.per_fraktion:
            taken = {p.fraktion for p in holders}
            for fraktion in ctx.model.fraktionen:
                if fraktion.id not in taken:
                    yield Issue(f"Die Fraktion „{fraktion.name}“ ({fraktion.id}) hat am {day} kein aktives "
                                f"benanntes Stadtratsmitglied im KPR (Sitz {seat.id}).", fraktion.src.at("id"))
        elif not holders:
            yield Issue(f"Der Sitz „{seat.name}“ ({seat.id}) ist am {day} mit keinem aktiven Mitglied besetzt.",
                        seat.src.at("id"))


def one_per_fraktion(ctx: Context) -> Iterator[Issue]:
    """GO-2.2: no Fraktion has more than one active nominated council member (deputies aside)."""
    per_fraktion = {seat.id for seat in ctx.model.seats if seat.per_fraktion}
    by_fraktion = defaultdict(list)
    for person in ctx.members_today:
        if person.category == schema.KATEGORIE_MITGLIED and person.seat in per_fraktion and person.fraktion:
            by_fraktion[person.fraktion].append(person)
    for fraktion, people in by_fraktion.items():
        first, *others = people
        for person in others:
            yield Issue(f"Für die Fraktion {fraktion} ist neben {person_label(first)} auch "
                        f"{person_label(person)} als Stadtratsmitglied benannt; je Fraktion ist eines vorgesehen.",
                        person.src.at("fraktion"))


def members_have_seats(ctx: Context) -> Iterator[Issue]:
    """GO-2.3: an active member (not a deputy, not a guest) holds a seat of the composition."""
    for person in ctx.members_today:
        if person.category == schema.KATEGORIE_MITGLIED and not person.seat:
            yield Issue(f"{person_label(person)} ist aktives Mitglied, hat aber keinen Sitz der Sollbesetzung. "
                        "Themenbezogene Gäste bitte mit der Kategorie „Gast“ führen.", person.src.at("seat"))


def deputies_valid(ctx: Context) -> Iterator[Issue]:
    """GO-2.4: a deputy names an existing, active member, and not another deputy.

    The loader leaves unknown ids in "Vertretung von" to this rule, so they are reported for
    every person; the other checks apply to deputies active on the reference date.
    """
    model = ctx.model
    for person in model.persons:
        is_deputy = person.category == schema.KATEGORIE_VERTRETUNG
        if not person.deputy_of:
            if is_deputy and person.active_on(ctx.stichtag):
                yield Issue(f"{person_label(person)} ist als Vertretung eingetragen, aber „Vertretung von“ ist leer.",
                            person.src.at("deputy_of"))
            continue
        target = model.person(person.deputy_of)
        where = person.src.at("deputy_of")
        if target is None:
            yield Issue(f"„Vertretung von“ von {person_label(person)} verweist auf „{person.deputy_of}“, das es im "
                        "Blatt Mitglieder nicht gibt.", where)
        elif not is_deputy or not person.active_on(ctx.stichtag):
            continue
        elif target.id == person.id or target.category == schema.KATEGORIE_VERTRETUNG:
            yield Issue(f"{person_label(person)} soll {person_label(target)} vertreten, eine Vertretung; vertreten "
                        "werden nur Mitglieder.", where)
        elif target.category != schema.KATEGORIE_MITGLIED:
            yield Issue(f"{person_label(person)} soll {person_label(target)} vertreten, eingetragen als "
                        f"„{target.category}“; vertreten werden nur Mitglieder.", where)
        elif not target.active_on(ctx.stichtag):
            yield Issue(f"{person_label(person)} soll {person_label(target)} vertreten, am "
                        f"{german_date(ctx.stichtag)} aber kein aktives Mitglied.", where)


def chairs_complete(ctx: Context) -> Iterator[Issue]:
    """GO-3.1: the two chair seats of § 3 are each held by exactly one active member."""
    chair_seats = [seat for seat in ctx.model.seats if seat.chair]
    if len(chair_seats) != 2:
        where = (chair_seats[2].src.at("chair") if len(chair_seats) > 2
                 else Location(schema.SOLLBESETZUNG.name, None, schema.SOLLBESETZUNG.letter("chair")))
        yield Issue(f"In der Sollbesetzung sind {len(chair_seats)} Sitze als Vorsitz markiert; § 3 sieht zwei "
                    "vor (Beigeordnete/r für Bildung, Jugend und Sport und Leitung der Polizeidirektion).", where)
    day = german_date(ctx.stichtag)
    for seat in chair_seats:
        holders = ctx.seat_holders.get(seat.id, ())
        if not holders:
            yield Issue(f"Der Vorsitz „{seat.name}“ ({seat.id}) ist am {day} mit keinem aktiven Mitglied besetzt.",
                        seat.src.at("id"))
        for person in holders[1:]:
            yield Issue(f"Den Vorsitz {seat.id} hat am {day} schon {person_label(holders[0])}; "
                        f"{person_label(person)} ist ebenfalls dafür eingetragen.", person.src.at("seat"))


def jour_fixe_complete(ctx: Context) -> Iterator[Issue]:
    """GO-4.1: the seats only in the Jour fixe are held, and the chairs sit in the Jour fixe."""
    day = german_date(ctx.stichtag)
    for seat in ctx.model.seats:
        if seat.chair and not seat.in_jour_fixe:
            yield Issue(f"Der Vorsitz „{seat.name}“ ({seat.id}) ist nicht als Teil des Jour fixe markiert; "
                        "nach § 4 gehören die Vorsitzenden dazu.", seat.src.at("in_jour_fixe"))
        elif seat.in_jour_fixe and not seat.in_kpr and not seat.chair and not ctx.seat_holders.get(seat.id):
            yield Issue(f"Der Sitz im Jour fixe „{seat.name}“ ({seat.id}) ist am {day} mit keinem aktiven "
                        "Mitglied besetzt.", seat.src.at("id"))
