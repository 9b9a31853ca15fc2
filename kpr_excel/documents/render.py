"""Filling a template: docxtpl with autoescape and a strict undefined, and the yearly chart."""

from __future__ import annotations

import io
from pathlib import Path

from jinja2 import Environment, StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError

from ..errors import KprError


class TemplateProblem(KprError):
    """A template cannot be filled: broken Jinja syntax or a placeholder the tool does not know."""


def jinja_env() -> Environment:
    """Autoescape keeps &, < and > from breaking the XML; StrictUndefined makes a typo fail loudly."""
    return Environment(autoescape=True, undefined=StrictUndefined)


def render_docx(template: Path, context: dict) -> bytes:
    """The filled document as bytes; a `diagramm` entry given as PNG bytes becomes a picture."""
    from docx.shared import Cm
    from docxtpl import DocxTemplate, InlineImage

    try:
        document = DocxTemplate(template)
        document.init_docx()
    except Exception as exc:  # a damaged or non-Word file: python-docx raises many kinds
        raise TemplateProblem(f"Die Vorlage {template.name} kann nicht geöffnet werden "
                              f"({type(exc).__name__}). Ist sie eine Word-Datei (.docx)?") from None
    values = dict(context)
    if isinstance(values.get("diagramm"), bytes):
        values["diagramm"] = InlineImage(document, io.BytesIO(values["diagramm"]), width=Cm(15.5))
    try:
        document.render(values, jinja_env(), autoescape=True)
    except TemplateError as exc:
        raise TemplateProblem(describe_template_error(template, exc)) from None
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def describe_template_error(template: Path, exc: TemplateError) -> str:
    """A German sentence for the office, with the text around the faulty spot."""
    if isinstance(exc, UndefinedError):
        what = f"verwendet einen Platzhalter, den das Werkzeug nicht liefert ({exc.message})"
    elif isinstance(exc, TemplateSyntaxError):
        what = f"hat einen Fehler in einem {{{{ … }}}}- oder {{% … %}}-Ausdruck ({exc.message})"
    else:
        what = f"kann nicht ausgefüllt werden ({exc})"
    near = " ".join(line.strip() for line in getattr(exc, "docx_context", ()) if line.strip())
    return f"Die Vorlage {template.name} {what}." + (f" Stelle: „{near[:200]}“" if near else "")


def attendance_chart(sessions: list[dict], year: int) -> bytes | None:
    """Stacked bars of present, deputised and absent members per held session, as PNG."""
    rows = [s for s in sessions if s["teilnahme"]]
    if not rows:
        return None
    # Agg only, without pyplot: no GUI backend, no global state, imported where it is needed.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.3, 2.9), dpi=150)
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    labels = [f"{s['nr']}. Sitzung\n{s['datum']}" if s["nr"] else s["datum"] for s in rows]
    bottom = [0] * len(rows)
    for key, label, color in (("anwesend", "anwesend", "#1F4E79"), ("vertreten", "vertreten", "#6FA8DC"),
                              ("entschuldigt", "entschuldigt", "#BFBFBF"), ("abwesend", "nicht anwesend", "#E6B8AF")):
        heights = [s[key] for s in rows]
        axes.bar(labels, heights, bottom=bottom, color=color, label=label, width=0.6)
        bottom = [b + h for b, h in zip(bottom, heights)]
    axes.set_ylabel("Mitglieder")
    axes.set_title(f"Teilnahme je Sitzung {year}", fontsize=10)
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
