"""The demo workbook the document tests share, built once per test session."""

from __future__ import annotations

import shutil
from datetime import date

import pytest

from kpr_excel.app import jobs
from kpr_excel.book.demo import demo_data
from kpr_excel.documents import produce

# A reference date at which the demo has held sessions, an upcoming one and a guest.
STICHTAG = date(2026, 11, 29)


@pytest.fixture(scope="session")
def demo_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "KPR-Demo.xlsx"
    jobs.new_workbook(path, data=demo_data(STICHTAG))
    return path


@pytest.fixture(scope="session")
def demo_model(demo_book):
    model, findings = produce.load_workbook(demo_book)
    assert not findings, [f.format() for f in findings]
    return model


@pytest.fixture
def workbook(tmp_path, demo_book):
    """A private copy of the demo workbook, for tests that write documents beside it."""
    target = tmp_path / demo_book.name
    shutil.copyfile(demo_book, target)
    return target
