"""One record per document kind: its template, file name, mail text, recipients, calendar entry.

The home of every document kind the tool makes (opengever's meeting commands are the
model): a kind added later is one record here plus its context builder and template. The
words "Einladung", "Niederschrift", "Jahresbericht" are `schema.DocumentKind` members; what
the tool does with each of them is said here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kpr_excel.domain.model import Session
from kpr_excel.domain.schema import DocumentKind

#: The mail texts shipped with the tool (``Einladung.txt``); the office's own copy
#: ``Vorlagen/Mail_Einladung.txt`` beside the workbook wins over it.
TEXTS_DIR = Path(__file__).resolve().parent / "texts"


@dataclass(frozen=True)
class DocumentType:
    kind: DocumentKind
    template: str  # file stem of the Word template, shipped and in Vorlagen/ ("Einladung" -> Einladung.docx)
    mail_text: str | None  # file stem of the mail text in TEXTS_DIR; None: not sent by mail
    guests: bool = False  # topic guests get a version of their own, never with a confidential item (§ 8)
    calendar: bool = False  # the message carries the session as a calendar entry
    per_session: bool = True  # named after a session (2027-03-12_KPR_Einladung.docx), else after a year

    @property
    def office_mail_text(self) -> str:
        """The file name of the office's own mail text in Vorlagen/."""
        return f"Mail_{self.mail_text or self.template}.txt"

    @property
    def default_mail_text(self) -> Path:
        return TEXTS_DIR / f"{self.mail_text or self.template}.txt"

    def file_stem(self, session: Session, *, draft: bool = False) -> str:
        """The document's name without date prefix and suffix ("Niederschrift_Entwurf")."""
        return f"{self.template}_Entwurf" if draft else self.template

    def label(self, *, draft: bool = False) -> str:
        """What it is called in messages to the office."""
        return f"{self.kind} (Entwurf)" if draft else str(self.kind)


INVITATION = DocumentType(DocumentKind.INVITATION, "Einladung", "Einladung", guests=True, calendar=True)
MINUTES = DocumentType(DocumentKind.MINUTES, "Niederschrift", "Niederschrift")
REPORT = DocumentType(DocumentKind.REPORT, "Jahresbericht", None, per_session=False)

KINDS: dict[DocumentKind, DocumentType] = {t.kind: t for t in (INVITATION, MINUTES, REPORT)}
SENT_BY_MAIL = tuple(t.kind for t in KINDS.values() if t.mail_text)


def kind(document: DocumentKind | str) -> DocumentType:
    """The record of `document` ("Einladung" or DocumentKind.INVITATION)."""
    return KINDS[DocumentKind(document)]
