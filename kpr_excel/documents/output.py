"""Where documents go, what they are called, and how an edited file is kept from being overwritten.

The tool remembers the checksum of every file it wrote in a small manifest in the output
folder. A file whose checksum still matches was not touched since and may be replaced; a file
that differs (edited in Word), that the tool did not write, or that Word has open is kept, and
the new document goes to the next free `_v2`, `_v3`, ... name, unless overwriting is asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.model import Model, Session

MANIFEST = ".kpr-dokumente.json"
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"  # the templates shipped with the tool
TEMPLATE_FOLDER = "Vorlagen"  # beside the workbook: the office's own, edited templates
_UNSAFE = re.compile(r'[<>:"/\\|?*\s]+')


@dataclass(frozen=True)
class Placed:
    path: Path
    kept: Path | None = None  # an edited (or open) file that was left as it was


def output_dir(workbook: Path, model: Model) -> Path:
    """The output folder from Einstellungen, relative to the workbook's folder unless absolute."""
    folder = Path(model.settings.output_dir or "Ausgabe")
    return folder if folder.is_absolute() else Path(workbook).resolve().parent / folder


def body_code(session: Session) -> str:
    if session.gremium == schema.GREMIUM_JF:
        return "JF"
    if session.gremium == schema.GREMIUM_AG:
        return safe_name(session.working_group or "AG")
    return "KPR"


def safe_name(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "Dokument"


def session_file(session: Session, document: str) -> str:
    """'2027-03-12_KPR_Einladung.docx'."""
    return f"{session.date:%Y-%m-%d}_{body_code(session)}_{document}.docx"


def checksum(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(folder: Path) -> dict[str, str]:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _default_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temp = tempfile.mkstemp(prefix=".~kpr-", suffix=path.suffix, dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp makes the file private; give it the mode a normally saved file would have
        os.chmod(temp, path.stat().st_mode & 0o777 if path.exists() else _default_mode())
        os.replace(temp, path)
    except PermissionError:
        Path(temp).unlink(missing_ok=True)
        raise KprError(f"{path.name} kann nicht geschrieben werden; ist die Datei in Word geöffnet? "
                       "Bitte schließen und noch einmal versuchen.") from None
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def open_in_word(path: Path) -> bool:
    """Word keeps an owner file '~$' + name (the first two letters dropped for longer names)."""
    names = {"~$" + path.name, "~$" + path.name[2:]}
    return any((path.parent / name).exists() for name in names)


def _replaceable(path: Path, manifest: dict[str, str]) -> bool:
    if not path.exists():
        return True
    if open_in_word(path):
        return False
    recorded = manifest.get(path.name)
    return recorded is not None and recorded == checksum(path.read_bytes())


def untouched(path: Path) -> bool:
    """Whether `path` is as the tool wrote it (its checksum is the recorded one) and not open in Word."""
    return path.exists() and _replaceable(path, _read_manifest(path.parent))


def write_atomically(path: Path, data: bytes) -> None:
    """Write a file of the output folder whole or not at all (the sidecar of `fingerprint`)."""
    _write_atomically(path, data)


_VERSION = re.compile(r"_v(\d+)$")


def newest_version(folder: Path, name: str) -> tuple[Path, int] | None:
    """The newest of `name`, `name_v2`, `name_v3`, ... in `folder` (the office may have edited)."""
    base = folder / name
    found = [(base, 1)] if base.exists() else []
    for path in folder.glob(f"{base.stem}_v*{base.suffix}"):
        match = _VERSION.search(path.stem)
        if match and path.stem[: match.start()] == base.stem:
            found.append((path, int(match[1])))
    return max(found, key=lambda pair: pair[1]) if found else None


def place(folder: Path, name: str, data: bytes, *, overwrite: bool = False) -> Placed:
    """Write `data` as `folder/name`, or as the next free version if the office edited that file."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = _read_manifest(folder)
    wanted = folder / name
    target, kept = wanted, None
    if not overwrite and not _replaceable(wanted, manifest):
        kept = wanted
        version = 2
        while True:
            target = wanted.with_name(f"{wanted.stem}_v{version}{wanted.suffix}")
            if _replaceable(target, manifest):
                break
            version += 1
    _write_atomically(target, data)
    manifest[target.name] = checksum(data)
    _write_atomically(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))
    return Placed(target, kept)
