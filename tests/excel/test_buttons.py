"""The buttons module the ribbon calls: light to import, and every failure a German message."""

from __future__ import annotations

import errno
import inspect
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

from kpr_excel.domain.errors import KprError
from kpr_excel.excel import buttons
from tests.addin.conftest import PINNED_XLWINGS, REPO

HEAVY = ("exchangelib", "docx", "docxtpl", "matplotlib", "openpyxl", "xlwings", "lxml", "numpy")

_PROBE = """
import json, sys
before = set(sys.modules)
import kpr_excel.excel.buttons
print(json.dumps(sorted(set(sys.modules) - before)))
"""


@pytest.mark.slow
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


def test_a_full_disk_is_named_in_german(book, actions):
    def full(book):
        raise OSError(errno.ENOSPC, "No space left on device", r"X:\KPR\Ausgabe\Postausgang")

    actions.einladung_senden = full
    buttons.einladung_senden()
    (alert,) = book.app.alerts
    assert alert["mode"] == "critical"
    assert alert["prompt"].startswith("»Einladung senden«: Der Speicherplatz ist voll (X:\\KPR\\Ausgabe\\Postausgang).")
    assert "No space left" not in alert["prompt"] and "unerwarteten Fehler" not in alert["prompt"]


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
