"""Rows of the master workbook -> the typed model, plus DATA findings.

Whatever people typed, the loader does not raise: a value it cannot read becomes a finding
that names sheet, row and column, and the row is kept where it still makes sense.
Stage order (beancount's loader): parse each sheet, then check ids and references.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path

from kpr_excel.book.layout import Book, SheetRows, find_header, find_sheet, norm
from kpr_excel.book.reader import read_book
from kpr_excel.domain import model, schema, values
from kpr_excel.domain.audience import UNCLEAR_FLAG_MEANS
from kpr_excel.domain.findings import FAMILY_DATA, Code, Finding, Location, Severity
from kpr_excel.domain.model import Source

# The checks of the workbook itself (RULES.md, "Data checks").
_F, _H = Severity.FEHLER, Severity.HINWEIS
DATA_CODES: tuple[Code, ...] = (
    Code("DATA-1", "pflichtfeld-leer", (_F, _H),
         "Eine Pflichtzelle ist leer; die Zeile wird nicht berücksichtigt.", FAMILY_DATA),
    Code("DATA-2", "falscher-typ", (_F, _H),
         "Ein Wert hat den falschen Typ: kein Datum, keine Uhrzeit, weder ja noch nein, keine gültige "
         "E-Mail-Adresse oder kein Wert aus der Auswahlliste.", FAMILY_DATA),
    Code("DATA-3", "doppelte-id", (_F, _H),
         "Eine ID kommt doppelt vor; die spätere Zeile wird nicht berücksichtigt.", FAMILY_DATA),
    Code("DATA-4", "unbekannte-id", (_F, _H),
         "Ein Verweis nennt eine ID, die es im genannten Blatt nicht gibt.", FAMILY_DATA),
    Code("DATA-5", "aufbau-unbekannt", (_F, _H),
         "Ein Tabellenblatt oder eine Spalte fehlt oder ist umbenannt; fehlt ein Pflichtblatt, ist die Mappe "
         "nicht verwendbar.", FAMILY_DATA),
)
DATA_SYMBOLS = {c.code: c.symbol for c in DATA_CODES}
# References reported by a rule of procedure rather than as DATA-4 (GO-2.4 owns deputies).
_REFS_LEFT_TO_RULES = {("Mitglieder", "deputy_of")}

_PARSERS = {
    schema.Kind.DATE: values.parse_date,
    schema.Kind.TIME: values.parse_time,
    schema.Kind.BOOL: values.parse_bool,
    schema.Kind.INT: values.parse_int,
    schema.Kind.EMAIL: values.parse_email,
    schema.Kind.IDS: values.parse_ids,
    schema.Kind.DATETIME: values.parse_datetime,
}



def record_class(sheet: schema.Sheet) -> type | None:
    """The model class one row of `sheet` becomes: the element type of its `Model` field."""
    if sheet.records is None:
        return None
    hints = typing.get_type_hints(model.Model)
    return typing.get_args(hints[sheet.records])[0]


_RECORD_CLASSES = {sheet.name: record_class(sheet) for sheet in schema.SHEETS if sheet.records}


@dataclass(frozen=True)
class LoadResult:
    model: model.Model
    findings: tuple[Finding, ...]
    # True where the workbook is not a master workbook at all (required sheets missing).
    unusable: bool = False
    # Rows left out for a finding of their own, with their cells as typed (column key -> value):
    # the pre-flight of a send names whoever would silently drop out of it.
    dropped: tuple[tuple[Source, dict[str, object]], ...] = ()


def data_finding(code: str, message: str, location: Location, severity=Severity.FEHLER) -> Finding:
    return Finding(code, severity, message, location, symbol=DATA_SYMBOLS[code])


# The sheets the loader reads; the reader leaves the others (Pruefung, the office's own) unread.
_READ_SHEETS = tuple(sheet.name for sheet in schema.SHEETS if not sheet.tool_owned)


def load_file(path: Path) -> LoadResult:
    """Read and load a workbook file; raises WorkbookUnusable only for unreadable files."""
    return load_book(read_book(Path(path), only=_READ_SHEETS))


def load_book(book: Book) -> LoadResult:
    findings: list[Finding] = []
    loaded: dict[str, list] = {}
    # Every id typed into a readable sheet, including rows dropped for a finding of their own.
    present: dict[str, set[str]] = {}
    dropped: list[tuple[Source, dict[str, object]]] = []
    unusable = False
    for sheet in schema.SHEETS:
        if sheet.tool_owned:
            continue
        rows = find_sheet(book, sheet.name)
        if rows is None:
            severity = Severity.FEHLER if sheet.required else Severity.HINWEIS
            findings.append(data_finding(
                "DATA-5",
                f"Das Tabellenblatt „{sheet.name}“ fehlt"
                + (". Ohne es kann die Mappe nicht verwendet werden." if sheet.required
                   else "; es wird beim nächsten Schreiben angelegt."),
                Location(sheet.name), severity))
            unusable = unusable or sheet.required
            continue
        objects, sheet_findings, broken, ids = _load_sheet(rows, sheet, dropped)
        loaded[sheet.name] = objects
        if not broken:
            present[sheet.name] = ids
        findings.extend(sheet_findings)
        unusable = unusable or (broken and sheet.required)
    settings = _settings(loaded.pop(schema.EINSTELLUNGEN.name, []), findings)
    # Every sheet left in `loaded` fills a Model field (Einstellungen, which fills none, was popped).
    parts = {typing.cast(str, schema.SHEETS_BY_NAME[name].records): tuple(objs) for name, objs in loaded.items()}
    result = model.Model(**parts, settings=settings)
    findings.extend(_check_references(result, present))
    return LoadResult(result, tuple(findings), unusable, tuple(dropped))


def _load_sheet(rows: SheetRows, sheet: schema.Sheet, dropped: list | None = None):
    """Objects of one sheet, its findings, whether its layout is unusable, and the ids typed in it.

    Rows left out for a finding are appended to `dropped` with their raw cells.
    """
    findings: list[Finding] = []
    header = find_header(rows, sheet)
    if header is None:
        findings.append(data_finding(
            "DATA-5", f"In „{sheet.name}“ wurde keine Überschriftenzeile gefunden "
                      f"(erwartet u. a. „{sheet.columns[0].header}“ in Zeile 1).",
            Location(sheet.name, 1, "A")))
        return [], findings, True, set()
    header_row, positions = header
    broken = False
    for column in sheet.columns:
        if column.key in positions or column.kind is schema.Kind.FORMULA:
            continue
        if column.required:
            broken = True
        findings.append(data_finding(
            "DATA-5",
            f"Die Spalte „{column.header}“ fehlt in „{sheet.name}“"
            + (" (Pflichtspalte; wurde sie umbenannt?)." if column.required
               else "; sie wird als leer behandelt."),
            Location(sheet.name, header_row), Severity.FEHLER if column.required else Severity.HINWEIS))
    if broken:
        return [], findings, True, set()

    letters = tuple((key, schema.column_letter(index + 1)) for key, index in positions.items())
    letter_of = dict(letters)
    cls = _RECORD_CLASSES.get(sheet.name)
    columns = [c for c in sheet.columns if c.key in positions and c.kind is not schema.Kind.FORMULA]
    unique = [c for c in columns if c.unique]
    seen: dict[str, dict[str, int]] = {c.key: {} for c in unique}
    # Looked up once per sheet, not per cell: this loop runs over every cell of the workbook.
    parsers = {c.key: _PARSERS.get(c.kind) for c in columns}
    objects, ids = [], set()
    for number, row in rows.rows:
        if number <= header_row:
            continue
        raw = {c.key: row[positions[c.key]] if positions[c.key] < len(row) else None for c in columns}
        if all(_blank(v) for v in raw.values()):
            continue
        src = model.Source(sheet.name, number, letters)
        if not _blank(raw.get("id")):
            ids.add(values.clean_text(raw["id"]))
        parsed, ok = {}, True
        for column in columns:
            value = raw[column.key]
            if _blank(value):
                if column.required:
                    findings.append(data_finding(
                        "DATA-1", f"Pflichtfeld „{column.header}“ ist leer.",
                        Location(sheet.name, number, letter_of[column.key])))
                    ok = False
                continue
            try:
                parsed[column.key] = _convert(value, column, parsers[column.key])
            except ValueError as exc:
                # § 8 fail closed: an unclear "Vertraulich" counts as confidential until fixed.
                closed = UNCLEAR_FLAG_MEANS.get((sheet.name, column.key))
                if closed is not None:
                    parsed[column.key] = closed[0]
                findings.append(data_finding(
                    "DATA-2", f"„{column.header}“: {exc}" + (f"; {closed[1]}." if closed else "."),
                    Location(sheet.name, number, letter_of[column.key])))
                if column.required:
                    ok = False
        for column in unique:
            key = parsed.get(column.key)
            if key is None:
                continue
            first = seen[column.key].get(key)
            if first is not None:
                findings.append(data_finding(
                    "DATA-3", f"Die {column.header} „{key}“ kommt doppelt vor (zuerst in Zeile {first}); "
                              "diese Zeile wird nicht berücksichtigt.",
                    Location(sheet.name, number, letter_of[column.key])))
                ok = False
            else:
                seen[column.key][key] = number
        if ok:
            if cls is None:
                objects.append((src, parsed))
            else:
                objects.append(cls(src=src, **parsed))
        elif dropped is not None:
            dropped.append((src, raw))
    return objects, findings, False, ids


def _blank(value) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and not value.strip()


# A spreadsheet reads text starting with one of these as a formula (" =HYPERLINK(…)" too, once the
# space is gone); ids and references are copied into cells the tool writes (Versand), so they may not.
_FORMULA_STARTS = ("=", "+", "-", "@")
_LOOK_UP = object()


def _convert(value, column: schema.Column, parser=_LOOK_UP):
    converted = _convert_value(value, column, parser)
    if column.unique or column.ref:
        for text in converted if isinstance(converted, tuple) else (converted,):
            if isinstance(text, str) and text.startswith(_FORMULA_STARTS):
                raise ValueError(f"„{text}“ beginnt mit „{text[0]}“; eine ID darf nicht mit =, +, - oder @ "
                                 "beginnen, weil Excel sie sonst als Formel liest")
    return converted


def _convert_value(value, column: schema.Column, parser=_LOOK_UP):
    if isinstance(value, str) and value.startswith("="):
        # The adapter gives formula text only where no computed value was saved with the file.
        raise ValueError(f"enthält die Formel „{value}“ ohne berechneten Wert; bitte den Wert "
                         "selbst eintragen oder die Mappe in Excel öffnen und speichern")
    if parser is _LOOK_UP:
        parser = _PARSERS.get(column.kind)
    if parser is not None:
        return parser(value)
    text = values.clean_text(value)
    if column.choices:
        for choice in column.choices:
            if choice.casefold() == text.casefold():
                return choice
        allowed = ", ".join(c for c in column.choices if c)
        raise ValueError(f"„{text}“ ist kein zulässiger Wert (erlaubt: {allowed})")
    return text


def _settings(rows, findings: list[Finding]) -> model.Settings:
    given: dict[str, typing.Any] = {}  # each value parsed for its setting's kind
    positions: list[tuple[str, int]] = []
    by_label = {norm(s.label): s for s in schema.SETTINGS}
    for src, parsed in rows:
        label = norm(parsed.get("key"))
        setting = by_label.get(label)
        if setting is None:
            continue  # the office may keep notes of its own in the sheet
        positions.append((setting.key, src.row))
        raw = parsed.get("value")
        if _blank(raw):
            continue
        try:
            parser = _PARSERS.get(setting.kind)
            given[setting.key] = parser(raw) if parser else values.clean_text(raw)
        except ValueError as exc:
            # Name the value that applies instead: the default, which for the sender and the
            # office's address is empty, not the example a new workbook shows.
            fallback = setting.default
            instead = f"es gilt der Standardwert {fallback}" if fallback != "" else "sie bleibt leer"
            findings.append(data_finding(
                "DATA-2", f"Einstellung „{setting.label}“: {exc}; {instead}.",
                Location(schema.EINSTELLUNGEN.name, src.row, "B")))
    return model.Settings(**given, rows=tuple(positions))



def _check_references(result: model.Model, present: dict[str, set[str]]) -> list[Finding]:
    """DATA-4: every reference names an id that exists.

    An id whose own row has a finding still counts as existing, and a sheet that is missing
    or unreadable is not checked against: one mistake gives one finding, not dozens.
    """
    findings = []
    for sheet in schema.SHEETS:
        attr = sheet.records
        if attr is None:
            continue
        for column in sheet.columns:
            if not column.ref or (sheet.name, column.key) in _REFS_LEFT_TO_RULES:
                continue
            known = present.get(column.ref)
            if known is None:
                continue
            for obj in getattr(result, attr):
                value = getattr(obj, column.key, None)
                wanted = value if isinstance(value, tuple) else (value,) if value else ()
                for ref in wanted:
                    if ref not in known:
                        findings.append(data_finding(
                            "DATA-4",
                            f"„{column.header}“ verweist auf „{ref}“, das es im Blatt „{column.ref}“ "
                            "nicht gibt.",
                            obj.src.at(column.key)))
    return findings
