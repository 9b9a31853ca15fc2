"""Commands that send: einladung senden, niederschrift senden, versand bestaetigen, anmelden."""

from __future__ import annotations

from pathlib import Path

import typer

from kpr_excel.cli.common import STICHTAG, console, guarded, say
from kpr_excel.cli.dokumente import DATEI, SITZUNG, einladung_app, niederschrift_app
from kpr_excel.sending.plan import INVITATION, MINUTES

KANAL = typer.Option(None, "--kanal", help="outbox, smtp oder exchange (Standard: Einstellungen).")
ENTWURF = typer.Option(False, "--entwurf", help="Nur als Entwurf ablegen (Exchange: Ordner Entwürfe).")
PROBELAUF = typer.Option(False, "--probelauf", help="Nur zeigen, wer was bekäme; nichts senden.")
UNSICHER_ERNEUT = typer.Option(False, "--unsicher-erneut",
                               help="Auch Nachrichten erneut senden, die ein abgebrochener Versand als "
                                    "„unsicher“ hinterließ (der Empfänger kann sie doppelt erhalten).")
DOKUMENT = typer.Option("einladung", "--dokument", help="einladung oder niederschrift.")

versand_app = typer.Typer(help="Versandjournal: bereitgestellte Nachrichten als versandt bestätigen.",
                          no_args_is_help=True)


def register(app: typer.Typer) -> None:
    einladung_app.command("senden")(einladung_senden)
    niederschrift_app.command("senden")(niederschrift_senden)
    versand_app.command("bestaetigen")(versand_bestaetigen)
    app.add_typer(versand_app, name="versand")
    app.command("anmelden")(anmelden)


@guarded
def einladung_senden(datei: Path = DATEI, sitzung: str = SITZUNG, kanal: str | None = KANAL,
                     entwurf: bool = ENTWURF, probelauf: bool = PROBELAUF, stichtag=STICHTAG,
                     unsicher_erneut: bool = UNSICHER_ERNEUT):
    """Die Einladung an Mitglieder (und Gäste ihre Fassung) senden; schickt nur, was noch fehlt."""
    _send(datei, sitzung, INVITATION, kanal, entwurf, probelauf, stichtag, unsicher_erneut)


@guarded
def niederschrift_senden(datei: Path = DATEI, sitzung: str = SITZUNG, kanal: str | None = KANAL,
                         entwurf: bool = ENTWURF, probelauf: bool = PROBELAUF, stichtag=STICHTAG,
                         unsicher_erneut: bool = UNSICHER_ERNEUT):
    """Die Niederschrift an die Mitglieder senden; schickt nur, was noch fehlt."""
    _send(datei, sitzung, MINUTES, kanal, entwurf, probelauf, stichtag, unsicher_erneut)


@guarded
def versand_bestaetigen(datei: Path = DATEI, sitzung: str = SITZUNG, dokument: str = DOKUMENT, stichtag=STICHTAG):
    """Bestätigen, dass die im Postausgang bereitgestellten Nachrichten aus Outlook versandt wurden."""
    from kpr_excel.app import send as send_job
    from kpr_excel.book.loader import load_file
    from kpr_excel.book.reader import check_readable
    from kpr_excel.book.writer import check_writable, write_edits

    documents = {"einladung": INVITATION, "niederschrift": MINUTES}
    if dokument.casefold() not in documents:
        say(f"Unbekanntes Dokument „{dokument}“; möglich sind: einladung, niederschrift.")
        raise typer.Exit(2)
    check_readable(datei)
    check_writable(datei)
    prepared = send_job.prepare_send(datei, load_file(datei), sitzung, documents[dokument.casefold()],
                                     stichtag=stichtag)
    for line in send_job.confirm_sent(prepared, stichtag=stichtag,
                                      write_log=lambda edits: write_edits(datei, edits, side_file_allowed=False)):
        say(line)


def _send(datei: Path, sitzung: str, document: str, kanal, entwurf: bool, probelauf: bool, stichtag,
          unsicher_erneut: bool = False) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kpr_excel.app import send as send_job
    from kpr_excel.book.loader import load_file
    from kpr_excel.book.reader import check_readable
    from kpr_excel.book.writer import check_writable, write_edits

    check_readable(datei)
    if not probelauf:
        check_writable(datei)  # the send log must be writable before anything goes out
    prepared = send_job.prepare_send(datei, load_file(datei), sitzung, document, stichtag=stichtag)
    if probelauf:
        for line in send_job.plan_lines(prepared.plan):
            say(line)
        raise typer.Exit(1 if prepared.plan.blocked else 0)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True) as bar:
        task = bar.add_task("Versand", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Versand an {name}")

        outcome = send_job.send_prepared(
            prepared, stichtag=stichtag, channel=kanal, draft=entwurf, progress=progress,
            resend_uncertain=unsicher_erneut,
            write_log=lambda edits: write_edits(datei, edits, side_file_allowed=False))
    for line in send_job.report_lines(outcome):
        say(line)
    raise typer.Exit(0 if outcome.complete and not outcome.write_error else 1)


@guarded
def anmelden(datei: Path = DATEI,
             kanal: str | None = KANAL):
    """Das Kennwort für SMTP oder Exchange prüfen und im Kennwortspeicher des Systems ablegen."""
    from kpr_excel.app import send as send_job
    from kpr_excel.book.loader import load_file
    from kpr_excel.mail import credentials, transports
    from kpr_excel.mail.transports import login_name

    model = load_file(datei).model
    settings = send_job.transport_settings(model.settings, datei, channel=kanal)
    user = login_name(settings)
    if user is None:
        say(f"Für den Versandkanal „{settings.kind}“ ist keine Anmeldung nötig.")
        raise typer.Exit(0)
    password = typer.prompt(f"Kennwort für {user}", hide_input=True)
    transports.check_login(settings, password)
    credentials.store_password(user, password)
    say(f"Anmeldung als {user} geprüft; das Kennwort liegt im Kennwortspeicher des Systems.")
