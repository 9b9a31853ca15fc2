"""What the pre-flight adds to planning a send: prepare_send with it, beside prepare_send without it.

The floor is prepare_send on the demo workbook with the pre-flight replaced by a function that
finds nothing; the row of interest is the same call with the pre-flight (lock files, an
openpyxl read-only look at Sitzungen and Versand, a probe file per folder, free space, the data
checks). Both run alternately in one process, so that a busy machine slows both alike.

Usage: python bench/bench_preflight.py [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from kpr_excel.app import jobs, preflight
from kpr_excel.app import send as send_job
from kpr_excel.book.demo import demo_data
from kpr_excel.book.loader import load_file

STICHTAG = date(2026, 11, 29)
SESSION = "KPR-2026-4"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    with tempfile.TemporaryDirectory() as folder:
        path = jobs.new_workbook(Path(folder) / "KPR.xlsx", data=demo_data(STICHTAG))
        loaded = load_file(path)
        real = preflight.check_send
        timings: dict[str, list[float]] = {"ohne Vorabprüfung (Boden)": [], "mit Vorabprüfung": []}
        for _ in range(runs):
            for label, check in (("ohne Vorabprüfung (Boden)", lambda *a, **k: ()), ("mit Vorabprüfung", real)):
                preflight.check_send = check
                start = time.perf_counter()
                prepared = send_job.prepare_send(path, loaded, SESSION, "Einladung", stichtag=STICHTAG)
                timings[label].append(time.perf_counter() - start)
                assert not prepared.plan.blocked
        preflight.check_send = real
    floor = statistics.median(timings["ohne Vorabprüfung (Boden)"])
    for label, values in timings.items():
        median = statistics.median(values)
        print(f"{label:28} {median * 1000:8.1f} ms  {median / floor:5.2f} x Boden")


if __name__ == "__main__":
    main()
