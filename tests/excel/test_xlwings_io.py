"""The xlwings adapter against xlwings' own remote engine, fed as Excel feeds it."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpr_excel.app import check, report
from kpr_excel.book import loader, xlwings_io
from kpr_excel.book.edits import Edits, SetCells, UpsertRows
from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Location
from tests.excel import remote
from tests.excel.conftest import STICHTAG


def _columns(model):
    """Where each object's columns were found (not part of model equality)."""
    return [(o.src.sheet, o.src.row, o.src.columns) for part in
            (model.persons, model.sessions, model.agenda, model.attendance, model.decisions)
            for o in part]


@pytest.mark.parametrize("name", ["demo", "damaged"])
@pytest.mark.slow
def test_both_adapters_give_the_same_model_and_findings(workbooks, name):
    generated, computed = workbooks[name]
    by_file = loader.load_file(generated)
    by_excel = loader.load_book(xlwings_io.read_book(remote.book(remote.payload(computed))))

    assert by_excel.model == by_file.model
    assert _columns(by_excel.model) == _columns(by_file.model)
    assert by_excel.findings == by_file.findings
    assert (check.check_loaded(by_excel, STICHTAG).findings
            == check.check_loaded(by_file, STICHTAG).findings)
    # Not two empty models: the demo's sessions and times came through.
    assert len(by_excel.model.sessions) >= 12
    assert by_excel.model.sessions[0].start == time(9, 0)
    codes = {f.code for f in by_excel.findings}
    if name == "damaged":
        assert {"DATA-1", "DATA-2", "DATA-3", "DATA-4"} <= codes
    else:
        assert not any(code.startswith("DATA") for code in codes)


def test_rows_are_numbered_from_the_used_range_and_padded_to_column_a():
    """Excel's used range need not start at A1 (here C3:E5); the values are anchored at A1."""
    values = [["", "", "", "", ""], ["", "", "", "", ""],
              ["", "", "ID", "Datum", "Beginn"],
              ["", "", "X1", "2027-03-10T00:00:00.000Z", "1899-12-30T16:30:00.000Z"],
              ["", "", 7.0, "", 2.5]]
    request = dict(client="VBA", version=remote.xw.__version__, names=[],
                   book=dict(name="K.xlsx", active_sheet_index=0, selection=None),
                   sheets=[dict(name="Sitzungen", pictures=[], tables=[], values=values,
                                used_range_address="C3:E5")])
    rows = xlwings_io.read_book(remote.book(request))["Sitzungen"].rows
    assert rows == (
        (3, (None, None, "ID", "Datum", "Beginn")),
        (4, (None, None, "X1", datetime(2027, 3, 10), time(16, 30))),
        (5, (None, None, 7, None, 2.5)),
    )


@pytest.mark.parametrize(("value", "expected"), [
    (3.0, 3),
    (2.5, 2.5),
    (True, True),
    ("", None),
    ("  ", "  "),
    ("2027-03-10T00:00:00.000Z", datetime(2027, 3, 10)),
    ("2027-03-10T14:05:00Z", datetime(2027, 3, 10, 14, 5)),
    ("1899-12-30T16:00:00.000Z", time(16, 0)),
    (datetime(1899, 12, 30, 9, 15), time(9, 15)),
    (datetime(2027, 3, 10, 0, 0, 0, 4), datetime(2027, 3, 10)),
    ("2027-03-10", "2027-03-10"),  # typed as text: stays text, as openpyxl gives it
])
def test_values_are_normalised_to_what_openpyxl_reads(value, expected):
    result = xlwings_io.normalise(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.slow
def test_pruefung_is_replaced_in_one_block_with_links(workbooks):
    request = remote.payload(workbooks["damaged"][1])
    xlbook = remote.book(request)
    findings = check.check_loaded(loader.load_book(xlwings_io.read_book(xlbook)), STICHTAG).findings
    edits = report.pruefung_edits(findings, STICHTAG, now=datetime(2026, 11, 29, 9, 30))
    (op,) = edits.operations
    names = [s["name"] for s in request["sheets"]]
    position = names.index(schema.PRUEFUNG.name)

    xlwings_io.write_edits(xlbook, edits)
    actions = xlbook.json()["actions"]

    assert [(a["func"], a["sheet_position"]) for a in actions[:2]] == [("sheetDelete", position),
                                                                       ("addSheet", None)]
    assert actions[1]["args"] == [position, schema.PRUEFUNG.name]
    (block,) = [a for a in actions if a["func"] == "setValues"]
    width = len(schema.PRUEFUNG.columns)
    assert (block["start_row"], block["start_column"]) == (0, 0)
    assert (block["row_count"], block["column_count"]) == (len(op.rows) + 2, width)
    for row, values, link in zip(block["values"][2:], op.rows, op.links):
        if link is not None:
            assert row[0] == f"=HYPERLINK(\"#'{link[0]}'!{link[2]}{link[1]}\",\"{values[0]}\")"
    formulas = sum(str(row[0]).startswith("=") for row in block["values"])
    assert formulas == sum(link is not None for link in op.links) > 0
    (table,) = [a["args"] for a in actions if a["func"] == "addTable"]
    assert table == [f"$A$2:$H${len(op.rows) + 2}", True, "TableStyleLight9", schema.PRUEFUNG.table]

    after = remote.apply(request, actions)
    assert [s["name"] for s in after["sheets"]] == names
    expected = [[op.title] + [""] * (width - 1), [c.header for c in schema.PRUEFUNG.columns]]
    expected += [[remote.excel_value(v) for v in row] for row in op.rows]
    assert remote.sheet_values(after, schema.PRUEFUNG.name) == expected


def _log_row(key: str, state: str, **more) -> dict:
    return dict(key=key, session="KPR-2026-4", document="Einladung", recipient=key.split("|")[2],
                email=f"{key.split('|')[2].lower()}@dresden.example", version="1", transport="outbox",
                state=state, timestamp=datetime(2026, 11, 20, 10, 15), checksum="0123e45", error="",
                **more)


@pytest.mark.slow
def test_send_log_rows_are_appended_and_updated_in_blocks(workbooks):
    request = remote.payload(workbooks["demo"][1])
    xlbook = remote.book(request)
    keys = [f"KPR-2026-4|Einladung|P0{i}|v1" for i in range(1, 4)]
    writer = xlwings_io.Writer(xlbook)
    writer(Edits((UpsertRows("Versand", "key", tuple(_log_row(k, "geplant") for k in keys)),)))
    # A second write in the same run, as the send log is kept before and after sending:
    # one known row changes, one is new. The engine does not show the first write to a read.
    writer(Edits((UpsertRows("Versand", "key", (_log_row(keys[1], "gesendet"),
                                                _log_row("KPR-2026-4|Einladung|P04|v1", "gesendet"))),)))
    actions = xlbook.json()["actions"]

    writes = [(a["start_row"], a["row_count"], a["column_count"]) for a in actions if a["func"] == "setValues"]
    assert writes == [(1, 3, 11), (2, 1, 11), (4, 1, 11)]  # rows 2-4, then row 3 and row 5
    first = next(a for a in actions if a["func"] == "setValues")
    assert first["values"][0][9] == "'0123e45"  # text Excel would take for a number stays text
    resizes = [a["args"] for a in actions if a["func"] == "resizeTable"]
    assert resizes == [[0, "$A$1:$K$4"], [0, "$A$1:$K$5"]]

    log = loader.load_book(xlwings_io.read_book(remote.book(remote.apply(request, actions)))).model.send_log
    assert [(e.src.row, e.key, e.state, e.checksum) for e in log] == [
        (2, keys[0], "geplant", "0123e45"), (3, keys[1], "gesendet", "0123e45"),
        (4, keys[2], "geplant", "0123e45"), (5, "KPR-2026-4|Einladung|P04|v1", "gesendet", "0123e45")]
    assert all(e.timestamp == datetime(2026, 11, 20, 10, 15) for e in log)


@pytest.mark.slow
def test_a_row_without_key_is_kept_and_new_rows_go_below_it(workbooks):
    """A note the office typed into Versand (no Schlüssel) must not be overwritten by the log."""
    request = remote.payload(workbooks["demo"][1])
    versand = next(s for s in request["sheets"] if s["name"] == "Versand")
    width = len(schema.VERSAND.columns)
    note = ["", "KPR-2026-4", "Brief per Post an Herrn Rodig"] + [""] * (width - 3)
    versand["values"] = [versand["values"][0], note]
    xlbook = remote.book(request)

    xlwings_io.write_edits(xlbook, Edits((UpsertRows("Versand", "key", (_log_row("K|E|P01|v1", "gesendet"),)),)))

    rows = remote.sheet_values(remote.apply(request, xlbook.json()["actions"]), "Versand")
    assert rows[1][:3] == note[:3]
    assert rows[2][0] == "K|E|P01|v1"


@pytest.mark.slow
def test_status_cells_are_written_without_touching_the_formulas_between(workbooks):
    request = remote.payload(workbooks["demo"][1])
    xlbook = remote.book(request)
    sessions = loader.load_book(xlwings_io.read_book(xlbook)).model.sessions
    first, second = sessions[-2], sessions[-1]
    assert second.src.row == first.src.row + 1
    edits = Edits((SetCells("Sitzungen", "id", (
        (first.id, "status", "eingeladen"), (first.id, "invitation_sent", date(2026, 11, 27)),
        (second.id, "status", "eingeladen"), (second.id, "invitation_sent", date(2026, 11, 28)),
    )),))

    xlwings_io.write_edits(xlbook, edits)
    actions = xlbook.json()["actions"]

    status, sent = schema.SITZUNGEN.letter("status"), schema.SITZUNGEN.letter("invitation_sent")
    col = {letter: ord(letter) - ord("A") for letter in (status, sent)}
    writes = [(a["start_row"] + 1, a["start_column"], a["row_count"], a["column_count"], a["values"])
              for a in actions if a["func"] == "setValues"]
    assert writes == [
        (first.src.row, col[status], 2, 1, [["'eingeladen"], ["'eingeladen"]]),
        (first.src.row, col[sent], 2, 1, [["2026-11-27"], ["2026-11-28"]]),
    ]
    formats = [(a["start_column"], a["args"]) for a in actions if a["func"] == "setNumberFormat"]
    assert formats == [(col[sent], ["DD.MM.YYYY"])]

    after = loader.load_book(xlwings_io.read_book(remote.book(remote.apply(request, actions))))
    changed = {s.id: s for s in after.model.sessions}
    assert (changed[first.id].status, changed[first.id].invitation_sent) == ("eingeladen", date(2026, 11, 27))
    assert changed[second.id].invitation_sent == date(2026, 11, 28)
    untouched = remote.sheet_values(request, "Sitzungen")
    assert [r[:col[status]] + r[col[status] + 1:col[sent]] for r in remote.sheet_values(
        remote.apply(request, actions), "Sitzungen")] == [
        r[:col[status]] + r[col[status] + 1:col[sent]] for r in untouched]


@pytest.mark.slow
def test_a_missing_send_log_sheet_is_created_with_its_table(workbooks):
    request = remote.payload(workbooks["demo"][1])
    request["sheets"] = [s for s in request["sheets"] if s["name"] != "Versand"]
    xlbook = remote.book(request)

    xlwings_io.write_edits(xlbook, Edits((UpsertRows("Versand", "key", (_log_row("K|E|P01|v1", "gesendet"),)),)))

    after = remote.apply(request, xlbook.json()["actions"])
    assert [s["name"] for s in after["sheets"]][-2:] == ["Listen", "Versand"]
    (table,) = next(s for s in after["sheets"] if s["name"] == "Versand")["tables"]
    assert table["range_address"] == "$A$1:$K$2"
    (entry,) = loader.load_book(xlwings_io.read_book(remote.book(after))).model.send_log
    assert (entry.src.row, entry.key, entry.state) == (2, "K|E|P01|v1", "gesendet")


@pytest.mark.slow
def test_nothing_is_written_where_the_header_is_gone(workbooks):
    request = remote.payload(workbooks["demo"][1])
    versand = next(s for s in request["sheets"] if s["name"] == "Versand")
    versand["values"][0] = ["Spalte 1"] + [""] * (len(versand["values"][0]) - 1)
    xlbook = remote.book(request)

    with pytest.raises(KprError, match="Im Blatt „Versand“ wurde keine Überschriftenzeile gefunden"):
        xlwings_io.write_edits(xlbook, Edits((UpsertRows("Versand", "key", (_log_row("K|E|P|v1", "x"),)),)))
    assert xlbook.json()["actions"] == []


@pytest.mark.slow
def test_the_selection_names_sheet_and_first_row(workbooks):
    xlbook = remote.book(remote.payload(workbooks["demo"][1], active="Tagesordnung", selection="B7:D9"))
    assert xlwings_io.selected_cell(xlbook) == Location("Tagesordnung", 7)
    assert xlwings_io.selected_cell(remote.book(remote.payload(workbooks["demo"][1]))) is None


@pytest.mark.parametrize(("fullname", "problem"), [
    ("Mappe1", "noch nicht gespeichert"),
    ("https://stadt.sharepoint.example/sites/kpr/KPR.xlsx", "OneDrive oder SharePoint"),
])
def test_files_need_a_saved_workbook(fullname, problem):
    class Unsaved:
        name = "Mappe1"

    Unsaved.fullname = fullname
    with pytest.raises(KprError, match=problem):
        xlwings_io.workbook_path(Unsaved())


def test_a_saved_workbook_gives_its_path(tmp_path):
    class Saved:
        name = "KPR.xlsx"
        fullname = str(tmp_path / "KPR.xlsx")

    assert xlwings_io.workbook_path(Saved()) == tmp_path / "KPR.xlsx"


@given(st.dictionaries(st.tuples(st.integers(1, 12), st.integers(1, 8)), st.integers(), max_size=40))
def test_blocks_cover_exactly_the_cells_given(cells):
    found = {}
    for top, left, values in xlwings_io.blocks(cells):
        assert values and len({len(row) for row in values}) == 1  # a rectangle
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                assert (top + i, left + j) not in found  # no overlap
                found[(top + i, left + j)] = value
    assert found == cells


def test_blocks_join_rows_and_columns():
    cells = {(r, c): r * 10 + c for r in (2, 3, 4) for c in (1, 2, 3)} | {(3, 5): 35, (4, 5): 45, (9, 1): 91}
    assert xlwings_io.blocks(cells) == [
        (2, 1, [[21, 22, 23], [31, 32, 33], [41, 42, 43]]),
        (3, 5, [[35], [45]]),
        (9, 1, [[91]]),
    ]
