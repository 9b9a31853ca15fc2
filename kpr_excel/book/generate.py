"""Build a master workbook from the schema: tables, dropdowns, date formats, live deadline formulas."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.table import Table, TableStyleInfo

from kpr_excel.book.files import save_atomically
from kpr_excel.book.layout import DATE_FORMAT, DATETIME_FORMAT, TIME_FORMAT
from kpr_excel.domain import schema

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
FORMULA_FONT = Font(italic=True, color="555555")
# Dropdown validations cover this many rows below the data, so new rows get them too.
SPARE_ROWS = 300

REQUIRED_COMPOSITION: tuple[dict, ...] = (
    # § 3: the two chairs, in KPR and Jour fixe
    dict(id="VORSITZ-BJS", name="Beigeordnete/r für Bildung, Jugend und Sport (Vorsitz)",
         in_kpr=True, in_jour_fixe=True, chair=True, paragraph="§ 3"),
    dict(id="VORSITZ-PD", name="Leiter/in der Polizeidirektion Dresden (Vorsitz)",
         in_kpr=True, in_jour_fixe=True, chair=True, paragraph="§ 3"),
    # § 2: heads of the nine named offices
    dict(id="DOB", name="Direktorium des Oberbürgermeisters"),
    dict(id="JUGENDAMT", name="Jugendamt"),
    dict(id="SOZIALAMT", name="Sozialamt"),
    dict(id="GESUNDHEIT", name="Amt für Gesundheit und Prävention"),
    dict(id="STADTPLANUNG", name="Amt für Stadtplanung und Mobilität"),
    dict(id="TIEFBAU", name="Straßen- und Tiefbauamt"),
    dict(id="RECHTSAMT", name="Rechtsamt"),
    dict(id="ORDNUNGSAMT", name="Ordnungsamt"),
    dict(id="STADTGRUEN", name="Amt für Stadtgrün und Abfallwirtschaft"),
    dict(id="STADTRAT", name="Benanntes Stadtratsmitglied (je Fraktion eines)", per_fraktion=True),
    dict(id="STA", name="Staatsanwaltschaft Dresden"),
    dict(id="BPOL", name="Bundespolizei Dresden"),
    dict(id="GS", name="Geschäftsstelle KPR", in_kpr=True, in_jour_fixe=True, paragraph="§§ 2, 4, 5"),
    # § 4: the three further Beigeordnete of the Jour fixe
    dict(id="JF-UKRO", name="Beigeordnete/r für Umwelt und Klima, Recht und Ordnung",
         in_kpr=False, in_jour_fixe=True, paragraph="§ 4"),
    dict(id="JF-SBVL", name="Beigeordnete/r für Stadtentwicklung, Bau, Verkehr und Liegenschaften",
         in_kpr=False, in_jour_fixe=True, paragraph="§ 4"),
    dict(id="JF-ASGW", name="Beigeordnete/r für Arbeit, Soziales, Gesundheit und Wohnen",
         in_kpr=False, in_jour_fixe=True, paragraph="§ 4"),
)


def composition_rows() -> list[dict]:
    defaults = dict(in_kpr=True, in_jour_fixe=False, chair=False, per_fraktion=False, paragraph="§ 2")
    return [{**defaults, **seat} for seat in REQUIRED_COMPOSITION]


def settings_rows(overrides: Mapping[str, object] | None = None) -> list[dict]:
    overrides = overrides or {}
    return [
        dict(key=s.label, value=overrides.get(s.key, s.initial), paragraph=s.paragraph,
             description=s.description)
        for s in schema.SETTINGS
    ]


def build_workbook(data: Mapping[str, Sequence[Mapping[str, object]]] | None = None) -> Workbook:
    """A complete master workbook; `data` maps sheet names to rows (attribute -> value).

    Sheets not in `data` are empty, except Sollbesetzung and Einstellungen, which get the
    rules of procedure's defaults.
    """
    data = dict(data or {})
    data.setdefault(schema.SOLLBESETZUNG.name, composition_rows())
    data.setdefault(schema.EINSTELLUNGEN.name, settings_rows())
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet in schema.SHEETS:
        rows = [tuple(row.get(c.key) for c in sheet.columns) for row in data.get(sheet.name, ())]
        add_sheet(workbook, sheet, rows)
    _add_lists_sheet(workbook)
    _add_setting_names(workbook)
    workbook.active = 0
    return workbook


def add_sheet(workbook, sheet: schema.Sheet, rows: Sequence[Sequence[object]], *, title: str = "",
              index: int | None = None):
    """Add one schema sheet with its data rows as an Excel table; returns the worksheet."""
    worksheet = workbook.create_sheet(sheet.name, index)
    head = 2 if title else 1
    if title:
        worksheet.cell(row=1, column=1, value=title).font = Font(bold=True, size=12)
    for col, column in enumerate(sheet.columns, start=1):
        cell = worksheet.cell(row=head, column=col, value=column.header)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        worksheet.column_dimensions[get_column_letter(col)].width = column.width
    letters = {c.key: get_column_letter(i) for i, c in enumerate(sheet.columns, start=1)}
    formula_letters = {c.header.split()[0]: letters[c.key] for c in sheet.columns}
    for offset, values in enumerate(rows or [()], start=1):
        row = head + offset
        for col, column in enumerate(sheet.columns, start=1):
            value = values[col - 1] if col - 1 < len(values) else None
            if column.kind is schema.Kind.FORMULA:
                assert column.formula is not None  # every FORMULA column of the schema has one
                value = column.formula.format(row=row, **formula_letters)
            elif column.kind is schema.Kind.BOOL and isinstance(value, bool):
                value = "ja" if value else "nein"  # as the dropdown offers it, not WAHR/FALSCH
            cell = worksheet.cell(row=row, column=col, value=value)
            _format_cell(cell, column, value)
    last_row = head + max(len(rows), 1)
    ref = f"A{head}:{get_column_letter(len(sheet.columns))}{last_row}"
    table = Table(displayName=sheet.table, ref=ref)
    table.tableStyleInfo = TableStyleInfo(name="TableStyleLight9", showRowStripes=True)
    worksheet.add_table(table)
    worksheet.freeze_panes = worksheet.cell(row=head + 1, column=1)
    # Printed, a sheet fits the page width in landscape and repeats its header on every page.
    worksheet.page_setup.orientation = "landscape"
    worksheet.page_setup.paperSize = worksheet.PAPERSIZE_A4
    worksheet.page_setup.fitToWidth, worksheet.page_setup.fitToHeight = 1, 0
    worksheet.sheet_properties.pageSetUpPr.fitToPage = True
    worksheet.print_title_rows = f"{head}:{head}"
    _add_validations(worksheet, sheet, head + 1, last_row + SPARE_ROWS)
    return worksheet


def _format_cell(cell, column: schema.Column, value) -> None:
    if column.kind in (schema.Kind.DATE, schema.Kind.FORMULA) or isinstance(value, date):
        cell.number_format = DATE_FORMAT
    if column.kind is schema.Kind.DATETIME or isinstance(value, datetime):
        cell.number_format = DATETIME_FORMAT
    if column.kind is schema.Kind.TIME or isinstance(value, time):
        cell.number_format = TIME_FORMAT
    if column.kind is schema.Kind.FORMULA:
        cell.font = FORMULA_FONT


def _list_columns() -> list[tuple[str, tuple[str, ...], str]]:
    """Every distinct dropdown list: its title in Listen, its values, its defined name.

    A list is titled and named after the first column that uses it.
    """
    lists: dict[tuple[str, ...], tuple[str, str]] = {}
    lists[("ja", "nein")] = ("ja/nein", f"{LIST_NAME_PREFIX}JaNein")
    for sheet in schema.SHEETS:
        for column in sheet.columns:
            if column.choices:
                lists.setdefault(tuple(c for c in column.choices if c),
                                 (column.header, _list_name(sheet.name, column.header)))
    return [(title, values, name) for values, (title, name) in lists.items()]


#: Every dropdown's source is a workbook-level defined name starting with this. Excel 2010 and
#: later store a list validation whose formula points straight at another sheet in the
#: x14:dataValidations extension, which openpyxl and other readers drop; one that names a
#: defined name stays in the classic dataValidations element (../shared/notes/excel.md).
LIST_NAME_PREFIX = "Liste_"
#: The hint lists of reference columns cover this many rows of the referenced sheet.
REF_LIST_ROWS = 2000

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"})


def _list_name(*parts: str) -> str:
    """``Liste_Sheet_Header``: ASCII letters, digits and underscores, valid as an Excel name.

    Folded to ASCII because a name is typed and read in formulas in any Office language; the
    prefix keeps it from looking like a cell reference (``AB12``, ``R1C1``).
    """
    words = [re.sub(r"[^A-Za-z0-9]+", "_", part.translate(_UMLAUTS)).strip("_") for part in parts]
    return LIST_NAME_PREFIX + "_".join(word for word in words if word)


def list_names() -> dict[str, str]:
    """Every dropdown source this schema uses: defined name -> the range it stands for.

    Whoever writes a tool-owned sheet with dropdowns into a workbook makes sure these names
    exist there (``define_list_names``); a workbook made before the names were introduced
    lacks them.
    """
    names = {}
    for col, (_, values, name) in enumerate(_list_columns(), start=1):
        letter = get_column_letter(col)
        names[name] = f"{quote_sheetname(schema.LISTEN)}!${letter}$2:${letter}${len(values) + 1}"
    referenced = {column.ref for sheet in schema.SHEETS for column in sheet.columns
                  if column.ref and column.kind is not schema.Kind.IDS}
    for sheet in schema.SHEETS:
        if sheet.name in referenced:
            names[_ref_list_name(sheet)] = f"{quote_sheetname(sheet.name)}!$A$2:$A${REF_LIST_ROWS}"
    return names


def _ref_list_name(sheet: schema.Sheet) -> str:
    """The hint list of the ids of ``sheet`` (its first column), e.g. ``Liste_Mitglieder_ID``."""
    return _list_name(sheet.name, sheet.columns[0].header)


def define_list_names(workbook) -> None:
    """Add the dropdown sources' defined names that ``workbook`` does not have yet.

    A name the workbook already has is left as it is: it may be the office's own edit.
    """
    for name, target in list_names().items():
        if name not in workbook.defined_names:
            workbook.defined_names[name] = DefinedName(name, attr_text=target)


def _add_lists_sheet(workbook) -> None:
    worksheet = workbook.create_sheet(schema.LISTEN)
    for col, (title, values, _) in enumerate(_list_columns(), start=1):
        worksheet.cell(row=1, column=col, value=title).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            worksheet.cell(row=row, column=col, value=value)
    worksheet.sheet_state = "hidden"


def _add_validations(worksheet, sheet: schema.Sheet, first: int, last: int) -> None:
    define_list_names(worksheet.parent)
    names = {values: name for _, values, name in _list_columns()}
    for col, column in enumerate(sheet.columns, start=1):
        letter = get_column_letter(col)
        target = f"{letter}{first}:{letter}{last}"
        validation, hint_only = None, False
        if column.kind is schema.Kind.BOOL:
            validation = DataValidation(type="list", formula1=names[("ja", "nein")])
        elif column.choices:
            validation = DataValidation(type="list", formula1=names[tuple(c for c in column.choices if c)])
        elif column.ref and column.kind is not schema.Kind.IDS:
            validation = DataValidation(type="list", formula1=_ref_list_name(schema.SHEETS_BY_NAME[column.ref]))
            hint_only = True  # a hint list; the loader reports unknown ids
        elif column.kind is schema.Kind.DATE:
            validation = DataValidation(type="date", operator="greaterThan", formula1="1")
            validation.error = "Bitte ein Datum eingeben, z. B. 12.03.2027."
        if validation is None:
            continue
        validation.allow_blank = True
        # Said for every validation: openpyxl's default is not to show the error (and accept anything).
        validation.showErrorMessage = not hint_only
        if column.kind is not schema.Kind.DATE and not hint_only:
            validation.error = f"Bitte einen Wert aus der Liste wählen ({column.header})."
        validation.errorTitle = "KPR"
        validation.add(target)
        worksheet.add_data_validation(validation)


def _add_setting_names(workbook) -> None:
    """Defined names for the deadline parameters, so Excel's formulas follow Einstellungen.

    Each name looks its value up by the setting's label, so reordering rows keeps it right.
    """
    area = f"{quote_sheetname(schema.EINSTELLUNGEN.name)}!$A:$B"
    for setting in schema.SETTINGS:
        if setting.defined_name:
            lookup = f'VLOOKUP("{setting.label}",{area},2,FALSE())'
            workbook.defined_names[setting.defined_name] = DefinedName(setting.defined_name, attr_text=lookup)


def new_workbook_file(path, data=None) -> None:
    from pathlib import Path

    # A workbook replaced with --ueberschreiben keeps a backup, as `kpr neu` promises.
    save_atomically(build_workbook(data), Path(path))
