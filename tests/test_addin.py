"""The ribbon add-in: reproducible build, static check, install, and the light buttons module."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

# The xlwings version pyproject.toml pins; the built add-in's VBA must name exactly this one.
PINNED_XLWINGS = next(
    line.split("==")[1].strip('",') for line in (Path(__file__).resolve().parent.parent / "pyproject.toml")
    .read_text(encoding="utf-8").splitlines() if line.strip().startswith('"xlwings==')
)
from typer.testing import CliRunner

from kpr_excel import addin
from kpr_excel.addin import check as addin_check
from kpr_excel.addin import sources as addin_sources
from kpr_excel.excel import buttons
from kpr_excel.cli.addin_cmd import addin_app
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Severity

REPO = Path(__file__).resolve().parent.parent


def codes(findings):
    return sorted({finding.code for finding in findings})


def errors(findings):
    return [finding for finding in findings if finding.severity >= Severity.FEHLER]


@pytest.fixture
def sources(tmp_path):
    """A copy of the add-in sources that a test may break."""
    directory = tmp_path / "quellen"
    shutil.copytree(addin.SOURCES_DIR, directory)
    return directory


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


# ---- build ------------------------------------------------------------------------------


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
        "KPR_NiederschriftErstellen", "KPR_NiederschriftSenden", "KPR_Jahresbericht",
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


# ---- check: broken add-ins are found, in German -------------------------------------------


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
    assert finding.format("KPR.xlam").startswith(f"KPR.xlam:customUI/customUI.xml, Zeile {finding.location.row}: AI04 Fehler:")


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


# ---- install -------------------------------------------------------------------------------


def test_install_on_windows_copies_into_the_users_addins_folder(tmp_path):
    result = addin.install_addin(addin.ADDIN_FILE, platform="win32", env={"APPDATA": str(tmp_path)})
    target = tmp_path / "Microsoft" / "AddIns" / "KPR.xlam"
    assert result.installed and result.target == target
    assert target.read_bytes() == addin.ADDIN_FILE.read_bytes()
    assert "Datei > Optionen > Add-Ins" in result.instructions and "„KPR“" in result.instructions


def test_install_elsewhere_only_explains():
    result = addin.install_addin(addin.ADDIN_FILE, platform="linux", env={})
    assert not result.installed and result.target is None
    assert r"%APPDATA%\Microsoft\AddIns\KPR.xlam" in result.instructions


def test_install_without_appdata_is_unusable():
    with pytest.raises(addin.AddinError, match="APPDATA"):
        addin.install_addin(addin.ADDIN_FILE, platform="win32", env={})


# ---- CLI -----------------------------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(addin_app, [str(arg) for arg in args])


def test_cli_bauen_and_pruefen(tmp_path):
    out = tmp_path / "KPR.xlam"
    result = invoke("bauen", "--ausgabe", out)
    assert result.exit_code == 0, result.output
    assert "neu geschrieben" in result.output and "in Ordnung" in result.output
    result = invoke("bauen", "--ausgabe", out)
    assert "unverändert" in result.output
    result = invoke("pruefen", out)
    assert result.exit_code == 0 and "in Ordnung" in result.output
    result = invoke("pruefen", out, "--json")
    assert result.exit_code == 0 and json.loads(result.output) == []


def test_cli_pruefen_reports_defects_in_german(sources, tmp_path):
    edit(sources / "customUI.xml", 'onAction="KPR_Hilfe"', 'onAction="KPR_Unbekannt"')
    out = tmp_path / "KPR.xlam"
    assert invoke("bauen", "--quellen", sources, "--ausgabe", out).exit_code == 1
    result = invoke("pruefen", out, "--quellen", sources)
    assert result.exit_code == 1
    assert "AI04 Fehler" in result.output and "1 Fehler" in result.output
    assert "Traceback" not in result.output
    result = invoke("pruefen", out, "--quellen", sources, "--json")
    assert result.exit_code == 1 and json.loads(result.output)[0]["code"] == "AI04"


def test_cli_unusable_input_exits_2_without_traceback(tmp_path):
    result = invoke("pruefen", tmp_path / "fehlt.xlam")
    assert result.exit_code == 2 and "Add-in nicht gefunden" in result.output
    assert "Traceback" not in result.output
    result = invoke("bauen", "--quellen", tmp_path, "--ausgabe", tmp_path / "KPR.xlam")
    assert result.exit_code == 2 and "Quelldatei des Add-ins fehlt" in result.output


def test_cli_installieren(tmp_path):
    result = invoke("installieren", "--ziel", tmp_path)
    assert result.exit_code == 0 and (tmp_path / "KPR.xlam").is_file()
    if sys.platform != "win32":
        result = invoke("installieren")
        assert result.exit_code == 1 and "Nicht installiert" in result.output


def test_every_cli_command_is_documented():
    for command in addin_app.registered_commands:
        assert command.callback.__doc__ and "Exit-Code" in command.callback.__doc__, command.name


# ---- the buttons module ----------------------------------------------------------------------

HEAVY = ("exchangelib", "docx", "docxtpl", "matplotlib", "openpyxl", "xlwings", "lxml", "numpy")

_PROBE = """
import json, sys
before = set(sys.modules)
import kpr_excel.excel.buttons
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_importing_the_buttons_module_stays_light():
    # A click starts a fresh Python: whatever the module imports, every click pays for.
    output = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                            check=True, cwd=REPO, env={"PYTHONPATH": str(REPO)}).stdout
    loaded = json.loads(output)
    assert "kpr_excel.excel.buttons" in loaded
    roots = {name.split(".")[0] for name in loaded}
    assert not roots & set(HEAVY), sorted(roots & set(HEAVY))
    assert roots - {"kpr_excel"} <= set(sys.stdlib_module_names), sorted(
        roots - {"kpr_excel"} - set(sys.stdlib_module_names))


def test_every_button_function_takes_no_arguments():
    for name in buttons.__all__:
        function = getattr(buttons, name)
        inspect.signature(function).bind()


class FakeApp:
    def __init__(self, answer="ok"):
        self.status = []
        self.alerts = []
        self.answer = answer

    @property
    def status_bar(self):
        return self.status[-1] if self.status else False

    @status_bar.setter
    def status_bar(self, value):
        self.status.append(value)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append({"prompt": prompt, "title": title, "buttons": buttons, "mode": mode})
        return self.answer


class FakeBook:
    def __init__(self, answer="ok"):
        self.app = FakeApp(answer)


@pytest.fixture
def book(monkeypatch, tmp_path):
    fake = FakeBook()
    monkeypatch.setattr(buttons, "_caller_book", lambda: fake)
    monkeypatch.setattr(buttons, "ERROR_LOG", str(tmp_path / ".kpr" / "fehler.log"))
    return fake


@pytest.fixture
def actions(monkeypatch):
    module = types.ModuleType(buttons.ACTIONS_MODULE)
    module.calls = []
    for name in buttons.__all__:
        setattr(module, name, lambda book, name=name: module.calls.append((name, book)))
    monkeypatch.setitem(sys.modules, buttons.ACTIONS_MODULE, module)
    return module


@pytest.mark.parametrize("name", [name for name in buttons.__all__ if name != "hilfe"])
def test_each_button_hands_the_callers_book_to_its_action(book, actions, name):
    getattr(buttons, name)()
    assert actions.calls == [(name, book)]
    assert book.app.status[0].startswith("KPR: ") and book.app.status[-1] is False
    assert book.app.alerts == []


def test_an_action_text_is_shown_as_the_outcome(book, actions):
    actions.regeln_pruefen = lambda book: "3 Fehler, 1 Warnung. Einzelheiten im Blatt „Pruefung“."
    buttons.regeln_pruefen()
    (alert,) = book.app.alerts
    assert alert["mode"] == "info" and alert["title"] == "KPR" and "3 Fehler" in alert["prompt"]


def test_a_kpr_error_reaches_the_user_as_its_german_message(book, actions):
    def refuse(book):
        raise KprError("Die Einladung wird nicht gesendet: 2 Fehler in der Mappe.")

    actions.einladung_senden = refuse
    buttons.einladung_senden()
    (alert,) = book.app.alerts
    assert alert["mode"] == "critical"
    assert alert["prompt"] == "Einladung senden: Die Einladung wird nicht gesendet: 2 Fehler in der Mappe."
    assert book.app.status[-1] is False


def test_an_unexpected_error_becomes_a_message_and_a_log_entry(book, actions):
    def crash(book):
        raise ZeroDivisionError("division by zero")

    actions.jahresbericht_erstellen = crash
    buttons.jahresbericht_erstellen()  # does not raise
    (alert,) = book.app.alerts
    assert "»Jahresbericht« ist mit einem unerwarteten Fehler abgebrochen" in alert["prompt"]
    assert "ZeroDivisionError: division by zero" in alert["prompt"]
    assert "Traceback" not in alert["prompt"]
    assert str(buttons.ERROR_LOG) in alert["prompt"]
    log = Path(buttons.ERROR_LOG).read_text(encoding="utf-8")
    assert "Jahresbericht" in log and "Traceback" in log and "ZeroDivisionError" in log


def test_a_file_that_cannot_be_used_is_named_in_german(book, actions):
    def refused(book):
        raise PermissionError(13, "Permission denied", r"X:\KPR\Ausgabe\2027-03-10_KPR_Einladung.docx")

    actions.einladung_erstellen = refused
    buttons.einladung_erstellen()
    (alert,) = book.app.alerts
    assert alert["mode"] == "critical"
    assert alert["prompt"].startswith(
        "»Einladung erstellen« konnte X:\\KPR\\Ausgabe\\2027-03-10_KPR_Einladung.docx nicht verwenden: "
        "keine Berechtigung, oder die Datei ist in einem anderen Programm geöffnet.")
    assert "Permission denied" not in alert["prompt"]
    assert "PermissionError" in Path(buttons.ERROR_LOG).read_text(encoding="utf-8")


def test_a_missing_program_part_is_named(book, monkeypatch):
    monkeypatch.setattr(buttons, "ACTIONS_MODULE", "kpr_excel.gibt_es_nicht")
    buttons.fristen_anzeigen()
    (alert,) = book.app.alerts
    assert "»Fristen« kann nicht starten: ein Programmteil fehlt (kpr_excel.gibt_es_nicht)" in alert["prompt"]


def test_without_excel_the_message_still_reaches_the_user(monkeypatch, tmp_path, capsys):
    def no_excel():
        raise RuntimeError("Could not activate App")

    monkeypatch.setattr(buttons, "_caller_book", no_excel)
    monkeypatch.setattr(buttons, "ERROR_LOG", str(tmp_path / "fehler.log"))
    monkeypatch.setattr(buttons.sys, "platform", "linux")
    buttons.regeln_pruefen()
    message = capsys.readouterr().err
    assert "»Regeln prüfen« konnte die geöffnete Arbeitsmappe nicht erreichen" in message
    assert "RuntimeError: Could not activate App" in message


def test_an_alert_that_fails_falls_back(book, actions, monkeypatch, capsys):
    def broken_alert(*args, **kwargs):
        raise OSError("Excel beschäftigt")

    monkeypatch.setattr(book.app, "alert", broken_alert)
    monkeypatch.setattr(buttons.sys, "platform", "linux")
    actions.fristen_anzeigen = lambda book: "Nächste Frist: 01.03."
    buttons.fristen_anzeigen()
    assert "Nächste Frist: 01.03." in capsys.readouterr().err


def test_hilfe_shows_versions_and_offers_the_manual(book, monkeypatch):
    opened = []
    monkeypatch.setattr(buttons, "_open_file", opened.append)
    book.app.answer = "yes"
    buttons.hilfe()
    (alert,) = book.app.alerts
    assert alert["mode"] == "info"
    for text in ("Regeln prüfen", "Jahresbericht", f"xlwings {PINNED_XLWINGS}", sys.executable, "fehler.log"):
        assert text in alert["prompt"]
    if Path(buttons.DOCS_PAGE).exists():
        assert alert["buttons"] == "yes_no" and opened == [buttons.DOCS_PAGE]
    assert book.app.status[-1] is False
