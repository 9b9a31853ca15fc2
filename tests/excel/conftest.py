"""Workbooks for the Excel tests: the demo and a damaged copy, each also as Excel would show it.

Formulas written by openpyxl carry no results; Excel computes them when it opens the file,
and its xlwings client sends the results. LibreOffice stands in for that step: one call
recalculates both workbooks (notes/office.md); without it these tests are skipped (or fail
with KPR_REQUIRE_OFFICE=1).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kpr_excel.app import jobs
from kpr_excel.book.demo import demo_data
from kpr_excel.excel import buttons

STICHTAG = date(2026, 11, 29)


@pytest.fixture(scope="session", autouse=True)
def remote_engine():
    """xlwings' remote engine, which starts only with a key; its noncommercial key is accepted.

    xlwings registers the engine when it is first imported, which may have happened before
    the key was set (another test imported it): then it is registered here.
    """
    import xlwings

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
        if "remote" not in [engine.name for engine in xlwings.engines]:
            from xlwings.pro import _xlremote

            xlwings.engines.add(xlwings.main.Engine(impl=_xlremote.engine))
        yield


def damaged_data(stichtag: date) -> dict[str, list[dict]]:
    """The demo with what people mistype: each line below is a DATA finding."""
    data = demo_data(stichtag)
    persons, sessions = data["Mitglieder"], data["Sitzungen"]
    persons[2]["email"] = "k.seidel(at)dresden.example"
    persons[3]["active_from"] = "31.02.2026"
    persons[4]["last_name"] = None
    persons.append(dict(persons[5]))
    sessions[1]["start"] = "25:00"
    sessions[3]["public"] = "vielleicht"
    sessions[5]["date"] = "9.9.26"  # readable: not a finding, but text where a date belongs
    sessions[6]["gremium"] = None  # the row cannot be used
    data["Tagesordnung"][0]["session"] = "KPR-1999-9"
    return data


@pytest.fixture(scope="session")
def workbooks(tmp_path_factory, libreoffice) -> dict[str, tuple[Path, Path]]:
    """name -> (the file as generated, the same file with its formulas computed)."""
    from kpr_excel.documents.office import convert

    folder = tmp_path_factory.mktemp("excel-books")
    files = {name: jobs.new_workbook(folder / f"{name}.xlsx", data=data)
             for name, data in (("demo", demo_data(STICHTAG)), ("damaged", damaged_data(STICHTAG)))}
    computed = convert(files.values(), "xlsx", folder / "computed")
    return {name: (path, result) for (name, path), result in zip(files.items(), computed)}


@pytest.fixture
def click(monkeypatch, tmp_path):
    """Press a ribbon button with `xlbook` as the workbook Excel has open; returns the error log."""
    log = tmp_path / "fehler.log"
    monkeypatch.setattr(buttons, "ERROR_LOG", str(log))

    def press(button, xlbook):
        monkeypatch.setattr(buttons, "_caller_book", lambda: xlbook)
        button()
        return log

    return press
