"""The write-ahead send journal: one SQLite row per message, committed before and after it goes.

Why SQLite and how (details in ``docs/journal.md``): it is in the standard library, a crash
never leaves half a row, and a row committed before a message goes is on disk when the
message goes. The journal lies in the output folder beside the documents, which is often a
network share (SMB/NFS), so:

- ``journal_mode=DELETE`` (never WAL: WAL needs shared memory that network file systems do not
  provide), ``synchronous=FULL``;
- every state change is its own short transaction, committed at once;
- one send at a time per workbook through a lock file created with ``O_EXCL`` (which SMB and
  NFSv3+ implement atomically), not through SQLite's own byte-range locks, which some network
  file systems fake.

States: geplant -> wird gesendet -> gesendet | bereitgestellt | Entwurf | fehlgeschlagen |
unsicher. A row left in ``wird gesendet`` by a crash is resolved by asking the channel where it
can answer (outbox, Exchange); otherwise it becomes ``unsicher`` and is sent again only when the
user says so.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kpr_excel.domain.errors import KprError
from kpr_excel.domain.schema import SendState

PLANNED = SendState.GEPLANT
IN_FLIGHT = SendState.WIRD_GESENDET
SENT = SendState.GESENDET
PREPARED = SendState.BEREITGESTELLT
DRAFT = SendState.ENTWURF
FAILED = SendState.FEHLGESCHLAGEN
UNCERTAIN = SendState.UNSICHER

#: Channels that can say afterwards whether they hold a message (outbox: the file; Exchange:
#: Sent Items by InternetMessageId). SMTP cannot.
ANSWERING_CHANNELS = frozenset({"outbox", "exchange"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    key         TEXT PRIMARY KEY,   -- session|document|recipient|version|channel
    delivery    TEXT NOT NULL,      -- the key without the channel
    session     TEXT NOT NULL,
    document    TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    version     TEXT NOT NULL DEFAULT '',
    channel     TEXT NOT NULL,
    message_id  TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL,
    updated     TEXT NOT NULL,      -- ISO time of the last change
    checksum    TEXT NOT NULL DEFAULT '',  -- of the attachments
    body_sum    TEXT NOT NULL DEFAULT '',  -- of the whole message as built
    error       TEXT NOT NULL DEFAULT '',
    attempts    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_delivery ON messages (delivery);
"""

_FIELDS = ("key", "delivery", "session", "document", "recipient", "email", "version", "channel",
           "message_id", "state", "updated", "checksum", "body_sum", "error", "attempts")


def journal_key(delivery_key: str, channel: str) -> str:
    """The journal's (and the Versand sheet's) key: the delivery's key and the channel."""
    return f"{delivery_key}|{channel}"


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class Entry:
    key: str
    delivery: str
    session: str
    document: str
    recipient: str
    email: str
    version: str
    channel: str
    message_id: str
    state: str
    updated: datetime
    checksum: str
    body_sum: str
    error: str
    attempts: int

    def versand_row(self) -> dict[str, object]:
        """The row of the Versand sheet for this entry (model attribute -> value)."""
        return dict(key=self.key, session=self.session, document=self.document, recipient=self.recipient,
                    email=self.email, version=self.version, transport=self.channel, state=self.state,
                    timestamp=self.updated, checksum=self.checksum, error=self.error[:250])


class Journal:
    """The journal file of one workbook. Every write is committed before the call returns."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: autocommit; each write below is one explicit transaction.
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=DELETE")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise KprError(f"Das Versandjournal {self.path} kann nicht geöffnet werden: {exc}.") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise KprError(f"Das Versandjournal {self.path} kann nicht geschrieben werden: {exc}. "
                           "Es wird nichts weiter gesendet.") from None

    def get(self, key: str) -> Entry | None:
        row = self._db.execute(f"SELECT {', '.join(_FIELDS)} FROM messages WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def for_delivery(self, delivery_key: str) -> list[Entry]:
        """Every channel's entry for one delivery."""
        rows = self._db.execute(f"SELECT {', '.join(_FIELDS)} FROM messages WHERE delivery = ? ORDER BY key",
                                (delivery_key,)).fetchall()
        return [_entry(row) for row in rows]

    def entries(self, session: str | None = None, document: str | None = None) -> list[Entry]:
        query = f"SELECT {', '.join(_FIELDS)} FROM messages WHERE 1=1"
        args: list[str] = []
        if session is not None:
            query, args = query + " AND session = ?", [*args, session]
        if document is not None:
            query, args = query + " AND document = ?", [*args, document]
        return [_entry(row) for row in self._db.execute(query + " ORDER BY rowid", args).fetchall()]

    def plan(self, rows: Iterable[dict[str, object]]) -> None:
        """Insert planned messages that have no entry yet (one transaction)."""
        with self._transaction() as db:
            for row in rows:
                values = {"email": "", "version": "", "message_id": "", "checksum": "", "body_sum": "",
                             "error": "", "attempts": 0, **row, "state": str(row.get("state", PLANNED)),
                          "updated": _iso(row.get("updated"))}
                db.execute(f"INSERT OR IGNORE INTO messages ({', '.join(_FIELDS)}) "
                           f"VALUES ({', '.join('?' for _ in _FIELDS)})", [values[f] for f in _FIELDS])

    def mark(self, keys: Iterable[str], state: str, *, error: str = "", **fields: object) -> None:
        """Set the state of `keys` (one transaction, committed before returning)."""
        sets = ", ".join(f"{name} = ?" for name in fields)
        extra = (", " + sets) if sets else ""
        attempts = ", attempts = attempts + 1" if state == IN_FLIGHT else ""
        with self._transaction() as db:
            for key in keys:
                db.execute(f"UPDATE messages SET state = ?, updated = ?, error = ?{extra}{attempts} WHERE key = ?",
                           [str(state), _iso(None), error[:1000], *fields.values(), key])


    def mark_each(self, state: str, fields: dict[str, dict[str, object]]) -> None:
        """Set `state` and per-key `fields` ({key: {column: value}}) in one transaction."""
        with self._transaction() as db:
            for key, values in fields.items():
                sets = "".join(f", {name} = ?" for name in values)
                attempts = ", attempts = attempts + 1" if state == IN_FLIGHT else ""
                db.execute(f"UPDATE messages SET state = ?, updated = ?, error = ''{sets}{attempts} WHERE key = ?",
                           [str(state), _iso(None), *values.values(), key])


def _iso(value: object) -> str:
    return (value if isinstance(value, datetime) else _now()).isoformat(timespec="seconds")


def _entry(row: tuple) -> Entry:
    values = dict(zip(_FIELDS, row))
    values["updated"] = datetime.fromisoformat(values["updated"])
    return Entry(**values)


def journal_path(output_folder: Path, workbook: Path) -> Path:
    """Where a workbook's journal lies: in its output folder, named after the workbook."""
    return Path(output_folder) / f"{Path(workbook).stem}.versand.sqlite"


# -- one send at a time ---------------------------------------------------------------------


@dataclass(frozen=True)
class LockHolder:
    user: str
    host: str
    pid: int
    started: str

    def describe(self) -> str:
        try:
            since = datetime.fromisoformat(self.started).strftime("%d.%m.%Y %H:%M")
        except ValueError:
            since = self.started or "unbekannt"
        return f"{self.user or 'unbekannt'} auf dem Rechner {self.host or 'unbekannt'} seit {since}"


def _me() -> LockHolder:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    return LockHolder(user, socket.gethostname(), os.getpid(), _now().isoformat(timespec="seconds"))


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but belongs to someone else (or Windows refuses to say): alive
        return True
    return True


class SendLock:
    """A lock file beside the journal: one send at a time per workbook, on every workstation.

    Created with O_CREAT|O_EXCL, which is atomic on local disks, SMB and NFSv3+. It holds user,
    host, pid and start time. A lock of a process that no longer runs on this host is taken
    over; a lock held by a running process or by another host is refused with a German message
    naming who holds it since when (another host's process cannot be checked from here; the
    message says how to remove a lock that is left over).
    """

    def __init__(self, path: Path, workbook_name: str = "") -> None:
        self.path = Path(path)
        self.workbook_name = workbook_name
        self._held = False

    def holder(self) -> LockHolder | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return LockHolder(str(data.get("user", "")), str(data.get("host", "")), int(data.get("pid", 0)),
                              str(data.get("started", "")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):
            return LockHolder("", "", 0, "")  # half written or damaged: treated as foreign

    def acquire(self) -> None:
        me = _me()
        data = json.dumps(me.__dict__).encode("utf-8")
        for _ in range(3):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                handle = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder is None:
                    continue  # released meanwhile
                if holder.host == me.host and holder.pid and not _alive(holder.pid):
                    with contextlib.suppress(FileNotFoundError):
                        self.path.unlink()  # left by a process that died on this machine
                    continue
                what = f" der Mappe {self.workbook_name}" if self.workbook_name else ""
                raise KprError(
                    f"Ein anderer Versand{what} läuft bereits: {holder.describe()} (Prozess {holder.pid}). "
                    "Bitte warten, bis er beendet ist. Ist er abgebrochen und der Rechner nicht mehr in "
                    f"Betrieb, die Sperrdatei {self.path} löschen.") from None
            except OSError as exc:
                raise KprError(f"Die Sperrdatei {self.path} kann nicht angelegt werden: "
                               f"{exc.strerror or exc}.") from None
            with os.fdopen(handle, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            self._held = True
            return
        raise KprError(f"Die Sperrdatei {self.path} lässt sich nicht übernehmen; bitte erneut versuchen.")

    def release(self) -> None:
        if self._held:
            self._held = False
            with contextlib.suppress(OSError):
                self.path.unlink()

    def __enter__(self) -> SendLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info) -> None:
        self.release()


def lock_path(journal: Path) -> Path:
    return Path(journal).with_suffix(".lock")
