"""Commands about the rules of procedure: fristen (deadlines) and regeln (the list of checks)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer
from rich.markup import escape

from kpr_excel.domain.deadlines import Deadline
from kpr_excel.domain.values import WEEKDAYS, german_date
from kpr_excel.cli.common import STICHTAG, console, guarded, print_findings, say


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
    from kpr_excel.domain.deadlines import open_deadlines
    from kpr_excel.book.loader import load_file

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
    """Alle Regeln der Geschäftsordnung, die geprüft werden: Code, Name, Schweregrad, Paragraph."""
    from kpr_excel.book.loader import DATA_CHECKS
    from kpr_excel.rules import RULES

    if als_json:
        print(json.dumps([
            {"code": r.code, "symbol": r.symbol, "severity": r.severity_label,
             "severities": [s.label for s in (r.severity, r.early_severity) if s is not None],
             "paragraph": r.paragraph, "quote": r.quote, "description": r.description}
            for r in RULES] + [
            {"code": code, "symbol": symbol, "severity": "Fehler", "severities": ["Fehler", "Hinweis"],
             "paragraph": "", "quote": "", "description": description}
            for code, symbol, description in DATA_CHECKS], ensure_ascii=False, indent=2))
        return
    for r in RULES:
        quote = f" „{r.quote}“" if r.quote else ""
        console.print(f"[bold]{r.code}[/] " + escape(f"{r.symbol} ({r.severity_label}, {r.paragraph}{quote})"),
                      soft_wrap=True)
        console.print(f"    {r.description}", soft_wrap=True, markup=False)
    console.print("\n[bold]Prüfungen der Mappe selbst[/] (vor den Regeln; nennen Blatt, Zeile und Spalte)")
    for code, symbol, description in DATA_CHECKS:
        console.print(f"[bold]{code}[/] {symbol}", soft_wrap=True)
        console.print(f"    {description}", soft_wrap=True, markup=False)
