"""The parsers behind the loader: what people type into Excel cells, read back as values."""

from datetime import date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kpr_excel.domain import values


@pytest.mark.parametrize("typed, expected", [
    (datetime(2027, 3, 12, 0, 0), date(2027, 3, 12)),  # an Excel date cell
    (datetime(2027, 3, 12, 15, 30), date(2027, 3, 12)),
    (date(2027, 3, 12), date(2027, 3, 12)),
    (46458, date(2027, 3, 12)),  # an Excel serial number the cell lost its format for
    (46458.75, date(2027, 3, 12)),
    ("12.03.2027", date(2027, 3, 12)),
    ("12.3.2027", date(2027, 3, 12)),
    ("12.3.27", date(2027, 3, 12)),
    (" 12. 03. 2027 ", date(2027, 3, 12)),
    ("12.03.2027\xa0", date(2027, 3, 12)),
    ("2027-03-12", date(2027, 3, 12)),
    ("2027-03-12T00:00:00Z", date(2027, 3, 12)),  # xlwings' remote engine sends ISO strings
    ("12/03/2027", date(2027, 3, 12)),
])
def test_parse_date_accepts_what_people_type(typed, expected):
    assert values.parse_date(typed) == expected


@pytest.mark.parametrize("typed, reason", [
    ("nächste Woche", "kein Datum"),
    ("31.02.2027", "kein gültiges Datum"),
    ("12.13.2027", "kein gültiges Datum"),
    ("", "kein Datum"),
    (True, "kein Datum"),
    (0, "keine gültige Datumszahl"),
    (-5, "keine gültige Datumszahl"),
    (time(10, 0), "kein Datum"),
])
def test_parse_date_rejects_with_a_german_reason(typed, reason):
    with pytest.raises(ValueError, match=reason):
        values.parse_date(typed)


def test_parse_date_message_names_the_expected_form():
    with pytest.raises(ValueError) as info:
        values.parse_date("März")
    assert "„März“" in str(info.value)
    assert "TT.MM.JJJJ" in str(info.value)


@given(st.dates(min_value=date(1901, 1, 1), max_value=date(9999, 12, 31)))
def test_german_date_round_trips(day):
    assert values.parse_date(values.german_date(day)) == day


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_excel_serial_numbers_match_excel_dates(day):
    serial = (day - date(1899, 12, 30)).days
    assert values.parse_date(serial) == day
    assert values.parse_date(float(serial)) == day


@pytest.mark.parametrize("typed, expected", [
    (time(16, 0), time(16, 0)),
    (datetime(1899, 12, 30, 9, 30, 12), time(9, 30, 12)),
    (0.5, time(12, 0)),
    (0.65625, time(15, 45)),
    ("16:00", time(16, 0)),
    ("16.30", time(16, 30)),
    ("9:05:00", time(9, 5)),
    ("16 Uhr", time(16, 0)),
    ("16:00 Uhr", time(16, 0)),
    (" 8:15 ", time(8, 15)),
])
def test_parse_time(typed, expected):
    assert values.parse_time(typed) == expected


@pytest.mark.parametrize("typed", ["24:00", "16:75", "nachmittags", "", 1.5, True])
def test_parse_time_rejects(typed):
    with pytest.raises(ValueError):
        values.parse_time(typed)


@given(st.times().map(lambda t: t.replace(second=0, microsecond=0)))
def test_german_time_round_trips(moment):
    assert values.parse_time(values.german_time(moment)) == moment


@pytest.mark.parametrize("typed", [True, 1, 1.0, "ja", "Ja", " JA ", "j", "x", "X", "WAHR", "wahr",
                                   "TRUE", "true", "1", "yes", "✓"])
def test_parse_bool_true(typed):
    assert values.parse_bool(typed) is True


@pytest.mark.parametrize("typed", [False, 0, 0.0, "nein", "Nein", "n", "FALSCH", "FALSE", "0", "-", "no"])
def test_parse_bool_false(typed):
    assert values.parse_bool(typed) is False


@pytest.mark.parametrize("typed", ["vielleicht", "2", 2, 0.5, "ja nein"])
def test_parse_bool_rejects(typed):
    with pytest.raises(ValueError, match="weder ja noch nein"):
        values.parse_bool(typed)


@pytest.mark.parametrize("typed, expected", [(3, 3), (3.0, 3), ("3", 3), (" 21 ", 21), ("-2", -2)])
def test_parse_int(typed, expected):
    assert values.parse_int(typed) == expected


@pytest.mark.parametrize("typed", ["3,5", 3.5, "drei", True, ""])
def test_parse_int_rejects(typed):
    with pytest.raises(ValueError):
        values.parse_int(typed)


@pytest.mark.parametrize("typed, expected", [
    ("juliane.hempel@dresden.example", "juliane.hempel@dresden.example"),
    (" juliane.hempel@dresden.example\xa0", "juliane.hempel@dresden.example"),
    ("mailto:kpr@dresden.example", "kpr@dresden.example"),
    ("o'neil+kpr@sub.dresden.example", "o'neil+kpr@sub.dresden.example"),
])
def test_parse_email(typed, expected):
    assert values.parse_email(typed) == expected


@pytest.mark.parametrize("typed", ["juliane.hempel(at)dresden.example", "kpr@dresden", "kpr@@dresden.example",
                                   "Juliane Hempel <kpr@dresden.example>", "kpr @dresden.example", ""])
def test_parse_email_rejects(typed):
    with pytest.raises(ValueError, match="keine gültige E-Mail-Adresse"):
        values.parse_email(typed)


@pytest.mark.parametrize("typed, expected", [
    ("P01, P02;P03\nP04", ("P01", "P02", "P03", "P04")),
    (" P31 ", ("P31",)),
    ("P31,,", ("P31",)),
    ("", ()),
    (None, ()),
])
def test_parse_ids(typed, expected):
    assert values.parse_ids(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    (datetime(2027, 3, 12, 10, 5), datetime(2027, 3, 12, 10, 5)),
    (date(2027, 3, 12), datetime(2027, 3, 12)),
    ("12.03.2027 10:05", datetime(2027, 3, 12, 10, 5)),
    ("2027-03-12T10:05:00Z", datetime(2027, 3, 12, 10, 5)),
    ("12.03.2027", datetime(2027, 3, 12)),
])
def test_parse_datetime(typed, expected):
    assert values.parse_datetime(typed) == expected


@pytest.mark.parametrize("typed, expected", [
    (None, ""), ("  Rathaus,\xa0 Raum 2 ", "Rathaus, Raum 2"), (3.0, "3"), (3.5, "3.5"), (7, "7"),
])
def test_clean_text(typed, expected):
    assert values.clean_text(typed) == expected


def test_german_dates_do_not_depend_on_the_locale():
    assert values.german_date(date(2027, 3, 10)) == "10.03.2027"
    assert values.german_date(None) == ""
    assert values.german_date_long(date(2027, 3, 10)) == "Mittwoch, 10. März 2027"
    assert values.german_date_long(date(2027, 12, 5), weekday=False) == "5. Dezember 2027"
    assert values.german_time(time(9, 5)) == "09:05"
