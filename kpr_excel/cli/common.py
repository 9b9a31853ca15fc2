"""What every command shares: the German argument parser, output, dates, and errors as exit codes.

The parser is argparse from the standard library, not typer or click: typer pulled in pydantic and
cost about 0.18 s at every start (every `kpr` call and every button starts Python anew), and
neither spoke German without patching. argparse's own English texts reach a person in three
places only, and each is replaced here: the help layout (`GermanHelpFormatter`, `-h/--hilfe`),
the usage line, and the few parse errors (`GermanParser.error` translates them).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from kpr_excel.domain.errors import KprError, translate_environment_faults
from kpr_excel.domain.findings import Severity, worst
from kpr_excel.domain.values import parse_date

#: Exit codes of every command, documented in README and `kpr --hilfe`.
EXIT_OK = 0
EXIT_FINDINGS = 1  # errors found, something refused, or not everything done
EXIT_UNUSABLE = 2  # the file cannot be used, or the command line is wrong
EXIT_INTERNAL = 3  # a bug: an internal error
EXIT_ABORTED = 130  # Ctrl+C

EXIT_CODES_TEXT = (
    "Exit-Codes: 0 = in Ordnung; 1 = Fehler gefunden, abgelehnt oder nicht alles erledigt; "
    "2 = Datei nicht verwendbar oder Aufruf falsch; 3 = interner Fehler (bitte melden); "
    "130 = mit Strg+C abgebrochen."
)

HELP_TEXT = "Diese Hilfe anzeigen und beenden."

# -- output -------------------------------------------------------------------------------------


def say(line: str = "") -> None:
    """Print one line of German output as it is: no markup, never wrapped inside a path."""
    print(line, flush=True)


def warn(line: str) -> None:
    """A line for the person on stderr, so that stdout stays what the command produces."""
    print(line, file=sys.stderr, flush=True)


def print_findings(findings, filename: str = "") -> None:
    """Findings grouped by severity, each with its place, then a one-line summary (all commands)."""
    from kpr_excel.app import report

    for severity, group in report.grouped(findings):
        say(f"\n{report.HEADINGS[severity]} ({len(group)})")
        for finding in group:
            say("  " + finding.format(filename))
    say("\n" + report.summary(findings))


def exit_code(findings) -> int:
    """1 where a finding is at error level, else 0."""
    return EXIT_FINDINGS if worst(findings) == Severity.FEHLER else EXIT_OK


def counts(findings) -> dict[str, int]:
    """How many findings of each severity, keyed as `severity` is in the JSON ("Fehler", …)."""
    return {severity.label: sum(1 for f in findings if f.severity == severity)
            for severity in sorted(Severity, reverse=True)}


def print_json(value: Any) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=2), flush=True)


def prompt_password(text: str) -> str:
    """Ask for a password without echo; from a pipe (a script, a test) read one line instead."""
    if sys.stdin is not None and sys.stdin.isatty():
        import getpass

        return getpass.getpass(f"{text}: ")
    line = sys.stdin.readline() if sys.stdin is not None else ""
    if not line:
        raise KprError("Kein Kennwort eingegeben.")
    return line.rstrip("\r\n")


# -- dates --------------------------------------------------------------------------------------

_GERMAN_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(\d{2}|\d{4})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def date_argument(value: str) -> date:
    """A date typed on the command line: German (12.01.2026) or ISO (2026-01-12), nothing ambiguous.

    `12/01/2026` is 12 January in Germany and 1 December in the US; rather than guess, refuse it.
    """
    text = value.strip()
    slash = _SLASH_DATE.fullmatch(text)
    if slash:
        first, second, year = (int(part) for part in slash.groups())
        hint = f"{first:02}.{second:02}.{year} oder {year}-{second:02}-{first:02}"
        if first <= 12 and second <= 12 and first != second:
            raise argparse.ArgumentTypeError(
                f"„{value}“ ist mehrdeutig ({first}. {_month(second)} oder {second}. {_month(first)}?). "
                f"Bitte TT.MM.JJJJ oder JJJJ-MM-TT schreiben, z. B. {hint}")
        raise argparse.ArgumentTypeError(
            f"„{value}“: Datumsangaben mit Schrägstrich sind mehrdeutig. Bitte TT.MM.JJJJ oder JJJJ-MM-TT "
            f"schreiben, z. B. {hint}")
    if not (_GERMAN_DATE.fullmatch(text) or _ISO_DATE.fullmatch(text)):
        raise argparse.ArgumentTypeError(
            f"„{value}“ ist kein Datum (erwartet TT.MM.JJJJ wie 12.01.2026 oder JJJJ-MM-TT wie 2026-01-12)")
    try:
        return parse_date(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _month(number: int) -> str:
    from kpr_excel.domain.values import MONTHS

    return MONTHS[number - 1] if 1 <= number <= 12 else str(number)


def year_argument(value: str) -> int:
    try:
        year = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"„{value}“ ist kein Jahr (erwartet z. B. 2026)") from None
    if not 2000 <= year <= 2100:
        raise argparse.ArgumentTypeError(f"{year} liegt nicht zwischen 2000 und 2100")
    return year


# -- the parser ---------------------------------------------------------------------------------

# argparse's messages that can reach a person, by their English pattern (Python 3.10 to 3.13).
_ERRORS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"the following arguments are required: (.*)"),
     lambda m: f"Es fehlt: {m[1]}"),
    (re.compile(r"unrecognized arguments: (.*)"),
     lambda m: f"Unbekannt: {m[1]}"),
    (re.compile(r"argument (.+?): invalid choice: '?(.*?)'? \(choose from (.*)\)"),
     lambda m: f"„{m[2]}“ gibt es nicht; möglich: {m[3].replace(chr(39), '')}"),
    (re.compile(r"argument (.+?): expected one argument"),
     lambda m: f"Nach {m[1]} fehlt der Wert"),
    (re.compile(r"argument (.+?): expected at most one argument"),
     lambda m: f"{m[1]} nimmt höchstens einen Wert"),
    (re.compile(r"argument (.+?): expected at least one argument"),
     lambda m: f"Nach {m[1]} fehlt mindestens ein Wert"),
    (re.compile(r"argument (.+?): ignored explicit argument '?(.*?)'?"),
     lambda m: f"{m[1]} nimmt keinen Wert („{m[2]}“)"),
    (re.compile(r"argument (.+?): not allowed with argument (.+)"),
     lambda m: f"{m[1]} und {m[2]} schließen einander aus"),
    (re.compile(r"ambiguous option: (\S+) could match (.*)"),
     lambda m: f"{m[1]} ist nicht eindeutig; gemeint ist eine von: {m[2]}"),
    (re.compile(r"argument (.+?): invalid (\S+) value: '?(.*?)'?"),
     lambda m: f"{m[1]}: „{m[3]}“ ist kein gültiger Wert"),
    (re.compile(r"argument (.+?): (.*)"),  # a German message of ours (ArgumentTypeError), with its option
     lambda m: f"{m[1]}: {m[2]}"),
)


def german_error(message: str) -> str:
    """argparse's English error message in German; a message that is German already stays."""
    for pattern, german in _ERRORS:
        match = pattern.fullmatch(message)
        if match:
            return german(match)
    return message


class GermanHelpFormatter(argparse.HelpFormatter):
    """German headings and usage; the description keeps its paragraphs (the docstring's)."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32)

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "Aufruf: " if prefix is None else prefix)

    def _fill_text(self, text, width, indent):
        paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text.strip())]
        return "\n\n".join(super(GermanHelpFormatter, self)._fill_text(p, width, indent) for p in paragraphs)


class GermanParser(argparse.ArgumentParser):
    """An ArgumentParser that speaks German to the person and exits with the documented codes."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", GermanHelpFormatter)
        kwargs.setdefault("add_help", False)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "Argumente"
        self._optionals.title = "Optionen"
        self.add_argument("-h", "--hilfe", "--help", action="help", default=argparse.SUPPRESS, help=HELP_TEXT)

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_UNUSABLE, f"{self.prog}: Fehler: {german_error(message)}.\n"
                                 f"Mehr dazu: {self.prog} --hilfe\n")


def add_command(parent, name: str, function: Callable[..., int | None], *, help: str | None = None,
                description: str | None = None) -> GermanParser:
    """A sub-command `name` that runs `function`; its help is the function's docstring."""
    doc = description or function.__doc__ or ""
    # argparse expands "%" in help texts; a docstring's "%APPDATA%" is text, not a format.
    summary = (help or doc.strip().splitlines()[0]).replace("%", "%%")
    parser = parent.add_parser(name, help=summary, description=doc.replace("%", "%%"))
    parser.set_defaults(_command=function, _parser=parser)
    return parser


def add_group(parent, name: str, help: str) -> Any:
    """A command group (`kpr einladung …`): returns what `add_command` takes as parent."""
    parser = parent.add_parser(name, help=help, description=help)
    parser.set_defaults(_command=None, _parser=parser)
    return parser.add_subparsers(title="Befehle", metavar="BEFEHL", parser_class=GermanParser)


def flag(parser: argparse.ArgumentParser, name: str, help: str, dest: str | None = None) -> None:
    parser.add_argument(name, action="store_true", dest=dest, help=help)


def stichtag_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stichtag", type=date_argument, default=None, metavar="TT.MM.JJJJ",
                        help="Stichtag, TT.MM.JJJJ oder JJJJ-MM-TT (Standard: heute).")


def json_option(parser: argparse.ArgumentParser, help: str = "Ergebnis als JSON ausgeben.") -> None:
    parser.add_argument("--json", dest="als_json", action="store_true", help=help)


def datei_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("datei", type=Path, metavar="MAPPE", help="Die Stammmappe (.xlsx), z. B. KPR.xlsx.")


# -- running a command --------------------------------------------------------------------------


def run(command: Callable[..., int | None], arguments: dict[str, Any]) -> int:
    """Run a command so that a person never sees a traceback: German message, exit code.

    With `--json`, an error is also a JSON object on stdout ({"error": …, "exit_code": …}), so that
    a program reading stdout learns what happened.
    """
    as_json = bool(arguments.get("als_json"))
    try:
        # A refused file operation (disk full, read-only, no permission) becomes a German KprError.
        return int(translate_environment_faults(command)(**arguments) or 0)
    except KprError as exc:
        warn(f"Fehler: {exc}")
        if as_json:
            _json_error(str(exc), exc.exit_code, arguments)
        return exc.exit_code
    except KeyboardInterrupt:
        warn("Abgebrochen.")
        return EXIT_ABORTED
    except BrokenPipeError:  # the reader of stdout stopped early (`kpr regeln | more`): no more to say
        _silence_stdout()
        return EXIT_FINDINGS
    except Exception as exc:  # a bug: say so plainly, keep the details for developers
        if debug():
            raise
        warn(f"Interner Fehler ({type(exc).__name__}). Bitte der Geschäftsstelle bzw. dem IT-Support melden; "
             f"mit KPR_DEBUG=1 werden Einzelheiten angezeigt. Exit-Code {EXIT_INTERNAL}.")
        if as_json:
            _json_error(f"Interner Fehler ({type(exc).__name__})", EXIT_INTERNAL, arguments)
        return EXIT_INTERNAL


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the final flush at exit does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (a test's buffer)
        pass


def _json_error(message: str, code: int, arguments: dict[str, Any]) -> None:
    error: dict[str, Any] = {"error": message, "exit_code": code}
    if arguments.get("datei") is not None:
        error = {"file": str(arguments["datei"]), **error}
    print_json(error)


def debug() -> bool:
    return os.environ.get("KPR_DEBUG") == "1"


def stichtag_or_today(value: date | None) -> date:
    return value or date.today()
