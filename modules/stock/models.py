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
from shopfloor.evidence.models import Activity
from shopfloor.db import Base
from shopfloor import clock

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
                "transfer": "Transfert", "consumption": "Consommation", "correction": "Correction de réception",
                "cancel": "Annulation d'activité"}


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
    received_at: Mapped[datetime] = mapped_column(default=clock.now)
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
    at: Mapped[datetime] = mapped_column(default=clock.now)

    item: Mapped[Item] = relationship()
    lot: Mapped[Lot] = relationship()
    from_location: Mapped[Location | None] = relationship(foreign_keys=[from_location_id])
    to_location: Mapped[Location | None] = relationship(foreign_keys=[to_location_id])
    user: Mapped[User] = relationship()



# -- Reception -------------------------------------------------------------------------

ANOMALY_KINDS = {"short": "Livraison incomplète", "over": "Livraison excédentaire", "damaged": "Marchandise endommagée",
                 "labels": "Étiquetage non conforme", "wrong_item": "Article non commandé",
                 "expired": "Lot périmé", "short_shelf_life": "Durée de vie restante insuffisante",
                 "missing_documents": "Documents manquants"}
DECISIONS = {"accept": "Accepter", "quarantine": "Mettre en quarantaine", "return": "Retourner au fournisseur",
             "reservations": "Accepter avec réserves sur le bon"}


class ExpectedReceipt(Base):
    """A supplier order or an advance shipping notice (ASN): what should arrive."""

    __tablename__ = "stock_expected_receipt"
    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("stock_supplier.id"), index=True)
    reference: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(10), default="order")  # order | asn
    expected_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)  # open | received
    created_at: Mapped[datetime] = mapped_column(default=clock.now)

    supplier: Mapped[Supplier] = relationship()
    lines: Mapped[list[ExpectedReceiptLine]] = relationship(back_populates="receipt", order_by="ExpectedReceiptLine.id",
                                                            cascade="all, delete-orphan")


class ExpectedReceiptLine(Base):
    __tablename__ = "stock_expected_receipt_line"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("stock_expected_receipt.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)

    receipt: Mapped[ExpectedReceipt] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()


class Reception(Activity):
    """Receiving one delivery note (LOG-1, LOG-2): quantities, quality, lots, anomalies, put-away."""

    __tablename__ = "stock_reception"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("stock_supplier.id"), index=True)
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("stock_carrier.id"))
    delivery_note: Mapped[str] = mapped_column(String(60), index=True)
    expected_receipt_id: Mapped[int | None] = mapped_column(ForeignKey("stock_expected_receipt.id"))
    truck_arrived_at: Mapped[datetime | None]
    truck_departed_at: Mapped[datetime | None]
    documents_ok: Mapped[bool] = mapped_column(default=True)
    reservations: Mapped[str] = mapped_column(Text, default="")  # written on the carrier's delivery note
    closed_at: Mapped[datetime | None]

    supplier: Mapped[Supplier] = relationship()
    carrier: Mapped[Carrier | None] = relationship()
    expected_receipt: Mapped[ExpectedReceipt | None] = relationship()
    lines: Mapped[list[ReceptionLine]] = relationship(back_populates="reception", order_by="ReceptionLine.id",
                                                      cascade="all, delete-orphan")
    anomalies: Mapped[list[ReceptionAnomaly]] = relationship(back_populates="reception",
                                                             order_by="ReceptionAnomaly.id", cascade="all, delete-orphan")

    __mapper_args__ = {"polymorphic_identity": "stock_reception"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Fournisseur", self.supplier.name), ("Bon de livraison", self.delivery_note),
                ("Transporteur", self.carrier.name if self.carrier else "—"),
                ("Lignes reçues", str(len(self.lines))),
                ("Lignes non conformes", str(sum(1 for line in self.lines if not line.conforming)))]
        rows += [(f"Anomalie : {ANOMALY_KINDS.get(a.kind, a.kind)}", f"{a.note} → {DECISIONS.get(a.decision, a.decision)}")
                 for a in self.anomalies]
        if self.reservations:
            rows.append(("Réserves sur le bon", self.reservations))
        return rows

    def proposed_competences(self, defaults: tuple[str, ...]) -> tuple[str, ...]:
        return defaults + ("LOG-6",) if self.anomalies and "LOG-6" not in defaults else defaults


class ReceptionLine(Base):
    __tablename__ = "stock_reception_line"
    # a line corrected down to nothing (received by mistake) keeps its row, with who and why
    __table_args__ = (CheckConstraint("qty >= 0", name="qty_not_negative"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    reception_id: Mapped[int] = mapped_column(ForeignKey("stock_reception.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))  # where it landed
    qty: Mapped[Decimal] = mapped_column(QTY)
    note_qty: Mapped[Decimal | None] = mapped_column(QTY)  # what the delivery note says
    expiry: Mapped[date | None]
    conforming: Mapped[bool] = mapped_column(default=True)
    packaging_ok: Mapped[bool] = mapped_column(default=True)
    labels_ok: Mapped[bool] = mapped_column(default=True)
    decision: Mapped[str] = mapped_column(String(12), default="accept")
    reason: Mapped[str] = mapped_column(String(300), default="")
    put_away_location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_location.id"))
    put_away_at: Mapped[datetime | None]
    # a correction before put-away (reversing move of the difference): the quantity first received, who, when, why
    received_qty: Mapped[Decimal | None] = mapped_column(QTY)
    corrected_at: Mapped[datetime | None]
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)

    reception: Mapped[Reception] = relationship(back_populates="lines")
    corrected_by: Mapped[User | None] = relationship(foreign_keys=[corrected_by_id])
    item: Mapped[Item] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship(foreign_keys=[location_id])
    put_away_location: Mapped[Location | None] = relationship(foreign_keys=[put_away_location_id])

    @property
    def owning_activity(self):
        return self.reception


class ReceptionAnomaly(Base):
    __tablename__ = "stock_reception_anomaly"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    reception_id: Mapped[int] = mapped_column(ForeignKey("stock_reception.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int | None] = mapped_column(ForeignKey("stock_reception_line.id", ondelete="CASCADE"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("stock_item.id"))
    kind: Mapped[str] = mapped_column(String(20))
    decision: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(String(300), default="")

    reception: Mapped[Reception] = relationship(back_populates="anomalies")
    item: Mapped[Item | None] = relationship()

    @property
    def owning_activity(self):
        return self.reception


# -- Programme, picking, line calls --------------------------------------------------------

class ProgrammeLine(Base):
    """The production programme: what a line (a line-side location) needs, how much, for when."""

    __tablename__ = "stock_programme_line"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),
                      Index("ix_stock_programme_line_needed", "needed_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    line_location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    workshop: Mapped[str] = mapped_column(String(80), default="")
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"), index=True)
    qty: Mapped[Decimal] = mapped_column(QTY)
    needed_at: Mapped[datetime]
    pick_list_id: Mapped[int | None] = mapped_column(ForeignKey("stock_pick_list.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))

    line_location: Mapped[Location] = relationship()
    item: Mapped[Item] = relationship()
    pick_list: Mapped[PickList | None] = relationship(foreign_keys=[pick_list_id])


PICK_STATES = {"allocated": "Réservée", "confirmed": "Livrée", "cancelled": "Annulée"}


class PickList(Activity):
    """Picking for the line (LOG-4, LOG-5): allocation reserves, scanning confirms, cancelling releases."""

    __tablename__ = "stock_pick_list"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    status: Mapped[str] = mapped_column(String(10), default="allocated", index=True)
    needed_at: Mapped[datetime | None]
    confirmed_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]

    destination: Mapped[Location] = relationship()
    lines: Mapped[list[PickLine]] = relationship(back_populates="pick_list", order_by="PickLine.rank",
                                                 cascade="all, delete-orphan")

    __mapper_args__ = {"polymorphic_identity": "stock_pick"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Destination", self.destination.code), ("État", PICK_STATES.get(self.status, self.status))]
        rows += [(f"{line.item.sku} lot {line.lot.number}", f"{line.qty.normalize():f} {line.item.unit} "
                  f"depuis {line.location.code}") for line in self.lines]
        return rows


class PickLine(Base):
    __tablename__ = "stock_pick_line"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    pick_list_id: Mapped[int] = mapped_column(ForeignKey("stock_pick_list.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]  # allocation order (strategy priority)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)
    picked_at: Mapped[datetime | None]  # confirmed by scan; the stock has moved
    released: Mapped[bool] = mapped_column(default=False)  # reservation given back on cancel

    pick_list: Mapped[PickList] = relationship(back_populates="lines")
    item: Mapped[Item] = relationship()
    lot: Mapped[Lot] = relationship()
    location: Mapped[Location] = relationship()

    @property
    def owning_activity(self):
        return self.pick_list


class LineCall(Base):
    """An on-demand call for material raised from a tablet at the line, queued for logistics."""

    __tablename__ = "stock_line_call"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),
                      Index("ix_stock_line_call_status_raised", "status", "raised_at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    line_location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)
    raised_at: Mapped[datetime]
    raised_by_id: Mapped[int] = mapped_column(ForeignKey("core_user.id"))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | served | cancelled
    pick_list_id: Mapped[int | None] = mapped_column(ForeignKey("stock_pick_list.id", ondelete="SET NULL"))
    served_at: Mapped[datetime | None]

    line_location: Mapped[Location] = relationship()
    item: Mapped[Item] = relationship()
    raised_by: Mapped[User] = relationship()
    pick_list: Mapped[PickList | None] = relationship()


from modules.stock import models_ops  # noqa: E402,F401  (counts, shipping, purchase requests…)
