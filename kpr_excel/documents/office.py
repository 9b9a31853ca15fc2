"""LibreOffice as a converter: .docx to PDF for the office, and workbooks recalculated for tests.

All files go through one `soffice` call (starting LibreOffice costs about a second), with a
profile of this process's own: parallel soffice processes sharing a profile lose conversions.
soffice exits 0 even where a file could not be converted, so every output is checked.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

from kpr_excel.domain.errors import KprError

ENV_SOFFICE = "KPR_SOFFICE"  # path of soffice where it is not on PATH
_WINDOWS_PLACES = (
    r"C:\Program Files\LibreOffice\program\soffice.exe",
    r"C:\Program Files (x86)\LibreOffice\program\soffice.exe",
)
_MAC_PLACE = "/Applications/LibreOffice.app/Contents/MacOS/soffice"
TIMEOUT_BASE = 60  # seconds for starting LibreOffice, plus
TIMEOUT_PER_FILE = 30  # seconds per file

_lock = threading.Lock()  # one profile per process, so one conversion at a time
_profile: Path | None = None


class OfficeMissing(KprError):
    """LibreOffice is not installed (or not where KPR_SOFFICE says)."""


class ConversionFailed(KprError):
    """LibreOffice ran but did not produce every file."""


def find_soffice() -> Path | None:
    """The soffice program: KPR_SOFFICE, then PATH, then the usual install folders."""
    configured = os.environ.get(ENV_SOFFICE)
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return Path(found)
    places = _WINDOWS_PLACES if sys.platform == "win32" else (_MAC_PLACE,) if sys.platform == "darwin" else ()
    return next((Path(p) for p in places if Path(p).is_file()), None)


def require_soffice() -> Path:
    found = find_soffice()
    if found is None:
        where = os.environ.get(ENV_SOFFICE)
        hint = (f"Die Umgebungsvariable {ENV_SOFFICE} nennt „{where}“, dort ist es nicht." if where else
                f"Bitte LibreOffice installieren (https://de.libreoffice.org) oder den Pfad zu soffice "
                f"in der Umgebungsvariable {ENV_SOFFICE} angeben.")
        raise OfficeMissing(f"LibreOffice wurde nicht gefunden; ohne LibreOffice kann keine PDF-Datei "
                            f"erstellt werden. {hint}")
    return found


def _profile_dir() -> Path:
    global _profile
    if _profile is None:
        _profile = Path(tempfile.mkdtemp(prefix="kpr-lo-profile-"))
        atexit.register(shutil.rmtree, _profile, ignore_errors=True)
    return _profile


def _extension(target_format: str) -> str:
    """'pdf:writer_pdf_Export' -> 'pdf'; 'csv:Text - txt - csv (StarCalc):44,...' -> 'csv'."""
    return target_format.split(":", 1)[0].strip().lower()


def convert(paths: Iterable[Path], target_format: str, outdir: Path) -> list[Path]:
    """Convert every file in one soffice call; returns the outputs in the order of `paths`.

    `target_format` is what `soffice --convert-to` takes ("pdf", "xlsx", or with a filter,
    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"). Where
    LibreOffice writes one file per sheet (`name-Sheet.csv`), all of them are returned.
    Raises OfficeMissing or ConversionFailed, with a German message.
    """
    sources = [Path(p).resolve() for p in paths]
    if not sources:
        return []
    missing = [p for p in sources if not p.is_file()]
    if missing:
        raise ConversionFailed("Diese Dateien gibt es nicht: " + ", ".join(str(p) for p in missing))
    stems = [p.stem for p in sources]
    if len(set(stems)) != len(stems):
        raise ConversionFailed("Dateien gleichen Namens aus verschiedenen Ordnern würden sich beim "
                               "Umwandeln gegenseitig überschreiben: " + ", ".join(sorted(stems)))
    soffice = require_soffice()
    outdir = Path(outdir).resolve()
    outdir.mkdir(parents=True, exist_ok=True)
    ext = _extension(target_format)
    # Remove old results first: a stale file must not pass for a fresh conversion.
    for stem in stems:
        for old in [outdir / f"{stem}.{ext}", *outdir.glob(f"{stem}-*.{ext}")]:
            if old not in sources:
                old.unlink(missing_ok=True)
    with _lock:
        command = [str(soffice), f"-env:UserInstallation={_profile_dir().as_uri()}", "--headless",
                   "--norestore", "--nologo", "--nolockcheck", "--convert-to", target_format,
                   "--outdir", str(outdir), *map(str, sources)]
        try:
            run = subprocess.run(command, capture_output=True, text=True, errors="replace",
                                 timeout=TIMEOUT_BASE + TIMEOUT_PER_FILE * len(sources))
        except subprocess.TimeoutExpired:
            raise ConversionFailed("LibreOffice hat nicht rechtzeitig geantwortet; läuft es noch in einem "
                                   "anderen Fenster fest? Bitte schließen und erneut versuchen.") from None
        except OSError as exc:
            raise OfficeMissing(f"LibreOffice ({soffice}) kann nicht gestartet werden: {exc}.") from None
    results, failed = [], []
    for source in sources:
        single = outdir / f"{source.stem}.{ext}"
        produced = [single] if single.is_file() else sorted(outdir.glob(f"{source.stem}-*.{ext}"))
        if produced:
            results.extend(produced)
        else:
            failed.append(source.name)
    if failed:
        detail = " ".join(line for line in run.stderr.splitlines() if "javaldx" not in line).strip()
        raise ConversionFailed(f"LibreOffice hat {len(failed)} von {len(sources)} Dateien nicht nach "
                               f"{ext.upper()} umgewandelt: {', '.join(failed)}."
                               + (f" Meldung: {detail[:300]}" if detail else ""))
    return results
