"""Commands about the rules of procedure: fristen (deadlines) and regeln (the list of checks)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from kpr_excel.cli.common import (
    add_command,
    datei_argument,
    json_option,
    print_findings,
    print_json,
    say,
    stichtag_option,
    stichtag_or_today,
)
from kpr_excel.domain.values import WEEKDAYS, german_date

if TYPE_CHECKING:  # the model behind deadlines costs a start that only wants --hilfe
    from kpr_excel.domain.deadlines import Deadline


def register(commands) -> None:
    parser = add_command(commands, "fristen", fristen)
    datei_argument(parser)
    json_option(parser, "Ergebnis als JSON ausgeben: Datei, Stichtag, Anzahl offen und überfällig, Fristen.")
    stichtag_option(parser)

    parser = add_command(commands, "regeln", regeln)
    json_option(parser, "Ergebnis als JSON ausgeben: Anzahl und alle Prüfungen.")


def fristen(datei: Path, als_json: bool = False, stichtag: date | None = None) -> int:
    """Die anstehenden und überfälligen Fristen aller Sitzungen (§ 7), mit „spätestens“-Datum.

    Exit-Code 0: nichts überfällig; 1: eine Frist ist überfällig; 2: Datei nicht verwendbar.
    """
    from kpr_excel.book.loader import load_file
    from kpr_excel.domain.deadlines import open_deadlines

    stichtag = stichtag_or_today(stichtag)
    loaded = load_file(datei)
    if loaded.unusable:
        if als_json:
            print_json({"file": str(datei), "stichtag": stichtag.isoformat(), "exit_code": 2,
                        "error": "Die Mappe ist nicht verwendbar.",
                        "findings": [f.as_dict() for f in loaded.findings]})
        else:
            print_findings(loaded.findings, datei.name)
        return 2
    model = loaded.model
    deadlines = open_deadlines(model, stichtag)
    overdue = sum(1 for d in deadlines if d.due < stichtag)
    code = 1 if overdue else 0
    if als_json:
        print_json({"file": str(datei), "stichtag": stichtag.isoformat(), "exit_code": code,
                    "counts": {"open": len(deadlines), "overdue": overdue},
                    "deadlines": [_as_dict(d, model, stichtag) for d in deadlines]})
    else:
        _print_deadlines(deadlines, model, stichtag, datei.name)
    return code


def _as_dict(deadline: Deadline, model, stichtag: date) -> dict:
    session = model.session(deadline.session_id)
    return {
        "session": deadline.session_id,
        "gremium": session.gremium,
        "session_date": session.date.isoformat(),
        "kind": deadline.kind,
        "deadline": deadline.due.isoformat(),
        "act_by": deadline.act_by.isoformat(),
        "days_left": (deadline.due - stichtag).days,
        "overdue": deadline.due < stichtag,
    }


def _when(deadline: Deadline, stichtag: date) -> str:
    days = (deadline.due - stichtag).days
    if days < 0:
        return f"seit {-days} Tag{'en' if days != -1 else ''} überfällig"
    if days == 0:
        return "heute"
    return "morgen" if days == 1 else f"in {days} Tagen"


def _print_deadlines(deadlines, model, stichtag: date, filename: str) -> None:
    say(f"Fristen in {filename} zum Stichtag {german_date(stichtag)}")
    groups = (("Überfällig", [d for d in deadlines if d.due < stichtag]),
              ("Anstehend", [d for d in deadlines if d.due >= stichtag]))
    for heading, group in groups:
        if not group:
            continue
        say(f"\n{heading} ({len(group)})")
        for d in group:
            session = model.session(d.session_id)
            act_by = (f", spätestens {WEEKDAYS[d.act_by.weekday()][:2]} {german_date(d.act_by)}"
                      if d.act_by != d.due else "")
            say(f"  {german_date(d.due)} {d.kind} {session.id} (Sitzung am {german_date(session.date)})"
                f"{act_by}: {_when(d, stichtag)}")
    if not deadlines:
        say("Keine offenen Fristen.")


def regeln(als_json: bool = False) -> int:
    """Alle Prüfungen mit Code, Name, Schweregrad und Paragraph: Geschäftsordnung, Mappe, Vorlagen, Add-in.

    Exit-Code 0.
    """
    from kpr_excel.app.codes import CODES

    if als_json:
        families: dict[str, int] = {}
        for c in CODES:
            families[c.family] = families.get(c.family, 0) + 1
        print_json({"counts": {"total": len(CODES), **families}, "codes": [c.as_dict() for c in CODES]})
        return 0
    family = None
    for c in CODES:
        if c.family != family:
            family = c.family
            say(f"\n{family}" if c is not CODES[0] else family)
        where = ", ".join(part for part in (c.severity_label, c.paragraph) if part)
        quote = f" „{c.quote}“" if c.quote else ""
        say(f"{c.code} {c.symbol} ({where}{quote})")
        say(f"    {c.description}")
    return 0
