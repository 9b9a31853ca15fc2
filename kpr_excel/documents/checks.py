"""`kpr vorlagen pruefen`: does a (possibly edited) template fit what the tool fills in?

Four questions per template (the Word templates and the mail texts ``Mail_*.txt``): does it use a
placeholder or a field the tool does not provide (a typo would otherwise fail at the worst
moment), does it reach into Python objects (``__class__``, ``.items()``: templates are files the
office edits, and may be copied from anywhere), does it lack one the rules need (the § 8
notice, the draft mark, ...), and can it be filled with the demo's data at all.

The field check reads the template's Jinja syntax tree: each ``a.b.c`` is followed through the
shape of the values the tool really passes (the demo's contexts for the Word templates,
`MAIL_FIELDS` for the mail texts). Jinja has no such check of its own; `meta` only names the
top-level variables. It is a check for the office's benefit; the sandbox in `render` is what
keeps a template from running code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

from jinja2 import nodes

from kpr_excel.book.layout import SheetRows
from kpr_excel.documents import context, kinds
from kpr_excel.documents.output import TEMPLATE_DIR, TEMPLATE_FOLDER
from kpr_excel.documents.produce import (
    EINLADUNG,
    JAHRESBERICHT,
    NIEDERSCHRIFT,
    TEMPLATE_NAMES,
    demo_choice,
)
from kpr_excel.documents.render import (
    TemplateProblem,
    attendance_chart,
    describe_template_error,
    jinja_env,
    mail_text_env,
    render_docx,
)
from kpr_excel.domain import schema
from kpr_excel.domain.findings import FAMILY_TEMPLATES, Code, Finding, Severity
from kpr_excel.domain.model import AgendaItem, Model

SAMPLE_DAY = date(2026, 11, 29)  # a reference date at which the demo has every kind of document

# Placeholders a template must use, and why (German, shown to the office).
REQUIRED: dict[str, dict[str, str]] = {
    EINLADUNG: {
        "sitzung": "Datum, Zeit und Ort der Sitzung",
        "tagesordnung": "die Tagesordnung",
        "vertraulichkeitsvermerk": "den Vertraulichkeitsvermerk nach § 8 (GO-8.2)",
        "unterzeichnende": "die Vorsitzenden als Unterzeichnende (§ 3)",
        "rueckmeldung_bis": "die Bitte um Rückmeldung bis zu einem Datum",
    },
    NIEDERSCHRIFT: {
        "sitzung": "die Sitzungsdaten mit Sitzungsleitung und Protokoll",
        "tagesordnung": "die Ergebnisse je Tagesordnungspunkt",
        "vertraulichkeitsvermerk": "den Vertraulichkeitsvermerk nach § 8 (GO-8.2)",
        "entwurf": "den Vermerk ENTWURF für die vorab erstellte Fassung",
        "anwesend": "die Anwesenheit",
        "vertreten": "die Vertretungen",
        "entschuldigt": "die Entschuldigten",
        "verteiler": "den Verteiler",
    },
    JAHRESBERICHT: {
        "jahr": "das Berichtsjahr",
        "sitzungen": "die Sitzungen mit Schwerpunkten (§ 5)",
        "arbeitsgruppen": "die Arbeitsgruppen",
        "projekte": "die initiierten Projekte und Maßnahmen (§ 5)",
        "diagramm": "das Diagramm",
    },
}

_F, _H = Severity.FEHLER, Severity.HINWEIS
CODES: tuple[Code, ...] = (
    Code("VORLAGE-1", "platzhalter-unbekannt", (_F,),
         "Eine Vorlage nennt einen Platzhalter, den das Werkzeug nicht kennt (Tippfehler?).", FAMILY_TEMPLATES),
    Code("VORLAGE-2", "platzhalter-fehlt", (_F,),
         "Einer Vorlage fehlt ein Platzhalter, ohne den das Dokument unvollständig wäre.", FAMILY_TEMPLATES),
    Code("VORLAGE-3", "vorlage-fehlerhaft", (_F,),
         "Eine Vorlage lässt sich nicht lesen oder nicht ausfüllen (beschädigt, fehlerhafte Anweisung).",
         FAMILY_TEMPLATES),
    Code("VORLAGE-4", "vorlage-fehlt", (_F, _H),
         "Der Vorlagenordner oder eine Vorlage darin fehlt; fehlt nur eine, gilt die mitgelieferte.",
         FAMILY_TEMPLATES),
    Code("VORLAGE-5", "zugriff-unerlaubt", (_F,),
         "Eine Vorlage greift auf interne Teile von Python zu (__class__, Methoden wie .items()); "
         "beim Ausfüllen wird das verweigert.", FAMILY_TEMPLATES),
)
_CODES_BY_NAME = {c.code: c for c in CODES}


def _finding(code: str, severity: Severity, message: str) -> Finding:
    return _CODES_BY_NAME[code].finding(message, severity=severity)


def sample_model(stichtag: date = SAMPLE_DAY) -> Model:
    """The demo's model, straight from its rows (no workbook file needed)."""
    from kpr_excel.book.demo import demo_data
    from kpr_excel.book.loader import load_book

    data = demo_data(stichtag)
    book = {}
    for sheet in schema.SHEETS:
        rows: list[tuple[int, tuple[object, ...]]] = [(1, tuple(c.header for c in sheet.columns))]
        rows += [(number, tuple(row.get(c.key) for c in sheet.columns))
                 for number, row in enumerate(data.get(sheet.name, ()), start=2)]
        book[sheet.name] = SheetRows(sheet.name, tuple(rows))
    return load_book(book).model


def sample_contexts(model: Model, stichtag: date = SAMPLE_DAY) -> dict[str, list[dict]]:
    """Every variant a template must take: members' and guest's invitation, draft and final minutes."""
    choice = demo_choice(model, stichtag)
    upcoming, held = choice.next_session, choice.last_held
    assert upcoming is not None and held is not None  # the demo has both
    report = context.yearly_report_context(model, choice.year, today=stichtag)
    report["diagramm"] = attendance_chart(report["sitzungen"], choice.year)
    return {
        EINLADUNG: [context.invitation_context(model, upcoming, today=stichtag),
                    context.invitation_context(model, upcoming, today=stichtag, guest=choice.guest)],
        NIEDERSCHRIFT: [context.minutes_context(model, upcoming, today=stichtag, draft=True),
                        context.minutes_context(model, held, today=stichtag, draft=False)],
        JAHRESBERICHT: [report],
    }


# -- the shape of what a template may read ---------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Shape:
    """What a template may read from a value: named fields (a record), elements (a list), or nothing.

    ``open``: not known (an empty list in every sample, a value the template made itself); any
    field name is accepted, only the Python internals (names starting with ``_``) are not.
    """

    fields: Mapping[str, Shape] | None = None
    item: Shape | None = None
    open: bool = False
    refused: bool = False  # reached through a refused access: reported once, not again further down


SCALAR = Shape()
OPEN = Shape(open=True)
_REFUSED = Shape(open=True, refused=True)
_LOOP = Shape(fields=dict.fromkeys(("index", "index0", "revindex", "revindex0", "first", "last", "length",
                                    "previtem", "nextitem", "depth", "depth0", "cycle", "changed"), SCALAR))


def merge(a: Shape, b: Shape) -> Shape:
    """The shape that accepts what either accepts (one sample's value may be empty, another's not)."""
    if a.open or (a == SCALAR and b != SCALAR):
        return b
    if b.open or b == SCALAR:
        return a
    fields = None
    if a.fields is not None or b.fields is not None:
        keys = dict.fromkeys([*(a.fields or {}), *(b.fields or {})])
        fields = {k: merge((a.fields or {}).get(k, OPEN), (b.fields or {}).get(k, OPEN)) for k in keys}
    item = merge(a.item or OPEN, b.item or OPEN) if a.item is not None or b.item is not None else None
    return Shape(fields=fields, item=item)


def shape_of(value: object) -> Shape:
    """The shape of a context value as the tool passes it (dicts, lists, records, scalars)."""
    if isinstance(value, Mapping):
        return Shape(fields={str(k): shape_of(v) for k, v in value.items()})
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return Shape(fields={f.name: shape_of(getattr(value, f.name)) for f in dataclasses.fields(value)
                             if f.name != "src"})
    if isinstance(value, (list, tuple)):
        item = OPEN
        for element in value:
            item = shape_of(element) if item is OPEN else merge(item, shape_of(element))
        return Shape(item=item)
    return OPEN if value is None else SCALAR


def record_shape(record: type) -> Shape:
    """The fields of a domain record a template may read (all but its cell location)."""
    return Shape(fields={f.name: SCALAR for f in dataclasses.fields(record) if f.name != "src"})


#: What `sending.dispatch.mail_text` passes to a mail text (a test keeps the two in step).
MAIL_FIELDS: dict[str, Shape] = {
    "anrede": SCALAR,
    "sitzung": Shape(fields=dict.fromkeys(("bezeichnung", "datum_lang", "zeit", "ort"), SCALAR)),
    "gast": SCALAR,
    "punkte": Shape(item=record_shape(AgendaItem)),
    "vertretung_fuer": SCALAR,
    "rueckmeldung_bis": SCALAR,
    "vertraulich": SCALAR,
    "absender": Shape(fields=dict.fromkeys(("name", "stadt", "telefon"), SCALAR)),
}

# Filters whose `attribute=` names a field of each element, and what they give back.
_ATTRIBUTE_FILTERS = {"map", "selectattr", "rejectattr", "sort", "groupby", "sum", "unique", "min", "max"}
_SAME_FILTERS = {"sort", "selectattr", "rejectattr", "select", "reject", "unique", "reverse", "list",
                 "default", "d", "batch", "slice"}
_ELEMENT_FILTERS = {"first", "last", "random", "min", "max"}


def _dotted(node: nodes.Node) -> str:
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return f"{_dotted(node.node)}.{node.attr}"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        return f"{_dotted(node.node)}[{node.arg.value!r}]"
    if isinstance(node, nodes.Filter) and node.node is not None:
        return f"{_dotted(node.node)}|{node.name}"
    return "…"


class _FieldReader:
    """Walks a template's syntax tree and collects every field it reads that the shape does not have.

    ``unsafe``: names starting with ``_`` and attributes of plain values (methods such as
    ``.items()`` or ``.upper()``; filters do that job in a template); ``unknown``: a field the
    tool does not fill.
    """

    def __init__(self) -> None:
        self.unsafe: dict[str, None] = {}
        self.unknown: dict[str, None] = {}

    def field(self, base: Shape, name: str, path: str) -> Shape:
        if base.refused:
            return base
        if name.startswith("_"):
            self.unsafe[path] = None
        elif base.open:
            return OPEN
        elif base.fields is not None:
            if name in base.fields:
                return base.fields[name]
            self.unknown[path] = None
        else:
            self.unsafe[path] = None
        return _REFUSED

    def expr(self, node: nodes.Node, scope: dict[str, Shape]) -> Shape:
        if isinstance(node, nodes.Name):
            return scope.get(node.name, OPEN)
        if isinstance(node, nodes.Getattr):
            return self.field(self.expr(node.node, scope), node.attr, _dotted(node))
        if isinstance(node, nodes.Getitem):
            base = self.expr(node.node, scope)
            if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                return self.field(base, node.arg.value, _dotted(node))
            self.expr(node.arg, scope)
            return base.item or OPEN
        if isinstance(node, nodes.Filter):
            return self.filter(node, scope)
        if isinstance(node, nodes.CondExpr):
            self.expr(node.test, scope)
            return merge(self.expr(node.expr1, scope),
                         self.expr(node.expr2, scope) if node.expr2 is not None else OPEN)
        if isinstance(node, (nodes.List, nodes.Tuple)):
            item = OPEN
            for element in node.items:
                item = merge(item, self.expr(element, scope))
            return Shape(item=item)
        for child in node.iter_child_nodes():
            self.expr(child, scope)
        return SCALAR if isinstance(node, (nodes.Const, nodes.BinExpr, nodes.Compare, nodes.Concat,
                                           nodes.Not, nodes.Test)) else OPEN

    def filter(self, node: nodes.Filter, scope: dict[str, Shape]) -> Shape:
        base = self.expr(node.node, scope) if node.node is not None else OPEN
        for arg in (*node.args, *(kw.value for kw in node.kwargs)):
            self.expr(arg, scope)
        element = base.item or OPEN
        attribute = next((kw.value.value for kw in node.kwargs if kw.key == "attribute"
                          and isinstance(kw.value, nodes.Const) and isinstance(kw.value.value, str)), None)
        if attribute is None and node.name in ("groupby", "sum", "sort", "unique") and node.args \
                and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str):
            attribute = node.args[0].value  # groupby("x") names the field without the keyword
        target = element
        if node.name in _ATTRIBUTE_FILTERS and attribute is not None:
            path = f"{_dotted(node.node) if node.node is not None else '…'}|{node.name}(attribute={attribute!r})"
            for part in str(attribute).split("."):
                target = self.field(target, part, path)
        if node.name == "map":
            return Shape(item=target if attribute is not None else OPEN)
        if node.name in _SAME_FILTERS:
            return base
        if node.name in _ELEMENT_FILTERS:
            return element
        return SCALAR if node.name in ("length", "count", "join", "string", "e", "escape", "upper", "lower",
                                       "title", "trim", "capitalize", "replace", "int", "float", "round",
                                       "truncate", "wordcount", "format", "indent", "center") else OPEN

    def statements(self, body: list[nodes.Node], scope: dict[str, Shape]) -> None:
        for node in body:
            self.statement(node, scope)

    def statement(self, node: nodes.Node, scope: dict[str, Shape]) -> None:
        if isinstance(node, nodes.For):
            item = self.expr(node.iter, scope).item or OPEN
            inner = {**scope, "loop": _LOOP}
            for target in _names(node.target):
                inner[target] = item if isinstance(node.target, nodes.Name) else OPEN
            if node.test is not None:
                self.expr(node.test, inner)
            self.statements(node.body, inner)
            self.statements(node.else_, scope)
        elif isinstance(node, nodes.Assign):
            value = self.expr(node.node, scope)
            for target in _names(node.target):
                scope[target] = value if isinstance(node.target, nodes.Name) else OPEN
        elif isinstance(node, (nodes.Macro, nodes.CallBlock, nodes.FilterBlock, nodes.With, nodes.AssignBlock)):
            # Names the block binds (macro arguments, {% with %} targets) are the template's own: open.
            inner = dict(scope)
            inner.update((n.name, OPEN) for n in node.find_all(nodes.Name) if n.ctx in ("store", "param"))
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Name) and child.ctx in ("store", "param"):
                    continue
                if isinstance(child, nodes.Expr):
                    self.expr(child, inner)
                else:
                    self.statement(child, inner)
        else:
            for child in node.iter_child_nodes():
                if isinstance(child, nodes.Expr):
                    self.expr(child, scope)
                else:
                    self.statement(child, scope)


def _names(target: nodes.Node) -> Iterator[str]:
    if isinstance(target, nodes.Name):
        yield target.name
    elif isinstance(target, (nodes.Tuple, nodes.List)):
        for item in target.items:
            yield from _names(item)


def read_fields(ast: nodes.Template, fields: Mapping[str, Shape]) -> _FieldReader:
    """The unsafe and unknown field reads of a parsed template, given what the context holds."""
    reader = _FieldReader()
    reader.statements(ast.body, dict(fields))
    return reader


def _field_findings(label: str, reader: _FieldReader) -> list[Finding]:
    findings = [
        _finding("VORLAGE-5", Severity.FEHLER,
                 f"Die {label} greift mit {{{{ {path} }}}} auf interne Teile von Python zu; das ist in "
                 "Vorlagen nicht erlaubt und wird beim Ausfüllen verweigert (für Umformungen gibt es Filter, "
                 "z. B. {{ text|upper }}).")
        for path in reader.unsafe
    ]
    findings += [
        _finding("VORLAGE-1", Severity.FEHLER,
                 f"Die {label} verwendet den Platzhalter {{{{ {path} }}}}, den das Werkzeug nicht "
                 "liefert (Tippfehler?).")
        for path in reader.unknown
    ]
    return findings


# -- the Word templates -------------------------------------------------------------------------


def _docx_source(path: Path) -> str:
    """The Jinja text of a Word template as docxtpl sees it (body, headers, footers)."""
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate

    template = DocxTemplate(path)
    document = template.get_docx()
    xml = template.patch_xml(template.xml_to_string(document._element.body))
    for rel in document.part.rels.values():
        if rel.reltype in (template.HEADER_URI, template.FOOTER_URI) and rel.target_part.blob:
            xml += template.patch_xml(template.xml_to_string(parse_xml(rel.target_part.blob)))
    return xml


def check_template(path: Path, name: str, samples: list[dict]) -> list[Finding]:
    from jinja2 import TemplateError, meta

    provided = set().union(*(s.keys() for s in samples))
    env = jinja_env()
    try:
        ast = env.parse(_docx_source(path))
    except TemplateError as exc:
        return [_finding("VORLAGE-3", Severity.FEHLER, describe_template_error(path, exc))]
    except Exception as exc:  # not a Word file, damaged zip, ...
        return [_finding("VORLAGE-3", Severity.FEHLER,
                         f"Die Vorlage {path.name} kann nicht gelesen werden ({type(exc).__name__}).")]
    used = meta.find_undeclared_variables(ast)
    findings = [
        _finding("VORLAGE-1", Severity.FEHLER,
                 f"Die Vorlage {path.name} verwendet den Platzhalter {{{{ {unknown} }}}}, den das Werkzeug "
                 f"nicht liefert (Tippfehler?). Verfügbar: {', '.join(sorted(provided))}.")
        for unknown in sorted(used - provided)
    ]
    shape = OPEN
    for values in samples:
        shape = shape_of(values) if shape is OPEN else merge(shape, shape_of(values))
    findings += _field_findings(f"Vorlage {path.name}", read_fields(ast, dict(shape.fields or {})))
    findings += [
        _finding("VORLAGE-2", Severity.FEHLER,
                 f"Der Vorlage {path.name} fehlt der Platzhalter {{{{ {missing} }}}} für {why}.")
        for missing, why in REQUIRED[name].items() if missing not in used
    ]
    if not findings:
        try:
            for values in samples:
                render_docx(path, values)
        except TemplateProblem as exc:
            findings.append(_finding("VORLAGE-3", Severity.FEHLER,
                                     f"Probedruck mit den Demodaten gescheitert: {exc}"))
    return findings


# -- the mail texts ---------------------------------------------------------------------------------

# Placeholders a mail text must use, and why (German, shown to the office).
REQUIRED_MAIL: dict[str, str] = {
    "sitzung": "die Sitzung (Bezeichnung und Datum)",
    "vertraulich": "den Hinweis auf die Verschwiegenheit nach § 8 (GO-8.2)",
}


def mail_sample(model: Model, stichtag: date = SAMPLE_DAY) -> dict:
    """Values of the shape `MAIL_FIELDS` for a trial fill, from the demo's next session."""
    session = demo_choice(model, stichtag).next_session
    assert session is not None  # the demo has one
    return dict(
        anrede="Sehr geehrte Frau Beispiel,",
        sitzung=dict(bezeichnung="Sitzung des Kommunalen Präventionsrats", datum_lang="Freitag, 12. März 2027",
                     zeit="16:00 bis 18:00 Uhr", ort=session.place),
        gast=False, punkte=list(model.agenda_of(session.id)), vertretung_fuer="",
        rueckmeldung_bis="01.03.2027", vertraulich=True,
        absender=dict(name="Geschäftsstelle", stadt="Dresden", telefon="0351 000"),
    )


def check_mail_text(path: Path, sample: dict) -> list[Finding]:
    """Findings for one mail text: syntax, unknown or unsafe fields, the § 8 notice, a trial fill."""
    from jinja2 import TemplateError, TemplateSyntaxError, meta

    label = path.name
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [_finding("VORLAGE-3", Severity.FEHLER,
                         f"Die E-Mail-Vorlage {label} kann nicht gelesen werden ({type(exc).__name__}); "
                         "sie muss eine Textdatei in UTF-8 sein.")]
    env = mail_text_env()
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        return [_finding("VORLAGE-3", Severity.FEHLER,
                         f"Die E-Mail-Vorlage {label} hat in Zeile {exc.lineno} einen Fehler in einem "
                         f"{{{{ … }}}}- oder {{% … %}}-Ausdruck ({exc.message}).")]
    used = meta.find_undeclared_variables(ast)
    findings = [
        _finding("VORLAGE-1", Severity.FEHLER,
                 f"Die E-Mail-Vorlage {label} verwendet den Platzhalter {{{{ {unknown} }}}}, den das Werkzeug "
                 f"nicht liefert (Tippfehler?). Verfügbar: {', '.join(MAIL_FIELDS)}.")
        for unknown in sorted(used - set(MAIL_FIELDS))
    ]
    findings += _field_findings(f"E-Mail-Vorlage {label}", read_fields(ast, MAIL_FIELDS))
    findings += [
        _finding("VORLAGE-2", Severity.FEHLER,
                 f"Der E-Mail-Vorlage {label} fehlt der Platzhalter {{{{ {missing} }}}} für {why}.")
        for missing, why in REQUIRED_MAIL.items() if missing not in used
    ]
    if not source.startswith("Betreff:"):
        findings.append(_finding("VORLAGE-3", Severity.FEHLER,
                                 f"Die E-Mail-Vorlage {label} muss mit „Betreff: …“ beginnen."))
    if not findings:
        try:
            env.from_string(source).render(**sample)
        except TemplateError as exc:
            findings.append(_finding("VORLAGE-3", Severity.FEHLER,
                                     f"Probedruck der E-Mail-Vorlage {label} mit den Demodaten gescheitert: "
                                     f"{exc}"))
    return findings


def mail_texts(folder: Path) -> list[Path]:
    """The mail texts to check in `folder`: the office's ``Mail_*.txt``; the shipped ones for the default."""
    names = [kind.office_mail_text for kind in kinds.KINDS.values() if kind.mail_text]
    if folder == TEMPLATE_DIR:
        return [kind.default_mail_text for kind in kinds.KINDS.values() if kind.mail_text]
    return [folder / name for name in names if (folder / name).is_file()]


def check_templates(folder: Path | None = None) -> list[Finding]:
    """Check the Word templates and mail texts in `folder` (default: the ones shipped with the tool).

    The folder is the workbook's ``Vorlagen`` (or any folder with the same files): Word templates
    ``Einladung.docx`` …, mail texts ``Mail_Einladung.txt`` … A mail text the folder does not have
    is the shipped one and not checked again.
    """
    folder = Path(folder) if folder else TEMPLATE_DIR
    if not folder.is_dir():
        return [_finding("VORLAGE-4", Severity.FEHLER, f"Den Ordner {folder} gibt es nicht.")]
    present = [n for n in TEMPLATE_NAMES if (folder / f"{n}.docx").is_file()]
    texts = mail_texts(folder)
    if not present and not texts:
        return [_finding("VORLAGE-4", Severity.FEHLER,
                         f"Im Ordner {folder} liegt keine der Vorlagen "
                         f"{', '.join(n + '.docx' for n in TEMPLATE_NAMES)} und keine E-Mail-Vorlage "
                         f"Mail_….txt (der Ordner „{TEMPLATE_FOLDER}“ neben der Mappe).")]
    model = sample_model()
    samples = sample_contexts(model)
    findings = []
    for name in TEMPLATE_NAMES:
        if name not in present:
            findings.append(_finding("VORLAGE-4", Severity.HINWEIS,
                                     f"{name}.docx fehlt in {folder}; dafür wird die mitgelieferte Vorlage "
                                     "verwendet."))
            continue
        findings.extend(check_template(folder / f"{name}.docx", name, samples[name]))
    if texts:
        sample = mail_sample(model)
        for path in texts:
            findings.extend(check_mail_text(path, sample))
    return findings
