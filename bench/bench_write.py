"""One write-back (the send log of 32 messages and a session's status, patched into the package)
beside one openpyxl load-and-save of the same workbook, on the demo and on the ten-year workbook.

Measured alternately in one run (patch, openpyxl, patch, ...), best of RUNS each; the ratio is
patch / openpyxl (below 1.0: the patch is faster). Both include reading and writing the file;
the patch also writes its backup and replaces the file atomically, as a real write does.

    PYTHONPATH=. python bench/bench_write.py
"""

from __future__ import annotations

import io
import random
import shutil
import tempfile
import time
import warnings
from datetime import datetime
from pathlib import Path

import openpyxl

from bench.bench_pruefen import STICHTAG, ten_years
from kpr_excel.app.jobs import new_workbook
from kpr_excel.book.demo import demo_data
from kpr_excel.book.edits import Edits, SetCells, UpsertRows
from kpr_excel.book.loader import load_file
from kpr_excel.book.writer import write_edits
from kpr_excel.domain import schema

RUNS = 5
MESSAGES = 32


def send_edits(path: Path) -> Edits:
    session = load_file(path).model.sessions[-1].id
    now = datetime.now().replace(microsecond=0)
    rows = tuple(dict(key=f"{session}|Einladung|P{n:02}|v1", session=session, document="Einladung",
                      recipient=f"P{n:02}", email=f"p{n:02}@kpr.example", version="v1", transport="outbox",
                      state="gesendet", timestamp=now, error="") for n in range(MESSAGES))
    return Edits((UpsertRows(schema.VERSAND.name, "key", rows),
                  SetCells(schema.SITZUNGEN.name, "id", ((session, "status", schema.STATUS_EINGELADEN),
                                                         (session, "invitation_sent", now.date())))))


def patch_once(source: Path, work: Path, edits: Edits) -> float:
    shutil.copyfile(source, work)
    started = time.perf_counter()
    write_edits(work, edits, side_file_allowed=False)
    return time.perf_counter() - started


def openpyxl_once(source: Path, work: Path) -> float:
    shutil.copyfile(source, work)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        book = openpyxl.load_workbook(io.BytesIO(work.read_bytes()))
    book.save(work)
    return time.perf_counter() - started


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        print(f"{'Mappe':<12} {'Patch':>9} {'openpyxl':>9} {'Verhältnis':>10}")
        for label, make in (("Demo", lambda: demo_data(STICHTAG)),
                            ("Zehn Jahre", lambda: ten_years(random.Random(7)))):
            source = new_workbook(root / f"{label}.xlsx".replace(" ", "_"), data=make())
            edits = send_edits(source)
            patched, saved = [], []
            for run in range(RUNS):
                patched.append(patch_once(source, root / f"p{run}.xlsx", edits))
                saved.append(openpyxl_once(source, root / f"o{run}.xlsx"))
            best_patch, best_save = min(patched), min(saved)
            print(f"{label:<12} {best_patch * 1000:>7.0f}ms {best_save * 1000:>7.0f}ms {best_patch / best_save:>10.2f}")


if __name__ == "__main__":
    main()
