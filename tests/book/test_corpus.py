"""The corpus of damaged and odd workbooks through `kpr pruefen`, run as a person runs it.

Every case is checked in a subprocess (`python -m kpr_excel pruefen FILE` and `--json`):
its exit code, exactly its DATA findings with their locations (the rules of procedure are
tested elsewhere), a German reason where the file
cannot be used, no traceback, and the input file byte-identical afterwards. Where the file
must not be rewritten, the `--json` run adds `--in-mappe` to prove it is left alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest
from corpus import CASES, DEMO, STICHTAG, Case

from kpr_excel.app import jobs
from kpr_excel.book import loader

pytestmark = pytest.mark.slow  # every case runs `python -m kpr_excel` twice

ROOT = Path(__file__).resolve().parents[2]


def kpr_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KPR_DEBUG"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env["PYTHONIOENCODING"] = "utf-8"
    env["COLUMNS"] = "200"
    return env


def run_kpr(*args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kpr_excel", *map(str, args)], cwd=cwd, env=kpr_env(),
                          capture_output=True, text=True, encoding="utf-8", timeout=180)


def digest(path: Path) -> str | None:
    if path.is_dir():
        return "dir:" + ",".join(sorted(p.name for p in path.iterdir()))
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


@dataclass
class Outcome:
    case: Case
    path: Path
    before: str | None
    listing: list[str]
    text: subprocess.CompletedProcess | None = None
    json: subprocess.CompletedProcess | None = None

    @property
    def runs(self):
        return (self.text, self.json)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> dict[str, Outcome]:
    """Every case built in its own folder, then all CLI runs at once, a few in parallel."""
    root = tmp_path_factory.mktemp("corpus")
    demo = jobs.new_workbook(root / "demo" / "KPR-Demo.xlsx", data=DEMO)
    outcomes = {}
    for case in CASES:
        folder = root / case.name
        folder.mkdir()
        path = folder / case.filename
        case.build(demo, path)
        outcomes[case.name] = Outcome(case, path, digest(path), sorted(p.name for p in folder.iterdir()))
    stichtag = STICHTAG.strftime("%d.%m.%Y")

    def run(outcome: Outcome, as_json: bool):
        args = ["pruefen", outcome.path.name, "--stichtag", stichtag]
        if as_json:
            args += ["--json"] + (["--in-mappe"] if outcome.case.refuses_writing else [])
        return run_kpr(*args, cwd=outcome.path.parent)

    jobs_ = [(o, as_json) for o in outcomes.values() for as_json in (False, True)]
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda job: run(*job), jobs_))
    for (outcome, as_json), result in zip(jobs_, results):
        setattr(outcome, "json" if as_json else "text", result)
    return outcomes


def test_the_base_breaks_no_rule_at_error_level(corpus):
    """Otherwise the exit codes of the cases would not tell their DATA findings apart."""
    base = corpus["zusaetzliche-blaetter"]  # the demo plus sheets the loader ignores
    assert base.json.returncode == 0, base.text.stdout
    assert not [f for f in json.loads(base.json.stdout)["findings"] if f["code"].startswith("DATA-")]


def test_the_corpus_is_large_and_named_uniquely():
    names = [case.name for case in CASES]
    assert len(names) == len(set(names))
    assert len(CASES) >= 20
    assert {case.exit_code for case in CASES} == {0, 1, 2}


@pytest.fixture(params=CASES, ids=lambda case: case.name)
def outcome(request, corpus) -> Outcome:
    return corpus[request.param.name]


def _squeeze(text: str) -> str:
    """Text without any whitespace: rich wraps long lines wherever the terminal width ends."""
    return "".join(text.split())


def test_exit_code(outcome):
    assert [run.returncode for run in outcome.runs] == [outcome.case.exit_code] * 2, outcome.text.stderr


def test_never_a_traceback(outcome):
    for run in outcome.runs:
        both = run.stdout + run.stderr
        assert "Traceback" not in both
        assert "Interner Fehler" not in both


def test_json_lists_exactly_the_expected_findings(outcome):
    summary = json.loads(outcome.json.stdout)
    assert summary["file"] == str(outcome.path.name)
    assert summary["exit_code"] == outcome.case.exit_code
    if outcome.case.message:  # the file is no workbook: a reason, on stderr and in the JSON, no findings
        assert summary.get("findings", []) == []
        assert _squeeze(outcome.case.message) in _squeeze(summary["error"])
        return
    assert summary["stichtag"] == STICHTAG.isoformat()
    findings = summary["findings"]
    severities = [f["severity"] for f in findings]
    assert summary["counts"] == {label: severities.count(label) for label in ("Fehler", "Warnung", "Hinweis")}
    data = {(f["code"], f["sheet"], f["row"], f["column"]) for f in findings if f["code"].startswith("DATA-")}
    assert data == set(outcome.case.findings)
    for finding in findings:
        assert finding["severity"] in ("Fehler", "Warnung", "Hinweis")
        assert finding["message"].strip()
    errors = any(f["severity"] == "Fehler" for f in findings)
    assert outcome.case.exit_code == (2 if outcome.case.exit_code == 2 else int(errors))


def _where(sheet: str, row: int | None, column: str | None) -> str:
    if row is None:
        return sheet
    return f"{sheet}!{column}{row}" if column else f"{sheet}, Zeile {row}"


def test_text_names_each_finding_at_its_cell(outcome):
    output = outcome.text.stdout
    if outcome.case.message:
        assert _squeeze(outcome.case.message) in _squeeze(outcome.text.stderr)
        assert _squeeze(outcome.case.message) in _squeeze(outcome.json.stderr)
        assert _squeeze(outcome.path.name) in _squeeze(outcome.text.stderr)
        return
    lines = [line.strip() for line in output.splitlines() if ": DATA-" in line]
    assert len(lines) == len(outcome.case.findings)
    for code, sheet, row, column in outcome.case.findings:
        prefix = f"{outcome.path.name}:{_where(sheet, row, column)}: {code} "
        assert any(line.startswith(prefix) for line in lines), (prefix, lines)


def test_input_stays_byte_identical(outcome):
    assert digest(outcome.path) == outcome.before
    folder = sorted(p.name for p in outcome.path.parent.iterdir())
    if outcome.case.side_file:
        assert folder == sorted([*outcome.listing, f"{outcome.path.stem}_Ergebnis.xlsx"])
    elif outcome.case.refuses_writing:
        assert folder == outcome.listing  # no side file, no backup folder, no temporary file


@pytest.mark.parametrize("case", [c for c in CASES if c.side_file], ids=lambda c: c.name)
def test_results_go_to_a_side_file_with_the_whole_workbook(case, corpus):
    outcome = corpus[case.name]
    side = outcome.path.with_name(f"{outcome.path.stem}_Ergebnis.xlsx")
    original, copy = loader.load_file(outcome.path), loader.load_file(side)
    assert copy.findings == original.findings == ()
    assert copy.model == original.model
    title = openpyxl.load_workbook(side)["Pruefung"]["A1"].value
    assert title.startswith("Prüfung vom ") and f"Stichtag {STICHTAG:%d.%m.%Y}" in title
