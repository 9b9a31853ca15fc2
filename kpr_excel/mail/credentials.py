"""Where passwords come from: the environment variable, then the system keyring.

Passwords never come from the workbook, are never logged and never appear in an exception's
text. ``kpr anmelden`` stores a password with :func:`store_password` after
``transports.check_login`` has proved it against the server.
"""

from __future__ import annotations

import os

from kpr_excel.domain.errors import KprError

ENV_VAR = "KPR_PASSWORT"
SERVICE = "kpr-excel"


def get_password(username: str) -> str | None:
    """The password for ``username``: ``KPR_PASSWORT`` if set, else the keyring's, else None."""
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return from_env
    try:
        import keyring
        import keyring.errors

        return keyring.get_password(SERVICE, username)
    except Exception:
        return None


def store_password(username: str, password: str) -> None:
    """Keep ``password`` for ``username`` in the system keyring (Windows: Anmeldeinformationsverwaltung)."""
    if not username:
        raise KprError("Ohne Benutzernamen kann kein Passwort gespeichert werden.")
    try:
        import keyring

        keyring.set_password(SERVICE, username, password)
    except Exception as e:
        raise KprError(
            f"Das Passwort für {username} konnte nicht im Schlüsselbund des Systems gespeichert werden "
            f"({e.__class__.__name__}). Alternativ die Umgebungsvariable {ENV_VAR} setzen."
        ) from None


def delete_password(username: str) -> None:
    """Forget the stored password for ``username``; nothing happens if there is none."""
    try:
        import keyring
        import keyring.errors

        keyring.delete_password(SERVICE, username)
    except Exception:
        pass


def ask_password(user: str) -> str | None:
    """Ask for the password of ``user`` in a small window (the Excel button; the CLI asks in
    the console). None when the user cancels or leaves the field empty.

    Raises KprError (German, pointing to ``kpr anmelden``) where no window can be shown: no
    display, or a Python installed without tkinter. The password is only returned, never kept.
    """
    no_window = (
        "Das Fenster für die Kennworteingabe kann hier nicht geöffnet werden. Bitte das Kennwort "
        "stattdessen in der Eingabeaufforderung mit »kpr anmelden <Mappe.xlsx>« hinterlegen."
    )
    try:
        import tkinter
        from tkinter import simpledialog
    except ImportError:
        raise KprError(no_window) from None
    try:
        root = tkinter.Tk()
    except tkinter.TclError:
        raise KprError(no_window) from None
    try:
        root.withdraw()

        def to_front() -> None:  # Excel is in front and waits; the dialog must not hide behind it
            for window in root.winfo_children():
                if isinstance(window, tkinter.Toplevel):
                    window.attributes("-topmost", True)
                    window.focus_force()

        root.after(100, to_front)
        password = simpledialog.askstring("KPR: Anmelden", f"Kennwort für {user}:", show="*", parent=root)
    finally:
        root.destroy()
    return password or None
