"""For every rule: workbooks that break it and workbooks that keep it (pylint's good/bad examples).

Each example edits the demo data of its reference date in place; the workbook is then
generated, written and loaded as the office's file would be. A breaking example names
every cell its rule must report (and nothing else of that rule may be reported); a
keeping example expects no finding of its rule at all. Expected cells are named by row
content and attribute, and turned into sheet, row and column letter from the generated
layout, so the examples do not hard-code row numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from kpr_excel.domain import schema
from kpr_excel.domain.findings import Severity
from kpr_excel.rules import DocumentText

STICHTAG = date(2026, 11, 18)  # Buß- und Bettag; the demo's KPR-2026-4 invitation is due in 7 days
YEAR = STICHTAG.year

Data = dict[str, list[dict]]


@dataclass(frozen=True)
class At:
    """A cell (or a whole sheet) named by the content of its row and the model attribute."""

    sheet: str
    match: Mapping[str, object] = field(default_factory=dict)  # empty: the sheet itself
    column: str | None = None

    def resolve(self, data: Data) -> tuple[str, int | None, str | None]:
        if not self.match:
            return (self.sheet, None, None)
        rows = data[self.sheet]
        index = next(i for i, row in enumerate(rows) if all(row.get(k) == v for k, v in self.match.items()))
        letter = schema.SHEETS_BY_NAME[self.sheet].letter(self.column) if self.column else None
        return (self.sheet, index + 2, letter)  # one header row above the data


@dataclass(frozen=True)
class Example:
    code: str
    name: str
    edit: Callable[[Data], object] = lambda data: None
    where: tuple[At, ...] = ()  # empty: the workbook keeps the rule
    stichtag: date = STICHTAG
    severity: Severity | None = None  # where given, every finding of the rule has it
    documents: tuple[DocumentText, ...] = ()

    @property
    def breaks(self) -> bool:
        return bool(self.where)

    @property
    def id(self) -> str:
        return f"{self.code}-{'bad' if self.breaks else 'good'}-{self.name}"


# ------------------------------------------------------------------ editing the demo rows

def row(data: Data, sheet: str, **match) -> dict:
    return next(r for r in data[sheet] if all(r.get(k) == v for k, v in match.items()))


def person(data: Data, pid: str) -> dict:
    return row(data, "Mitglieder", id=pid)


def session(data: Data, sid: str) -> dict:
    return row(data, "Sitzungen", id=sid)


def item(data: Data, sid: str, number: str) -> dict:
    return row(data, "Tagesordnung", session=sid, number=number)


def setting_label(key: str) -> str:
    return next(s.label for s in schema.SETTINGS if s.key == key)


def setting(data: Data, key: str) -> dict:
    return row(data, "Einstellungen", key=setting_label(key))


def add_person(data: Data, pid: str, category: str = "Mitglied", **fields) -> None:
    data["Mitglieder"].append(dict(id=pid, first_name="Neu", last_name=pid, category=category,
                                   email=f"{pid.lower()}@dresden.example", **fields))


def add_session(data: Data, sid: str, day: date, **fields) -> None:
    values = dict(id=sid, gremium="KPR", date=day, status="durchgeführt", chair="P01", focus="Lage",
                  invitation_sent=day - timedelta(days=20), minutes_sent=day + timedelta(days=7))
    data["Sitzungen"].append({**values, **fields})


def send_row(data: Data, key: str, sid: str, document: str, **fields) -> None:
    data.setdefault("Versand", []).append({**dict(key=key, session=sid, document=document, state="gesendet"), **fields})


def chain(*edits: Callable[[Data], object]) -> Callable[[Data], None]:
    def edit(data: Data) -> None:
        for step in edits:
            step(data)
    return edit


def set_(getter: Callable[[Data], dict], **values) -> Callable[[Data], None]:
    return lambda data: getter(data).update(values)


def P(pid: str) -> Callable[[Data], dict]:
    return lambda data: person(data, pid)


def S(sid: str) -> Callable[[Data], dict]:
    return lambda data: session(data, sid)


def TOP(sid: str, number: str) -> Callable[[Data], dict]:
    return lambda data: item(data, sid, number)


def SEAT(seat_id: str) -> Callable[[Data], dict]:
    return lambda data: row(data, "Sollbesetzung", id=seat_id)


def GROUP(gid: str) -> Callable[[Data], dict]:
    return lambda data: row(data, "Arbeitsgruppen", id=gid)


def at_person(pid: str, column: str) -> At:
    return At("Mitglieder", {"id": pid}, column)


def at_session(sid: str, column: str) -> At:
    return At("Sitzungen", {"id": sid}, column)


def at_item(sid: str, number: str, column: str) -> At:
    return At("Tagesordnung", {"session": sid, "number": number}, column)


KPR1, KPR2, KPR3, KPR4 = (f"KPR-{YEAR}-{n}" for n in range(1, 5))
TZ_MEMBER = lambda data: add_person(data, "P36", seat="STADTRAT", fraktion="TZ")  # noqa: E731
F, W, H = Severity.FEHLER, Severity.WARNUNG, Severity.HINWEIS
NOTICE = ("Die Sitzung ist nicht öffentlich. Die Beratungen und die als vertraulich bezeichneten Unterlagen "
          "unterliegen der Pflicht zur Verschwiegenheit (§ 8 der Geschäftsordnung).")

EXAMPLES: tuple[Example, ...] = (
    # § 2 composition
    Example("GO-2.1", "every-seat-held", TZ_MEMBER),
    Example("GO-2.1", "office-head-left-and-fraktion-without-member",
            set_(P("P03"), active_until=date(YEAR, 10, 31)),
            (At("Sollbesetzung", {"id": "DOB"}, "id"), At("Fraktionen", {"id": "TZ"}, "id"))),
    Example("GO-2.2", "deputy-of-a-councillor-does-not-count"),
    Example("GO-2.2", "successor-after-the-former-left",
            chain(set_(P("P12"), active_until=date(YEAR, 6, 30)),
                  lambda d: add_person(d, "P36", seat="STADTRAT", fraktion="CDU", active_from=date(YEAR, 7, 1)))),
    Example("GO-2.2", "two-councillors-of-one-fraktion",
            lambda d: add_person(d, "P36", seat="STADTRAT", fraktion="CDU"),
            (at_person("P36", "fraktion"),)),
    Example("GO-2.3", "members-hold-seats"),
    Example("GO-2.3", "guest-entered-as-member", set_(P("P34"), category="Mitglied"),
            (at_person("P34", "seat"),)),
    Example("GO-2.4", "deputies-of-active-members"),
    Example("GO-2.4", "unknown-missing-deputy-guest-inactive",
            chain(set_(P("P24"), deputy_of="P99"), set_(P("P25"), deputy_of="P24"), set_(P("P26"), deputy_of="P31"),
                  set_(P("P27"), deputy_of=None), set_(P("P06"), active_until=date(YEAR, 1, 31))),
            tuple(at_person(p, "deputy_of") for p in ("P24", "P25", "P26", "P27", "P30"))),
    Example("GO-2.4", "former-deputy-of-former-member-is-no-matter",
            chain(set_(P("P06"), active_until=date(YEAR, 1, 31)), set_(P("P30"), active_until=date(YEAR, 1, 31)))),
    # § 3 chairs
    Example("GO-3.1", "two-chairs"),
    Example("GO-3.1", "police-chair-left", set_(P("P02"), active_until=date(YEAR, 11, 1)),
            (At("Sollbesetzung", {"id": "VORSITZ-PD"}, "id"),)),
    Example("GO-3.1", "second-person-on-a-chair", lambda d: add_person(d, "P36", seat="VORSITZ-BJS"),
            (at_person("P36", "seat"),)),
    Example("GO-3.1", "third-chair-seat", set_(SEAT("DOB"), chair=True),
            (At("Sollbesetzung", {"id": "DOB"}, "chair"),)),
    Example("GO-3.2", "chairs-lead"),
    Example("GO-3.2", "former-chair-led-earlier-sessions",
            chain(set_(P("P01"), active_until=date(YEAR, 10, 31)),
                  lambda d: add_person(d, "P36", seat="VORSITZ-BJS", active_from=date(YEAR, 11, 1)),
                  set_(S(KPR4), chair="P36"))),
    Example("GO-3.2", "office-and-deputy-lead", chain(set_(S(KPR4), chair="P20"), set_(S(KPR3), chair="P24")),
            (at_session(KPR4, "chair"), at_session(KPR3, "chair"))),
    # § 4 Jour fixe
    Example("GO-4.1", "jour-fixe-complete"),
    Example("GO-4.1", "beigeordnete-left-and-chair-not-in-jour-fixe",
            chain(set_(P("P21"), active_until=date(YEAR, 9, 30)), set_(SEAT("VORSITZ-PD"), in_jour_fixe=False)),
            (At("Sollbesetzung", {"id": "JF-UKRO"}, "id"), At("Sollbesetzung", {"id": "VORSITZ-PD"}, "in_jour_fixe"))),
    Example("GO-4.2", "prepared-by-jour-fixe"),
    Example("GO-4.2", "jour-fixe-cancelled", set_(S(f"JF-{YEAR}-4"), status="abgesagt"),
            (at_session(KPR4, "date"),)),
    Example("GO-4.2", "jour-fixe-not-needed-yet", set_(S(f"JF-{YEAR}-4"), status="abgesagt"),
            stichtag=date(YEAR, 10, 1)),
    Example("GO-4.2", "no-focus-topics", chain(set_(S(KPR3), focus=""), set_(S(f"JF-{YEAR}-3"), focus="")),
            (at_session(KPR3, "focus"),)),
    Example("GO-4.2", "focus-set-by-jour-fixe-only", set_(S(KPR3), focus="")),
    # § 5 yearly report
    Example("GO-5.1", "report-recorded",
            chain(lambda d: add_session(d, f"KPR-{YEAR - 1}-4", date(YEAR - 1, 12, 9)),
                  lambda d: send_row(d, f"JB-{YEAR - 1}", str(YEAR - 1), "Jahresbericht"))),
    Example("GO-5.1", "report-missing", lambda d: add_session(d, f"KPR-{YEAR - 1}-4", date(YEAR - 1, 12, 9)),
            (At("Versand"),)),
    Example("GO-5.1", "draft-is-no-report",
            chain(lambda d: add_session(d, f"KPR-{YEAR - 1}-4", date(YEAR - 1, 12, 9)),
                  lambda d: send_row(d, f"JB-{YEAR - 1}", str(YEAR - 1), "Jahresbericht", state="Entwurf")),
            (At("Versand"),)),
    Example("GO-5.1", "not-due-yet", lambda d: add_session(d, f"KPR-{YEAR - 1}-4", date(YEAR - 1, 12, 9)),
            stichtag=date(YEAR, 3, 1)),
    Example("GO-5.1", "due-date-setting-invalid",
            chain(lambda d: add_session(d, f"KPR-{YEAR - 1}-4", date(YEAR - 1, 12, 9)),
                  lambda d: setting(d, "report_due").update(value="31.02.")),
            (At("Einstellungen", {"key": setting_label("report_due")}, "value"),)),
    # § 6 working groups
    Example("GO-6.1", "results-recorded", set_(GROUP("AG-JG"), goals="Weniger Gruppengewalt: -20 % bis 2027")),
    Example("GO-6.1", "goals-missing", where=(At("Arbeitsgruppen", {"id": "AG-JG"}, "goals"),)),
    Example("GO-6.1", "young-group-in-grace-period",
            set_(GROUP("AG-JG"), established=date(YEAR, 9, 1), status_description="")),
    Example("GO-6.1", "old-group-without-results",
            set_(GROUP("AG-WP"), status_description="", recommendations="", goals=""),
            tuple(At("Arbeitsgruppen", {"id": gid}, col) for gid, col in (
                ("AG-WP", "status_description"), ("AG-WP", "recommendations"), ("AG-WP", "goals"),
                ("AG-JG", "goals")))),
    Example("GO-6.2", "minutes-kept", set_(S(f"AG-JG-{YEAR}-2"), minutes_sent=date(YEAR, 10, 30))),
    Example("GO-6.2", "minutes-missing", where=(at_session(f"AG-JG-{YEAR}-2", "minutes_sent"),)),
    Example("GO-6.2", "cancelled-meeting-needs-none", set_(S(f"AG-JG-{YEAR}-2"), status="abgesagt")),
    Example("GO-6.3", "limited-group-within-its-time"),
    Example("GO-6.3", "limited-group-past-its-end", set_(GROUP("AG-JG"), limited_until=date(YEAR, 10, 31)),
            (At("Arbeitsgruppen", {"id": "AG-JG"}, "status"),)),
    Example("GO-6.3", "ended-group-closed", set_(GROUP("AG-JG"), limited_until=date(YEAR, 10, 31), status="beendet")),
    Example("GO-6.3", "limited-group-without-end", set_(GROUP("AG-JG"), limited_until=None),
            (At("Arbeitsgruppen", {"id": "AG-JG"}, "limited_until"),)),
    # § 7 sessions
    Example("GO-7.1", "four-sessions"),
    Example("GO-7.1", "next-year-partly-planned", lambda d: add_session(d, f"KPR-{YEAR + 1}-1", date(YEAR + 1, 3, 10),
                                                                        status="geplant")),
    Example("GO-7.1", "one-cancelled", set_(S(KPR2), status="abgesagt"), (at_session(KPR4, "date"),)),
    Example("GO-7.1", "a-fifth", lambda d: add_session(d, f"KPR-{YEAR}-5", date(YEAR, 12, 16), status="geplant"),
            (at_session(f"KPR-{YEAR}-5", "date"),)),
    Example("GO-7.1", "earlier-year-and-a-gap", lambda d: add_session(d, f"KPR-{YEAR - 2}-4", date(YEAR - 2, 12, 9)),
            (at_session(f"KPR-{YEAR - 2}-4", "date"), At("Sitzungen"))),
    Example("GO-7.2", "late-item-admitted", set_(TOP(KPR4, "7"), admitted=True), stichtag=date(YEAR, 11, 29)),
    Example("GO-7.2", "late-item-not-admitted", where=(at_item(KPR4, "7", "admitted"),), stichtag=date(YEAR, 11, 29)),
    Example("GO-7.2", "submitted-on-the-deadline", set_(TOP(KPR4, "7"), submitted_on=date(YEAR, 11, 18)),
            stichtag=date(YEAR, 11, 29)),
    Example("GO-7.3", "members-submit"),
    Example("GO-7.3", "guest-and-future-member-submit",
            chain(set_(TOP(KPR4, "4"), submitter="P33"), set_(P("P15"), active_from=date(YEAR, 11, 1)),
                  set_(TOP(KPR3, "5"), submitter="P15")),
            (at_item(KPR4, "4", "submitter"), at_item(KPR3, "5", "submitter"))),
    Example("GO-7.4", "invitations-sent-and-next-not-due-yet", stichtag=date(YEAR, 11, 17)),
    Example("GO-7.4", "invitation-due-within-look-ahead", where=(at_session(KPR4, "invitation_sent"),), severity=W),
    Example("GO-7.4", "invitation-sent-late", set_(S(KPR2), invitation_sent=date(YEAR, 5, 28)),
            (at_session(KPR2, "invitation_sent"),), stichtag=date(YEAR, 11, 17), severity=F),
    Example("GO-7.4", "invitation-overdue", set_(S(KPR4), invitation_sent=None, status="geplant"),
            (at_session(KPR4, "invitation_sent"),), stichtag=date(YEAR, 11, 26), severity=F),
    Example("GO-7.4", "cancelled-session-needs-no-invitation",
            set_(S(KPR4), invitation_sent=None, status="abgesagt"), stichtag=date(YEAR, 11, 26)),
    Example("GO-7.5", "everyone-has-an-address"),
    Example("GO-7.5", "member-deputy-and-guest-without-address",
            chain(set_(P("P05"), email=None), set_(P("P25"), email=None), set_(P("P31"), email=None)),
            (at_person("P05", "email"), at_person("P25", "email"), at_person("P31", "email"))),
    Example("GO-7.5", "deputies-not-invited-and-guest-not-listed",
            chain(lambda d: setting(d, "deputy_mode").update(value="nein"), set_(P("P25"), email=None),
                  set_(P("P35"), email=None))),
    Example("GO-7.6", "minutes-in-time", set_(S(KPR3), minutes_sent=date(YEAR, 9, 23))),
    Example("GO-7.6", "minutes-sent-late", where=(at_session(KPR3, "minutes_sent"),), severity=F),
    Example("GO-7.6", "minutes-due-within-look-ahead", set_(S(KPR2), minutes_sent=None),
            (at_session(KPR2, "minutes_sent"),), stichtag=date(YEAR, 6, 20), severity=W),
    Example("GO-7.6", "minutes-overdue",
            chain(set_(S(KPR3), minutes_sent=date(YEAR, 9, 23)), set_(S(KPR1), minutes_sent=None)),
            (at_session(KPR1, "minutes_sent"),), severity=F),
    Example("GO-7.7", "public-session-with-decision"),
    Example("GO-7.7", "public-session-without-decision", set_(S(KPR3), public_basis=""),
            (at_session(KPR3, "public_basis"),)),
    # § 8 confidentiality
    Example("GO-8.1", "guest-on-open-item-and-members-get-minutes",
            chain(set_(TOP(KPR4, "3"), guests="P05"),
                  lambda d: send_row(d, "k1", KPR2, "Niederschrift", recipient="P05"),
                  lambda d: send_row(d, "k2", KPR2, "Einladung", recipient="P33"),
                  lambda d: send_row(d, "k3", KPR2, "Niederschrift", recipient="P33", state="fehlgeschlagen"),
                  set_(TOP(KPR2, "3"), guests="P32"))),
    Example("GO-8.1", "guest-on-confidential-item", set_(TOP(KPR4, "3"), guests="P32"),
            (at_item(KPR4, "3", "guests"),)),
    Example("GO-8.1", "minutes-and-confidential-document-sent-outside",
            chain(lambda d: send_row(d, "k1", KPR2, "Niederschrift", recipient="P33"),
                  lambda d: send_row(d, "k2", KPR2, "Lagebild_Innenstadt.pdf", email="presse@zeitung.example")),
            (At("Versand", {"key": "k1"}, "recipient"), At("Versand", {"key": "k2"}, "recipient"))),
    Example("GO-8.2", "documents-carry-the-notice",
            documents=(DocumentText(KPR4, "Einladung", "Tagesordnung ... " + NOTICE),
                       DocumentText(KPR3, "Niederschrift", "Niederschrift ... " + NOTICE))),
    Example("GO-8.2", "public-session-without-confidential-items-needs-none",
            set_(TOP(KPR3, "3"), confidential=False),
            documents=(DocumentText(KPR3, "Einladung", "Öffentliche Sitzung, Tagesordnung ..."),)),
    Example("GO-8.2", "notice-missing",
            where=(at_session(KPR4, "public"), at_session(KPR3, "public")),
            documents=(DocumentText(KPR4, "Einladung", "Tagesordnung: TOP 3 Lagebild ..."),
                       DocumentText(KPR3, "Niederschrift", "Öffentliche Sitzung mit TOP 3 (vertraulich) ..."))),
)
