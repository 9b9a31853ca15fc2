"""Damaged and odd workbooks for the tests, built at test time (no binary fixtures in git).

Each case starts from the demo workbook (fixed Stichtag), from a new workbook or from
nothing, changes one thing the way people or programs really do, and states what
`kpr pruefen` must say about it: the exit code, every DATA finding as (code, sheet, row, column),
for files that cannot be used at all a phrase of the message, and what `--in-mappe` does.

Rows and columns are taken from the demo data and the schema, not counted by hand.
"""

from __future__ import annotations

import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import openpyxl

from kpr_excel.book.demo import demo_data
from kpr_excel.domain import schema

# A day on which the demo breaks no rule at error level, so that exit codes tell DATA findings.
STICHTAG = date(2027, 5, 20)
DEMO = demo_data(STICHTAG)

Expected = tuple[str, str, "int | None", "str | None"]  # code, sheet, row, column letter


def row_of(sheet: str, **match) -> int:
    """The Excel row of the first demo row of `sheet` whose attributes equal `match`."""
    for number, row in enumerate(DEMO[sheet], start=2):
        if all(row.get(key) == value for key, value in match.items()):
            return number
    raise LookupError(f"{sheet}: {match}")


def setting_row(key: str) -> int:
    return next(n for n, s in enumerate(schema.SETTINGS, start=2) if s.key == key)


def col(sheet: str, key: str) -> str:
    return schema.SHEETS_BY_NAME[sheet].letter(key)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, Path], None]  # (demo workbook, file to create)
    exit_code: int
    findings: frozenset = frozenset()  # of Expected; exactly these, no more
    message: str = ""  # part of what the user is told where the file cannot be used
    filename: str = "KPR.xlsx"
    side_file: bool = False  # --in-mappe must leave the file alone and write NAME_Ergebnis.xlsx

    @property
    def refuses_writing(self) -> bool:
        """--in-mappe must not change the file: it is unusable, or results go to a side file."""
        return self.exit_code == 2 or self.side_file


# ------------------------------------------------------------------ building blocks


def edit(change: Callable[[openpyxl.Workbook], None]):
    """A builder: the demo workbook, changed through openpyxl."""

    def build(demo: Path, target: Path) -> None:
        workbook = openpyxl.load_workbook(demo)
        change(workbook)
        workbook.save(target)

    return build


def cells(*changes: tuple[str, int, str, object]):
    """A builder setting cells given as (sheet, row, attribute, value)."""

    def change(workbook):
        for sheet, row, key, value in changes:
            workbook[sheet][f"{col(sheet, key)}{row}"] = value

    return edit(change)


def raw(content: bytes):
    def build(demo: Path, target: Path) -> None:
        target.write_bytes(content)

    return build


def reorder_columns(worksheet, headers: list[str], header_row: int = 1) -> None:
    """Rewrite a sheet's columns in the order of `headers`, as moving columns in Excel does."""
    grid = [list(row) for row in worksheet.iter_rows(min_row=header_row, values_only=True)]
    index = {value: i for i, value in enumerate(grid[0])}
    for r, values in enumerate(grid, start=header_row):
        for c, header in enumerate(headers, start=1):
            worksheet.cell(row=r, column=c, value=values[index[header]] if header in index else None)
    for table in worksheet.tables.values():
        table.tableColumns = []  # openpyxl renames them from the header cells on save


def ole_file(stream_name: str, content: bytes) -> bytes:
    """A minimal OLE2 compound file with one stream: the container of old .xls files.

    Version 3 layout: header, one FAT sector, one directory sector, then the stream. The
    stream is padded to 4096 bytes so it lives in normal sectors, not in a mini stream.
    """
    sector = 512
    free, end, fat_sector, no_stream = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
    content = content.ljust(max(4096, -(-len(content) // sector) * sector), b"\0")
    count = len(content) // sector
    if 2 + count > sector // 4:
        raise ValueError("stream too large for one FAT sector")
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", bytes(16), 0x3E, 3, 0xFFFE,
        9, 6, bytes(6), 0, 1, 1, 0, 4096, end, 0, end, 0,
    ) + struct.pack("<109I", 0, *([free] * 108))
    chain = [fat_sector, end] + [3 + i for i in range(count - 1)] + [end]
    fat = struct.pack(f"<{sector // 4}I", *(chain + [free] * (sector // 4 - len(chain))))

    def entry(name: str, kind: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return struct.pack("<64sHBBIII16sIQQIQ", encoded, len(encoded), kind, 1 if name else 0,
                           no_stream, no_stream, child, bytes(16), 0, 0, 0, start, size)

    directory = (entry("Root Entry", 5, 1, end, 0) + entry(stream_name, 2, no_stream, 2, len(content))
                 + entry("", 0, no_stream, 0, 0) * 2)
    return header + fat + directory + content


def _biff_workbook() -> bytes:
    """The start of a BIFF8 workbook stream: a BOF record, then EOF."""
    bof = struct.pack("<HHHHHHII", 0x0809, 16, 0x0600, 0x0005, 0x0DBB, 0x07CC, 0, 0)
    return bof + struct.pack("<HH", 0x000A, 0)


def encrypted(demo: Path, target: Path) -> None:
    """The demo with a password, as Excel's "Encrypt with password" stores it (agile encryption)."""
    from msoffcrypto.format.ooxml import OOXMLFile

    with demo.open("rb") as source, target.open("wb") as out:
        OOXMLFile(source).encrypt("Geheim123", out)


def zip_rewrite(change: Callable[[str, bytes], bytes | None]):
    """A builder copying the demo's zip members through `change` (None drops a member)."""

    def build(demo: Path, target: Path) -> None:
        with zipfile.ZipFile(demo) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in source.infolist():
                data = change(info.filename, source.read(info.filename))
                if data is not None:
                    out.writestr(info, data)

    return build


def sheet_part(name: str) -> str:
    """The zip member of a schema sheet in a generated workbook (sheets are written in order)."""
    return f"xl/worksheets/sheet{[s.name for s in schema.SHEETS].index(name) + 1}.xml"


def truncated(demo: Path, target: Path) -> None:
    data = demo.read_bytes()
    target.write_bytes(data[: len(data) // 2])


def directory(demo: Path, target: Path) -> None:
    target.mkdir()


def nothing(demo: Path, target: Path) -> None:
    """The file does not exist."""


def foreign_workbook(demo: Path, target: Path) -> None:
    """A new, unrelated Excel workbook: one sheet 'Tabelle1' with some numbers."""
    workbook = openpyxl.Workbook()
    workbook.active.title = "Tabelle1"
    workbook.active.append(["Monat", "Umsatz"])
    workbook.active.append(["Januar", 1200])
    workbook.save(target)


def with_macros(demo: Path, target: Path) -> None:
    """The demo saved as .xlsm with the VBA project of xlwings' quickstart workbook."""
    from importlib.util import find_spec

    quickstart = Path(find_spec("xlwings").origin).parent / "quickstart.xlsm"  # found without importing it
    workbook = openpyxl.load_workbook(demo)
    with zipfile.ZipFile(quickstart) as vba:
        workbook.vba_archive = vba
        workbook.save(target)


def _add_chart(workbook) -> None:
    from openpyxl.chart import BarChart, Reference

    worksheet = workbook["Projekte"]
    chart = BarChart()
    chart.add_data(Reference(worksheet, min_col=3, min_row=1, max_row=4), titles_from_data=True)
    worksheet.add_chart(chart, "J2")


def _add_image(workbook) -> None:
    from openpyxl.drawing.image import Image
    from PIL import Image as PILImage

    png = io.BytesIO()
    PILImage.new("RGB", (40, 20), (31, 78, 121)).save(png, format="PNG")
    workbook["Mitglieder"].add_image(Image(png), "Q2")


def excel_lock(demo: Path, target: Path) -> None:
    """The demo while Excel has it open: Excel's owner file `~$NAME` lies beside it."""
    target.write_bytes(demo.read_bytes())
    target.with_name("~$" + target.name).write_bytes(b"\x0bJ. Hempel".ljust(165, b" "))


def _move_email_to_the_end(workbook) -> None:
    worksheet = workbook["Mitglieder"]
    headers = [c.header for c in schema.MITGLIEDER.columns if c.key != "email"] + ["E-Mail"]
    reorder_columns(worksheet, headers)
    worksheet[f"O{row_of('Mitglieder', id='P20')}"] = "juliane.hempel(at)dresden.example"


def _title_above_header(workbook) -> None:
    worksheet = workbook["Mitglieder"]
    worksheet.insert_rows(1, 2)
    worksheet["A1"] = "Mitglieder des Kommunalen Präventionsrates, Stand 01.11.2026"
    worksheet.merge_cells("A1:O1")
    table = worksheet.tables["tblMitglieder"]
    table.ref = f"A3:O{len(DEMO['Mitglieder']) + 3}"
    table.autoFilter.ref = table.ref
    worksheet[f"L{row_of('Mitglieder', id='P20') + 2}"] = "juliane.hempel(at)dresden.example"


def _merge_name_headers(workbook) -> None:
    # Merging keeps the first cell's text only: "Nachname" is gone.
    workbook["Mitglieder"].merge_cells("D1:E1")


def _extra_sheets(workbook) -> None:
    notes = workbook.create_sheet("Notizen")
    notes.append(["Telefonliste", "noch prüfen"])
    copy = workbook.copy_worksheet(workbook["Mitglieder"])
    copy.title = "Mitglieder (alt)"
    for table in list(copy.tables):
        del copy.tables[table]


def _hidden_parts(workbook) -> None:
    worksheet = workbook["Mitglieder"]
    worksheet.column_dimensions["L"].hidden = True
    for row in (5, 6):
        worksheet.row_dimensions[row].hidden = True
    workbook["Fraktionen"].sheet_state = "hidden"


def _duplicate_person(workbook) -> None:
    worksheet = workbook["Mitglieder"]
    worksheet.append(["P05", "Frau", "", "Karin", "Kühnel", "Sozialamt", "Sachbearbeiterin", "Vertretung"])


def _headerless_fraktionen(workbook) -> None:
    workbook["Fraktionen"].delete_rows(1)


def _rename_header(sheet: str, key: str, header: str):
    def change(workbook):
        workbook[sheet][f"{col(sheet, key)}1"] = header

    return change


def typed_by_hand(data, path: Path) -> None:
    """Write `data` (rows per sheet) the way people fill a workbook by hand.

    Columns in another order with extra columns between them, headers with other case and
    spaces, blank and space-only rows, stray (also non-breaking) spaces around values,
    dates as Excel dates and as German text, yes/no as ja/nein/x/WAHR/TRUE, times as text,
    numbers as text, lists of ids separated by line breaks; no Excel tables, no formulas.
    """
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    counter = iter(range(10**6))
    for sheet in schema.SHEETS:
        if sheet.tool_owned:
            continue
        columns = [c for c in sheet.columns if c.kind is not schema.Kind.FORMULA]
        columns = columns[1::2][::-1] + columns[::2]  # another order, keeping nothing in place
        worksheet = workbook.create_sheet(sheet.name.upper() if sheet.name == "Fraktionen" else sheet.name)
        headers = []
        for index, column in enumerate(columns):
            headers.append(_odd_header(column.header, index))
            if index == 2:
                headers.append("Notiz (intern)")
        worksheet.append(headers)
        rows = data.get(sheet.name, [])
        if sheet is schema.EINSTELLUNGEN:
            rows = [*list(reversed(rows)), dict(key="Ansprechpartnerin im Amt", value="Frau Hempel")]
        for number, row in enumerate(rows):
            values = []
            for index, column in enumerate(columns):
                values.append(_as_typed(row.get(column.key), column, next(counter)))
                if index == 2:
                    values.append("siehe Akte" if number % 3 == 0 else None)
            worksheet.append(values)
            if number % 4 == 1:
                worksheet.append([])
            if number % 7 == 3:
                worksheet.append([None, "   ", "\xa0"])
    workbook.save(path)


def _odd_header(header: str, index: int) -> str:
    forms = (header.upper(), f"  {header} ", header.lower(), header.replace(" ", "  "),
             header.replace(" ", "\n"), header)
    return forms[index % len(forms)]


def _as_typed(value, column: schema.Column, n: int):
    if value is None:
        return None
    if isinstance(value, bool):
        if column.kind is not schema.Kind.BOOL:
            return value
        yes = ("ja", "x", "WAHR", "TRUE", True, " Ja ")
        no = ("nein", "FALSCH", "n", False, "Nein ", "FALSE")
        return (yes if value else no)[n % 6]
    if isinstance(value, date) and not isinstance(value, datetime):
        forms = (datetime(value.year, value.month, value.day), value.strftime("%d.%m.%Y"),
                 f"{value.day}.{value.month}.{value.year % 100}", f" {value:%d.%m.%Y} ")
        return forms[n % 4]
    if isinstance(value, time):
        return (value, f"{value:%H:%M}", f"{value:%H.%M} Uhr")[n % 3]
    if isinstance(value, int):
        return (value, str(value), float(value))[n % 3]
    if isinstance(value, str) and column.kind is schema.Kind.IDS:
        return value.replace(", ", "\n" if n % 2 else " ;")
    if isinstance(value, str) and value:
        return (value, f" {value} ", f"{value}\xa0", f"  {value}")[n % 4]
    return value


# ------------------------------------------------------------------ the cases

M, S, T = "Mitglieder", "Sitzungen", "Tagesordnung"
P20 = row_of(M, id="P20")
KPR1 = row_of(S, id=f"KPR-{STICHTAG.year}-1")

CASES: tuple[Case, ...] = (
    # files that are no usable workbook at all: exit 2, a German reason, no findings
    Case("datei-fehlt", nothing, 2, message="nicht gefunden"),
    Case("ordner-statt-datei", directory, 2, message="ist ein Ordner"),
    Case("leere-datei", raw(b""), 2, message="ist leer"),
    Case("csv-umbenannt", raw("ID;Vorname;Nachname\r\nP01;Jan;Donhauser\r\n".encode("cp1252")), 2,
         message="umbenannte CSV"),
    Case("altes-xls", raw(ole_file("Workbook", _biff_workbook())), 2, message="alten Excel-Format",
         filename="KPR.xls"),
    Case("kennwortgeschuetzt", encrypted, 2, message="Kennwort geschützt"),
    Case("zip-abgeschnitten", truncated, 2, message="beschädigt"),
    Case("blatt-xml-beschaedigt",
         zip_rewrite(lambda name, data: data[: len(data) // 2] if name == sheet_part(S) else data), 2,
         message="beschädigt"),
    Case("zip-ohne-arbeitsmappe", zip_rewrite(lambda name, data: data if name.startswith("docProps") else None),
         2, message="keine Excel-Mappe"),
    # a workbook, but not a master workbook
    Case("fremde-mappe", foreign_workbook, 2, frozenset(
        {("DATA-5", s.name, None, None) for s in schema.SHEETS if not s.tool_owned})),
    Case("blatt-fehlt", edit(lambda wb: wb.remove(wb[S])), 2, frozenset({("DATA-5", S, None, None)})),
    Case("pflichtspalte-umbenannt", edit(_rename_header(M, "last_name", "Familienname")), 2,
         frozenset({("DATA-5", M, 1, None)})),
    Case("verbundene-kopfzellen", edit(_merge_name_headers), 2,
         frozenset({("DATA-5", M, 1, None)})),
    Case("kopfzeile-fehlt", edit(_headerless_fraktionen), 2, frozenset({("DATA-5", "Fraktionen", 1, "A")})),
    # readable, with mistakes in single cells: exit 1, one finding at the cell
    Case("text-im-datum", cells((S, KPR1, "date", "nächste Woche")), 1,
         frozenset({("DATA-2", S, KPR1, col(S, "date"))})),
    Case("text-in-optionalem-datum", cells((S, KPR1, "invitation_sent", "gestern")), 1,
         frozenset({("DATA-2", S, KPR1, col(S, "invitation_sent"))})),
    Case("doppelte-id", edit(_duplicate_person), 1,
         frozenset({("DATA-3", M, len(DEMO[M]) + 2, "A")})),
    Case("unbekannte-id", cells((T, 2, "submitter", "P99")), 1, frozenset({("DATA-4", T, 2, col(T, "submitter"))})),
    Case("ungueltige-email", cells((M, P20, "email", "juliane.hempel(at)dresden.example")), 1,
         frozenset({("DATA-2", M, P20, col(M, "email"))})),
    Case("pflichtfeld-leer", cells((M, row_of(M, id="P03"), "first_name", None)), 1,
         frozenset({("DATA-1", M, row_of(M, id="P03"), col(M, "first_name"))})),
    Case("unzulaessiger-listenwert", cells((S, 2, "gremium", "Plenum")), 1,
         frozenset({("DATA-2", S, 2, col(S, "gremium"))})),
    Case("einstellung-unlesbar", cells(("Einstellungen", setting_row("invitation_days"), "value", "zwei Wochen")),
         1, frozenset({("DATA-2", "Einstellungen", setting_row("invitation_days"), "B")})),
    Case("formel-in-datenzelle", cells((S, KPR1, "invitation_sent", f"=E{KPR1}-16")), 1,
         frozenset({("DATA-2", S, KPR1, col(S, "invitation_sent"))})),
    Case("spalte-verschoben", edit(_move_email_to_the_end), 1, frozenset({("DATA-2", M, P20, "O")})),
    Case("kopfzeile-nicht-in-zeile-1", edit(_title_above_header), 1, frozenset({("DATA-2", M, P20 + 2, "L")})),
    # odd, but fine
    Case("optionales-blatt-fehlt", edit(lambda wb: wb.remove(wb["Versand"])), 0,
         frozenset({("DATA-5", "Versand", None, None)})),
    Case("optionale-spalte-umbenannt", edit(_rename_header(M, "remark", "Anmerkungen")), 0,
         frozenset({("DATA-5", M, 1, None)})),
    Case("zusaetzliche-blaetter", edit(_extra_sheets), 0),
    Case("ausgeblendete-spalten-zeilen-blaetter", edit(_hidden_parts), 0),
    Case("xlsx-mit-falscher-endung", lambda demo, target: target.write_bytes(demo.read_bytes()), 0,
         filename="KPR.xls"),
    Case("von-hand-getippt", lambda demo, target: typed_by_hand(DEMO, target), 0),
    # fine to read, but must not be rewritten: --in-mappe writes KPR_Ergebnis.xlsx instead
    # Patched in place since the writer keeps every part it does not own (tests/book/test_writer.py).
    Case("makros-xlsm", with_macros, 0, filename="KPR.xlsm"),
    Case("diagramm", edit(_add_chart), 0),
    Case("in-excel-geoeffnet", excel_lock, 0, side_file=True),
)
