"""Every rule against workbooks that break it and workbooks that keep it (see examples.py)."""

from __future__ import annotations

import pytest

from kpr_excel.book.demo import demo_data
from kpr_excel.book.generate import build_workbook
from kpr_excel.book.loader import load_file
from kpr_excel.domain.deadlines import last_working_day
from kpr_excel.rules import RULES_BY_CODE, run_rules
from tests.rules.examples import EXAMPLES

# Rules whose findings concern a session; the sending code blocks a send on them.
SESSION_RULES = {"GO-3.2", "GO-4.2", "GO-6.2", "GO-7.2", "GO-7.3", "GO-7.4", "GO-7.5", "GO-7.6", "GO-7.7",
                 "GO-8.1", "GO-8.2"}
# Rules about a send or submission deadline: their findings carry it, and the day to act by.
DEADLINE_RULES = {"GO-4.2", "GO-6.2", "GO-7.2", "GO-7.4", "GO-7.6"}


def load_example(example, folder):
    data = demo_data(example.stichtag)
    example.edit(data)
    path = folder / "KPR.xlsx"
    build_workbook(data).save(path)
    return data, load_file(path)


def _examples():
    """Each example as a test; beyond the first breaking and the first keeping one of a rule, slow."""
    seen = set()
    for example in EXAMPLES:
        key = (example.code, example.breaks)
        yield pytest.param(example, id=example.id, marks=pytest.mark.slow if key in seen else ())
        seen.add(key)


@pytest.mark.parametrize("example", list(_examples()))
def test_example(example, tmp_path):
    data, loaded = load_example(example, tmp_path)
    assert loaded.findings == ()  # the data are valid: what is tested is the rule
    findings = run_rules(loaded.model, example.stichtag, example.documents)
    assert [f for f in findings if dict(f.extra).get("fehler")] == []  # no rule crashed on it

    found = [f for f in findings if f.code == example.code]
    cells = [(f.location.sheet, f.location.row, f.location.column) for f in found]
    assert sorted(cells, key=str) == sorted({at.resolve(data) for at in example.where}, key=str)
    rule = RULES_BY_CODE[example.code]
    for finding in found:
        assert (finding.symbol, finding.paragraph) == (rule.symbol, rule.paragraph)
        assert finding.severity in (rule.severity, rule.early_severity)
        if example.severity:
            assert finding.severity == example.severity
        if example.code in DEADLINE_RULES:
            assert finding.deadline is not None
        if finding.deadline:
            assert finding.act_by == last_working_day(finding.deadline)
        if example.code in SESSION_RULES:
            assert loaded.model.session(finding.session_id) is not None
