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
    ("{{ sitzung.ort }}", "{{ sitzung.raum }}", "VORLAGE-3", "raum"),
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
