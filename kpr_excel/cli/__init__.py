"""The `kpr` command line: each command parses, calls one library function, shows, exits."""

from __future__ import annotations

import typer

from . import mappe

app = typer.Typer(
    name="kpr",
    help="Kommunaler Präventionsrat Dresden: Mappe prüfen, Dokumente erstellen und versenden.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
mappe.register(app)


def main() -> None:
    app()
