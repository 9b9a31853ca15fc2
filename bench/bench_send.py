"""The whole send job (`kpr einladung senden`) for 40 recipients: outbox time and EWS requests.

The demo workbook (Stichtag 29.11.2026) with 19 extra members, so that the invitation of
KPR-2026-4 goes to 40 recipients (39 members, one guest with her own version), its documents
already made. Each run works on a fresh copy and goes through the command as the office calls
it: check, plan, attachments from the output folder, send, send log written to the workbook
(twice: "geplant" before, the outcome after).

- outbox: best and median of several runs, and a second run that finds everything sent;
- the journal's cost: the same 40-message outbox send with the journal on disk (DELETE mode,
  synchronous=FULL, a commit before and after each message) and with an in-memory journal
  (no file, no fsync: as if there were none), measured alternately, as a ratio of medians;
- Exchange against the tests' loopback EWS endpoint (real NTLM, TLS with a throw-away CA): the
  SOAP operations of a first run and of a second one, against the goal of at most 3 requests
  plus one per chunk.

    PYTHONPATH=. python bench/bench_send.py
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from pathlib import Path

from kpr_excel.app import send as send_job
from kpr_excel.book.demo import demo_data
from kpr_excel.book.loader import load_file
from kpr_excel.sending import journal as journals
from tests.mail.conftest import EWS_PASSWORD, EWS_USER, SENDER
from tests.sending.conftest import (
    STICHTAG,
    before_invitation,
    build_base,
    copy_base,
    exchange_settings,
    send,
    with_extra_members,
)
from tests.servers.ews import EwsServer
from tests.servers.tls import TestCA

RUNS = 5


def timed_send(book: Path) -> float:
    started = time.perf_counter()
    result = send(book)
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"send failed ({result.exit_code}): {result.output}")
    return elapsed


def outbox(base: Path, work: Path) -> None:
    first, second = [], []
    for run in range(RUNS):
        book = copy_base(base, work / f"outbox-{run}")
        first.append(timed_send(book))
        second.append(timed_send(book))
    messages = len(list((book.parent / "Ausgabe" / "Postausgang").glob("*.eml")))
    log = len(load_file(book).model.send_log)
    print(f"outbox, {messages} messages through the whole job (Versand rows: {log}): "
          f"best {min(first):.2f} s, median {statistics.median(first):.2f} s; "
          f"second run (nothing to send): median {statistics.median(second):.2f} s")


class _MemoryJournal(journals.Journal):
    """The journal without a file: what a send costs without the durable journal."""

    def __init__(self, path: Path) -> None:
        super().__init__(Path(":memory:"))


def journal_cost(base: Path, work: Path) -> None:
    with_journal, without = [], []
    for run in range(RUNS):
        for label, timings in (("disk", with_journal), ("memory", without)):
            book = copy_base(base, work / f"journal-{label}-{run}")
            if label == "memory":
                send_job.journals.Journal = _MemoryJournal  # type: ignore[misc]
            try:
                timings.append(timed_send(book))
            finally:
                send_job.journals.Journal = journals.Journal  # type: ignore[misc]
    disk, memory = statistics.median(with_journal), statistics.median(without)
    print(f"journal, 40 messages to the outbox: with the journal on disk median {disk:.2f} s "
          f"(best {min(with_journal):.2f} s), without (in memory) median {memory:.2f} s "
          f"(best {min(without):.2f} s): ratio {disk / memory:.3f}")


def exchange(base: Path, work: Path) -> None:
    ca = TestCA(work / "ca")
    cert = ca.issue()
    os.environ["KPR_PASSWORT"] = EWS_PASSWORD
    for chunk_size in (10, 20):
        with EwsServer(cert, work / f"ews-{chunk_size}", {EWS_USER: EWS_PASSWORD}, mailbox=SENDER) as server:
            book = copy_base(base, work / f"exchange-{chunk_size}")
            exchange_settings(book, server, ca.ca_file, chunk_size=chunk_size)
            elapsed = timed_send(book)
            first = server.operations()
            http = len(server.requests)
            server.reset_records()
            timed_send(book)
            second = server.operations()
        delivered = len(server.delivered)
        chunks = math.ceil(delivered / chunk_size)
        budget = 3 + chunks
        print(f"exchange, chunk_size={chunk_size}: {delivered} messages delivered, first run "
              f"{len(first)} EWS requests (goal <= {budget}: {'ok' if len(first) <= budget else 'OVER'}) "
              f"{_counts(first)}, {http} HTTP requests incl. NTLM legs, {elapsed:.2f} s; "
              f"second run {len(second)} requests {_counts(second)}")


def _counts(operations: list[str]) -> dict[str, int]:
    return {op: operations.count(op) for op in dict.fromkeys(operations)}


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        started = time.perf_counter()
        base = build_base(work / "base", with_extra_members(before_invitation(demo_data(STICHTAG))))
        print(f"demo workbook with 40 recipients and its documents built in {time.perf_counter() - started:.2f} s")
        outbox(base, work)
        journal_cost(base, work)
        exchange(base, work)


if __name__ == "__main__":
    main()
