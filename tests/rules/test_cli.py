"""`kpr fristen`, `kpr regeln`, and the deadline fields of `kpr pruefen --json`."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from openpyxl import Workbook

from kpr_excel.book.demo import demo_data
from kpr_excel.book.generate import build_workbook
from kpr_excel.domain.deadlines import last_working_day
from kpr_excel.rules import RULES
from tests.cli.run import kpr
from tests.rules.examples import KPR4, STICHTAG, session

FRISTEN_KEYS = {"session", "gremium", "session_date", "kind", "deadline", "act_by", "days_left", "overdue"}



def demo_file(folder, stichtag=STICHTAG, edit=lambda data: None):
    data = demo_data(stichtag)
    edit(data)
    path = folder / "KPR.xlsx"
    build_workbook(data).save(path)
    return path, data


def test_fristen_json_lists_open_deadlines_sorted(tmp_path):
    path, data = demo_file(tmp_path)
    result = kpr("fristen", path, "--stichtag", STICHTAG.strftime("%d.%m.%Y"), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    rows = summary["deadlines"]
    assert (summary["file"], summary["stichtag"]) == (str(path), STICHTAG.isoformat())
    assert summary["counts"] == {"open": len(rows), "overdue": 0}
    assert rows and all(set(r) == FRISTEN_KEYS for r in rows)
    assert [r["deadline"] for r in rows] == sorted(r["deadline"] for r in rows)
    assert not any(r["overdue"] for r in rows)
    day = session(data, KPR4)["date"]
    due = day - timedelta(days=14)
    invitation = next(r for r in rows if r["session"] == KPR4 and r["kind"] == "Einladung")
    assert invitation == dict(session=KPR4, gremium="KPR", session_date=day.isoformat(), kind="Einladung",
                              deadline=due.isoformat(), act_by=last_working_day(due).isoformat(),
                              days_left=(due - STICHTAG).days, overdue=False)
    # sent invitations and minutes, cancelled sessions and other bodies have no open deadline
    assert {r["session"] for r in rows} == {KPR4}


def test_fristen_shows_overdue_and_exits_1(tmp_path):
    stichtag = date(2026, 11, 26)
    path, _ = demo_file(tmp_path, stichtag, lambda d: session(d, KPR4).update(invitation_sent=None))
    result = kpr("fristen", path, "--stichtag", "26.11.2026")
    assert result.exit_code == 1, result.output
    assert KPR4 in result.stdout
    rows = json.loads(kpr("fristen", path, "--stichtag", "26.11.2026", "--json").stdout)["deadlines"]
    assert [(r["kind"], r["days_left"]) for r in rows if r["overdue"]] == [("Einladung", -1)]


@pytest.mark.parametrize("content", ["empty-workbook", "not-a-workbook"])
def test_fristen_on_an_unusable_file_exits_2(tmp_path, content):
    path = tmp_path / "x.xlsx"
    if content == "empty-workbook":
        Workbook().save(path)
    else:
        path.write_text("ID;Name\n", encoding="utf-8")
    assert kpr("fristen", path).exit_code == 2


def test_regeln_json_has_every_rule():
    result = kpr("regeln", "--json")
    assert result.exit_code == 0
    summary = json.loads(result.stdout)
    rows = summary["codes"]
    assert summary["counts"]["total"] == len(rows)
    assert [r["code"] for r in rows] == ([r.code for r in RULES] + [f"DATA-{n}" for n in range(1, 6)]
                                         + [f"VORLAGE-{n}" for n in range(1, 6)] + ["DOK-1", "DOK-2"]
                                         + [f"AI{n:02}" for n in range(1, 15)] + [f"VERSAND-{n}" for n in range(1, 7)])
    assert all({"code", "symbol", "severity", "paragraph", "description"} <= set(r) for r in rows)
    assert {r["code"]: r["severities"] for r in rows}["GO-7.4"] == ["Fehler", "Warnung"]


def test_regeln_text_names_every_rule():
    result = kpr("regeln")
    assert result.exit_code == 0
    assert all(r.code in result.stdout and r.symbol in result.stdout for r in RULES)
    assert all(f"DATA-{n}" in result.stdout for n in range(1, 6))
    assert "VORLAGE-4 vorlage-fehlt" in result.stdout and "AI07 runpython-ziel" in result.stdout
    assert result.stdout.index("Prüfungen der Word-Vorlagen") < result.stdout.index("VORLAGE-1")


def test_every_code_a_check_prints_is_in_the_registry():
    """The demo's findings, every template finding and every add-in finding carry registered codes."""
    import inspect
    import re

    from kpr_excel.addin import check as addin_check
    from kpr_excel.app.codes import CODES_BY_NAME
    from kpr_excel.book import loader
    from kpr_excel.documents import checks

    for module in (loader, checks, addin_check):
        used = set(re.findall(r'"((?:DATA|VORLAGE)-\d+)"', inspect.getsource(module)))
        assert used <= set(CODES_BY_NAME), module.__name__
    assert {c.code for c in RULES} <= set(CODES_BY_NAME)


def test_pruefen_json_carries_deadline_act_by_and_session(tmp_path):
    path, data = demo_file(tmp_path)
    result = kpr("pruefen", path, "--stichtag", STICHTAG.strftime("%d.%m.%Y"), "--json")
    rows = json.loads(result.stdout)["findings"]
    invitation = next(r for r in rows if r["code"] == "GO-7.4")
    due = session(data, KPR4)["date"] - timedelta(days=14)
    assert (invitation["severity"], invitation["deadline"], invitation["act_by"], invitation["session"]) == (
        "Warnung", due.isoformat(), last_working_day(due).isoformat(), KPR4)
    assert result.exit_code == (1 if any(r["severity"] == "Fehler" for r in rows) else 0)
