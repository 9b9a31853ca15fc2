"""Writing changes back into the office's .xlsx file safely (the office must never lose a row).

- refuse while Excel (`~$NAME.xlsx`) or LibreOffice (`.~lock.NAME.xlsx#`) has the file open,
  and where the file is read-only; the caller then writes the results to a separate file;
- patch only the parts the edits change (`book.patch`), so that everything else Excel wrote
  (extension blocks, threaded comments, cached values) keeps its bytes; a package the
  patcher cannot handle is refused the same way, never rewritten through openpyxl;
- copy the current file into a backup folder beside it (`book.files`);
- write to a temporary file in the same folder, then replace atomically.

openpyxl only builds the side file where the workbook itself cannot be patched.
"""


from __future__ import annotations

import os
from datetime import date, datetime, time
from pathlib import Path

from kpr_excel.book import patch
from kpr_excel.book.edits import Edits, ReplaceSheet, SetCells, UpsertRows
from kpr_excel.book.files import save_atomically, write_bytes_atomically
from kpr_excel.book.generate import add_sheet
from kpr_excel.book.layout import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    TIME_FORMAT,
    SheetRows,
    header_to_write,
)
from kpr_excel.book.reader import check_readable, load_workbook
from kpr_excel.domain import schema
from kpr_excel.domain.errors import WorkbookNotWritable


def lock_files(path: Path) -> tuple[Path, Path]:
    """The lock files Excel and LibreOffice put beside a workbook they have open."""
    return path.with_name("~$" + path.name), path.with_name(f".~lock.{path.name}#")


def _open_elsewhere(path: Path) -> str | None:
    excel, libreoffice = lock_files(path)
    if excel.exists():
        return "Excel"
    if libreoffice.exists():
        return "LibreOffice"
    return None


def check_writable(path: Path) -> None:
    """Raise WorkbookNotWritable where rewriting `path` could lose the office's work."""
    program = _open_elsewhere(path)
    if program is not None:
        raise WorkbookNotWritable(
            f"Die Mappe {path.name} ist gerade in {program} geöffnet. Bitte dort schließen oder die "
            "Schaltflächen im Menüband KPR verwenden.",
            fallback_allowed=True,
        )
    # The mode too: root may write any file, but a file without write bits is meant read-only.
    if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:
        raise WorkbookNotWritable(
            f"Die Mappe {path.name} ist schreibgeschützt und wird deshalb nicht verändert. Bitte den "
            "Schreibschutz in den Eigenschaften der Datei aufheben.",
            fallback_allowed=True,
        )
    patch.check(path.read_bytes(), name=path.name)


def side_file(path: Path) -> Path:
    """Where results go when the workbook itself must not be rewritten."""
    return path.with_name(f"{path.stem}_Ergebnis.xlsx")


def write_edits(path: Path, edits: Edits, *, side_file_allowed: bool = True) -> Path:
    """Apply `edits` to the workbook at `path` safely; returns the file written.

    Where the workbook must not be rewritten but a side file is safe (and allowed), the edits
    go to a copy next to it (`NAME_Ergebnis.xlsx`) and that path is returned.
    """
    check_readable(path)
    try:
        check_writable(path)
        data = patch.apply(path.read_bytes(), edits, name=path.name)
    except WorkbookNotWritable as exc:
        if not (exc.fallback_allowed and side_file_allowed):
            raise
        return _write_side_file(path, edits, exc)
    write_bytes_atomically(path, data)
    return path


def _write_side_file(path: Path, edits: Edits, reason: WorkbookNotWritable) -> Path:
    # The side file is rebuilt from the workbook each time, so its links match its rows.
    target = side_file(path)
    program = _open_elsewhere(target)
    if program is not None:
        raise WorkbookNotWritable(
            f"{reason} Auch {target.name} ist gerade in {program} geöffnet; bitte dort schließen."
        ) from None
    try:
        write_bytes_atomically(target, patch.apply(path.read_bytes(), edits, name=path.name), backup=False)
    except patch.Unsupported:
        workbook = load_workbook(path)
        apply_edits(workbook, edits)
        save_atomically(workbook, target, backup=False)
    return target


# ---------------------------------------------------------------- applying edits


def header_row(worksheet, sheet: schema.Sheet, needed=()) -> tuple[int, dict[str, int]]:
    """The header row and where each column is (attribute -> 1-based column), as the loader sees it.

    Raises WorkbookNotWritable where the header or a column in `needed` is missing: writing
    where the columns are only guessed could overwrite the office's data.
    """
    top = tuple((number, row) for number, row in enumerate(
        worksheet.iter_rows(min_row=1, max_row=6, values_only=True), start=1))
    return header_to_write(SheetRows(sheet.name, top), sheet, needed)


def apply_edits(workbook, edits: Edits) -> None:
    for op in edits.operations:
        if isinstance(op, ReplaceSheet):
            _replace_sheet(workbook, op)
        elif isinstance(op, UpsertRows):
            _upsert(workbook, op)
        elif isinstance(op, SetCells):
            _set_cells(workbook, op)
        else:  # pragma: no cover - a programming error
            raise TypeError(op)


def _worksheet(workbook, name: str):
    if name not in workbook.sheetnames:
        add_sheet(workbook, schema.SHEETS_BY_NAME[name], rows=())
    return workbook[name]


def _write_value(cell, value, kind: schema.Kind | None = None) -> None:
    if kind is schema.Kind.BOOL and isinstance(value, bool):
        value = "ja" if value else "nein"  # as the generator writes it and the dropdown offers it
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text the tool writes never becomes a formula
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, time):
        cell.number_format = TIME_FORMAT


def _replace_sheet(workbook, op: ReplaceSheet) -> None:
    sheet = schema.SHEETS_BY_NAME[op.sheet]
    if op.sheet in workbook.sheetnames:
        index = workbook.sheetnames.index(op.sheet)
        del workbook[op.sheet]
    else:
        index = None
    worksheet = add_sheet(workbook, sheet, rows=op.rows, title=op.title, index=index)
    first_data_row = 3 if op.title else 2
    for offset, link in enumerate(op.links):
        if link is not None:
            target_sheet, row, column = link
            cell = worksheet.cell(row=first_data_row + offset, column=1)
            cell.hyperlink = f"#'{target_sheet}'!{column}{row}"
            cell.style = "Hyperlink"


def _upsert(workbook, op: UpsertRows) -> None:
    sheet = schema.SHEETS_BY_NAME[op.sheet]
    worksheet = _worksheet(workbook, op.sheet)
    head, columns = header_row(worksheet, sheet, needed=[op.key])
    key_col = columns[op.key]
    existing = {}
    last = head
    row: int | None  # below: the row found for a key, or None
    for row in range(head + 1, worksheet.max_row + 1):
        value = worksheet.cell(row=row, column=key_col).value
        if value not in (None, ""):
            existing[str(value).strip()] = row
        # New rows go below every row with content, keyed or not: a row the office typed
        # without a key must not be written over.
        if any(worksheet.cell(row=row, column=c).value not in (None, "") for c in columns.values()):
            last = row
    kinds = {c.key: c.kind for c in sheet.columns}
    for values in op.rows:
        row = existing.get(str(values[op.key]))
        if row is None:
            last += 1
            row = existing[str(values[op.key])] = last
        for key, value in values.items():
            if key in columns:
                _write_value(worksheet.cell(row=row, column=columns[key]), value, kinds.get(key))
    _grow_table(worksheet, last)


def _set_cells(workbook, op: SetCells) -> None:
    sheet = schema.SHEETS_BY_NAME[op.sheet]
    worksheet = _worksheet(workbook, op.sheet)
    head, columns = header_row(worksheet, sheet, needed=[*op.key_attrs, *(attr for _, attr, _ in op.cells)])
    rows: dict[tuple[str, ...], list[int]] = {}
    for row in range(head + 1, worksheet.max_row + 1):
        key = op.key_of(tuple(worksheet.cell(row=row, column=columns[a]).value for a in op.key_attrs))
        if any(key):
            rows.setdefault(key, []).append(row)
    targets = []
    for key_value, attr, value in op.cells:
        found = rows.get(op.key_of(key_value), [])
        if len(found) != 1:
            raise WorkbookNotWritable(patch._not_one_row(sheet, op, key_value, found))
        targets.append((found[0], attr, value))
    for row, attr, value in targets:
        _write_value(worksheet.cell(row=row, column=columns[attr]), value, sheet.column(attr).kind)


def _grow_table(worksheet, last_row: int) -> None:
    """Extend the sheet's Excel table so that appended rows belong to it."""
    from openpyxl.utils.cell import get_column_letter, range_boundaries

    for table in worksheet.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if last_row > max_row:
            table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{last_row}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
