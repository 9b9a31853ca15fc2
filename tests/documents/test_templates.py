"""The templates: built reproducibly, checked by `kpr vorlagen pruefen`, editable by the office."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from kpr_excel.documents import checks, produce
from kpr_excel.documents.build_templates import build_all
from kpr_excel.documents.output import TEMPLATE_DIR
from kpr_excel.documents.produce import TEMPLATE_NAMES
from tests.documents.conftest import STICHTAG
from tests.documents.textutil import docx_text

ROOT = Path(__file__).resolve().parents[2]


def edit_docx(source: Path, target: Path, old: str, new: str) -> Path:
    """A copy of `source` with `old` replaced in the document text, as an office edit would."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "word/document.xml":
                text = data.decode("utf-8")
                assert old in text, old
                data = text.replace(old, new).encode("utf-8")
            out.writestr(info, data)
    return target


def test_shipped_templates_are_exactly_what_the_builder_makes(tmp_path):
    for built in build_all(tmp_path):
        assert built.read_bytes() == (TEMPLATE_DIR / built.name).read_bytes(), (
            f"{built.name} ist veraltet: python -m kpr_excel.documents.build_templates ausführen")


@pytest.mark.slow
def test_builder_runs_as_a_module_without_warnings(tmp_path):
    run = subprocess.run([sys.executable, "-W", "error", "-m", "kpr_excel.documents.build_templates", str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.docx" for n in TEMPLATE_NAMES)


def test_repository_templates_folder_points_to_the_package():
    readme = (ROOT / "templates" / "README.md").read_text(encoding="utf-8")
    assert "kpr_excel/documents/templates" in readme
    assert not list((ROOT / "templates").glob("*.docx"))  # one source of truth, no second copy


def test_shipped_templates_pass_the_check():
    assert checks.check_templates() == []


@pytest.mark.parametrize("old, new, code, mentioned", [
    ("{{ anrede }}", "{{ anrede }} {{ unterschrift_gs }}", "VORLAGE-1", "unterschrift_gs"),
    ("vertraulichkeitsvermerk", "sitzung.oeffentlichkeit", "VORLAGE-2", "§ 8"),
    ("{{ anrede }}", "{{ anrede }", "VORLAGE-3", "Einladung.docx"),
    ("{{ sitzung.ort }}", "{{ sitzung.raum }}", "VORLAGE-1", "{{ sitzung.raum }}"),
    ("{{ anrede }}", "{{ anrede.__class__ }}", "VORLAGE-5", "{{ anrede.__class__ }}"),
    ("{{ anrede }}", "{{ anrede.upper() }}", "VORLAGE-5", "{{ anrede.upper }}"),
])
def test_edited_template_problems_are_reported_in_german(tmp_path, old, new, code, mentioned):
    edit_docx(TEMPLATE_DIR / "Einladung.docx", tmp_path / "Einladung.docx", old, new)
    findings = checks.check_templates(tmp_path)
    errors = [f for f in findings if f.severity.label == "Fehler"]
    assert [f.code for f in errors] == [code]
    assert mentioned in errors[0].message
    # the two templates not in the folder are only a hint: the shipped ones stand in
    assert sorted(f.code for f in findings if f not in errors) == ["VORLAGE-4", "VORLAGE-4"]


def test_missing_or_empty_folder_and_non_word_file_are_errors(tmp_path):
    assert [f.code for f in checks.check_templates(tmp_path / "gibtsnicht")] == ["VORLAGE-4"]
    assert [f.code for f in checks.check_templates(tmp_path)] == ["VORLAGE-4"]
    (tmp_path / "Niederschrift.docx").write_bytes(b"kein Word")
    codes = [f.code for f in checks.check_templates(tmp_path) if f.severity.label == "Fehler"]
    assert codes == ["VORLAGE-3"]


def test_office_copy_of_a_template_is_used_as_it_is(workbook, demo_model):
    copied, kept = produce.copy_templates(workbook)
    assert [p.name for p in copied] == [f"{n}.docx" for n in TEMPLATE_NAMES] + [
        "Mail_Einladung.txt", "Mail_Niederschrift.txt"] and not kept
    own = copied[0]
    edit_docx(own, own.with_suffix(".tmp"), "hiermit laden wir Sie herzlich", "wir laden Sie sehr herzlich")
    own.with_suffix(".tmp").replace(own)
    copied_again, kept_again = produce.copy_templates(workbook)
    assert not copied_again and own in kept_again  # the office's edit survives
    result = produce.write_invitation(workbook, demo_model, _next_kpr(demo_model), today=STICHTAG, guests=False)
    assert "wir laden Sie sehr herzlich" in docx_text(result.files[0].path)
    assert any(str(own.parent) in note for note in result.notes)


def _next_kpr(model):
    from kpr_excel.documents.produce import demo_choice

    return demo_choice(model, STICHTAG).next_session.id


# -- attribute access and the mail texts --------------------------------------------------------------

ESCAPE = "{{ cycler.__init__.__globals__.os.popen('touch %s').read() }}"


def test_a_template_that_runs_a_shell_command_is_refused_not_run(tmp_path):
    marker = tmp_path / "ausgefuehrt"
    edit_docx(TEMPLATE_DIR / "Einladung.docx", tmp_path / "Einladung.docx", "{{ anrede }}",
              "{{ anrede }}" + ESCAPE % marker)
    findings = [f for f in checks.check_templates(tmp_path) if f.severity.label == "Fehler"]
    assert not marker.exists()
    unsafe = [f.message for f in findings if f.code == "VORLAGE-5"]
    assert unsafe == ["Die Vorlage Einladung.docx greift mit {{ cycler.__init__ }} auf interne Teile von Python "
                      "zu; das ist in Vorlagen nicht erlaubt und wird beim Ausfüllen verweigert (für Umformungen "
                      "gibt es Filter, z. B. {{ text|upper }})."]


def test_fields_inside_loops_and_filters_are_checked_against_what_the_tool_fills(tmp_path):
    edit_docx(TEMPLATE_DIR / "Einladung.docx", tmp_path / "Einladung.docx", "{{ anrede }}",
              "{{ anrede }}{% for t in tagesordnung %}{{ t.titel }}{{ t.titl }}{{ loop.index }}{% endfor %}"
              "{{ tagesordnung|map(attribute='nr')|join(', ') }}{{ unterzeichnende|map(attribute='amt')|join }}"
              "{{ (tagesordnung|first).titel }}{{ tagesordnung[0].vortragende }}")
    messages = [f.message for f in checks.check_templates(tmp_path) if f.severity.label == "Fehler"]
    assert len(messages) == 2, messages
    assert "{{ t.titl }}" in messages[0]
    assert "{{ unterzeichnende|map(attribute='amt') }}" in messages[1]


def _mail_folder(tmp_path, text: str, name: str = "Mail_Einladung.txt"):
    folder = tmp_path / "Vorlagen"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_shipped_mail_texts_pass_and_an_office_copy_of_them_too(tmp_path):
    from kpr_excel.documents import kinds

    for kind in (kinds.INVITATION, kinds.MINUTES):
        folder = _mail_folder(tmp_path, kind.default_mail_text.read_text(encoding="utf-8"), kind.office_mail_text)
    assert [f.code for f in checks.check_templates(folder)] == ["VORLAGE-4"] * 3  # only: no Word templates here


@pytest.mark.parametrize("text, code, message", [
    ("Betreff: {{ sitzung.raum }} {{ vertraulich }}\n",
     "VORLAGE-1", "Die E-Mail-Vorlage Mail_Einladung.txt verwendet den Platzhalter {{ sitzung.raum }}"),
    ("Betreff: {{ sitzung.ort }} {{ vertraulich }}\n{{ absendr.name }}",
     "VORLAGE-1", "Die E-Mail-Vorlage Mail_Einladung.txt verwendet den Platzhalter {{ absendr }}"),
    ("Betreff: {{ sitzung.ort }} {{ vertraulich }}\n{% for p in punkte %}{{ p.src.row }}{% endfor %}",
     "VORLAGE-1", "Mail_Einladung.txt verwendet den Platzhalter {{ p.src }}"),
    ("Betreff: {{ sitzung.ort }} {{ vertraulich }}\n" + ESCAPE % "/tmp/kpr-nie",
     "VORLAGE-1 VORLAGE-5", "Die E-Mail-Vorlage Mail_Einladung.txt greift mit {{ cycler.__init__ }} auf interne"),
    ("Betreff: {{ sitzung.ort }} {{ vertraulich }}\n{{ punkte.pop() }}",
     "VORLAGE-5", "greift mit {{ punkte.pop }} auf interne Teile"),
    ("Betreff: {{ sitzung.ort }}\n", "VORLAGE-2", "fehlt der Platzhalter {{ vertraulich }}"),
    ("{{ sitzung.ort }} {{ vertraulich }}\n", "VORLAGE-3", "muss mit „Betreff: …“ beginnen"),
    ("Betreff: {{ sitzung.ort }} {{ vertraulich }\n", "VORLAGE-3", "Mail_Einladung.txt hat in Zeile 1 einen Fehler"),
])
def test_office_mail_text_problems_are_named_with_file_and_placeholder(tmp_path, text, code, message):
    findings = [f for f in checks.check_templates(_mail_folder(tmp_path, text)) if f.severity.label == "Fehler"]
    assert [f.code for f in findings] == code.split(), [f.message for f in findings]
    assert message in findings[-1].message  # `cycler` is no placeholder either (VORLAGE-1 first)
    assert not Path("/tmp/kpr-nie").exists()


def test_vorlagen_pruefen_command_reports_a_dangerous_mail_text(tmp_path):
    from tests.cli.run import kpr

    marker = tmp_path / "ausgefuehrt"
    folder = _mail_folder(tmp_path, "Betreff: {{ sitzung.ort }} {{ vertraulich }}\n" + ESCAPE % marker)
    result = kpr("vorlagen", "pruefen", str(folder))
    assert result.exit_code == 1, result.output
    text = " ".join(result.output.split())
    assert "VORLAGE-5" in text and "Mail_Einladung.txt" in text and "cycler.__init__" in text
    assert "in Ordnung" not in text and "Traceback" not in text
    assert not marker.exists()


def test_mail_fields_are_what_dispatch_really_passes(demo_model):
    """The check's picture of the mail context is the real one: a recording template sees every key."""
    from kpr_excel.sending import dispatch
    from kpr_excel.sending.plan import INVITATION, make_plan

    seen: list[dict] = []

    class Recording:
        def render(self, **values):
            seen.append(values)
            return "Betreff: x\n"

    session = checks.demo_choice(demo_model, STICHTAG).next_session
    plan = make_plan(demo_model, session.id, INVITATION)
    dispatch.mail_text(plan.deliveries[0], plan, demo_model, Recording())
    real = checks.shape_of(seen[0])
    assert set(real.fields) == set(checks.MAIL_FIELDS)
    for key, shape in checks.MAIL_FIELDS.items():
        if shape.fields is not None:
            assert set(real.fields[key].fields) == set(shape.fields), key
    item = checks.MAIL_FIELDS["punkte"].item
    assert set(real.fields["punkte"].item.fields) == set(item.fields)
