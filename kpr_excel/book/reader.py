"""Reading an .xlsx file with openpyxl: every sheet as rows of values, formulas as computed.

openpyxl is imported when a file is read, not when this module is: `kpr` starts without it.
"""


from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

from kpr_excel.book.files import BACKUP_DIR
from kpr_excel.book.layout import (
    Book,
    SheetRows,
)
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
    workbook = load_workbook(path, read_only=True, data_only=data_only, keep_links=False)
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
