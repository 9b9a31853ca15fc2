"""A 40-recipient invitation through Exchange with a fault at every point, then one more run.

After the failing run and one more, the server's own record must hold every planned message
exactly once (no duplicates, none lost) and the Versand sheet must say what the server has.
The failing run ends with a German message and exit code 1, never with a traceback.
"""

from __future__ import annotations

import pytest

from kpr_excel.sending.dispatch import STATE_FAILED, STATE_SENT
from tests.sending.conftest import (
    EWS_PASSWORD,
    SESSION,
    STICHTAG,
    assert_clean_exit,
    copy_base,
    exchange_settings,
    model_of,
    planned,
    send,
    send_log,
    squeeze,
)
from tests.servers.ews import Fault

pytestmark = pytest.mark.slow  # an EWS server for each case

RECIPIENTS = 40
CHUNK = 10
REFUSED = "Exchange-Server hat mit einem Fehler geantwortet (HTTP 500)"
BUSY = "Exchange-Server ist ausgelastet"
RESUMABLE = "der Rest kann ohne Doppelungen nachgesendet werden"

# (fault, exit code of the failing run, what its message must say)
CASES = [
    pytest.param(Fault("http500", nth=1), 1, REFUSED, id="500-first-chunk"),
    pytest.param(Fault("http500", nth=3, after_items=4), 1, REFUSED, id="500-after-4-of-chunk-3"),
    pytest.param(Fault("http500", operation="GetFolder", nth=1), 1, REFUSED, id="500-at-login"),
    pytest.param(Fault("http503", nth=2, retry_after=1), 0, "", id="503-retry-after-1s"),
    pytest.param(Fault("http503", nth=2, retry_after=600), 1, BUSY, id="503-retry-after-too-long"),
    pytest.param(Fault("busy", nth=1, back_off_ms=100), 0, "", id="server-busy-short"),
    pytest.param(Fault("busy", nth=3, back_off_ms=600_000), 1, BUSY, id="server-busy-too-long"),
    pytest.param(Fault("drop", nth=1), 1, RESUMABLE, id="dropped-after-0"),
    pytest.param(Fault("drop", nth=2, after_items=7), 1, RESUMABLE, id="dropped-after-17"),
    pytest.param(Fault("drop", nth=4, after_items=10), 1, RESUMABLE, id="dropped-after-all-40"),
]


@pytest.fixture
def forty(forty_base, tmp_path, ews_server, test_ca, monkeypatch):
    path = copy_base(forty_base, tmp_path / "Ablage")
    exchange_settings(path, ews_server, test_ca.ca_file, chunk_size=CHUNK)
    ews_server.submit_lag = 3  # sent messages linger in the Outbox for a while, as on a real server
    monkeypatch.setenv("KPR_PASSWORT", EWS_PASSWORD)
    return path


def delivered_ids(server) -> list[str]:
    return [m.message_id for m in server.delivered]


def assert_log_matches_server(path, server, *, complete: bool) -> None:
    """Every row says gesendet exactly when the server holds the message; with `complete`, all do."""
    plan = planned(path)
    log = send_log(path)
    have = {m.message_id: m for m in server.delivered}
    for key, entry in log.items():
        message_id = plan[key].message_id
        if entry.state == STATE_SENT:
            assert message_id in have, f"{key}: logged as sent, the server does not have it"
            assert have[message_id].to == (entry.email,)
        else:
            assert entry.state == STATE_FAILED and entry.error, key
    if complete:
        assert set(log) == set(plan)
        assert {entry.state for entry in log.values()} == {STATE_SENT}


def assert_exactly_once(path, server) -> None:
    got = delivered_ids(server)
    assert len(got) == len(set(got)), "duplicates"
    assert set(got) == {d.message_id for d in planned(path).values()}, "lost messages"
    saved = {m.message_id for m in server.folder("sentitems") + server.folder("outbox")}
    assert saved == set(got)


def test_the_forty_plan(forty):
    assert len(planned(forty)) == RECIPIENTS


@pytest.mark.parametrize(("fault", "exit_code", "says"), CASES)
def test_fault_then_one_more_run_gives_every_message_exactly_once(forty, ews_server, fault, exit_code, says):
    ews_server.inject(fault)
    before = forty.read_bytes()
    first = send(forty)
    assert_clean_exit(first, exit_code)
    assert fault.fired
    assert squeeze(says) in squeeze(first.output)
    if fault.operation == "GetFolder":
        assert ews_server.delivered == [] and forty.read_bytes() == before  # failed at login: nothing
    else:
        assert_log_matches_server(forty, ews_server, complete=exit_code == 0)
    if exit_code:
        assert model_of(forty).session(SESSION).invitation_sent is None
    if exit_code and fault.operation == "CreateItem":
        confirmed = sum(e.state == STATE_SENT for e in send_log(forty).values())
        assert confirmed == CHUNK * (fault.nth - 1)  # the chunks the server answered
        assert squeeze(f"Insgesamt bestätigt: {confirmed} von {RECIPIENTS}") in squeeze(first.output)
        assert squeeze("Ein erneuter Aufruf versendet nur, was noch fehlt.") in squeeze(first.output)

    second = send(forty)
    assert_clean_exit(second, 0)
    assert_exactly_once(forty, ews_server)
    assert_log_matches_server(forty, ews_server, complete=True)
    assert model_of(forty).session(SESSION).invitation_sent == STICHTAG


def test_wrong_password_sends_nothing_then_the_right_one_sends_all(forty, ews_server, monkeypatch):
    before = forty.read_bytes()
    monkeypatch.setenv("KPR_PASSWORT", "Falsch-123")
    first = send(forty)
    assert_clean_exit(first, 1)
    assert squeeze("Anmeldung am Exchange-Server fehlgeschlagen") in squeeze(first.output)
    assert "Falsch-123" not in first.output
    assert ews_server.operations() == [] and ews_server.delivered == []
    assert forty.read_bytes() == before

    monkeypatch.setenv("KPR_PASSWORT", EWS_PASSWORD)
    assert_clean_exit(send(forty), 0)
    assert_exactly_once(forty, ews_server)
    assert_log_matches_server(forty, ews_server, complete=True)


def test_forty_take_one_login_and_one_request_per_chunk(forty, ews_server):
    assert_clean_exit(send(forty), 0)
    operations = ews_server.operations()
    assert operations.count("CreateItem") == RECIPIENTS // CHUNK
    assert len(operations) <= 3 + RECIPIENTS // CHUNK  # the goal: at most 3 plus one per chunk
    assert len({r.connection for r in ews_server.requests}) == 1  # one NTLM handshake, kept alive
