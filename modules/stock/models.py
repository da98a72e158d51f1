"""The stores: master data, lots, the append-only ledger of moves and the balances it keeps.

Quantities are Decimal (Numeric 14,3). A balance row exists per (item, lot, location);
`reserved` is the part promised to open pick lists. Only `modules.stock.ledger` writes
balances and moves, so the two always agree.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.auth.models import User
from shopfloor.db import Base, utcnow

QTY = Numeric(14, 3)
MONEY = Numeric(14, 4)

CATEGORIES = {"composant": "Composant", "matiere": "Matière", "consommable": "Consommable",
              "produit_fini": "Produit fini", "emballage": "Emballage"}
STRATEGIES = {"fifo": "FIFO", "fefo": "FEFO", "lifo": "LIFO"}
LOCATION_KINDS = {"reception": "Réception", "quarantine": "Quarantaine", "storage": "Stockage",
                  "line": "Bord de ligne", "shipping": "Expédition", "scrap": "Rebut", "waste": "Déchets"}
MOVE_REASONS = {"reception": "Réception", "putaway": "Rangement", "pick": "Prélèvement",
                "adjustment": "Ajustement d'inventaire", "quarantine": "Mise en quarantaine",
                "release": "Libération de quarantaine", "return_supplier": "Retour fournisseur",
                "scrap": "Mise au rebut", "shipment": "Expédition", "collection": "Collecte bord de ligne",
                "transfer": "Transfert", "consumption": "Consommation"}


class Supplier(Base):
    __tablename__ = "stock_supplier"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    lead_time_days: Mapped[int] = mapped_column(default=7)
    contact: Mapped[str] = mapped_column(String(200), default="")


class Carrier(Base):
    __tablename__ = "stock_carrier"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)


class Item(Base):
    __tablename__ = "stock_item"
    __table_args__ = (CheckConstraint("strategy IN ('fifo', 'fefo', 'lifo')", name="strategy"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(12), default="u")
    category: Mapped[str] = mapped_column(String(20), default="composant")
    strategy: Mapped[str] = mapped_column(String(4), default="fifo")
    lot_tracked: Mapped[bool] = mapped_column(default=False)
    shelf_life_days: Mapped[int | None]
    removal_margin_days: Mapped[int] = mapped_column(default=0)  # a lot closer than this to expiry is not picked
    unit_weight_kg: Mapped[Decimal | None] = mapped_column(QTY)
    unit_cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    hazardous: Mapped[bool] = mapped_column(default=False)
    temp_min: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    temp_max: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("stock_supplier.id"))
    reorder_mode: Mapped[str] = mapped_column(String(10), default="fixed")  # fixed | computed
    reorder_point: Mapped[Decimal | None] = mapped_column(QTY)
    safety_stock: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    reorder_qty: Mapped[Decimal | None] = mapped_column(QTY)
    abc_class: Mapped[str | None] = mapped_column(String(1))
    active: Mapped[bool] = mapped_column(default=True)

    supplier: Mapped[Supplier | None] = relationship()


class Location(Base):
    """A storage address, zone-aisle-rack-level (A-01-02-3); codes sort along the round."""

    __tablename__ = "stock_location"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(12), index=True)
    zone: Mapped[str] = mapped_column(String(10), default="")
    aisle: Mapped[str] = mapped_column(String(10), default="")
    rack: Mapped[str] = mapped_column(String(10), default="")
    level: Mapped[str] = mapped_column(String(10), default="")
    max_weight_kg: Mapped[Decimal | None] = mapped_column(QTY)
    hazardous_ok: Mapped[bool] = mapped_column(default=False)
    temp_min: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    temp_max: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    near_dock: Mapped[bool] = mapped_column(default=False)  # fast movers go here
    categories: Mapped[str] = mapped_column(String(200), default="")  # comma-separated; empty = any
    active: Mapped[bool] = mapped_column(default=True)


class Lot(Base):
    """A batch of one item. Items without lot tracking get one lot per reception line,
    numbered by the system, so FIFO still knows what came in first."""

    __tablename__ = "stock_lot"
    __table_args__ = (UniqueConstraint("item_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"), index=True)
    number: Mapped[str] = mapped_column(String(60))
    expiry: Mapped[date | None]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("stock_supplier.id"))

    item: Mapped[Item] = relationship()


class Balance(Base):
    __tablename__ = "stock_balance"
    __table_args__ = (
        UniqueConstraint("item_id", "lot_id", "location_id"),
        CheckConstraint("qty >= 0", name="qty_not_negative"),
        CheckConstraint("reserved >= 0 AND reserved <= qty", name="reserved_within_qty"),
        Index("ix_stock_balance_location", "location_id"),
        Index("ix_stock_balance_lot", "lot_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    qty: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    reserved: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))

    item: Mapped[Item] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()

    @property
    def available(self) -> Decimal:
        return self.qty - self.reserved


class Move(Base):
    """One line of the ledger; never updated, never deleted."""

    __tablename__ = "stock_move"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_stock_move_item_at", "item_id", "at"),
        Index("ix_stock_move_lot", "lot_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    from_location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_location.id"))
    to_location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_location.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)
    reason: Mapped[str] = mapped_column(String(20))
    note: Mapped[str] = mapped_column(Text, default="")
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("core_activity.id", ondelete="SET NULL"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    item: Mapped[Item] = relationship()
    lot: Mapped[Lot] = relationship()
    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])
    user: Mapped[User] = relationship()


from modules.stock import models_ops  # noqa: E402,F401  (counts, shipping, purchase requests…)
