"""Time of `kpr pruefen` on the demo and on a ten-year workbook, beside the floor.

The floor is a bare `openpyxl.load_workbook` of the same file in a fresh process: what any
tool that reads the workbook with openpyxl pays at least. Each command runs in a fresh
process (as the CLI and the Excel buttons do), the whole check from start to exit. Floor and
check run alternately, so that a machine busy with other work slows both alike; each pair
gives one ratio, and the median ratio counts, with the peak memory (max RSS) of each
process beside it. Goal: the check faster than the bare load (ratio below 1.0) on both.

    PYTHONPATH=. python bench/bench_pruefen.py [--runs 7] [--folder /tmp/kpr-bench]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from datetime import time as clock
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kpr_excel.book.demo import FRAKTIONEN, demo_data  # noqa: E402
from kpr_excel.book.generate import build_workbook, composition_rows, settings_rows  # noqa: E402
from kpr_excel.domain.deadlines import last_working_day  # noqa: E402

STICHTAG = date(2026, 11, 18)
FIRST_YEAR = STICHTAG.year - 9
FLOOR = "import openpyxl, sys; openpyxl.load_workbook(sys.argv[1])"
# The same check without the command line (what an Excel button or a library caller pays):
# the difference to `kpr pruefen` is what the CLI framework costs at start-up.
LIBRARY = ("import sys; from datetime import date; from pathlib import Path; "
           "from kpr_excel.app.check import check_file; "
           "sys.exit(check_file(Path(sys.argv[1]), date.fromisoformat(sys.argv[2])).exit_code)")


def _mail(pid: str) -> str:
    return f"{pid.lower()}@dresden.example"


def _person(pid, category, first, last, **fields) -> dict:
    return dict(id=pid, salutation="Frau" if int(pid[1:]) % 2 else "Herr", first_name=first, last_name=last,
                category=category, email=_mail(pid), institution="Landeshauptstadt Dresden", **fields)


def ten_years(rng: random.Random) -> dict[str, list[dict]]:
    """A realistic decade of the KPR: 2017 to 2026, members changing at terms, about 525 persons,
    400 sessions, 5,000 agenda items and 20,000 attendance rows."""
    persons: list[dict] = []
    seats = composition_rows()
    terms = [(date(FIRST_YEAR, 1, 1), date(FIRST_YEAR + 3, 12, 31)),
             (date(FIRST_YEAR + 4, 1, 1), date(FIRST_YEAR + 6, 12, 31)),
             (date(FIRST_YEAR + 7, 1, 1), None)]
    holders: list[tuple[dict, dict]] = []  # (seat, person)

    def add(category, **fields):
        pid = f"P{len(persons) + 1:03d}"
        persons.append(_person(pid, category, f"Vorname{len(persons)}", f"Name{len(persons)}", **fields))
        return persons[-1]

    for start, end in terms:
        for seat in seats:
            fraktionen = [f for f, _ in FRAKTIONEN] if seat["per_fraktion"] else [None]
            for fraktion in fraktionen:
                member = add("Mitglied", seat=seat["id"], fraktion=fraktion, active_from=start, active_until=end)
                holders.append((seat, member))
                add("Vertretung", deputy_of=member["id"], fraktion=fraktion, active_from=start, active_until=end)
    guests = [add("Gast", active_from=date(FIRST_YEAR, 1, 1)) for _ in range(525 - len(persons))]

    def active(day, pool):
        return [p for p in pool if p["active_from"] <= day and (p["active_until"] is None or day <= p["active_until"])]

    members = [p for p in persons if p["category"] != "Gast"]
    chairs = [p for s, p in holders if s["chair"]]
    sessions, agenda, attendance, decisions, groups, send_log = [], [], [], [], [], []

    def add_session(sid, gremium, day, number, chair, group=None):
        held = day < STICHTAG
        sent = last_working_day(day - timedelta(days=16))
        sessions.append(dict(
            id=sid, gremium=gremium, working_group=group, number=number, date=day, start=clock(15), end=clock(17),
            place="Neues Rathaus", public=False, chair=chair, minute_taker="P001", focus="Schwerpunkt",
            status="durchgeführt" if held else "eingeladen" if sent <= STICHTAG else "geplant",
            invitation_sent=sent if sent <= STICHTAG else None,
            minutes_sent=day + timedelta(days=9) if day + timedelta(days=9) <= STICHTAG else None))
        present = active(day, members)
        for n in range(12 + len(sessions) % 2):  # 12.5 items a session on average
            submitter = rng.choice(present)
            confidential = n == 0
            agenda.append(dict(session=sid, number=str(n + 3), title=f"Tagesordnungspunkt {n + 3}",
                               submitter=submitter["id"], submitted_on=day - timedelta(days=30),
                               confidential=confidential, guests=None if confidential else rng.choice(guests)["id"],
                               documents=f"Unterlage_{sid}_{n}.pdf"))
        for person in (present + guests)[:50]:
            attendance.append(dict(session=sid, person=person["id"], status="anwesend"))
        if gremium == "KPR":
            for n in range(3):
                decisions.append(dict(id=f"B-{sid}-{n}", session=sid, item=str(n + 3), kind="Beschluss",
                                      text="Der KPR empfiehlt ...", owner="Geschäftsstelle", state="erledigt"))
            if held:
                for person in present[:30]:
                    for document, when in (("Einladung", sent), ("Niederschrift", day + timedelta(days=9))):
                        send_log.append(dict(key=f"{sid}|{document}|{person['id']}|v1", session=sid,
                                             document=document, recipient=person["id"], email=person["email"],
                                             version="1", transport="exchange", state="gesendet",
                                             timestamp=when))

    for year in range(FIRST_YEAR, STICHTAG.year + 1):
        for number, month in enumerate((3, 6, 9, 12), start=1):
            day = date(year, month, 8) + timedelta(days=(2 - date(year, month, 8).weekday()) % 7)
            chair = rng.choice([c["id"] for c in active(day, chairs)])
            add_session(f"JF-{year}-{number}", "Jour fixe", day - timedelta(days=36), number, chair)
            add_session(f"KPR-{year}-{number}", "KPR", day, number, chair)
        for g in range(4):
            gid = f"AG-{year}-{g + 1}"
            lead = rng.choice(active(date(year, 1, 10), members))
            groups.append(dict(id=gid, theme=f"Arbeitsgruppe {year}/{g + 1}", kind="befristet",
                               established=date(year, 1, 10), limited_until=date(year, 12, 31), lead=lead["id"],
                               members=lead["id"], status_description="Lage", recommendations="Empfehlungen",
                               goals="Ziel", status="aktiv" if year == STICHTAG.year else "beendet"))
            for n in range(8):
                day = date(year, 1, 20) + timedelta(days=42 * n + g)
                add_session(f"{gid}-{n + 1}", "Arbeitsgruppe", day, n + 1, None, gid)
        if year < STICHTAG.year:
            send_log.append(dict(key=f"Jahresbericht-{year}", session=str(year), document="Jahresbericht",
                                 state="gesendet", timestamp=date(year + 1, 3, 1)))
    return {
        "Mitglieder": persons, "Sollbesetzung": composition_rows(),
        "Fraktionen": [dict(id=i, name=n) for i, n in FRAKTIONEN], "Sitzungen": sessions, "Tagesordnung": agenda,
        "Anwesenheit": attendance, "Beschluesse": decisions, "Arbeitsgruppen": groups,
        "Projekte": [dict(id=f"PR-{i}", title=f"Projekt {i}", year=FIRST_YEAR + i % 10) for i in range(60)],
        "Versand": send_log, "Einstellungen": settings_rows(),
    }


# Runs one command and reports its wall time, exit code and peak memory. A small launcher
# process forks the command: forked from this process, which holds the generated data, the
# child's peak memory would count this process's pages as well.
LAUNCHER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)
elapsed = time.perf_counter() - started
print(elapsed, code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def timed(command: list[str], env: dict) -> tuple[float, int, int]:
    """Wall time, exit code and peak memory (KiB) of one fresh process."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *command], env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    return float(out[0]), int(out[1]), int(out[2])


def alternately(commands: list[list[str]], runs: int, env: dict) -> list[list[tuple[float, int]]]:
    """Per round, (seconds, peak KiB) of each command, the commands run one after the other."""
    rounds = []
    for _ in range(runs):
        results = []
        for command in commands:
            seconds, code, memory = timed(command, env)
            if code not in (0, 1):
                raise SystemExit(f"exit code {code}: {' '.join(command)}")
            results.append((seconds, memory))
        rounds.append(results)
    return rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--folder", type=Path, default=Path("/tmp/kpr-bench"))
    args = parser.parse_args()
    args.folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO), os.environ.get("PYTHONPATH"))))}

    files = {}
    for label, make in (("Demo", lambda: demo_data(STICHTAG)), ("Zehn Jahre", lambda: ten_years(random.Random(7)))):
        path = args.folder / f"{label.replace(' ', '_')}.xlsx"
        started = time.perf_counter()
        data = make()
        build_workbook(data).save(path)
        counts = ", ".join(f"{sheet} {len(rows)}" for sheet, rows in data.items()
                           if sheet in ("Mitglieder", "Sitzungen", "Tagesordnung", "Anwesenheit", "Versand"))
        print(f"{label}: {path} ({path.stat().st_size / 1e6:.1f} MB; {counts}), "
              f"erzeugt in {time.perf_counter() - started:.1f} s")
        files[label] = path

    print(f"\n{args.runs} Runden, abwechselnd, je ein frischer Prozess; Stichtag {STICHTAG:%d.%m.%Y}")
    stichtag = ["--stichtag", f"{STICHTAG:%d.%m.%Y}"]
    for label, path in files.items():
        rounds = alternately([[sys.executable, "-c", FLOOR, str(path)],
                              [sys.executable, "-m", "kpr_excel", "pruefen", str(path), "--json", *stichtag],
                              [sys.executable, "-c", LIBRARY, str(path), STICHTAG.isoformat()]], args.runs, env)
        floor = statistics.median(r[0][0] for r in rounds)
        floor_memory = max(r[0][1] for r in rounds)
        print(f"{label:11} openpyxl.load_workbook (Boden) {floor:6.2f} s, {floor_memory / 1024:4.0f} MB")
        for index, name in ((1, "kpr pruefen"), (2, "  ohne CLI (app.check_file)")):
            ratios = sorted(r[index][0] / r[0][0] for r in rounds)
            ratio = statistics.median(ratios)
            seconds = statistics.median(r[index][0] for r in rounds)
            memory = max(r[index][1] for r in rounds)
            print(f"{'':11} {name:29} {seconds:6.2f} s, {memory / 1024:4.0f} MB | Verhältnis {ratio:.2f} "
                  f"(Spanne {ratios[0]:.2f}-{ratios[-1]:.2f}; Ziel < 1.0) {'ok' if ratio < 1.0 else 'VERFEHLT'}")


if __name__ == "__main__":
    main()
