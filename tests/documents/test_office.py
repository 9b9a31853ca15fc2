"""kpr_excel.documents.office: finding LibreOffice and checking what it really produced."""

from __future__ import annotations

import zipfile

import pytest

from kpr_excel.documents import office
from kpr_excel.domain.errors import KprError


def test_missing_libreoffice_is_a_clear_german_error(monkeypatch, tmp_path):
    monkeypatch.setenv(office.ENV_SOFFICE, str(tmp_path / "gibt-es-nicht" / "soffice"))
    assert office.find_soffice() is None
    source = tmp_path / "a.docx"
    source.write_bytes(b"x")
    with pytest.raises(office.OfficeMissing, match="LibreOffice wurde nicht gefunden") as caught:
        office.convert([source], "pdf", tmp_path)
    assert isinstance(caught.value, KprError) and office.ENV_SOFFICE in str(caught.value)


def test_nothing_to_convert_needs_no_libreoffice(monkeypatch, tmp_path):
    monkeypatch.setenv(office.ENV_SOFFICE, str(tmp_path / "nicht-da"))
    assert office.convert([], "pdf", tmp_path) == []


def test_missing_input_and_clashing_names_are_refused_before_starting(tmp_path):
    with pytest.raises(office.ConversionFailed, match="gibt es nicht"):
        office.convert([tmp_path / "fehlt.docx"], "pdf", tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "x.docx").write_bytes(b"x")
    with pytest.raises(office.ConversionFailed, match="gleichen Namens"):
        office.convert([tmp_path / "a" / "x.docx", tmp_path / "b" / "x.docx"], "pdf", tmp_path / "out")


@pytest.mark.slow
def test_a_file_libreoffice_cannot_load_is_reported_even_over_a_stale_pdf(libreoffice, tmp_path):
    broken = tmp_path / "kaputt.docx"
    with zipfile.ZipFile(broken, "w") as archive:  # a zip, but no Word document
        archive.writestr("nichts.txt", "nichts")
    out = tmp_path / "out"
    out.mkdir()
    (out / "kaputt.pdf").write_bytes(b"%PDF alt")  # from an earlier run: must not count
    with pytest.raises(office.ConversionFailed, match=r"kaputt\.docx"):
        office.convert([broken], "pdf", out)
    assert not (out / "kaputt.pdf").exists()
