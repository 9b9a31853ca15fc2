"""Run `kpr` in this process as a person would from a console: arguments in, text and exit code out.

`kpr(*args, input=...)` calls `kpr_excel.cli.main(argv)` with stdout, stderr and stdin replaced,
and returns what the person saw: `stdout`, `stderr`, both interleaved as `output`, and the exit
code `main` returned. An exception escaping `main` (which it must never let happen) is kept in
`exception`, with its traceback appended to `output`, and gives exit code 1, as a console shows it.
"""

from __future__ import annotations

import contextlib
import io
import sys
import traceback
from dataclasses import dataclass

from kpr_excel.cli import main


@dataclass(frozen=True)
class Result:
    exit_code: int
    stdout: str
    stderr: str
    output: str
    exception: BaseException | None = None


class _Stream(io.StringIO):
    """One of stdout/stderr: keeps its own text and copies it into the interleaved `output`."""

    def __init__(self, both: io.StringIO) -> None:
        super().__init__()
        self._both = both

    def write(self, text: str) -> int:
        self._both.write(text)
        return super().write(text)

    def isatty(self) -> bool:
        return False


def kpr(*args, input: str | None = None) -> Result:
    both = io.StringIO()
    out, err = _Stream(both), _Stream(both)
    stdin = sys.stdin
    sys.stdin = io.StringIO(input or "")
    exception: BaseException | None = None
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main([str(arg) for arg in args])
            except BaseException as exc:
                exception = exc
                traceback.print_exc(file=err)
                code = 1
    finally:
        sys.stdin = stdin
    return Result(code, out.getvalue(), err.getvalue(), both.getvalue(), exception)
