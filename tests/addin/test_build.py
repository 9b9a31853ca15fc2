"""The ribbon add-in's build: reproducible, laid out as Excel expects, only from sources it can encode."""

from __future__ import annotations

import zipfile

import pytest

from kpr_excel import addin
from kpr_excel.addin import check as addin_check
from kpr_excel.addin import sources as addin_sources
from kpr_excel.excel import buttons
from tests.addin.conftest import edit


def test_two_builds_are_byte_identical(tmp_path):
    first = addin.build_addin(addin.SOURCES_DIR, tmp_path / "a" / "KPR.xlam")
    second = addin.build_addin(addin.SOURCES_DIR, tmp_path / "b" / "KPR.xlam")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 and first.changed and second.changed
    assert addin.build_addin(addin.SOURCES_DIR, first.path).changed is False


def test_committed_addin_is_current_and_passes_the_check():
    # Fails after an edit of KPR.bas/customUI.xml or an xlwings/pyOpenVBA upgrade without
    # "kpr addin bauen" (finding AI11), and for any defect of the committed file.
    assert addin.check_addin(addin.ADDIN_FILE, addin.SOURCES_DIR) == ()


def test_built_package_layout(tmp_path):
    result = addin.build_addin(addin.SOURCES_DIR, tmp_path / "KPR.xlam")
    assert result.findings == ()
    with zipfile.ZipFile(result.path) as package:
        infos = package.infolist()
        assert [info.filename for info in infos[:2]] == ["[Content_Types].xml", "_rels/.rels"]
        assert {info.date_time for info in infos} == {addin_sources.ZIP_EPOCH}
        assert {info.compress_type for info in infos} == {zipfile.ZIP_STORED}
        assert package.read(addin_sources.CUSTOMUI_PART) == addin.AddinSources.read().ribbon
        assert b'name="_kpr.conf"' in package.read(addin_sources.WORKBOOK_PART)
        assert b"<dc:title>KPR</dc:title>" in package.read(addin_sources.CORE_PART)


def test_vba_read_back_has_our_module_and_project_name(tmp_path):
    result = addin.build_addin(addin.SOURCES_DIR, tmp_path / "KPR.xlam")
    with zipfile.ZipFile(result.path) as package:
        modules, findings = addin_check._read_vba(package.read(addin_sources.VBA_PART), addin_sources.MODULE_NAME)
    assert findings == []
    assert "RibbonMyAddin" not in modules
    ours = modules[addin_sources.MODULE_NAME]
    assert ours.procedural and ours.text_offset == 0
    assert [sub.name for sub in addin_check._subs(ours.code)] == [
        "KPR_RegelnPruefen", "KPR_Fristen", "KPR_EinladungErstellen", "KPR_EinladungSenden",
        "KPR_NiederschriftErstellen", "KPR_NiederschriftSenden", "KPR_VersandBestaetigen", "KPR_Jahresbericht",
        "KPR_Anmelden", "KPR_Hilfe",
    ]
    assert 'PROJECT_NAME As String = "kpr"' in modules["xlwings"].code


def test_every_button_function_is_on_the_ribbon():
    bas = (addin.SOURCES_DIR / addin_sources.BAS_FILE).read_text(encoding="utf-8")
    module = addin_check._VbaModule(addin_sources.MODULE_NAME, bas, 0, True)
    findings, targets = addin_check._check_run_python(module)
    assert findings == []
    assert targets == {f"kpr_excel.excel.buttons.{name}" for name in buttons.__all__}


def test_a_source_outside_the_vba_code_page_is_refused(sources, tmp_path):
    edit(sources / "KPR.bas", "Option Explicit", "Option Explicit\n' Zeichen: \u20ac\u2713")
    with pytest.raises(addin.AddinError, match="Codepage"):
        addin.build_addin(sources, tmp_path / "KPR.xlam")
