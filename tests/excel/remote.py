"""Excel stand-ins for the xlwings adapter: xlwings' remote engine fed as Excel feeds it.

`payload(path)` is the request Excel's xlwings VBA client (xlwings/addin/Remote.bas) sends for
a saved workbook: every worksheet's values from A1 to the end of its used range as Excel
shows them (formulas as their results, dates as ISO text ending in Z, times as a date-time on
day zero, empty cells as ""), its tables, the active sheet and the selection.
`xw.Book(json=payload)` turns that into a Book; what the code writes comes back as a list of
actions (`book.json()`), which `apply` plays onto the payload as Excel would, so that a test
can read the result back through the adapter.

The remote engine cannot answer a message box (its alerts are queued actions) nor show a
status bar; `StandInBook` replaces just Excel's application object for the tests that need it.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import xlwings as xw
from openpyxl.utils import get_column_letter, range_boundaries


def payload(path: Path, *, active: str | None = None, selection: str | None = None) -> dict:
    """What Excel sends for the workbook at `path` (formulas must carry cached results)."""
    sheets = json.loads(_sheets(path))
    names = [s["name"] for s in sheets]
    book = dict(name=path.name, active_sheet_index=names.index(active) if active else 0,
                selection=selection)
    return dict(client="VBA", version=xw.__version__, book=book, names=[], sheets=sheets)


def saved_payload(path: Path, folder: Path, **view) -> dict:
    """`payload(path)` for the workbook as saved in `folder` as KPR.xlsx: the book's name is
    its full path, which is what `Book.fullname` gives with Excel (the remote engine only
    knows the name). Files the buttons write go into `folder`."""
    request = payload(path, **view)
    request["book"]["name"] = str(Path(folder) / "KPR.xlsx")
    return request


@functools.lru_cache(maxsize=8)
def _sheets(path: Path) -> str:
    """The sheets' part of the request, as JSON: exactly what a request body can carry."""
    workbook = openpyxl.load_workbook(path, data_only=True)
    sheets = []
    for worksheet in workbook.worksheets:
        grid = [[excel_value(v) for v in row] for row in worksheet.iter_rows(values_only=True)]
        height = max((i + 1 for i, row in enumerate(grid) if any(v != "" for v in row)), default=0)
        width = max((j + 1 for row in grid for j, v in enumerate(row) if v != ""), default=0)
        values = [row[:width] for row in grid[:height]] if height else [[]]
        sheets.append(dict(name=worksheet.title, pictures=[], values=values,
                           tables=[table_api(t.name, t.ref) for t in worksheet.tables.values()]))
    return json.dumps(sheets)


def excel_value(value: object) -> object:
    """A cell value as the VBA client's JSON converter writes it."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%dT%H:%M:%S}.000Z"
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}T00:00:00.000Z"
    if isinstance(value, time):
        return f"1899-12-30T{value:%H:%M:%S}.000Z"
    return value


def table_api(name: str, ref: str) -> dict:
    left, top, right, bottom = range_boundaries(ref)

    def address(r1, r2):
        return f"${get_column_letter(left)}${r1}:${get_column_letter(right)}${r2}"

    return dict(name=name, range_address=address(top, bottom), header_row_range_address=address(top, top),
                data_body_range_address=address(top + 1, bottom) if bottom > top else None,
                total_row_range_address=None, show_headers=True, show_totals=False,
                table_style="TableStyleLight9", show_autofilter=True)


def book(request: dict) -> xw.Book:
    return xw.Book(json=copy.deepcopy(request))


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$")
_HYPERLINK = re.compile(r'^=HYPERLINK\("((?:[^"]|"")*)","((?:[^"]|"")*)"\)$')
# Actions that change nothing a later read could see.
_COSMETIC = {"setNumberFormat", "setColumnWidth", "setFontProperty", "alert", "activateSheet"}


def apply(request: dict, actions: list[dict]) -> dict:
    """The payload Excel would send after running `actions` (values, sheets and tables).

    Cell values are stored as Excel stores them (see `stored`). An action this stand-in does
    not know fails the test, so new kinds of writes cannot slip through unchecked.
    """
    result = copy.deepcopy(request)
    sheets = result["sheets"]
    for action in actions:
        func, args = action["func"], action["args"]
        sheet = sheets[action["sheet_position"]] if action["sheet_position"] is not None else None
        if func == "setValues":
            for i, row in enumerate(action["values"]):
                for j, value in enumerate(row):
                    _put(sheet, action["start_row"] + i, action["start_column"] + j, stored(value))
        elif func == "rangeClearContents":
            for i in range(action["row_count"]):
                for j in range(action["column_count"]):
                    _put(sheet, action["start_row"] + i, action["start_column"] + j, "")
        elif func == "addSheet":
            sheets.insert(args[0], dict(name=args[1], pictures=[], tables=[], values=[[]]))
            result["book"]["active_sheet_index"] = args[0]
        elif func == "sheetDelete":
            del sheets[action["sheet_position"]]
        elif func == "addTable":
            sheet["tables"].append(table_api(args[3], args[0].replace("$", "")))
        elif func == "resizeTable":
            table = sheet["tables"][args[0]]
            table.update(table_api(table["name"], args[1].replace("$", "")))
        elif func not in _COSMETIC:
            raise AssertionError(f"the Excel stand-in does not know the action {func}")
    return result


def stored(value: object) -> object:
    """What Excel keeps of a value written through its object model (VBA `Range.Value = v`).

    A leading apostrophe keeps text as it is and is not part of it; an ISO date from the
    remote engine becomes a date; a HYPERLINK formula shows its label; "" empties the cell.
    """
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:]
        link = _HYPERLINK.match(value)
        if link:
            return link[2].replace('""', '"')
        if _ISO.match(value):
            return excel_value(datetime.fromisoformat(value))
    return value


def _put(sheet: dict, row: int, column: int, value: object) -> None:
    values = sheet["values"]
    if values == [[]]:
        values.clear()
    width = max([len(r) for r in values] + [column + 1])
    while len(values) <= row:
        values.append([])
    for r in values:
        r.extend([""] * (width - len(r)))
    values[row][column] = value


def sheet_values(request: dict, name: str) -> list[list]:
    return next(s["values"] for s in request["sheets"] if s["name"] == name)


class StandInApp:
    """Excel's application object where the remote engine has none: status bar, answers."""

    def __init__(self, answer: str | None = None):
        self.answer = answer
        self.statuses: list[str | bool] = []
        self.alerts: list[dict] = []

    @property
    def status_bar(self):
        return self.statuses[-1] if self.statuses else False

    @status_bar.setter
    def status_bar(self, value):
        self.statuses.append(value)

    def alert(self, prompt, title=None, buttons="ok", mode=None, callback=None):
        self.alerts.append(dict(prompt=prompt, title=title, buttons=buttons, mode=mode))
        return self.answer if buttons != "ok" else "ok"


class StandInBook:
    """A remote-engine Book whose `app` is a `StandInApp`; everything else is the Book's."""

    def __init__(self, xlbook: xw.Book, app: StandInApp):
        self._xlbook = xlbook
        self.app = app

    def __getattr__(self, name):
        return getattr(self._xlbook, name)
