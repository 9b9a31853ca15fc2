"""Installing the ribbon add-in: copied on Windows, explained elsewhere."""

from __future__ import annotations

import pytest

from kpr_excel import addin


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
