"""Changes to write back into the workbook, as values; each adapter applies them its own way."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReplaceSheet:
    """Replace all data rows of a tool-owned sheet (Pruefung); `title` goes above the header."""

    sheet: str
    rows: tuple[tuple[object, ...], ...]
    title: str = ""
    # Per row: (target sheet, row, column letter) to link the first cell to, or None.
    links: tuple[tuple[str, int, str] | None, ...] = ()


@dataclass(frozen=True)
class UpsertRows:
    """Insert or update rows of a sheet, matched on the value of column `key`."""

    sheet: str
    key: str
    rows: tuple[dict[str, object], ...]  # model attribute name -> value


@dataclass(frozen=True)
class SetCells:
    """Set single cells of rows that already exist, found by key: (key value, attribute, value).

    `key` names the attribute of the sheet's key column (e.g. "id" in Sitzungen). A row is
    found by the value in that column when the edit is applied, never by a row number
    remembered from the load: a row the office inserted meanwhile must not receive another
    row's cells. Every key of one `SetCells` is looked up before any cell is written, so a
    cell may change the key column itself.
    """

    sheet: str
    key: str | tuple[str, ...]  # one key column, or several that together name a row
    cells: tuple[tuple[object, str, object], ...]  # a tuple of values for several key columns

    @property
    def key_attrs(self) -> tuple[str, ...]:
        return (self.key,) if isinstance(self.key, str) else self.key

    def key_of(self, value: object) -> tuple[str, ...]:
        """A key value as compared with the cells' contents (text, trimmed)."""
        values = value if isinstance(value, tuple) else (value,)
        return tuple(_key_text(v) for v in values)


def _key_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


@dataclass(frozen=True)
class Edits:
    operations: tuple[ReplaceSheet | UpsertRows | SetCells, ...] = field(default=())

    def __add__(self, other: Edits) -> Edits:
        return Edits(self.operations + other.operations)

    def __bool__(self) -> bool:
        return bool(self.operations)
