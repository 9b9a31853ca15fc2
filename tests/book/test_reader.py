"""The reader: python-calamine for the values, and the same book as openpyxl would give.

The fast reader must not change what the loader sees: dates as datetime, whole numbers as
int, empty cells as None, a formula saved without a computed value as its text, an error
value as its text, rows numbered as in Excel. Packages are written by hand where Excel's
own forms matter (shared formulas, error cells, namespace prefixes, cells without `r`).
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from datetime import datetime, time, timedelta
from pathlib import Path

import openpyxl
import pytest
from corpus import CASES, DEMO

from kpr_excel.app import jobs
from kpr_excel.book import reader
from kpr_excel.book.layout import SheetRows
from kpr_excel.domain.errors import WorkbookUnusable

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
# Built-in number formats: 14 a date, 20 h:mm, 22 date and time, 46 [h]:mm:ss (a duration).
STYLES = (f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font/></fonts>'
          '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
          '<borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs>'
          '<cellXfs count="5"><xf/><xf numFmtId="14" applyNumberFormat="1"/><xf numFmtId="20" applyNumberFormat="1"/>'
          '<xf numFmtId="22" applyNumberFormat="1"/><xf numFmtId="46" applyNumberFormat="1"/></cellXfs></styleSheet>')


def package(path: Path, sheets: dict[str, str], *, prefix: str = "") -> Path:
    """An .xlsx with `sheets` (name -> the content of <sheetData>), written as Excel lays it out.

    With `prefix`, the sheet XML names its elements with that namespace prefix (as files
    written by the Open XML SDK do).
    """
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN}"' if prefix else f'xmlns="{MAIN}"'
    entries = "".join(f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>'
                      for i, name in enumerate(sheets, start=1))
    rels = "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                   for i, _ in enumerate(sheets, start=1))
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i, _ in enumerate(sheets, start=1))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{overrides}</Types>"))
        archive.writestr("_rels/.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>{entries}</sheets>'
                                            "</workbook>")
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'{rels}<Relationship Id="rIdS" Type="{REL}/styles" Target="styles.xml"/></Relationships>'))
        archive.writestr("xl/styles.xml", STYLES)
        for i, data in enumerate(sheets.values(), start=1):
            body = data.replace("<", f"<{p}").replace(f"<{p}/", f"</{p}")
            archive.writestr(f"xl/worksheets/sheet{i}.xml",
                             f"<{p}worksheet {xmlns}><{p}sheetData>{body}</{p}sheetData></{p}worksheet>")
    return path


def inline(ref: str, text: str) -> str:
    where = f' r="{ref}"' if ref else ""
    return f'<c{where} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


VALUES = (
    '<row r="2">' + inline("B2", "Datum") + inline("C2", "Beginn") + inline("D2", "Ja") + "</row>"
    '<row r="3"><c r="A3" s="1"><v>46458</v></c><c r="B3" s="2"><v>0.6875</v></c><c r="C3" s="3"><v>46458.65625</v></c>'
    '<c r="D3" t="b"><v>1</v></c><c r="E3"><v>2026</v></c><c r="F3"><v>2.5</v></c><c r="G3" s="4"><v>1.25</v></c>'
    '<c r="H3" t="e"><v>#N/A</v></c>' + inline("I3", " Text\u00a0") + "</row>"
    # formulas: computed value saved, none saved (as openpyxl writes them), an error, an empty
    # string, a shared formula with its computed values
    '<row r="5"><c r="A5"><f>A3+1</f><v>46459</v></c><c r="B5"><f>E3-1</f><v></v></c><c r="C5"><f>E3*2</f></c>'
    '<c r="D5" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="E5" t="str"><f>IF(E3="","x","")</f><v></v></c>'
    '<c r="F5"><f t="shared" ref="F5:G5" si="0">E3+1</f><v>2027</v></c><c r="G5"><f t="shared" si="0"/><v>3.5</v></c>'
    "</row>"
    '<row r="7"><c r="A7"><v></v></c>' + inline("B7", "") + "</row>"  # a row of empty cells: left out
    '<row r="8">' + inline("", "ohne r") + "<c><f>E3</f></c></row>"  # cells without r: A8 and B8
)
EXPECTED = (
    (2, (None, "Datum", "Beginn", "Ja", None, None, None, None, None)),
    (3, (datetime(2027, 3, 12), time(16, 30), datetime(2027, 3, 12, 15, 45), True, 2026, 2.5, timedelta(hours=30),
         "#N/A", " Text\u00a0")),
    (5, (46459, "=E3-1", "=E3*2", "#DIV/0!", None, 2027, 3.5, None, None)),
    (8, ("ohne r", "=E3", None, None, None, None, None, None, None)),
)


def _trimmed(book) -> dict[str, tuple]:
    """The book with trailing empty cells cut off: the readers pad rows to different widths."""
    def trim(row):
        while row and row[-1] is None:
            row = row[:-1]
        return row
    return {title: tuple((n, trim(r)) for n, r in sheet.rows) for title, sheet in book.items()}


@pytest.mark.parametrize("prefix", ["", "x"])
def test_every_kind_of_value_as_openpyxl_gives_it(tmp_path, prefix):
    path = package(tmp_path / "m.xlsx", {"Werte": VALUES}, prefix=prefix)
    book = reader.read_book(path)
    assert _trimmed(book) == _trimmed({"Werte": SheetRows("Werte", EXPECTED)})
    assert [type(v) for v in book["Werte"].rows[1][1][:5]] == [datetime, time, datetime, bool, int]


def test_a_formula_computing_an_empty_text_is_empty_not_a_formula(tmp_path):
    # Excel and LibreOffice save `=IF(...;"";...)` as t="str" with an empty value: computed, and empty.
    # (openpyxl's two reads took it for a formula without a value.)
    path = package(tmp_path / "m.xlsx", {"S": '<row r="1">' + inline("A1", "Kopf")
                                         + '<c r="B1" t="str"><f>""</f><v></v></c></row>'})
    assert reader.read_book(path)["S"].rows == ((1, ("Kopf", None)),)


def test_rows_without_their_number_are_read_by_openpyxl(tmp_path):
    """Row numbers are optional in the file format; calamine misplaces such rows, openpyxl counts them."""
    sheet = '<row r="2">' + inline("A2", "Kopf") + "</row><row>" + inline("", "ohne r") + "<c><f>A2</f></c></row>"
    path = package(tmp_path / "m.xlsx", {"S": sheet})
    assert _trimmed(reader.read_book(path))["S"] == ((2, ("Kopf",)), (3, ("ohne r", "=A2")))


def test_a_shared_formula_without_computed_values_is_read_by_openpyxl(tmp_path):
    """Only openpyxl translates a shared formula to its other cells."""
    sheet = ('<row r="1"><c r="A1"><v>1</v></c><c r="B1"><f t="shared" ref="B1:B2" si="0">A1*2</f></c></row>'
             '<row r="2"><c r="A2"><v>2</v></c><c r="B2"><f t="shared" si="0"/></c></row>')
    path = package(tmp_path / "m.xlsx", {"S": sheet})
    assert reader.read_book(path)["S"].rows == ((1, (1, "=A1*2")), (2, (2, "=A2*2")))


def test_sheets_named_in_only_hidden_ones_too_and_no_chart_sheets(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.title = " Mitglieder "
    workbook.active["A3"] = "Name"  # the header below a title area, row numbers kept
    workbook.active.merge_cells("A3:C3")
    workbook.create_sheet("Listen").sheet_state = "hidden"
    workbook["Listen"]["B2"] = "ja"
    workbook.create_sheet("Notizen")["A1"] = "eigene Notiz"
    workbook.create_chartsheet("Diagramm")
    workbook.create_sheet("Leer")
    workbook.save(tmp_path / "m.xlsx")
    book = reader.read_book(tmp_path / "m.xlsx")
    assert list(book) == [" Mitglieder ", "Listen", "Notizen", "Leer"]
    assert _trimmed(book)[" Mitglieder "] == ((3, ("Name",)),)  # merged A3:C3: the value in A3 only
    assert book["Listen"].rows == ((2, (None, "ja")),)
    assert book["Leer"].rows == ()
    assert list(reader.read_book(tmp_path / "m.xlsx", only=("mitglieder", "LISTEN", "Fehlt"))) == [
        " Mitglieder ", "Listen"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpus")
    demo = jobs.new_workbook(root / "demo" / "KPR-Demo.xlsx", data=DEMO)
    paths = {}
    for case in CASES:
        folder = root / case.name
        folder.mkdir()
        case.build(demo, folder / case.filename)
        paths[case.name] = folder / case.filename
    return paths


def _read(read, path: Path):
    try:
        return _trimmed(read(path))
    except WorkbookUnusable as exc:
        # The reason is the same; the name of the exception the library raised may differ.
        return str(exc).split(" (")[0]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_corpus_reads_as_openpyxl_reads_it(corpus, case):
    """Every damaged and odd workbook: the same rows, or the same German reason it cannot be read."""
    path = corpus[case.name]
    assert _read(reader.read_book, path) == _read(reader.read_book_openpyxl, path)


def test_a_damaged_sheet_gives_the_german_reason(corpus):
    with pytest.raises(WorkbookUnusable, match=r"^Die Mappe KPR.xlsx ist beschädigt und kann nicht gelesen"):
        reader.read_book(corpus["blatt-xml-beschaedigt"])


def test_loading_for_a_check_does_not_import_openpyxl(corpus):
    code = ("import sys; from pathlib import Path; from kpr_excel.book.loader import load_file; "
            f"result = load_file(Path({str(corpus['zusaetzliche-blaetter'])!r})); "
            "print(len(result.model.persons), 'openpyxl' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == [str(len(DEMO["Mitglieder"])), "False"]
