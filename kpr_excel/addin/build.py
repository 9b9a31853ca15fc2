"""Build kpr_excel/addin/files/KPR.xlam from its sources and the xlwings ribbon template (see the package docstring)."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path

from kpr_excel.addin.sources import (
    ADDIN_DESCRIPTION,
    ADDIN_TITLE,
    BAS_FILE,
    CONTENT_TYPES_PART,
    CORE_PART,
    CUSTOMUI_PART,
    PROJECT_NAME,
    RELS_PART,
    TEMPLATE_MODULE,
    TEMPLATE_PROJECT_NAME,
    WORKBOOK_PART,
    XLWINGS_MODULE,
    ZIP_EPOCH,
    AddinError,
    AddinSources,
    _import_pyopenvba,
    xlwings_template,
)


def build_addin_bytes(sources: AddinSources, template: Path | None = None) -> bytes:
    """The bytes of the add-in built from ``sources``: a pure function of its inputs."""
    pyopenvba = _import_pyopenvba()
    template = template or xlwings_template()
    with tempfile.TemporaryDirectory(prefix="kpr-addin-") as tmp:
        edited = Path(tmp) / "vba.xlam"
        shutil.copyfile(template, Path(tmp) / "template.xlam")
        with pyopenvba.ExcelFile(Path(tmp) / "template.xlam") as workbook:
            project = workbook.vba_project()
            names = {name.casefold(): name for name in workbook.module_names()}
            if TEMPLATE_MODULE.casefold() not in names or XLWINGS_MODULE.casefold() not in names:
                raise AddinError(
                    f"Die xlwings-Vorlage {template} hat nicht die Module {TEMPLATE_MODULE} "
                    f"und {XLWINGS_MODULE}; sie passt nicht zu diesem Build."
                )
            encoding = _vba_encoding(project.code_page)
            try:
                sources.vba_source.encode(encoding)
            except UnicodeEncodeError as exc:
                raise AddinError(
                    f"{BAS_FILE} enthält Zeichen, die das VBA-Projekt (Codepage "
                    f"{project.code_page}) nicht speichern kann: {exc.object[exc.start:exc.end]!r}"
                ) from exc
            project.rename_module(names[TEMPLATE_MODULE.casefold()], sources.module_name)
            workbook.set_module(sources.module_name, sources.vba_source)
            xlwings_source = workbook.get_module(XLWINGS_MODULE)
            workbook.set_module(XLWINGS_MODULE, _replace_once(
                xlwings_source,
                f'Public Const PROJECT_NAME As String = "{TEMPLATE_PROJECT_NAME}"',
                f'Public Const PROJECT_NAME As String = "{PROJECT_NAME}"',
                f"Modul {XLWINGS_MODULE}",
            ))
            workbook.save(edited)
        with zipfile.ZipFile(edited) as package:
            parts = {info.filename: package.read(info) for info in package.infolist()}
    parts[CUSTOMUI_PART] = sources.ribbon
    parts[WORKBOOK_PART] = _replace_once(
        parts[WORKBOOK_PART],
        f'name="_{TEMPLATE_PROJECT_NAME}.conf"'.encode(),
        f'name="_{PROJECT_NAME}.conf"'.encode(),
        WORKBOOK_PART,
    )
    core = _replace_once(parts[CORE_PART], b"<dc:title />",
                         f"<dc:title>{ADDIN_TITLE}</dc:title>".encode(), CORE_PART)
    parts[CORE_PART] = _replace_once(core, b"<dc:description />",
                                     f"<dc:description>{ADDIN_DESCRIPTION}</dc:description>".encode(),
                                     CORE_PART)
    return canonical_zip(parts)


def canonical_zip(parts: Mapping[str, bytes]) -> bytes:
    """A zip of ``parts`` whose bytes depend on nothing else: no clock, no zlib, no platform.

    The content types come first, as Office writes them, then the package relationships,
    then every other part by name.
    """
    first = [name for name in (CONTENT_TYPES_PART, RELS_PART) if name in parts]
    order = first + sorted(name for name in parts if name not in first)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as package:
        for name in order:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED
            info.create_system = 0  # MS-DOS, as Office writes it; the default depends on the OS
            info.external_attr = 0
            package.writestr(info, parts[name])
    return buffer.getvalue()


def _replace_once(text, old, new, where: str):
    count = text.count(old)
    if count != 1:
        shown = old.decode() if isinstance(old, bytes) else old
        raise AddinError(
            f"Die xlwings-Vorlage hat sich geändert: in {where} steht {shown!r} "
            f"{count}-mal statt einmal. Build an die neue xlwings-Version anpassen."
        )
    return text.replace(old, new)


def _vba_encoding(code_page: int) -> str:
    return "cp1252" if code_page == 1252 else f"cp{code_page}"
