"""A send of 32 invitations on the ten-year workbook beside one load-and-save of it (issue 10).

The workbook of `bench_pruefen.ten_years` (about 525 persons, 400 sessions, 20,000 attendance rows);
its session KPR-2026-4 (Stichtag 18.11.2026) goes to 32 recipients, its documents made first as the
office does. Each round, alternately and each in a fresh process on a fresh copy:

- the floor: `openpyxl.load_workbook(path)` and `.save()` of the same file;
- `kpr einladung senden` to the outbox: check, plan, pre-flight, 32 messages through the journal,
  the Versand sheet and session cells patched back into the workbook.

Goal: the send within 1.5 times the floor. Peak memory (ru_maxrss of the child) beside each.

    python bench/bench_send_ten_years.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from bench_pruefen import LAUNCHER, STICHTAG, ten_years  # noqa: E402

from kpr_excel.book.generate import build_workbook  # noqa: E402
from kpr_excel.book.loader import load_file  # noqa: E402
from kpr_excel.documents.produce import write_invitation  # noqa: E402

SESSION = "KPR-2026-4"
FLOOR = "import openpyxl, sys; openpyxl.load_workbook(sys.argv[1]).save(sys.argv[1])"


def run(command: list[str], env: dict) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    if out[1] not in ("0",):
        raise SystemExit(f"{command} ended with {out[1]}")
    return float(out[0]), int(out[2])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base"
        base.mkdir()
        book = base / "KPR.xlsx"
        build_workbook(ten_years(random.Random(7))).save(book)
        write_invitation(book, load_file(book).model, SESSION, today=STICHTAG)
        floors, sends = [], []
        for number in range(args.runs):
            for label, timings in (("floor", floors), ("send", sends)):
                work = Path(folder) / f"{label}-{number}"
                shutil.copytree(base, work)
                target = work / "KPR.xlsx"
                if label == "floor":
                    command = [sys.executable, "-c", FLOOR, str(target)]
                else:
                    command = [sys.executable, "-m", "kpr_excel", "einladung", "senden", str(target), SESSION,
                               "--stichtag", f"{STICHTAG:%d.%m.%Y}"]
                timings.append(run(command, env))
                if label == "send":
                    sent = len(list((work / "Ausgabe" / "Postausgang").glob("*.eml")))
                    assert sent == 32, sent
    floor = statistics.median(t for t, _ in floors)
    send = statistics.median(t for t, _ in sends)
    ratios = sorted(s[0] / f[0] for s, f in zip(sends, floors))
    ratio = statistics.median(ratios)
    print(f"{args.runs} Runden, abwechselnd, je ein frischer Prozess auf einer frischen Kopie")
    print(f"openpyxl laden und speichern (Boden) {floor:6.2f} s, {max(m for _, m in floors) / 1024:4.0f} MB")
    print(f"kpr einladung senden, 32 Nachrichten {send:6.2f} s, {max(m for _, m in sends) / 1024:4.0f} MB | "
          f"Verhältnis {ratio:.2f} (Spanne {ratios[0]:.2f}-{ratios[-1]:.2f}; Ziel <= 1.5) "
          f"{'ok' if ratio <= 1.5 else 'VERFEHLT'}")


if __name__ == "__main__":
    main()
