"""Reading an .xlsx file: every sheet as rows of values, formulas as computed.

The check reads through python-calamine (Rust): on the ten-year workbook it reads every sheet
in a tenth of the time openpyxl needs to open it, and it imports in a millisecond. openpyxl
serves what calamine cannot give, and only when it is needed: the writer's workbook
(`load_workbook`), and a shared formula that was saved without a computed value
(`read_book_openpyxl`, which is also the reference the tests compare the fast reader with).
Neither library is imported when this module is: `kpr` starts without them.
"""


from __future__ import annotations

import io
import re
import warnings
import zipfile
from collections.abc import Collection, Iterable
from datetime import date, datetime
from pathlib import Path

from kpr_excel.book.files import BACKUP_DIR
from kpr_excel.book.layout import Book, SheetRows, norm
from kpr_excel.domain.errors import WorkbookUnusable

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def load_workbook(path: Path, **kwargs):
    """The openpyxl workbook at `path`, or WorkbookUnusable with a German reason."""
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


def read_book(path: Path, only: Collection[str] | None = None) -> Book:
    """All sheets (or those named in `only`, compared as `layout.norm` compares tab names) as
    rows of values; blank rows are left out, row numbers kept.

    A formula cell gives the value Excel (or LibreOffice) last computed for it, as the
    xlwings adapter does; only where the file holds no computed value (a file written by a
    tool) does the formula text, starting with "=", stand in for it. An error value gives its
    text ("#NV" is stored as "#N/A"). Values come as openpyxl gives them: dates as datetime,
    whole numbers as int, empty cells as None.
    """
    import python_calamine

    check_readable(path)
    data = path.read_bytes()
    wanted = None if only is None else {norm(name) for name in only}
    try:
        # From memory, like openpyxl above: the content decides the format, not the file name.
        with python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)) as workbook:
            titles = [m.name for m in workbook.sheets_metadata
                      if m.typ == python_calamine.SheetTypeEnum.WorkSheet
                      and (wanted is None or norm(m.name) in wanted)]
            grids = {title: workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
                     for title in titles}
        filled = _cells_calamine_leaves_empty(data, titles)
    except Exception as exc:  # calamine and ElementTree raise several types on damaged content
        raise _damaged(path, exc) from None
    if filled is None:
        return read_book_openpyxl(path, only)
    return {title: SheetRows(title, _rows(grid, filled.get(title, {}))) for title, grid in grids.items()}


def _rows(grid: list[list], filled: dict[tuple[int, int], str]) -> tuple[tuple[int, tuple[object, ...]], ...]:
    if filled:
        # Calamine's grid ends at its last non-empty cell; the filled cells may lie beyond it.
        height = max(len(grid), *(row + 1 for row, _ in filled))
        width = max(max(map(len, grid), default=0), *(column + 1 for _, column in filled))
        grid.extend([] for _ in range(height - len(grid)))
        for cells in grid:
            cells.extend([""] * (width - len(cells)))
        for (row, column), value in filled.items():
            grid[row][column] = value
    # One comprehension per row, strings passed through untouched: most cells of the
    # workbook are text, and this loop runs over every cell of the ten-year workbook.
    return tuple(
        (number, tuple([None if v == "" else v if v.__class__ is str else _value(v) for v in cells]))
        for number, cells in enumerate(grid, start=1)
        if cells.count("") != len(cells)
    )


def _value(value):
    """A value from calamine as openpyxl gives it: the loader and the xlwings adapter expect that."""
    if value.__class__ is float and value.is_integer():
        return int(value)
    if value.__class__ is date:  # a date-formatted cell; openpyxl gives datetime at midnight
        return datetime(value.year, value.month, value.day)
    return value


_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_CELL_REF = re.compile(r"([A-Z]+)(\d+)")
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _cells_calamine_leaves_empty(data: bytes, titles: Iterable[str]) -> dict[str, dict[tuple[int, int], str]] | None:
    """Per sheet, the cells python-calamine gives as empty that openpyxl gives a value for.

    Hand-written because calamine has no API for them: a formula saved without a computed
    value ("=" and the formula text: the loader reports it instead of taking the cell as
    empty) and an error value ("#N/A"). Keys are 0-based (row, column). Only a sheet whose
    cell data holds a formula or an error is parsed; finding out costs two byte searches.
    None where only openpyxl reads the sheet right: a shared formula's dependent cell
    without a computed value (only openpyxl translates its formula) and rows without a
    row number (calamine misplaces them).
    """
    result: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = _sheet_parts(archive)
        for title in titles:
            part = parts.get(title)
            if part is None:
                continue
            xml = archive.read(part)
            root = _ROOT.search(xml, 0, 1000)
            prefix = (root[1] or b"") if root else b""
            end = xml.rfind(b"sheetData>")  # formulas, errors and row breaks after it are no cells
            row_tag = b"<" + prefix + b"row"
            if not all(_numbered(xml, at) for at in (xml.find(row_tag, 0, end), xml.rfind(row_tag, 0, end))):
                return None
            if xml.find(b"<" + prefix + b"f", 0, end) < 0 and xml.find(b't="e"', 0, end) < 0:
                continue
            cells = _scan_sheet(xml)
            if cells is None:
                return None
            if cells:
                result[title] = cells
    return result


def _numbered(xml: bytes, at: int) -> bool:
    """Whether the row tag at `at` (-1: none) carries its row number."""
    if at < 0:
        return True
    return b" r=" in xml[at:xml.find(b">", at)]


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> zip member of its XML, from the workbook part and its relationships."""
    from xml.etree import ElementTree

    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {rel.get("Id"): rel.get("Target", "") for rel in rels}
    parts = {}
    for sheet in workbook.iter():
        if _local(sheet.tag) != "sheet":
            continue
        target = targets.get(sheet.get(_REL_NS), "")
        parts[sheet.get("name", "")] = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return parts


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _scan_sheet(xml: bytes) -> dict[tuple[int, int], str] | None:
    from xml.etree import ElementTree

    found: dict[tuple[int, int], str] = {}
    row = column = -1
    for event, element in ElementTree.iterparse(io.BytesIO(xml), events=("start", "end")):
        tag = _local(element.tag)
        if event == "start":
            if tag == "row":
                number = element.get("r")
                row = int(number) - 1 if number else row + 1
                column = -1
            elif tag == "c":
                ref = _CELL_REF.fullmatch(element.get("r") or "")
                if ref:
                    row, column = int(ref[2]) - 1, _column_index(ref[1])
                else:
                    column += 1
            continue
        if tag == "c":
            formula = value = None
            for child in element:
                name = _local(child.tag)
                if name == "f":
                    formula = child
                elif name == "v":
                    value = child
            kind = element.get("t", "n")
            if kind == "e" and value is not None and value.text:
                found[row, column] = value.text
            elif formula is not None and (value is None or (not value.text and kind != "str")):
                if not formula.text:
                    return None  # a shared formula's dependent cell without a computed value
                found[row, column] = "=" + formula.text
            element.clear()
        elif tag == "row":
            element.clear()
    return found


def _column_index(letters: str) -> int:
    index = 0
    for letter in letters:
        index = index * 26 + ord(letter) - 64
    return index - 1


def _damaged(path: Path, exc: Exception) -> WorkbookUnusable:
    return WorkbookUnusable(
        f"Die Mappe {path.name} ist beschädigt und kann nicht gelesen werden "
        f"({type(exc).__name__}). Bitte in Excel öffnen, prüfen und neu speichern."
    )


def read_book_openpyxl(path: Path, only: Collection[str] | None = None) -> Book:
    """`read_book` through openpyxl, which reads the file twice (formulas, then computed values)."""
    wanted = None if only is None else {norm(name) for name in only}
    formulas = _read_values(path, data_only=False, wanted=wanted)
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


def _read_values(path: Path, *, data_only: bool, only=None, wanted=None) -> dict[str, list[tuple]]:
    workbook = load_workbook(path, read_only=True, data_only=data_only, keep_links=False)
    try:
        return {ws.title: list(ws.iter_rows(values_only=True)) for ws in workbook.worksheets
                if (only is None or ws.title in only) and (wanted is None or norm(ws.title) in wanted)}
    except Exception as exc:  # damaged sheet XML inside an intact zip
        raise _damaged(path, exc) from None
    finally:
        workbook.close()
