"""Shared by the add-in tests: a breakable copy of the add-in sources and the pinned xlwings version."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kpr_excel import addin

REPO = Path(__file__).resolve().parents[2]

# The xlwings version pyproject.toml pins; the built add-in's VBA must name exactly this one.
PINNED_XLWINGS = next(
    line.split("==")[1].strip('",') for line in (REPO / "pyproject.toml")
    .read_text(encoding="utf-8").splitlines() if line.strip().startswith('"xlwings==')
)


def codes(findings):
    return sorted({finding.code for finding in findings})


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
