"""Commands about the rules of procedure: fristen (deadlines) and regeln (the list of checks)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from kpr_excel.cli.common import STICHTAG, console, guarded, print_findings, say
from kpr_excel.domain.deadlines import Deadline
from kpr_excel.domain.values import WEEKDAYS, german_date


def register(app: typer.Typer) -> None:
    app.command("fristen")(fristen)
    app.command("regeln")(regeln)


@guarded
def fristen(
    datei: Path = typer.Argument(..., help="Die Stammmappe (.xlsx)."),
    als_json: bool = typer.Option(False, "--json", help="Ergebnis als JSON ausgeben."),
    stichtag=STICHTAG,
):
    """Die anstehenden und überfälligen Fristen aller Sitzungen (§ 7), mit „spätestens“-Datum.

    Exit-Code 0: nichts überfällig; 1: eine Frist ist überfällig; 2: Datei nicht verwendbar.
    """
    from kpr_excel.book.loader import load_file
    from kpr_excel.domain.deadlines import open_deadlines

    loaded = load_file(datei)
    if loaded.unusable:
        print_findings(loaded.findings, datei.name)
        raise typer.Exit(2)
    model = loaded.model
    deadlines = open_deadlines(model, stichtag)
    if als_json:
        print(json.dumps([_as_dict(d, model, stichtag) for d in deadlines], ensure_ascii=False, indent=2))
    else:
        _print_deadlines(deadlines, model, stichtag, datei.name)
    raise typer.Exit(1 if any(d.due < stichtag for d in deadlines) else 0)


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
        console.print(f"\n[bold]{heading} ({len(group)})[/]")
        for d in group:
            session = model.session(d.session_id)
            act_by = (f", spätestens {WEEKDAYS[d.act_by.weekday()][:2]} {german_date(d.act_by)}"
                      if d.act_by != d.due else "")
            console.print(f"  {german_date(d.due)} {d.kind} {session.id} (Sitzung am {german_date(session.date)})"
                          f"{act_by}: {_when(d, stichtag)}", soft_wrap=True, markup=False)
    if not deadlines:
        console.print("Keine offenen Fristen.")


@guarded
def regeln(als_json: bool = typer.Option(False, "--json", help="Ergebnis als JSON ausgeben.")):
    """Alle Prüfungen mit Code, Name, Schweregrad und Paragraph: Geschäftsordnung, Mappe, Vorlagen, Add-in."""
    from kpr_excel.app.codes import CODES

    if als_json:
        print(json.dumps([c.as_dict() for c in CODES], ensure_ascii=False, indent=2))
        return
    family = None
    for c in CODES:
        if c.family != family:
            family = c.family
            console.print(f"\n[bold]{escape(family)}[/]" if c is not CODES[0] else f"[bold]{escape(family)}[/]")
        where = ", ".join(part for part in (c.severity_label, c.paragraph) if part)
        quote = f" „{c.quote}“" if c.quote else ""
        console.print(f"[bold]{c.code}[/] " + escape(f"{c.symbol} ({where}{quote})"), soft_wrap=True)
        console.print(f"    {c.description}", soft_wrap=True, markup=False)
