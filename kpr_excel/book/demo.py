"""A realistic, fictional demo workbook: a year of the KPR around a reference date.

All people, addresses and events are invented (addresses under the reserved `.example`
domain). The year is the reference date's, so the demo always shows live deadlines; given
the same reference date it is the same workbook, which the tests rely on.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from kpr_excel.book.generate import composition_rows, settings_rows
from kpr_excel.domain.deadlines import last_working_day

CITY = "dresden.example"

FRAKTIONEN = (
    ("CDU", "CDU-Fraktion"),
    ("AFD", "AfD-Fraktion"),
    ("GRUENE", "Fraktion Bündnis 90/Die Grünen"),
    ("LINKE", "Fraktion Die Linke"),
    ("SPD", "SPD-Fraktion"),
    ("FDP-FB", "Fraktion FDP/Freie Bürger"),
    ("TZ", "Fraktion Team Zastrow"),
)

# id, salutation, title, first, last, institution, function, category, seat, fraktion, deputy_of, mail domain
PEOPLE = (
    ("P01", "Herr", "", "Jan", "Donhauser", "Landeshauptstadt Dresden", "Beigeordneter für Bildung, Jugend und Sport", "Mitglied", "VORSITZ-BJS", None, None, CITY),
    ("P02", "Herr", "", "Lutz", "Rodig", "Polizeidirektion Dresden", "Polizeipräsident", "Mitglied", "VORSITZ-PD", None, None, "polizei.sachsen.example"),
    ("P03", "Frau", "Dr.", "Katrin", "Seidel", "Direktorium des Oberbürgermeisters", "Leiterin", "Mitglied", "DOB", None, None, CITY),
    ("P04", "Frau", "", "Sabine", "Bräuer", "Jugendamt", "Amtsleiterin", "Mitglied", "JUGENDAMT", None, None, CITY),
    ("P05", "Herr", "", "Thomas", "Kühnel", "Sozialamt", "Amtsleiter", "Mitglied", "SOZIALAMT", None, None, CITY),
    ("P06", "Frau", "Dr.", "Anja", "Lehmann", "Amt für Gesundheit und Prävention", "Amtsleiterin", "Mitglied", "GESUNDHEIT", None, None, CITY),
    ("P07", "Herr", "", "Marco", "Pietsch", "Amt für Stadtplanung und Mobilität", "Amtsleiter", "Mitglied", "STADTPLANUNG", None, None, CITY),
    ("P08", "Herr", "", "Uwe", "Schubert", "Straßen- und Tiefbauamt", "Amtsleiter", "Mitglied", "TIEFBAU", None, None, CITY),
    ("P09", "Frau", "", "Claudia", "Wendler", "Rechtsamt", "Amtsleiterin", "Mitglied", "RECHTSAMT", None, None, CITY),
    ("P10", "Herr", "", "Ronny", "Görner", "Ordnungsamt", "Amtsleiter", "Mitglied", "ORDNUNGSAMT", None, None, CITY),
    ("P11", "Frau", "", "Petra", "Nitzsche", "Amt für Stadtgrün und Abfallwirtschaft", "Amtsleiterin", "Mitglied", "STADTGRUEN", None, None, CITY),
    ("P12", "Herr", "", "Frank", "Meißner", "Stadtrat", "Stadtrat", "Mitglied", "STADTRAT", "CDU", None, "stadtrat." + CITY),
    ("P13", "Herr", "", "Holger", "Ranft", "Stadtrat", "Stadtrat", "Mitglied", "STADTRAT", "AFD", None, "stadtrat." + CITY),
    ("P14", "Frau", "", "Lena", "Albrecht", "Stadtrat", "Stadträtin", "Mitglied", "STADTRAT", "GRUENE", None, "stadtrat." + CITY),
    ("P15", "Frau", "", "Doreen", "Kaden", "Stadtrat", "Stadträtin", "Mitglied", "STADTRAT", "LINKE", None, "stadtrat." + CITY),
    ("P16", "Herr", "", "Stefan", "Ullrich", "Stadtrat", "Stadtrat", "Mitglied", "STADTRAT", "SPD", None, "stadtrat." + CITY),
    ("P17", "Herr", "Prof.", "Dirk", "Hähnel", "Stadtrat", "Stadtrat", "Mitglied", "STADTRAT", "FDP-FB", None, "stadtrat." + CITY),
    ("P18", "Frau", "", "Ines", "Voigtländer", "Staatsanwaltschaft Dresden", "Oberstaatsanwältin", "Mitglied", "STA", None, None, "sta.justiz.sachsen.example"),
    ("P19", "Herr", "", "Mirko", "Tschirner", "Bundespolizeiinspektion Dresden", "Leiter", "Mitglied", "BPOL", None, None, "polizei.bund.example"),
    ("P20", "Frau", "", "Juliane", "Hempel", "Geschäftsstelle KPR", "Leiterin der Geschäftsstelle", "Mitglied", "GS", None, None, CITY),
    ("P21", "Frau", "", "Eva", "Leonhardt", "Landeshauptstadt Dresden", "Beigeordnete für Umwelt und Klima, Recht und Ordnung", "Mitglied", "JF-UKRO", None, None, CITY),
    ("P22", "Herr", "", "Stephan", "Kühn", "Landeshauptstadt Dresden", "Beigeordneter für Stadtentwicklung, Bau, Verkehr und Liegenschaften", "Mitglied", "JF-SBVL", None, None, CITY),
    ("P23", "Frau", "Dr.", "Kristin", "Kaufmann", "Landeshauptstadt Dresden", "Beigeordnete für Arbeit, Soziales, Gesundheit und Wohnen", "Mitglied", "JF-ASGW", None, None, CITY),
    # deputies (§ 2 "oder deren Vertreter")
    ("P24", "Herr", "", "Robert", "Franke", "Polizeidirektion Dresden", "Leiter Führungsstab", "Vertretung", None, None, "P02", "polizei.sachsen.example"),
    ("P25", "Frau", "", "Susanne", "Richter", "Jugendamt", "Stellv. Amtsleiterin", "Vertretung", None, None, "P04", CITY),
    ("P26", "Herr", "", "Andreas", "Böhme", "Ordnungsamt", "Abteilungsleiter Kommunaler Ordnungsdienst", "Vertretung", None, None, "P10", CITY),
    ("P27", "Frau", "", "Nadine", "Hofmann", "Sozialamt", "Sachgebietsleiterin", "Vertretung", None, None, "P05", CITY),
    ("P28", "Herr", "", "Tobias", "Zimmermann", "Geschäftsstelle KPR", "Sachbearbeiter", "Vertretung", None, None, "P20", CITY),
    ("P29", "Frau", "", "Maria", "Krause", "Stadtrat", "Stadträtin", "Vertretung", None, "SPD", "P16", "stadtrat." + CITY),
    ("P30", "Herr", "", "Michael", "Lorenz", "Amt für Gesundheit und Prävention", "Präventionskoordinator", "Vertretung", None, None, "P06", CITY),
    # topic guests: invited per item, not members
    ("P31", "Frau", "", "Sarah", "Engel", "Outlaw gGmbH", "Streetwork Wiener Platz", "Gast", None, None, None, "outlaw.example"),
    ("P32", "Herr", "Dr.", "Paul", "Winkler", "TU Dresden, Institut für Soziologie", "Kriminologe", "Gast", None, None, None, "tu-dresden.example"),
    ("P33", "Frau", "", "Heike", "Sommer", "Verkehrsbetriebe Dresden", "Leiterin Sicherheit", "Gast", None, None, None, "dvb.example"),
    ("P34", "Herr", "", "Kai", "Schröter", "Landespräventionsrat Sachsen", "Referent", "Gast", None, None, None, "lpr.sachsen.example"),
    ("P35", "Frau", "", "Jana", "Körner", "Stadtbezirksamt Altstadt", "Bürgerbeauftragte", "Gast", None, None, None, CITY),
)

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def _mail(first: str, last: str, domain: str) -> str:
    return f"{first}.{last}".translate(_UMLAUTS).lower() + "@" + domain


def _wednesday(year: int, month: int, nth: int = 2) -> date:
    day = date(year, month, 1)
    day += timedelta(days=(2 - day.weekday()) % 7)
    return day + timedelta(weeks=nth - 1)


def demo_data(stichtag: date) -> dict[str, list[dict]]:
    """Rows per sheet for the demo workbook, relative to `stichtag`."""
    year = stichtag.year
    persons = [
        dict(id=pid, salutation=sal, title=title, first_name=first, last_name=last, institution=inst,
             function=func, category=cat, seat=seat, fraktion=fr, deputy_of=dep,
             email=_mail(first, last, domain), active_from=date(year - 1, 1, 1))
        for pid, sal, title, first, last, inst, func, cat, seat, fr, dep, domain in PEOPLE
    ]
    sessions, agenda, attendance, decisions = [], [], [], []
    for number, month in enumerate((3, 6, 9, 12), start=1):
        kpr_day = _wednesday(year, month)
        kpr_id = f"KPR-{year}-{number}"
        jf_id = f"JF-{year}-{number}"
        jf_day = kpr_day - timedelta(days=36)  # the Tuesday five weeks before
        held = kpr_day < stichtag
        chair = "P01" if number % 2 else "P02"
        focus = (
            "Sicherheit im öffentlichen Raum; Jugendgewalt",
            "Wiener Platz und Hauptbahnhof; Drogenkonsum",
            "Sicherheitsgefühl in den Stadtteilen; Bürgerumfrage",
            "Jahresplanung; Präventionsbericht",
        )[number - 1]
        sessions.append(_session(jf_id, "Jour fixe", number, jf_day, time(9, 0), time(10, 30),
                                 "Rathaus, Dr.-Külz-Ring 19, Beratungsraum 2", "P01", focus, stichtag,
                                 with_minutes=True))
        kpr = _session(kpr_id, "KPR", number, kpr_day, time(15, 0), time(17, 30),
                       "Neues Rathaus, Plenarsaal, Rathausplatz 1, 01067 Dresden", chair, focus, stichtag,
                       with_minutes=number != 3)
        if number == 3:
            kpr["public"] = True
            kpr["public_basis"] = f"Beschluss des KPR vom {_wednesday(year, 6):%d.%m.%Y}, TOP 5"
            if held:
                # minutes of the third session went out two days late: a realistic finding
                kpr["minutes_sent"] = kpr_day + timedelta(days=16)
        sessions.append(kpr)
        agenda.extend(_agenda(kpr_id, number, kpr_day, stichtag))
        if held:
            attendance.extend(_attendance(kpr_id, number))
            decisions.extend(_decisions(kpr_id, number, kpr_day))
    for ag_id, months in (("AG-WP", (2, 5, 8, 11)), ("AG-JG", (4, 10))):
        for index, month in enumerate(months, start=1):
            day = _wednesday(year, month, 3) - timedelta(days=1)
            row = _session(f"{ag_id}-{year}-{index}", "Arbeitsgruppe", index, day, time(10, 0), time(12, 0),
                           "Jugendamt, Schwerpunkt Raum 3.12", "P04" if ag_id == "AG-JG" else "P10",
                           "", stichtag, with_minutes=not (ag_id == "AG-JG" and index == 2))
            row["working_group"] = ag_id
            row["chair"] = None
            sessions.append(row)
    groups = [
        dict(id="AG-WP", theme="Sicherheit am Wiener Platz", kind="thematisch", established=date(year - 1, 9, 1),
             lead="P10", members="P10, P24, P04, P07, P31",
             status_description="Erhöhtes Aufkommen von Betäubungsmittelhandel und Konflikten im Umfeld des Hauptbahnhofs.",
             recommendations="Mehr Beleuchtung; aufsuchende Sozialarbeit an fünf Tagen; gemeinsame Streifen.",
             goals="Rückgang der Körperverletzungen am Wiener Platz um 15 % bis Jahresende; Sicherheitsgefühl in der Bürgerumfrage +10 Punkte.",
             status="aktiv"),
        dict(id="AG-JG", theme="Prävention von Jugendgewalt", kind="befristet", established=date(year, 1, 15),
             limited_until=date(year, 12, 31), lead="P04", members="P04, P25, P02, P18, P32",
             status_description="Zunahme von Gruppengewalt unter Jugendlichen in zwei Stadtteilen.",
             recommendations="Schulische Präventionsprogramme ausweiten; Fallkonferenzen Polizei/Jugendamt.",
             goals="",
             status="aktiv"),
    ]
    projects = [
        dict(id="PR-1", title="Lichtkonzept Wiener Platz", year=year, owner="Straßen- und Tiefbauamt", working_group="AG-WP",
             description="Zusätzliche Beleuchtung an vier dunklen Wegen zwischen Hauptbahnhof und Prager Straße.", state="umgesetzt"),
        dict(id="PR-2", title="Streetwork-Tandem", year=year, owner="Outlaw gGmbH mit Jugendamt", working_group="AG-WP",
             description="Aufsuchende Sozialarbeit an fünf Abenden je Woche.", state="laufend"),
        dict(id="PR-3", title="Bürgerumfrage Sicherheitsgefühl", year=year, owner="Kommunale Statistikstelle",
             description="Repräsentative Befragung von 3.000 Einwohnerinnen und Einwohnern.", state="in Planung"),
    ]
    return {
        "Mitglieder": persons,
        "Sollbesetzung": composition_rows(),
        "Fraktionen": [dict(id=i, name=n) for i, n in FRAKTIONEN],
        "Sitzungen": sessions,
        "Tagesordnung": agenda,
        "Anwesenheit": attendance,
        "Beschluesse": decisions,
        "Arbeitsgruppen": groups,
        "Projekte": projects,
        "Einstellungen": settings_rows({"office_phone": "0351 488-2841"}),
    }


def _session(sid, gremium, number, day, start, end, place, chair, focus, stichtag, *, with_minutes):
    held = day < stichtag
    invitation_due = day - timedelta(days=14)
    invitation_sent = last_working_day(invitation_due - timedelta(days=2))
    minutes_sent = day + timedelta(days=9)
    return dict(
        id=sid, gremium=gremium, number=number, date=day, start=start, end=end, place=place,
        public=False, chair=chair, minute_taker="P28", focus=focus,
        status="durchgeführt" if held else "eingeladen" if invitation_sent <= stichtag else "geplant",
        invitation_sent=invitation_sent if invitation_sent <= stichtag else None,
        minutes_sent=minutes_sent if held and with_minutes and minutes_sent <= stichtag else None,
        reply_by=day - timedelta(days=7),
    )


def _agenda(session_id: str, number: int, day: date, stichtag: date) -> list[dict]:
    submit = day - timedelta(days=30)
    items = [
        dict(number="3", title="Lagebild Kriminalität und Sicherheitsgefühl in der Innenstadt",
             submitter="P02", submitted_on=submit, presenter="Herr Rodig, Polizeidirektion Dresden",
             confidential=True, documents="Lagebild_Innenstadt.pdf"),
        dict(number="4", title="Bericht der AG „Sicherheit am Wiener Platz“ & Streetwork",
             submitter="P10", submitted_on=submit, presenter="Herr Görner, Ordnungsamt; Frau Engel, Outlaw gGmbH",
             guests="P31", documents="AG_Wiener_Platz_Zwischenbericht.docx"),
        dict(number="5", title="Prävention von Jugendgewalt: Stand der Arbeitsgruppe",
             submitter="P04", submitted_on=submit, presenter="Frau Bräuer, Jugendamt"),
    ]
    if number == 2:
        items.append(dict(number="6", title="Sicherheit im ÖPNV <Nachtlinien>", submitter="P12",
                          submitted_on=submit, presenter="Frau Sommer, Verkehrsbetriebe Dresden",
                          guests="P33"))
    if number == 4:
        items.append(dict(number="6", title=f"Präventionsbericht {day.year}: Gliederung", submitter="P20",
                          submitted_on=submit, presenter="Frau Hempel, Geschäftsstelle",
                          documents="Gliederung_Praeventionsbericht.docx"))
    late = day - timedelta(days=17)
    if number == 4 and late <= stichtag:
        # submitted after the agenda deadline (21 days before), not yet admitted by the chairs (GO-7.2)
        items.append(dict(number="7", title="Alkoholverbot auf dem Neustädter Markt?", submitter="P14",
                          submitted_on=late, presenter="Frau Albrecht, Stadtrat"))
    for item in items:
        item["session"] = session_id
        if item.get("confidential") is None:
            item["confidential"] = False
        if day < stichtag:  # a held session has its results, or its minutes cannot go out
            item["result"] = _RESULTS.get(str(item["title"]), _RESULTS[str(item["number"])])
    return items


_RESULTS = {
    "3": "Der KPR nimmt das Lagebild zur Kenntnis; die Polizeidirektion berichtet in der nächsten Sitzung erneut.",
    "4": "Der Zwischenbericht wird zustimmend zur Kenntnis genommen.",
    "5": "Die Arbeitsgruppe setzt ihre Arbeit wie geplant fort.",
    "6": "Die Gliederung wird mit den besprochenen Ergänzungen angenommen.",
    "7": "Die Vorsitzenden lassen den Punkt nicht zu; er wird in der nächsten Sitzung behandelt.",
    "Sicherheit im ÖPNV <Nachtlinien>": "Die Verkehrsbetriebe prüfen zusätzliche Begleitangebote in den Nachtlinien.",
}


def _attendance(session_id: str, number: int) -> list[dict]:
    rows = []
    for pid, *_ in PEOPLE[:20]:
        status, deputy = "anwesend", None
        if pid == "P04" and number in (1, 3):
            status, deputy = "vertreten", "P25"
        elif pid == "P10" and number == 2:
            status, deputy = "vertreten", "P26"
        elif pid in ("P13", "P17") and number != 1:
            status = "entschuldigt"
        elif pid == "P08" and number == 3:
            status = "abwesend"
        rows.append(dict(session=session_id, person=pid, status=status, deputy=deputy))
    rows.append(dict(session=session_id, person="P31", status="anwesend", remark="Gast zu TOP 4"))
    return rows


def _decisions(session_id: str, number: int, day: date) -> list[dict]:
    return [
        dict(id=f"B-{session_id[4:]}-1", session=session_id, item="4", kind="Beschluss",
             text="Der KPR empfiehlt dem Stadtrat, die aufsuchende Sozialarbeit am Wiener Platz fortzuführen.",
             owner="Geschäftsstelle", state="erledigt"),
        dict(id=f"B-{session_id[4:]}-2", session=session_id, item="5", kind="Aufgabe",
             text="Fallkonferenzen Polizei/Jugendamt für die Stadtteile Prohlis und Gorbitz vorbereiten.",
             owner="Frau Bräuer", due=day + timedelta(days=60), state="erledigt" if number < 3 else "in Arbeit"),
    ]
