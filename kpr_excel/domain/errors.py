"""Exceptions kpr-excel raises on purpose.

Problems in the user's data never raise: they become findings. Exceptions are for a file
that cannot be used at all, for unusable configuration and for failed side effects.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


class KprError(Exception):
    """Root of all errors kpr-excel raises on purpose; the message is German and for people."""

    exit_code = 1


class WorkbookUnusable(KprError):
    """The file cannot be read as a master workbook (missing, damaged, encrypted, wrong format)."""

    exit_code = 2


class WorkbookNotWritable(KprError):
    """The workbook must not be rewritten now.

    It is open in Excel or LibreOffice (their lock file), read-only, a row to write by key is
    gone or ambiguous, or the package has a form the patcher (book/patch.py) cannot change
    safely. `fallback_allowed` says whether the results may go to a side file instead.
    """

    exit_code = 2

    def __init__(self, message: str, *, fallback_allowed: bool = False):
        super().__init__(message)
        # True where writing the results to a separate file is a safe alternative.
        self.fallback_allowed = fallback_allowed


class SendBlocked(KprError):
    """A send stopped before its first message; the message lists what blocks it and where."""

    def __init__(self, message: str, *, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class EnvironmentFault(KprError):
    """The machine refused a file operation: disk full, read-only, no permission, not a folder."""

    exit_code = 2


# errno -> what a person at the desk can do about it.
_OS_ERRORS = {
    errno.ENOSPC: "Der Speicherplatz ist voll",
    errno.EDQUOT: "Das Speicherkontingent ist erschöpft",
    errno.EROFS: "Der Speicherort ist schreibgeschützt",
    errno.EACCES: "Der Zugriff wurde verweigert (fehlende Schreibrechte oder die Datei ist in einem "
                  "anderen Programm geöffnet)",
    errno.EPERM: "Der Vorgang ist nicht erlaubt (fehlende Rechte oder die Datei ist geschützt)",
    errno.ENOTDIR: "Ein Teil des Pfades ist eine Datei, kein Ordner",
    errno.EEXIST: "Dort liegt bereits eine Datei, wo ein Ordner angelegt werden soll",
    errno.EISDIR: "Dort liegt ein Ordner, wo eine Datei geschrieben werden soll",
    errno.ENOENT: "Der Ordner oder die Datei fehlt",
    errno.EBUSY: "Die Datei ist gerade von einem anderen Programm belegt",
}


def environment_reason(exc: OSError) -> str | None:
    """What went wrong in German ("Der Speicherplatz ist voll"), or None where it is no such fault."""
    return _OS_ERRORS.get(exc.errno) if exc.errno is not None else None


def environment_error(exc: OSError) -> EnvironmentFault | None:
    """The German error for a refused file operation, or None where `exc` is not one a person can fix.

    Both the command line and the Excel buttons turn OSErrors into this, so that a full disk
    or a read-only share ends with a sentence and an exit code, not "Interner Fehler".
    """
    reason = environment_reason(exc)
    if reason is None:
        return None
    where = exc.filename if exc.filename is not None else ""
    place = f" ({where})" if where else ""
    return EnvironmentFault(f"{reason}{place}. Bitte beheben und den Vorgang dann erneut starten.")


def translate_environment_faults(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` so that a refused file operation raises EnvironmentFault instead of OSError."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except OSError as exc:
            translated = environment_error(exc)
            if translated is None:
                raise
            raise translated from exc

    return wrapper
