"""Commands that send: einladung senden, niederschrift senden, versand bestaetigen, anmelden."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

from kpr_excel.cli.common import (
    add_command,
    add_group,
    datei_argument,
    flag,
    prompt_password,
    say,
    stichtag_option,
    stichtag_or_today,
)
from kpr_excel.cli.dokumente import GROUPS, sitzung_argument
from kpr_excel.domain.errors import KprError


def kanal_option(parser) -> None:
    parser.add_argument("--kanal", default=None, metavar="KANAL",
                        help="outbox, smtp oder exchange (Standard: Einstellungen).")


def _send_options(parser) -> None:
    datei_argument(parser)
    sitzung_argument(parser)
    kanal_option(parser)
    flag(parser, "--entwurf", "Nur als Entwurf ablegen (Exchange: Ordner Entwürfe).")
    flag(parser, "--probelauf", "Nur zeigen, wer was bekäme; nichts senden.")
    stichtag_option(parser)
    flag(parser, "--unsicher-erneut", "Auch Nachrichten erneut senden, die ein abgebrochener Versand als "
                                      "„unsicher“ hinterließ (der Empfänger kann sie doppelt erhalten).")


def _invitation_options(parser) -> None:
    _send_options(parser)
    flag(parser, "--vergangene-sitzung", "Auch zu einer Sitzung einladen, deren Datum vor dem Stichtag liegt.")


def register(commands) -> None:
    _invitation_options(add_command(GROUPS["einladung"], "senden", einladung_senden))
    _send_options(add_command(GROUPS["niederschrift"], "senden", niederschrift_senden))
    versand = add_group(commands, "versand", "Versandjournal: bereitgestellte Nachrichten als versandt bestätigen.")
    parser = add_command(versand, "bestaetigen", versand_bestaetigen)
    datei_argument(parser)
    sitzung_argument(parser)
    parser.add_argument("--dokument", default="einladung", choices=("einladung", "niederschrift"),
                        metavar="DOKUMENT", help="einladung oder niederschrift (Standard: einladung).")
    stichtag_option(parser)
    parser = add_command(commands, "anmelden", anmelden)
    datei_argument(parser)
    kanal_option(parser)


def einladung_senden(datei: Path, sitzung: str, kanal: str | None = None, entwurf: bool = False,
                     probelauf: bool = False, stichtag: date | None = None, vergangene_sitzung: bool = False,
                     unsicher_erneut: bool = False) -> int:
    """Die Einladung an Mitglieder (und Gäste ihre Fassung) senden; schickt nur, was noch fehlt.

    Exit-Code 0: alles versandt; 1: gesperrt oder nicht alles versandt; 2: Mappe nicht verwendbar
    oder nicht beschreibbar.
    """
    from kpr_excel.sending.plan import INVITATION

    return _send(datei, sitzung, INVITATION, kanal, entwurf, probelauf, stichtag_or_today(stichtag),
                 past_session=vergangene_sitzung, resend_uncertain=unsicher_erneut)


def niederschrift_senden(datei: Path, sitzung: str, kanal: str | None = None, entwurf: bool = False,
                         probelauf: bool = False, stichtag: date | None = None, unsicher_erneut: bool = False) -> int:
    """Die Niederschrift an die Mitglieder senden; schickt nur, was noch fehlt.

    Exit-Code 0: alles versandt; 1: gesperrt oder nicht alles versandt; 2: Mappe nicht verwendbar
    oder nicht beschreibbar.
    """
    from kpr_excel.sending.plan import MINUTES

    return _send(datei, sitzung, MINUTES, kanal, entwurf, probelauf, stichtag_or_today(stichtag),
                 resend_uncertain=unsicher_erneut)


def _send(datei: Path, sitzung: str, document: str, kanal, entwurf: bool, probelauf: bool, stichtag,
          past_session: bool = False, resend_uncertain: bool = False) -> int:
    from kpr_excel.app import preflight
    from kpr_excel.app import send as send_job
    from kpr_excel.book.loader import load_file
    from kpr_excel.book.reader import check_readable
    from kpr_excel.book.writer import write_edits

    check_readable(datei)
    # The pre-flight inside prepare_send checks that the send log can be written back.
    prepared = send_job.prepare_send(datei, load_file(datei), sitzung, document, stichtag=stichtag,
                                     past_session=past_session)
    if probelauf:
        for line in send_job.plan_lines(prepared.plan):
            say(line)
        return preflight.exit_code(prepared.plan.blocking) if prepared.plan.blocked else 0
    preflight.raise_if_blocked(prepared.plan.blocking, send_job.blocked_message(prepared.plan))
    with _progress() as progress:
        outcome = send_job.send_prepared(
            prepared, stichtag=stichtag, channel=kanal, draft=entwurf, progress=progress,
            resend_uncertain=resend_uncertain,
            write_log=lambda edits: write_edits(datei, edits, side_file_allowed=False))
    for line in send_job.report_lines(outcome):
        say(line)
    return 0 if outcome.complete and not outcome.write_error else 1


def versand_bestaetigen(datei: Path, sitzung: str, dokument: str = "einladung", stichtag: date | None = None) -> int:
    """Bestätigen, dass die im Postausgang bereitgestellten Nachrichten aus Outlook versandt wurden.

    Exit-Code 0: bestätigt; 1: Sitzung unbekannt; 2: Mappe nicht verwendbar oder nicht beschreibbar.
    """
    from kpr_excel.app import send as send_job
    from kpr_excel.book.loader import load_file
    from kpr_excel.book.reader import check_readable
    from kpr_excel.book.writer import check_writable, write_edits
    from kpr_excel.sending.plan import INVITATION, MINUTES

    day = stichtag_or_today(stichtag)
    check_readable(datei)
    check_writable(datei)
    document = {"einladung": INVITATION, "niederschrift": MINUTES}[dokument]
    prepared = send_job.prepare_send(datei, load_file(datei), sitzung, document, stichtag=day)
    for line in send_job.confirm_sent(prepared, stichtag=day,
                                      write_log=lambda edits: write_edits(datei, edits, side_file_allowed=False)):
        say(line)
    return 0


class _progress:
    """rich's progress bar on stderr while a send runs, only where a person watches (a terminal).

    rich is imported here and nowhere on the way to a check: it costs a noticeable part of a start.
    """

    def __enter__(self):
        self._bar = None
        if not sys.stderr.isatty():
            return lambda done, total, name: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                             console=Console(stderr=True), transient=True)
        self._bar.__enter__()
        task = self._bar.add_task("Versand", total=None)
        bar = self._bar

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, completed=done, total=total, description=f"Versand an {name}")

        return progress

    def __exit__(self, *exc_info):
        if self._bar is not None:
            self._bar.__exit__(*exc_info)
        return False


def anmelden(datei: Path, kanal: str | None = None) -> int:
    """Das Kennwort für SMTP oder Exchange prüfen und im Kennwortspeicher des Systems ablegen.

    Exit-Code 0: Anmeldung geprüft und gespeichert (oder keine nötig); 1: Einstellung fehlt oder
    Anmeldung fehlgeschlagen; 2: Mappe nicht verwendbar.
    """
    from kpr_excel.app import send as send_job
    from kpr_excel.book.loader import load_file
    from kpr_excel.mail import credentials, transports
    from kpr_excel.mail.transports import login_name

    loaded = load_file(datei)
    settings = send_job.transport_settings(loaded.model.settings, datei, channel=kanal)
    transports.kind_of(settings.kind).check(settings)  # names a missing setting, e.g. the user name
    user = login_name(settings)
    if user is None:
        if settings.kind == "smtp":
            raise KprError("Im Blatt „Einstellungen“ fehlt der SMTP-Benutzer; ohne ihn sendet kpr ohne "
                           "Anmeldung. Wer sich am SMTP-Server anmelden muss, trägt ihn dort ein und ruft "
                           "»kpr anmelden« noch einmal auf.")
        if settings.kind == "exchange" and settings.auth == "SSO":
            say("Exchange-Anmeldung „SSO“: es gilt die Windows-Anmeldung, ein Kennwort ist nicht nötig.")
            return 0
        say(f"Für den Versandkanal „{settings.kind}“ ist keine Anmeldung nötig.")
        return 0
    password = prompt_password(f"Kennwort für {user}")
    transports.check_login(settings, password)
    credentials.store_password(user, password)
    say(f"Anmeldung als {user} geprüft; das Kennwort liegt im Kennwortspeicher des Systems.")
    return 0
