"""Excel's message boxes and status bar, for the buttons and the actions alike.

Standard library only: every button click starts a fresh Python that imports this module.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TITLE = "KPR"


def status(app: Any, text: str | bool) -> None:
    """Set Excel's status bar (False hands it back to Excel); cosmetic, so never fatal."""
    try:
        app.status_bar = text
    except Exception:
        pass


def alert(app: Any, text: str, *, mode: str, buttons: str = "ok") -> str | None:
    """A message box over Excel; falls back to Windows' own if Excel cannot show one.

    `buttons` "yes_no" asks a question: the answer is "yes" or "no" (None where no box could
    be shown, which callers treat as "no"). Actions use this for their questions too.
    """
    try:
        return app.alert(text, title=TITLE, buttons=buttons, mode=mode)
    except Exception:
        fallback_message(text)
        return None


def fallback_message(text: str) -> None:
    """A message box without Excel (Windows), else the text on stderr."""
    if sys.platform == "win32":
        try:
            import ctypes

            MB_ICONWARNING, MB_TOPMOST = 0x30, 0x40000
            ctypes.windll.user32.MessageBoxW(None, text, TITLE, MB_ICONWARNING | MB_TOPMOST)
            return
        except Exception:
            pass
    print(text, file=sys.stderr)
