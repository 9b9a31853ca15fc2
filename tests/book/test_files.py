"""Backups and atomic replacement: which backups stay, and that no truncated file is left."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from kpr_excel.book import files
from kpr_excel.book.files import BACKUP_DAYS_KEPT, BACKUP_DIR, BACKUPS_KEPT, prune_backups, write_bytes_atomically
from kpr_excel.domain.errors import WorkbookNotWritable


def _backup_name(day: int, hour: int) -> str:
    return f"KPR_202701{day:02}-{hour:02}0000-000000.xlsx"


def test_the_last_ten_writes_and_the_newest_of_each_of_the_last_ten_days_are_kept(tmp_path):
    folder = tmp_path / BACKUP_DIR
    folder.mkdir()
    workbook = tmp_path / "KPR.xlsx"
    names = [_backup_name(day, hour) for day in range(1, 16) for hour in (8, 12, 16)]  # 15 days, 3 a day
    names += [_backup_name(16, hour) for hour in range(1, 13)]  # a busy 16th day: 12 writes
    other = "KPR_alt_20270101-080000-000000.xlsx"  # another workbook's backup shares the prefix
    for name in [*names, other]:
        (folder / name).write_bytes(name.encode())
    prune_backups(folder, workbook)
    kept = sorted(p.name for p in folder.iterdir())
    newest_writes = names[-BACKUPS_KEPT:]
    newest_of_days = [_backup_name(day, 16) for day in range(7, 16)] + [_backup_name(16, 12)]
    assert len(newest_of_days) == BACKUP_DAYS_KEPT
    assert kept == sorted({*newest_writes, *newest_of_days, other})


def test_a_write_keeps_a_backup_of_what_was_there(tmp_path):
    workbook = tmp_path / "KPR.xlsx"
    workbook.write_bytes(b"old")
    write_bytes_atomically(workbook, b"new")
    (backup,) = (tmp_path / BACKUP_DIR).iterdir()
    assert (workbook.read_bytes(), backup.read_bytes()) == (b"new", b"old")


def test_a_full_disk_during_the_backup_leaves_no_truncated_backup_and_the_workbook_untouched(tmp_path, monkeypatch):
    workbook = tmp_path / "KPR.xlsx"
    workbook.write_bytes(b"old workbook " * 1000)

    def full_disk(source, target, *args, **kwargs):
        Path(target).write_bytes(b"old wor")  # a truncated copy, then the disk is full
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.shutil, "copyfile", full_disk)
    with pytest.raises(WorkbookNotWritable, match=r"Datenträger ist voll: KPR\.xlsx wurde nicht geändert"):
        write_bytes_atomically(workbook, b"new")
    assert workbook.read_bytes() == b"old workbook " * 1000
    assert list((tmp_path / BACKUP_DIR).iterdir()) == []


def test_temporary_files_a_crash_left_behind_are_removed_at_the_next_write(tmp_path):
    workbook = tmp_path / "KPR.xlsx"
    workbook.write_bytes(b"old")
    (tmp_path / BACKUP_DIR).mkdir()
    stale = [tmp_path / ".~kpr-dead1.xlsx", tmp_path / BACKUP_DIR / ".~kpr-dead2.xlsx"]
    fresh = tmp_path / ".~kpr-running.xlsx"  # another write under way right now
    for path in [*stale, fresh]:
        path.write_bytes(b"PK half")
    old = time.time() - files.STALE_TEMP_SECONDS - 60
    for path in stale:
        os.utime(path, (old, old))
    write_bytes_atomically(workbook, b"new")
    assert not any(p.exists() for p in stale)
    assert fresh.exists()
    assert workbook.read_bytes() == b"new"


def test_an_error_other_than_a_full_disk_is_passed_on_and_the_workbook_kept(tmp_path, monkeypatch):
    workbook = tmp_path / "KPR.xlsx"
    workbook.write_bytes(b"old")

    def broken(*args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(PermissionError):
        write_bytes_atomically(workbook, b"new", backup=False)
    assert workbook.read_bytes() == b"old"
    assert not list(tmp_path.glob(".~kpr-*"))
