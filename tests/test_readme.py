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
