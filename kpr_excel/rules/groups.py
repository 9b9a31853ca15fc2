"""§ 6: working groups, their results and their minutes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from kpr_excel.domain import schema
from kpr_excel.domain.deadlines import Deadline, State, add_months
from kpr_excel.domain.values import german_date
from kpr_excel.rules.base import Context, Issue, deadline_issue

# The results § 6 asks of a working group: attribute and how the message names it.
_RESULTS = (
    ("status_description", "keine Zustandsbeschreibung"),
    ("recommendations", "keine Handlungsempfehlungen"),
    ("goals", "kein messbares Ziel"),
)
_DUE = (State.OVERDUE, State.DUE_SOON)


def results_recorded(ctx: Context) -> Iterator[Issue]:
    """GO-6.1: an active group past its grace period has a status, recommendations and goals."""
    for group in ctx.model.working_groups:
        if not group.active or group.established is None:
            continue
        grace = Deadline(None, "Ergebnisse", add_months(group.established, ctx.settings.wg_grace_months))
        if ctx.state(grace) not in _DUE:
            continue
        for attr, label in _RESULTS:
            if not getattr(group, attr):
                yield Issue(f"Die Arbeitsgruppe „{group.theme}“ ({group.id}), eingerichtet am "
                            f"{german_date(group.established)}, hat noch {label} eingetragen "
                            f"(fällig nach {ctx.settings.wg_grace_months} Monaten, am {german_date(grace.due)}).",
                            group.src.at(attr), deadline=grace.due)


def minutes_kept(ctx: Context) -> Iterator[Issue]:
    """GO-6.2: every working-group meeting that took place has minutes.

    § 6 sets no deadline; the minutes deadline of § 7 says from when to remind.
    """
    for session in ctx.model.sessions:
        if session.gremium != schema.GREMIUM_AG or not ctx.took_place(session):
            continue
        deadline = Deadline(session.id, schema.DocumentKind.MINUTES,
                            session.date + timedelta(days=ctx.settings.minutes_days), session.minutes_sent)
        state = ctx.state(deadline)
        if state in _DUE:
            issue = deadline_issue(deadline, state, session, "Die Niederschrift", "minutes_sent",
                                   late_severity=None)
            if issue is not None:  # always, for an overdue or due deadline
                yield issue


def limited_groups_ended(ctx: Context) -> Iterator[Issue]:
    """GO-6.3: a time-limited group past its end date is no longer active."""
    for group in ctx.model.working_groups:
        if not group.active:
            continue
        if group.limited_until is not None and group.limited_until < ctx.stichtag:
            yield Issue(f"Die Arbeitsgruppe „{group.theme}“ ({group.id}) war bis {german_date(group.limited_until)} "
                        "befristet und ist noch als aktiv eingetragen.", group.src.at("status"),
                        deadline=group.limited_until)
        elif group.kind == "befristet" and group.limited_until is None:
            yield Issue(f"Die Arbeitsgruppe „{group.theme}“ ({group.id}) ist befristet, aber ohne Enddatum "
                        "eingetragen.", group.src.at("limited_until"))
