"""One definition per record: the schema's columns and the model's fields agree, both ways."""

from __future__ import annotations

import dataclasses

from kpr_excel.book import loader
from kpr_excel.domain import model, schema


def test_every_column_fills_a_field_and_every_field_has_a_column():
    assert model.record_problems() == []


def test_a_column_added_to_the_schema_alone_is_caught():
    extra = schema.Column("Telefon", "phone")
    sheets = tuple(dataclasses.replace(s, columns=(*s.columns, extra)) if s is schema.MITGLIEDER else s
                   for s in schema.SHEETS)
    assert model.record_problems(sheets) == ["Mitglieder: column 'phone' fills no field of Person"]


def test_a_sheet_that_fills_no_model_field_is_caught():
    sheets = tuple(dataclasses.replace(s, records=None) if s is schema.PROJEKTE else s for s in schema.SHEETS)
    assert model.record_problems(sheets) == ["Model.projects is filled by no sheet"]


def test_the_loader_takes_its_record_classes_from_the_model():
    assert loader.record_class(schema.MITGLIEDER) is model.Person
    assert loader.record_class(schema.VERSAND) is model.SendLogEntry
    assert loader.record_class(schema.EINSTELLUNGEN) is None


def test_settings_defaults_are_defined_once_in_the_schema():
    fields = {f.name: f for f in dataclasses.fields(model.Settings) if f.name != "rows"}
    assert set(fields) == set(schema.SETTINGS_BY_KEY)
    defaults = model.Settings()
    for setting in schema.SETTINGS:
        assert getattr(defaults, setting.key) == setting.default, setting.key


def test_a_new_workbook_shows_the_examples_but_an_empty_cell_means_the_default():
    sender = schema.SETTINGS_BY_KEY["sender"]
    assert sender.initial == "kpr@dresden.example" and sender.default == ""
    assert schema.SETTINGS_BY_KEY["agenda_days"].initial == 21
