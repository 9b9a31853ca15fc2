"""The README documents every command, and its first code block holds the two commands CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from kpr_excel.cli import commands

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")



def test_every_command_is_in_the_readme():
    names = sorted(commands())
    assert len(names) >= 15
    missing = [c for c in names if f"kpr {c}" not in README]
    assert missing == [], f"im README fehlen: {missing}"


def test_readme_starts_with_exactly_two_commands():
    block = re.search(r"```\n(.*?)```", README, re.S)
    assert block is not None and README.index("```") < 200
    lines = [line for line in block[1].splitlines() if line.strip()]
    assert len(lines) == 2
    assert "kpr demo" in lines[0] and "pytest" in lines[1]


def test_the_apt_line_installs_what_ci_installs():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    install = re.search(r"apt-get install (.*?) >/dev/null", ci, re.S)
    assert install is not None
    packages = {word for word in install[1].replace("\\\n", " ").split() if not word.startswith("-")}
    assert {"libreoffice-writer-nogui", "poppler-utils", "fonts-crosextra-carlito"} <= packages
    apt = next(line for line in README.split("`") if line.startswith("apt-get install"))
    assert packages <= set(apt.split()), packages - set(apt.split())


def test_a_windows_cmd_line_has_the_same_commands_in_double_quotes():
    blocks = re.findall(r"```\n(.*?)```", README, re.S)
    ci_line = [line for line in blocks[0].splitlines() if line.strip()][1]
    assert "'.[test]'" in ci_line  # the line .ci/run takes stays as it was
    windows = [line for block in blocks[1:] for line in block.splitlines() if '".[test]"' in line]
    assert windows == [ci_line.replace("'.[test]'", '".[test]"')]
    assert "'" not in windows[0]
