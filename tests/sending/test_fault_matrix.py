"""The fault matrix: every channel, a send broken in every way the office meets, then one more run.

Each broken send runs `kpr einladung senden` in a fresh Python (a subprocess), so that SIGKILL
is a real crash: nothing after it runs, no `finally`, no flush. The faults:

- killed at a message boundary (the journal recorded message n) and inside a message (the
  channel took message n, the journal does not know yet; for SMTP and Exchange the server
  itself kills the client when it has taken message n, before it answers);
- Ctrl+C (SIGINT): the run stops after the current message and says what went out;
- the workbook opened in Excel mid-send (its lock file appears);
- two runs started together;
- the server failing after k messages.

After the next run each channel's own record (the .eml files, what aiosmtpd accepted, what the
EWS server delivered) holds every planned message exactly once, or the one in doubt is reported
as unsicher and not resent; the journal, the Versand sheet and the server agree.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from kpr_excel.app.send import OUTBOX_FOLDER, journal_file
from kpr_excel.domain.errors import KprError
from kpr_excel.sending import journal as journals
from kpr_excel.sending.dispatch import STATE_PREPARED, STATE_SENT, STATE_UNCERTAIN
from tests.mail.conftest import load_ews_schema, schema_problems
from tests.sending.conftest import (
    DAY,
    EWS_PASSWORD,
    EWS_USER,
    SENDER,
    SESSION,
    SMTP_PASSWORD,
    SMTP_USER,
    copy_base,
    documents_folder,
    exchange_settings,
    model_of,
    outbox_received,
    planned,
    send,
    send_log,
    set_settings,
    squeeze,
)
from tests.servers.ews import EwsServer, Fault
from tests.servers.smtp import SmtpServer

pytestmark = pytest.mark.slow  # a fresh Python per broken run, and the mail servers

ROOT = Path(__file__).resolve().parents[2]
CHANNELS = ("outbox", "smtp", "exchange")
CHUNK = 5  # Exchange: 21 messages in 5 requests, so boundaries fall inside and between chunks


class Channel:
    """One channel's set-up and its own record of what it got."""

    def __init__(self, name: str, book: Path, request, server=None) -> None:
        """`server` for a channel of its own beside others (the sweep); else the test's fixture."""
        self.name, self.book, self.server = name, book, None
        self.password = ""
        if name == "smtp":
            self.server = server or request.getfixturevalue("smtp_server")
            shutil.copyfile(request.getfixturevalue("test_ca").ca_file, book.parent / "stadt-ca.pem")
            set_settings(book, transport="smtp", smtp_host="127.0.0.1", smtp_port=self.server.port,
                         smtp_user=SMTP_USER, ca_bundle="stadt-ca.pem")
            self.password = SMTP_PASSWORD
        elif name == "exchange":
            self.server = server or request.getfixturevalue("ews_server")
            exchange_settings(book, self.server, request.getfixturevalue("test_ca").ca_file, chunk_size=CHUNK)
            self.server.submit_lag = 3  # sent items linger in the Outbox, as on a real server
            self.password = EWS_PASSWORD
        request.getfixturevalue("monkeypatch").setenv("KPR_PASSWORT", self.password)

    @property
    def done(self) -> str:
        return STATE_PREPARED if self.name == "outbox" else STATE_SENT

    def received(self) -> list[str]:
        """Message-IDs the other side holds, in order, duplicates included."""
        if self.name == "outbox":
            return [g.message_id for g in outbox_received(self.book)]
        if self.name == "smtp":
            return [str(mail.message["Message-ID"]) for mail in self.server.received]
        return [m.message_id for m in self.server.delivered]

    def start(self, fault: str = "", *options: str) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "KPR_PASSWORT": self.password, "COLUMNS": "200"}
        env.pop("KPR_TEST_FAULT", None)
        if fault:
            env["KPR_TEST_FAULT"] = fault
        command = [sys.executable, "-m", "kpr_excel", "einladung", "senden", str(self.book), SESSION,
                   "--stichtag", DAY, *options]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    def run(self, fault: str = "", *options: str) -> tuple[int, str]:
        """A run in a fresh Python (with a fault); without one, the next run in this process
        (cheaper: the interpreter and its imports are there already)."""
        if not fault:
            result = send(self.book, *options)
            assert "Traceback" not in result.output and "Interner Fehler" not in result.output
            return result.exit_code, squeeze(result.output)
        process = self.start(fault, *options)
        output, _ = process.communicate(timeout=60)
        return process.returncode, output

    def taken_with(self, number: int) -> int:
        """How many messages the channel holds once message `number` is confirmed: Exchange
        confirms a whole chunk at once."""
        if self.name != "exchange":
            return number
        return min(21, -(-number // CHUNK) * CHUNK)

    def kill_on_message(self, number: int) -> list[subprocess.Popen]:
        """Make the server SIGKILL the client once it has taken message `number`, before answering."""
        victims: list[subprocess.Popen] = []
        taken = [0]
        if self.name == "smtp":
            handler = self.server.handler
            original = handler.handle_DATA

            async def handle_data(server, session, envelope):
                answer = await original(server, session, envelope)
                taken[0] += 1
                if taken[0] == number:
                    victims[0].kill()
                    victims[0].wait()
                return answer

            handler.handle_DATA = handle_data
        else:
            server = self.server
            original = server._op_CreateItem

            def create_item(request, fault):
                answer = original(request, fault)
                taken[0] += answer[1]
                if taken[0] >= number and victims and victims[0].poll() is None:
                    victims[0].kill()
                    victims[0].wait()
                return answer

            server._op_CreateItem = create_item
        return victims


@pytest.fixture(params=CHANNELS)
def channel(request, book) -> Channel:
    return Channel(request.param, book, request)


def journal_states(book: Path) -> dict[str, str]:
    with journals.Journal(journal_file(book, model_of(book))) as journal:
        return {e.delivery: str(e.state) for e in journal.entries(SESSION)}


def assert_agree(channel: Channel, *, uncertain: set[str] = frozenset()) -> None:
    """Exactly once on the other side; journal, Versand sheet and server say the same."""
    plan = planned(channel.book)
    got = channel.received()
    assert len(got) == len(set(got)), f"duplicates on {channel.name}: {sorted(m for m in got if got.count(m) > 1)}"
    assert set(got) == {d.message_id for d in plan.values()}, "lost messages"
    states = journal_states(channel.book)
    log = send_log(channel.book, channel.name)
    assert set(states) == set(log) == set(plan)
    for key in plan:
        expected = STATE_UNCERTAIN if key in uncertain else channel.done
        assert states[key] == expected == log[key].state, key
    if not uncertain and channel.name != "outbox":
        assert model_of(channel.book).session(SESSION).invitation_sent is not None
    if channel.name == "outbox":  # prepared, not sent: no date for the § 7 deadline
        assert model_of(channel.book).session(SESSION).invitation_sent is None


def uncertain_keys(channel: Channel, number: int) -> set[str]:
    """What a crash inside message `number` leaves in doubt: only SMTP cannot be asked."""
    if channel.name != "smtp":
        return set()
    states = journal_states(channel.book)
    return {key for key, state in states.items() if state in (STATE_UNCERTAIN, "wird gesendet")}


@pytest.mark.parametrize("number", [1, 10, 21])
def test_killed_at_a_message_boundary(channel, number):
    code, _ = channel.run(f"kill-after:{number}")
    assert code == -signal.SIGKILL
    taken = channel.taken_with(number)
    assert len(channel.received()) == taken
    code, output = channel.run()
    assert code == 0, output
    assert squeeze(f"{21 - taken} ") in output and squeeze(f"{taken} bereits früher erledigt") in output
    assert_agree(channel)


@pytest.mark.parametrize("number", [1, 11])
def test_killed_inside_a_message(channel, number):
    """The channel took message `number`, the journal still says "wird gesendet"."""
    code, _ = channel.run(f"kill-unrecorded:{number}")
    assert code == -signal.SIGKILL
    assert journal_states(channel.book)[_key_of(channel, number)] == "wird gesendet"
    code, output = channel.run()
    doubt = uncertain_keys(channel, number)
    if channel.name == "smtp":
        assert doubt == {_key_of(channel, number)}
        assert code == 1 and squeeze("1 unsicher") in output and "--unsicher-erneut" in output
    else:  # asked the channel: it has the message, nothing is in doubt
        assert code == 0, output
    assert_agree(channel, uncertain=doubt)


def _key_of(channel: Channel, number: int) -> str:
    """The delivery key of the n-th message the channel received."""
    by_id = {d.message_id: key for key, d in planned(channel.book).items()}
    return by_id[channel.received()[number - 1]]


@pytest.mark.parametrize("name", ["smtp", "exchange"])
def test_killed_by_the_server_while_it_takes_a_message(request, book, name):
    channel = Channel(name, book, request)
    victims = channel.kill_on_message(7)
    process = channel.start()
    victims.append(process)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    taken = len(channel.received())
    code, output = channel.run()
    doubt = uncertain_keys(channel, 7)
    if name == "smtp":
        assert taken == 7 and len(doubt) == 1 and code == 1 and "unsicher" in output
    else:
        assert taken == 10 and not doubt and code == 0, output  # the chunk that held message 7
    assert_agree(channel, uncertain=doubt)


def test_an_uncertain_message_goes_again_only_when_asked(request, book):
    channel = Channel("smtp", book, request)
    channel.run("kill-unrecorded:3")
    assert channel.run()[0] == 1
    assert len(channel.received()) == 21
    code, output = channel.run("", "--unsicher-erneut")
    assert code == 0, output
    got = channel.received()
    assert len(got) == 22 and len(set(got)) == 21  # the one the user chose to send again
    assert set(journal_states(book).values()) == {STATE_SENT}


def test_ctrl_c_stops_after_the_current_message_and_says_what_went_out(channel):
    code, output = channel.run("sigint-after:4")
    assert code == 1, output
    assert "Abgebrochen (Strg+C)" in output
    assert len(channel.received()) == (5 if channel.name == "exchange" else 4)  # the chunk in flight ends
    code, output = channel.run()
    assert code == 0, output
    assert_agree(channel)


def test_workbook_opened_in_excel_mid_send(channel):
    lock = channel.book.with_name("~$" + channel.book.name)
    before = channel.book.read_bytes()
    code, output = channel.run(f"touch-after:5:{lock}")
    assert code == 1
    assert "gerade in Excel geöffnet" in " ".join(output.split())
    assert "Versandjournal hält alles fest" in " ".join(output.split())
    assert len(channel.received()) == 21  # it all went out; the journal knows it
    assert channel.book.read_bytes() == before
    assert set(journal_states(channel.book).values()) == {channel.done}
    lock.unlink()
    code, output = channel.run()
    assert code == 0, output
    assert squeeze("21 bereits früher erledigt") in output
    assert_agree(channel)


def test_two_runs_started_together(channel):
    first, second = channel.start(), channel.start()
    outputs = [p.communicate(timeout=90)[0] for p in (first, second)]
    codes = sorted(p.returncode for p in (first, second))
    refused = [o for o in outputs if "Ein anderer Versand der Mappe KPR.xlsx läuft bereits" in " ".join(o.split())]
    # Either the second was refused (naming who holds it), or it came after the first and found all done.
    assert (codes == [0, 1] and len(refused) == 1) or codes == [0, 0], outputs
    if refused:
        assert "seit" in refused[0]
    assert_agree(channel)


@pytest.mark.parametrize("name", ["smtp", "exchange"])
def test_server_fails_after_some_messages(request, book, name):
    channel = Channel(name, book, request)
    if name == "smtp":
        channel.server.handler.fail_data_from = 9  # 8 accepted, then 451 for good
    else:
        channel.server.inject(Fault("http500", nth=2))  # the second chunk is refused
    code, output = channel.run()
    assert code == 1 and squeeze("Insgesamt bestätigt") in output
    assert len(channel.received()) == (8 if name == "smtp" else CHUNK)
    if name == "smtp":
        channel.server.handler.fail_data_from = None
    code, output = channel.run()
    assert code == 0, output
    assert_agree(channel)


def test_a_lock_of_another_workstation_is_refused_and_a_dead_local_one_taken_over(book):
    path = journals.lock_path(journal_file(book, model_of(book)))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"user": "mmueller", "host": "PC-GS-07", "pid": 4711, "started": "2026-11-29T09:15:00"}')
    lock = journals.SendLock(path, "KPR.xlsx")
    with pytest.raises(KprError, match=re.escape("mmueller auf dem Rechner PC-GS-07 seit 29.11.2026 09:15")):
        lock.acquire()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    import socket

    path.write_text(f'{{"user": "x", "host": "{socket.gethostname()}", "pid": {int(dead.stdout)}, '
                    '"started": "2026-11-29T09:15:00"}')
    with journals.SendLock(path, "KPR.xlsx"):
        assert str(os.getpid()) in path.read_text()
    assert not path.exists()


# The sweep: every message boundary and every message, a real SIGKILL each, several at once.
# Each case has its own copy of the workbook and its own server; the broken runs go in parallel
# subprocesses (they wait on the servers and the disk as much as on the CPU), the runs after
# them and the checks in this process, whose imports are loaded already.

PARALLEL = max(2, 2 * (os.cpu_count() or 1))
MESSAGES = 21
CHUNK_ENDS = sorted({0, *range(CHUNK, MESSAGES, CHUNK), MESSAGES})  # 0, 5, 10, 15, 20, 21


def sweep_cases(name: str) -> list[tuple[str, int]]:
    """(kind, n): ``after`` the journal recorded n (0: before the first), ``unrecorded`` the
    channel took n and the journal does not know, ``server`` the server kills the client when it
    has taken n. Exchange confirms a chunk at once: its boundaries are the chunks' ends, its
    messages the first of each chunk."""
    if name == "exchange":
        boundaries, inside = CHUNK_ENDS, [end + 1 for end in CHUNK_ENDS[:-1]]
    else:
        boundaries, inside = list(range(MESSAGES + 1)), list(range(1, MESSAGES + 1))
    cases = [("after", n) for n in boundaries] + [("unrecorded", n) for n in inside]
    if name != "outbox":
        cases += [("server", n) for n in inside]
    return cases


def _broken_run(channel: Channel, kind: str, number: int) -> tuple[int, str]:
    if kind == "server":
        victims = channel.kill_on_message(number)
        process = channel.start()
        victims.append(process)
    else:
        process = channel.start(f"kill-{kind}:{number}")
    output, _ = process.communicate(timeout=300)
    return process.returncode, output


def _check_case(channel: Channel, kind: str, number: int, broken: tuple[int, str], taken: int,
                in_flight: str, after: tuple[int, str]) -> None:
    assert broken[0] == -signal.SIGKILL, broken[1]
    code, output = after
    assert "Traceback" not in output and "InternerFehler" not in output, output
    if kind == "after":
        assert taken == channel.taken_with(number)
        assert code == 0, output
        assert squeeze(f"{MESSAGES - taken} ") in output
        if taken:
            assert squeeze(f"{taken} bereits früher erledigt") in output, output
        assert_agree(channel)
        return
    doubt = uncertain_keys(channel, number)
    if kind == "unrecorded":
        assert in_flight == "wird gesendet"
    if channel.name == "smtp":  # it cannot be asked: the one in flight is reported, not resent
        assert taken == number and len(doubt) == 1 and code == 1, output
        assert squeeze("1 unsicher") in output and "--unsicher-erneut" in output
    else:  # asked the channel: it has the message, nothing is in doubt
        assert taken == channel.taken_with(number) and not doubt and code == 0, output
    assert_agree(channel, uncertain=doubt)


def _duplicates(channel: Channel) -> int:
    got = channel.received()
    return len(got) - len(set(got))


@pytest.mark.parametrize("name", CHANNELS)
def test_killed_at_every_message_boundary_and_inside_every_message(request, demo_base, tmp_path, name):
    cases = sweep_cases(name)
    with ExitStack() as servers:
        channels = []
        for index, _ in enumerate(cases):
            book = copy_base(demo_base, tmp_path / f"fall{index}")
            server = None
            if name == "smtp":
                cert = request.getfixturevalue("server_cert")
                server = servers.enter_context(SmtpServer(cert, {SMTP_USER: SMTP_PASSWORD}))
            elif name == "exchange":
                cert = request.getfixturevalue("server_cert")
                server = servers.enter_context(EwsServer(cert, book.parent, {EWS_USER: EWS_PASSWORD},
                                                         auth="NTLM", mailbox=SENDER))
            channels.append(Channel(name, book, request, server=server))
        with ThreadPoolExecutor(PARALLEL) as pool:
            broken = list(pool.map(lambda c, case: _broken_run(c, *case), channels, cases))
        taken = [len(c.received()) for c in channels]
        in_flight = []
        for channel, (kind, number), count in zip(channels, cases, taken, strict=True):
            states = journal_states(channel.book)
            in_flight.append(states[_key_of(channel, number)] if kind == "unrecorded" and count >= number else "")
        after = [channel.run() for channel in channels]  # in this process: its imports are loaded
        problems, duplicates = [], 0
        for channel, case, *results in zip(channels, cases, broken, taken, in_flight, after, strict=True):
            duplicates += _duplicates(channel)
            try:
                _check_case(channel, *case, *results)
            except AssertionError as exc:
                problems.append(f"{name} {case[0]}:{case[1]}: {str(exc)[:300]}")
            schema = load_ews_schema() if name == "exchange" else None
            if schema is not None:  # as the ews_server fixture checks its server
                problems += [f"{name} {case[0]}:{case[1]}: {p}" for p in schema_problems(channel.server, schema)[:3]]
    print(f"\n{name}: {len(cases)} Fälle, {duplicates} doppelt")
    assert duplicates == 0
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("written", [0, 7, 20])
def test_outbox_disk_full_after_some_files(request, book, monkeypatch, written):
    """The disk fills up (ENOSPC) after `written` files; the next run writes the rest, each once."""
    channel = Channel("outbox", book, request)
    monkeypatch.setenv("KPR_TEST_FAULT", f"full-outbox:{written}")
    code, output = channel.run()
    assert code == 1, output
    assert squeeze(f"{MESSAGES - written} fehlgeschlagen") in output
    assert "DerSpeicherplatzistvoll" in output and "Nospace" not in output
    assert squeeze(f"Insgesamt bestätigt: {written} von {MESSAGES}") in output
    assert len(channel.received()) == written
    assert not list(book.parent.rglob(".*.eml.part"))  # no half message left behind
    states = journal_states(book)
    assert sum(state == STATE_PREPARED for state in states.values()) == written
    assert sum(state == "fehlgeschlagen" for state in states.values()) == MESSAGES - written
    monkeypatch.delenv("KPR_TEST_FAULT")
    code, output = channel.run()
    assert code == 0, output
    assert squeeze(f"{written} bereits früher erledigt") in output or not written
    assert_agree(channel)


def test_outbox_on_a_real_disk_that_fills_up(request, book, tmp_path):
    """The Postausgang folder on a small tmpfs (a private mount namespace, as root) that is full
    after some files: the write that does not fit fails for real; the next run, with room again,
    writes the rest, each message once."""
    from tests.app.test_preflight import _in_namespace, _kpr

    channel = Channel("outbox", book, request)
    folder = documents_folder(book) / OUTBOX_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    saved = tmp_path / "gerettet"
    size = 21 * 4096 * 3  # room for some of the 21 files (each some pages), not for all
    script = (f"mount -t tmpfs -o size={size} tmpfs {folder}\n"
              + _kpr("einladung", "senden", str(book), SESSION, "--stichtag", DAY, floor=0)
              + f"\nmkdir -p {saved}\ncp -a {folder}/. {saved}/\numount {folder}\ncp -a {saved}/. {folder}/\n")
    result = _in_namespace(script)
    out = squeeze(result.stdout + result.stderr)
    assert "exit=1" in out and "DerSpeicherplatzistvoll" in out and "Nospace" not in out, result.stdout + result.stderr
    assert "Traceback" not in out and "InternerFehler" not in out
    written = len(channel.received())
    assert 0 < written < MESSAGES, out
    assert not list(folder.glob(".*.eml.part"))
    states = journal_states(book)
    assert sum(state == STATE_PREPARED for state in states.values()) == written
    code, output = channel.run()
    assert code == 0, output
    assert squeeze(f"{written} bereits früher erledigt") in output
    assert_agree(channel)
