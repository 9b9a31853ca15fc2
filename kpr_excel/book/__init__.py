"""Workbook adapters: sheets in, plain rows with their locations out (and results back in).

Two adapters share this interface: `openpyxl_io` for a file (CLI) and `xlwings_io` for the
book open in Excel (ribbon buttons). Everything above them sees only `SheetRows`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SheetRows:
    """One sheet as values: every non-empty row with its Excel row number (1-based)."""

    name: str
    rows: tuple[tuple[int, tuple[object, ...]], ...]


Book = dict[str, SheetRows]
