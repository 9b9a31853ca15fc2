"""The domain model: plain frozen values, each knowing the sheet and row it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property

from kpr_excel.domain import schema
from kpr_excel.domain.findings import Location

_Date = date  # inside Session the field `date` hides the type


@dataclass(frozen=True)
class Source:
    sheet: str
    row: int
    # (attribute, column letter) as found in the user's sheet; columns may have moved.
    columns: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)

    def at(self, key: str) -> Location:
        """Location of this row's cell for the model attribute `key`."""
        letter = dict(self.columns).get(key)
        if letter is None and self.sheet in schema.SHEETS_BY_NAME:
            letter = schema.SHEETS_BY_NAME[self.sheet].letter(key)
        return Location(self.sheet, self.row, letter)

    @property
    def location(self) -> Location:
        return Location(self.sheet, self.row)


@dataclass(frozen=True)
class Person:
    src: Source
    id: str
    first_name: str
    last_name: str
    category: str
    salutation: str = ""
    title: str = ""
    institution: str = ""
    function: str = ""
    seat: str | None = None
    fraktion: str | None = None
    deputy_of: str | None = None
    email: str | None = None
    active_from: date | None = None
    active_until: date | None = None
    remark: str = ""

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.title, self.first_name, self.last_name) if p)

    @property
    def is_member(self) -> bool:
        """Members and their deputies; topic guests are not members (§ 2 last sentence)."""
        return self.category in (schema.KATEGORIE_MITGLIED, schema.KATEGORIE_VERTRETUNG)

    def active_on(self, day: date) -> bool:
        return (self.active_from is None or self.active_from <= day) and (
            self.active_until is None or day <= self.active_until
        )

    @property
    def letter_salutation(self) -> str:
        """'Sehr geehrte Frau Dr. Müller,' as the roster spells the person."""
        family = " ".join(p for p in (self.title, self.last_name) if p)
        if self.salutation == "Frau":
            return f"Sehr geehrte Frau {family},"
        if self.salutation == "Herr":
            return f"Sehr geehrter Herr {family},"
        return f"Guten Tag {self.first_name} {self.last_name},"


@dataclass(frozen=True)
class Seat:
    src: Source
    id: str
    name: str
    in_kpr: bool = True
    in_jour_fixe: bool = False
    chair: bool = False
    per_fraktion: bool = False
    paragraph: str = ""


@dataclass(frozen=True)
class Fraktion:
    src: Source
    id: str
    name: str


@dataclass(frozen=True)
class Session:
    src: Source
    id: str
    gremium: str
    date: date
    working_group: str | None = None
    number: int | None = None
    start: time | None = None
    end: time | None = None
    place: str = ""
    public: bool = False
    public_basis: str = ""
    chair: str | None = None
    minute_taker: str | None = None
    focus: str = ""
    status: str = schema.STATUS_GEPLANT
    invitation_sent: _Date | None = None
    minutes_sent: _Date | None = None
    reply_by: _Date | None = None
    remark: str = ""

    @property
    def cancelled(self) -> bool:
        return self.status == schema.STATUS_ABGESAGT

    @property
    def held(self) -> bool:
        return self.status == schema.STATUS_DURCHGEFUEHRT


@dataclass(frozen=True)
class AgendaItem:
    src: Source
    session: str
    number: str
    title: str
    submitter: str | None = None
    submitted_on: date | None = None
    admitted: bool | None = None
    presenter: str = ""
    confidential: bool = False
    guests: tuple[str, ...] = ()
    documents: str = ""
    result: str = ""

    @property
    def document_list(self) -> tuple[str, ...]:
        return tuple(d.strip() for d in self.documents.replace("\n", ";").split(";") if d.strip())


@dataclass(frozen=True)
class Attendance:
    src: Source
    session: str
    person: str
    status: str
    deputy: str | None = None
    remark: str = ""


@dataclass(frozen=True)
class Decision:
    src: Source
    id: str
    session: str
    kind: str
    text: str
    item: str = ""
    owner: str = ""
    due: date | None = None
    state: str = ""


@dataclass(frozen=True)
class WorkingGroup:
    src: Source
    id: str
    theme: str
    kind: str = ""
    established: date | None = None
    limited_until: date | None = None
    lead: str | None = None
    members: tuple[str, ...] = ()
    status_description: str = ""
    recommendations: str = ""
    goals: str = ""
    status: str = "aktiv"

    @property
    def active(self) -> bool:
        return self.status != "beendet"


@dataclass(frozen=True)
class Project:
    src: Source
    id: str
    title: str
    year: int
    owner: str = ""
    working_group: str | None = None
    description: str = ""
    state: str = ""


@dataclass(frozen=True)
class SendLogEntry:
    src: Source
    key: str
    session: str
    document: str
    recipient: str = ""
    email: str = ""
    version: str = ""
    transport: str = ""
    state: str = ""
    timestamp: datetime | None = None
    checksum: str = ""
    error: str = ""


_default = schema.setting_default


@dataclass(frozen=True)
class Settings:
    """Parameters from the Einstellungen sheet, defaults from `schema.SETTINGS`."""

    agenda_days: int = _default("agenda_days")
    invitation_days: int = _default("invitation_days")
    minutes_days: int = _default("minutes_days")
    lookahead_days: int = _default("lookahead_days")
    sessions_per_year: int = _default("sessions_per_year")
    wg_grace_months: int = _default("wg_grace_months")
    report_due: str = _default("report_due")
    reply_days: int = _default("reply_days")
    deputy_mode: str = _default("deputy_mode")
    city: str = _default("city")
    council: str = _default("council")
    office_name: str = _default("office_name")
    office_address: str = _default("office_address")
    office_phone: str = _default("office_phone")
    sender: str = _default("sender")
    reply_to: str = _default("reply_to")
    output_dir: str = _default("output_dir")
    transport: str = _default("transport")
    smtp_host: str = _default("smtp_host")
    smtp_port: int = _default("smtp_port")
    smtp_user: str = _default("smtp_user")
    ews_url: str = _default("ews_url")
    mailbox: str = _default("mailbox")
    exchange_user: str = _default("exchange_user")
    exchange_auth: str = _default("exchange_auth")
    chunk_size: int = _default("chunk_size")
    ca_bundle: str = _default("ca_bundle")
    # Where each setting stands in the sheet, for findings about it.
    rows: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    def location(self, key: str) -> Location:
        row = dict(self.rows).get(key)
        return Location(schema.EINSTELLUNGEN.name, row, "B" if row else None)


@dataclass(frozen=True)
class Model:
    """Everything the loader read from one workbook."""

    persons: tuple[Person, ...] = ()
    seats: tuple[Seat, ...] = ()
    fraktionen: tuple[Fraktion, ...] = ()
    sessions: tuple[Session, ...] = ()
    agenda: tuple[AgendaItem, ...] = ()
    attendance: tuple[Attendance, ...] = ()
    decisions: tuple[Decision, ...] = ()
    working_groups: tuple[WorkingGroup, ...] = ()
    projects: tuple[Project, ...] = ()
    send_log: tuple[SendLogEntry, ...] = ()
    settings: Settings = field(default_factory=Settings)

    def person(self, person_id: str | None) -> Person | None:
        return self._persons_by_id.get(person_id) if person_id else None

    def session(self, session_id: str) -> Session | None:
        return self._sessions_by_id.get(session_id)

    def agenda_of(self, session_id: str) -> tuple[AgendaItem, ...]:
        return tuple(item for item in self.agenda if item.session == session_id)

    def attendance_of(self, session_id: str) -> tuple[Attendance, ...]:
        return tuple(a for a in self.attendance if a.session == session_id)

    def decisions_of(self, session_id: str) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if d.session == session_id)

    def working_group(self, group_id: str | None) -> WorkingGroup | None:
        return next((g for g in self.working_groups if g.id == group_id), None)

    def active_members(self, day: date) -> tuple[Person, ...]:
        return tuple(p for p in self.persons if p.is_member and p.active_on(day))

    def chairs(self, day: date) -> tuple[Person, ...]:
        chair_seats = {s.id for s in self.seats if s.chair}
        return tuple(p for p in self.active_members(day) if p.seat in chair_seats)

    @cached_property
    def _persons_by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.persons}

    @cached_property
    def _sessions_by_id(self) -> dict[str, Session]:
        return {s.id: s for s in self.sessions}


def record_problems(sheets: tuple[schema.Sheet, ...] = schema.SHEETS) -> list[str]:
    """Where the schema and the model disagree: a column that fills no field, a field no column fills.

    The schema declares each sheet's columns and the `Model` field its rows fill; the loader
    derives everything else from that. This check (run by the tests) keeps the two honest, so
    that a column added to the schema alone cannot be read and silently thrown away.
    """
    import typing
    from dataclasses import fields

    hints = typing.get_type_hints(Model)
    problems: list[str] = []
    filled: dict[str, str] = {}
    for sheet in sheets:
        if sheet.records is None:
            continue
        if sheet.records not in hints:
            problems.append(f"{sheet.name}: Model has no field {sheet.records!r}")
            continue
        if sheet.records in filled:
            problems.append(f"{sheet.name}: Model.{sheet.records} is filled by {filled[sheet.records]} already")
        filled[sheet.records] = sheet.name
        record = typing.get_args(hints[sheet.records])[0]
        names = {f.name for f in fields(record)} - {"src"}
        keys = {c.key for c in sheet.columns if c.kind is not schema.Kind.FORMULA}
        problems += [f"{sheet.name}: column {k!r} fills no field of {record.__name__}" for k in sorted(keys - names)]
        problems += [f"{sheet.name}: field {record.__name__}.{n} has no column" for n in sorted(names - keys)]
    problems += [f"Model.{name} is filled by no sheet" for name in hints if name not in filled and name != "settings"]
    return problems
