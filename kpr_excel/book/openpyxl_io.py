"""The file adapter: reads an .xlsx with openpyxl and writes changes back safely.

Safety rules for writing (the office must never lose a row):
- refuse while Excel has the file open (its lock file `~$NAME.xlsx` lies beside it);
- refuse when the file holds parts openpyxl would silently drop (charts, images, pivot
  tables, macros); the caller then writes the results to a separate file;
- copy the current file into a backup folder beside it, keep the newest few;
- write to a temporary file in the same folder, then replace atomically.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import uuid
import warnings
import zipfile
from datetime import date, datetime, time
from pathlib import Path

from .. import schema
from ..errors import WorkbookNotWritable, WorkbookUnusable
from . import Book, SheetRows
from .edits import Edits, ReplaceSheet, SetCells, UpsertRows

BACKUP_DIR = "KPR-Sicherungen"
BACKUPS_KEPT = 10
DATE_FORMAT = "DD.MM.YYYY"
TIME_FORMAT = "HH:MM"
DATETIME_FORMAT = "DD.MM.YYYY HH:MM"

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Zip members openpyxl does not carry over when it rewrites a workbook.
_DROPPED_PARTS = (
    ("xl/charts/", "Diagramme"),
    ("xl/media/", "Bilder"),
    ("xl/pivotTables/", "Pivot-Tabellen"),
    ("xl/pivotCache/", "Pivot-Tabellen"),
    ("xl/vbaProject.bin", "Makros"),
    ("xl/drawings/drawing", "Zeichnungen oder Formularsteuerelemente"),
    ("xl/slicers/", "Datenschnitte"),
)


def check_readable(path: Path) -> None:
    """Raise WorkbookUnusable with a German reason where `path` is no usable .xlsx file."""
    if not path.exists():
        raise WorkbookUnusable(f"Die Datei {path} wurde nicht gefunden.")
    if path.is_dir():
        raise WorkbookUnusable(f"{path} ist ein Ordner, keine Excel-Mappe.")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise WorkbookUnusable(f"Die Datei {path} kann nicht gelesen werden: {exc.strerror}.") from None
    if not head:
        raise WorkbookUnusable(f"Die Datei {path.name} ist leer (0 Byte).")
    if head == _OLE_MAGIC:
        if _is_encrypted_ooxml(path):
            raise WorkbookUnusable(
                f"Die Mappe {path.name} ist mit einem Kennwort geschützt. Bitte in Excel unter "
                "Datei > Informationen > Arbeitsmappe schützen das Kennwort entfernen."
            )
        raise WorkbookUnusable(
            f"{path.name} ist im alten Excel-Format (.xls). Bitte in Excel öffnen und als "
            "Excel-Arbeitsmappe (.xlsx) speichern."
        )
    if not head.startswith(b"PK"):
        raise WorkbookUnusable(
            f"{path.name} ist keine Excel-Mappe (.xlsx), vielleicht eine umbenannte CSV- oder "
            "Textdatei. Bitte in Excel öffnen und als Excel-Arbeitsmappe speichern."
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            broken = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError):
        raise WorkbookUnusable(
            f"Die Mappe {path.name} ist beschädigt (unvollständig oder kein gültiges ZIP). "
            f"Bitte eine Sicherung aus dem Ordner {BACKUP_DIR} verwenden."
        ) from None
    if broken is not None:
        raise WorkbookUnusable(f"Die Mappe {path.name} ist beschädigt (Teil {broken} fehlerhaft).")
    if "xl/workbook.xml" not in names:
        raise WorkbookUnusable(f"{path.name} ist keine Excel-Mappe (kein Arbeitsmappen-Teil gefunden).")


def _is_encrypted_ooxml(path: Path) -> bool:
    # An encrypted .xlsx is an OLE compound file with an "EncryptedPackage" stream; the
    # stream name is stored in UTF-16 in the directory sectors.
    data = path.read_bytes()
    return "EncryptedPackage".encode("utf-16-le") in data


def _load(path: Path, **kwargs):
    import openpyxl

    check_readable(path)
    try:
        with warnings.catch_warnings():
            # openpyxl warns about extensions (e.g. data validation lists) it does not keep.
            warnings.simplefilter("ignore")
            # Read from memory: no file handle stays open, and openpyxl then judges the file by
            # its content, not its name (an .xlsx saved as "KPR.xls" still loads).
            return openpyxl.load_workbook(io.BytesIO(path.read_bytes()), **kwargs)
    except Exception as exc:  # openpyxl raises many types on damaged content
        raise WorkbookUnusable(
            f"Die Mappe {path.name} kann nicht gelesen werden ({type(exc).__name__}). "
            "Bitte in Excel öffnen, prüfen und neu speichern."
        ) from None


def read_book(path: Path) -> Book:
    """All sheets as rows of values; blank rows are left out, row numbers kept.

    A formula cell gives the value Excel (or LibreOffice) last computed for it, as the
    xlwings adapter does; only where the file holds no computed value (a file written by a
    tool) does the formula text, starting with "=", stand in for it.
    """
    formulas = _read_values(path, data_only=False)
    with_formulas = {title for title, rows in formulas.items() if any(map(_is_formula, _chain(rows)))}
    cached = _read_values(path, data_only=True, only=with_formulas) if with_formulas else {}
    book: Book = {}
    for title, rows in formulas.items():
        merged = []
        for number, row in enumerate(rows, start=1):
            if title in cached:
                computed = cached[title][number - 1]
                row = tuple(c if c is not None and _is_formula(v) else v for v, c in zip(row, computed))
            if any(v is not None and v != "" for v in row):
                merged.append((number, row))
        book[title] = SheetRows(title, tuple(merged))
    return book


def _is_formula(value) -> bool:
    return isinstance(value, str) and value.startswith("=")


def _chain(rows):
    return (value for row in rows for value in row)


def _read_values(path: Path, *, data_only: bool, only=None) -> dict[str, list[tuple]]:
    workbook = _load(path, read_only=True, data_only=data_only, keep_links=False)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets
                if only is None or ws.title in only}
    except Exception as exc:  # damaged sheet XML inside an intact zip
        raise WorkbookUnusable(
            f"Die Mappe {path.name} ist beschädigt und kann nicht gelesen werden "
            f"({type(exc).__name__}). Bitte in Excel öffnen, prüfen und neu speichern."
        ) from None
    finally:
        workbook.close()


def check_writable(path: Path) -> None:
    """Raise WorkbookNotWritable where rewriting `path` could lose the office's work."""
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise WorkbookNotWritable(
            f"Die Mappe {path.name} ist gerade in Excel geöffnet. Bitte dort schließen oder die "
            "Schaltflächen im Menüband KPR verwenden.",
            fallback_allowed=True,
        )
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    dropped = sorted({label for prefix, label in _DROPPED_PARTS for n in names if n.startswith(prefix)})
    if dropped:
        raise WorkbookNotWritable(
            f"Die Mappe {path.name} enthält {', '.join(dropped)}, die beim Speichern verloren gingen. "
            "Sie wird deshalb nicht verändert.",
            fallback_allowed=True,
        )


def side_file(path: Path) -> Path:
    """Where results go when the workbook itself must not be rewritten."""
    return path.with_name(f"{path.stem}_Ergebnis.xlsx")


def save_atomically(workbook, path: Path, *, backup: bool = True) -> None:
    """Save an openpyxl workbook to `path` without ever leaving a half-written file."""
    path = path.resolve()
    if backup and path.exists():
        _backup(path)
    # Created by save() itself, so a new file gets the usual permissions (mkstemp's are 0600).
    temp_name = path.with_name(f".~kpr-{uuid.uuid4().hex}.xlsx")
    try:
        workbook.save(temp_name)
        if path.exists():
            shutil.copymode(path, temp_name)
        with open(temp_name, "rb") as written:
            os.fsync(written.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _backup(path: Path) -> Path:
    folder = path.parent / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = folder / f"{path.stem}_{stamp}{path.suffix}"
    shutil.copy2(path, target)
    # Only this workbook's backups: "KPR_alt.xlsx" shares the prefix "KPR_" with them.
    own = re.compile(re.escape(path.stem) + r"_\d{8}-\d{6}-\d{6}" + re.escape(path.suffix))
    old = sorted(p for p in folder.iterdir() if own.fullmatch(p.name))
    for stale in old[:-BACKUPS_KEPT]:
        stale.unlink(missing_ok=True)
    return target


def write_edits(path: Path, edits: Edits, *, side_file_allowed: bool = True) -> Path:
    """Apply `edits` to the workbook at `path` safely; returns the file written.

    Where the workbook must not be rewritten but a side file is safe (and allowed), the edits
    go to a copy next to it (`NAME_Ergebnis.xlsx`) and that path is returned.
    """
    check_readable(path)
    target = path
    try:
        check_writable(path)
    except WorkbookNotWritable as exc:
        if not (exc.fallback_allowed and side_file_allowed):
            raise
        # The side file is rebuilt from the workbook each time, so its links match its rows.
        target = side_file(path)
        if target.with_name("~$" + target.name).exists():
            raise WorkbookNotWritable(
                f"{exc} Auch {target.name} ist gerade in Excel geöffnet; bitte dort schließen."
            ) from None
    workbook = _load(path)
    apply_edits(workbook, edits)
    save_atomically(workbook, target, backup=target == path)
    return target


# ---------------------------------------------------------------- applying edits


def header_row(worksheet, sheet: schema.Sheet, needed=()) -> tuple[int, dict[str, int]]:
    """The header row and where each column is (attribute -> 1-based column), as the loader sees it.

    Raises WorkbookNotWritable where the header or a column in `needed` is missing: writing
    where the columns are only guessed could overwrite the office's data.
    """
    from ..loader import find_header

    top = tuple((number, row) for number, row in enumerate(
        worksheet.iter_rows(min_row=1, max_row=6, values_only=True), start=1))
    found = find_header(SheetRows(sheet.name, top), sheet)
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
    from .generate import add_sheet

    if name not in workbook.sheetnames:
        add_sheet(workbook, schema.SHEETS_BY_NAME[name], rows=())
    return workbook[name]


def _write_value(cell, value, kind: schema.Kind | None = None) -> None:
    if kind is schema.Kind.BOOL and isinstance(value, bool):
        value = "ja" if value else "nein"  # as the generator writes it and the dropdown offers it
    cell.value = value
    if isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    elif isinstance(value, time):
        cell.number_format = TIME_FORMAT


def _replace_sheet(workbook, op: ReplaceSheet) -> None:
    from .generate import add_sheet

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
    _, columns = header_row(worksheet, sheet, needed=[key for _, key, _ in op.cells])
    for row, key, value in op.cells:
        _write_value(worksheet.cell(row=row, column=columns[key]), value, sheet.column(key).kind)


def _grow_table(worksheet, last_row: int) -> None:
    """Extend the sheet's Excel table so that appended rows belong to it."""
    from openpyxl.utils.cell import range_boundaries, get_column_letter

    for table in worksheet.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if last_row > max_row:
            table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}{last_row}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
