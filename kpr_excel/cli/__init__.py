"""The `kpr` command line: each command parses, calls one library function, shows, exits."""

from __future__ import annotations

import typer

from kpr_excel.cli import dokumente, mappe, regeln, versand
from kpr_excel.cli.addin_cmd import addin_app

app = typer.Typer(
    name="kpr",
    help="Kommunaler Präventionsrat Dresden: Mappe prüfen, Dokumente erstellen und versenden.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
mappe.register(app)
regeln.register(app)
dokumente.register(app)
versand.register(app)
app.add_typer(addin_app, name="addin")


def main() -> None:
    app()
