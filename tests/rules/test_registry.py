"""The registry against docs/RULES.md: every code has a rule, a description and examples."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest

from kpr_excel.domain.findings import Location, Severity
from kpr_excel.domain.model import Model, Session, Source
from kpr_excel.rules import RULES, RULES_BY_CODE, DocumentText, Issue, Rule, run_rules
from kpr_excel.rules.confidentiality import confidentiality_notice_required, has_confidentiality_notice
from tests.rules.examples import EXAMPLES

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "RULES.md"
SHARED = REPO.parent / "shared" / "RULES.md"
SHARED_2 = REPO.parent / "shared" / "RULES-2.md"
_ROW = re.compile(r"^\|\s*(GO-\d+\.\d+)\s*\|(.+)\|\s*$")
_PARAGRAPH = re.compile(r'^(§ \d+)(?:\s+"(.+)")?')


def documented() -> dict[str, dict[str, str]]:
    """The check table of RULES.md: code -> symbol, severity, paragraph, quote, what."""
    rows = {}
    for line in DOCS.read_text(encoding="utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            symbol, severity, paragraph, what = (cell.strip() for cell in match[2].split("|"))
            para = _PARAGRAPH.match(paragraph)
            rows[match[1]] = dict(symbol=symbol, severity=severity, paragraph=para[1], quote=para[2] or "",
                                  what=what)
    return rows


def _rows_2() -> dict[str, str]:
    """The check rows of RULES-2.md, word for word, by code."""
    return {m[1]: line for line in SHARED_2.read_text(encoding="utf-8").splitlines() if (m := _ROW.match(line))}


def test_docs_copy_is_the_shared_rules_plus_the_built_rows_of_rules_2():
    if not (SHARED.exists() and SHARED_2.exists()):
        pytest.skip("no ../shared/RULES.md and RULES-2.md beside this clone")
    built = {code: row for code, row in _rows_2().items() if code in RULES_BY_CODE}
    lines = DOCS.read_text(encoding="utf-8").splitlines(keepends=True)
    added = [line for line in lines if line.rstrip("\n") in built.values()]
    assert sorted(line.rstrip("\n") for line in added) == sorted(built.values())
    rest = "".join(line for line in lines if line not in added)
    assert rest.encode("utf-8") == SHARED.read_bytes()


def test_table_is_read():
    rows = documented()
    assert len(rows) >= 20 and rows["GO-7.4"]["severity"] == "Fehler / Warnung"


@pytest.mark.parametrize("code", sorted(documented()))
def test_documented_code_has_rule_description_and_examples(code):
    doc = documented()[code]
    rule = RULES_BY_CODE.get(code)
    assert rule is not None, f"{code} has no rule"
    assert (rule.symbol, rule.severity_label, rule.paragraph, rule.quote) == (
        doc["symbol"], doc["severity"], doc["paragraph"], doc["quote"])
    assert len(rule.description) > 40, f"{code} has no description"
    assert rule.check.__doc__, f"{code}'s check has no docstring"
    examples = [e for e in EXAMPLES if e.code == code]
    assert any(e.breaks for e in examples), f"{code} has no workbook that breaks it"
    assert any(not e.breaks for e in examples), f"{code} has no workbook that keeps it"


def test_every_rule_is_documented_once():
    assert isinstance(RULES, tuple)
    assert sorted(r.code for r in RULES) == sorted(documented())
    assert len({r.symbol for r in RULES}) == len(RULES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULES[0].code = "GO-0"


def _model_with_public_session() -> Model:
    session = Session(Source("Sitzungen", 2), "KPR-2026-1", "KPR", date(2026, 3, 11), public=True)
    return Model(sessions=(session,))


def test_a_crashing_rule_becomes_a_finding_and_the_run_goes_on():
    def half_then_crash(context):
        """Reports one thing, then fails."""
        yield Issue("vorher", Location("Sitzungen", 2, "A"))
        raise ZeroDivisionError("kaputt")

    broken = Rule("GO-9.9", "kaputt", Severity.HINWEIS, "§ 9", "Prüft nichts Sinnvolles.", half_then_crash)
    model = _model_with_public_session()
    findings = run_rules(model, date(2026, 1, 1), rules=(broken, RULES_BY_CODE["GO-7.7"]))
    assert [(f.code, f.severity) for f in findings] == [
        ("GO-9.9", Severity.HINWEIS), ("GO-9.9", Severity.FEHLER), ("GO-7.7", Severity.WARNUNG)]
    assert "ZeroDivisionError" in dict(findings[1].extra)["fehler"]
    assert findings[2].location == model.sessions[0].src.at("public_basis")
    assert findings[2].session_id == "KPR-2026-1"


def test_notice_functions_for_the_documents_code():
    model = _model_with_public_session()
    public = model.sessions[0]
    closed = dataclasses.replace(public, public=False)
    assert not confidentiality_notice_required(public)
    assert confidentiality_notice_required(closed)
    from kpr_excel.domain.model import AgendaItem

    secret = AgendaItem(Source("Tagesordnung", 2), public.id, "3", "Lagebild", confidential=True)
    assert confidentiality_notice_required(public, [secret])
    text = "Die Beratungen unterliegen der Pflicht zur\nVerschwiegenheit (§ 8 der Geschäftsordnung)."
    assert has_confidentiality_notice(text) and not has_confidentiality_notice("Bitte vertraulich behandeln.")
    documents = [DocumentText(public.id, "Einladung", "ohne Vermerk"),
                 DocumentText(public.id, "Niederschrift", "ohne", Location("Ausgabe/KPR-2026-1.docx"))]
    model = dataclasses.replace(model, sessions=(closed,))
    findings = run_rules(model, date(2026, 1, 1), documents, rules=(RULES_BY_CODE["GO-8.2"],))
    assert [f.location for f in findings] == [closed.src.at("public"), Location("Ausgabe/KPR-2026-1.docx")]
