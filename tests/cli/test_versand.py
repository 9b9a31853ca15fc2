"""The send's progress bar: rich on a terminal, nothing where no one watches (a pipe, a log)."""

from __future__ import annotations

import io
import sys

from kpr_excel.cli import versand


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_names_the_recipient(monkeypatch):
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    with versand._progress() as progress:
        progress(1, 3, "Juliane Hempel")
        progress(2, 3, "Max Muster")
    assert "Versand an Max Muster" in screen.getvalue()
    assert "2/3" in screen.getvalue()


def test_no_progress_bar_and_no_rich_where_no_one_watches(monkeypatch):
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    for name in [m for m in sys.modules if m == "rich" or m.startswith("rich.")]:
        monkeypatch.delitem(sys.modules, name)
    with versand._progress() as progress:
        progress(1, 3, "Juliane Hempel")
    assert pipe.getvalue() == ""
    assert "rich" not in sys.modules
