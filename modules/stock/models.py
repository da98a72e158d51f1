"""The stores: master data, lots, the append-only ledger of moves and the balances it keeps.

Quantities are Decimal (Numeric 14,3). A balance row exists per (item, lot, location);
`reserved` is the part promised to open pick lists. Only `modules.stock.ledger` writes
balances and moves, so the two always agree.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shopfloor.auth.models import User
from shopfloor.evidence.models import Activity
from shopfloor.db import Base
from shopfloor import clock
from shopfloor.errors import ValidationError

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


# -- Counts, purchase requests, slotting, shipments, collection rounds -------------------------
#
# Counts, shipments, collection rounds, purchase requests and slotting studies.
#
# Counts, purchase requests, slotting studies, shipments and collection rounds are activities
# (joined-table inheritance on core_activity). Their child rows expose `owning_activity` so the
# evidence freeze backstop protects them too. Proposals and lot flags are the replenishment
# job's output, not activities.

PCT = Numeric(6, 2)

COUNT_SCOPES = {"full": "Inventaire complet", "zone": "Zone", "aisle": "Allée", "rack": "Rack",
                "abc": "Tournant par classe ABC"}
COUNT_STATUSES = {"open": "En cours", "validated": "Validé"}
LINE_STATUSES = {"to_count": "À compter", "counted": "Compté", "recount": "À recompter", "recounted": "Recompté"}


def _num(value) -> str:
    return f"{Decimal(value).normalize():f}" if value is not None else "—"


class Count(Activity):
    """An inventory count (LOG-2): blind sheet lines, then validation posting adjustments."""

    __tablename__ = "stock_count"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))
    scope_value: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    threshold_pct: Mapped[Decimal | None] = mapped_column(PCT)      # a recount above this |difference| %
    threshold_value: Mapped[Decimal | None] = mapped_column(MONEY)  # … or above this |difference| in €
    validated_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    validated_at: Mapped[datetime | None] = mapped_column(index=True)
    accuracy_pct: Mapped[Decimal | None] = mapped_column(PCT)        # share of lines without difference
    value_accuracy_pct: Mapped[Decimal | None] = mapped_column(PCT)  # 1 − Σ|Δ value| / Σ expected value

    validated_by: Mapped[User | None] = relationship(foreign_keys=[validated_by_id])
    lines: Mapped[list[CountLine]] = relationship(back_populates="count", cascade="all, delete-orphan",
                                                  order_by="CountLine.id")

    __mapper_args__ = {"polymorphic_identity": "stock_count"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Périmètre", COUNT_SCOPES.get(self.scope, self.scope) + (f" {self.scope_value}" if self.scope_value else "")),
                ("Statut", COUNT_STATUSES.get(self.status, self.status)),
                ("Lignes comptées", str(sum(1 for line in self.lines if line.final_qty is not None))),
                ("Recomptages", str(sum(1 for line in self.lines if line.recount_qty is not None)))]
        if self.accuracy_pct is not None:
            rows += [("Exactitude (lignes)", f"{_num(self.accuracy_pct)} %"),
                     ("Exactitude (valeur)", f"{_num(self.value_accuracy_pct)} %")]
        return rows


class CountLine(Base):
    """One (location, item, lot) to count. `expected_qty` is the book quantity when the line is
    created, refreshed each time it is counted; the counter never sees it (blind count)."""

    __tablename__ = "stock_count_line"
    __table_args__ = (UniqueConstraint("count_id", "location_id", "item_id", "lot_id"), {"sqlite_autoincrement": True})
    id: Mapped[int] = mapped_column(primary_key=True)
    count_id: Mapped[int] = mapped_column(ForeignKey("stock_count.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    expected_qty: Mapped[Decimal] = mapped_column(QTY, default=Decimal(0))
    counted_qty: Mapped[Decimal | None] = mapped_column(QTY)
    recount_qty: Mapped[Decimal | None] = mapped_column(QTY)
    status: Mapped[str] = mapped_column(String(10), default="to_count")
    counted_by_id: Mapped[int | None] = mapped_column(ForeignKey("core_user.id"))
    counted_at: Mapped[datetime | None]
    adjustment_move_id: Mapped[int | None] = mapped_column(ForeignKey("stock_move.id"))

    count: Mapped[Count] = relationship(back_populates="lines")
    location = relationship("Location")
    item = relationship("Item")
    lot = relationship("Lot")

    @property
    def owning_activity(self):
        return self.count

    @property
    def final_qty(self) -> Decimal | None:
        return self.recount_qty if self.recount_qty is not None else self.counted_qty

    @property
    def difference(self) -> Decimal | None:
        return None if self.final_qty is None else self.final_qty - self.expected_qty

    @property
    def difference_value(self) -> Decimal | None:
        diff = self.difference
        return None if diff is None else diff * (self.item.unit_cost or Decimal(0))


class PurchaseProposal(Base):
    """The replenishment job's proposal for an item under its reorder point; one open per item."""

    __tablename__ = "stock_purchase_proposal"
    __table_args__ = (
        Index("ux_stock_purchase_proposal_open_item", "item_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open | converted | dismissed
    position_qty: Mapped[Decimal] = mapped_column(QTY)   # free stock + on order when proposed
    reorder_point: Mapped[Decimal] = mapped_column(QTY)
    suggested_qty: Mapped[Decimal] = mapped_column(QTY)
    avg_daily_demand: Mapped[Decimal | None] = mapped_column(QTY)
    created_at: Mapped[datetime] = mapped_column(default=clock.now)
    closed_at: Mapped[datetime | None]
    purchase_request_id: Mapped[int | None] = mapped_column(ForeignKey("stock_purchase_request.id"))

    item = relationship("Item")


class PurchaseRequest(Activity):
    """A purchase request written by an apprentice (LOG-4), usually from a proposal."""

    __tablename__ = "stock_purchase_request"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("stock_supplier.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)  # open | received | cancelled

    item = relationship("Item")
    supplier = relationship("Supplier")

    __mapper_args__ = {"polymorphic_identity": "stock_purchase_request"}

    def summary(self) -> list[tuple[str, str]]:
        return [("Article", f"{self.item.sku} — {self.item.name}"), ("Quantité", f"{_num(self.qty)} {self.item.unit}"),
                ("Fournisseur", self.supplier.name), ("Livraison souhaitée", self.due_date.strftime("%d/%m/%Y"))]


FLAG_KINDS = {"expiring": "Expire bientôt", "disposal": "À éliminer"}


class LotFlag(Base):
    """The only record of a flagged lot (see modules/stock/flags.py): "expiring" soon, or "disposal" (expired or
    under the removal margin, never picked again). One per lot and kind."""

    __tablename__ = "stock_lot_flag"
    __table_args__ = (UniqueConstraint("lot_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    kind: Mapped[str] = mapped_column(String(10), index=True)  # FLAG_KINDS
    expiry: Mapped[date]
    flagged_at: Mapped[datetime] = mapped_column(default=clock.now)
    reason: Mapped[str] = mapped_column(String(200), default="")

    lot = relationship("Lot")


class SlottingStudy(Activity):
    """An ABC analysis of picks with suggested re-slotting (LOG-3); it may apply the classes."""

    __tablename__ = "stock_slotting"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    basis: Mapped[str] = mapped_column(String(10))  # frequency | value
    window_days: Mapped[int] = mapped_column(default=90)
    period_end: Mapped[datetime]
    applied_at: Mapped[datetime | None]
    lines: Mapped[list[SlottingLine]] = relationship(back_populates="study", cascade="all, delete-orphan",
                                                     order_by="SlottingLine.rank")

    __mapper_args__ = {"polymorphic_identity": "stock_slotting"}

    def summary(self) -> list[tuple[str, str]]:
        counts = {k: sum(1 for line in self.lines if line.proposed_class == k) for k in "ABC"}
        return [("Base", "fréquence des prélèvements" if self.basis == "frequency" else "valeur prélevée"),
                ("Période", f"{self.window_days} jours"),
                ("Classes", f"A : {counts['A']} · B : {counts['B']} · C : {counts['C']}"),
                ("Réimplantations proposées", str(sum(1 for line in self.lines if line.suggested_location_id))),
                ("Classes appliquées", "oui" if self.applied_at else "non")]


class SlottingLine(Base):
    __tablename__ = "stock_slotting_line"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("stock_slotting.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int]
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    picks: Mapped[int] = mapped_column(default=0)
    picked_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal(0))
    cumulative_pct: Mapped[Decimal] = mapped_column(PCT)
    current_class: Mapped[str | None] = mapped_column(String(1))
    proposed_class: Mapped[str] = mapped_column(String(1))
    current_location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_location.id"))
    suggested_location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_location.id"))

    study: Mapped[SlottingStudy] = relationship(back_populates="lines")
    item = relationship("Item")
    current_location = relationship("Location", foreign_keys=[current_location_id])
    suggested_location = relationship("Location", foreign_keys=[suggested_location_id])

    @property
    def owning_activity(self):
        return self.study


SHIPMENT_STATUSES = {"draft": "À préparer", "prepared": "Préparée", "checked": "Contrôlée", "loaded": "Chargée",
                     "shipped": "Expédiée"}


class Shipment(Activity):
    """A shipping order of finished goods (LOG-5): prepare, check, load, record the departure."""

    __tablename__ = "stock_shipment"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    order_ref: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default="draft", index=True)
    shipping_location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("stock_carrier.id"))
    truck: Mapped[str] = mapped_column(String(40), default="")
    loaded_at: Mapped[datetime | None]
    departed_at: Mapped[datetime | None]

    shipping_location = relationship("Location")
    carrier = relationship("Carrier")
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", cascade="all, delete-orphan",
                                                     order_by="ShipmentLine.id")

    __mapper_args__ = {"polymorphic_identity": "stock_shipment"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Commande", self.order_ref), ("Statut", SHIPMENT_STATUSES.get(self.status, self.status))]
        rows += [(f"{line.item.sku} → {line.customer}", f"{_num(line.qty)} {line.item.unit}") for line in self.lines]
        if self.carrier:
            rows.append(("Transporteur", f"{self.carrier.name} {self.truck}".strip()))
        return rows


class ShipmentLine(Base):
    __tablename__ = "stock_shipment_line"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("stock_shipment.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)
    customer: Mapped[str] = mapped_column(String(120))
    checked_qty: Mapped[Decimal | None] = mapped_column(QTY)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    item = relationship("Item")
    picks: Mapped[list[ShipmentPick]] = relationship(back_populates="line", cascade="all, delete-orphan",
                                                     order_by="ShipmentPick.id")

    @property
    def owning_activity(self):
        return self.shipment


class ShipmentPick(Base):
    """Which lot, from where, was prepared for a shipment line (the stock now on the shipping location)."""

    __tablename__ = "stock_shipment_pick"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("stock_shipment_line.id", ondelete="CASCADE"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    from_location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)

    line: Mapped[ShipmentLine] = relationship(back_populates="picks")
    lot = relationship("Lot")
    from_location = relationship("Location")

    @property
    def owning_activity(self):
        return self.line.shipment


ROUND_KINDS = {"finished": "Produit fini", "waste": "Déchets", "packaging": "Emballage vide"}


class CollectionRound(Activity):
    """A collection round (LOG-5) bringing finished goods, waste and empty packaging back from the lines."""

    __tablename__ = "stock_round"
    id: Mapped[int] = mapped_column(ForeignKey("core_activity.id", ondelete="CASCADE"), primary_key=True)
    closed_at: Mapped[datetime | None]
    lines: Mapped[list[CollectionLine]] = relationship(back_populates="round", cascade="all, delete-orphan",
                                                       order_by="CollectionLine.id")

    __mapper_args__ = {"polymorphic_identity": "stock_round"}

    def summary(self) -> list[tuple[str, str]]:
        rows = [("Statut", "Clôturée" if self.closed_at else "En cours")]
        rows += [(f"{ROUND_KINDS[line.kind]} : {line.item.sku}",
                  f"{_num(line.qty)} {line.item.unit}, {line.from_location.code} → {line.to_location.code}")
                 for line in self.lines]
        return rows


class CollectionLine(Base):
    __tablename__ = "stock_round_line"
    __table_args__ = {"sqlite_autoincrement": True}  # ids never reused
    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("stock_round.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int] = mapped_column(ForeignKey("stock_item.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("stock_lot.id"))
    from_location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("stock_location.id"))
    qty: Mapped[Decimal] = mapped_column(QTY)
    move_id: Mapped[int] = mapped_column(ForeignKey("stock_move.id"))
    note: Mapped[str] = mapped_column(Text, default="")

    round: Mapped[CollectionRound] = relationship(back_populates="lines")
    item = relationship("Item")
    lot = relationship("Lot")
    from_location = relationship("Location", foreign_keys=[from_location_id])
    to_location = relationship("Location", foreign_keys=[to_location_id])

    @property
    def owning_activity(self):
        return self.round


def activity_title(title: str | None) -> str:
    """A stock activity's title: required, cut to the column's 200 characters."""
    title = (title or "").strip()
    if not title:
        raise ValidationError("Le titre est obligatoire.", "title")
    return title[:200]
