"""The `kpr` command line: each command parses, calls one library function, shows, exits.

One module per command group registers its commands (`register(commands)`); each command is one
function whose keyword parameters are the parsed arguments and which returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from kpr_excel.cli import addin_cmd, dokumente, mappe, regeln, versand
from kpr_excel.cli.common import EXIT_CODES_TEXT, EXIT_OK, EXIT_UNUSABLE, GermanParser, run

DESCRIPTION = "Kommunaler Präventionsrat Dresden: Mappe prüfen, Dokumente erstellen und versenden."


def build_parser() -> GermanParser:
    parser = GermanParser(
        prog="kpr", description=DESCRIPTION,
        epilog=f"„kpr BEFEHL --hilfe“ zeigt die Optionen eines Befehls.\n\n{EXIT_CODES_TEXT} "
               "Bei einem internen Fehler zeigt KPR_DEBUG=1 die Einzelheiten.")
    commands = parser.add_subparsers(title="Befehle", metavar="BEFEHL", parser_class=GermanParser)
    mappe.register(commands)
    regeln.register(commands)
    dokumente.register(commands)
    versand.register(commands)
    addin_cmd.register(commands)
    parser.set_defaults(_command=None, _parser=parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run `kpr` with `argv` (default: the process's arguments) and return the exit code."""
    _tolerate_unencodable_output()
    parser = build_parser()
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        namespace, unknown = parser.parse_known_args(arguments)
        values = vars(namespace)
        command = values.pop("_command")
        chosen = values.pop("_parser")  # the (sub-)parser of the command, for its own usage line
        if unknown:
            chosen.error(f"unrecognized arguments: {' '.join(unknown)}")
        if command is None:
            if chosen is parser and not arguments:
                parser.print_help()
                return EXIT_OK
            chosen.error("Es fehlt der Befehl")
    except SystemExit as exit:  # --hilfe (0) or a usage error (2), already printed
        return exit.code if isinstance(exit.code, int) else EXIT_UNUSABLE
    return run(command, values)


def commands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> dict[str, Callable[..., int]]:
    """Every command by its full name ("einladung senden") and the function that runs it."""
    found: dict[str, Callable[..., int]] = {}
    for action in (parser or build_parser())._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                command = sub.get_default("_command")
                if command is None:
                    found.update(commands(sub, f"{prefix}{name} "))
                else:
                    found[f"{prefix}{name}"] = command
    return found


def _tolerate_unencodable_output() -> None:
    """A Windows console or a redirected stdout in cp1252 cannot show every character a message may
    hold (a name in the workbook, a symbol): print a replacement instead of failing with an
    internal error."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
