"""The extra cost of the row locks on two state changes (issue 20): a pick confirm and an evidence review.

Each operation is timed as one user action — open a writing session, load the record, call the
service, commit — a few hundred times with the locks (the code as it is) and without them (the
transition locks and the freeze guard's lock turned into no-ops, inside this benchmark only: the
state is read from the loaded row as before issue 20). Setup (allocating the pick, submitting the
evidence) is not timed. Prints median and p95 in ms and the ratio with/without, on SQLite (a file
in a temporary folder, WAL) and on PostgreSQL (a throw-away server from tests/pgserver.py).

    python benchmarks/lock_cost.py [--runs 300] [--db all|sqlite|postgresql]
"""
from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from unittest import mock

from sqlalchemy import bindparam, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from shopfloor import create_app  # noqa: E402
from shopfloor.auth.models import User  # noqa: E402
from shopfloor.auth.services import UserInput, create_user  # noqa: E402
from shopfloor.evidence import freeze, services as evidence  # noqa: E402
from shopfloor.evidence.models import Evidence  # noqa: E402
from shopfloor.models import metadata  # noqa: E402
from shopfloor.referential.services import load_referential  # noqa: E402
from modules.stock import inputs, ledger, masterdata, picking, reception as receiving  # noqa: E402
from modules.stock.lookup import item_by_sku, location_by_code  # noqa: E402
from modules.stock.models import Item, PickList, Supplier  # noqa: E402
from benchmarks.common import percentile, postgres_database  # noqa: E402

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


# the set-based allocation's item lock (ledger.LOCK_ITEMS) without FOR UPDATE
ITEMS_UNLOCKED = select(*ledger.ITEM_COLUMNS).where(Item.id.in_(bindparam("ids", expanding=True))).order_by(Item.id)


@contextlib.contextmanager
def without_locks():
    """The transitions as before issue 20: decide on the row as loaded, lock nothing new."""
    def _no_lock(_db, row):
        return row

    real_codes = freeze.validated_codes
    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(picking, "_lock_open", lambda _db, pick: picking._open(pick)))
        stack.enter_context(mock.patch.object(ledger, "lock_items", lambda _db, ids: {}))
        stack.enter_context(mock.patch.object(ledger, "LOCK_ITEMS", ITEMS_UNLOCKED))
        stack.enter_context(mock.patch.object(evidence, "lock", _no_lock))
        stack.enter_context(mock.patch.object(freeze, "validated_codes",
                                              lambda db, ids, lock=False: real_codes(db, ids, lock=False)))
        yield


class Bench:
    def __init__(self, url: str, instance: Path):
        self.app = create_app({"INSTANCE_PATH": str(instance), "DATABASE_URL": url, "SECRET_KEY": "bench",
                               "TESTING": True})
        self.sessions = self.app.extensions["shopfloor_sessions"]
        metadata.create_all(self.sessions.engine)
        db = self.sessions.open(write=True)
        load_referential(db)
        self.tutor = create_user(db, UserInput("tutor", "Théo Tuteur", "tutor", "clef-formateur-2026")).id
        self.appr = create_user(db, UserInput("appr", "Alice Apprentie", "apprentice", "clef-atelier-2026",
                                              tutor="tutor", certifications=("LOG",))).id
        masterdata.create_supplier(db, inputs.supplier({"name": "Fournisseur bench", "lead_time_days": 5}))
        for code, kind in (("A-01-01-1", "storage"), ("L1", "line")):
            masterdata.create_location(db, inputs.location({"code": code, "kind": kind}))
        masterdata.create_item(db, inputs.item({"sku": "VIS-M8", "name": "Vis M8", "strategy": "fifo"}))
        db.commit()
        receiving.receive(db, db.get(User, self.appr), supplier=db.query(Supplier).one(),
                          delivery_note="BL-BENCH", now=NOW,
                          lines=[receiving.LineInput(sku="VIS-M8", qty=Decimal(100_000), location="A-01-01-1")])
        db.commit()
        db.close()

    def _session(self):
        return self.sessions.open(write=True)

    def _user(self, db, user_id):
        return db.get(User, user_id)

    # -- the two operations: setup (not timed), then the timed user action ----------------

    def new_pick(self) -> int:
        db = self._session()
        pick = picking.allocate(db, self._user(db, self.appr), requests=[(item_by_sku(db, "VIS-M8"), Decimal(3))],
                                destination=location_by_code(db, "L1"), now=NOW)
        db.commit()
        pick_id = pick.id
        db.close()
        return pick_id

    def confirm(self, pick_id: int) -> None:
        db = self._session()
        pick = db.get(PickList, pick_id)
        picking.confirm_all(db, self._user(db, self.appr), pick, NOW)
        db.commit()
        db.close()

    def new_evidence(self) -> tuple[int, int]:
        db = self._session()
        appr = self._user(db, self.appr)
        activity = evidence.create_activity(db, appr, title="Réception contrôlée",
                                            performed_at=NOW - timedelta(hours=1), now=NOW)
        piece = evidence.link_competence(db, appr, activity, "LOG-1",
                                         "J'ai contrôlé la livraison contre le bon de livraison.", NOW)
        evidence.submit(db, appr, piece, NOW)
        db.commit()
        ids = piece.id, piece.competence.criteria[0].id
        db.close()
        return ids

    def review(self, ids: tuple[int, int]) -> None:
        evidence_id, criterion = ids
        db = self._session()
        piece = db.get(Evidence, evidence_id)
        evidence.review(db, self._user(db, self.tutor), piece, "validate", "", [criterion], NOW)
        db.commit()
        db.close()

    def measure(self, setup, action, runs: int, locked: bool) -> list[float]:
        times = []
        for _ in range(runs):
            arg = setup()
            with (contextlib.nullcontext() if locked else without_locks()):
                start = time.perf_counter()
                action(arg)
                times.append((time.perf_counter() - start) * 1000)
        return times

    def close(self):
        self.sessions.engine.dispose()


def report(backend: str, name: str, with_locks: list[float], without: list[float]) -> None:
    m_with, m_without = statistics.median(with_locks), statistics.median(without)
    p_with, p_without = percentile(with_locks, 0.95), percentile(without, 0.95)
    print(f"{backend:<10} {name:<16} with locks: median {m_with:6.2f} ms, p95 {p_with:6.2f} ms | "
          f"without: median {m_without:6.2f} ms, p95 {p_without:6.2f} ms | "
          f"ratio median {m_with / m_without:4.2f}, p95 {p_with / p_without:4.2f}")


def run(backend: str, url: str, instance: Path, runs: int) -> None:
    bench = Bench(url, instance)
    try:
        for name, setup, action in (("pick confirm", bench.new_pick, bench.confirm),
                                    ("evidence review", bench.new_evidence, bench.review)):
            bench.measure(setup, action, 20, True)   # warm-up: caches, pool, statement cache
            bench.measure(setup, action, 20, False)
            # interleaved halves, so a slow drift of the machine weighs on both sides alike
            locked, unlocked = [], []
            for _ in range(2):
                locked += bench.measure(setup, action, runs // 2, True)
                unlocked += bench.measure(setup, action, runs // 2, False)
            report(backend, name, locked, unlocked)
    finally:
        bench.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--db", choices=("all", "sqlite", "postgresql"), default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="shopfloor-lock-bench-") as tmp:
        tmp = Path(tmp)
        print(f"{args.runs} runs per operation and side; one user action = load, service call, commit.")
        if args.db in ("all", "sqlite"):
            run("sqlite", f"sqlite:///{tmp / 'bench.db'}", tmp / "instance-sqlite", args.runs)
        if args.db in ("all", "postgresql"):
            with postgres_database("lock_bench") as url:
                run("postgresql", url, tmp / "instance-pg", args.runs)


if __name__ == "__main__":
    main()
