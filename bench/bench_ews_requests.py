"""How many EWS requests does sending to 40 recipients cost? (goal: at most 3 + one per chunk)

Runs the Exchange transport against the loopback EWS endpoint of the tests (real NTLM, TLS with
a throw-away CA) and prints the SOAP operations the server answered, the HTTP requests including
the NTLM handshake legs, and the wall time.

    PYTHONPATH=. python bench/bench_ews_requests.py
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from kpr_excel.mail.transports import TransportSettings, make_transport, message_id
from tests.mail.conftest import EWS_PASSWORD, EWS_USER, SENDER, build_message
from tests.servers.ews import EwsServer
from tests.servers.tls import TestCA

RECIPIENTS = 40


def run(directory: Path, cert, ca_file: Path, chunk_size: int, ask_first: bool) -> None:
    with EwsServer(cert, directory / f"ews-{chunk_size}-{ask_first}", {EWS_USER: EWS_PASSWORD}) as server:
        settings = TransportSettings(
            kind="exchange", ews_url=server.url, mailbox=SENDER, username=EWS_USER,
            chunk_size=chunk_size, ca_bundle=ca_file, timeout=30,
        )
        messages = [build_message(n) for n in range(1, RECIPIENTS + 1)]
        started = time.perf_counter()
        with make_transport(settings, password=EWS_PASSWORD) as transport:
            if ask_first:
                transport.already_sent([message_id(m) for m in messages])
            sent = transport.send_messages(messages)
        elapsed = time.perf_counter() - started
        operations = server.operations()
        chunks = math.ceil(RECIPIENTS / chunk_size)
        budget = 3 + chunks
        counts = {op: operations.count(op) for op in dict.fromkeys(operations)}
        print(
            f"chunk_size={chunk_size:3d} already_sent first={'yes' if ask_first else 'no ':3s} "
            f"sent={sent} EWS requests={len(operations)} (goal <= {budget}: "
            f"{'ok' if len(operations) <= budget else 'OVER'}) {counts} "
            f"HTTP requests incl. NTLM legs={len(server.requests)} time={elapsed * 1000:.0f} ms"
        )


def main() -> None:
    started = time.perf_counter()
    import kpr_excel.mail._ews  # noqa: F401 - exchangelib, imported once per process

    print(f"import of exchangelib (once per process, not in the times below): "
          f"{(time.perf_counter() - started) * 1000:.0f} ms")
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp)
        ca = TestCA(directory)
        cert = ca.issue()
        for chunk_size in (10, 20, 100):
            for ask_first in (False, True):
                run(directory, cert, ca.ca_file, chunk_size, ask_first)


if __name__ == "__main__":
    main()
