"""§ 8 as the other side sees it: what outsiders find in the outbox (.eml files) after a send.

The reproductions of issue 11: a working group's Gast (P31 in AG-WP), a stale invitation
after an item became confidential and the guest moved, and a Vertraulich cell typed
`ja (vertraulich!)`. Every assertion reads the messages the outbox wrote, never the plan.
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, time, timedelta

import docx
import pytest

from kpr_excel.app.jobs import new_workbook
from kpr_excel.book.demo import demo_data
from kpr_excel.book.edits import Edits, SetCells
from kpr_excel.book.writer import write_edits
from kpr_excel.documents.produce import write_invitation
from kpr_excel.domain import schema
from tests.sending.conftest import (
    BOOK,
    SESSION,
    STICHTAG,
    assert_clean_exit,
    before_invitation,
    documents_folder,
    model_of,
    outbox_received,
    send,
    squeeze,
)
from tests.sending.test_documents import edit_in_word

pytestmark = pytest.mark.slow  # workbooks made, documents rendered, the outbox written

AG = "AG-WP"
AG_NEXT = "AG-WP-2026-5"  # a coming meeting of the working group, added below
AG_HELD = "AG-WP-2026-3"  # held in August
SECRET = "Ermittlungsstand Drogenhandel Hauptbahnhof"
OPEN = "Beleuchtung der Unterführung"


def docx_all_text(data: bytes) -> str:
    """Paragraphs and table cells as Word shows them, plus every XML part's raw text."""
    document = docx.Document(io.BytesIO(data))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        raw = [archive.read(n).decode("utf-8", "replace") for n in archive.namelist() if n.endswith(".xml")]
    return "\n".join([p.text for p in document.paragraphs] + cells + raw)


def everything(got) -> str:
    """All an addressee can read in one message: subject, body, documents, calendar entries."""
    parts = [got.subject, got.body]
    for name, content in got.attachments:
        parts.append(docx_all_text(content) if name.endswith(".docx") else content.decode("utf-8", "replace"))
    parts += [content.decode("utf-8", "replace") for _, content in got.calendar]
    return "\n".join(parts)


def mails_to(book, address: str):
    return [g for g in outbox_received(book) if address in g.to or address in g.cc]


def with_working_group_items(data: dict) -> dict:
    """AG-WP meets again on 15.12.2026 and met in August, each time with a confidential item."""
    data = before_invitation(data)
    held = next(r for r in data["Sitzungen"] if r["id"] == AG_HELD)
    held["minutes_sent"] = None
    data["Sitzungen"].append({**held, "id": AG_NEXT, "number": 5, "date": date(2026, 12, 15),
                              "status": schema.STATUS_GEPLANT, "invitation_sent": None, "minutes_sent": None,
                              "reply_by": date(2026, 12, 8)})
    for sid in (AG_NEXT, AG_HELD):
        data["Tagesordnung"] += [
            dict(session=sid, number="3", title=SECRET, confidential=True, documents="Lage_HBF_vertraulich.pdf",
                 result="Lage vertraulich erörtert", presenter="Herr Görner"),
            dict(session=sid, number="4", title=OPEN, confidential=False, result="Lampen werden ersetzt",
                 presenter="Herr Görner"),
        ]
    data["Beschluesse"].append(dict(id="B-AG-3", session=AG_HELD, item="3", kind="Aufgabe",
                                    text="Verdeckte Maßnahme am Hauptbahnhof abstimmen", owner="P10",
                                    due=date(2026, 12, 1), state="in Arbeit"))
    return data


@pytest.fixture
def ag_book(tmp_path):
    return new_workbook(tmp_path / "Ablage" / BOOK, data=with_working_group_items(demo_data(STICHTAG)))


def p31_address(book) -> str:
    email = model_of(book).person("P31").email
    assert email
    return email


def test_a_working_groups_gast_gets_no_confidential_item_in_the_invitation(ag_book):
    assert_clean_exit(send(ag_book, session=AG_NEXT), 0)
    (mail,) = mails_to(ag_book, p31_address(ag_book))
    text = everything(mail)
    assert OPEN in text and SECRET not in text and "Lage_HBF_vertraulich" not in text
    assert mail.attachments[0][0].endswith("_Einladung_extern.docx")
    members = [g for g in outbox_received(ag_book) if g.message_id != mail.message_id]
    assert members and all(SECRET in everything(g) for g in members)  # the members' version has it


def test_a_working_groups_gast_gets_minutes_without_the_confidential_item(ag_book):
    assert_clean_exit(send(ag_book, document="niederschrift", session=AG_HELD), 0)
    (mail,) = mails_to(ag_book, p31_address(ag_book))
    text = everything(mail)
    assert "Lampen werden ersetzt" in text
    for secret in (SECRET, "Lage vertraulich erörtert", "Verdeckte Maßnahme", "Lage_HBF_vertraulich"):
        assert secret not in text
    members = [g for g in outbox_received(ag_book) if g.message_id != mail.message_id]
    assert members and all("Verdeckte Maßnahme" in everything(g) for g in members)


def test_the_dry_run_shows_each_recipients_version(ag_book):
    result = send(ag_book, "--probelauf", session=AG_NEXT)
    assert_clean_exit(result, 0)
    line = next(line for line in result.output.splitlines() if "Sarah Engel" in line)
    assert "extern" in line and "ohne vertrauliche Punkte" in line
    assert "Fassung: vollständig" in result.output
    assert not outbox_received(ag_book)


def test_the_last_line_holds_back_an_outsiders_message_that_names_a_confidential_title(tmp_path):
    """The office wrote the confidential title into the session's place too: every version shows it
    (letter, mail, .ics), so the leak check stops P31's message; the members' messages go out."""
    data = with_working_group_items(demo_data(STICHTAG))
    next(r for r in data["Sitzungen"] if r["id"] == AG_NEXT)["place"] = f"Polizeirevier, Raum {SECRET}"
    book = new_workbook(tmp_path / "Ablage" / BOOK, data=data)
    result = send(book, session=AG_NEXT)
    assert_clean_exit(result, 1)
    said = squeeze(result.output)
    assert squeeze("Gesperrt (§ 8)") in said and squeeze(f"„{SECRET}“") in said
    assert mails_to(book, p31_address(book)) == []
    members = outbox_received(book)
    assert members and all(SECRET in everything(g) for g in members)


def agenda_rows(book, session: str = SESSION) -> dict[str, tuple[str, str]]:
    """Each item's key in Tagesordnung (session, number), by its number."""
    return {item.number: (session, item.number) for item in model_of(book).agenda_of(session)}


AGENDA_KEY = ("session", "number")


def make_item_4_confidential_and_move_the_guest(book) -> None:
    rows = agenda_rows(book)
    write_edits(book, Edits((SetCells(schema.TAGESORDNUNG.name, AGENDA_KEY, (
        (rows["4"], "confidential", "ja"), (rows["4"], "guests", ""), (rows["5"], "guests", "P31"))),)))


TITLE_4 = "Bericht der AG „Sicherheit am Wiener Platz“ & Streetwork"
TITLE_5 = "Prävention von Jugendgewalt: Stand der Arbeitsgruppe"


def test_a_stale_guest_invitation_is_made_anew_before_it_is_sent(book):
    """The invitation was made (fixture), then TOP 4 became confidential and the guest moved to 5."""
    make_item_4_confidential_and_move_the_guest(book)
    assert_clean_exit(send(book), 0)
    (mail,) = mails_to(book, p31_address(book))
    text = everything(mail)
    assert TITLE_5 in text and TITLE_4 not in text
    assert "Tagesordnungspunkt 5" in mail.subject


def test_a_stale_guest_invitation_the_office_edited_stops_the_send(book):
    folder = documents_folder(book)
    (guest_file,) = folder.glob("*Einladung_Gast*.docx")
    edit_in_word(guest_file)
    make_item_4_confidential_and_move_the_guest(book)
    result = send(book)
    assert_clean_exit(result, 1)
    said = squeeze(result.output)
    assert "DOK-1" in said and squeeze(guest_file.name) in said and "bearbeitet" in said
    assert squeeze("TOP 4 „" + TITLE_4 + "“ entfällt") in said
    assert squeeze("TOP 5 „" + TITLE_5 + "“ kommt hinzu") in said
    assert outbox_received(book) == []  # nothing went out, to anyone


def test_an_unclear_confidentiality_cell_counts_as_confidential(book):
    rows = agenda_rows(book)
    write_edits(book, Edits((SetCells(schema.TAGESORDNUNG.name, AGENDA_KEY, (
        (rows["4"], "confidential", "ja (vertraulich!)"), (rows["5"], "guests", "P31"))),)))
    result = send(book)
    assert_clean_exit(result, 1)
    said = squeeze(result.output)
    assert "DATA-2" in said and squeeze("„ja (vertraulich!)“ ist weder ja noch nein") in said
    assert squeeze("bis zur Korrektur gilt der Punkt als vertraulich") in said
    assert outbox_received(book) == []
    # the guest version the office makes now lacks the item
    model = model_of(book)
    output = write_invitation(book, model, SESSION, today=STICHTAG, overwrite=True)
    guest = next(f.path for f in output.files if "Gast" in f.path.name)
    text = docx_all_text(guest.read_bytes())
    assert TITLE_5 in text and TITLE_4 not in text


def test_the_demo_meeting_times_are_what_the_tests_assume():
    data = with_working_group_items(demo_data(STICHTAG))
    ag = next(r for r in data["Sitzungen"] if r["id"] == AG_HELD)
    assert ag["date"] < STICHTAG and ag["start"] == time(10, 0)
    assert date(2026, 12, 15) - STICHTAG > timedelta(days=14)


# -- the property: generated workbooks, outsiders in every role ------------------------------------

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

GEN_SESSIONS = (("GEN-KPR", schema.GREMIUM_KPR, None), ("GEN-JF", schema.GREMIUM_JF, None),
                ("GEN-AG", schema.GREMIUM_AG, AG))
OUTSIDER_KINDS = ("gast", "ehemalig")  # a guest, a former member (inactive on the session day)


@st.composite
def workbooks(draw):
    """The demo plus outsiders as guests and AG participants, and sessions with confidential items."""
    outsiders = draw(st.lists(st.sampled_from(OUTSIDER_KINDS), min_size=1, max_size=3))
    agendas = {sid: draw(st.lists(st.tuples(st.booleans(), st.sets(st.integers(0, len(outsiders) + 1))),
                                  min_size=1, max_size=3)) for sid, _, _ in GEN_SESSIONS}
    in_group = draw(st.sets(st.integers(0, len(outsiders) - 1)))
    flip = draw(st.sampled_from([sid for sid, _, _ in GEN_SESSIONS]))
    return outsiders, agendas, in_group, flip


def generated_data(outsiders, agendas, in_group) -> dict:
    data = demo_data(STICHTAG)
    template = next(p for p in data["Mitglieder"] if p["id"] == "P31")
    ids = []
    for number, kind in enumerate(outsiders):
        pid = f"P{80 + number}"
        ids.append(pid)
        row = {**template, "id": pid, "first_name": "Extern", "last_name": f"Person{number}",
               "email": f"extern{number}@aussen.example"}
        if kind == "ehemalig":
            row.update(category=schema.KATEGORIE_MITGLIED, active_until=date(2026, 1, 31))
        data["Mitglieder"].append(row)
    group = next(g for g in data["Arbeitsgruppen"] if g["id"] == AG)
    group["members"] = ", ".join([group["members"], *(ids[i] for i in sorted(in_group))])
    base = next(r for r in data["Sitzungen"] if r["id"] == SESSION)
    guests_pool = [*ids, "P05", "P31"]  # outsiders, a member, the demo's guest
    for index, (sid, gremium, group_id) in enumerate(GEN_SESSIONS):
        data["Sitzungen"].append({**base, "id": sid, "gremium": gremium, "working_group": group_id,
                                  "number": None, "date": date(2027, 1, 12 + index), "status": schema.STATUS_GEPLANT,
                                  "invitation_sent": None, "minutes_sent": None, "reply_by": None})
        for number, (secret, guests) in enumerate(agendas[sid], start=3):
            title = f"Geheimsache {sid}-{number}" if secret else f"Offene Sache {sid}-{number}"
            data["Tagesordnung"].append(dict(
                session=sid, number=str(number), title=title, confidential=secret, submitter="P20",
                submitted_on=date(2026, 11, 1), admitted=True,
                guests=", ".join(guests_pool[g] for g in sorted(guests) if g < len(guests_pool))))
    return data


def outsider_address(model, address: str, day: date) -> bool:
    """Told apart here on its own, not by asking the code under test."""
    people = [p for p in model.persons if (p.email or "").casefold() == address.casefold()]

    def inside(p) -> bool:
        if not p.active_on(day):
            return False
        if p.category == schema.KATEGORIE_MITGLIED:
            return True
        member = model.person(p.deputy_of) if p.category == schema.KATEGORIE_VERTRETUNG else None
        return member is not None and member.category == schema.KATEGORIE_MITGLIED and member.active_on(day)

    return not people or not all(inside(p) for p in people)


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.explicit, Phase.reuse, Phase.generate])  # no shrinking: each example sends three times
@given(workbooks())
def test_no_outsider_ever_receives_a_confidential_title(case):
    import tempfile
    from pathlib import Path

    outsiders, agendas, in_group, flip = case
    with tempfile.TemporaryDirectory() as folder:
        book = new_workbook(Path(folder) / BOOK, data=generated_data(outsiders, agendas, in_group))
        model = model_of(book)
        for sid, _, _ in GEN_SESSIONS:  # documents made first, as the office does
            write_invitation(book, model, sid, today=STICHTAG)
        # then an item changes its confidentiality: the documents made are stale now
        first = model.agenda_of(flip)[0]
        flipped = "nein" if first.confidential else "ja"
        write_edits(book, Edits((SetCells(schema.TAGESORDNUNG.name, AGENDA_KEY,
                                         (((flip, first.number), "confidential", flipped),)),)))
        for sid, _, _ in GEN_SESSIONS:
            result = send(book, session=sid)
            assert result.exit_code in (0, 1), result.output
            assert "Traceback" not in result.output and "Interner Fehler" not in result.output
        model = model_of(book)
        received = outbox_received(book)
        for got in received:
            sid = next(s for s, _, _ in GEN_SESSIONS if f"<{s.lower()}." in got.message_id) \
                if got.message_id.startswith("<gen-") else None
            if sid is None:
                continue
            session = model.session(sid)
            secrets = [i.title for i in model.agenda_of(sid) if i.confidential]
            if any(outsider_address(model, a, session.date) for a in (*got.to, *got.cc)):
                text = everything(got)
                assert not [t for t in secrets if t in text], (got.to, got.subject)
        # every outsider a sent invitation was meant for did get one (the property is not vacuous)
        sent = {s for s, _, _ in GEN_SESSIONS if any(g.message_id.startswith(f"<{s.lower()}.") for g in received)}
        if "GEN-AG" in sent:
            for index in (i for i in in_group if outsiders[i] == "gast"):  # a former member is not invited
                assert mails_to(book, f"extern{index}@aussen.example")
