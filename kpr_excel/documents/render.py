"""Filling a template: the one Jinja environment for Word templates and mail texts, and the yearly chart.

Templates are files the office edits (``Vorlagen/Einladung.docx``, ``Vorlagen/Mail_Einladung.txt``),
so they are untrusted code: they render in Jinja's immutable sandbox, which refuses attributes
starting with ``_`` (``cycler.__init__.__globals__`` ...), calls of unsafe callables and changes to
lists and dicts, and with no globals but ``range`` (``cycler``, ``joiner``, ``lipsum`` and
``namespace`` are not needed by any template).
"""

from __future__ import annotations

import io
from pathlib import Path

from jinja2 import (
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from kpr_excel.domain.errors import KprError


class TemplateProblem(KprError):
    """A template cannot be filled: broken Jinja syntax or a placeholder the tool does not know."""


class UnsafeTemplate(SecurityError, KprError):
    """A template reached into Python internals or called something it may not; the message is German."""


class _OfficeSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox whose refusals are German `UnsafeTemplate` errors (a `KprError`).

    Jinja's own ``SecurityError`` is English and not a `KprError`, so a mail text that tried it
    would end in "Interner Fehler"; this one ends in a sentence naming what was refused.
    """

    def unsafe_undefined(self, obj, attribute):
        return self.undefined(
            f"Eine Vorlage greift auf „{attribute}“ eines Werts vom Typ {type(obj).__name__} zu; "
            "Zugriffe auf interne Teile von Python sind in Vorlagen nicht erlaubt.",
            name=attribute, obj=obj, exc=UnsafeTemplate)

    def call(__self, __context, __obj, *args, **kwargs):
        if not __self.is_safe_callable(__obj):
            raise UnsafeTemplate("Eine Vorlage ruft eine Funktion auf, die in Vorlagen nicht erlaubt ist.")
        return __context.call(__obj, *args, **kwargs)


def _sandbox(**options) -> ImmutableSandboxedEnvironment:
    env = _OfficeSandbox(undefined=StrictUndefined, **options)
    env.globals = {"range": env.globals["range"]}
    return env


def jinja_env() -> ImmutableSandboxedEnvironment:
    """For Word templates: autoescape keeps &, < and > from breaking the XML; StrictUndefined makes a
    typo fail loudly; the sandbox keeps the template from running code."""
    return _sandbox(autoescape=True)


def mail_text_env() -> ImmutableSandboxedEnvironment:
    """For mail texts (plain text, no escaping): the same sandbox and strictness as the Word templates."""
    return _sandbox(autoescape=False, keep_trailing_newline=True)


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
    if isinstance(exc, SecurityError):
        what = f"wurde angehalten: {str(exc).rstrip('.')}"
    elif isinstance(exc, UndefinedError):
        what = f"verwendet einen Platzhalter, den das Werkzeug nicht liefert ({exc.message})"
    elif isinstance(exc, TemplateSyntaxError):
        what = f"hat einen Fehler in einem {{{{ … }}}}- oder {{% … %}}-Ausdruck ({exc.message})"
    else:
        what = f"kann nicht ausgefüllt werden ({exc})"
    near = " ".join(line.strip() for line in getattr(exc, "docx_context", ()) if line.strip())
    return f"Die Vorlage {template.name} {what}." + (f" Stelle: „{near[:200]}“" if near else "")


_CHART_SERIES = (("anwesend", "anwesend", "#1F4E79"), ("vertreten", "vertreten", "#6FA8DC"),
                 ("entschuldigt", "entschuldigt", "#BFBFBF"), ("abwesend", "nicht anwesend", "#E6B8AF"))
# Arial on the city's Windows machines; the metric-compatible Liberation Sans on Linux.
_CHART_FONTS = ("arial.ttf", "LiberationSans-Regular.ttf", "DejaVuSans.ttf")


def _chart_font(size: int):
    from PIL import ImageFont

    for name in _CHART_FONTS:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def attendance_chart(sessions: list[dict], year: int) -> bytes | None:
    """Stacked bars of present, deputised and absent members per held session, as PNG.

    Drawn with Pillow rather than matplotlib: xlwings imports matplotlib on every button
    click whenever it is installed, which would cost each click about 0.3 s.
    """
    rows = [s for s in sessions if s["teilnahme"]]
    if not rows:
        return None
    from PIL import Image, ImageDraw

    width, height = 1800, 820
    left, right, top, bottom = 150, 420, 140, 190
    font, small, title_font = _chart_font(30), _chart_font(26), _chart_font(36)
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((width // 2 - 120, 30), f"Teilnahme je Sitzung {year}", fill="black", font=title_font, anchor="mt")
    totals = [sum(s[key] for key, _, _ in _CHART_SERIES) for s in rows]
    scale_max = max(5, -(-max(totals) // 5) * 5)  # round up to a multiple of five
    plot_h = height - top - bottom
    y_of = lambda value: height - bottom - plot_h * value / scale_max  # noqa: E731
    for tick in range(0, scale_max + 1, max(1, scale_max // 5)):
        y = y_of(tick)
        draw.line((left, y, width - right, y), fill="#E0E0E0", width=2)
        draw.text((left - 16, y), str(tick), fill="black", font=small, anchor="rm")
    draw.line((left, top, left, height - bottom), fill="black", width=2)
    draw.line((left, height - bottom, width - right, height - bottom), fill="black", width=2)
    draw.text((left, top - 30), "Mitglieder", fill="black", font=small, anchor="mb")
    slot = (width - right - left) / len(rows)
    bar = slot * 0.6
    for index, session in enumerate(rows):
        x0 = left + slot * index + (slot - bar) / 2
        base = 0
        for key, _, color in _CHART_SERIES:
            if session[key]:
                draw.rectangle((x0, y_of(base + session[key]), x0 + bar, y_of(base)), fill=color)
            base += session[key]
        label = f"{session['nr']}. Sitzung" if session["nr"] else ""
        draw.text((x0 + bar / 2, height - bottom + 20), label, fill="black", font=small, anchor="mt")
        draw.text((x0 + bar / 2, height - bottom + 60), session["datum"], fill="black", font=small, anchor="mt")
    for index, (_, label, color) in enumerate(_CHART_SERIES):
        y = top + index * 50
        draw.rectangle((width - right + 40, y, width - right + 80, y + 34), fill=color)
        draw.text((width - right + 95, y + 17), label, fill="black", font=font, anchor="lm")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
