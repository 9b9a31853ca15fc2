"""Every kind of document, opened by LibreOffice and read back from the PDF with pdftotext.

All documents are converted in one soffice call (starting LibreOffice is the expensive part).
Golden text snapshots live in tests/documents/golden/; `pytest --update-golden` (or
KPR_UPDATE_GOLDEN=1) rewrites them after an intended change.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from kpr_excel.documents import context, produce
from kpr_excel.documents.office import convert
from kpr_excel.documents.produce import demo_choice
from kpr_excel.domain import schema
from kpr_excel.domain.audience import invitees
from kpr_excel.domain.naming import time_span
from kpr_excel.domain.values import german_date, german_date_long
from tests.documents.conftest import STICHTAG
from tests.documents.textutil import flat, normalized, pdf_text

pytestmark = pytest.mark.slow  # LibreOffice converts every kind of document

GOLDEN = Path(__file__).parent / "golden"


@dataclass(frozen=True)
class Doc:
    docx: Path
    pdf: Path
    text: str  # pdftotext -layout

    @property
    def flat(self) -> str:
        return flat(self.text)


def _special_held_session(model):
    """A held KPR session whose agenda has titles with &, < and German quotes, and a deputy."""
    for session in sorted(model.sessions, key=lambda s: s.date):
        titles = " ".join(i.title for i in model.agenda_of(session.id))
        if (session.gremium == schema.GREMIUM_KPR and session.held and all(c in titles for c in "&<„")
                and any(a.status == "vertreten" for a in model.attendance_of(session.id))):
            return session
    raise AssertionError("Die Demo hat keine solche Sitzung mehr")


@pytest.fixture(scope="session")
def docs(libreoffice, tmp_path_factory, demo_book, demo_model):
    folder = tmp_path_factory.mktemp("pdf")
    workbook = folder / demo_book.name
    shutil.copyfile(demo_book, workbook)
    model = demo_model
    choice = demo_choice(model, STICHTAG)
    last_ag = max((s for s in model.sessions if s.gremium == schema.GREMIUM_AG), key=lambda s: s.date)
    last_jf = max((s for s in model.sessions if s.gremium == schema.GREMIUM_JF and s.held), key=lambda s: s.date)
    outputs = {
        "einladung": produce.write_invitation(workbook, model, choice.next_session.id, today=STICHTAG),
        "niederschrift": produce.write_minutes(workbook, model, _special_held_session(model).id, today=STICHTAG),
        "niederschrift_entwurf": produce.write_minutes(workbook, model, choice.next_session.id, today=STICHTAG),
        "einladung_ag": produce.write_invitation(workbook, model, last_ag.id, today=STICHTAG),
        "niederschrift_jf": produce.write_minutes(workbook, model, last_jf.id, today=STICHTAG),
        "jahresbericht": produce.write_yearly_report(workbook, model, STICHTAG.year, today=STICHTAG),
    }
    files = {}
    for key, output in outputs.items():
        files[key] = output.files[0].path
        for extra in output.files[1:]:
            files[key + ("_extern" if "_extern" in extra.path.name else "_gast")] = extra.path
    pdfs = convert(list(files.values()), "pdf", folder / "pdf")
    return {key: Doc(path, pdf, pdf_text(pdf)) for (key, path), pdf in zip(files.items(), pdfs)}


def agenda_numbers(text: str) -> list[str]:
    """The TOP numbers at the start of the agenda table's rows, read from the layout text."""
    start = text.index("TOP ")
    end = text.index("Vertraulich (§ 8", start)
    return re.findall(r"^\s*(\d+)\s{2,}\S", text[start:end], flags=re.M)


def test_every_kind_of_document_was_converted(docs):
    # AG-WP has a participant of category Gast (P31): the working group's invitation has an outsiders' version
    assert sorted(docs) == sorted(["einladung", "einladung_gast", "niederschrift", "niederschrift_entwurf",
                                   "einladung_ag", "einladung_ag_extern", "niederschrift_jf", "jahresbericht"])
    for doc in docs.values():
        if doc.text.count("\f") > 1:  # the page fields of the following pages are filled in
            assert re.search(r"Seite 2 von \d", doc.text), doc.pdf.name


def test_invitation_letter(docs, demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    doc = docs["einladung"]
    assert doc.docx.name == f"{session.date:%Y-%m-%d}_KPR_Einladung.docx"
    settings = demo_model.settings
    assert (f"Einladung zur {session.number}. Sitzung des Kommunalen Präventionsrates am "
            f"{german_date_long(session.date)}") in doc.flat
    for expected in (settings.city, settings.council, settings.office_phone, f"Datum: {german_date(STICHTAG)}",
                     "Sehr geehrte Damen und Herren,", time_span(session), session.place,
                     context.NOTICE_MEMBERS, "Mit freundlichen Grüßen",
                     f"bis zum {german_date_long(session.reply_by, weekday=False)}"):
        assert expected in doc.flat, expected
    items = context.agenda(demo_model, session)
    assert agenda_numbers(doc.text) == [i["nr"] for i in items]
    for item in items:
        row = next(line for line in doc.text.splitlines() if re.match(rf"\s*{item['nr']}\s{{2,}}", line))
        assert " ".join(item["titel"].split()[:2]) in row
    for item in demo_model.agenda_of(session.id):
        for document in item.document_list:
            assert document in doc.flat
    assert "– vertraulich" in doc.flat
    for chair in demo_model.chairs(session.date):
        assert chair.name in doc.flat and chair.function in doc.flat
    assert doc.flat.count("des KPR") >= 2  # both signatories' roles


def test_guest_version_holds_only_the_guests_items_and_nothing_confidential(docs, demo_model):
    choice = demo_choice(demo_model, STICHTAG)
    session, guest = choice.next_session, choice.guest
    doc = docs["einladung_gast"]
    assert guest.letter_salutation in doc.flat and guest.name in doc.flat
    visible = context.agenda(demo_model, session, guest=guest)
    assert agenda_numbers(doc.text) == [i["nr"] for i in visible]
    hidden = [i for i in demo_model.agenda_of(session.id) if i.title not in {v["titel"] for v in visible}]
    assert any(i.confidential for i in hidden)
    for item in hidden:
        assert " ".join(item.title.split()[:3]) not in doc.flat, item.title
        for document in item.document_list:
            assert document not in doc.flat
    assert "– vertraulich" not in doc.flat
    assert context.NOTICE_GUESTS in doc.flat
    assert context.OPENING not in doc.flat


def test_final_minutes(docs, demo_model):
    session = _special_held_session(demo_model)
    doc = docs["niederschrift"]
    assert doc.docx.name == f"{session.date:%Y-%m-%d}_KPR_Niederschrift.docx"
    assert f"über die {session.number}. Sitzung des Kommunalen Präventionsrates" in doc.flat
    assert "ENTWURF" not in doc.text
    chair, taker = demo_model.person(session.chair), demo_model.person(session.minute_taker)
    for expected in (german_date_long(session.date), f"Sitzungsleitung: {chair.name}", f"Protokoll: {taker.name}",
                     context.NOTICE_MEMBERS, "Sitzungsleitung (Datum, Unterschrift)",
                     "Protokoll (Datum, Unterschrift)", "Verteiler"):
        assert expected in doc.flat, expected
    for row in demo_model.attendance_of(session.id):
        person = demo_model.person(row.person)
        if row.status == "vertreten":
            deputy = demo_model.person(row.deputy)
            assert f"{deputy.name}, {deputy.institution}, in Vertretung für {person.name}" in doc.flat
        else:
            assert person.name in doc.flat
    for item in context.agenda(demo_model, session, with_results=True):
        assert f"TOP {item['nr']}: {item['titel']}" in doc.flat  # &, < and „…“ verbatim
    for decision in demo_model.decisions_of(session.id):
        assert decision.text in doc.flat
        if decision.kind == "Aufgabe":
            assert f"verantwortlich: {decision.owner}, fällig am {german_date(decision.due)}" in doc.flat
    for person in invitees(demo_model, session):
        assert person.name in doc.flat


def test_draft_minutes_are_marked_and_list_who_is_invited(docs, demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    doc = docs["niederschrift_entwurf"]
    assert doc.docx.name.endswith("_Niederschrift_Entwurf.docx")
    assert "ENTWURF – vor der Sitzung aus der Mappe vorbereitet" in doc.flat
    assert "Eingeladen" in doc.flat
    for person in invitees(demo_model, session):
        assert person.name in doc.flat


def test_same_templates_serve_working_groups_and_jour_fixe(docs, demo_model):
    ag = docs["einladung_ag"]
    group = next(g for g in demo_model.working_groups if f"_{g.id}_" in ag.docx.name)
    assert f"der Arbeitsgruppe „{group.theme}“" in ag.flat
    assert demo_model.person(group.lead).name in ag.flat and "Leitung der Arbeitsgruppe" in ag.flat
    jf = docs["niederschrift_jf"]
    assert "_JF_Niederschrift" in jf.docx.name
    assert "Sitzung des Jour fixe Prävention" in jf.flat


def test_yearly_report(docs, demo_model):
    year = STICHTAG.year
    doc = docs["jahresbericht"]
    assert f"Präventions- und Tätigkeitsbericht {year}" in doc.flat and "§ 5" in doc.flat
    for session in demo_model.sessions:
        if session.date.year == year and session.gremium in (schema.GREMIUM_KPR, schema.GREMIUM_JF):
            assert german_date(session.date) in doc.flat
    for group in demo_model.working_groups:
        assert group.theme in doc.flat
    for project in demo_model.projects:
        assert project.title.split()[0] in doc.flat
    assert "Abbildung 1" in doc.flat
    images = subprocess.run(["pdfimages", "-list", str(doc.pdf)], capture_output=True, text=True, timeout=60)
    if images.returncode == 0:  # part of poppler-utils, like pdftotext
        assert len(images.stdout.strip().splitlines()) >= 3  # header lines + the chart


@pytest.mark.parametrize("key", ["einladung", "einladung_gast", "niederschrift", "niederschrift_entwurf",
                                 "einladung_ag", "niederschrift_jf", "jahresbericht"])
def test_golden_text(docs, key, update_golden):
    text = normalized(docs[key].text)
    golden = GOLDEN / f"{key}.txt"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
        return
    assert golden.exists(), f"{golden.name} fehlt: pytest --update-golden schreibt es"
    assert text == golden.read_text(encoding="utf-8")
