"""Reading documents back as text: from the .docx itself and from LibreOffice's PDF."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path


def docx_text(path: Path) -> str:
    """All paragraph text of a .docx (body, tables, headers, footers) as one string, one paragraph a line."""
    from docx import Document

    document = Document(path)
    parts = [document.element.body]
    for section in document.sections:
        parts += [section.header._element, section.first_page_header._element]
    return "\n".join("".join(t.text or "" for t in p.iter("{*}t")) for part in parts for p in part.iter("{*}p"))


def pdf_text(path: Path) -> str:
    """`pdftotext -layout` of a PDF."""
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def flat(text: str) -> str:
    """Whitespace collapsed, so that checks do not depend on where a line wraps."""
    return " ".join(text.split())


def normalized(text: str) -> str:
    """The layout text for golden files: runs of spaces collapsed, no trailing or blank lines."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.replace("\f", "\n").splitlines())
    return "\n".join(line for line in lines if line) + "\n"
