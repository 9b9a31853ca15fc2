"""What every command shares: the console, parsing of dates, and turning errors into exit codes."""

from __future__ import annotations

import functools
import sys
from datetime import date

import typer
from rich.console import Console
from rich.markup import escape

from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Severity, worst
from kpr_excel.domain.values import parse_date

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

EXIT_INTERNAL = 3
SEVERITY_STYLE = {Severity.FEHLER: "bold red", Severity.WARNUNG: "yellow", Severity.HINWEIS: "cyan"}


def print_findings(findings, filename: str = "") -> None:
    """Findings grouped by severity, each with its place, then a one-line summary (all commands)."""
    from kpr_excel.app import report

    for severity, group in report.grouped(findings):
        console.print(f"\n[{SEVERITY_STYLE[severity]}]{report.HEADINGS[severity]} ({len(group)})[/]")
        for finding in group:
            say("  " + finding.format(filename))
    console.print("\n" + report.summary(findings))


def exit_code(findings) -> int:
    """1 where a finding is at error level, else 0."""
    return 1 if worst(findings) == Severity.FEHLER else 0


def say(line: str) -> None:
    """Print one line of German output as it is: no markup, no wrapping inside paths."""
    console.print(line, markup=False, soft_wrap=True, highlight=False)


def stichtag_option(value: str | None) -> date:
    if not value:
        return date.today()
    try:
        return parse_date(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{exc}.") from None


STICHTAG = typer.Option(None, "--stichtag", help="Stichtag TT.MM.JJJJ (Standard: heute).",
                        callback=stichtag_option, show_default=False)


def guarded(command):
    """Run a command so that a person never sees a traceback: German message, exit code."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except KprError as exc:
            # Escaped: a path or server reply with "[x]" would vanish, "[/x]" would crash.
            err_console.print(f"[bold red]Fehler:[/] {escape(str(exc))}")
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err_console.print("Abgebrochen.")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug: say so plainly, keep the details for developers
            err_console.print(
                f"[bold red]Interner Fehler[/] ({type(exc).__name__}). Bitte der Geschäftsstelle "
                "bzw. dem IT-Support melden; mit KPR_DEBUG=1 werden Einzelheiten angezeigt.")
            if _debug():
                raise
            raise typer.Exit(EXIT_INTERNAL) from None

    return wrapper


def _debug() -> bool:
    import os

    return os.environ.get("KPR_DEBUG") == "1" or "--debug" in sys.argv
