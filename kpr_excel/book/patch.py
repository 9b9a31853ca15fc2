"""Writing edits into an existing .xlsx package by patching only the parts they change.

openpyxl rewrites every part of a workbook it saves and drops what it does not model: Excel's
extension blocks (`x14:dataValidations` with lists on another sheet, data bars), threaded
comments and persons, the cached values of the office's formulas. This module therefore
changes the package itself: the sheet XML of the sheets an edit touches (the tool-owned
`Versand` and `Pruefung`, status cells of `Sitzungen`), the table range of a sheet that
grew, the print titles of a sheet it lays out (`_xlnm.Print_Titles` in `workbook.xml`), and
where a sheet or a table must be created, the entries in `workbook.xml`, its relationships,
`[Content_Types].xml` and the list of tabs in `docProps/app.xml`. `styles.xml` changes only
where a format the tool needs (a date, a bold title, the "Hyperlink" cell style) is not
there yet, and then only by entries appended to its lists. Every other zip member keeps its
bytes.

Hand-written rather than a library because none edits a package in place: openpyxl and
xlsxwriter rebuild the whole file. lxml (already required by python-docx and used by
openpyxl) keeps namespace prefixes, `mc:Ignorable` and every element it does not know.

Text is written as inline strings (`t="inlineStr"`), so `sharedStrings.xml` stays as Excel
wrote it, and never as a formula: "=SUMME(A1)" from a finding or a recipient stays text.
A package this module cannot handle safely raises `Unsupported` (a WorkbookNotWritable that
allows the result side file), before anything is written.
"""

from __future__ import annotations

import copy
import io
import posixpath
import re
import zipfile
from datetime import date, datetime, time
from time import localtime

from lxml import etree

from kpr_excel.book.edits import Edits, ReplaceSheet, SetCells, UpsertRows
from kpr_excel.book.layout import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    HEADER_SEARCH_ROWS,
    TIME_FORMAT,
    SheetRows,
    header_to_write,
)
from kpr_excel.domain import schema
from kpr_excel.domain.errors import WorkbookNotWritable, WorkbookUnusable

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
XML_NS = "http://www.w3.org/XML/1998/namespace"
OFFICE_DOCUMENT = REL + "/officeDocument"
EXTENDED_PROPERTIES = REL + "/extended-properties"
EP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
PRINT_TITLES = "_xlnm.Print_Titles"
WORKSHEET_REL = REL + "/worksheet"
TABLE_REL = REL + "/table"
WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
TABLE_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.table+xml"
TABLE_STYLE = "TableStyleLight9"

_EPOCH = datetime(1899, 12, 30)
_COLUMN_RANGE = re.compile(r"!\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}$")
_CELL_REF = re.compile(r"^([A-Z]{1,3})([0-9]+)$")


def q(tag: str) -> str:
    return f"{{{MAIN}}}{tag}"


class Unsupported(WorkbookNotWritable):
    """The package has a form the patcher does not handle; nothing was changed."""

    def __init__(self, name: str, reason: str):
        super().__init__(
            f"Die Mappe {name} hat einen Aufbau, den das Werkzeug nicht sicher ändern kann "
            f"({reason}). Sie wird deshalb nicht verändert.", fallback_allowed=True)


# ---------------------------------------------------------------- cell references


def column_index(letters: str) -> int:
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number


def column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def split_ref(ref: str) -> tuple[int, int]:
    """(row, column), both 1-based, of a cell reference such as "C7"."""
    match = _CELL_REF.match(ref.replace("$", ""))
    if match is None:
        raise ValueError(ref)
    return int(match.group(2)), column_index(match.group(1))


def split_range(ref: str) -> tuple[int, int, int, int]:
    """(min_row, min_col, max_row, max_col) of "A1:L9" (or of a single cell)."""
    first, _, last = ref.partition(":")
    top, left = split_ref(first)
    bottom, right = split_ref(last or first)
    return top, left, bottom, right


def excel_serial(value: date | datetime | time) -> float:
    """The number Excel stores for a date, a time or a point in time (1900 date system)."""
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    if isinstance(value, date):
        return float((value - _EPOCH.date()).days)
    return (value.hour * 3600 + value.minute * 60 + value.second) / 86400


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# ---------------------------------------------------------------- the package


class Package:
    """The zip members of one workbook, parsed on demand, written back changed or as they were."""

    def __init__(self, data: bytes, name: str):
        self.name = name
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            self.infos = archive.infolist()
            self.members = {info.filename: archive.read(info.filename) for info in self.infos}
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise Unsupported(name, f"kein lesbares ZIP: {exc}") from None
        self.trees: dict[str, etree._Element] = {}
        self.changed: set[str] = set()

    def unsupported(self, reason: str) -> Unsupported:
        return Unsupported(self.name, reason)

    def xml(self, part: str) -> etree._Element:
        if part not in self.trees:
            if part not in self.members:
                raise self.unsupported(f"Teil {part} fehlt")
            try:
                parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
                self.trees[part] = etree.fromstring(self.members[part], parser)
            except etree.XMLSyntaxError:
                raise WorkbookUnusable(
                    f"Die Mappe {self.name} ist beschädigt (Teil {part} ist kein gültiges XML). "
                    "Bitte in Excel öffnen, prüfen und neu speichern.") from None
        return self.trees[part]

    def touch(self, part: str) -> None:
        self.changed.add(part)

    def add(self, part: str, root: etree._Element) -> None:
        self.trees[part] = root
        self.changed.add(part)

    def rels_part(self, part: str) -> str:
        folder, base = posixpath.split(part)
        return posixpath.join(folder, "_rels", base + ".rels")

    def rels(self, part: str) -> etree._Element:
        name = self.rels_part(part)
        if name not in self.members and name not in self.trees:
            self.add(name, etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL}))
        return self.xml(name)

    def target(self, part: str, rel: etree._Element) -> str:
        if rel.get("TargetMode") == "External":
            raise self.unsupported(f"externes Ziel in {self.rels_part(part)}")
        target = rel.get("Target", "")
        if target.startswith("/"):
            return target.lstrip("/")
        return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))

    def add_rel(self, part: str, rel_type: str, target_part: str) -> str:
        rels = self.rels(part)
        used = {r.get("Id") for r in rels}
        number = 1
        while f"rId{number}" in used:
            number += 1
        rel_id = f"rId{number}"
        relative = posixpath.relpath(target_part, posixpath.dirname(part))
        etree.SubElement(rels, f"{{{PKG_REL}}}Relationship", Id=rel_id, Type=rel_type, Target=relative)
        self.touch(self.rels_part(part))
        return rel_id

    def add_override(self, part: str, content_type: str) -> None:
        types = self.xml("[Content_Types].xml")
        if any(o.get("PartName") == "/" + part for o in types.iter(f"{{{CT}}}Override")):
            return
        etree.SubElement(types, f"{{{CT}}}Override", PartName="/" + part, ContentType=content_type)
        self.touch("[Content_Types].xml")

    def free_name(self, pattern: str) -> str:
        """A part name no member uses, nor the relationships of such a member (a leftover)."""
        def used(name: str) -> bool:
            return any(n in self.members or n in self.trees for n in (name, self.rels_part(name)))

        number = 1
        while used(pattern.format(number)):
            number += 1
        return pattern.format(number)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            written = set()
            for info in self.infos:
                archive.writestr(_copy_info(info), self._data(info.filename))
                written.add(info.filename)
            now = localtime()[:6]
            for part in sorted(self.changed - written):
                info = zipfile.ZipInfo(part, date_time=now)
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, self._data(part))
        return out.getvalue()

    def _data(self, part: str) -> bytes:
        if part in self.changed:
            return etree.tostring(self.trees[part], xml_declaration=True, encoding="UTF-8", standalone=True)
        return self.members[part]


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.create_system = info.create_system
    return copy


# ---------------------------------------------------------------- the workbook


class Workbook:
    """The workbook part of a package: its sheets by name, shared strings, styles."""

    def __init__(self, package: Package):
        self.package = package
        root_rels = package.xml("_rels/.rels")
        office = [r for r in root_rels if r.get("Type") == OFFICE_DOCUMENT]
        if len(office) != 1:
            raise package.unsupported("kein eindeutiger Arbeitsmappen-Teil")
        self.part = package.target("", office[0])
        self.root = package.xml(self.part)
        if self.root.tag != q("workbook"):
            raise package.unsupported("Arbeitsmappe nicht im üblichen Format (z. B. Strict Open XML)")
        rels = package.rels(self.part)
        self.rel_targets = {r.get("Id"): r for r in rels}
        self.sheets: dict[str, str] = {}
        sheets = self.root.find(q("sheets"))
        if sheets is None:
            raise package.unsupported("keine Blattliste")
        for sheet in sheets:
            rel = self.rel_targets.get(sheet.get(f"{{{REL}}}id"))
            name = sheet.get("name", "")
            if rel is None:
                raise package.unsupported(f"Blatt „{name}“ ohne Teil")
            if rel.get("Type") == WORKSHEET_REL:
                self.sheets[name] = package.target(self.part, rel)
        self._strings: list[str] | None = None
        self._styles: Styles | None = None
        self.sheet_objects: dict[str, Sheet] = {}

    def find_sheet(self, name: str) -> str | None:
        """The tab name as in the file, compared as the loader does (case, stray spaces)."""
        if name in self.sheets:
            return name
        wanted = name.strip().casefold()
        return next((n for n in self.sheets if n.strip().casefold() == wanted), None)

    def sheet(self, name: str) -> Sheet:
        if name not in self.sheet_objects:
            self.sheet_objects[name] = Sheet(self, self.sheets[name])
        return self.sheet_objects[name]

    @property
    def strings(self) -> list[str]:
        if self._strings is None:
            self._strings = []
            for rel in self.rel_targets.values():
                if rel.get("Type", "").endswith("/sharedStrings"):
                    table = self.package.xml(self.package.target(self.part, rel))
                    self._strings = [_text_of(si) for si in table.iter(q("si"))]
        return self._strings

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            rel = next((r for r in self.rel_targets.values() if r.get("Type", "").endswith("/styles")), None)
            if rel is None:
                raise self.package.unsupported("keine Formatvorlagen")
            self._styles = Styles(self.package, self.package.target(self.part, rel))
        return self._styles

    def add_sheet(self, name: str) -> str:
        """A new, empty worksheet part named `name` at the end of the tabs; returns its part name."""
        part = self.package.free_name("xl/worksheets/sheet{}.xml")
        rel_id = self.package.add_rel(self.part, WORKSHEET_REL, part)
        sheets = self.root.find(q("sheets"))
        assert sheets is not None
        ids = [int(s.get("sheetId", "0")) for s in sheets]
        etree.SubElement(sheets, q("sheet"), {"name": name, "sheetId": str(max(ids, default=0) + 1),
                                              f"{{{REL}}}id": rel_id})
        self.package.touch(self.part)
        self.package.add_override(part, WORKSHEET_TYPE)
        self.package.add(part, etree.Element(q("worksheet"), nsmap={None: MAIN, "r": REL}))
        self._list_in_app_properties(name)
        self.sheets[name] = part
        return part

    def _app_groups(self) -> tuple[str, etree._Element, list[tuple[etree._Element, int, list[str]]]] | None:
        """The groups of `docProps/app.xml`'s TitlesOfParts: (its part, the titles' vector, groups).

        Each group is (the element holding its count in HeadingPairs, where its titles end,
        its titles). None where the file has no such list (openpyxl writes none) or one whose
        counts do not add up: then app.xml keeps its bytes, as Excel rebuilds it on every save
        and reads nothing from it.
        """
        package = self.package
        rel = next((r for r in package.xml("_rels/.rels") if r.get("Type") == EXTENDED_PROPERTIES), None)
        if rel is None:
            return None
        part = package.target("", rel)
        if part not in package.members and part not in package.trees:
            return None
        root = package.xml(part)
        pairs = root.find(f"{{{EP}}}HeadingPairs/{{{VT}}}vector")
        titles = root.find(f"{{{EP}}}TitlesOfParts/{{{VT}}}vector")
        if pairs is None or titles is None:
            return None
        variants = [v[0] if len(v) else None for v in pairs.findall(f"{{{VT}}}variant")]
        names = [t.text or "" for t in titles.findall(f"{{{VT}}}lpstr")]
        if len(names) != len(titles) or len(variants) % 2 or any(v is None for v in variants):
            return None
        offset, groups = 0, []
        for count in variants[1::2]:
            assert count is not None
            try:
                number = int(count.text or "")
            except ValueError:
                return None
            groups.append((count, offset + number, names[offset:offset + number]))
            offset += number
        if offset != len(names):
            return None
        return part, titles, groups

    def _add_app_title(self, part: str, titles: etree._Element, group: tuple[etree._Element, int, list[str]],
                       text: str) -> None:
        count, end, _ = group
        count.text = str(int(count.text or "0") + 1)
        entry = titles.makeelement(f"{{{VT}}}lpstr")
        entry.text = text
        titles.insert(end, entry)
        titles.set("size", str(len(titles)))
        self.package.touch(part)

    def _list_in_app_properties(self, name: str) -> None:
        """Name a new sheet in `docProps/app.xml` where Excel lists the worksheets (TitlesOfParts).

        Excel keeps the tab names there under a heading in its own language ("Arbeitsblätter",
        "Worksheets") with their count in HeadingPairs. The worksheet group is the one whose
        titles are exactly the worksheets of the workbook before the addition, in tab order;
        where no group (or more than one) is, app.xml keeps its bytes.
        """
        found = self._app_groups()
        if found is None:
            return
        part, titles, groups = found
        matches = [g for g in groups if g[2] and g[2] == list(self.sheets)]
        if len(matches) == 1:
            self._add_app_title(part, titles, matches[0], name)

    def _list_print_titles_in_app_properties(self, name: str) -> None:
        """List new print titles of sheet `name` among the named ranges of `docProps/app.xml`.

        Excel names them there in its own language ("Mitglieder!Drucktitel"); the label is
        taken from the print titles of other sheets the file already lists, and nothing is
        added where there are none or they disagree.
        """
        found = self._app_groups()
        if found is None:
            return
        part, titles, groups = found
        sheets = self.root.find(q("sheets"))
        assert sheets is not None
        tabs = [s.get("name", "") for s in sheets]
        others = {tabs[int(d.get("localSheetId", "-1"))] for d in self.root.iter(q("definedName"))
                  if d.get("name") == PRINT_TITLES and d.get("localSheetId", "").isdigit()
                  and int(d.get("localSheetId", "0")) < len(tabs)} - {name}
        listed = []
        for group in groups:
            for title in group[2]:
                sheet, bang, label = title.rpartition("!")
                if bang and _unquote_sheet(sheet) in others:
                    listed.append((group, label))
        if not listed or len({label for _, label in listed}) != 1 or len({id(g) for g, _ in listed}) != 1:
            return
        group, label = listed[0]
        if f"{_app_sheet_name(name)}!{label}" not in group[2]:
            self._add_app_title(part, titles, group, f"{_app_sheet_name(name)}!{label}")

    def set_print_titles(self, name: str, head: int) -> None:
        """Repeat row `head` of sheet `name` on every printed page, as the generator sets it.

        The sheet's `_xlnm.Print_Titles` name is updated (title columns the office chose are
        kept) or created; workbook.xml is touched only where the text changes.
        """
        sheets = self.root.find(q("sheets"))
        assert sheets is not None
        index = next(i for i, s in enumerate(sheets) if s.get("name") == name)
        quoted = "'" + name.replace("'", "''") + "'"
        names = self.root.find(q("definedNames"))
        if names is None:
            names = etree.Element(q("definedNames"))
            _insert_in_order(self.root, names, _WORKBOOK_ORDER)
        defined = next((d for d in names if d.get("name") == PRINT_TITLES and d.get("localSheetId") == str(index)),
                       None)
        if defined is None:
            defined = etree.SubElement(names, q("definedName"), name=PRINT_TITLES, localSheetId=str(index))
            self._list_print_titles_in_app_properties(name)
        parts = (defined.text or "").split(",")
        columns = [p for p in parts if _COLUMN_RANGE.search(p)]
        rows = [p.rpartition("!") for p in parts if p not in columns]
        if [(_unquote_sheet(sheet), bang, ref.replace("$", "")) for sheet, bang, ref in rows] == \
                [(name, "!", f"{head}:{head}")]:
            return  # already these rows, perhaps in Excel's spelling (Pruefung!$2:$2)
        text = ",".join([*columns, f"{quoted}!${head}:${head}"])
        if defined.text != text:
            defined.text = text
            self.package.touch(self.part)

    def table_parts(self) -> list[str]:
        return [n for n in {*self.package.members, *self.package.trees}
                if n.startswith("xl/tables/") and n.endswith(".xml")]

    def recalculate_on_load(self) -> None:
        """Tell Excel to compute every formula when it opens the file next."""
        calc = self.root.find(q("calcPr"))
        if calc is None:
            calc = etree.Element(q("calcPr"))
            _insert_in_order(self.root, calc, _WORKBOOK_ORDER)
        if calc.get("fullCalcOnLoad") != "1":
            calc.set("fullCalcOnLoad", "1")
            self.package.touch(self.part)

    def formulas_may_read(self, name: str) -> bool:
        """Whether a formula or defined name of the workbook may depend on sheet `name`.

        Conservative: any formula on that sheet, any mention of its name or of one of its
        tables in another formula or in a defined name counts.
        """
        sheet = self.sheet(name)
        if sheet.root.find(f".//{q('f')}") is not None:
            return True
        table_names = [t.get("name", "") for t, _ in sheet.tables()]
        needles = [name.casefold(), *(t.casefold() for t in table_names if t)]
        texts = [d.text or "" for d in self.root.iter(q("definedName"))]
        for other, part in self.sheets.items():
            raw = self.package.members.get(part, b"").decode("utf-8", "replace").casefold()
            # Parsed only where the name occurs at all: most sheets never mention it.
            if other != name and any(n in raw for n in needles):
                texts += [f.text or "" for f in self.package.xml(part).iter(q("f"))]
        return any(n in text.casefold() for text in texts for n in needles)


_WORKBOOK_ORDER = ("fileVersion", "fileSharing", "workbookPr", "workbookProtection", "bookViews",
                   "sheets", "functionGroups", "externalReferences", "definedNames", "calcPr")
_WORKSHEET_ORDER = ("sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData",
                    "sheetCalcPr", "sheetProtection", "protectedRanges", "scenarios", "autoFilter",
                    "sortState", "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
                    "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
                    "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
                    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
                    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
                    "webPublishItems", "tableParts", "extLst")


def _insert_in_order(parent: etree._Element, child: etree._Element, order: tuple[str, ...]) -> None:
    """Insert `child` where the schema's sequence puts it (after every element that precedes it)."""
    name = etree.QName(child).localname
    rank = order.index(name)
    position = 0
    for index, sibling in enumerate(parent):
        local = etree.QName(sibling).localname if isinstance(sibling.tag, str) else ""
        if local in order and order.index(local) <= rank:
            position = index + 1
        elif local == "extLst":
            break
    parent.insert(position, child)


def _unquote_sheet(text: str) -> str:
    if len(text) > 1 and text[0] == text[-1] == "'":
        return text[1:-1].replace("''", "'")
    return text


def _app_sheet_name(name: str) -> str:
    """A sheet name as Excel writes it before "!" in a reference: quoted unless a plain word."""
    if re.fullmatch(r"[^\W\d]\w*", name):
        return name
    return "'" + name.replace("'", "''") + "'"


def _text_of(element: etree._Element) -> str:
    """The text of a shared or inline string: its `t`, or its runs' `t`s, phonetic runs left out."""
    parts = []
    for t in element.iter(q("t")):
        parent = t.getparent()
        if parent is not None and parent.tag == q("rPh"):
            continue
        parts.append(t.text or "")
    return "".join(parts)


class Styles:
    """The cell formats of `styles.xml`, to find (or, only if none fits, add) a number format."""

    def __init__(self, package: Package, part: str):
        self.package, self.part = package, part
        self.root = package.xml(part)
        self.codes = {14: "mm-dd-yy", 22: "m/d/yy h:mm", 20: "h:mm"}
        numfmts = self.root.find(q("numFmts"))
        for fmt in numfmts if numfmts is not None else ():
            self.codes[int(fmt.get("numFmtId", "0"))] = fmt.get("formatCode", "")
        xfs = self.root.find(q("cellXfs"))
        if xfs is None:
            raise package.unsupported("keine Zellformate")
        self.xfs = xfs

    def code_of(self, style: int) -> str:
        if style >= len(self.xfs):
            return ""
        return self.codes.get(int(self.xfs[style].get("numFmtId", "0")), "")

    def style_for(self, code: str, current: int) -> int:
        """A cell format showing `code`: the current one if it does, else one the file has, else a new one."""
        if self.code_of(current).casefold() == code.casefold():
            return current
        for index, xf in enumerate(self.xfs):
            if self.codes.get(int(xf.get("numFmtId", "0")), "").casefold() == code.casefold():
                return index
        numfmts = self.root.find(q("numFmts"))
        if numfmts is None:
            numfmts = etree.Element(q("numFmts"))
            self.root.insert(0, numfmts)
        number = max([163, *self.codes]) + 1
        etree.SubElement(numfmts, q("numFmt"), numFmtId=str(number), formatCode=code)
        numfmts.set("count", str(len(numfmts)))
        self.codes[number] = code
        xf = etree.SubElement(self.xfs, q("xf"), numFmtId=str(number), fontId="0", fillId="0",
                              borderId="0", xfId="0", applyNumberFormat="1")
        self.xfs.set("count", str(len(self.xfs)))
        self.package.touch(self.part)
        return self.xfs.index(xf)

    # The title line and the links of Pruefung, as the generator and the openpyxl writer style
    # them (bold 12 pt; the built-in cell style "Hyperlink"). A format the file already has is
    # reused, so that styles.xml keeps its bytes wherever one exists.

    def title_style(self) -> int:
        """A cell format for a title: bold, otherwise plain; found in the file or added."""
        fonts = self._fonts()
        plain = [i for i, xf in enumerate(self.xfs) if _plain_xf(xf) and int(xf.get("fontId", "0")) < len(fonts)
                 and _title_font(fonts[int(xf.get("fontId", "0"))])]
        if plain:
            sized = [i for i in plain if _font_size(fonts[int(self.xfs[i].get("fontId", "0"))]) == "12"]
            return (sized or plain)[0]
        font = _base_font(fonts)
        font.insert(0, font.makeelement(q("b")))
        size = font.find(q("sz"))
        if size is None:
            size = etree.SubElement(font, q("sz"))
        size.set("val", "12")
        font_id = self._append(fonts, font)
        return self._append(self.xfs, self.xfs.makeelement(q("xf"), {
            "numFmtId": "0", "fontId": str(font_id), "fillId": "0", "borderId": "0", "xfId": "0",
            "applyFont": "1"}))

    def hyperlink_style(self) -> int:
        """A cell format with the built-in cell style "Hyperlink" (builtinId 8); found or added."""
        cell_styles = self.root.find(q("cellStyles"))
        style_xfs = self.root.find(q("cellStyleXfs"))
        builtin = next((c for c in (cell_styles if cell_styles is not None else ())
                        if c.get("builtinId") == "8"), None)
        if builtin is not None and style_xfs is not None and int(builtin.get("xfId", "0")) < len(style_xfs):
            style_id = builtin.get("xfId", "0")
            model = style_xfs[int(style_id)]
            for index, xf in enumerate(self.xfs):
                if xf.get("xfId") == style_id and all(xf.get(a, "0") == model.get(a, "0") for a in
                                                      ("numFmtId", "fontId", "fillId", "borderId")):
                    return index
        else:
            fonts = self._fonts()
            font = _base_font(fonts)
            for child in list(font):
                if etree.QName(child).localname in ("b", "i", "u", "strike", "color"):
                    font.remove(child)
            font.insert(0, font.makeelement(q("u")))
            font.insert(1, font.makeelement(q("color"), theme="10"))
            font_id = self._append(fonts, font)
            if style_xfs is None:
                style_xfs = self.xfs.makeelement(q("cellStyleXfs"))
                self.xfs.addprevious(style_xfs)
                etree.SubElement(style_xfs, q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0")
            model = style_xfs.makeelement(q("xf"), {
                "numFmtId": "0", "fontId": str(font_id), "fillId": "0", "borderId": "0",
                "applyNumberFormat": "0", "applyFill": "0", "applyBorder": "0", "applyAlignment": "0",
                "applyProtection": "0"})
            style_id = str(self._append(style_xfs, model))
            if cell_styles is None:
                cell_styles = self.xfs.makeelement(q("cellStyles"))
                self.xfs.addnext(cell_styles)
                etree.SubElement(cell_styles, q("cellStyle"), name="Normal", xfId="0", builtinId="0")
            self._append(cell_styles, cell_styles.makeelement(q("cellStyle"), name="Hyperlink", xfId=style_id,
                                                              builtinId="8"))
        return self._append(self.xfs, self.xfs.makeelement(q("xf"), {
            "numFmtId": model.get("numFmtId", "0"), "fontId": model.get("fontId", "0"),
            "fillId": model.get("fillId", "0"), "borderId": model.get("borderId", "0"), "xfId": style_id}))

    def _fonts(self) -> etree._Element:
        fonts = self.root.find(q("fonts"))
        if fonts is None or not len(fonts):
            raise self.package.unsupported("keine Schriftarten in den Formatvorlagen")
        return fonts

    def _append(self, parent: etree._Element, child: etree._Element) -> int:
        """Append `child` to a counted list of styles.xml; its index."""
        parent.append(child)
        parent.set("count", str(len(parent)))
        self.package.touch(self.part)
        return len(parent) - 1


def _on(element: etree._Element | None) -> bool:
    return element is not None and element.get("val", "1") not in ("0", "false")


def _title_font(font: etree._Element) -> bool:
    """Bold, upright, not underlined or struck through, in the text colour."""
    color = font.find(q("color"))
    plain_color = color is None or color.get("theme") == "1" or color.get("auto") == "1" or (
        color.get("rgb", "").upper().endswith("000000") and color.get("theme") is None)
    return (_on(font.find(q("b"))) and not _on(font.find(q("i"))) and not _on(font.find(q("strike")))
            and font.find(q("u")) is None and plain_color)


def _font_size(font: etree._Element) -> str | None:
    size = font.find(q("sz"))
    return None if size is None else size.get("val")


def _plain_xf(xf: etree._Element) -> bool:
    """A cell format without number format, fill, border, alignment or cell style of its own."""
    return (all(xf.get(a, "0") == "0" for a in ("numFmtId", "fillId", "borderId", "xfId"))
            and not len(xf) and xf.get("quotePrefix", "0") in ("0", "false"))


def _base_font(fonts: etree._Element) -> etree._Element:
    """A copy of the workbook's default font (the first), to derive the title and link fonts from."""
    return copy.deepcopy(fonts[0])


# ---------------------------------------------------------------- one sheet


class Sheet:
    """One worksheet's XML: reading its values, writing cells, its tables."""

    def __init__(self, workbook: Workbook, part: str):
        self.workbook, self.part = workbook, part
        self.package = workbook.package
        self.root = self.package.xml(part)
        data = self.root.find(q("sheetData"))
        if data is None:
            data = etree.Element(q("sheetData"))
            _insert_in_order(self.root, data, _WORKSHEET_ORDER)
        self.data = data
        self.head: int | None = None  # the header row, once looked for
        self.rows: dict[int, etree._Element] = {}
        for row in data.iter(q("row")):
            if row.get("r") is None:
                raise self.package.unsupported(f"Zeile ohne Nummer in {part}")
            self.rows[int(row.get("r", "0"))] = row

    def changed(self) -> None:
        self.package.touch(self.part)

    def cells(self, row: etree._Element) -> dict[int, etree._Element]:
        found = {}
        for cell in row.iter(q("c")):
            ref = cell.get("r")
            if ref is None:
                raise self.package.unsupported(f"Zelle ohne Adresse in {self.part}")
            found[split_ref(ref)[1]] = cell
        return found

    def value(self, cell: etree._Element) -> object:
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            inline = cell.find(q("is"))
            return _text_of(inline) if inline is not None else ""
        v = cell.find(q("v"))
        if v is None or v.text is None:
            return None
        if kind == "s":
            strings = self.workbook.strings
            index = int(v.text)
            return strings[index] if index < len(strings) else None
        if kind in ("str", "e"):
            return v.text
        if kind == "b":
            return v.text == "1"
        try:
            number = float(v.text)
        except ValueError:
            return v.text
        return int(number) if number.is_integer() else number

    def row_values(self, number: int) -> dict[int, object]:
        row = self.rows.get(number)
        if row is None:
            return {}
        return {col: self.value(cell) for col, cell in self.cells(row).items()}

    def sheet_rows(self, count: int | None = None) -> SheetRows:
        """The non-empty rows as values (the first `count` of them, or all)."""
        rows: list[tuple[int, tuple[object, ...]]] = []
        for number in sorted(self.rows):
            if count is not None and len(rows) >= count:
                break
            values = {c: v for c, v in self.row_values(number).items() if v not in (None, "")}
            if values:
                width = max(values)
                rows.append((number, tuple(values.get(c) for c in range(1, width + 1))))
        return SheetRows("", tuple(rows))

    def cell(self, number: int, column: int) -> etree._Element:
        """The cell element at (row, column), created in its place where it is missing."""
        row = self.rows.get(number)
        if row is None:
            row = etree.Element(q("row"), r=str(number))
            following = [n for n in self.rows if n > number]
            if following:
                self.rows[min(following)].addprevious(row)
            else:
                self.data.append(row)
            self.rows[number] = row
        cells = self.cells(row)
        if column in cells:
            return cells[column]
        cell = etree.Element(q("c"), r=f"{column_letters(column)}{number}")
        later = [c for c in cells if c > column]
        if later:
            cells[min(later)].addprevious(cell)
        else:
            row.append(cell)
        # A new data row looks like the one above it (its fonts, its date formats).
        above = self.rows.get(number - 1)
        if self.head is not None and number - 1 > self.head and above is not None:
            model = self.cells(above).get(column)
            if model is not None and model.get("s"):
                cell.set("s", model.get("s", "0"))
        return cell

    def write(self, number: int, column: int, value: object, kind: schema.Kind | None = None) -> None:
        """Set one cell to `value` as a constant: never a formula, text as an inline string."""
        cell = self.cell(number, column)
        formula = cell.find(q("f"))
        if formula is not None and formula.get("t") in ("shared", "array") and formula.get("ref"):
            raise self.package.unsupported(
                f"Zelle {cell.get('r')} in {self.part} trägt eine geteilte oder Matrixformel")
        for child in list(cell):
            cell.remove(child)
        cell.attrib.pop("t", None)
        cell.attrib.pop("cm", None)
        cell.attrib.pop("vm", None)
        if kind is schema.Kind.BOOL and isinstance(value, bool):
            value = "ja" if value else "nein"  # as the generator writes it and the dropdown offers it
        if value is None or value == "":
            self.changed()
            return
        code = None
        if isinstance(value, datetime):
            code = DATETIME_FORMAT
        elif isinstance(value, date):
            code = DATE_FORMAT
        elif isinstance(value, time):
            code = TIME_FORMAT
        if code is not None:
            assert isinstance(value, (date, time))
            style = self.workbook.styles.style_for(code, int(cell.get("s", "0")))
            cell.set("s", str(style))
            etree.SubElement(cell, q("v")).text = _number(excel_serial(value))
        elif isinstance(value, bool):
            cell.set("t", "b")
            etree.SubElement(cell, q("v")).text = "1" if value else "0"
        elif isinstance(value, (int, float)):
            etree.SubElement(cell, q("v")).text = _number(value)
        else:
            cell.set("t", "inlineStr")
            inline = etree.SubElement(cell, q("is"))
            t = etree.SubElement(inline, q("t"))
            t.text = _xml_safe(str(value))
            if t.text != t.text.strip() or "\n" in t.text:
                t.set(f"{{{XML_NS}}}space", "preserve")
        self.changed()

    def tables(self) -> list[tuple[etree._Element, str]]:
        """Each table of the sheet: (its XML root, its part name)."""
        parts = self.root.find(q("tableParts"))
        if parts is None:
            return []
        rels = {r.get("Id"): r for r in self.package.rels(self.part)}
        found = []
        for part in parts:
            rel = rels.get(part.get(f"{{{REL}}}id"))
            if rel is None:
                raise self.package.unsupported(f"Tabellenverweis ohne Ziel in {self.part}")
            name = self.package.target(self.part, rel)
            found.append((self.package.xml(name), name))
        return found

    def grow_table(self, head: int, last: int) -> None:
        """Extend the table whose header is row `head` so that rows down to `last` belong to it."""
        for table, part in self.tables():
            top, left, bottom, right = split_range(table.get("ref", "A1"))
            if top == head and last > bottom:
                ref = f"{column_letters(left)}{top}:{column_letters(right)}{last}"
                table.set("ref", ref)
                autofilter = table.find(q("autoFilter"))
                if autofilter is not None:
                    autofilter.set("ref", ref)
                self.package.touch(part)

    def update_dimension(self) -> None:
        dimension = self.root.find(q("dimension"))
        used = [(n, c) for n, row in self.rows.items() for c in self.cells(row)]
        if dimension is None or not used:
            return
        rows, columns = [n for n, _ in used], [c for _, c in used]
        dimension.set("ref", f"{column_letters(min(columns))}{min(rows)}:{column_letters(max(columns))}{max(rows)}")

    def header(self, sheet: schema.Sheet, needed=()) -> tuple[int, dict[str, int]]:
        """The header row and where each column is (attribute -> 1-based column), as the loader sees it."""
        top = self.sheet_rows(count=HEADER_SEARCH_ROWS)
        row, columns = header_to_write(SheetRows(sheet.name, top.rows), sheet, needed)
        self.head = row
        return row, columns


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml_safe(text: str) -> str:
    # Control characters cannot stand in XML 1.0; Excel writes them as _xHHHH_.
    return _CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text)


# ---------------------------------------------------------------- applying edits


def apply(data: bytes, edits: Edits, *, name: str = "Mappe") -> bytes:
    """The package `data` with `edits` applied; raises before anything is returned."""
    package = Package(data, name)
    workbook = Workbook(package)
    touched: set[str] = set()
    for op in edits.operations:
        if isinstance(op, ReplaceSheet):
            _replace_sheet(workbook, op)
        elif isinstance(op, UpsertRows):
            touched.add(_upsert(workbook, op))
        elif isinstance(op, SetCells):
            touched.add(_set_cells(workbook, op))
        else:  # pragma: no cover - a programming error
            raise TypeError(op)
    for sheet in workbook.sheet_objects.values():
        if sheet.part in package.changed:
            sheet.update_dimension()
    for part in workbook.sheets.values():
        package.xml(part)  # never write into a package with a damaged sheet
    if any(workbook.formulas_may_read(name) for name in touched):
        workbook.recalculate_on_load()
    return package.to_bytes()


def check(data: bytes, *, name: str = "Mappe") -> None:
    """Raise Unsupported where the patcher could not write into this package."""
    workbook = Workbook(Package(data, name))
    for sheet in (schema.VERSAND, schema.SITZUNGEN, schema.PRUEFUNG):
        found = workbook.find_sheet(sheet.name)
        if found is not None:
            workbook.sheet(found).tables()


def _open_sheet(workbook: Workbook, name: str) -> tuple[str, Sheet]:
    found = workbook.find_sheet(name)
    if found is None:
        found = name
        workbook.add_sheet(name)
        _fill_new_sheet(workbook, workbook.sheet(name), schema.SHEETS_BY_NAME[name], (), "", (),
                        styles=_header_style_elsewhere(workbook))
    return found, workbook.sheet(found)


def _set_cells(workbook: Workbook, op: SetCells) -> str:
    sheet = schema.SHEETS_BY_NAME[op.sheet]
    name, xml = _open_sheet(workbook, op.sheet)
    head, columns = xml.header(sheet, needed=[*op.key_attrs, *(attr for _, attr, _ in op.cells)])
    rows: dict[tuple[str, ...], list[int]] = {}
    for number in sorted(n for n in xml.rows if n > head):
        cells = xml.row_values(number)
        key = op.key_of(tuple(cells.get(columns[attr]) for attr in op.key_attrs))
        if any(key):
            rows.setdefault(key, []).append(number)
    targets = []
    for value_of_key, attr, value in op.cells:
        found = rows.get(op.key_of(value_of_key), [])
        if len(found) != 1:
            raise WorkbookNotWritable(_not_one_row(sheet, op, value_of_key, found))
        targets.append((found[0], columns[attr], value, sheet.column(attr).kind))
    for number, column, value, kind in targets:
        xml.write(number, column, value, kind)
    return name


def _not_one_row(sheet: schema.Sheet, op: SetCells, key: object, found: list[int]) -> str:
    """The German reason why a by-key write found no row, or more than one."""
    labels = " und ".join(f"„{sheet.column(a).header}“" for a in op.key_attrs)
    shown = " / ".join(op.key_of(key))
    if not found:
        return (f"Im Blatt „{sheet.name}“ gibt es keine Zeile mit {labels} = „{shown}“ mehr; es wird "
                "nichts hineingeschrieben.")
    return (f"Im Blatt „{sheet.name}“ steht {labels} = „{shown}“ in mehreren Zeilen "
            f"({', '.join(map(str, found))}); es wird nichts hineingeschrieben.")


def _upsert(workbook: Workbook, op: UpsertRows) -> str:
    sheet = schema.SHEETS_BY_NAME[op.sheet]
    name, xml = _open_sheet(workbook, op.sheet)
    head, columns = xml.header(sheet, needed=[op.key])
    key_col = columns[op.key]
    known = set(columns.values())
    existing: dict[str, int] = {}
    last = head
    for number in sorted(n for n in xml.rows if n > head):
        cells = xml.row_values(number)
        present = cells.get(key_col)
        if present not in (None, ""):
            existing[str(present).strip()] = number
        # New rows go below every row with content, keyed or not: a row the office typed
        # without a key must not be written over.
        if any(cells.get(c) not in (None, "") for c in known):
            last = number
    kinds = {c.key: c.kind for c in sheet.columns}
    for record in op.rows:
        key = str(record[op.key]).strip()
        found = existing.get(key)
        if found is None:
            last += 1
            found = existing[key] = last
        for attr, value in record.items():
            if attr in columns:
                xml.write(found, columns[attr], value, kinds.get(attr))
    xml.grow_table(head, last)
    return name


def _replace_sheet(workbook: Workbook, op: ReplaceSheet) -> None:
    """Rebuild a tool-owned sheet in its own part, keeping its place among the tabs."""
    sheet = schema.SHEETS_BY_NAME[op.sheet]
    found = workbook.find_sheet(op.sheet)
    styles: dict[str, str] = {}
    tables: list[tuple[etree._Element, str]] = []
    if found is None:
        workbook.add_sheet(op.sheet)
        found = op.sheet
    else:
        old = workbook.sheet(found)
        styles = _styles_of(old, sheet)
        tables = old.tables()
    part = workbook.sheets[found]
    root = etree.Element(q("worksheet"), nsmap={None: MAIN, "r": REL})
    workbook.package.add(part, root)
    workbook.sheet_objects.pop(found, None)
    # Only the table relationship survives; the sheet's other parts (if any) stay unreferenced.
    rels = workbook.package.rels(part)
    keep = {name for _, name in tables[:1]}
    for rel in list(rels):
        if rel.get("Type") != TABLE_REL or workbook.package.target(part, rel) not in keep:
            rels.remove(rel)
    workbook.package.touch(workbook.package.rels_part(part))
    if not styles:
        styles = _header_style_elsewhere(workbook)
    _fill_new_sheet(workbook, workbook.sheet(found), sheet, op.rows, op.title, op.links,
                    styles=styles, table=tables[0] if tables else None)


def _styles_of(old: Sheet, sheet: schema.Sheet) -> dict[str, str]:
    """The styles of a tool-owned sheet's title and header cells, to keep them when it is rebuilt."""
    styles = {}
    for number in sorted(old.rows)[:3]:
        cells = old.cells(old.rows[number])
        first = cells.get(1)
        if first is None or first.get("s") is None:
            continue
        if old.value(first) == sheet.columns[0].header:
            styles["header"] = first.get("s", "0")
            break
        styles["title"] = first.get("s", "0")
    return styles


def _header_style_elsewhere(workbook: Workbook) -> dict[str, str]:
    """The header style of another schema sheet (the generator gives them all one)."""
    for candidate in (schema.MITGLIEDER, schema.SITZUNGEN):
        name = workbook.find_sheet(candidate.name)
        if name is None:
            continue
        xml = workbook.sheet(name)
        for number in sorted(xml.rows)[:3]:
            first = xml.cells(xml.rows[number]).get(1)
            if first is not None and xml.value(first) == candidate.columns[0].header and first.get("s"):
                return {"header": first.get("s", "0")}
    return {}


def _fill_new_sheet(workbook: Workbook, xml: Sheet, sheet: schema.Sheet, rows, title: str, links, *,
                    styles: dict[str, str] | None = None,
                    table: tuple[etree._Element, str] | None = None) -> None:
    """Lay out an empty sheet part as the generator does: title, header, rows, an Excel table."""
    styles = styles or {}
    root = xml.root
    width = len(sheet.columns)
    head = 2 if title else 1
    last = head + max(len(rows), 1)
    views = etree.Element(q("sheetViews"))
    view = etree.SubElement(views, q("sheetView"), workbookViewId="0")
    etree.SubElement(view, q("pane"), ySplit=str(head), topLeftCell=f"A{head + 1}", activePane="bottomLeft",
                     state="frozen")
    _insert_in_order(root, views, _WORKSHEET_ORDER)
    cols = etree.Element(q("cols"))
    for index, column in enumerate(sheet.columns, start=1):
        etree.SubElement(cols, q("col"), min=str(index), max=str(index), width=str(column.width),
                         customWidth="1")
    _insert_in_order(root, cols, _WORKSHEET_ORDER)
    if title:
        xml.write(1, 1, title)
        xml.cell(1, 1).set("s", styles.get("title") or str(workbook.styles.title_style()))
    for index, column in enumerate(sheet.columns, start=1):
        xml.write(head, index, column.header)
        if "header" in styles:
            xml.cell(head, index).set("s", styles["header"])
    kinds = [c.kind for c in sheet.columns]
    for offset, values in enumerate(rows, start=1):
        for index, value in enumerate(values[:width], start=1):
            if value is not None:
                xml.write(head + offset, index, value, kinds[index - 1])
    hyperlinks = etree.Element(q("hyperlinks"))
    for offset, link in enumerate(links):
        if link is not None:
            target_sheet, row, column = link
            etree.SubElement(hyperlinks, q("hyperlink"), ref=f"A{head + 1 + offset}",
                             location=f"'{target_sheet}'!{column}{row}")
            xml.cell(head + 1 + offset, 1).set("s", str(workbook.styles.hyperlink_style()))
    if len(hyperlinks):
        _insert_in_order(root, hyperlinks, _WORKSHEET_ORDER)
    ref = f"A{head}:{column_letters(width)}{last}"
    package = workbook.package
    if table is None:
        table_part = package.free_name("xl/tables/table{}.xml")
        rel_id = package.add_rel(xml.part, TABLE_REL, table_part)
        package.add_override(table_part, TABLE_TYPE)
        ids = [int(package.xml(p).get("id", "0")) for p in workbook.table_parts()]
        table_root = _table_xml(sheet, ref, max(ids, default=0) + 1)
        package.add(table_part, table_root)
    else:
        old, table_part = table
        rel_id = next(r.get("Id") for r in package.rels(xml.part) if package.target(xml.part, r) == table_part)
        table_root = _table_xml(sheet, ref, int(old.get("id", "1")))
        package.add(table_part, table_root)
    margins = etree.Element(q("pageMargins"), left="0.7", right="0.7", top="0.75", bottom="0.75",
                            header="0.3", footer="0.3")
    _insert_in_order(root, margins, _WORKSHEET_ORDER)
    # Printed, the sheet fits the page width in landscape, as the generator's sheets do.
    setup = etree.Element(q("pageSetup"), paperSize="9", orientation="landscape", fitToHeight="0")
    _insert_in_order(root, setup, _WORKSHEET_ORDER)
    properties = etree.Element(q("sheetPr"))
    etree.SubElement(properties, q("pageSetUpPr"), fitToPage="1")
    _insert_in_order(root, properties, _WORKSHEET_ORDER)
    parts = etree.Element(q("tableParts"), count="1")
    etree.SubElement(parts, q("tablePart"), {f"{{{REL}}}id": str(rel_id)})
    _insert_in_order(root, parts, _WORKSHEET_ORDER)
    dimension = etree.Element(q("dimension"), ref="A1")
    _insert_in_order(root, dimension, _WORKSHEET_ORDER)
    workbook.set_print_titles(next(n for n, p in workbook.sheets.items() if p == xml.part), head)
    xml.changed()


def _table_xml(sheet: schema.Sheet, ref: str, table_id: int) -> etree._Element:
    table = etree.Element(q("table"), nsmap={None: MAIN},
                          id=str(table_id), name=sheet.table, displayName=sheet.table, ref=ref)
    etree.SubElement(table, q("autoFilter"), ref=ref)
    columns = etree.SubElement(table, q("tableColumns"), count=str(len(sheet.columns)))
    for index, column in enumerate(sheet.columns, start=1):
        etree.SubElement(columns, q("tableColumn"), id=str(index), name=column.header)
    etree.SubElement(table, q("tableStyleInfo"), name=TABLE_STYLE, showFirstColumn="0", showLastColumn="0",
                     showRowStripes="1", showColumnStripes="0")
    return table

