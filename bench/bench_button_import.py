"""Cold import time of kpr_excel.excel.buttons, beside the floor of importing openpyxl and xlwings alone.

A click on a ribbon button starts a fresh Python process:

    python -B -c "import xlwings.utils; xlwings.utils.prepare_sys_path(...);
                  import kpr_excel.excel.buttons as b; b.hilfe()"

so everything the buttons module imports is paid on every click, before any work. Each
row below runs its imports in a fresh process with ``-B -X importtime`` (as xlwings starts
Python, bytecode caches read but not written) and reports two medians over the runs:

- import ms: the summed ``-X importtime`` cumulative time of every module the statement
  imports beyond what the bare interpreter already imported at startup;
- process ms: wall time of the whole process, interpreter start and exit included.

kpr_excel's bytecode is compiled first, as pip does when it installs the package; without
it every -B run would compile the module again and measure the compiler.

Usage: python bench/bench_button_import.py [--runs 9]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CASES = (
    ("Python ohne Import (Start des Interpreters)", "pass"),
    ("import kpr_excel.excel.buttons", "import kpr_excel.excel.buttons"),
    ("import openpyxl", "import openpyxl"),
    ("import xlwings", "import xlwings"),
    ("import openpyxl, xlwings", "import openpyxl, xlwings"),
    ("Klick bis zur Aktion: xlwings.utils + kpr_excel.excel.buttons",
     "import xlwings.utils; import kpr_excel.excel.buttons"),
    # xlwings.utils imports matplotlib.pyplot and numpy whenever they are installed. kpr-excel
    # no longer depends on matplotlib (the report's chart is drawn with Pillow), so in its own
    # environment a click costs this row; the previous one applies where another package
    # brings matplotlib along (the import is blocked here, not uninstalled).
    ("dasselbe ohne matplotlib (die Umgebung von kpr-excel)",
     "import sys; sys.modules['matplotlib'] = None; import xlwings.utils; import kpr_excel.excel.buttons"),
)


def _importtime(statement: str) -> tuple[dict[str, int], float]:
    """Top-level modules imported by ``statement`` with their cumulative µs, and the wall time."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    started = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-B", "-X", "importtime", "-c", statement],
        capture_output=True, text=True, check=True, cwd=REPO, env=env,
    )
    wall = time.perf_counter() - started
    top_level: dict[str, int] = {}
    for line in completed.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # depth 0 is printed with exactly one space
            top_level[name.strip()] = int(cumulative)
    return top_level, wall


def measure(runs: int) -> list[tuple[str, float, float]]:
    startup = set(_importtime("pass")[0])
    rows = []
    for label, statement in CASES:
        imports, walls = [], []
        for _ in range(runs):
            modules, wall = _importtime(statement)
            imports.append(sum(us for name, us in modules.items() if name not in startup) / 1000)
            walls.append(wall * 1000)
        rows.append((label, statistics.median(imports), statistics.median(walls)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="fresh processes per row (default 9)")
    runs = parser.parse_args().runs
    compileall.compile_dir(REPO / "kpr_excel", quiet=1)
    print(f"Python {sys.version.split()[0]} ({sys.executable}), Median aus {runs} Läufen, "
          "jeweils ein neuer Prozess mit -B -X importtime")
    print(f"{'':58} {'import ms':>10} {'Prozess ms':>11}")
    for label, imported, wall in measure(runs):
        print(f"{label:58} {imported:10.1f} {wall:11.1f}")


if __name__ == "__main__":
    main()
