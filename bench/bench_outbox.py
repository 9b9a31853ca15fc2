"""Time of a 40-message run of the outbox transport (each message: .docx + .pdf attachment).

Prints the best and median of several runs, for small and for realistic attachment sizes.

    PYTHONPATH=. python bench/bench_outbox.py
"""

from __future__ import annotations

import statistics
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from kpr_excel.mail.transports import TransportSettings, make_transport
from tests.mail.conftest import DOCX, attachment_bytes, build_message

RECIPIENTS = 40
RUNS = 7


def planned(docx_size: int, pdf_size: int) -> list[EmailMessage]:
    messages = []
    for number in range(1, RECIPIENTS + 1):
        message = build_message(number, with_attachments=False)
        maintype, subtype = DOCX.split("/")
        message.add_attachment(attachment_bytes(f"d{number}", docx_size), maintype=maintype, subtype=subtype,
                               filename="Einladung.docx")
        message.add_attachment(attachment_bytes(f"p{number}", pdf_size), maintype="application", subtype="pdf",
                               filename="Einladung.pdf")
        messages.append(message)
    return messages


def main() -> None:
    for label, docx_size, pdf_size in (("small (3 KB + 5 KB)", 3_000, 5_000),
                                       ("realistic (40 KB + 120 KB)", 40_000, 120_000)):
        messages = planned(docx_size, pdf_size)
        timings = []
        for _run in range(RUNS):
            with tempfile.TemporaryDirectory() as temp:
                settings = TransportSettings(kind="outbox", outbox_dir=Path(temp) / "Postausgang")
                started = time.perf_counter()
                sent = make_transport(settings).send_messages(messages)
                timings.append(time.perf_counter() - started)
                assert sent == RECIPIENTS
                size = sum(p.stat().st_size for p in settings.outbox_dir.iterdir())
        print(
            f"outbox, {RECIPIENTS} messages, attachments {label}: best {min(timings) * 1000:.1f} ms, "
            f"median {statistics.median(timings) * 1000:.1f} ms, {size / 1e6:.1f} MB written (fsync per file)"
        )


if __name__ == "__main__":
    main()
