"""`kpr addin bauen`, `pruefen` and `installieren`."""

from __future__ import annotations

import json
import sys

from kpr_excel.cli import commands
from tests.addin.conftest import edit, sources  # noqa: F401 - the sources fixture
from tests.cli.run import kpr


def invoke(*args):
    return kpr("addin", *args)


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
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    assert summary["findings"] == [] and summary["file"] == str(out)
    assert summary["counts"] == {"Fehler": 0, "Warnung": 0, "Hinweis": 0}


def test_cli_pruefen_reports_defects_in_german(sources, tmp_path):
    edit(sources / "customUI.xml", 'onAction="KPR_Hilfe"', 'onAction="KPR_Unbekannt"')
    out = tmp_path / "KPR.xlam"
    assert invoke("bauen", "--quellen", sources, "--ausgabe", out).exit_code == 1
    result = invoke("pruefen", out, "--quellen", sources)
    assert result.exit_code == 1
    assert "AI04 Fehler" in result.output and "1 Fehler" in result.output
    assert "Traceback" not in result.output
    result = invoke("pruefen", out, "--quellen", sources, "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["findings"][0]["code"] == "AI04"


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
    for name, function in commands().items():
        assert function.__doc__ and "Exit-Code" in function.__doc__, name
