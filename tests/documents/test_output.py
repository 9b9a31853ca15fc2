"""File names, the output folder, and never overwriting what the office edited."""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from kpr_excel.documents import output
from kpr_excel.documents.output import MANIFEST, place, session_file
from kpr_excel.domain import schema


def _session(demo_model, gremium):
    return next(s for s in demo_model.sessions if s.gremium == gremium)


def test_file_names_carry_date_body_and_document(demo_model):
    kpr = dataclasses.replace(_session(demo_model, schema.GREMIUM_KPR), date=date(2027, 3, 12))
    assert session_file(kpr, "Einladung") == "2027-03-12_KPR_Einladung.docx"
    jf = _session(demo_model, schema.GREMIUM_JF)
    assert session_file(jf, "Niederschrift") == f"{jf.date:%Y-%m-%d}_JF_Niederschrift.docx"
    ag = _session(demo_model, schema.GREMIUM_AG)
    assert session_file(ag, "Einladung") == f"{ag.date:%Y-%m-%d}_{ag.working_group}_Einladung.docx"
    assert output.safe_name('AG: "Wiener Platz"/Süd') == "AG_Wiener_Platz_Süd"


def test_output_folder_is_relative_to_the_workbook_unless_absolute(demo_model, tmp_path):
    book = tmp_path / "sub" / "KPR.xlsx"
    assert output.output_dir(book, demo_model) == (tmp_path / "sub" / demo_model.settings.output_dir).resolve()
    absolute = dataclasses.replace(demo_model, settings=dataclasses.replace(
        demo_model.settings, output_dir=str(tmp_path / "anderswo")))
    assert output.output_dir(book, absolute) == tmp_path / "anderswo"


def test_unedited_file_is_replaced_in_place(tmp_path):
    first = place(tmp_path, "a.docx", b"eins")
    second = place(tmp_path, "a.docx", b"zwei")
    assert first.path == second.path == tmp_path / "a.docx"
    assert second.kept is None and second.path.read_bytes() == b"zwei"
    assert set(json.loads((tmp_path / MANIFEST).read_text())) == {"a.docx"}


def test_edited_file_is_kept_and_the_new_one_becomes_v2_then_stays_v2(tmp_path):
    place(tmp_path, "a.docx", b"eins")
    (tmp_path / "a.docx").write_bytes(b"von Hand bearbeitet")
    placed = place(tmp_path, "a.docx", b"zwei")
    assert placed.path == tmp_path / "a_v2.docx" and placed.kept == tmp_path / "a.docx"
    assert (tmp_path / "a.docx").read_bytes() == b"von Hand bearbeitet"
    again = place(tmp_path, "a.docx", b"drei")
    assert again.path == tmp_path / "a_v2.docx" and again.path.read_bytes() == b"drei"
    (tmp_path / "a_v2.docx").write_bytes(b"auch bearbeitet")
    assert place(tmp_path, "a.docx", b"vier").path == tmp_path / "a_v3.docx"


def test_overwrite_replaces_even_an_edited_file(tmp_path):
    place(tmp_path, "a.docx", b"eins")
    (tmp_path / "a.docx").write_bytes(b"bearbeitet")
    placed = place(tmp_path, "a.docx", b"zwei", overwrite=True)
    assert placed.path == tmp_path / "a.docx" and placed.kept is None
    assert placed.path.read_bytes() == b"zwei"


@pytest.mark.parametrize("owner_file", ["~$a_lang.docx", "~$lang.docx"])
def test_a_file_open_in_word_or_written_by_someone_else_is_kept(tmp_path, owner_file):
    (tmp_path / "fremd.docx").write_bytes(b"nicht von uns")
    assert place(tmp_path, "fremd.docx", b"neu").path == tmp_path / "fremd_v2.docx"
    place(tmp_path, "a_lang.docx", b"eins")
    (tmp_path / owner_file).write_bytes(b"")
    assert place(tmp_path, "a_lang.docx", b"zwei").path == tmp_path / "a_lang_v2.docx"
    assert (tmp_path / "a_lang.docx").read_bytes() == b"eins"


def test_written_files_get_normal_permissions(tmp_path):
    path = place(tmp_path, "a.docx", b"eins").path
    assert path.stat().st_mode & 0o044  # readable by others, as a normally saved file
