"""Check a built KPR.xlam as Excel will see it: ribbon, callbacks, RunPython targets, VBA, version."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import importlib.util
import inspect
import io
import re
import struct
import sys
import tempfile
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from kpr_excel.addin.build import build_addin_bytes
from kpr_excel.addin.sources import (
    _UNSAFE_IN_COMMAND,
    ADDIN_FILE,
    ADDIN_NAME,
    BAS_FILE,
    BUTTON_UNUSED,
    BUTTONS_MODULE,
    CALLBACK_MISSING,
    CALLBACK_SIGNATURE,
    CUSTOMUI_NS,
    CUSTOMUI_PART,
    CUSTOMUI_REL_TYPE,
    MODULE_MISSING,
    MODULE_NAME,
    OUT_OF_DATE,
    PACKAGE_DAMAGED,
    PROJECT_NAME,
    PROJECT_SETTINGS,
    RELS_PART,
    RIBBON_DUPLICATE_ID,
    RIBBON_FILE,
    RIBBON_INVALID,
    RIBBON_MISSING,
    RUNPYTHON_INVALID,
    RUNPYTHON_TARGET,
    SOURCES_DIR,
    TEMPLATE_MODULE,
    TOOL_WRITTEN_VBA_VERSION,
    VBA_PART,
    VBA_PCODE,
    XLWINGS_MODULE,
    XLWINGS_VERSION,
    AddinError,
    AddinSources,
    _import_pyopenvba,
    installed_xlwings_version,
)
from kpr_excel.domain.findings import Finding, Location, Severity

# --------------------------------------------------------------------------------------
# Check
# --------------------------------------------------------------------------------------


def check_addin(path: Path = ADDIN_FILE, sources_dir: Path | None = SOURCES_DIR) -> tuple[Finding, ...]:
    """Check the built add-in at ``path`` statically and return what is wrong with it.

    With ``sources_dir`` the file must also be exactly what a build from those sources gives
    now (finding AI11 otherwise). Raises AddinError only for a file that is not an add-in
    package at all or for missing tools.
    """
    if not path.is_file():
        raise AddinError(f"Add-in nicht gefunden: {path} (bauen mit: kpr addin bauen)")
    data = path.read_bytes()
    sources = AddinSources.read(sources_dir) if sources_dir is not None else None
    return _check_package(data, path.name, sources=sources)


@dataclass(frozen=True)
class _Element:
    namespace: str
    tag: str
    attributes: Mapping[str, str]
    line: int


@dataclass(frozen=True)
class _VbaModule:
    name: str
    code: str
    text_offset: int  # bytes of compiled p-code before the source in the module stream
    procedural: bool


@dataclass(frozen=True)
class _Sub:
    name: str
    public: bool
    params: str
    line: int


def _check_package(
    data: bytes,
    filename: str,
    *,
    sources: AddinSources | None,
    rebuilt: bytes | None = None,
) -> tuple[Finding, ...]:
    try:
        package = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise AddinError(f"{filename} ist kein Office-Paket (keine ZIP-Datei).") from exc
    with package:
        names = set(package.namelist())
        if VBA_PART not in names:
            raise AddinError(f"{filename} enthält kein VBA-Projekt ({VBA_PART}).")
        vba_bin = package.read(VBA_PART)
        ribbon = package.read(CUSTOMUI_PART) if CUSTOMUI_PART in names else None
        rels = package.read(RELS_PART) if RELS_PART in names else b""

    module_name = sources.module_name if sources else MODULE_NAME
    findings: list[Finding] = list(_check_integrity(data))
    modules, vba_findings = _read_vba(vba_bin, module_name)
    findings += vba_findings
    elements: list[_Element] = []
    if ribbon is None:
        findings.append(RIBBON_MISSING.finding(f"Das Paket hat keinen Teil {CUSTOMUI_PART}."))
    else:
        findings += _check_relationship(rels)
        elements, ribbon_findings = _parse_ribbon(ribbon)
        findings += ribbon_findings
    findings += _check_callbacks(elements, modules)
    ours = modules.get(module_name)
    targets: set[str] = set()
    if ours is None:
        findings.append(MODULE_MISSING.finding(
            f"Das VBA-Projekt hat kein Modul {module_name}.", Location(f"VBA {module_name}")))
    else:
        run_findings, targets = _check_run_python(ours)
        findings += run_findings
    if TEMPLATE_MODULE in modules:
        findings.append(MODULE_MISSING.finding(
            f"Das Modul {TEMPLATE_MODULE} der xlwings-Vorlage ist noch im Add-in.",
            Location(f"VBA {TEMPLATE_MODULE}")))
    findings += _check_xlwings_module(modules.get(XLWINGS_MODULE))
    findings += _check_buttons_covered(targets)
    if sources is not None:
        findings += _check_up_to_date(data, sources, modules, ribbon, rebuilt)
    return tuple(findings)


def _check_integrity(data: bytes) -> list[Finding]:
    """pyOpenVBA's own diagnosis of the package and its VBA project (it wants a file)."""
    pyopenvba = _import_pyopenvba()
    with tempfile.TemporaryDirectory(prefix="kpr-addin-") as tmp:
        path = Path(tmp) / ADDIN_NAME
        path.write_bytes(data)
        report = pyopenvba.check_file(path)
    findings = [
        Finding(PACKAGE_DAMAGED.code,
                Severity.FEHLER if issue.severity == "error" else Severity.WARNUNG,
                f"{issue.message} ({issue.code})", Location(issue.location) if issue.location else None,
                symbol=PACKAGE_DAMAGED.symbol)
        for issue in report.issues
    ]
    if not report.complete and not findings:
        findings.append(Finding(PACKAGE_DAMAGED.code, Severity.WARNUNG,
                                "pyOpenVBA konnte das Paket nicht vollständig prüfen.",
                                symbol=PACKAGE_DAMAGED.symbol))
    return findings


# ---- ribbon --------------------------------------------------------------------------


def _check_relationship(rels: bytes) -> list[Finding]:
    targets = {}
    for element in _parse_xml(rels)[0]:
        if element.tag == "Relationship":
            targets[element.attributes.get("Target", "").lstrip("/")] = element.attributes.get("Type", "")
    rel_type = targets.get(CUSTOMUI_PART)
    if rel_type is None:
        return [RIBBON_MISSING.finding(
            f"{RELS_PART} verweist nicht auf {CUSTOMUI_PART}: Excel lädt das Menüband nicht.",
            Location(RELS_PART))]
    if rel_type != CUSTOMUI_REL_TYPE:
        return [RIBBON_MISSING.finding(
            f"Die Beziehung zu {CUSTOMUI_PART} hat den Typ {rel_type}; zum Namensraum "
            f"{CUSTOMUI_NS} gehört {CUSTOMUI_REL_TYPE}.", Location(RELS_PART))]
    return []


def _parse_xml(data: bytes) -> tuple[list[_Element], expat.ExpatError | None]:
    """Start tags with namespace and line, in document order (expat: stdlib, gives lines)."""
    parser = expat.ParserCreate(namespace_separator=" ")
    elements: list[_Element] = []

    def start(name: str, attributes: dict[str, str]) -> None:
        namespace, _, tag = name.rpartition(" ")
        elements.append(_Element(namespace, tag, attributes, parser.CurrentLineNumber))

    parser.StartElementHandler = start
    try:
        parser.Parse(data, True)
    except expat.ExpatError as exc:
        return elements, exc
    return elements, None


def _parse_ribbon(data: bytes) -> tuple[list[_Element], list[Finding]]:
    elements, error = _parse_xml(data)
    if error is not None:
        return [], [RIBBON_INVALID.finding(
            f"customUI.xml ist kein gültiges XML: {expat.errors.messages[error.code]} "
            f"(Spalte {error.offset + 1}).", Location(CUSTOMUI_PART, error.lineno))]
    root = elements[0]
    if (root.namespace, root.tag) != (CUSTOMUI_NS, "customUI"):
        return [], [RIBBON_INVALID.finding(
            f"Das Wurzelelement ist {root.tag!r} im Namensraum {root.namespace or '(keiner)'!r}; "
            f"erwartet: customUI in {CUSTOMUI_NS}.", Location(CUSTOMUI_PART, root.line))]
    findings = []
    first_seen: dict[str, int] = {}
    for element in elements:
        if element.namespace != CUSTOMUI_NS:
            findings.append(RIBBON_INVALID.finding(
                f"Das Element {element.tag!r} steht nicht im Namensraum {CUSTOMUI_NS}.",
                Location(CUSTOMUI_PART, element.line)))
        element_id = element.attributes.get("id")
        if element_id is None:
            continue
        if element_id in first_seen:
            findings.append(RIBBON_DUPLICATE_ID.finding(
                f"Die id {element_id!r} steht schon in Zeile {first_seen[element_id]}; "
                "Excel lädt ein Menüband mit doppelten ids nicht.", Location(CUSTOMUI_PART, element.line)))
        else:
            first_seen[element_id] = element.line
    return elements, findings


def _callback_attributes(element: _Element) -> Iterable[tuple[str, str]]:
    # In the customUI schema every callback attribute is onX, getX or loadImage.
    for attribute, value in element.attributes.items():
        if attribute.startswith(("on", "get")) or attribute == "loadImage":
            yield attribute, value


def _check_callbacks(elements: list[_Element], modules: Mapping[str, _VbaModule]) -> list[Finding]:
    subs: dict[str, tuple[_VbaModule, _Sub]] = {}
    for module in modules.values():
        if module.procedural:
            for sub in _subs(module.code):
                subs.setdefault(f"{module.name}.{sub.name}".casefold(), (module, sub))
                subs.setdefault(sub.name.casefold(), (module, sub))
    findings = []
    for element in elements:
        for attribute, callback in _callback_attributes(element):
            where = Location(CUSTOMUI_PART, element.line)
            label = element.attributes.get("id", element.tag)
            found = subs.get(callback.casefold())
            if found is None:
                findings.append(CALLBACK_MISSING.finding(
                    f"{attribute}={callback!r} ({label}) nennt kein Sub in einem Standardmodul "
                    "des VBA-Projekts; der Klick liefe ins Leere.", where))
                continue
            module, sub = found
            if attribute != "onAction" or element.tag not in ("button", "toggleButton"):
                continue
            problems = []
            if not sub.public:
                problems.append("ist nicht Public")
            expected = r"\s*(?:ByRef\s+|ByVal\s+)?\w+\s+As\s+(?:Office\.)?IRibbonControl\s*"
            if element.tag == "button" and not re.fullmatch(expected, sub.params, re.IGNORECASE):
                problems.append(f"hat ({sub.params}) statt (control As IRibbonControl)")
            if problems:
                findings.append(CALLBACK_SIGNATURE.finding(
                    f"Das Sub {sub.name} für {label} {' und '.join(problems)}.",
                    Location(f"VBA {module.name}", sub.line)))
    return findings


# ---- VBA -----------------------------------------------------------------------------


_SUB_LINE = re.compile(
    r"^\s*(?:(?P<scope>Public|Private|Friend)\s+)?(?:Static\s+)?Sub\s+(?P<name>[A-Za-z]\w*)"
    r"\s*\((?P<params>[^)]*)\)",
    re.IGNORECASE,
)
_RUN_PYTHON_LINE = re.compile(
    r'^\s*(?:Call\s+)?RunPython\s*\(?\s*"(?P<command>(?:[^"]|"")*)"\s*\)?\s*(?:\'.*)?$',
    re.IGNORECASE,
)


def _logical_lines(code: str) -> Iterable[tuple[int, str]]:
    """(first line number, text) of each logical line: continuations joined, comments dropped."""
    pending: list[str] = []
    start = 0
    for number, line in enumerate(code.splitlines(), start=1):
        if not pending:
            start = number
        if line.rstrip().endswith(" _"):
            pending.append(line.rstrip()[:-1])
            continue
        text = " ".join([*pending, line])
        pending = []
        stripped = text.strip()
        if stripped.startswith("'") or stripped.lower().startswith("rem "):
            continue
        yield start, text


def _subs(code: str) -> list[_Sub]:
    subs = []
    for line, text in _logical_lines(code):
        match = _SUB_LINE.match(text)
        if match:
            scope = (match.group("scope") or "Public").lower()
            subs.append(_Sub(match.group("name"), scope == "public", match.group("params").strip(), line))
    return subs


def _import_olevba():
    try:
        import olefile
        with warnings.catch_warnings():
            # oletools 0.60 calls pyparsing's camelCase names at import, which pyparsing 3.3
            # deprecates; nothing we can change, and a DeprecationWarning must not stop a check.
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"oletools\.olevba")
            from oletools import olevba
    except ImportError as exc:
        raise AddinError(
            "oletools fehlt; es wird nur zum Prüfen des Add-ins gebraucht: pip install kpr-excel[addin]"
        ) from exc
    return olefile, olevba


def _read_vba(vba_bin: bytes, module_name: str) -> tuple[dict[str, _VbaModule], list[Finding]]:
    """The VBA modules as olevba reads them back, and whether compiled code is left in them."""
    olefile, olevba = _import_olevba()
    findings: list[Finding] = []
    level = olevba.log.logger.level  # an adapter; its own .level is a method
    with tempfile.TemporaryDirectory(prefix="kpr-addin-") as tmp:
        # olevba analyses p-code only for a file on disk, not for a part held in memory.
        path = Path(tmp) / "vbaProject.bin"
        path.write_bytes(vba_bin)
        try:
            ole = olefile.OleFileIO(str(path))
            try:
                cache = ole.openstream("VBA/_VBA_PROJECT").read()
                project = olevba.VBA_Project(ole, "", "PROJECT", "VBA/dir", relaxed=True)
                project.parse_project_stream()
                for _ in project.parse_modules():
                    pass
                modules = {
                    module.name: _VbaModule(module.name, module.code or "", module.textoffset,
                                            module.type == 0x0021)
                    for module in project.modules
                }
            finally:
                ole.close()
            parser = olevba.VBA_Parser(str(path))
            try:
                stomped = parser.detect_vba_stomping()
            finally:
                parser.close()
        except Exception as exc:  # olevba and olefile raise many kinds on a damaged project
            raise AddinError(f"Das VBA-Projekt ist nicht lesbar: {type(exc).__name__}: {exc}") from exc
        finally:
            # extract_pcode switches olevba's logger on for the whole process; switch it back.
            olevba.log.setLevel(level)
    where = Location("VBA/_VBA_PROJECT")
    version = struct.unpack_from("<H", cache, 2)[0] if len(cache) >= 4 else None
    if version != TOOL_WRITTEN_VBA_VERSION:
        shown = f"0x{version:04X}" if version is not None else "unlesbar"
        findings.append(VBA_PCODE.finding(
            f"_VBA_PROJECT hat die Version {shown} statt 0xFFFF: Excel könnte zwischengespeicherten "
            "P-Code statt der Quelle ausführen.", where))
    ours = modules.get(module_name)
    if ours is not None and ours.text_offset:
        findings.append(VBA_PCODE.finding(
            f"Das Modul {module_name} trägt {ours.text_offset} Bytes kompilierten P-Code vor der "
            "Quelle; erwartet ist nur Quelltext.", Location(f"VBA {module_name}")))
    if stomped:
        findings.append(VBA_PCODE.finding(
            "olevba erkennt VBA-Stomping: der P-Code passt nicht zur Quelle.", where))
    return modules, findings


def _check_xlwings_module(module: _VbaModule | None) -> list[Finding]:
    if module is None:
        return [MODULE_MISSING.finding(
            f"Das VBA-Projekt hat kein Modul {XLWINGS_MODULE}; RunPython fehlt.",
            Location(f"VBA {XLWINGS_MODULE}"))]
    where = Location(f"VBA {XLWINGS_MODULE}")
    findings = []
    installed = installed_xlwings_version()
    match = re.search(r'Public Const XLWINGS_VERSION As String = "([^"]*)"', module.code)
    in_vba = match.group(1) if match else None
    dlls = set(re.findall(r'"xlwings(?:32|64)-([^"]+)\.dll"', module.code))
    if in_vba != installed or dlls - {installed}:
        findings.append(XLWINGS_VERSION.finding(
            f"Das VBA im Add-in ist für xlwings {in_vba or '(unbekannt)'} "
            f"(DLL {', '.join(sorted(dlls)) or '-'}), installiert ist xlwings {installed}; "
            "xlwings genau auf die Version des Add-ins festlegen oder das Add-in neu bauen.", where))
    match = re.search(r'Public Const PROJECT_NAME As String = "([^"]*)"', module.code)
    if match is None or match.group(1) != PROJECT_NAME:
        found = match.group(1) if match else "(fehlt)"
        findings.append(PROJECT_SETTINGS.finding(
            f"PROJECT_NAME ist {found!r} statt {PROJECT_NAME!r}: xlwings suchte seine Einstellungen "
            f"in {found}.conf statt in {PROJECT_NAME}.conf.", where))
    return findings


# ---- RunPython -------------------------------------------------------------------------


def _check_run_python(module: _VbaModule) -> tuple[list[Finding], set[str]]:
    """Every RunPython string of ``module``: a plain Python call whose target imports and is callable."""
    findings: list[Finding] = []
    targets: set[str] = set()
    for line, text in _logical_lines(module.code):
        if not re.search(r"\bRunPython\b", text, re.IGNORECASE):
            continue
        where = Location(f"VBA {module.name}", line)
        match = _RUN_PYTHON_LINE.match(text)
        if match is None:
            findings.append(RUNPYTHON_INVALID.finding(
                "RunPython bekommt keinen festen Text; so lässt sich der Aufruf nicht prüfen.", where))
            continue
        command = match.group("command").replace('""', '"')
        problems, called = check_python_command(command)
        findings += [RUNPYTHON_TARGET.finding(message, where) if target_problem
                     else RUNPYTHON_INVALID.finding(message, where)
                     for target_problem, message in problems]
        targets |= called
    return findings, targets


def check_python_command(command: str) -> tuple[list[tuple[bool, str]], set[str]]:
    """Check one RunPython command; returns (problems, the dotted functions it calls).

    Each problem is (is a target problem, German message). The command must be imports
    followed by calls of functions with literal arguments, e.g.
    ``import kpr_excel.excel.buttons as b; b.hilfe()``. Its imports are executed here, in this
    process, as Python will run them on a click.
    """
    problems: list[tuple[bool, str]] = []
    for character, name in _UNSAFE_IN_COMMAND.items():
        if character in command:
            problems.append((False, f"RunPython-Text {command!r} enthält ein {name}; "
                                    "auf der Befehlszeile von cmd.exe bricht das den Aufruf."))
    try:
        tree = ast.parse(command, mode="exec")
    except SyntaxError as exc:
        return [*problems, (False, f"RunPython-Text {command!r} ist kein gültiges Python: {exc.msg}.")], set()
    bindings: dict[str, object] = {}
    calls: list[ast.Call] = []
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            problem = _execute_import(statement, bindings)
            if problem:
                problems.append((True, f"RunPython-Text {command!r}: {problem}"))
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            calls.append(statement.value)
        else:
            problems.append((False, f"RunPython-Text {command!r} enthält "
                                    f"{ast.unparse(statement)!r}; erlaubt sind nur Importe und Aufrufe."))
    if not calls:
        problems.append((False, f"RunPython-Text {command!r} ruft keine Funktion auf."))
    called: set[str] = set()
    for call in calls:
        problem, dotted = _resolve_call(call, bindings)
        if dotted:
            called.add(dotted)
        if problem:
            problems.append((True, f"RunPython-Text {command!r}: {problem}"))
    return problems, called


def _execute_import(statement: ast.Import | ast.ImportFrom, bindings: dict[str, object]) -> str | None:
    try:
        if isinstance(statement, ast.Import):
            for alias in statement.names:
                module = importlib.import_module(alias.name)
                if alias.asname:
                    bindings[alias.asname] = module
                else:
                    top = alias.name.split(".")[0]
                    bindings[top] = sys.modules[top]
        else:
            if statement.level:
                return "relative Importe gehen in RunPython nicht."
            module = importlib.import_module(statement.module or "")
            for alias in statement.names:
                if hasattr(module, alias.name):
                    bindings[alias.asname or alias.name] = getattr(module, alias.name)
                else:
                    bindings[alias.asname or alias.name] = importlib.import_module(
                        f"{statement.module}.{alias.name}")
    except Exception as exc:  # whatever the import raises is what the click would raise
        return f"{ast.unparse(statement)!r} schlägt fehl: {type(exc).__name__}: {exc}"
    return None


def _resolve_call(call: ast.Call, bindings: Mapping[str, object]) -> tuple[str | None, str | None]:
    chain: list[str] = []
    node = call.func
    while isinstance(node, ast.Attribute):
        chain.insert(0, node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return f"{ast.unparse(call.func)!r} ist kein einfacher Funktionsname.", None
    if node.id not in bindings:
        return f"{node.id!r} ist nicht importiert.", None
    target = bindings[node.id]
    path = [getattr(target, "__name__", node.id)]
    for name in chain:
        if not hasattr(target, name):
            return f"{'.'.join(path)} hat kein {name!r}.", None
        target = getattr(target, name)
        path.append(name)
    dotted = ".".join(path)
    if not callable(target):
        return f"{dotted} ist nicht aufrufbar.", dotted
    try:
        args = [ast.literal_eval(argument) for argument in call.args]
        kwargs = {keyword.arg: ast.literal_eval(keyword.value) for keyword in call.keywords}
    except ValueError:
        return f"{ast.unparse(call)!r}: nur feste Werte als Argumente sind erlaubt.", dotted
    try:
        # keyword.arg is None for `**mapping`; bind() then raises the TypeError handled below
        inspect.signature(target).bind(*args, **kwargs)  # type: ignore[arg-type]
    except TypeError as exc:
        return f"{ast.unparse(call)!r} passt nicht zu {dotted}: {exc}.", dotted
    except ValueError:
        pass  # no signature to compare against (a builtin); calling it is still possible
    return None, dotted


def _check_buttons_covered(targets: set[str]) -> list[Finding]:
    buttons = importlib.import_module(BUTTONS_MODULE)
    return [
        BUTTON_UNUSED.finding(f"{BUTTONS_MODULE}.{name} hat keine Schaltfläche im Add-in.")
        for name in buttons.__all__
        if f"{BUTTONS_MODULE}.{name}" not in targets
    ]


# ---- up to date ------------------------------------------------------------------------


def _check_up_to_date(
    data: bytes,
    sources: AddinSources,
    modules: Mapping[str, _VbaModule],
    ribbon: bytes | None,
    rebuilt: bytes | None,
) -> list[Finding]:
    reasons = []
    ours = modules.get(sources.module_name)
    if ours is not None and _normalise_vba(ours.code) != _normalise_vba(sources.vba_source):
        reasons.append(f"das Modul {sources.module_name} weicht von {BAS_FILE} ab")
    if ribbon is not None and ribbon != sources.ribbon:
        reasons.append(f"das Menüband weicht von {RIBBON_FILE} ab")
    if not reasons:
        if rebuilt is None:
            rebuilt = build_addin_bytes(sources)
        if rebuilt != data:
            reasons.append(
                "ein neuer Build ergäbe andere Bytes (andere Version von xlwings oder pyOpenVBA?)")
    if not reasons:
        return []
    return [OUT_OF_DATE.finding(
        f"Das Add-in ist nicht aus den aktuellen Quellen gebaut: {'; '.join(reasons)}. "
        "Neu bauen mit: kpr addin bauen")]


def _normalise_vba(code: str) -> str:
    return code.replace("\r\n", "\n").rstrip("\n")
