"""Saving a workbook file safely: a backup first, then a temporary file replaced atomically.

Both the backup and the workbook are written the same way: into a temporary file
`.~kpr-<random>.xlsx` in the target's folder, flushed to disk, then renamed over the target
in one step, so that neither a crash nor a full disk ever leaves a truncated file behind.
Temporary files a crash left behind are removed at the next write.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from kpr_excel.domain.errors import WorkbookNotWritable

BACKUP_DIR = "KPR-Sicherungen"
#: The newest writes kept, whatever their day.
BACKUPS_KEPT = 10
#: Besides them, the newest backup of each of this many days with backups is kept.
BACKUP_DAYS_KEPT = 10
TEMP_PREFIX = ".~kpr-"
#: A temporary file older than this is a crash's leftover, not another write under way.
STALE_TEMP_SECONDS = 300


def save_atomically(workbook, path: Path, *, backup: bool = True) -> None:
    """Save an openpyxl workbook to `path` without ever leaving a half-written file."""
    replace_atomically(path, workbook.save, backup=backup)


def write_bytes_atomically(path: Path, data: bytes, *, backup: bool = True) -> None:
    """Write `data` to `path` without ever leaving a half-written file."""
    replace_atomically(path, lambda temp: Path(temp).write_bytes(data), backup=backup)


def replace_atomically(path: Path, write: Callable[[Path], object], *, backup: bool = True) -> None:
    """Let `write` fill a temporary file, then put it in place of `path` in one step.

    A backup of the current file goes first. On a full disk the workbook stays as it was
    and a German WorkbookNotWritable says so.
    """
    path = path.resolve()
    remove_stale_temp_files(path.parent)
    try:
        if backup and path.exists():
            _backup(path)
        _replace(path, write, mode_from=path if path.exists() else None)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise WorkbookNotWritable(
                f"Der Datenträger ist voll: {path.name} wurde nicht geändert. Bitte Platz schaffen "
                f"(z. B. alte Sicherungen im Ordner {BACKUP_DIR} löschen) und es erneut versuchen.") from None
        raise


def _replace(target: Path, write: Callable[[Path], object], *, mode_from: Path | None) -> None:
    # Created by `write` itself, so a new file gets the usual permissions (mkstemp's are 0600).
    temp = target.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex}{target.suffix or '.xlsx'}")
    try:
        write(temp)
        if mode_from is not None:
            shutil.copymode(mode_from, temp)
        with open(temp, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp, target)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def remove_stale_temp_files(folder: Path) -> None:
    """Remove temporary files a crashed write left in `folder` and its backup folder."""
    now = time.time()
    for where in (folder, folder / BACKUP_DIR):
        try:
            candidates = list(where.glob(f"{TEMP_PREFIX}*.xls*"))
        except OSError:
            continue
        for temp in candidates:
            try:
                if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                    temp.unlink()
            except OSError:
                pass  # gone already, or not ours to remove: the write goes on


def _backup(path: Path) -> Path:
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}_{stamp}{path.suffix}"
    # copyfile, not copy2: the temporary file must look new, or a parallel write takes it for stale.
    _replace(target, lambda temp: shutil.copyfile(path, temp), mode_from=None)
    prune_backups(folder, path)
    return target


def prune_backups(folder: Path, path: Path) -> None:
    """Keep the newest BACKUPS_KEPT backups of `path` and the newest of each of BACKUP_DAYS_KEPT days."""
    # Only this workbook's backups: "KPR_alt.xlsx" shares the prefix "KPR_" with them.
    own = re.compile(re.escape(path.stem) + r"_(\d{8})-\d{6}-\d{6}" + re.escape(path.suffix))
    found = sorted((p.name, p) for p in folder.iterdir() if own.fullmatch(p.name))
    backups = [p for _, p in found]  # oldest first: the stamp sorts by time
    keep = set(backups[-BACKUPS_KEPT:])
    newest_of_day: dict[str, Path] = {}
    for backup in backups:
        match = own.fullmatch(backup.name)
        assert match is not None
        newest_of_day[match.group(1)] = backup
    for day in sorted(newest_of_day)[-BACKUP_DAYS_KEPT:]:
        keep.add(newest_of_day[day])
    for stale in backups:
        if stale not in keep:
            stale.unlink(missing_ok=True)
