"""The live adapter: the workbook open in Excel, through xlwings (ribbon buttons).

It yields the same `SheetRows` as the file adapter (`reader`), so everything above it is
the same code, and it applies the same `Edits`. Excel is slow per call and fast per block, so
each sheet is read in one block and every write goes out as rectangular blocks of cells, never
cell by cell.

Works with every xlwings engine that implements the standard `Book` API: Excel on Windows
(COM, in use) and xlwings' remote engine (`xw.Book(json=...)`, in the tests).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from kpr_excel.book.edits import Edits, ReplaceSheet, SetCells, UpsertRows
from kpr_excel.book.layout import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    TIME_FORMAT,
    Book,
    SheetRows,
    find_header,
)
from kpr_excel.domain import schema
from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import Location

# Excel hands a time of day over as a date-time on its day zero (COM's VT_DATE epoch).
_EXCEL_DAY_ZERO = date(1899, 12, 30)
# How the remote engine's clients send dates: "2027-03-12T00:00:00.000Z".
_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")
_TABLE_STYLE = "TableStyleLight9"  # as the generator's tables

Cells = dict[tuple[int, int], object]  # (row, column), both 1-based -> value


# ---------------------------------------------------------------- reading


def read_book(xlbook: Any) -> Book:
    """All sheets of the open workbook as rows of values, one block read per sheet."""
    return {sheet.name: read_sheet(sheet) for sheet in xlbook.sheets}


def read_sheet(sheet: Any) -> SheetRows:
    used = sheet.used_range
    values = used.options(ndim=2).value
    return sheet_rows(sheet.name, values, used.row, used.column)


def sheet_rows(name: str, values: Iterable[Iterable[object]], first_row: int = 1,
               first_column: int = 1) -> SheetRows:
    """A block of values whose top-left cell is (first_row, first_column) as `SheetRows`.

    Rows are padded on the left so that index 0 is column A, as the file adapter gives them;
    blank rows are left out, row numbers kept.
    """
    pad = (None,) * (first_column - 1)
    rows = []
    for number, row in enumerate(values, start=first_row):
        cells = tuple(normalise(v) for v in row)
        if any(v is not None for v in cells):
            rows.append((number, pad + cells))
    return SheetRows(name, tuple(rows))


def normalise(value: object) -> object:
    """A value as Excel hands it to xlwings -> the value openpyxl reads from the saved file.

    Excel stores every number as a float, a time of day as a date-time on day zero, and the
    remote engine's clients send dates as ISO text; openpyxl gives ints, `time` and `datetime`.
    """
    if isinstance(value, str):
        if not value:
            return None
        if _ISO_Z.match(value):
            value = datetime.fromisoformat(value[:-1])
        else:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, datetime):
        if value.date() == _EXCEL_DAY_ZERO:
            return value.time()
        return value.replace(microsecond=0, tzinfo=None)
    return value


def selected_cell(xlbook: Any) -> Location | None:
    """The sheet and first row of the user's selection (None for a chart or shape)."""
    selection = xlbook.selection
    if selection is None:
        return None
    try:
        return Location(selection.sheet.name, selection.row)
    except TypeError:  # the remote engine's stand-in for "no cells selected"
        return None


def workbook_path(xlbook: Any) -> Path:
    """The workbook's file; files the buttons write go beside it."""
    fullname = str(xlbook.fullname)
    if fullname.lower().startswith(("http://", "https://")):
        raise KprError(
            f"Die Mappe „{xlbook.name}“ liegt in OneDrive oder SharePoint. Dokumente und "
            "Postausgang brauchen einen Ordner: bitte die Mappe lokal oder auf einem "
            "Netzlaufwerk speichern (Datei > Speichern unter) und erneut klicken.")
    if not os.path.isabs(fullname):
        raise KprError(
            f"Die Mappe „{xlbook.name}“ ist noch nicht gespeichert. Bitte zuerst speichern "
            "(Datei > Speichern unter), dann erneut klicken.")
    return Path(fullname)


# ---------------------------------------------------------------- writing


def write_edits(xlbook: Any, edits: Edits) -> None:
    """Apply `edits` to the open workbook in blocks; the user saves it as usual."""
    Writer(xlbook)(edits)


class Writer:
    """Applies `Edits` to the open workbook, call after call (e.g. a send log as it grows).

    Not every engine shows a value written to a later read in the same run, so the writer
    reads a sheet once and then keeps track of what it wrote itself. Excel waits while a
    button's Python runs, so nobody else changes the sheet meanwhile.
    """

    def __init__(self, xlbook: Any):
        self.xlbook = xlbook
        self._sheets: dict[str, _Sheet] = {}

    def __call__(self, edits: Edits) -> None:
        for op in edits.operations:
            if isinstance(op, ReplaceSheet):
                self._sheets[op.sheet] = _Sheet.replace(self.xlbook, op)
            elif isinstance(op, UpsertRows):
                self._sheet(op.sheet).upsert(op)
            elif isinstance(op, SetCells):
                self._sheet(op.sheet).set_cells(op)
            else:  # pragma: no cover - a programming error
                raise TypeError(op)

    def _sheet(self, name: str) -> _Sheet:
        if name not in self._sheets:
            self._sheets[name] = _Sheet.open(self.xlbook, name)
        return self._sheets[name]


class _Sheet:
    """One sheet being written: its xlwings sheet and the values as they now stand."""

    def __init__(self, xlsheet: Any, schema_sheet: schema.Sheet, values: dict[int, list]):
        self.xlsheet = xlsheet
        self.schema = schema_sheet
        self.values = values  # row number -> cell values from column A

    @classmethod
    def open(cls, xlbook: Any, name: str) -> _Sheet:
        schema_sheet = schema.SHEETS_BY_NAME[name]
        xlsheet = _find_sheet(xlbook, name)
        if xlsheet is None:
            return cls.create(xlbook, schema_sheet)
        rows = read_sheet(xlsheet)
        return cls(xlsheet, schema_sheet, {number: list(values) for number, values in rows.rows})

    @classmethod
    def replace(cls, xlbook: Any, op: ReplaceSheet) -> _Sheet:
        """Delete the sheet and build it anew where it stood, as the file adapter does."""
        old = _find_sheet(xlbook, op.sheet)
        following = preceding = None
        if old is not None:
            names = [s.name for s in xlbook.sheets]
            index = names.index(old.name)
            following = names[index + 1] if index + 1 < len(names) else None
            preceding = names[index - 1] if index > 0 else None
            old.delete()
        return cls.create(xlbook, schema.SHEETS_BY_NAME[op.sheet], op.rows, op.title, op.links,
                          following=following, preceding=preceding)

    @classmethod
    def create(cls, xlbook: Any, schema_sheet: schema.Sheet, rows=(), title: str = "", links=(),
               *, following: str | None = None, preceding: str | None = None) -> _Sheet:
        """Add a schema sheet holding `rows` as an Excel table, in the generator's layout.

        Each of `links` (target sheet, row, column letter) makes the first cell of its row a
        link to that cell: a HYPERLINK formula rather than one of Excel's hyperlink objects,
        because formulas go out with the values in one block, hyperlink objects one by one.
        """
        sheets = xlbook.sheets
        if preceding is None and following is not None:
            xlsheet = sheets.add(schema_sheet.name, before=sheets[following])
        else:  # `after` where possible: the remote engine misplaces `before` but the first sheet
            xlsheet = sheets.add(schema_sheet.name, after=sheets[preceding or sheets[-1].name])
        width = len(schema_sheet.columns)
        head = 2 if title else 1
        block = [[title] + [None] * (width - 1)] if title else []
        block.append([c.header for c in schema_sheet.columns])
        block += [list(row) + [None] * (width - len(row)) for row in rows]
        prepared = [[_cell_value(v) for v in values] for values in block]
        for offset, link in enumerate(links):
            if link is not None:
                target_sheet, row, column = link
                target = f"#'{target_sheet}'!{column}{row}"
                label = block[head + offset][0]
                prepared[head + offset][0] = f'=HYPERLINK("{_quoted(target)}","{_quoted(label)}")'
        xlsheet.range((1, 1)).value = prepared
        last = head + max(len(rows), 1)
        xlsheet.tables.add(source=xlsheet.range((head, 1), (last, width)), name=schema_sheet.table,
                           table_style_name=_TABLE_STYLE)
        for col, column in enumerate(schema_sheet.columns, start=1):
            xlsheet.range((1, col)).column_width = column.width
            number_format = _FORMATS.get(column.kind)
            if number_format and rows:
                xlsheet.range((head + 1, col), (last, col)).number_format = number_format
        if title:
            xlsheet.range((1, 1)).font.bold = True
        return cls(xlsheet, schema_sheet, dict(enumerate(block, start=1)))

    def header(self) -> tuple[int, dict[str, int]]:
        """The header row and where each column is (attribute -> 1-based column)."""
        rows = SheetRows(self.schema.name, tuple((n, tuple(v)) for n, v in sorted(self.values.items())))
        found = find_header(rows, self.schema)
        if found is None:
            raise KprError(
                f"Im Blatt „{self.schema.name}“ wurde keine Überschriftenzeile gefunden (erwartet "
                f"u. a. „{self.schema.columns[0].header}“). Es wird nichts hineingeschrieben; bitte "
                "die Überschriften wiederherstellen.")
        row, positions = found
        return row, {key: index + 1 for key, index in positions.items()}

    def upsert(self, op: UpsertRows) -> None:
        """Update the rows whose key is there, append the others below the last row in use.

        A row without a key (a note the office typed) is kept: new rows go below it.
        """
        head, columns = self.header()
        self._require(columns, [op.key])
        existing: dict[str, int] = {}
        last = head
        number: int | None  # a row number here, below the row found for a key or None
        for number in sorted(n for n in self.values if n > head):
            if any(self._value(number, c) not in (None, "") for c in columns.values()):
                last = number
            key = self._value(number, columns[op.key])
            if key not in (None, ""):
                existing[str(key).strip()] = number
        cells: Cells = {}
        for values in op.rows:
            key = str(values[op.key])
            number = existing.get(key)
            if number is None:
                last += 1
                number = existing[key] = last
            for attr, value in values.items():
                if attr in columns:
                    cells[(number, columns[attr])] = value
        self._write(cells)
        self._grow_table(head, last)

    def set_cells(self, op: SetCells) -> None:
        """Set cells of the rows whose key columns hold the given keys (never a remembered row)."""
        head, columns = self.header()
        self._require(columns, [*op.key_attrs, *(attr for _, attr, _ in op.cells)])
        rows: dict[tuple[str, ...], list[int]] = {}
        for number in sorted(n for n in self.values if n > head):
            key = op.key_of(tuple(self._value(number, columns[a]) for a in op.key_attrs))
            if any(key):
                rows.setdefault(key, []).append(number)
        cells: Cells = {}
        for key_value, attr, value in op.cells:
            found = rows.get(op.key_of(key_value), [])
            if len(found) != 1:
                shown = " / ".join(op.key_of(key_value))
                raise KprError(f"Im Blatt „{self.schema.name}“ steht „{shown}“ nicht in genau einer "
                               "Zeile; es wird nichts hineingeschrieben.")
            cells[(found[0], columns[attr])] = value
        self._write(cells)

    def _require(self, columns: dict[str, int], keys) -> None:
        missing = [k for k in dict.fromkeys(keys) if k not in columns]
        if missing:
            headers = ", ".join(f"„{self.schema.column(k).header}“" for k in missing)
            raise KprError(f"Im Blatt „{self.schema.name}“ fehlt die Spalte {headers}; es wird "
                           "nichts hineingeschrieben.")

    def _value(self, row: int, column: int) -> object:
        values = self.values.get(row, ())
        return values[column - 1] if column - 1 < len(values) else None

    def _write(self, cells: Cells) -> None:
        for top, left, values in blocks(cells):
            self.xlsheet.range((top, left)).value = [[_cell_value(v) for v in r] for r in values]
            for offset, column_values in enumerate(zip(*values)):
                formats = {_number_format(v) for v in column_values} - {None}
                if len(formats) == 1:
                    column = left + offset
                    area = self.xlsheet.range((top, column), (top + len(values) - 1, column))
                    area.number_format = formats.pop()
        for (row, column), value in cells.items():
            row_values = self.values.setdefault(row, [])
            row_values.extend([None] * (column - len(row_values)))
            row_values[column - 1] = value

    def _grow_table(self, head: int, last: int) -> None:
        """Extend the table whose header is `head` so that appended rows belong to it."""
        for table in self.xlsheet.tables:
            area = table.range
            rows, width = area.shape
            if area.row == head and last > head + rows - 1:
                table.resize(self.xlsheet.range((head, area.column), (last, area.column + width - 1)))


_FORMATS = {schema.Kind.DATE: DATE_FORMAT, schema.Kind.DATETIME: DATETIME_FORMAT,
            schema.Kind.TIME: TIME_FORMAT}


def _find_sheet(xlbook: Any, name: str) -> Any | None:
    return next((s for s in xlbook.sheets if s.name == name), None)


def _quoted(text: object) -> str:
    return str(text).replace('"', '""')


def _number_format(value: object) -> str | None:
    if isinstance(value, datetime):
        return DATETIME_FORMAT
    if isinstance(value, date):
        return DATE_FORMAT
    if isinstance(value, time):
        return TIME_FORMAT
    return None


def _cell_value(value: object) -> object:
    """What to hand to Excel so that it stores exactly this value.

    Excel parses text written through its object model as if typed: "1/2" becomes a date,
    "0123" the number 123, "=x" a formula. A leading apostrophe keeps the text as it is (the
    apostrophe is not part of the value).
    """
    if isinstance(value, str) and value:
        return "'" + value
    return value


def blocks(cells: Cells) -> list[tuple[int, int, list[list[object]]]]:
    """Group single cells into rectangles: (top row, left column, rows of values).

    Only cells being written go into a block; a gap is never filled with what was read
    (that would replace a formula by its value). Adjacent cells of a row form a run, and runs
    over the same columns in consecutive rows form one rectangle.
    """
    by_row: dict[int, dict[int, object]] = {}
    for (row, column), value in cells.items():
        by_row.setdefault(row, {})[column] = value
    found: list[list] = []
    growing: dict[tuple[int, int], list] = {}  # (left, right) -> block ending in the row before
    for row in sorted(by_row):
        still = {}
        for left, right in _runs(sorted(by_row[row])):
            block = growing.get((left, right))
            if block is None or block[0] + len(block[2]) != row:
                block = [row, left, []]
                found.append(block)
            block[2].append([by_row[row][c] for c in range(left, right + 1)])
            still[(left, right)] = block
        growing = still
    return sorted(((top, left, values) for top, left, values in found), key=lambda b: b[:2])


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return [(a, b) for a, b in runs]
