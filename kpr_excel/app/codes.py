"""The registry of every finding code the tool can print, in the order `kpr regeln` lists them.

Each family declares its own codes where its checks live (the rules of procedure in
`rules`, the workbook's own checks in `book.loader`, the templates' in `documents.checks`,
the add-in's in `addin.sources`); this module only puts them together and makes sure that
no code or symbol is used twice. A family added later adds one line here.
"""

from __future__ import annotations

from kpr_excel.addin.sources import CHECKS as ADDIN_CODES
from kpr_excel.app.preflight import CODES as PREFLIGHT_CODES
from kpr_excel.book.loader import DATA_CODES
from kpr_excel.documents.checks import CODES as TEMPLATE_CODES
from kpr_excel.documents.fingerprint import CODES as DOCUMENT_CODES
from kpr_excel.domain.findings import Code
from kpr_excel.rules import RULES


def _registry(*families: tuple[Code, ...]) -> tuple[Code, ...]:
    codes = tuple(code for family in families for code in family)
    for attribute in ("code", "symbol"):
        seen: set[str] = set()
        for code in codes:
            value = getattr(code, attribute)
            if value in seen:
                raise ValueError(f"finding {attribute} {value!r} is used twice")
            seen.add(value)
    return codes


CODES: tuple[Code, ...] = _registry(tuple(r.info for r in RULES), DATA_CODES, TEMPLATE_CODES, DOCUMENT_CODES,
                                    ADDIN_CODES, PREFLIGHT_CODES)
CODES_BY_NAME = {c.code: c for c in CODES}
