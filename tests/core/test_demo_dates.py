"""The full demo at hard dates: `shopfloor demo` loads, and every module's main pages open (200, no error page)
for the demo admin, the demo tutor and a demo apprentice.

The page handlers read the real clock, so each date runs in its own process under libfaketime (the
`faketime` command, Debian package `faketime`, installed by scripts/test): the demo, the services and the
pages all see the faked clock, which starts at the given instant and advances from there. Each process has
a fresh instance folder and SQLite database and uses the app's Flask test client
(tests/core/demo_dates_check.py does the work and prints which page failed).

SQLite only: a PostgreSQL server does not see libfaketime's clock (its `now()` and `CURRENT_DATE` stay on
the real date), so the same run against PostgreSQL would mix two clocks.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

PARIS = ZoneInfo("Europe/Paris")
ROOT = Path(__file__).resolve().parents[2]
CHECK = Path(__file__).with_name("demo_dates_check.py")


def paris(*args, fold: int = 0) -> datetime:
    """A Paris wall-clock time as a UTC instant (fold=1: the second 02:30 of the October switch)."""
    return datetime(*args, tzinfo=PARIS, fold=fold).astimezone(timezone.utc)


# (id, UTC instant): the Paris day differs from the UTC day, months, years and DST switches turn
HARD_DATES = [
    ("1st-of-month-00h30-paris", paris(2026, 12, 1, 0, 30)),                 # 30 Nov 23:30 UTC
    ("31-december-23h30-utc", datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)),   # 1 January in Paris
    ("dst-march-01h30-paris", paris(2027, 3, 28, 1, 30)),                    # last Sunday of March, CET
    ("dst-march-02h30-paris", paris(2027, 3, 28, 2, 30)),                    # does not exist: 03:30 CEST
    ("dst-october-01h30-paris", paris(2026, 10, 25, 1, 30)),                 # last Sunday of October, CEST
    ("dst-october-02h30-paris-first", paris(2026, 10, 25, 2, 30)),           # 02:30 CEST (00:30 UTC)
    ("dst-october-02h30-paris-second", paris(2026, 10, 25, 2, 30, fold=1)),  # 02:30 CET (01:30 UTC)
    ("29-february-2028", paris(2028, 2, 29, 0, 30)),                          # 28 Feb 23:30 UTC
]


def test_hard_dates_are_the_ones_announced():
    """The list above says what it claims: Paris and UTC days differ where they should, the switches are real."""
    as_paris = {name: moment.astimezone(PARIS) for name, moment in HARD_DATES}
    assert as_paris["1st-of-month-00h30-paris"].day == 1
    assert HARD_DATES[0][1].day == 30
    assert as_paris["31-december-23h30-utc"].date().isoformat() == "2027-01-01"
    assert as_paris["dst-march-01h30-paris"].utcoffset().total_seconds() == 3600
    assert as_paris["dst-march-02h30-paris"].utcoffset().total_seconds() == 7200
    assert as_paris["dst-october-02h30-paris-first"].utcoffset().total_seconds() == 7200
    assert as_paris["dst-october-02h30-paris-second"].utcoffset().total_seconds() == 3600
    assert as_paris["29-february-2028"].date().isoformat() == "2028-02-29"


def _environment(folder: Path, template_cache: Path | None = None) -> dict:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("SHOPFLOOR_", "FAKETIME"))}
    if template_cache:
        env["DEMO_DATES_TEMPLATE_CACHE"] = str(template_cache)
    env.update({"TZ": "UTC",   # faketime reads the instant in the local zone
                "SHOPFLOOR_INSTANCE_PATH": str(folder / "instance"),
                "SHOPFLOOR_DATABASE_URL": f"sqlite:///{folder / 'shopfloor.db'}",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))})
    return env


def _run_at(moment: datetime, folder: Path, schema: Path) -> subprocess.CompletedProcess:
    """`shopfloor demo` and the pages, in a process whose clock starts at `moment`, on a copy of a database
    that `shopfloor init` prepared (the demo's own `init` then has nothing to migrate: it saves a minute)."""
    folder.mkdir()
    for part in schema.parent.glob(schema.name + "*"):
        shutil.copyfile(part, folder / part.name)
    faketime = shutil.which("faketime")
    return subprocess.run([faketime, "-f", f"@{moment:%Y-%m-%d %H:%M:%S}", sys.executable, str(CHECK)],
                          cwd=ROOT, env=_environment(folder, schema.parent.parent / "templates"), capture_output=True,
                          text=True, timeout=1200)


@pytest.fixture(scope="module")
def runs(request, tmp_path_factory):
    """Every selected date starts at once, as many at a time as there are cores; each test waits for its own."""
    assert shutil.which("faketime"), "libfaketime is needed: apt-get install faketime (scripts/test installs it)"
    base = tmp_path_factory.mktemp("demo_dates")
    (base / "schema").mkdir()
    (base / "templates").mkdir()
    init = subprocess.run([sys.executable, "-c", "from shopfloor.cli import main; main()", "init"], cwd=ROOT,
                          env=_environment(base / "schema"), capture_output=True, text=True, timeout=600)
    assert init.returncode == 0, init.stdout + init.stderr
    selected = {item.callspec.params["moment"] for item in request.session.items
                if item.originalname == "test_demo_loads_and_pages_open_at_a_hard_date"}
    pool = ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)))
    futures = {moment: pool.submit(_run_at, moment, base / name, base / "schema" / "shopfloor.db")
               for name, moment in HARD_DATES if moment in selected}
    yield futures
    pool.shutdown(cancel_futures=True)


@pytest.mark.parametrize("moment", [moment for _, moment in HARD_DATES], ids=[name for name, _ in HARD_DATES])
def test_demo_loads_and_pages_open_at_a_hard_date(moment, runs):
    run = runs[moment].result()
    output = run.stdout + run.stderr
    print(output)
    failed = [line for line in output.splitlines() if line.startswith("FAIL")]
    assert run.returncode == 0 and not failed, (
        f"At {moment:%Y-%m-%d %H:%M} UTC ({moment.astimezone(PARIS):%Y-%m-%d %H:%M %Z} in Paris):\n"
        + "\n".join(failed or output.splitlines()[-40:]))
    summary = [line for line in output.splitlines() if line.startswith("CHECKED")]
    assert summary and int(summary[0].split()[1]) > 100, output   # it did open the pages
    clock = [line for line in output.splitlines() if line.startswith("CLOCK")]
    started = datetime.fromisoformat(clock[0].split()[1]) if clock else None
    assert started and timedelta(0) <= started - moment < timedelta(minutes=10), output   # under the faked clock
