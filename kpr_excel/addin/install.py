"""Install KPR.xlam into the user's add-in folder."""

from __future__ import annotations

import os
import sys
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kpr_excel.addin.sources import (
    ADDIN_FILE,
    ADDIN_NAME,
    ADDIN_TITLE,
    AddinError,
    _write_atomically,
)

# --------------------------------------------------------------------------------------
# Install
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InstallResult:
    installed: bool
    target: Path | None
    instructions: str  # German, for the person at the workstation


_TICK_IN_EXCEL = """\
In Excel einmal einschalten:
  1. Datei > Optionen > Add-Ins.
  2. Unten bei „Verwalten“ „Excel-Add-Ins“ wählen und auf „Los…“ klicken.
  3. Den Haken bei „{title}“ setzen und mit OK bestätigen (fehlt der Eintrag: „Durchsuchen…“
     und {target} wählen).
Danach steht die Registerkarte „KPR“ im Menüband, rechts neben „Start“.
Für ein Update Excel schließen und „kpr addin installieren“ noch einmal ausführen."""


def user_addins_dir(env: Mapping[str, str] = os.environ) -> Path:
    """%APPDATA%\\Microsoft\\AddIns: the folder Excel's add-in dialog lists for the user."""
    appdata = env.get("APPDATA")
    if not appdata:
        raise AddinError("Die Umgebungsvariable APPDATA ist nicht gesetzt; wohin Excel Add-ins lädt, "
                         "ist so nicht zu finden. Zielordner mit --ziel angeben.")
    return Path(appdata) / "Microsoft" / "AddIns"


def install_addin(
    source: Path = ADDIN_FILE,
    *,
    target_dir: Path | None = None,
    platform: str = sys.platform,
    env: Mapping[str, str] = os.environ,
) -> InstallResult:
    """Copy the add-in where Excel loads add-ins from, or say how to do it elsewhere.

    On Windows the target is %APPDATA%\\Microsoft\\AddIns\\KPR.xlam; with ``target_dir`` it is
    that folder on any system. Elsewhere nothing is copied and the instructions say how.
    The bytes are copied, not the file: a "downloaded from the Internet" mark on the source
    (which would make Excel block the macros) does not travel with them.
    """
    if not source.is_file():
        raise AddinError(
            f"Add-in nicht gefunden: {source}. Den Pfad zu KPR.xlam angeben (es liegt dem Paket "
            "kpr-excel bei, im Projektordner unter kpr_excel\\addin\\files\\KPR.xlam) oder kpr-excel "
            "neu installieren.")
    if not zipfile.is_zipfile(source):
        raise AddinError(f"{source} ist kein Excel-Add-in (keine ZIP-Datei).")
    if target_dir is None:
        if platform != "win32":
            manual_target = r"%APPDATA%\Microsoft\AddIns\KPR.xlam"
            return InstallResult(False, None, (
                "Nicht installiert: das Add-in läuft nur in Excel unter Windows.\n"
                f"Auf dem Arbeitsplatz dort „kpr addin installieren“ ausführen oder {source.name} "
                f"von Hand nach {manual_target} kopieren.\n"
                + _TICK_IN_EXCEL.format(title=ADDIN_TITLE, target=manual_target)
                + "\nAusführlich: docs/windows.md"))
        target_dir = user_addins_dir(env)
    target = target_dir / ADDIN_NAME
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        _write_atomically(target, source.read_bytes())
    except PermissionError as exc:
        raise AddinError(
            f"{target} lässt sich nicht schreiben; vermutlich hat Excel das Add-in geöffnet. "
            "Excel schließen und noch einmal versuchen."
        ) from exc
    except OSError as exc:
        raise AddinError(f"{target} lässt sich nicht schreiben: {exc}") from exc
    return InstallResult(True, target, f"Das Add-in liegt jetzt in {target}.\n"
                         + _TICK_IN_EXCEL.format(title=ADDIN_TITLE, target=target))
