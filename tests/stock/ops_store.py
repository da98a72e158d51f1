"""A small store for the operations tests, arranged straight through the ledger (lead's API)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from modules.stock import ledger
from modules.stock.models import Carrier, Item, Location, Lot, Supplier


class OpsStore:
    def __init__(self, db, people, now: datetime):
        self.db, self.people, self.now = db, people, now
        self.supplier = Supplier(name="Colles Durand", lead_time_days=5)
        db.add_all([self.supplier, Carrier(name="Transports Martin")])
        self.loc = {}
        for code, kind, extra in [
            ("QUAI-01", "reception", {}), ("QUAR-01", "quarantine", {}), ("L1", "line", {}),
            ("EXP-01", "shipping", {}), ("REBUT", "scrap", {}), ("DECH", "waste", {}),
            ("A-01-01-1", "storage", {"near_dock": True}), ("A-01-01-2", "storage", {"near_dock": True}),
            ("A-01-02-1", "storage", {"max_weight_kg": Decimal(100)}), ("A-01-02-2", "storage", {}),
            ("B-02-01-1", "storage", {}),
        ]:
            parts = code.split("-")
            location = Location(code=code, kind=kind, zone=parts[0], aisle=parts[1] if len(parts) > 1 else "",
                                rack=parts[2] if len(parts) > 2 else "", level=parts[3] if len(parts) > 3 else "",
                                **extra)
            db.add(location)
            self.loc[code] = location
        self.glue = self.item("COL-100", "Colle époxy", Decimal("12.50"), strategy="fefo", lot_tracked=True,
                              unit_weight_kg=Decimal("1.2"))
        self.screw = self.item("VIS-M8", "Vis M8", Decimal("0.10"), unit_weight_kg=Decimal("0.01"))
        self.jack = self.item("VER-50", "Vérin pneumatique 50", Decimal("85"), category="produit_fini")
        db.flush()

    def item(self, sku, name, cost, **extra) -> Item:
        item = Item(sku=sku, name=name, unit_cost=cost, supplier=self.supplier, **extra)
        self.db.add(item)
        return item

    def lot(self, item: Item, number: str, expiry: date | None = None, received: datetime | None = None) -> Lot:
        lot = Lot(item_id=item.id, number=number, expiry=expiry, received_at=received or self.now - timedelta(days=20))
        self.db.add(lot)
        self.db.flush()
        return lot

    def put(self, item: Item, lot: Lot, qty, code: str, at: datetime | None = None, reason: str = "reception"):
        return ledger.move(self.db, item=item, lot=lot, qty=Decimal(qty), source=None, target=self.loc[code],
                           reason=reason, user=self.people.admin, at=at or self.now - timedelta(days=10))

    def take(self, item: Item, lot: Lot, qty, code: str, to: str | None, at: datetime, reason: str = "pick"):
        return ledger.move(self.db, item=item, lot=lot, qty=Decimal(qty), source=self.loc[code],
                           target=self.loc[to] if to else None, reason=reason, user=self.people.admin, at=at)

    def qty(self, item: Item, lot: Lot, code: str) -> Decimal:
        row = ledger.balance(self.db, item.id, lot.id, self.loc[code].id)
        return row.qty if row else Decimal(0)
