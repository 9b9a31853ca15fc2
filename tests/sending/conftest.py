"""The whole send job as the office runs it: a demo workbook, the `kpr` command, a real other side.

The demo workbook (Stichtag 29.11.2026) is built once per test session in the state just before
the invitation of KPR-2026-4 goes out (documents made, "Einladung versandt am" still empty) and
copied for every test. The servers and the test CA are the mail tests' own.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from kpr_excel.app.jobs import new_workbook
from kpr_excel.app.send import OUTBOX_FOLDER
from kpr_excel.book.demo import demo_data
from kpr_excel.book.edits import Edits, SetCells
from kpr_excel.book.loader import load_file
from kpr_excel.book.writer import write_edits
from kpr_excel.documents.output import output_dir
from kpr_excel.documents.produce import write_invitation
from kpr_excel.domain import schema
from kpr_excel.sending.plan import INVITATION, make_plan
from tests.cli import run
from tests.mail.conftest import (  # noqa: F401 - fixtures shared with the mail tests
    EWS_PASSWORD,
    EWS_USER,
    SENDER,
    SMTP_PASSWORD,
    SMTP_USER,
    ews_server,
    memory_keyring,
    server_cert,
    smtp_server,
    test_ca,
)
from tests.mail.test_transports import Got, got_from_email
from tests.servers.ews import EwsServer

STICHTAG = date(2026, 11, 29)
DAY = STICHTAG.strftime("%d.%m.%Y")
SESSION = "KPR-2026-4"
BOOK = "KPR.xlsx"
EXTRA_MEMBERS = 19  # members without a seat: 20 seat holders + 19 + the guest = 40 messages


def before_invitation(data: dict) -> dict:
    """The demo as it is before the invitation of SESSION went out."""
    for row in data["Sitzungen"]:
        if row["id"] == SESSION:
            row.update(invitation_sent=None, status=schema.STATUS_GEPLANT)
    return data


def with_extra_members(data: dict, count: int = EXTRA_MEMBERS) -> dict:
    """Members without a seat of the composition (GO-2.3 is only a Hinweis): more recipients."""
    template = next(p for p in data["Mitglieder"] if p["id"] == "P03")
    for number in range(count):
        pid = f"P{60 + number}"
        data["Mitglieder"].append({**template, "id": pid, "salutation": "Herr", "title": "",
                                   "first_name": "Karl", "last_name": f"Beisitzer{number}", "seat": None,
                                   "function": "Beisitzer", "email": f"beisitzer{number}@verein.example"})
    return data


def build_base(folder: Path, data: dict) -> Path:
    """The workbook and its invitation documents in `folder`, ready to be copied."""
    path = new_workbook(folder / BOOK, data=data)
    model = load_file(path).model
    write_invitation(path, model, SESSION, today=STICHTAG)  # the office makes and reviews them first
    return folder


@pytest.fixture(scope="session")
def demo_base(tmp_path_factory) -> Path:
    return build_base(tmp_path_factory.mktemp("demo"), before_invitation(demo_data(STICHTAG)))


@pytest.fixture(scope="session")
def forty_base(tmp_path_factory) -> Path:
    return build_base(tmp_path_factory.mktemp("forty"), with_extra_members(before_invitation(demo_data(STICHTAG))))


def copy_base(base: Path, target: Path) -> Path:
    shutil.copytree(base, target)
    return target / BOOK


@pytest.fixture
def book(demo_base, tmp_path) -> Path:
    """A fresh copy of the demo workbook with its documents."""
    return copy_base(demo_base, tmp_path / "Ablage")


@pytest.fixture(autouse=True)
def no_password_in_environment(monkeypatch):
    monkeypatch.delenv("KPR_PASSWORT", raising=False)


# -- the workbook -------------------------------------------------------------------------------


def set_settings(path: Path, **values) -> None:
    """Change rows of the Einstellungen sheet as the office would (by setting key)."""
    labels = {s.key: s.label for s in schema.SETTINGS}
    write_edits(path, Edits((SetCells(schema.EINSTELLUNGEN.name, "key",
                                      tuple((labels[key], "value", value) for key, value in values.items())),)))


def exchange_settings(path: Path, server: EwsServer, ca_file: Path, **more) -> None:
    set_settings(path, transport="exchange", ews_url=server.url, mailbox=SENDER, exchange_user=EWS_USER,
                 ca_bundle=str(ca_file), **more)


def model_of(path: Path):
    loaded = load_file(path)
    assert not loaded.unusable
    return loaded.model


def send_log(path: Path, channel: str | None = None) -> dict:
    """The Versand sheet read back with the loader: delivery key (without the channel) -> entry.

    The sheet's key ends in the channel; with `channel`, only that channel's rows.
    """
    entries = [e for e in model_of(path).send_log if channel is None or e.transport == channel]
    by_key = {entry.key.rpartition("|")[0]: entry for entry in entries}
    assert len(by_key) == len(entries), "one row per message"
    for key, entry in by_key.items():
        assert entry.key == f"{key}|{entry.transport}"
    return by_key


def planned(path: Path, document: str = INVITATION, session: str = SESSION) -> dict:
    """key -> Delivery of the plan for the workbook as it is now."""
    return {d.key: d for d in make_plan(model_of(path), session, document).deliveries}


def planned_with_version(path: Path, version: str, document: str = INVITATION) -> dict:
    return {d.key: d for d in (replace(d, version=version) for d in planned(path, document).values())}


def documents_folder(path: Path) -> Path:
    return output_dir(path, model_of(path))


def outbox_received(path: Path) -> list[Got]:
    folder = documents_folder(path) / OUTBOX_FOLDER
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [got_from_email(message_from_bytes(f.read_bytes(), policy=policy.default)) for f in files]


# -- the command --------------------------------------------------------------------------------


def kpr(*args, input: str | None = None):
    return run.kpr(*args, input=input)


def send(path: Path, *options, document: str = "einladung", session: str = SESSION):
    return kpr(document, "senden", path, session, "--stichtag", DAY, *options)


def squeeze(text: str) -> str:
    """Text without whitespace: rich wraps long lines at the terminal width."""
    return "".join(text.split())


def assert_clean_exit(result, code: int) -> None:
    """The exit code, and no traceback or internal error for the person at the desk."""
    assert result.exit_code == code, result.output
    assert result.exception is None, result.exception
    assert "Traceback" not in result.output
    assert "Interner Fehler" not in result.output
