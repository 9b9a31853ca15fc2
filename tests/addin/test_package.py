"""The add-in ships with the package: an installed wheel checks and installs it, only a checkout builds it."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from kpr_excel import addin
from kpr_excel.addin import sources as addin_sources
from tests.addin.conftest import REPO

SHIPPED = ("KPR.xlam", "KPR.bas", "customUI.xml")


def test_the_add_in_and_its_sources_live_in_the_package():
    package_dir = REPO / "kpr_excel" / "addin" / "files"
    assert addin.ADDIN_FILE == package_dir / "KPR.xlam"
    assert addin.SOURCES_DIR == package_dir
    assert {path.name for path in package_dir.iterdir()} >= set(SHIPPED)
    assert not (REPO / "workbook").exists()


def test_a_checkout_is_recognised_and_is_the_default_build_target():
    assert addin.checkout_root() == REPO
    assert addin.build_target() == addin.ADDIN_FILE


def test_building_without_a_checkout_asks_for_one(monkeypatch, tmp_path):
    installed = tmp_path / "site-packages" / "kpr_excel" / "addin" / "files"
    installed.mkdir(parents=True)
    monkeypatch.setattr(addin_sources, "FILES_DIR", installed)
    assert addin.checkout_root() is None
    with pytest.raises(addin.AddinError, match="braucht dafür einen Checkout") as raised:
        addin.build_addin(addin.SOURCES_DIR)
    assert "--ausgabe" in str(raised.value)
    assert not any(installed.iterdir())


def _build_wheel(tmp_path: Path) -> Path:
    """pip wheel of a copy of the checkout, so that the build leaves no build/ or egg-info behind."""
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "kpr_excel", src / "kpr_excel", ignore=shutil.ignore_patterns("__pycache__"))
    wheelhouse = tmp_path / "wheelhouse"
    command = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(wheelhouse)]
    # Without build isolation no index is needed; that takes a setuptools as new as pyproject asks
    # (Python 3.12 venvs have none at all; pip then fetches it for the isolated build).
    try:
        recent = int(importlib.metadata.version("setuptools").split(".")[0]) >= 68
    except importlib.metadata.PackageNotFoundError:
        recent = False
    if recent:
        command.append("--no-build-isolation")
    built = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = wheelhouse.glob("kpr_excel-*.whl")
    return wheel


@pytest.mark.slow
def test_an_installed_wheel_checks_and_installs_the_add_in(tmp_path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        for name in SHIPPED:
            assert archive.read(f"kpr_excel/addin/files/{name}") == (addin.SOURCES_DIR / name).read_bytes(), name

    # A venv with only the wheel in its own site-packages. Its dependencies come from this
    # environment's site-packages, added as a plain path: site does not run the .pth files of
    # a plain path, so the editable install of the checkout stays invisible there.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                                "--no-index", "-q", str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    # Only after the install: where this environment holds a regular (not editable) install, as on
    # CI, pip would otherwise find kpr-excel "already satisfied" through this path and skip the wheel.
    (Path(purelib) / "_kpr_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    kpr = venv / ("Scripts/kpr.exe" if sys.platform == "win32" else "bin/kpr")
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    work = tmp_path / "anderswo"
    work.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(kpr), *args], cwd=work, env=env, capture_output=True, text=True, timeout=300)

    where = subprocess.run([str(python), "-c", "import kpr_excel.addin as a; print(a.ADDIN_FILE)"],
                           cwd=work, env=env, check=True, capture_output=True, text=True).stdout.strip()
    assert Path(where).is_relative_to(Path(purelib)), where

    checked = run("addin", "pruefen")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "KPR.xlam: in Ordnung."

    target = tmp_path / "AddIns"
    copied = run("addin", "installieren", "--ziel", str(target))
    assert copied.returncode == 0, copied.stdout + copied.stderr
    assert (target / "KPR.xlam").read_bytes() == addin.ADDIN_FILE.read_bytes()
    assert "Datei > Optionen > Add-Ins" in copied.stdout

    built = run("addin", "bauen")
    assert built.returncode == 2
    assert "Checkout" in built.stdout + built.stderr and "Traceback" not in built.stdout + built.stderr
    assert Path(where).read_bytes() == addin.ADDIN_FILE.read_bytes()  # the installed copy is untouched
