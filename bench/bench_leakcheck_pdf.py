"""Time the last line of § 8 on a guest's PDF: pypdf (what leakcheck does) against pdftotext.

The guest's invitation of the demo's next session is made and converted by LibreOffice once;
then, alternately in one run, the same bytes are searched by `leakcheck.leaks` (pypdf, in
process) and read by the `pdftotext` program (poppler, a process per PDF, what the check used
before). Reported: median ms of each and the ratio pypdf / pdftotext, and the one-off cost of
importing pypdf in a fresh process (paid only by a send that has a PDF for an outsider).

Usage: python bench/bench_leakcheck_pdf.py [--runs 15]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from kpr_excel.app import jobs
    from kpr_excel.book.demo import demo_data
    from kpr_excel.documents import produce
    from kpr_excel.documents.office import convert
    from kpr_excel.sending.leakcheck import leaks, secrets_of
    from tests.documents.conftest import STICHTAG

    folder = Path(tempfile.mkdtemp(prefix="kpr-bench-pdf-"))
    try:
        workbook = jobs.new_workbook(folder / "KPR.xlsx", data=demo_data(STICHTAG))
        model, _ = produce.load_workbook(workbook)
        session = produce.demo_choice(model, STICHTAG).next_session
        output = produce.write_invitation(workbook, model, session.id, today=STICHTAG)
        guest = next(f.path for f in output.files if "_Gast_" in f.path.name)
        (pdf,) = convert([guest], "pdf", folder / "pdf")
        data = pdf.read_bytes()
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "gs@stadt.example", "gast@ngo.example", "Einladung"
        message.set_content("Guten Tag")
        message.add_attachment(data, maintype="application", subtype="pdf", filename=pdf.name)
        secrets = secrets_of(model, session)
        tool = shutil.which("pdftotext")
        ours, theirs = [], []
        for _ in range(runs):
            start = time.perf_counter()
            assert leaks(message, secrets, frozenset()) == []
            ours.append(time.perf_counter() - start)
            if tool:
                start = time.perf_counter()
                subprocess.run([tool, "-q", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
                theirs.append(time.perf_counter() - start)
        imports = []
        for _ in range(5):
            done = subprocess.run([sys.executable, "-X", "importtime", "-c", "import pypdf"], capture_output=True,
                                  text=True, check=True)
            imports.append(int(done.stderr.strip().splitlines()[-1].split("|")[1]) / 1000)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"PDF {len(data)} bytes, {runs} runs")
    print(f"leaks() with pypdf:   {statistics.median(ours) * 1000:7.1f} ms median")
    if theirs:
        print(f"pdftotext process:    {statistics.median(theirs) * 1000:7.1f} ms median")
        print(f"ratio pypdf/pdftotext: {statistics.median(ours) / statistics.median(theirs):6.2f}")
    print(f"import pypdf (fresh process, cumulative): {statistics.median(imports):.1f} ms median")


if __name__ == "__main__":
    main()
