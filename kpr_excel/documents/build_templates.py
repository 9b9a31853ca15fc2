"""Build the Word templates (docxtpl) from python-docx code, byte for byte reproducibly.

Run `python -m kpr_excel.documents.build_templates` after changing this module: it rewrites
`kpr_excel/documents/templates/*.docx`, the one source of truth that ships with the package
(`templates/` at the repository root only points there). The office may edit a copy in Word
(`kpr vorlagen anlegen`); an edited template is used as it is.

The placeholders are German, because the office sees them in Word; `context.py` fills them.
Jinja tags follow docxtpl: `{%p ...%}` repeats or hides a paragraph, `{%tr ...%}` a table
row, `{%tc ...%}` a table cell.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from kpr_excel.documents.output import TEMPLATE_DIR

if TYPE_CHECKING:
    from docx.document import Document as DocumentObject  # what docx.Document() returns

FONT = "Arial"  # DIN 5008 letters; Liberation Sans is metric-compatible where Arial is missing
DARK = RGBColor(0x1F, 0x2A, 0x44)
GREY = RGBColor(0x55, 0x55, 0x55)
# Fixed stamps keep two builds byte-identical.
_BUILT = datetime(2026, 1, 1, tzinfo=timezone.utc)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------------------
# Small helpers over python-docx
# --------------------------------------------------------------------------------------


def _new_document(title: str) -> DocumentObject:
    doc = Document()
    _german_arial_styles(doc)
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin, section.right_margin = Cm(2.5), Cm(2.0)
    section.top_margin, section.bottom_margin = Cm(2.7), Cm(2.0)
    section.header_distance, section.footer_distance = Cm(1.0), Cm(1.0)
    props = doc.core_properties
    props.title = title
    props.author = "kpr-excel"
    props.last_modified_by = "kpr-excel"
    props.comments = "Vorlage für kpr-excel (docxtpl). Platzhalter in doppelten geschweiften Klammern nicht umbenennen."
    props.language = "de-DE"
    props.created = props.modified = _BUILT
    props.revision = 1
    return doc


def _german_arial_styles(doc) -> None:
    """Arial and German spelling everywhere, theme fonts removed (they would win over Arial)."""
    styles = doc.styles.element
    for fonts in styles.iter(qn("w:rFonts")):
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)
        for attr in ("w:ascii", "w:hAnsi", "w:cs"):
            fonts.set(qn(attr), FONT)
    for lang in styles.iter(qn("w:lang")):
        lang.set(qn("w:val"), "de-DE")
    normal = doc.styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(11)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    for name, size, before, after in (("Title", 18, 0, 6), ("Heading 1", 13, 14, 4),
                                      ("Heading 2", 11, 10, 2), ("Heading 3", 11, 8, 2)):
        style = doc.styles[name]
        style.font.name, style.font.size, style.font.bold = FONT, Pt(size), True
        style.font.color.rgb = DARK
        style.font.italic = False
        style.paragraph_format.space_before, style.paragraph_format.space_after = Pt(before), Pt(after)
    title = doc.styles["Title"].element
    for border in title.findall(".//" + qn("w:pBdr")):
        border.getparent().remove(border)
    for style_name in ("List Bullet", "Caption"):
        doc.styles[style_name].font.name = FONT


def _para(container, text: str = "", *, bold=False, italic=False, size=None, color=None,
          align=None, style=None, after=None, before=None, keep_next=False):
    paragraph = container.add_paragraph(style=style)
    if text:
        _run(paragraph, text, bold=bold, italic=italic, size=size, color=color)
    fmt = paragraph.paragraph_format
    if align is not None:
        paragraph.alignment = align
    if after is not None:
        fmt.space_after = Pt(after)
    if before is not None:
        fmt.space_before = Pt(before)
    if keep_next:
        fmt.keep_with_next = True
    return paragraph


def _run(paragraph, text: str, *, bold=False, italic=False, size=None, color=None):
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    if size:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = color
    return run


def _tag(container, tag: str) -> None:
    """A paragraph holding only a docxtpl paragraph tag; docxtpl removes it when rendering."""
    container.add_paragraph(tag)


def _table(doc, widths_cm, *, grid=False, header=None, size=None):
    table = doc.add_table(rows=0, cols=len(widths_cm))
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    if grid:
        table.style = doc.styles["Table Grid"]
    for col, width in zip(table.columns, widths_cm):
        col.width = Cm(width)
    table._widths, table._size = widths_cm, size  # used by _row
    if header:
        cells = _row(table, header)
        for cell in cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.bold = True
            _shade(cell, "D9E2F3")
        _repeat_header(table.rows[-1])
    return table


def _row(table, texts):
    """A row with one text per cell (None leaves a cell empty); returns the cells."""
    cells = table.add_row().cells
    for cell, width, text in zip(cells, table._widths, texts):
        cell.width = Cm(width)
        if text:
            _run(cell.paragraphs[0], text, size=table._size)
    return cells


def _tag_row(table, tag: str) -> None:
    """A table row holding only a docxtpl row tag (`{%tr ... %}`)."""
    _row(table, [tag] + [None] * (len(table._widths) - 1))


def _shade(cell, fill: str) -> None:
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)


def _repeat_header(row) -> None:
    header = OxmlElement("w:tblHeader")
    row._tr.get_or_add_trPr().append(header)


def _field(paragraph, instruction: str, placeholder: str = "1") -> None:
    """A Word field such as PAGE; Word and LibreOffice fill it in."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = placeholder
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _page_footer(section) -> None:
    footer = section.footer
    paragraph = footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(paragraph, "Seite ", size=8, color=GREY)
    _field(paragraph, "PAGE")
    _run(paragraph, " von ", size=8, color=GREY)
    _field(paragraph, "NUMPAGES")
    for run in paragraph._p.iter(qn("w:r")):
        props = run.find(qn("w:rPr"))
        if props is None:
            run.insert(0, _small_grey_rpr())


def _small_grey_rpr():
    props = OxmlElement("w:rPr")
    color = OxmlElement("w:color")
    color.set(qn("w:val"), "555555")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "16")
    props.append(color)
    props.append(size)
    return props


def _running_header(section, text: str) -> None:
    paragraph = section.header.paragraphs[0]
    _run(paragraph, text, size=8, color=GREY)


def _save_reproducibly(doc, path: Path) -> Path:
    """Save with fixed zip timestamps so that the same code builds the same bytes."""
    buffer = io.BytesIO()
    doc.save(buffer)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            target.writestr(fixed, source.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())
    return path


# --------------------------------------------------------------------------------------
# Shared parts
# --------------------------------------------------------------------------------------

CONFIDENTIALITY = (
    "{%p if vertraulichkeitsvermerk %}",
    "{{ vertraulichkeitsvermerk }}",
    "{%p endif %}",
)


def _confidentiality(doc) -> None:
    _tag(doc, CONFIDENTIALITY[0])
    paragraph = _para(doc, CONFIDENTIALITY[1], bold=True, before=8, after=8)
    _border_box(paragraph)
    _tag(doc, CONFIDENTIALITY[2])


def _border_box(paragraph) -> None:
    borders = OxmlElement("w:pBdr")
    for side in ("top", "left", "bottom", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "6")
        edge.set(qn("w:space"), "4")
        edge.set(qn("w:color"), "1F2A44")
        borders.append(edge)
    paragraph._p.get_or_add_pPr().append(borders)


def _letterhead(section) -> None:
    """First-page letterhead: city, council, office, right-aligned (DIN 5008 header zone)."""
    section.different_first_page_header_footer = True
    header = section.first_page_header
    first = header.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _run(first, "{{ stadt }}", bold=True, size=14, color=DARK)
    _para(header, "{{ gremium }}", size=12, color=DARK, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _para(header, "{{ geschaeftsstelle }}", size=9, color=GREY, align=WD_ALIGN_PARAGRAPH.RIGHT)
    _page_footer(section)
    footer = section.first_page_footer
    _run(footer.paragraphs[0], "{{ geschaeftsstelle }} · {{ anschrift_einzeilig }} · Telefon {{ telefon }}",
         size=7, color=GREY)


def _signature_row(doc, loop: str, lines) -> None:
    """One table cell per signatory, side by side (docxtpl `{%tc %}` repeats the middle cell)."""
    table = _table(doc, (8.0, 8.0, 0.5))
    cells = _row(table, (f"{{%tc for u in {loop} %}}", None, "{%tc endfor %}"))
    middle = cells[1]
    middle.paragraphs[0].add_run(lines[0])
    for line in lines[1:]:
        _para(middle, line, size=9)


# --------------------------------------------------------------------------------------
# Einladung
# --------------------------------------------------------------------------------------


def build_einladung() -> DocumentObject:
    doc = _new_document("Einladung")
    section = doc.sections[0]
    section.top_margin = Cm(4.5)  # DIN 5008 form B: the address field starts 45 mm from the top
    _letterhead(section)
    _running_header(section, "{{ gremium }} · Einladung zur {{ sitzung.bezeichnung }} am {{ sitzung.datum }}")

    # Address field (85 mm) and information block (from 125 mm), DIN 5008 form B
    block = _table(doc, (8.5, 1.5, 6.5))
    address, _, info = _row(block, (None, None, None))
    _run(address.paragraphs[0], "{{ geschaeftsstelle }} · {{ anschrift_einzeilig }}", size=7, color=GREY)
    _para(address, "", size=7)
    _tag(address, "{%p for zeile in empfaenger %}")
    _para(address, "{{ zeile }}")
    _tag(address, "{%p endfor %}")
    _run(info.paragraphs[0], "{{ geschaeftsstelle }}", bold=True, size=9)
    _tag(info, "{%p for zeile in anschrift %}")
    _para(info, "{{ zeile }}", size=9)
    _tag(info, "{%p endfor %}")
    _para(info, "Telefon: {{ telefon }}", size=9, before=6)
    _para(info, "E-Mail: {{ email }}", size=9)
    _para(info, "Datum: {{ datum }}", size=9, before=6)

    _para(doc, "", after=24)
    _para(doc, "Einladung zur {{ sitzung.titel }} am {{ sitzung.datum_lang }}",
          bold=True, after=18)
    _para(doc, "{{ anrede }}", after=10)
    _para(doc, "hiermit laden wir Sie herzlich zur {{ sitzung.titel }} ein."
               "{% if gast %} Sie sind als Gast zu den unten genannten Tagesordnungspunkten eingeladen."
               "{% endif %}", after=10)

    when = _table(doc, (2.5, 14.0))
    _row(when, ("Termin:", "{{ sitzung.datum_lang }}, {{ sitzung.zeit }}"))
    _row(when, ("Ort:", "{{ sitzung.ort }}"))
    _row(when, ("Sitzung:", "{{ sitzung.oeffentlichkeit }}"))
    _para(doc, "", after=6)

    _para(doc, "Tagesordnung", bold=True, after=4, keep_next=True)
    agenda = _table(doc, (1.3, 9.7, 5.5), grid=True, header=("TOP", "Gegenstand", "Vortragende"), size=10)
    _tag_row(agenda, "{%tr for top in tagesordnung %}")
    _, subject, _ = _row(agenda, ("{{ top.nr }}", None, "{{ top.vortragende }}"))
    _run(subject.paragraphs[0], "{{ top.titel }}", size=10)
    _run(subject.paragraphs[0], "{% if top.vertraulich %} – vertraulich{% endif %}", bold=True, size=10)
    _run(subject.paragraphs[0], "{% if top.gaeste %} (Gäste: {{ top.gaeste }}){% endif %}", italic=True, size=9)
    _tag_row(agenda, "{%tr endfor %}")
    _confidentiality(doc)

    _tag(doc, "{%p if unterlagen %}")
    _para(doc, "Unterlagen", bold=True, before=10, after=2, keep_next=True)
    _tag(doc, "{%p endif %}")
    _tag(doc, "{%p for u in unterlagen %}")
    _para(doc, "{{ u }}", style="List Bullet")
    _tag(doc, "{%p endfor %}")

    _para(doc, "Bitte teilen Sie der {{ geschaeftsstelle }} bis zum {{ rueckmeldung_bis }} mit, ob Sie "
               "an der Sitzung teilnehmen{% if not gast %} oder wer Sie vertritt{% endif %}.", before=10)
    _para(doc, "Mit freundlichen Grüßen", before=10, after=30, keep_next=True)
    _signature_row(doc, "unterzeichnende", ("{{ u.name }}", "{{ u.funktion }}", "{{ u.rolle }}"))
    return doc


# --------------------------------------------------------------------------------------
# Niederschrift
# --------------------------------------------------------------------------------------


def build_niederschrift() -> DocumentObject:
    doc = _new_document("Niederschrift")
    section = doc.sections[0]
    _running_header(section, "{{ stadt }} · {{ gremium }} · Niederschrift vom {{ sitzung.datum }}"
                             "{% if entwurf %} · ENTWURF{% endif %}")
    _page_footer(section)

    _tag(doc, "{%p if entwurf %}")
    _para(doc, "ENTWURF – vor der Sitzung aus der Mappe vorbereitet, noch nicht abgestimmt",
          bold=True, color=RGBColor(0xC0, 0x00, 0x00), after=8)
    _tag(doc, "{%p endif %}")
    _para(doc, "Niederschrift", style="Title")
    _para(doc, "über die {{ sitzung.titel }}", size=12, after=10)

    data = _table(doc, (4.0, 12.5))
    for label, value in (("Datum", "{{ sitzung.datum_lang }}"), ("Zeit", "{{ sitzung.zeit }}"),
                         ("Ort", "{{ sitzung.ort }}"), ("Sitzungsleitung", "{{ sitzung.leitung }}"),
                         ("Protokoll", "{{ sitzung.protokoll }}"), ("Öffentlichkeit", "{{ sitzung.oeffentlichkeit }}")):
        cells = _row(data, (label + ":", value))
        cells[0].paragraphs[0].runs[0].bold = True
    _confidentiality(doc)

    _para(doc, "Anwesenheit", style="Heading 1")
    _tag(doc, "{%p if not anwesenheit_erfasst %}")
    _para(doc, "Eingeladen (die Anwesenheit wird in der Sitzung ergänzt):", bold=True, after=2)
    _tag(doc, "{%p for p in eingeladen %}")
    _para(doc, "{{ p }}", style="List Bullet")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endif %}")
    for key, label in (("anwesend", "Anwesend"), ("vertreten", "Vertreten"),
                       ("entschuldigt", "Entschuldigt"), ("abwesend", "Nicht anwesend"),
                       ("gaeste", "Gäste")):
        _tag(doc, f"{{%p if {key} %}}")
        _para(doc, f"{label} ({{{{ {key}|length }}}}):", bold=True, before=6, after=2, keep_next=True)
        _tag(doc, "{%p endif %}")
        _tag(doc, f"{{%p for p in {key} %}}")
        _para(doc, "{{ p }}", style="List Bullet")
        _tag(doc, "{%p endfor %}")

    _para(doc, "Tagesordnung und Ergebnisse", style="Heading 1")
    _tag(doc, "{%p for top in tagesordnung %}")
    heading = _para(doc, "TOP {{ top.nr }}: {{ top.titel }}", style="Heading 2")
    _run(heading, "{% if top.vertraulich %} – vertraulich{% endif %}")
    _tag(doc, "{%p if top.vortragende %}")
    _para(doc, "Vortragende: {{ top.vortragende }}", italic=True, after=2)
    _tag(doc, "{%p endif %}")
    paragraph = _para(doc, "Ergebnis: ", bold=True, after=2)
    _run(paragraph, "{% if top.ergebnis %}{{ top.ergebnis }}{% else %}…{% endif %}")
    _tag(doc, "{%p for b in top.beschluesse %}")
    paragraph = _para(doc, "Beschluss: ", bold=True, style="List Bullet")
    _run(paragraph, "{{ b.text }}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p for a in top.aufgaben %}")
    paragraph = _para(doc, "Aufgabe: ", bold=True, style="List Bullet")
    _run(paragraph, "{{ a.text }} – verantwortlich: {{ a.verantwortlich }}"
                    "{% if a.faellig %}, fällig am {{ a.faellig }}{% endif %}")
    _tag(doc, "{%p endfor %}")
    _tag(doc, "{%p endfor %}")

    _tag(doc, "{%p if aufgaben %}")  # hides the heading and the whole table below
    _para(doc, "Aufgaben im Überblick", style="Heading 1")
    tasks = _table(doc, (1.1, 7.4, 3.4, 2.3, 2.3), grid=True,
                   header=("TOP", "Aufgabe", "Verantwortlich", "Fällig am", "Stand"), size=9)
    _tag_row(tasks, "{%tr for a in aufgaben %}")
    _row(tasks, ("{{ a.top }}", "{{ a.text }}", "{{ a.verantwortlich }}", "{{ a.faellig }}", "{{ a.stand }}"))
    _tag_row(tasks, "{%tr endfor %}")
    _tag(doc, "{%p endif %}")

    _para(doc, "", after=48, keep_next=True)
    signatures = _table(doc, (7.5, 1.5, 7.5))
    left, _, right = _row(signatures, ("_______________________________", None, "_______________________________"))
    _para(left, "{{ sitzung.leitung }}")
    _para(left, "Sitzungsleitung (Datum, Unterschrift)", size=9)
    _para(right, "{{ sitzung.protokoll }}")
    _para(right, "Protokoll (Datum, Unterschrift)", size=9)

    _para(doc, "Verteiler", style="Heading 1")
    _tag(doc, "{%p for v in verteiler %}")
    _para(doc, "{{ v }}", style="List Bullet")
    _tag(doc, "{%p endfor %}")
    return doc


# --------------------------------------------------------------------------------------
# Jahresbericht
# --------------------------------------------------------------------------------------


def build_jahresbericht() -> DocumentObject:
    doc = _new_document("Jahresbericht")
    section = doc.sections[0]
    _running_header(section, "{{ stadt }} · {{ gremium }} · Präventions- und Tätigkeitsbericht {{ jahr }}")
    _page_footer(section)

    _para(doc, "{{ stadt }}", bold=True, size=12, color=DARK)
    _para(doc, "{{ gremium }}", size=12, color=DARK, after=30)
    _para(doc, "Präventions- und Tätigkeitsbericht {{ jahr }}", style="Title")
    _para(doc, "Bericht der {{ geschaeftsstelle }} nach § 5 der Geschäftsordnung über die Arbeitsschwerpunkte "
               "des Jahres {{ jahr }}, die initiierten Projekte und die getroffenen Maßnahmen.", after=4)
    _para(doc, "Stand: {{ datum }}", italic=True, after=10)

    _para(doc, "1 Sitzungen des Kommunalen Präventionsrates", style="Heading 1")
    _para(doc, "{{ sitzungen|length }} Sitzungen, davon {{ sitzungen_durchgefuehrt }} durchgeführt.", after=4)
    sessions = _table(doc, (1.0, 2.4, 7.6, 2.8, 2.7), grid=True,
                      header=("Nr.", "Datum", "Schwerpunkte", "Status", "Teilnahme"), size=10)
    _tag_row(sessions, "{%tr for s in sitzungen %}")
    _row(sessions, ("{{ s.nr }}", "{{ s.datum }}", "{{ s.schwerpunkte }}", "{{ s.status }}", "{{ s.teilnahme }}"))
    _tag_row(sessions, "{%tr endfor %}")
    _tag(doc, "{%p if diagramm %}")
    _para(doc, "{{ diagramm }}", align=WD_ALIGN_PARAGRAPH.CENTER, before=10)
    _para(doc, "Abbildung 1: Teilnahme der Mitglieder je Sitzung {{ jahr }}", style="Caption",
          align=WD_ALIGN_PARAGRAPH.CENTER)
    _tag(doc, "{%p endif %}")

    _para(doc, "2 Jour fixe Prävention", style="Heading 1")
    _para(doc, "Der Jour fixe bereitet die Sitzungen vor und legt die inhaltlichen Schwerpunkte fest (§ 4).", after=4)
    jour_fixe = _table(doc, (2.4, 11.3, 2.8), grid=True, header=("Datum", "Schwerpunkte", "Status"), size=10)
    _tag_row(jour_fixe, "{%tr for s in jour_fixe %}")
    _row(jour_fixe, ("{{ s.datum }}", "{{ s.schwerpunkte }}", "{{ s.status }}"))
    _tag_row(jour_fixe, "{%tr endfor %}")

    _para(doc, "3 Arbeitsgruppen", style="Heading 1")
    _tag(doc, "{%p for ag in arbeitsgruppen %}")
    _para(doc, "{{ ag.thema }}", style="Heading 2")
    _para(doc, "{{ ag.eckdaten }}", italic=True, after=4)
    for key, label in (("zustand", "Zustandsbeschreibung"), ("empfehlungen", "Handlungsempfehlungen"),
                       ("ziele", "Messbare Ziele")):
        paragraph = _para(doc, f"{label}: ", bold=True, after=4)
        _run(paragraph, f"{{% if ag.{key} %}}{{{{ ag.{key} }}}}{{% else %}}noch nicht erarbeitet{{% endif %}}")
    _tag(doc, "{%p endfor %}")

    _para(doc, "4 Initiierte Projekte und Maßnahmen", style="Heading 1")
    projects = _table(doc, (4.2, 3.8, 6.0, 2.5), grid=True, header=("Projekt", "Träger", "Beschreibung", "Stand"),
                      size=9)
    _tag_row(projects, "{%tr for p in projekte %}")
    _row(projects, ("{{ p.titel }}", "{{ p.traeger }}", "{{ p.beschreibung }}", "{{ p.stand }}"))
    _tag_row(projects, "{%tr endfor %}")

    _para(doc, "5 Beschlüsse und Aufgaben", style="Heading 1")
    decisions = _table(doc, (2.6, 1.9, 6.2, 3.0, 2.8), grid=True,
                       header=("Sitzung", "Art", "Inhalt", "Verantwortlich", "Fällig / Stand"), size=9)
    _tag_row(decisions, "{%tr for b in beschluesse %}")
    _row(decisions, ("{{ b.sitzung }}", "{{ b.art }}", "{{ b.text }}", "{{ b.verantwortlich }}", "{{ b.stand }}"))
    _tag_row(decisions, "{%tr endfor %}")

    _para(doc, "6 Teilnahme je Institution", style="Heading 1")
    _para(doc, "Sitzungen des KPR {{ jahr }}, an denen die Institution selbst oder vertreten teilnahm.", after=4)
    attendance = _table(doc, (12.0, 4.5), grid=True, header=("Institution", "Teilnahme"), size=10)
    _tag_row(attendance, "{%tr for t in teilnahme %}")
    _row(attendance, ("{{ t.institution }}", "{{ t.teilnahme }}"))
    _tag_row(attendance, "{%tr endfor %}")
    return doc


BUILDERS = {
    "Einladung": build_einladung,
    "Niederschrift": build_niederschrift,
    "Jahresbericht": build_jahresbericht,
}


def build_all(folder: Path = TEMPLATE_DIR) -> list[Path]:
    """Write every template into `folder`; returns the files written."""
    return [_save_reproducibly(build(), Path(folder) / f"{name}.docx") for name, build in BUILDERS.items()]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else TEMPLATE_DIR
    for path in build_all(folder):
        print(f"Vorlage geschrieben: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
