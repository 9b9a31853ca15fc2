"""Filling templates: special characters verbatim, strict placeholders, the chart, lazy imports."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import zipfile

import pytest

from kpr_excel.documents import context
from kpr_excel.documents.output import TEMPLATE_DIR
from kpr_excel.documents.produce import demo_choice, yearly_report_bytes
from kpr_excel.documents.render import TemplateProblem, attendance_chart, render_docx
from tests.documents.conftest import STICHTAG
from tests.documents.textutil import docx_text

TRICKY = "Sicherheit & Ordnung <Nachtlinien> „Wiener Platz“ 'Süd' \"Nord\" {{ kein Platzhalter }}"


def test_ampersand_angle_brackets_and_german_quotes_come_out_verbatim(demo_model, tmp_path):
    session = demo_choice(demo_model, STICHTAG).next_session
    item = demo_model.agenda_of(session.id)[0]
    agenda = tuple(dataclasses.replace(i, title=TRICKY) if i is item else i for i in demo_model.agenda)
    model = dataclasses.replace(demo_model, agenda=agenda)
    out = tmp_path / "e.docx"
    out.write_bytes(render_docx(TEMPLATE_DIR / "Einladung.docx",
                                context.invitation_context(model, session, today=STICHTAG)))
    assert TRICKY in docx_text(out)


def test_a_placeholder_without_value_fails_loudly_in_german(demo_model):
    session = demo_choice(demo_model, STICHTAG).next_session
    values = context.invitation_context(demo_model, session, today=STICHTAG)
    del values["rueckmeldung_bis"]
    with pytest.raises(TemplateProblem, match=r"Die Vorlage Einladung\.docx verwendet einen Platzhalter"):
        render_docx(TEMPLATE_DIR / "Einladung.docx", values)


def test_a_file_that_is_no_word_document_is_a_clear_error(tmp_path):
    broken = tmp_path / "Einladung.docx"
    broken.write_bytes(b"kein Word")
    with pytest.raises(TemplateProblem, match="kann nicht geöffnet werden"):
        render_docx(broken, {})


def test_yearly_report_embeds_the_chart_as_a_picture(demo_model, tmp_path):
    out = tmp_path / "j.docx"
    out.write_bytes(yearly_report_bytes(demo_model, STICHTAG.year, today=STICHTAG))
    with zipfile.ZipFile(out) as docx:
        pictures = [n for n in docx.namelist() if n.startswith("word/media/")]
        assert len(pictures) == 1 and docx.read(pictures[0]).startswith(b"\x89PNG")
    assert "Abbildung 1" in docx_text(out)


def test_no_chart_without_held_sessions(demo_model, tmp_path):
    year = STICHTAG.year
    values = context.yearly_report_context(demo_model, year, today=STICHTAG)
    planned = [dict(s, teilnahme="") for s in values["sitzungen"]]
    assert attendance_chart(planned, year) is None
    sessions = tuple(dataclasses.replace(s, status="geplant") for s in demo_model.sessions)
    model = dataclasses.replace(demo_model, sessions=sessions, attendance=())
    out = tmp_path / "j.docx"
    out.write_bytes(yearly_report_bytes(model, year, today=STICHTAG))
    with zipfile.ZipFile(out) as docx:
        assert not [n for n in docx.namelist() if n.startswith("word/media/")]
    assert "Abbildung 1" not in docx_text(out)


@pytest.mark.slow
def test_plotting_and_word_libraries_load_only_when_a_document_is_made():
    code = ("import sys, kpr_excel.cli, kpr_excel.documents, kpr_excel.documents.office; "
            "print(sorted(m for m in ('docxtpl', 'docx', 'exchangelib') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"


# -- templates are untrusted code: the sandbox -------------------------------------------------------

def _escape_attempt(marker) -> str:
    """What an attacker (or a careless copy from the web) puts into a template: run a shell command."""
    return f"{{{{ cycler.__init__.__globals__.os.popen('touch {marker}').read() }}}}"


def test_a_word_template_cannot_run_a_shell_command(demo_model, tmp_path):
    from tests.documents.test_templates import edit_docx

    marker = tmp_path / "ausgefuehrt"
    template = edit_docx(TEMPLATE_DIR / "Einladung.docx", tmp_path / "Vorlagen" / "Einladung.docx",
                         "{{ anrede }}", "{{ anrede }}" + _escape_attempt(marker))
    session = demo_choice(demo_model, STICHTAG).next_session
    with pytest.raises(TemplateProblem) as info:
        render_docx(template, context.invitation_context(demo_model, session, today=STICHTAG))
    assert not marker.exists()
    assert "Die Vorlage Einladung.docx wurde angehalten" in str(info.value)
    assert "nicht erlaubt" in str(info.value)


@pytest.mark.parametrize("expression", [
    "{{ anrede.__class__.__mro__[1].__subclasses__() }}",
    "{{ sitzung.items() }}",
    "{% set x = punkte.append(1) %}",
])
def test_a_word_template_cannot_reach_into_python(demo_model, tmp_path, expression):
    from tests.documents.test_templates import edit_docx

    template = edit_docx(TEMPLATE_DIR / "Einladung.docx", tmp_path / "Einladung.docx",
                         "{{ anrede }}", "{{ anrede }}" + expression.replace("punkte", "tagesordnung"))
    session = demo_choice(demo_model, STICHTAG).next_session
    values = context.invitation_context(demo_model, session, today=STICHTAG)
    if "items()" in expression:  # a dict's methods are harmless to read: the sandbox lets them be
        render_docx(template, values)
        return
    with pytest.raises(TemplateProblem, match="nicht erlaubt"):
        render_docx(template, values)


def _mail_render(demo_model, folder, text: str):
    from kpr_excel.sending import dispatch
    from kpr_excel.sending.plan import INVITATION, make_plan

    (folder / "Vorlagen").mkdir(parents=True, exist_ok=True)
    (folder / "Vorlagen" / "Mail_Einladung.txt").write_text(text, encoding="utf-8")
    session = demo_choice(demo_model, STICHTAG).next_session
    plan = make_plan(demo_model, session.id, INVITATION)
    template = dispatch.load_text_template(INVITATION, folder)
    return dispatch.mail_text(plan.deliveries[0], plan, demo_model, template)


def test_a_mail_text_cannot_run_a_shell_command(demo_model, tmp_path):
    from kpr_excel.domain.errors import KprError

    marker = tmp_path / "ausgefuehrt"
    with pytest.raises(KprError) as info:
        _mail_render(demo_model, tmp_path, "Betreff: Einladung\n\n" + _escape_attempt(marker) + "\n")
    assert not marker.exists()
    assert "„__init__“" in str(info.value) and "nicht erlaubt" in str(info.value)


def test_a_harmless_office_mail_text_is_used(demo_model, tmp_path):
    subject, body = _mail_render(demo_model, tmp_path,
                                 "Betreff: Sitzung am {{ sitzung.datum_lang }}\n\n{{ anrede }}\n"
                                 "{% for p in punkte %}TOP {{ p.number }}\n{% endfor %}")
    assert subject.startswith("Sitzung am ") and "TOP " in body


@pytest.mark.slow
def test_sending_with_a_dangerous_mail_text_stops_in_german_and_sends_nothing(tmp_path, tmp_path_factory):
    from kpr_excel.book.demo import demo_data
    from tests.sending.conftest import (
        assert_clean_exit,
        before_invitation,
        build_base,
        copy_base,
        outbox_received,
        send,
        squeeze,
    )

    base = build_base(tmp_path_factory.mktemp("gefaehrlich"), before_invitation(demo_data(STICHTAG)))
    book = copy_base(base, tmp_path / "Ablage")
    marker = tmp_path / "ausgefuehrt"
    (book.parent / "Vorlagen").mkdir(exist_ok=True)
    (book.parent / "Vorlagen" / "Mail_Einladung.txt").write_text(
        "Betreff: Einladung\n\n" + _escape_attempt(marker) + "\n", encoding="utf-8")
    result = send(book)
    assert_clean_exit(result, 1)
    assert "nichterlaubt" in squeeze(result.output) and "„__init__“" in result.output
    assert not marker.exists()
    assert outbox_received(book) == []
