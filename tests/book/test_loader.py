"""The loader: the generated demo workbook loads as it was written, and what people really type."""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, datetime, time
from pathlib import Path

import openpyxl
import pytest
from corpus import typed_by_hand
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpr_excel.app import jobs
from kpr_excel.book import layout, loader
from kpr_excel.book.demo import demo_data
from kpr_excel.book.generate import settings_rows
from kpr_excel.book.layout import SheetRows
from kpr_excel.book.reader import read_book
from kpr_excel.domain import model, schema, values
from kpr_excel.domain.findings import Location, Severity

GOLDEN = Path(__file__).parent / "golden"
STICHTAGE = (date(2026, 11, 29), date(2027, 5, 20))
PARTS = [f.name for f in fields(model.Model) if f.name != "settings"]
SHEET_OF_PART = {sheet.records: sheet.name for sheet in schema.SHEETS if sheet.records}


def _plain(value):
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def dump(result: loader.LoadResult) -> dict:
    """A loaded workbook as JSON-ready data: every object with its row, every finding."""
    def record(obj) -> dict:
        return {"row": obj.src.row, **{f.name: _plain(getattr(obj, f.name)) for f in fields(obj) if f.name != "src"}}

    settings_ = result.model.settings
    return {
        "unusable": result.unusable,
        "findings": [f.format() for f in result.findings],
        **{part: [record(o) for o in getattr(result.model, part)] for part in PARTS},
        "settings": {f.name: _plain(getattr(settings_, f.name)) for f in fields(settings_) if f.name != "rows"},
        "settings_rows": dict(settings_.rows),
    }


@pytest.fixture(scope="module", params=STICHTAGE, ids=lambda d: d.isoformat())
def demo(request, tmp_path_factory):
    stichtag = request.param
    path = jobs.new_workbook(tmp_path_factory.mktemp("demo") / "KPR-Demo.xlsx", data=demo_data(stichtag))
    return stichtag, path, loader.load_file(path)


def _expected(value, column: schema.Column):
    if column.kind is schema.Kind.IDS:
        return values.parse_ids(value)
    return value


def test_every_demo_row_loads_as_written(demo):
    """Generator and loader agree: each row of the demo data is one object with those values."""
    stichtag, _, result = demo
    assert result.findings == ()
    assert not result.unusable
    data = demo_data(stichtag)
    for part in PARTS:
        sheet = schema.SHEETS_BY_NAME[SHEET_OF_PART[part]]
        objects = getattr(result.model, part)
        rows = data.get(sheet.name, [])
        assert len(objects) == len(rows), sheet.name
        for number, (obj, row) in enumerate(zip(objects, rows), start=2):
            assert obj.src == model.Source(sheet.name, number)
            for key, value in row.items():
                if value is not None and value != "":
                    assert getattr(obj, key) == _expected(value, sheet.column(key)), (sheet.name, number, key)
    overrides = {row["key"]: row["value"] for row in data["Einstellungen"]}
    for setting in schema.SETTINGS:
        assert getattr(result.model.settings, setting.key) == overrides[setting.label]
    assert dict(result.model.settings.rows) == {s.key: n for n, s in enumerate(schema.SETTINGS, start=2)}


def test_demo_fills_a_year_of_the_council(demo):
    stichtag, _, result = demo
    m = result.model
    kpr = [s for s in m.sessions if s.gremium == schema.GREMIUM_KPR]
    assert [s.date.month for s in kpr] == [3, 6, 9, 12]
    assert all(s.date.year == stichtag.year and s.date.weekday() == 2 for s in kpr)
    assert len(m.persons) >= 35
    assert {p.seat for p in m.persons if p.seat} == {s.id for s in m.seats}
    assert any(item.confidential for item in m.agenda)
    assert any(item.guests for item in m.agenda)
    assert len(m.working_groups) == 2


def test_cell_locations_follow_the_sheet(demo):
    _, path, result = demo
    workbook = openpyxl.load_workbook(path)
    for session in result.model.sessions:
        where = session.src.at("date")
        assert values.parse_date(workbook[where.sheet][f"{where.column}{where.row}"].value) == session.date
    person = result.model.persons[4]
    where = person.src.at("email")
    assert (where.sheet, where.column) == ("Mitglieder", "L")
    assert workbook["Mitglieder"][f"L{where.row}"].value == person.email


# ------------------------------------------------------------------ what people type


@pytest.fixture(scope="module")
def by_hand(tmp_path_factory):
    stichtag = STICHTAGE[0]
    path = tmp_path_factory.mktemp("hand") / "KPR.xlsx"
    typed_by_hand(demo_data(stichtag), path)
    generated = jobs.new_workbook(path.with_name("Demo.xlsx"), data=demo_data(stichtag))
    return path, loader.load_file(path), loader.load_file(generated)


def _without_src(objects):
    return [replace(o, src=None) for o in objects]


def test_a_workbook_typed_by_hand_loads_without_findings(by_hand):
    """Other column order, extra columns, blank rows, stray spaces, dates and yes/no as typed."""
    _, typed, generated = by_hand
    assert typed.findings == ()
    for part in PARTS:
        assert _without_src(getattr(typed.model, part)) == _without_src(getattr(generated.model, part)), part
    assert typed.model.settings == generated.model.settings


def test_locations_in_a_workbook_typed_by_hand_point_at_the_typed_cells(by_hand):
    path, typed, _ = by_hand
    workbook = openpyxl.load_workbook(path)
    checked = 0
    for part in PARTS:
        for obj in getattr(typed.model, part):
            for f in fields(obj):
                value = getattr(obj, f.name)
                if f.name == "src" or value in (None, "", (), False):
                    continue
                where = obj.src.at(f.name)
                sheet = next(ws for ws in workbook if layout.norm(ws.title) == layout.norm(where.sheet))
                cell = sheet[f"{where.column}{where.row}"].value
                column = schema.SHEETS_BY_NAME[where.sheet].column(f.name)
                assert loader._convert(cell, column) == value, (where, cell)
                checked += 1
    assert checked > 500


# ------------------------------------------------------------------ single situations on rows


def book_from(data) -> dict[str, SheetRows]:
    """A Book as the adapters deliver it, from rows per sheet in the schema's column order."""
    data = {**{s.name: [] for s in schema.SHEETS}, "Einstellungen": settings_rows(), **data}
    book = {}
    for sheet in schema.SHEETS:
        header = tuple(c.header for c in sheet.columns)
        rows = [tuple(row.get(c.key) for c in sheet.columns) for row in data[sheet.name]]
        book[sheet.name] = SheetRows(sheet.name, tuple(enumerate([header, *rows], start=1)))
    return book


PERSON = dict(id="P01", first_name="Jan", last_name="Donhauser", category="Mitglied",
              email="jan.donhauser@dresden.example")
SESSION = dict(id="KPR-1", gremium="KPR", date=date(2027, 3, 10), chair="P01")


def where(result) -> list[tuple[str, str, int | None, str | None]]:
    return sorted((f.code, f.location.sheet, f.location.row, f.location.column) for f in result.findings)


def test_required_cell_empty_names_the_cell_and_drops_the_row():
    result = loader.load_book(book_from({"Mitglieder": [PERSON, {**PERSON, "id": "P02", "last_name": " "}]}))
    assert where(result) == [("DATA-1", "Mitglieder", 3, "E")]
    assert result.findings[0].message == "Pflichtfeld „Nachname“ ist leer."
    assert result.findings[0].severity is Severity.FEHLER
    assert [p.id for p in result.model.persons] == ["P01"]


def test_an_unreadable_optional_value_keeps_the_row():
    result = loader.load_book(book_from({"Mitglieder": [{**PERSON, "active_from": "Anfang März"}]}))
    assert where(result) == [("DATA-2", "Mitglieder", 2, "M")]
    assert "„Aktiv von“" in result.findings[0].message and "„Anfang März“" in result.findings[0].message
    assert result.model.persons[0].active_from is None


def test_duplicate_id_names_the_first_row():
    rows = [PERSON, {**PERSON, "first_name": "Jana"}]
    result = loader.load_book(book_from({"Mitglieder": rows}))
    assert where(result) == [("DATA-3", "Mitglieder", 3, "A")]
    assert "zuerst in Zeile 2" in result.findings[0].message
    assert [p.first_name for p in result.model.persons] == ["Jan"]


def test_one_mistake_gives_one_finding_not_one_per_reference():
    """A session dropped for its unreadable date still exists for the rows that refer to it."""
    agenda = [dict(session="KPR-1", number=str(n), title=f"TOP {n}", submitter="P01") for n in (1, 2, 3)]
    result = loader.load_book(book_from({"Mitglieder": [PERSON], "Sitzungen": [{**SESSION, "date": "bald"}],
                                         "Tagesordnung": agenda}))
    assert where(result) == [("DATA-2", "Sitzungen", 2, "E")]


def test_dangling_references_in_lists_and_cells():
    agenda = [dict(session="KPR-1", number="1", title="Lage", submitter="P9", guests="P01;\nP7")]
    result = loader.load_book(book_from({"Mitglieder": [PERSON], "Sitzungen": [SESSION], "Tagesordnung": agenda}))
    assert where(result) == [("DATA-4", "Tagesordnung", 2, "D"), ("DATA-4", "Tagesordnung", 2, "I")]
    messages = sorted(f.message for f in result.findings)
    assert "„P7“" in messages[0] + messages[1] and "„P9“" in messages[0] + messages[1]


def test_deputies_are_left_to_the_rules():
    result = loader.load_book(book_from({"Mitglieder": [{**PERSON, "deputy_of": "P99"}]}))
    assert result.findings == ()


def test_a_formula_without_a_computed_value_is_reported_not_taken_as_empty():
    rows = [{**SESSION, "invitation_sent": "=E2-16"}]
    result = loader.load_book(book_from({"Mitglieder": [PERSON], "Sitzungen": rows}))
    assert where(result) == [("DATA-2", "Sitzungen", 2, "R")]
    assert "Formel „=E2-16“" in result.findings[0].message


def test_header_below_a_title_row_with_duplicate_and_unknown_columns():
    header = ("Nachname", "Vorname", "ID", "Kategorie", "Telefon", "Nachname")
    rows = ((1, ("Mitgliederliste 2027",)), (3, header), (4, ("Donhauser", "Jan", "P01", "Mitglied", "0351", "X")),
            (6, ("Rodig", "Lutz", "P02", "mitglied ", None, None)))
    book = {**book_from({}), "Mitglieder": SheetRows("Mitglieder", rows)}
    result = loader.load_book(book)
    assert {f.code for f in result.findings} == {"DATA-5"}  # only: optional columns missing, as Hinweis
    assert {f.severity for f in result.findings} == {Severity.HINWEIS}
    assert all(f.location == Location("Mitglieder", 3) for f in result.findings)
    persons = result.model.persons
    assert [(p.id, p.last_name, p.src.row, p.category) for p in persons] == [
        ("P01", "Donhauser", 4, "Mitglied"), ("P02", "Rodig", 6, "Mitglied")]
    assert persons[0].src.at("id") == Location("Mitglieder", 4, "C")


def test_a_missing_required_column_makes_the_workbook_unusable():
    book = book_from({"Mitglieder": [PERSON], "Sitzungen": [SESSION]})
    (_, header), *rest = book["Mitglieder"].rows
    renamed = tuple("Familienname" if h == "Nachname" else h for h in header)
    book["Mitglieder"] = SheetRows("Mitglieder", ((1, renamed), *rest))
    result = loader.load_book(book)
    assert result.unusable
    assert where(result) == [("DATA-5", "Mitglieder", 1, None)]  # not also the chair of KPR-1 as unknown
    assert "„Nachname“" in result.findings[0].message


def test_a_sheet_without_a_header_row():
    book = book_from({"Fraktionen": [dict(id="CDU", name="CDU-Fraktion")]})
    book["Fraktionen"] = SheetRows("Fraktionen", book["Fraktionen"].rows[1:])
    result = loader.load_book(book)
    assert result.unusable
    assert where(result) == [("DATA-5", "Fraktionen", 1, "A")]


def test_a_missing_sheet_is_one_finding():
    book = book_from({"Mitglieder": [PERSON], "Sitzungen": [SESSION]})
    del book["Mitglieder"]
    result = loader.load_book(book)
    assert result.unusable
    assert where(result) == [("DATA-5", "Mitglieder", None, None)]


def test_sheet_names_with_other_case_and_spaces():
    book = book_from({"Mitglieder": [PERSON]})
    book[" mitglieder "] = book.pop("Mitglieder")
    result = loader.load_book(book)
    assert result.findings == () and result.model.persons[0].id == "P01"


def test_settings_as_typed_and_unreadable_ones_fall_back_to_the_default():
    rows = list(reversed(settings_rows({"invitation_days": " 10 ", "agenda_days": 28.0, "minutes_days": "zwei"})))
    rows.append(dict(key="Eigene Notiz", value="egal"))
    result = loader.load_book(book_from({"Einstellungen": rows}))
    settings_ = result.model.settings
    assert (settings_.invitation_days, settings_.agenda_days, settings_.minutes_days) == (10, 28, 14)
    minutes_row = len(rows) + 1 - [s.key for s in schema.SETTINGS].index("minutes_days") - 1
    assert where(result) == [("DATA-2", "Einstellungen", minutes_row, "B")]
    assert "Standardwert 14" in result.findings[0].message
    assert settings_.location("minutes_days") == Location("Einstellungen", minutes_row, "B")


@pytest.mark.parametrize("typed", ["ja", "x", "X", "WAHR", "TRUE", True, " Ja ", 1])
def test_yes_as_people_type_it(typed):
    agenda = [dict(session="KPR-1", number="1", title="Lage", confidential=typed)]
    result = loader.load_book(book_from({"Mitglieder": [PERSON], "Sitzungen": [SESSION], "Tagesordnung": agenda}))
    assert result.findings == ()
    assert result.model.agenda[0].confidential is True


@pytest.mark.parametrize("typed", [datetime(2027, 3, 12), "12.03.2027", "12.3.27", " 12.03.2027\xa0", 46458])
def test_dates_as_people_type_them(typed):
    result = loader.load_book(book_from({"Mitglieder": [PERSON], "Sitzungen": [{**SESSION, "date": typed}]}))
    assert result.findings == ()
    assert result.model.sessions[0].date == date(2027, 3, 12)


cell_values = st.one_of(
    st.none(), st.text(max_size=12), st.integers(-10, 3_000_000), st.floats(allow_nan=True),
    st.booleans(), st.dates().map(lambda d: datetime(d.year, d.month, d.day)), st.times(),
    st.sampled_from(["ja", "nein", "12.03.2027", "=A1+1", "P01", "KPR-1", "Mitglied", "KPR", "#NV", " "]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_loader_never_raises(data):
    """Whatever lands in the cells, the loader returns findings that name a place in the workbook."""
    book = book_from({"Mitglieder": [PERSON], "Sitzungen": [SESSION]})
    for name in data.draw(st.lists(st.sampled_from([s.name for s in schema.SHEETS]), max_size=4)):
        width = len(schema.SHEETS_BY_NAME[name].columns) + 1
        rows = data.draw(st.lists(st.lists(cell_values, max_size=width).map(tuple), max_size=5))
        keep_header = data.draw(st.booleans())
        head = book[name].rows[:1] if keep_header else ()
        book[name] = SheetRows(name, head + tuple(enumerate(rows, start=2)))
    result = loader.load_book(book)
    for finding in result.findings:
        assert finding.code in loader.DATA_SYMBOLS
        assert finding.location.sheet in schema.SHEETS_BY_NAME
        assert finding.message


def test_read_book_keeps_row_numbers_and_skips_blank_rows(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Daten"
    sheet["A1"], sheet["B4"], sheet["C4"] = "Kopf", "Wert", "=B4"
    sheet["A6"] = ""
    workbook.save(tmp_path / "m.xlsx")
    book = read_book(tmp_path / "m.xlsx")
    assert book["Daten"].rows == ((1, ("Kopf", None, None)), (4, (None, "Wert", "=B4")))


def test_an_unreadable_sender_names_what_applies_instead():
    # The generator writes an example sender; the model does not fall back to it.
    rows = settings_rows({"sender": "geschaeftsstelle at dresden", "reply_to": "kpr@dresden.example"})
    result = loader.load_book(book_from({"Einstellungen": rows}))
    assert result.model.settings.sender == ""
    (finding,) = result.findings
    assert finding.code == "DATA-2" and "sie bleibt leer" in finding.message
    assert "kpr@dresden.example" not in finding.message
