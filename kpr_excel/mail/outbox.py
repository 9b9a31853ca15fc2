"""The outbox transport: every message becomes an .eml file in a folder.

It needs nothing (no server, no password) and is the default. It prepares messages, it does
not send them: every file carries ``X-Unsent: 1`` so that Outlook opens it with a double click
as a new message ready to be sent (without the header Outlook shows it as received mail). The
send journal records such a message as ``bereitgestellt``, never as ``gesendet``.

The file name is derived from the Message-ID alone, so the same planned message always lands
in the same file: ``already_sent`` is "the file exists", and a resumed run on another day
overwrites nothing it should not. Files are written atomically (temporary file, then
``os.replace``), so an interrupted run never leaves half a message behind; a temporary file
left by a killed run is removed when the folder is opened next.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Sequence
from email.generator import BytesGenerator
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path

from kpr_excel.domain.errors import environment_reason
from kpr_excel.mail.base import (
    OnSent,
    Transport,
    TransportError,
    TransportKind,
    TransportSettings,
    message_id,
    recipients_text,
)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 120


def file_stem(msg_id: str) -> str:
    """A file name (without .eml) for a Message-ID: its local part made safe for every OS.

    A hash of the whole Message-ID is added when making it safe changed or shortened it, so that
    two different Message-IDs never share a file.
    """
    local = msg_id.strip().strip("<>").rpartition("@")[0] or msg_id.strip().strip("<>")
    stem = _UNSAFE.sub("-", local).strip(".-") or "nachricht"
    if stem != local or len(stem) > _MAX_STEM:
        digest = hashlib.sha256(msg_id.strip().encode("utf-8")).hexdigest()[:10]
        stem = f"{stem[:_MAX_STEM]}-{digest}"
    return stem


def to_eml_bytes(message: EmailMessage, *, draft: bool = True) -> bytes:
    """The message as .eml bytes with CRLF line ends, ``X-Unsent: 1`` first (ready to send)."""
    buffer = BytesIO()
    policy = message.policy.clone(linesep="\r\n")
    BytesGenerator(buffer, policy=policy).flatten(message)
    data = buffer.getvalue()
    # Prepending a header line leaves the caller's message object untouched.
    return b"X-Unsent: 1\r\n" + data if draft else data


def is_complete(path: Path, msg_id: str) -> bool:
    """Whether the file at `path` is the whole message `msg_id` (written atomically, so a file
    that is there is whole unless someone else wrote it: its Message-ID and end are checked)."""
    from email import message_from_bytes, policy

    try:
        data = path.read_bytes()
    except OSError:
        return False
    message = message_from_bytes(data, policy=policy.default)
    if str(message.get("Message-ID", "")).strip() != msg_id.strip() or message.defects:
        return False
    return not message.is_multipart() or data.rstrip().endswith(b"--")


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the whole new one."""
    handle, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".eml.part")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp_name, path)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise


def _test_disk_full(number: int) -> None:
    """Test-only hook for the fault matrix: ``KPR_TEST_FAULT=full-outbox:<k>`` makes every write
    after the k-th file of a run fail as a full disk does (ENOSPC)."""
    spec = os.environ.get("KPR_TEST_FAULT", "")
    if spec.startswith("full-outbox:") and number > int(spec.partition(":")[2]):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class OutboxTransport(Transport):
    """Writes each message as ``<folder>/<Message-ID local part>.eml``."""

    name = "outbox"

    def __init__(self, directory: str | os.PathLike, *, draft: bool = False) -> None:
        """`draft` is accepted for the common interface; every file is ready to send anyway."""
        super().__init__()
        self.directory = Path(directory)
        self.draft = draft
        self._attempts = 0  # files this transport tried to write (for _test_disk_full)

    def open(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise TransportError(
                f"Der Ausgangsordner {self.directory} kann nicht angelegt werden: {e.strerror or e}."
            ) from e
        for leftover in self.directory.glob(".*.eml.part"):  # from a run that was killed
            try:
                leftover.unlink()
            except OSError:
                pass
        super().open()

    def path_for(self, msg_id: str) -> Path:
        """Where the message with this Message-ID is (or will be) written."""
        return self.directory / f"{file_stem(msg_id)}.eml"

    def _send(self, messages: Sequence[EmailMessage], on_sent: OnSent) -> int:
        sent = 0
        for message in messages:
            path = self.path_for(message_id(message))
            self._attempts += 1
            try:
                _test_disk_full(self._attempts)
                write_atomically(path, to_eml_bytes(message))
            except OSError as e:
                # The reason in German (disk full, read-only, no permission), not the system's English.
                reason = environment_reason(e) or "das Schreiben ist fehlgeschlagen"
                raise TransportError(
                    f"Die Nachricht an {recipients_text(message)} konnte nicht im Ausgangsordner "
                    f"{self.directory} gespeichert werden: {reason}.",
                    sent=sent,
                ) from e
            on_sent(message)
            sent += 1
        return sent

    def already_sent(self, message_ids: Iterable[str]) -> set[str]:
        """Messages whose file is there and complete (prepared: the outbox never sends)."""
        return {msg_id for msg_id in message_ids
                if self.path_for(msg_id).is_file() and is_complete(self.path_for(msg_id), msg_id)}


def _from_settings(settings: TransportSettings, password: str | None) -> OutboxTransport:
    return OutboxTransport(settings.outbox_dir)


KIND = TransportKind(
    "outbox", _from_settings,
    lambda settings: f"als E-Mail-Dateien zum Versand aus Outlook in den Ordner {settings.outbox_dir}")
