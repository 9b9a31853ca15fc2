"""What the command line itself costs at every `kpr` call: start, parse, answer, exit.

Each `kpr` call starts Python anew, so the parser and everything the CLI imports are paid every
time before any work. Measured in fresh processes, alternately in one run, as ratios against the
floor of a bare interpreter (`python -c pass`):

- `kpr regeln --json`: parses arguments, imports the CLI and the rule registry, prints JSON;
- `kpr pruefen --hilfe`: the parser alone (help of one command);
- `kpr pruefen FEHLT.xlsx`: the path of an error (German message, exit code 2).

With `--vergleich DIR` the same commands also run from another checkout (e.g. the state before
argparse replaced typer: `git archive 092df43 | tar -x -C /tmp/kpr-alt`), alternately with this
one, so both are measured under the same load.

Usage: python bench/bench_cli_start.py [--runs 15] [--vergleich /tmp/kpr-alt]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

COMMANDS = (
    ("kpr regeln --json", ["regeln", "--json"]),
    ("kpr pruefen --hilfe", ["pruefen", "--hilfe"]),
    ("kpr pruefen FEHLT.xlsx", ["pruefen", "FEHLT.xlsx"]),
)


def _once(argv: list[str], checkout: Path | None) -> float:
    env = dict(os.environ)
    if checkout is not None:
        env["PYTHONPATH"] = str(checkout)
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=checkout or REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--vergleich", type=Path, default=None, help="ein anderer Stand zum Vergleich")
    args = parser.parse_args()

    checkouts: list[tuple[str, Path | None]] = [("dieser Stand", None)]
    if args.vergleich:
        checkouts.append((f"Vergleich {args.vergleich}", args.vergleich.resolve()))
    floor_cmd = [sys.executable, "-c", "pass"]
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.runs):
        times.setdefault(("Boden", "python -c pass"), []).append(_once(floor_cmd, None))
        for label, checkout in checkouts:
            for name, argv in COMMANDS:
                # Old checkouts had no "--hilfe"; "--help" worked in both.
                argv = [a if not (checkout and a == "--hilfe") else "--help" for a in argv]
                times.setdefault((label, name), []).append(_once([sys.executable, "-m", "kpr_excel", *argv],
                                                                 checkout))
    floor = statistics.median(times[("Boden", "python -c pass")])
    print(f"Median von {args.runs} Läufen, je ein frischer Prozess; Boden python -c pass: {floor * 1000:.0f} ms")
    for (label, name), values in times.items():
        if label == "Boden":
            continue
        median = statistics.median(values)
        print(f"{label:28} {name:24} {median * 1000:6.0f} ms  Verhältnis zum Boden {median / floor:5.2f}")


if __name__ == "__main__":
    main()
