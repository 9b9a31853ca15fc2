"""The send journal itself, and how often a send touches the workbook."""

from __future__ import annotations

import sqlite3

from kpr_excel.app.send import journal_file
from kpr_excel.book import loader, writer
from kpr_excel.sending import journal as journals
from kpr_excel.sending.dispatch import STATE_PREPARED
from tests.sending.conftest import SESSION, assert_clean_exit, kpr, model_of, planned, send, send_log, squeeze


def test_journal_commits_each_change_and_never_uses_wal(tmp_path):
    path = tmp_path / "KPR.versand.sqlite"
    with journals.Journal(path) as journal:
        journal.plan([dict(key="S|Einladung|P01|v1|smtp", delivery="S|Einladung|P01|v1", session="S",
                           document="Einladung", recipient="P01", channel="smtp")])
        journal.mark(["S|Einladung|P01|v1|smtp"], journals.IN_FLIGHT)
        # Another connection (another process) sees the committed state at once.
        other = sqlite3.connect(path)
        assert other.execute("SELECT state, attempts FROM messages").fetchall() == [("wird gesendet", 1)]
        assert other.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        other.close()
    assert not path.with_name(path.name + "-wal").exists()


def test_a_send_reads_the_workbook_once_and_writes_it_once(book, monkeypatch):
    reads, writes = [], []
    real_read, real_write = loader.read_book, writer.write_edits
    monkeypatch.setattr(loader, "read_book", lambda path, **kw: reads.append(path) or real_read(path, **kw))
    monkeypatch.setattr(writer, "write_edits", lambda path, edits, **kw: writes.append(edits) or real_write(
        path, edits, **kw))
    saves = []
    real_save = writer.write_bytes_atomically
    monkeypatch.setattr(writer, "write_bytes_atomically", lambda *a, **kw: saves.append(a) or real_save(*a, **kw))
    assert_clean_exit(send(book), 0)
    assert len(reads) == 1
    assert len(writes) == len(saves) == 1  # the Versand sheet from the journal, at the end
    assert {e.state for e in send_log(book).values()} == {STATE_PREPARED}


def test_prepared_mail_counts_as_sent_only_when_the_office_confirms_it(book):
    assert_clean_exit(send(book), 0)
    assert model_of(book).session(SESSION).invitation_sent is None
    result = kpr("versand", "bestaetigen", book, SESSION, "--stichtag", "29.11.2026")
    assert_clean_exit(result, 0)
    assert squeeze(f"{len(planned(book))} bereitgestellte Nachrichten als versandt bestätigt") in squeeze(result.output)
    session = model_of(book).session(SESSION)
    assert session.invitation_sent is not None and session.status == "eingeladen"
    log = send_log(book)
    assert {e.state for e in log.values()} == {"gesendet"} and set(log) == set(planned(book))
    with journals.Journal(journal_file(book, model_of(book))) as journal:
        assert {str(e.state) for e in journal.entries(SESSION)} == {"gesendet"}
    again = kpr("versand", "bestaetigen", book, SESSION, "--stichtag", "29.11.2026")
    assert squeeze("0 bereitgestellte Nachrichten") in squeeze(again.output)


def test_a_send_held_by_another_workstation_is_refused_naming_who(book):
    lock = journals.lock_path(journal_file(book, model_of(book)))
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text('{"user": "mmueller", "host": "PC-GS-07", "pid": 4711, "started": "2026-11-29T09:15:00"}')
    result = send(book)
    assert_clean_exit(result, 1)
    assert squeeze("läuft bereits: mmueller auf dem Rechner PC-GS-07 seit 29.11.2026 09:15") in squeeze(result.output)
    assert not list((journal_file(book, model_of(book)).parent / "Postausgang").glob("*.eml"))
    assert lock.exists()  # not ours to remove


def test_a_lost_journal_is_rebuilt_from_the_versand_sheet(book):
    assert_clean_exit(send(book), 0)
    journal_file(book, model_of(book)).unlink()
    for eml in (journal_file(book, model_of(book)).parent / "Postausgang").glob("*.eml"):
        eml.unlink()  # not even the channel remembers
    again = send(book)
    assert_clean_exit(again, 0)
    assert squeeze(f"{len(planned(book))} bereits früher erledigt") in squeeze(again.output)


def test_an_old_outbox_row_saying_gesendet_is_taken_as_prepared_so_smtp_still_sends(book):
    """Before the journal, the outbox logged "gesendet" under a key without the channel."""
    from kpr_excel.book.edits import Edits, UpsertRows
    from kpr_excel.book.writer import write_edits
    from kpr_excel.domain import schema
    from kpr_excel.sending.dispatch import _journal_rows

    plan = planned(book)
    old = tuple(dict(key=key, session=SESSION, document="Einladung", recipient=d.recipient.id, transport="outbox",
                     state="gesendet") for key, d in plan.items())
    write_edits(book, Edits((UpsertRows(schema.VERSAND.name, "key", old),)))
    model = model_of(book)
    from kpr_excel.sending.plan import make_plan

    rows = _journal_rows(make_plan(model, SESSION, "Einladung"), "smtp", model)
    assert {(r["channel"], r["state"]) for r in rows} == {("outbox", "bereitgestellt"), ("smtp", "geplant")}
