"""What every rule shares: the rule record, what a check yields, and the context it reads."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from kpr_excel.domain import schema
from kpr_excel.domain.deadlines import Deadline, State, last_working_day
from kpr_excel.domain.findings import FAMILY_RULES, Code, Finding, Location, Severity
from kpr_excel.domain.model import AgendaItem, Model, Person, Session, Settings
from kpr_excel.domain.values import german_date


@dataclass(frozen=True)
class DocumentText:
    """The text of a rendered document, for checks on documents (GO-8.2); given by the caller."""

    session_id: str
    document: str  # "Einladung", "Niederschrift", ...
    text: str
    location: Location | None = None  # the file, where the caller wants it named


@dataclass(frozen=True)
class Issue:
    """What a check reports; the rule adds its code, symbol, paragraph and default severity."""

    message: str
    location: Location | None
    severity: Severity | None = None  # None: the rule's severity
    deadline: date | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class Context:
    """The model and the reference date, with the lookups several rules share (built once)."""

    model: Model
    stichtag: date
    documents: tuple[DocumentText, ...] = ()

    @property
    def settings(self) -> Settings:
        return self.model.settings

    @cached_property
    def members_today(self) -> tuple[Person, ...]:
        """Members and deputies active on the reference date."""
        return self.model.active_members(self.stichtag)

    @cached_property
    def seat_holders(self) -> dict[str, tuple[Person, ...]]:
        """Seat id -> the members holding it on the reference date, in roster order."""
        holders: dict[str, list[Person]] = defaultdict(list)
        for person in self.members_today:
            if person.seat:
                holders[person.seat].append(person)
        return {seat: tuple(people) for seat, people in holders.items()}

    @cached_property
    def agenda(self) -> dict[str, tuple[AgendaItem, ...]]:
        by_session: dict[str, list[AgendaItem]] = defaultdict(list)
        for item in self.model.agenda:
            by_session[item.session].append(item)
        return {session: tuple(items) for session, items in by_session.items()}

    @cached_property
    def kpr_sessions(self) -> tuple[Session, ...]:
        """Sessions of the KPR itself, not cancelled, by date."""
        return tuple(sorted((s for s in self.model.sessions
                             if s.gremium == schema.GREMIUM_KPR and not s.cancelled), key=lambda s: s.date))

    def chair_ids(self, day: date) -> frozenset[str]:
        return frozenset(p.id for p in self.model.chairs(day))

    def took_place(self, session: Session) -> bool:
        """Held as recorded, or its day has passed without it being cancelled."""
        return session.held or (not session.cancelled and session.date < self.stichtag)

    def state(self, deadline: Deadline) -> State:
        return deadline.state(self.stichtag, self.settings.lookahead_days)


Check = Callable[[Context], Iterable[Issue]]


@dataclass(frozen=True)
class Rule:
    """One check of RULES.md: stable code and symbol, severity, the paragraph it enforces."""

    code: str
    symbol: str
    severity: Severity  # the worst it reports
    paragraph: str  # "§ 7"
    description: str  # German, for `kpr regeln` and the documentation
    check: Check
    quote: str = ""  # the words of the paragraph it enforces
    # A deadline rule reports a deadline that has not passed yet with this lesser severity.
    early_severity: Severity | None = None

    @property
    def severity_label(self) -> str:
        if self.early_severity is None:
            return self.severity.label
        return f"{self.severity.label} / {self.early_severity.label}"

    @property
    def info(self) -> Code:
        """This rule as an entry of the registry of every finding code."""
        severities = (self.severity,) if self.early_severity is None else (self.severity, self.early_severity)
        return Code(self.code, self.symbol, severities, self.description, FAMILY_RULES, self.paragraph, self.quote)

    def finding(self, issue: Issue) -> Finding:
        return Finding(
            self.code, issue.severity or self.severity, issue.message, issue.location,
            symbol=self.symbol, paragraph=self.paragraph, deadline=issue.deadline,
            act_by=last_working_day(issue.deadline) if issue.deadline else None,
            session_id=issue.session_id,
        )

    def run(self, context: Context) -> list[Finding]:
        """The rule's findings; a rule that crashes reports that as a finding of its own."""
        found: list[Finding] = []
        try:
            for issue in self.check(context):
                found.append(self.finding(issue))
        except Exception as exc:  # a bug in a rule must not stop the other rules
            found.append(Finding(
                self.code, Severity.FEHLER,
                f"Die Regel „{self.symbol}“ konnte nicht vollständig geprüft werden (interner Fehler "
                f"{type(exc).__name__}). Bitte dem IT-Support melden; die übrigen Regeln wurden geprüft.",
                None, symbol=self.symbol, paragraph=self.paragraph,
                extra=(("fehler", f"{type(exc).__name__}: {exc}"),)))
        return found


def session_label(session: Session) -> str:
    """'KPR-2026-4 am 09.12.2026', as messages name a session."""
    return f"{session.id} am {german_date(session.date)}"


def person_label(person: Person) -> str:
    return f"{person.name} ({person.id})"


def deadline_issue(deadline: Deadline, state: State, session: Session, what: str, column: str,
                   late_severity: Severity | None = Severity.FEHLER) -> Issue | None:
    """The finding of a send deadline of `session` (GO-7.4, GO-7.6, GO-6.2), or None where all is well.

    `what` names the document in German ('Die Einladung'); `column` is where its date goes;
    `late_severity` None means the rule's own severity.
    """
    due, act_by = german_date(deadline.due), german_date(deadline.act_by)
    spaet = f" (spätestens am {act_by})" if deadline.act_by != deadline.due else ""
    if state is State.LATE:
        assert deadline.done_on is not None  # LATE means done, on that day
        days = (deadline.done_on - deadline.due).days
        message = (f"{what} zur Sitzung {session_label(session)} wurde am {german_date(deadline.done_on)} "
                   f"versandt, {days} Tag{'e' if days != 1 else ''} nach der Frist ({due}).")
        severity = late_severity
    elif state is State.OVERDUE:
        message = (f"{what} zur Sitzung {session_label(session)} ist überfällig: Frist war der {due}; "
                   "ein Versanddatum ist nicht eingetragen.")
        severity = late_severity
    elif state is State.DUE_SOON:
        message = f"{what} zur Sitzung {session_label(session)} ist bis zum {due}{spaet} zu versenden."
        severity = Severity.WARNUNG
    else:
        return None
    return Issue(message, session.src.at(column), severity, deadline.due, session.id)
