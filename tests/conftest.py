"""Options and fixtures shared by all tests: golden-file updates and the LibreOffice requirement."""

from __future__ import annotations

import os
import shutil

import pytest


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="Rewrite golden files instead of comparing with them (also: KPR_UPDATE_GOLDEN=1).")


@pytest.fixture(scope="session")
def update_golden(request) -> bool:
    return bool(request.config.getoption("--update-golden")) or os.environ.get("KPR_UPDATE_GOLDEN") == "1"


def _office_missing(what: str) -> None:
    """Skip, or fail where KPR_REQUIRE_OFFICE=1 says the office tools must be there (CI)."""
    if os.environ.get("KPR_REQUIRE_OFFICE") == "1":
        pytest.fail(f"{what} fehlt, KPR_REQUIRE_OFFICE=1 verlangt es.", pytrace=False)
    pytest.skip(f"{what} ist nicht installiert")


@pytest.fixture(scope="session")
def libreoffice():
    """The soffice program; a missing LibreOffice (or pdftotext) skips, or fails with KPR_REQUIRE_OFFICE=1."""
    from kpr_excel.documents.office import find_soffice

    soffice = find_soffice()
    if soffice is None:
        _office_missing("LibreOffice (soffice)")
    if shutil.which("pdftotext") is None:
        _office_missing("pdftotext (poppler-utils)")
    return soffice
