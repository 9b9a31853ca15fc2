"""Documents bound to the workbook: what each generated document was made from.

When the tool makes a document it records, in a small sidecar file in the output folder
(`.kpr-fingerabdruecke.json`, beside the checksum manifest of `output.py`), a fingerprint of
what went into it: the template values of its recipients' version (session data, the items
that audience sees, their documents and results), the version itself and, for a guest, who
it is for. The letter's date is left out (a document made yesterday is not stale today), and so
is the session's status (it changes when the invitation goes out).

Before a send the tool asks `inspect` about every file it is about to attach:

- CURRENT: made from what the workbook says now (edited by the office or not): sent as it is;
- MISSING / STALE (untouched since it was made): made anew, then sent;
- EDITED_STALE: the office edited it and the workbook has changed since: the send stops and
  `changes` names in German what changed (items, date, time, place);
- FOREIGN: a file the tool did not make, or made without a fingerprint, that the office
  edited: it cannot be compared, so the send stops as well (fail closed).

A sidecar, not a property inside the .docx: the checksum at making must live outside the file
anyway, and a sidecar needs no change to the Word files the office edits.
"""

from __future__ import annotations

import enum
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from kpr_excel.domain.findings import Code, Severity

SIDECAR = ".kpr-fingerabdruecke.json"
# Left out of the fingerprint: the letter's date, and the status that sending itself changes.
_VOLATILE = frozenset({"datum", "status"})

FAMILY_DOCUMENTS = "Prüfungen der erstellten Dokumente"
CODES: tuple[Code, ...] = (
    Code("DOK-1", "dokument-veraltet-bearbeitet", (Severity.FEHLER,),
         "Ein Dokument, das versandt werden soll, wurde von der Geschäftsstelle bearbeitet, und die Mappe hat "
         "sich seit seiner Erstellung geändert (Tagesordnung, Datum, Ort …); es wird nicht versandt, bis es neu "
         "erstellt ist.", FAMILY_DOCUMENTS),
    Code("DOK-2", "dokument-unbekannt", (Severity.FEHLER,),
         "Ein Dokument, das versandt werden soll, wurde nicht von diesem Werkzeug erstellt (oder ohne "
         "Fingerabdruck) und bearbeitet; es kann nicht mit der Mappe verglichen werden und wird nicht versandt.",
         FAMILY_DOCUMENTS),
)
CODES_BY_NAME = {c.code: c for c in CODES}


class State(enum.Enum):
    CURRENT = "aktuell"
    MISSING = "fehlt"
    STALE = "veraltet"
    EDITED_STALE = "bearbeitet und veraltet"
    FOREIGN = "unbekannter Herkunft"


@dataclass(frozen=True)
class Stamp:
    """What one document was made from: the digest and a readable summary for `changes`."""

    digest: str
    summary: dict

    def as_json(self) -> dict:
        return {"fingerabdruck": self.digest, "grundlage": self.summary}


def _strip(value):
    if isinstance(value, Mapping):
        return {k: _strip(v) for k, v in value.items() if k not in _VOLATILE}
    if isinstance(value, (list, tuple)):
        return [_strip(v) for v in value]
    return value


def stamp_of(values: Mapping, *, document: str, version: str, person: str = "") -> Stamp:
    """The stamp of a document rendered from template `values` for one recipients' version."""
    material = {"dokument": str(document), "fassung": version, "fuer": person, "werte": _strip(values)}
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, default=str)
    session = values.get("sitzung") or {}
    summary = {
        "fassung": version,
        "datum": session.get("datum", ""),
        "zeit": session.get("zeit", ""),
        "ort": session.get("ort", ""),
        "punkte": [[str(item.get("nr", "")), str(item.get("titel", ""))] for item in values.get("tagesordnung", ())],
    }
    return Stamp(hashlib.sha256(canonical.encode("utf-8")).hexdigest(), summary)


def read_sidecar(folder: Path) -> dict[str, dict]:
    try:
        data = json.loads((folder / SIDECAR).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(folder: Path, name: str, stamp: Stamp, write) -> None:
    """Note in the sidecar that `folder/name` was made from `stamp`; `write(path, bytes)` writes atomically."""
    data = read_sidecar(folder)
    data[name] = stamp.as_json()
    write(folder / SIDECAR, json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8"))


_COPY = re.compile(r"_v\d+(?=\.[^.]+$)")


def recorded(folder: Path, name: str) -> Stamp | None:
    """What `folder/name` was made from. A `_v2`, `_v3` ... the office saved from a document of
    the tool (its convention for a new version) was made from what that document was made from."""
    sidecar = read_sidecar(folder)
    entry = sidecar.get(name) or sidecar.get(_COPY.sub("", name))
    if not isinstance(entry, dict) or not isinstance(entry.get("fingerabdruck"), str):
        return None
    summary = entry.get("grundlage")
    return Stamp(entry["fingerabdruck"], summary if isinstance(summary, dict) else {})


def inspect(path: Path, expected: Stamp, *, untouched: bool) -> State:
    """How the file at `path` stands to what the workbook says now (`expected`).

    `untouched`: the file's checksum is still the one recorded when the tool wrote it, and
    Word does not have it open.
    """
    if not path.exists():
        return State.MISSING
    made = recorded(path.parent, path.name)
    if made is None:
        return State.STALE if untouched else State.FOREIGN
    if made.digest == expected.digest:
        return State.CURRENT
    return State.STALE if untouched else State.EDITED_STALE


def changes(before: Mapping, now: Mapping) -> list[str]:
    """In German, what differs between two summaries: items, date, time, place."""
    out = []
    for key, label in (("datum", "Datum"), ("zeit", "Zeit"), ("ort", "Ort")):
        if before.get(key, "") != now.get(key, ""):
            out.append(f"{label}: „{before.get(key, '')}“ → „{now.get(key, '')}“")
    old = dict(before.get("punkte", ()))
    new = dict(now.get("punkte", ()))
    for nr, title in old.items():
        if nr not in new:
            out.append(f"TOP {nr} „{title}“ entfällt")
        elif new[nr] != title:
            out.append(f"TOP {nr}: „{title}“ → „{new[nr]}“")
    out += [f"TOP {nr} „{title}“ kommt hinzu" for nr, title in new.items() if nr not in old]
    if before.get("fassung") != now.get("fassung"):
        out.append(f"Fassung: {before.get('fassung', '?')} → {now.get('fassung', '?')}")
    return out or ["weitere Angaben (Vortragende, Unterlagen, Ergebnisse, Gäste oder Einstellungen)"]
