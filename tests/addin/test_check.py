"""The ribbon add-in's static check: broken add-ins are found, in German."""

from __future__ import annotations

import zipfile

import pytest

from kpr_excel import addin
from kpr_excel.addin import check as addin_check
from kpr_excel.addin import sources as addin_sources
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Severity
from tests.addin.conftest import PINNED_XLWINGS, codes, edit

BROKEN = [
    pytest.param("customUI.xml", 'onAction="KPR_Hilfe"', 'onAction="KPR_Unbekannt"',
                 "AI04", "KPR_Unbekannt", id="unknown-callback"),
    pytest.param("customUI.xml", 'id="kprHilfe"', 'id="kprAnmelden"',
                 "AI03", "steht schon in Zeile", id="duplicate-id"),
    pytest.param("customUI.xml", "<ribbon>", "<ribbon><tabs>", "AI02", "kein gültiges XML",
                 id="not-xml"),
    pytest.param("customUI.xml", "office/2009/07/customui", "office/2006/01/customui",
                 "AI02", "Namensraum", id="old-namespace"),
    pytest.param("KPR.bas", "b.hilfe()", "b.gibt_es_nicht()", "AI07", "hat kein 'gibt_es_nicht'",
                 id="unknown-function"),
    pytest.param("KPR.bas", '"import kpr_excel.excel.buttons as b; b.anmelden()"',
                 '"import kpr_excel.gibt_es_nicht as b; b.anmelden()"', "AI07",
                 "ModuleNotFoundError", id="unknown-module"),
    pytest.param("KPR.bas", "b.hilfe()", "b.hilfe(1)", "AI07", "passt nicht zu", id="wrong-arguments"),
    pytest.param("KPR.bas", "b.hilfe()", "b.hilfe(", "AI06", "kein gültiges Python", id="syntax"),
    pytest.param("KPR.bas", "b.hilfe()", "b.hilfe() %TEMP%", "AI06", "Prozentzeichen", id="cmd-unsafe"),
    pytest.param("KPR.bas", "Public Sub KPR_Hilfe(control As IRibbonControl)",
                 "Private Sub KPR_Hilfe(control As IRibbonControl)", "AI05", "nicht Public",
                 id="private-callback"),
    pytest.param("KPR.bas", "Public Sub KPR_Hilfe(control As IRibbonControl)",
                 "Public Sub KPR_Hilfe()", "AI05", "statt (control As IRibbonControl)",
                 id="callback-without-control"),
]


@pytest.mark.parametrize(("filename", "old", "new", "code", "snippet"), BROKEN)
def test_a_broken_addin_is_reported(sources, tmp_path, filename, old, new, code, snippet):
    edit(sources / filename, old, new)
    result = addin.build_addin(sources, tmp_path / "KPR.xlam")
    found = [finding for finding in result.findings if finding.code == code]
    assert found, [finding.format() for finding in result.findings]
    assert any(snippet in finding.message for finding in found), [f.message for f in found]
    assert all(finding.severity == Severity.FEHLER for finding in found)
    # The same findings come out of checking the written file against the same sources.
    assert codes(addin.check_addin(result.path, sources)) == codes(result.findings)


def test_a_missing_callback_names_its_line(sources, tmp_path):
    edit(sources / "customUI.xml", 'onAction="KPR_Hilfe"', 'onAction="KPR_Unbekannt"')
    result = addin.build_addin(sources, tmp_path / "KPR.xlam")
    (finding,) = [finding for finding in result.findings if finding.code == "AI04"]
    ribbon_lines = (sources / "customUI.xml").read_text(encoding="utf-8").splitlines()
    assert finding.location.sheet == addin_sources.CUSTOMUI_PART
    assert 'id="kprHilfe"' in ribbon_lines[finding.location.row - 1]
    assert finding.format("KPR.xlam").startswith(
        f"KPR.xlam:customUI/customUI.xml, Zeile {finding.location.row}: AI04 Fehler:")


def test_a_function_without_button_is_a_warning(sources, tmp_path):
    edit(sources / "KPR.bas", "b.hilfe()", "b.anmelden()")
    result = addin.build_addin(sources, tmp_path / "KPR.xlam")
    assert [(f.code, f.severity) for f in result.findings] == [("AI12", Severity.WARNUNG)]
    assert "kpr_excel.excel.buttons.hilfe" in result.findings[0].message


def test_an_addin_older_than_its_sources_is_out_of_date(sources):
    edit(sources / "KPR.bas", "Option Explicit", "Option Explicit\n' eine neue Zeile")
    findings = addin.check_addin(addin.ADDIN_FILE, sources)
    assert codes(findings) == ["AI11"]
    assert "KPR.bas" in findings[0].message and "kpr addin bauen" in findings[0].message


def test_an_addin_for_another_xlwings_version_is_reported(monkeypatch):
    monkeypatch.setattr(addin_check, "installed_xlwings_version", lambda: "0.0.1")
    (finding,) = addin.check_addin(addin.ADDIN_FILE, None)
    assert finding.code == "AI09"
    assert PINNED_XLWINGS in finding.message and "0.0.1" in finding.message


def test_compiled_pcode_of_the_ribbon_module_is_found():
    # xlwings' own template still carries the p-code of its RibbonMyAddin module.
    with zipfile.ZipFile(addin_sources.xlwings_template()) as package:
        _, findings = addin_check._read_vba(package.read(addin_sources.VBA_PART), "RibbonMyAddin")
    assert codes(findings) == ["AI08"]
    assert "P-Code" in findings[0].message


def test_the_unchanged_template_is_not_our_addin(tmp_path):
    findings = addin.check_addin(addin_sources.xlwings_template(), None)
    assert {"AI02", "AI10", "AI13"} <= set(codes(findings))


def test_not_an_addin_is_unusable(tmp_path):
    bogus = tmp_path / "KPR.xlam"
    bogus.write_text("kein zip")
    with pytest.raises(addin.AddinError, match="kein Office-Paket"):
        addin.check_addin(bogus, None)
    assert addin.AddinError.exit_code == 2 and issubclass(addin.AddinError, KprError)


@pytest.mark.parametrize(("command", "problem"), [
    ("import kpr_excel.excel.buttons as b; b.hilfe()", None),
    ("from kpr_excel.excel import buttons; buttons.hilfe()", None),
    ("import kpr_excel.excel.buttons; kpr_excel.excel.buttons.hilfe()", None),
    ("import kpr_excel.excel.buttons as b; b.TITLE()", "nicht aufrufbar"),
    ("import kpr_excel.excel.buttons as b; x = b.hilfe()", "nur Importe und Aufrufe"),
    ("import kpr_excel.excel.buttons as b", "ruft keine Funktion auf"),
    ("c.hilfe()", "nicht importiert"),
])
def test_python_commands(command, problem):
    problems, _ = addin.check_python_command(command)
    if problem is None:
        assert problems == []
    else:
        assert any(problem in message for _, message in problems), problems


def test_every_check_has_a_distinct_code_and_symbol():
    assert len({check.code for check in addin_sources.CHECKS}) == len(addin_sources.CHECKS)
    assert len({check.symbol for check in addin_sources.CHECKS}) == len(addin_sources.CHECKS)
