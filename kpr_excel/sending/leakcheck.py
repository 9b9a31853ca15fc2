"""§ 8, the last line: no message to an outsider carries the title of a confidential item.

Who may see what is decided once (`domain.audience`) and the documents are bound to the
workbook (`documents.fingerprint`). This module looks at what really leaves: every message
whose To, Cc or Bcc holds an address that is not only an insider's (an outsider, a shared
mailbox, an address typed by hand) is read whole, subject, body and the text of every
attachment (.docx, .ics, text, PDF read with pypdf), and searched for the titles of the session's
confidential items and the names of their documents. A hit, or an attachment that cannot be
read, blocks that message; the others go on.

It works as a wrapper around the transport (`guard`), so that it holds however the messages
are built and handed over.
"""

from __future__ import annotations

import io
import logging
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from email.message import EmailMessage

from kpr_excel.domain.audience import insider_addresses
from kpr_excel.domain.model import Model, Session
from kpr_excel.mail.base import OnSent, Transport, TransportError, addresses, message_id

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def normalise(text: str) -> str:
    """Case, spacing, soft hyphens and compatibility forms (ligatures, decomposed umlauts) as a
    reader would ignore them."""
    text = unicodedata.normalize("NFKC", text).replace("\xad", "").replace("\u200b", "")
    return " ".join(text.split()).casefold()


def secrets_of(model: Model, session: Session) -> tuple[tuple[str, str], ...]:
    """(what to look for, German label) for each confidential item of `session`: title, documents."""
    found = []
    for item in model.agenda_of(session.id):
        if not item.confidential:
            continue
        label = f"Titel des vertraulichen TOP {item.number}"
        if item.title.strip():
            found.append((item.title, label))
        found += [(doc, f"Unterlage „{doc}“ des vertraulichen TOP {item.number}") for doc in item.document_list]
    return tuple(found)


def _docx_text(data: bytes) -> list[str]:
    """The text of every XML part: per Word paragraph (runs joined), and each part whole."""
    from lxml import etree

    texts = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in archive.namelist():
            if not name.endswith((".xml", ".rels")):
                continue
            root = etree.fromstring(archive.read(name), parser=etree.XMLParser(resolve_entities=False))
            texts += ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in root.iter(f"{_W}p")]
            texts.append("".join(t.text or "" for t in root.iter(f"{_W}t")))
            texts.append(" ".join(root.itertext()))
    return texts


def _ics_text(data: bytes) -> str:
    """An iCalendar file unfolded and unescaped (RFC 5545 3.1, 3.3.11)."""
    text = re.sub(r"\r?\n[ \t]", "", data.decode("utf-8", errors="replace"))
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], text)


_HYPHEN_BREAK = re.compile(r"(?<=\w)[-\u2010\xad][ \t]*\r?\n\s*(?=\w)")


def _pdf_text(data: bytes) -> list[str] | None:
    """The text of a PDF read with pypdf (pure Python, so also on Windows without poppler);
    None where it cannot be read whole (then it blocks).

    pypdf is imported here, not at the top, so that start-up and `kpr pruefen` do not pay
    for it. It reads strictly: a damaged or truncated file raises instead of giving part of
    the text. An encrypted file, one with files embedded in it, or one without any text at
    all (a scan) cannot be checked and gives None. Besides the page text, the metadata,
    bookmarks, annotations and form fields are read, as a PDF viewer shows them.

    pypdf keeps the hyphen where LibreOffice breaks a word at a (soft) hyphen at the end of a
    line ("Straßenbahn-\\nhaltestelle"); the page text is therefore also given with such
    breaks joined, once without and once with the hyphen, so that a title matches either way.
    """
    try:
        from pypdf import PdfReader

        # pypdf reports oddities in English through `logging`, which would reach the console;
        # what counts is whether the file was read, and that is said in German below.
        logging.getLogger("pypdf").setLevel(logging.ERROR)
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted or reader.attachments:
            return None
        pages = "\n".join(page.extract_text() for page in reader.pages)
        metadata = reader.metadata
        extra = [str(metadata[key]) for key in metadata] if metadata else []  # [] resolves indirect objects
        extra += _outline_titles(reader.outline)
        for page in reader.pages:
            for annotation in page.annotations or ():
                annotation = annotation.get_object()
                extra += [str(annotation[key]) for key in ("/Contents", "/T", "/TU") if key in annotation]
        extra += [str(field.get("/V", "")) for field in (reader.get_fields() or {}).values()]
    except Exception:  # whatever pypdf raises on a damaged file: it was not read, so it blocks (fail closed)
        return None
    if not any(c.isalnum() for c in pages):
        return None
    return [pages, _HYPHEN_BREAK.sub("", pages), _HYPHEN_BREAK.sub("-", pages), *extra]


def _outline_titles(outline: list) -> list[str]:
    """The titles of a PDF's bookmarks, nested lists included."""
    titles: list[str] = []
    for entry in outline:
        if isinstance(entry, list):
            titles += _outline_titles(entry)
        else:
            titles.append(str(getattr(entry, "title", "") or ""))
    return titles


def attachment_text(name: str, content_type: str, data: bytes) -> list[str] | None:
    """The readable text of one attachment, or None where it cannot be read (fail closed)."""
    lower = name.lower()
    try:
        if lower.endswith(".docx") or content_type.endswith("wordprocessingml.document"):
            return _docx_text(data)
        if lower.endswith(".ics") or content_type == "text/calendar":
            return [_ics_text(data)]
        if lower.endswith(".pdf") or content_type == "application/pdf":
            return _pdf_text(data)
        if content_type.startswith("text/"):
            return [data.decode("utf-8", errors="replace")]
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    return None


def _parts(message: EmailMessage) -> Iterable[tuple[str, list[str] | None]]:
    """(where, texts) of the subject, the body and each attachment."""
    yield "im Betreff", [str(message.get("Subject", ""))]
    attached = list(message.iter_attachments())
    for part in message.walk():
        if part.is_multipart() or part in attached:
            continue
        if part.get_content_type().startswith("text/") and part.get_content_disposition() != "attachment":
            yield "im Text der E-Mail", [str(part.get_content())]
    for part in attached:
        name = part.get_filename() or "Anhang"
        data = part.get_payload(decode=True)
        yield f"im Anhang {name}", attachment_text(name, part.get_content_type(),
                                                  data if isinstance(data, bytes) else b"")


def leaks(message: EmailMessage, secrets: Sequence[tuple[str, str]], insiders: frozenset[str]) -> list[str]:
    """German reasons why `message` must not go out; empty where it may."""
    people = [addr for header in ("To", "Cc", "Bcc") for _, addr in addresses(message, header)]
    if not people or all(addr.strip().casefold() in insiders for addr in people) or not secrets:
        return []
    patterns = [(re.compile(r"(?<!\w)" + re.escape(normalise(text)) + r"(?!\w)"), text, label)
                for text, label in secrets if normalise(text)]
    found = []
    for where, texts in _parts(message):
        if texts is None:
            found.append(f"{where} kann nicht gelesen und daher nicht geprüft werden")
            continue
        flat = [normalise(t) for t in texts]
        for pattern, text, label in patterns:
            if any(pattern.search(t) for t in flat):
                found.append(f"„{text}“ ({label}) steht {where}")
    return list(dict.fromkeys(found))


class LeakGuard(Transport):
    """A transport that hands on only messages that pass `leaks`; the others fail with the reason."""

    def __init__(self, inner: Transport, secrets: Sequence[tuple[str, str]], insiders: frozenset[str]) -> None:
        super().__init__()
        self.inner, self.secrets, self.insiders = inner, tuple(secrets), insiders
        self.name, self.draft = inner.name, inner.draft
        self.chunk_size = getattr(inner, "chunk_size", 1)  # Exchange sends in chunks

    def open(self) -> None:
        self.inner.open()
        self._is_open = True

    def close(self) -> None:
        self.inner.close()
        self._is_open = False

    def already_sent(self, message_ids: Iterable[str]) -> set[str]:
        return self.inner.already_sent(message_ids)

    def send_messages(self, messages: Iterable[EmailMessage], *, on_sent: OnSent | None = None) -> int:
        clean, blocked = [], {}
        for message in messages:
            reasons = leaks(message, self.secrets, self.insiders)
            if reasons:
                blocked[message_id(message)] = "Gesperrt (§ 8), die Nachricht geht an jemanden, der nicht Mitglied " \
                                               "ist: " + "; ".join(reasons) + "."
            else:
                clean.append(message)
        sent = 0
        try:
            sent = self.inner.send_messages(clean, on_sent=on_sent) if clean else 0
        except TransportError as exc:
            exc.failed.update(blocked)
            raise
        if blocked:
            raise TransportError(f"{len(blocked)} Nachricht(en) gesperrt (§ 8): " + " ".join(blocked.values()),
                                 sent=sent, failed=blocked)
        return sent


def guard(transport: Transport, model: Model, session: Session) -> Transport:
    """`transport` behind the last line of § 8 for the messages of `session`."""
    return LeakGuard(transport, secrets_of(model, session), insider_addresses(model, session.date))
