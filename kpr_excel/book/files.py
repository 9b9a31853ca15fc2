"""Saving a workbook file safely: a backup first, then a temporary file replaced atomically."""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import datetime
from pathlib import Path

BACKUP_DIR = "KPR-Sicherungen"
BACKUPS_KEPT = 10


def save_atomically(workbook, path: Path, *, backup: bool = True) -> None:
    """Save an openpyxl workbook to `path` without ever leaving a half-written file."""
    path = path.resolve()
    if backup and path.exists():
        _backup(path)
    # Created by save() itself, so a new file gets the usual permissions (mkstemp's are 0600).
    temp_name = path.with_name(f".~kpr-{uuid.uuid4().hex}.xlsx")
    try:
        workbook.save(temp_name)
        if path.exists():
            shutil.copymode(path, temp_name)
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _backup(path: Path) -> Path:
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}_{stamp}{path.suffix}"
    shutil.copy2(path, target)
    # Only this workbook's backups: "KPR_alt.xlsx" shares the prefix "KPR_" with them.
    own = re.compile(re.escape(path.stem) + r"_\d{8}-\d{6}-\d{6}" + re.escape(path.suffix))
    old = sorted(p for p in folder.iterdir() if own.fullmatch(p.name))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    return target
