"""`kpr vorlagen pruefen`: does a (possibly edited) template fit what the tool fills in?

Three questions per template: does it use a placeholder the tool does not provide (a typo
would otherwise fail at the worst moment), does it lack one the rules need (the § 8 notice,
the draft mark, ...), and can it be filled with the demo's data at all.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from kpr_excel.book.layout import SheetRows
from kpr_excel.documents import context
from kpr_excel.documents.output import TEMPLATE_DIR
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
    render_docx,
)
from kpr_excel.domain import schema
from kpr_excel.domain.findings import FAMILY_TEMPLATES, Code, Finding, Severity
from kpr_excel.domain.model import Model

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


def check_template(path: Path, name: str, samples: list[dict]) -> list[Finding]:
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    provided = set().union(*(s.keys() for s in samples))
    try:
        used = DocxTemplate(path).get_undeclared_template_variables(jinja_env())
    except TemplateError as exc:
        return [_finding("VORLAGE-3", Severity.FEHLER, describe_template_error(path, exc))]
    except Exception as exc:  # not a Word file, damaged zip, ...
        return [_finding("VORLAGE-3", Severity.FEHLER,
                         f"Die Vorlage {path.name} kann nicht gelesen werden ({type(exc).__name__}).")]
    findings = [
        _finding("VORLAGE-1", Severity.FEHLER,
                 f"Die Vorlage {path.name} verwendet den Platzhalter {{{{ {unknown} }}}}, den das Werkzeug "
                 f"nicht liefert (Tippfehler?). Verfügbar: {', '.join(sorted(provided))}.")
        for unknown in sorted(used - provided)
    ]
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


def check_templates(folder: Path | None = None) -> list[Finding]:
    """Check the templates in `folder` (default: the ones shipped with the tool)."""
    folder = Path(folder) if folder else TEMPLATE_DIR
    if not folder.is_dir():
        return [_finding("VORLAGE-4", Severity.FEHLER, f"Den Ordner {folder} gibt es nicht.")]
    samples = sample_contexts(sample_model())
    findings = []
    present = [n for n in TEMPLATE_NAMES if (folder / f"{n}.docx").is_file()]
    if not present:
        return [_finding("VORLAGE-4", Severity.FEHLER,
                         f"Im Ordner {folder} liegt keine der Vorlagen "
                         f"{', '.join(n + '.docx' for n in TEMPLATE_NAMES)}.")]
    for name in TEMPLATE_NAMES:
        if name not in present:
            findings.append(_finding("VORLAGE-4", Severity.HINWEIS,
                                     f"{name}.docx fehlt in {folder}; dafür wird die mitgelieferte Vorlage "
                                     "verwendet."))
            continue
        findings.extend(check_template(folder / f"{name}.docx", name, samples[name]))
    return findings
