"""Time to render the demo's documents: one invitation, one set of minutes, the yearly report.

Rendering only (model already loaded, .docx bytes in memory), best and median of several
runs; the first run of each is reported separately because it pays for imports (docxtpl,
python-docx, Pillow for the chart). Optionally also the PDF conversion through LibreOffice
of all of them in one call.

    PYTHONPATH=. python bench/bench_documents.py [--pdf]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from kpr_excel.app import jobs
from kpr_excel.book.demo import demo_data
from kpr_excel.documents import context, produce
from kpr_excel.documents.produce import EINLADUNG, NIEDERSCHRIFT, demo_choice, yearly_report_bytes
from kpr_excel.documents.render import render_docx

STICHTAG = date(2026, 11, 29)
RUNS = 9


def timed(function) -> tuple[float, list[float]]:
    started = time.perf_counter()
    function()
    first = time.perf_counter() - started
    timings = []
    for _ in range(RUNS):
        started = time.perf_counter()
        function()
        timings.append(time.perf_counter() - started)
    return first, timings


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        workbook = Path(temp) / "KPR-Demo.xlsx"
        jobs.new_workbook(workbook, data=demo_data(STICHTAG))
        started = time.perf_counter()
        model, _ = produce.load_workbook(workbook)
        print(f"load demo workbook: {(time.perf_counter() - started) * 1000:.0f} ms")
        choice = demo_choice(model, STICHTAG)
        einladung = produce.template_path(EINLADUNG)
        niederschrift = produce.template_path(NIEDERSCHRIFT)
        cases = {
            f"invitation {choice.next_session.id}": lambda: render_docx(
                einladung, context.invitation_context(model, choice.next_session, today=STICHTAG)),
            f"minutes {choice.last_held.id}": lambda: render_docx(
                niederschrift, context.minutes_context(model, choice.last_held, today=STICHTAG, draft=False)),
            f"yearly report {choice.year} (with chart)": lambda: yearly_report_bytes(
                model, choice.year, today=STICHTAG),
        }
        for label, function in cases.items():
            first, timings = timed(function)
            print(f"{label}: first {first * 1000:.0f} ms, then best {min(timings) * 1000:.0f} ms, "
                  f"median {statistics.median(timings) * 1000:.0f} ms")
        if "--pdf" in sys.argv:
            from kpr_excel.documents.office import convert

            paths = produce.write_demo_documents(workbook, model, STICHTAG, say=lambda line: None)
            started = time.perf_counter()
            convert(paths, "pdf", Path(temp) / "pdf")
            print(f"PDF of {len(paths)} documents in one soffice call: {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
