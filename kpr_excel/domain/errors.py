"""Exceptions kpr-excel raises on purpose.

Problems in the user's data never raise: they become findings. Exceptions are for a file
that cannot be used at all, for unusable configuration and for failed side effects.
"""


class KprError(Exception):
    """Root of all errors kpr-excel raises on purpose; the message is German and for people."""

    exit_code = 1


class WorkbookUnusable(KprError):
    """The file cannot be read as a master workbook (missing, damaged, encrypted, wrong format)."""

    exit_code = 2


class WorkbookNotWritable(KprError):
    """The workbook must not be rewritten (open in Excel, or holds parts openpyxl would drop)."""

    exit_code = 2

    def __init__(self, message: str, *, fallback_allowed: bool = False):
        super().__init__(message)
        # True where writing the results to a separate file is a safe alternative.
        self.fallback_allowed = fallback_allowed
