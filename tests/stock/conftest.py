"""A small store for the stock tests: locations of every kind, a FEFO glue, a FIFO and a LIFO item."""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from shopfloor import clock

from modules.stock import inputs, masterdata, reception as receiving
from modules.stock.reception import LineInput


class Store:
    def __init__(self, db, people, now):
        self.db, self.people, self.now = db, people, now
        masterdata.create_supplier(db, inputs.supplier({"name": "Colles Durand", "lead_time_days": 5}))
        masterdata.create_carrier(db, inputs.carrier({"name": "Transports Martin"}))
        for code, kind, extra in [
            ("QUAI-01", "reception", {}), ("QUAR-01", "quarantine", {}), ("L1", "line", {}), ("L2", "line", {}),
            ("EXP-01", "shipping", {}), ("REBUT", "scrap", {}), ("DECH", "waste", {}),
            ("A-01-01-1", "storage", {"near_dock": True}), ("A-01-02-1", "storage", {}),
            ("B-02-01-1", "storage", {}), ("B-02-01-2", "storage", {"max_weight_kg": 50}),
            ("H-01-01-1", "storage", {"hazardous_ok": True}),
            ("F-01-01-1", "storage", {"temp_min": 2, "temp_max": 8}),
        ]:
            masterdata.create_location(db, inputs.location({"code": code, "kind": kind, **extra}))
        self.glue = masterdata.create_item(db, inputs.item({"sku": "COL-100", "name": "Colle époxy", "strategy": "fefo",
                                                "lot_tracked": True, "shelf_life_days": 120,
                                                "removal_margin_days": 10, "category": "consommable",
                                                "unit_weight_kg": "1.2"}))
        self.screw = masterdata.create_item(db, inputs.item({"sku": "VIS-M8", "name": "Vis M8", "strategy": "fifo",
                                                 "unit_weight_kg": "0.01"}))
        self.box = masterdata.create_item(db, inputs.item({"sku": "CART-40", "name": "Carton 40", "strategy": "lifo",
                                               "category": "emballage"}))
        db.commit()

    def receive(self, sku, qty, location="A-01-02-1", lot="", expiry=None, user=None, when=None, **extra):
        """Arrange stock through the real reception service (committed)."""
        from sqlalchemy import select
        from modules.stock.models import Supplier
        supplier = self.db.scalar(select(Supplier))
        rec = receiving.receive(self.db, user or self.people.apprentice, supplier=supplier,
                                delivery_note=f"BL-{sku}-{lot or 'X'}-{qty}-{location}", now=when or self.now,
                                lines=[LineInput(sku=sku, qty=Decimal(qty), lot=lot, expiry=expiry,
                                                 location=location, **extra)])
        self.db.commit()
        return rec

    def day(self, days: int) -> date:
        """A date relative to today: the API decides expiry against the real clock."""
        return clock.paris_day() + timedelta(days=days)


@pytest.fixture
def store(db, people, now) -> Store:
    return Store(db, people, now)
