"""§§ 3, 4 and 7: sessions, their agenda, invitations and minutes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta

from kpr_excel.domain import schema
from kpr_excel.domain.audience import audience
from kpr_excel.domain.deadlines import (
    AGENDA,
    INVITATION,
    MINUTES,
    has_deadlines,
    session_deadline,
)
from kpr_excel.domain.findings import Location
from kpr_excel.domain.values import german_date
from kpr_excel.rules.base import (
    Context,
    Issue,
    deadline_issue,
    person_label,
    session_label,
)


def session_chair(ctx: Context) -> Iterator[Issue]:
    """GO-3.2: whoever is named as leading a KPR session is one of the chairs on its date."""
    for session in ctx.kpr_sessions:
        person = ctx.model.person(session.chair)
        if person is None:
            continue  # empty, or an unknown id (DATA-4)
        if person.id not in ctx.chair_ids(session.date):
            yield Issue(f"Die Sitzung {session_label(session)} soll {person_label(person)} leiten; die Leitung der "
                        "Sitzungen obliegt den Vorsitzenden (§ 3).", session.src.at("chair"),
                        session_id=session.id)


def sessions_prepared(ctx: Context) -> Iterator[Issue]:
    """GO-4.2: before its invitation deadline a KPR session has had a Jour fixe, and focus topics.

    Only sessions whose invitation deadline is reached within the look-ahead are checked: the
    Jour fixe of a session months ahead need not be planned yet.
    """
    jour_fixe = sorted((s for s in ctx.model.sessions if s.gremium == schema.GREMIUM_JF and not s.cancelled),
                       key=lambda s: s.date)
    horizon = ctx.stichtag + timedelta(days=ctx.settings.lookahead_days)
    previous = date.min
    for session in ctx.kpr_sessions:
        invitation = session_deadline(session, ctx.settings, INVITATION)
        since, previous = previous, session.date
        if invitation.due > horizon:
            continue
        meetings = [j for j in jour_fixe if since < j.date <= invitation.due]
        if not meetings:
            yield Issue(f"Vor der Einladungsfrist ({german_date(invitation.due)}) der Sitzung {session_label(session)} "
                        "ist kein Jour fixe eingetragen, der sie vorbereitet.", session.src.at("date"),
                        deadline=invitation.due, session_id=session.id)
        if not session.focus and not any(j.focus for j in meetings):
            yield Issue(f"Für die Sitzung {session_label(session)} sind keine inhaltlichen Schwerpunkte eingetragen.",
                        session.src.at("focus"), deadline=invitation.due, session_id=session.id)


def sessions_per_year(ctx: Context) -> Iterator[Issue]:
    """GO-7.1: each calendar year up to the reference year has the usual number of KPR sessions."""
    wanted = ctx.settings.sessions_per_year
    by_year = defaultdict(list)
    for session in ctx.kpr_sessions:
        by_year[session.date.year].append(session)
    years = range(min(by_year, default=ctx.stichtag.year), ctx.stichtag.year + 1)
    for year in years:
        sessions = by_year.get(year, [])
        if len(sessions) == wanted:
            continue
        if len(sessions) > wanted:
            where = sessions[wanted].src.at("date")
        elif sessions:
            where = sessions[-1].src.at("date")
        else:
            where = Location(schema.SITZUNGEN.name)
        yield Issue(f"Für {year} sind {len(sessions)} Sitzungen des KPR eingetragen (durchgeführt oder geplant); "
                    f"in der Regel tagt er {wanted}-mal im Jahr.", where)


def late_items_admitted(ctx: Context) -> Iterator[Issue]:
    """GO-7.2: an agenda item submitted after the submission deadline is admitted by the chairs."""
    for session in ctx.kpr_sessions:
        due = session_deadline(session, ctx.settings, AGENDA)
        for item in ctx.agenda.get(session.id, ()):
            if item.submitter and item.submitted_on and item.submitted_on > due.due and item.admitted is not True:
                yield Issue(f"TOP {item.number} „{item.title}“ wurde am {german_date(item.submitted_on)} angemeldet, "
                            f"nach der Frist ({german_date(due.due)}), und ist von den Vorsitzenden nicht als "
                            "zugelassen vermerkt.", item.src.at("admitted"), deadline=due.due, session_id=session.id)


def submitters_are_members(ctx: Context) -> Iterator[Issue]:
    """GO-7.3: whoever submits an agenda item of a KPR session is a member on that day."""
    for session in ctx.kpr_sessions:
        for item in ctx.agenda.get(session.id, ()):
            person = ctx.model.person(item.submitter)
            if person is None:
                continue  # submitted by the office, or an unknown id (DATA-4)
            day = item.submitted_on or session.date
            if not (person.is_member and person.active_on(day)):
                yield Issue(f"TOP {item.number} „{item.title}“ hat {person_label(person)} eingebracht, am "
                            f"{german_date(day)} kein Mitglied des KPR; Tagesordnungspunkte bringen die "
                            "Mitglieder ein.", item.src.at("submitter"), session_id=session.id)


def invitation_in_time(ctx: Context) -> Iterator[Issue]:
    """GO-7.4: the invitation is sent by the deadline (Warnung while due, Fehler when late)."""
    for session in ctx.model.sessions:
        if not has_deadlines(session):
            continue
        deadline = session_deadline(session, ctx.settings, INVITATION)
        issue = deadline_issue(deadline, ctx.state(deadline), session, "Die Einladung", "invitation_sent")
        if issue is not None:
            yield issue


def minutes_in_time(ctx: Context) -> Iterator[Issue]:
    """GO-7.6: the minutes of a session that took place are sent by the deadline."""
    for session in ctx.model.sessions:
        if not has_deadlines(session) or not ctx.took_place(session):
            continue
        deadline = session_deadline(session, ctx.settings, MINUTES)
        issue = deadline_issue(deadline, ctx.state(deadline), session, "Die Niederschrift", "minutes_sent")
        if issue is not None:
            yield issue


def invitees_reachable(ctx: Context) -> Iterator[Issue]:
    """GO-7.5: everyone the next invitations go to has a valid e-mail address.

    Who is invited is the audience's decision (members, deputies as the setting says,
    topic guests); each person is reported once, with the first session concerned.
    """
    reported: set[str] = set()
    upcoming = sorted((s for s in ctx.model.sessions
                       if not s.cancelled and s.invitation_sent is None and s.date >= ctx.stichtag),
                      key=lambda s: s.date)
    for session in upcoming:
        for person in audience(ctx.model, session, guests=True).people:
            if person.email or person.id in reported:
                continue
            reported.add(person.id)
            yield Issue(f"{person_label(person)} hat keine gültige E-Mail-Adresse, soll aber zur Sitzung "
                        f"{session_label(session)} elektronisch eingeladen werden.", person.src.at("email"),
                        session_id=session.id)


def public_has_basis(ctx: Context) -> Iterator[Issue]:
    """GO-7.7: a session marked public names the decision that made it public."""
    for session in ctx.model.sessions:
        if session.public and not session.cancelled and not session.public_basis:
            yield Issue(f"Die Sitzung {session_label(session)} ist als öffentlich markiert, aber der Beschluss, der "
                        "sie öffentlich macht, ist nicht eingetragen; Sitzungen sind sonst nicht öffentlich.",
                        session.src.at("public_basis"), session_id=session.id)
