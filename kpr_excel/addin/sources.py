"""The add-in's sources, its finding codes (AI01 to AI14) and the names both build and check use."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

from kpr_excel.domain.errors import KprError
from kpr_excel.domain.findings import FAMILY_ADDIN, Code, Severity

#: The add-in and its two sources ship as package data, so an installed wheel has them too.
#: The package is installed as plain files (pip installs no zipped packages), so a path will do.
FILES_DIR = Path(__file__).resolve().parent / "files"
SOURCES_DIR = FILES_DIR
ADDIN_NAME = "KPR.xlam"
ADDIN_FILE = FILES_DIR / ADDIN_NAME
BAS_FILE = "KPR.bas"
RIBBON_FILE = "customUI.xml"

#: xlwings reads its settings from the sheet or file "<PROJECT_NAME>.conf".
PROJECT_NAME = "kpr"
#: The VBA module of the ribbon callbacks, as KPR.bas names it.
MODULE_NAME = "KPR_Ribbon"
#: The Python module every RunPython string of the add-in is expected to call.
BUTTONS_MODULE = "kpr_excel.excel.buttons"

TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
TEMPLATE_MODULE = "RibbonMyAddin"
TEMPLATE_PROJECT_NAME = "myaddin"
XLWINGS_MODULE = "xlwings"

CUSTOMUI_PART = "customUI/customUI.xml"
VBA_PART = "xl/vbaProject.bin"
WORKBOOK_PART = "xl/workbook.xml"
CORE_PART = "docProps/core.xml"
RELS_PART = "_rels/.rels"
CONTENT_TYPES_PART = "[Content_Types].xml"

#: The ribbon namespace of Office 2010 and later, and the package relationship that goes
#: with it (the one xlwings' template already uses for its customUI part).
CUSTOMUI_NS = "http://schemas.microsoft.com/office/2009/07/customui"
CUSTOMUI_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"

#: The earliest date a zip entry can carry; used for every part so a build has no clock in it.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)

#: [MS-OVBA] 2.3.4.1: a _VBA_PROJECT version of 0xFFFF marks a project written by a tool,
#: whose compiled cache the Office application ignores and rebuilds from the source.
TOOL_WRITTEN_VBA_VERSION = 0xFFFF

ADDIN_TITLE = "KPR"
ADDIN_DESCRIPTION = (
    "Menüband „KPR“ für die Geschäftsstelle des Kommunalen Präventionsrats Dresden (kpr-excel)"
)

#: Characters a RunPython string must not contain: xlwings puts it between double quotes on
#: a cmd.exe command line, where a quote ends the argument and %NAME% is expanded.
_UNSAFE_IN_COMMAND = {'"': "Anführungszeichen", "%": "Prozentzeichen", "\n": "Zeilenumbruch"}


class AddinError(KprError):
    """The add-in, its sources or its tools cannot be used at all (missing, not a package)."""

    exit_code = 2


# --------------------------------------------------------------------------------------
# Finding codes
# --------------------------------------------------------------------------------------


def AddinCheck(code: str, symbol: str, severity: Severity, description: str) -> Code:
    """One static check of the add-in: a stable code and symbol, as the workbook rules have."""
    return Code(code, symbol, (severity,), description, FAMILY_ADDIN)


RIBBON_MISSING = AddinCheck("AI01", "ribbon-fehlt", Severity.FEHLER,
                            "Das Paket hat keinen Menüband-Teil oder keine Beziehung dorthin.")
RIBBON_INVALID = AddinCheck("AI02", "ribbon-ungueltig", Severity.FEHLER,
                            "customUI.xml ist kein gültiges XML im Namensraum von Office 2010.")
RIBBON_DUPLICATE_ID = AddinCheck("AI03", "ribbon-id-doppelt", Severity.FEHLER,
                                 "Eine id kommt im Menüband mehrmals vor.")
CALLBACK_MISSING = AddinCheck("AI04", "callback-fehlt", Severity.FEHLER,
                              "Ein Callback des Menübands nennt kein Sub im VBA-Projekt.")
CALLBACK_SIGNATURE = AddinCheck("AI05", "callback-signatur", Severity.FEHLER,
                                "Ein onAction-Sub ist nicht Public oder hat nicht (control As IRibbonControl).")
RUNPYTHON_INVALID = AddinCheck("AI06", "runpython-ungueltig", Severity.FEHLER,
                               "Ein RunPython-Text ist kein einfacher Python-Aufruf.")
RUNPYTHON_TARGET = AddinCheck("AI07", "runpython-ziel", Severity.FEHLER,
                              "Das Ziel eines RunPython-Aufrufs lässt sich nicht importieren oder aufrufen.")
VBA_PCODE = AddinCheck("AI08", "vba-pcode", Severity.FEHLER,
                       "Das VBA-Projekt trägt kompilierten P-Code, der nicht zur Quelle passt.")
XLWINGS_VERSION = AddinCheck("AI09", "xlwings-version", Severity.FEHLER,
                             "Das xlwings-VBA im Add-in passt nicht zum installierten xlwings.")
PROJECT_SETTINGS = AddinCheck("AI10", "projektname", Severity.FEHLER,
                              "PROJECT_NAME ist nicht kpr: xlwings fände kpr.conf nicht.")
OUT_OF_DATE = AddinCheck("AI11", "veraltet", Severity.FEHLER,
                         "Das Add-in ist nicht aus den aktuellen Quellen gebaut.")
BUTTON_UNUSED = AddinCheck("AI12", "schaltflaeche-fehlt", Severity.WARNUNG,
                           "Eine Funktion aus kpr_excel.excel.buttons hat keine Schaltfläche.")
MODULE_MISSING = AddinCheck("AI13", "modul-fehlt", Severity.FEHLER,
                            "Ein VBA-Modul fehlt oder eines der Vorlage ist übrig.")
PACKAGE_DAMAGED = AddinCheck("AI14", "paket-defekt", Severity.FEHLER,
                             "pyOpenVBA findet einen Fehler im Paket oder im VBA-Projekt.")

CHECKS: tuple[Code, ...] = (
    RIBBON_MISSING, RIBBON_INVALID, RIBBON_DUPLICATE_ID, CALLBACK_MISSING, CALLBACK_SIGNATURE,
    RUNPYTHON_INVALID, RUNPYTHON_TARGET, VBA_PCODE, XLWINGS_VERSION, PROJECT_SETTINGS,
    OUT_OF_DATE, BUTTON_UNUSED, MODULE_MISSING, PACKAGE_DAMAGED,
)


# --------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddinSources:
    """The two hand-written files the add-in is built from, normalised for the build."""

    module_name: str
    vba_source: str  # CRLF line ends, as the VBA editor keeps them
    ribbon: bytes  # UTF-8, LF line ends

    @classmethod
    def read(cls, directory: Path = SOURCES_DIR) -> AddinSources:
        bas_path, ribbon_path = directory / BAS_FILE, directory / RIBBON_FILE
        for path in (bas_path, ribbon_path):
            if not path.is_file():
                raise AddinError(f"Quelldatei des Add-ins fehlt: {path}")
        try:
            text = bas_path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise AddinError(f"{bas_path} ist nicht in UTF-8 gespeichert: {exc}") from exc
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        match = re.match(r'Attribute VB_Name = "([A-Za-z]\w*)"$', lines[0])
        if not match:
            raise AddinError(
                f'{bas_path} muss mit der Zeile Attribute VB_Name = "<Modulname>" beginnen.'
            )
        vba_source = "\r\n".join(lines).rstrip("\r\n") + "\r\n"
        ribbon = ribbon_path.read_bytes().removeprefix(b"\xef\xbb\xbf").replace(b"\r\n", b"\n")
        return cls(match.group(1), vba_source, ribbon)


def checkout_root() -> Path | None:
    """The project folder when this package runs from a checkout (``pip install -e .``), else None.

    A checkout has the project's pyproject.toml beside the kpr_excel folder; an installed
    wheel has site-packages there.
    """
    root = FILES_DIR.parents[2]
    pyproject = root / "pyproject.toml"
    try:
        is_ours = pyproject.is_file() and 'name = "kpr-excel"' in pyproject.read_text(encoding="utf-8")
    except OSError:
        return None
    return root if is_ours else None


def build_target() -> Path:
    """Where ``kpr addin bauen`` writes by default: the add-in in the checkout's source tree.

    An installed package is not a place to build into (pip's RECORD would no longer match, an
    update would overwrite it), so without a checkout this asks for one or for an explicit path.
    """
    if checkout_root() is None:
        raise AddinError(
            "„kpr addin bauen“ schreibt KPR.xlam in den Quellbaum zurück und braucht dafür einen "
            "Checkout des Projekts (im Projektordner installiert mit pip install -e). Dieses kpr-excel "
            f"ist als Paket installiert ({FILES_DIR.parent}) und bringt das fertige Add-in mit: "
            "„kpr addin pruefen“ prüft es, „kpr addin installieren“ installiert es. "
            "Zum Bauen an anderer Stelle die Zieldatei mit --ausgabe nennen."
        )
    return ADDIN_FILE


def xlwings_template() -> Path:
    """xlwings' ribbon add-in template, found without importing xlwings (slow, and needs Excel)."""
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise AddinError("xlwings ist nicht installiert; das Add-in wird aus seiner Vorlage gebaut.")
    template = Path(next(iter(spec.submodule_search_locations))) / TEMPLATE_NAME
    if not template.is_file():
        raise AddinError(f"Die Add-in-Vorlage von xlwings fehlt: {template}")
    return template


def installed_xlwings_version() -> str:
    try:
        return importlib.metadata.version("xlwings")
    except importlib.metadata.PackageNotFoundError as exc:
        raise AddinError("xlwings ist nicht installiert.") from exc


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _import_pyopenvba():
    try:
        import pyopenvba
    except ImportError as exc:
        raise AddinError(
            "pyOpenVBA fehlt; es wird zum Bauen und Prüfen des Add-ins gebraucht (Installieren geht "
            "ohne): pip install \"kpr-excel[addin]\""
        ) from exc
    return pyopenvba
