"""The generated master workbook: its layout from the schema, and its live deadline formulas.

LibreOffice opens the generated workbooks (one call for all of them) and recalculates the
deadline columns of Sitzungen; the dates must be exactly those `deadlines.session_deadlines`
computes, also after the office changed a deadline in Einstellungen.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from xml.etree import ElementTree

import openpyxl
import pytest
from corpus import typed_by_hand
from openpyxl.utils import get_column_letter, quote_sheetname, range_boundaries
from openpyxl.workbook.defined_name import DefinedName

from kpr_excel.app import jobs
from kpr_excel.book import generate, loader
from kpr_excel.book.demo import demo_data
from kpr_excel.book.edits import Edits, SetCells
from kpr_excel.book.generate import SPARE_ROWS, composition_rows
from kpr_excel.book.writer import write_edits
from kpr_excel.domain import deadlines, schema

STICHTAGE = (date(2026, 11, 29), date(2027, 5, 20))
DEMO = demo_data(STICHTAGE[0])
CHANGED = {"agenda_days": 28, "invitation_days": 10, "minutes_days": 21}
# The hint list of each referenced sheet's ids, named after the sheet and its id column, in ASCII.
REF_LISTS = {"Mitglieder": "Liste_Mitglieder_ID", "Sollbesetzung": "Liste_Sollbesetzung_Sitz",
             "Fraktionen": "Liste_Fraktionen_Kuerzel", "Sitzungen": "Liste_Sitzungen_ID",
             "Arbeitsgruppen": "Liste_Arbeitsgruppen_ID"}
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DEADLINE_KEYS = {deadlines.AGENDA: "agenda_deadline", deadlines.INVITATION: "invitation_deadline",
                 deadlines.MINUTES: "minutes_deadline"}


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    return jobs.new_workbook(tmp_path_factory.mktemp("gen") / "KPR-Demo.xlsx", data=DEMO)


@pytest.fixture(scope="module")
def demo_book(demo_path):
    return openpyxl.load_workbook(demo_path)


def test_sheets_in_schema_order_with_a_hidden_lists_sheet(demo_book):
    assert demo_book.sheetnames == [s.name for s in schema.SHEETS] + [schema.LISTEN]
    assert demo_book[schema.LISTEN].sheet_state == "hidden"
    assert all(demo_book[s.name].sheet_state == "visible" for s in schema.SHEETS)
    assert demo_book.active.title == schema.SHEETS[0].name


@pytest.mark.parametrize("sheet", schema.SHEETS, ids=lambda s: s.name)
def test_header_table_widths_and_frozen_row(demo_book, sheet):
    worksheet = demo_book[sheet.name]
    head = 1
    assert [c.value for c in worksheet[head]] == [c.header for c in sheet.columns]
    assert all(c.font.b for c in worksheet[head])
    assert worksheet.freeze_panes == f"A{head + 1}"
    for index, column in enumerate(sheet.columns, start=1):
        assert worksheet.column_dimensions[get_column_letter(index)].width == column.width
    (table,) = worksheet.tables.values()
    rows = len(DEMO.get(sheet.name, []))
    assert table.displayName == sheet.table
    assert table.ref == f"A{head}:{get_column_letter(len(sheet.columns))}{head + max(rows, 1)}"


def test_table_names_are_unique(demo_book):
    names = [t.displayName for ws in demo_book.worksheets for t in ws.tables.values()]
    assert len(names) == len(set(names)) == len(schema.SHEETS)


@pytest.mark.parametrize("sheet", [s for s in schema.SHEETS if not s.tool_owned], ids=lambda s: s.name)
def test_dates_and_times_show_as_germans_write_them(demo_book, sheet):
    worksheet = demo_book[sheet.name]
    checked = 0
    for index, column in enumerate(sheet.columns, start=1):
        wanted = {schema.Kind.DATE: "DD.MM.YYYY", schema.Kind.FORMULA: "DD.MM.YYYY", schema.Kind.TIME: "HH:MM",
                  schema.Kind.DATETIME: "DD.MM.YYYY HH:MM"}.get(column.kind)
        if wanted is None:
            continue
        for row in range(2, worksheet.max_row + 1):
            assert worksheet.cell(row=row, column=index).number_format == wanted, (column.header, row)
            checked += 1
    assert checked or not any(c.kind in (schema.Kind.DATE, schema.Kind.TIME) for c in sheet.columns)


def _list_values(workbook, formula: str) -> list[str]:
    """The values a list validation offers, its source a defined name or (as LibreOffice may save it) a range."""
    if "!" not in formula:
        formula = workbook.defined_names[formula].attr_text
    sheet, area = formula.split("!")
    min_col, min_row, max_col, max_row = range_boundaries(area.replace("$", ""))
    assert min_col == max_col
    return [workbook[sheet.strip("'")].cell(row=r, column=min_col).value for r in range(min_row, max_row + 1)]


def _list_validations(worksheet) -> dict[int, tuple]:
    """Column index -> (validation, first row, last row)."""
    by_column = {}
    for validation in worksheet.data_validations.dataValidation:
        for cells in validation.sqref.ranges:
            min_col, min_row, max_col, max_row = cells.bounds
            assert min_col == max_col
            by_column[min_col] = (validation, min_row, max_row)
    return by_column


def _expected_choices(column: schema.Column) -> list[str]:
    return ["ja", "nein"] if column.kind is schema.Kind.BOOL else [c for c in column.choices if c]


@pytest.mark.parametrize("sheet", schema.SHEETS, ids=lambda s: s.name)
def test_dropdowns_offer_the_schema_choices_below_the_data_too(demo_book, sheet):
    worksheet = demo_book[sheet.name]
    by_column = _list_validations(worksheet)
    last_data_row = worksheet.tables[sheet.table].ref.split(":")[1]
    last_data_row = int("".join(ch for ch in last_data_row if ch.isdigit()))
    for index, column in enumerate(sheet.columns, start=1):
        if column.kind is schema.Kind.BOOL or column.choices:
            validation, first, last = by_column[index]
            assert validation.type == "list"
            assert (first, last) == (2, last_data_row + SPARE_ROWS)
            assert validation.formula1 in generate.list_names(), column.header
            assert _list_values(demo_book, validation.formula1) == _expected_choices(column), column.header
            assert validation.showErrorMessage
        elif column.ref and column.kind is not schema.Kind.IDS:
            validation, _, _ = by_column[index]
            assert validation.formula1 == REF_LISTS[column.ref]
            target = demo_book.defined_names[validation.formula1].attr_text
            assert target == f"{quote_sheetname(column.ref)}!$A$2:$A${generate.REF_LIST_ROWS}"
            assert not validation.showErrorMessage  # a hint list; the loader reports unknown ids
        elif column.kind is schema.Kind.DATE:
            assert by_column[index][0].type == "date"
        else:
            assert index not in by_column, column.header


def test_every_dropdown_source_is_a_workbook_level_name_in_the_saved_file(demo_path):
    """In the bytes: defined names in workbook.xml, only names (no other-sheet range) in each <formula1>.

    Excel keeps a validation whose source is a defined name in the classic <dataValidations>;
    one pointing at another sheet directly it would move into x14:dataValidations on its next save.
    """
    names = generate.list_names()
    assert {"Liste_JaNein", "Liste_Mitglieder_Kategorie", "Liste_Sitzungen_Status", "Liste_Anwesenheit_Status",
            "Liste_Mitglieder_ID"} <= set(names)
    for name in names:  # what Excel accepts as a name and does not read as a cell reference
        assert re.fullmatch(r"Liste_[A-Za-z0-9_]+", name) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", name), name
    with zipfile.ZipFile(demo_path) as package:
        workbook_xml = ElementTree.fromstring(package.read("xl/workbook.xml"))
        defined = {d.get("name"): (d.text, d.get("localSheetId"))
                   for d in workbook_xml.iter(f"{{{MAIN_NS}}}definedName")}
        for name, target in names.items():
            assert defined[name] == (target, None), name  # no localSheetId: valid in every sheet
        formulas = []
        for part in package.namelist():
            if part.startswith("xl/worksheets/sheet"):
                xml = package.read(part)
                assert b"x14:dataValidation" not in xml
                root = ElementTree.fromstring(xml)
                for validation in root.iter(f"{{{MAIN_NS}}}dataValidation"):
                    if validation.get("type") == "list":
                        formulas.append(validation.find(f"{{{MAIN_NS}}}formula1").text)
    assert formulas and set(formulas) <= set(names)
    assert set(formulas) == set(names)  # every name is used by some dropdown


def test_list_names_are_added_to_a_workbook_only_where_missing():
    workbook = openpyxl.Workbook()
    workbook.defined_names["Liste_JaNein"] = DefinedName("Liste_JaNein", attr_text="'Eigene'!$B$1:$B$2")
    generate.define_list_names(workbook)
    assert workbook.defined_names["Liste_JaNein"].attr_text == "'Eigene'!$B$1:$B$2"  # the office's own stays
    assert {name: d.attr_text for name, d in workbook.defined_names.items() if name != "Liste_JaNein"} == {
        name: target for name, target in generate.list_names().items() if name != "Liste_JaNein"}


def test_deadline_names_look_their_value_up_by_label(demo_book):
    names = {s.defined_name: s for s in schema.SETTINGS if s.defined_name}
    assert set(names) == {"KPR_FRIST_TOP", "KPR_FRIST_EINLADUNG", "KPR_FRIST_NIEDERSCHRIFT"}
    for name, setting in names.items():
        text = demo_book.defined_names[name].attr_text
        assert text == f'VLOOKUP("{setting.label}",{quote_sheetname("Einstellungen")}!$A:$B,2,FALSE())'


def test_every_session_row_carries_its_own_deadline_formulas(demo_book):
    worksheet = demo_book["Sitzungen"]
    date_col = schema.SITZUNGEN.letter("date")
    for row in range(2, worksheet.max_row + 1):
        for key, name in (("agenda_deadline", "-KPR_FRIST_TOP"), ("invitation_deadline", "-KPR_FRIST_EINLADUNG"),
                          ("minutes_deadline", "+KPR_FRIST_NIEDERSCHRIFT")):
            cell = worksheet[f"{schema.SITZUNGEN.letter(key)}{row}"]
            assert cell.value == f'=IF(${date_col}{row}="","",${date_col}{row}{name})'


def test_a_new_workbook_has_the_required_composition_and_the_default_settings(tmp_path):
    path = jobs.new_workbook(tmp_path / "KPR.xlsx")
    result = loader.load_file(path)
    assert result.findings == () and not result.unusable
    assert [s.id for s in result.model.seats] == [row["id"] for row in composition_rows()]
    chairs = [s.id for s in result.model.seats if s.chair]
    assert chairs == ["VORSITZ-BJS", "VORSITZ-PD"]
    assert sum(s.in_jour_fixe for s in result.model.seats) == 6  # § 4: chairs, three Beigeordnete, GS
    assert {s.id for s in result.model.seats if s.per_fraktion} == {"STADTRAT"}
    assert all(getattr(result.model.settings, s.key) == s.initial for s in schema.SETTINGS)
    assert not result.model.persons and not result.model.sessions


# ------------------------------------------------------------------ LibreOffice recalculates


def _changed_settings(path):
    """Change the three deadlines in Einstellungen through the writer, and move their rows."""
    labels = {s.key: s.label for s in schema.SETTINGS}
    rows = labels  # rows are found by their label, looked up before any cell of the edit is written
    moved = {"agenda_days": "city", "invitation_days": "council"}  # swap with these rows
    cells = []
    for key, value in CHANGED.items():
        other = moved.get(key)
        if other:
            default = next(s.default for s in schema.SETTINGS if s.key == other)
            cells += [(rows[key], "key", labels[other]), (rows[key], "value", default),
                      (rows[other], "key", labels[key]), (rows[other], "value", value)]
        else:
            cells.append((rows[key], "value", value))
    write_edits(path, Edits((SetCells("Einstellungen", "key", tuple(cells)),)))


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory, libreoffice):
    """The demo at two dates, the demo with changed deadlines and a new workbook, through LibreOffice."""
    from kpr_excel.documents.office import convert

    folder = tmp_path_factory.mktemp("recalc")
    sources = {f"demo-{d.isoformat()}": jobs.new_workbook(folder / f"demo-{d.isoformat()}.xlsx", data=demo_data(d))
               for d in STICHTAGE}
    sources["geaendert"] = jobs.new_workbook(folder / "geaendert.xlsx", data=demo_data(STICHTAGE[0]))
    _changed_settings(sources["geaendert"])
    sources["neu"] = jobs.new_workbook(folder / "neu.xlsx")
    sources["von-hand"] = folder / "von-hand.xlsx"
    typed_by_hand(DEMO, sources["von-hand"])  # has real TRUE/FALSE cells
    outputs = convert(list(sources.values()), "xlsx", folder / "out")
    return {name: (sources[name], out) for name, out in zip(sources, outputs)}


def _as_date(value):
    return value.date() if isinstance(value, datetime) else value


@pytest.mark.parametrize("name", [f"demo-{d.isoformat()}" for d in STICHTAGE] + ["geaendert"])
@pytest.mark.slow
def test_libreoffice_computes_the_deadlines_python_computes(recalculated, name):
    source, converted = recalculated[name]
    loaded = loader.load_file(source)
    assert loaded.findings == ()
    settings = loaded.model.settings
    expected_days = CHANGED if name == "geaendert" else {k: 21 if k == "agenda_days" else 14 for k in CHANGED}
    assert {k: getattr(settings, k) for k in CHANGED} == expected_days
    worksheet = openpyxl.load_workbook(converted, data_only=True)["Sitzungen"]
    assert loaded.model.sessions
    for session in loaded.model.sessions:
        for deadline in deadlines.session_deadlines(session, settings):
            where = session.src.at(DEADLINE_KEYS[deadline.kind])
            shown = _as_date(worksheet[f"{where.column}{where.row}"].value)
            assert shown == deadline.due, (session.id, deadline.kind)


@pytest.mark.slow
def test_libreoffice_shows_no_deadline_for_an_empty_session_row(recalculated):
    _, converted = recalculated["neu"]
    worksheet = openpyxl.load_workbook(converted, data_only=True)["Sitzungen"]
    for key in DEADLINE_KEYS.values():
        assert worksheet[f"{schema.SITZUNGEN.letter(key)}2"].value in ("", None)


@pytest.mark.parametrize("name", [f"demo-{d.isoformat()}" for d in STICHTAGE] + ["geaendert", "neu", "von-hand"])
@pytest.mark.slow
def test_a_workbook_saved_by_libreoffice_loads_to_the_same_model(recalculated, name):
    source, converted = recalculated[name]
    before, after = loader.load_file(source), loader.load_file(converted)
    assert after.findings == ()
    assert after.model == before.model
    assert any(item.confidential for item in after.model.agenda) or name == "neu"


@pytest.mark.slow
def test_yes_no_cells_libreoffice_stored_as_formulas_read_as_their_values(recalculated):
    """LibreOffice saves TRUE as the formula =TRUE() with its result; the result is what counts."""
    _, converted = recalculated["von-hand"]
    workbook = openpyxl.load_workbook(converted)
    formulas = {c.value for ws in workbook for row in ws.iter_rows() for c in row if c.data_type == "f"}
    assert {"=TRUE()", "=FALSE()"} <= formulas


@pytest.mark.parametrize("name", ["neu", f"demo-{STICHTAGE[0].isoformat()}"])
@pytest.mark.slow
def test_libreoffice_keeps_the_dropdowns_and_their_named_sources(recalculated, name):
    """LibreOffice resolves the names: after its save every dropdown offers the same choices."""
    _, converted = recalculated[name]
    workbook = openpyxl.load_workbook(converted)
    assert set(generate.list_names()) <= set(workbook.defined_names)
    for sheet in schema.SHEETS:
        by_column = _list_validations(workbook[sheet.name])
        for index, column in enumerate(sheet.columns, start=1):
            if column.kind is schema.Kind.BOOL or column.choices:
                validation, _, _ = by_column[index]
                assert validation.type == "list", (sheet.name, column.header)
                assert _list_values(workbook, validation.formula1) == _expected_choices(column), column.header
