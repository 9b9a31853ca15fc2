"""The README documents every command, and its first code block holds the two commands CI runs."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from kpr_excel.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix=()):
    for name, command in getattr(group, "commands", {}).items():
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield " ".join(path)


def test_every_command_is_in_the_readme():
    commands = sorted(_commands(typer.main.get_command(app)))
    assert len(commands) >= 15
    missing = [c for c in commands if f"kpr {c}" not in README]
    assert missing == [], f"im README fehlen: {missing}"


def test_readme_starts_with_exactly_two_commands():
    block = re.search(r"```\n(.*?)```", README, re.S)
    assert block is not None and README.index("```") < 200
    lines = [line for line in block[1].splitlines() if line.strip()]
    assert len(lines) == 2
    assert "kpr demo" in lines[0] and "pytest" in lines[1]
