"""The workbook's layout as the readers, the loader and the writers all see it.

Where a sheet is (tab names compared without case and stray spaces), where its header row
is and which column holds which field, and the number formats of dates and times. Kept
apart from the loader and the writers so that each of them imports it, not one another.
"""

from __future__ import annotations

from dataclasses import dataclass

from kpr_excel.domain import schema, values
from kpr_excel.domain.errors import WorkbookNotWritable

DATE_FORMAT = "DD.MM.YYYY"
TIME_FORMAT = "HH:MM"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
#: How many rows from the top a header row may stand (a title line above it is allowed).
HEADER_SEARCH_ROWS = 6


@dataclass(frozen=True)
class SheetRows:
    """One sheet as values: every non-empty row with its Excel row number (1-based)."""

    name: str
    rows: tuple[tuple[int, tuple[object, ...]], ...]


Book = dict[str, SheetRows]


def norm(value: object) -> str:
    """A header, a tab name or a setting's label as compared: trimmed, case folded."""
    return values.clean_text(value).casefold()


def find_sheet(book: Book, name: str) -> SheetRows | None:
    """The sheet `name`, tolerating a changed case or stray spaces in the tab name."""
    if name in book:
        return book[name]
    wanted = norm(name)
    return next((rows for title, rows in book.items() if norm(title) == wanted), None)


def find_header(rows: SheetRows, sheet: schema.Sheet) -> tuple[int, dict[str, int]] | None:
    """The header row's number and where each known column is (attribute -> 0-based index)."""
    wanted = {norm(c.header): c.key for c in sheet.columns}
    needed = min(2, len(sheet.columns))
    for number, row in rows.rows[:HEADER_SEARCH_ROWS]:
        found: dict[str, int] = {}
        for index, cell in enumerate(row):
            key = wanted.get(norm(cell))
            if key is not None and key not in found:
                found[key] = index
        if len(found) >= needed:
            return number, found
    return None


def header_to_write(rows: SheetRows, sheet: schema.Sheet, needed=()) -> tuple[int, dict[str, int]]:
    """The header row of `rows` and where each column is (attribute -> 1-based column), for a writer.

    Raises WorkbookNotWritable where the header or a column in `needed` is missing: writing
    where the columns are only guessed could overwrite the office's data.
    """
    found = find_header(rows, sheet)
    if found is None:
        raise WorkbookNotWritable(
            f"Im Blatt „{sheet.name}“ wurde keine Überschriftenzeile gefunden (erwartet u. a. "
            f"„{sheet.columns[0].header}“). Es wird nichts hineingeschrieben; bitte die Überschriften "
            "wiederherstellen.")
    row, positions = found
    missing = [key for key in dict.fromkeys(needed) if key not in positions]
    if missing:
        headers = ", ".join(f"„{sheet.column(key).header}“" for key in missing)
        raise WorkbookNotWritable(f"Im Blatt „{sheet.name}“ fehlt die Spalte {headers}; es wird nichts "
                                  "hineingeschrieben.")
    return row, {key: index + 1 for key, index in positions.items()}
