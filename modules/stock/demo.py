"""Demo store: a training workshop's stores with FEFO glues, paints and lubricants, receptions by lucas
(one with a damaged line in quarantine), a week's production programme, pick lists and line calls.

Then the stores' operations on top of it: lucas (LOG) counted a rack last week (validated by his tutor,
with one adjustment), has a count in progress, turned a replenishment proposal into a purchase request,
shipped an order of finished goods, ran a collection round and an ABC study."""
from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopfloor.auth.models import User
from shopfloor import clock
from modules.stock import counts, layout, ledger, picking, reception as receiving, replenishment, rounds, shipping
from modules.stock.inputs import parse_address
from modules.stock.models import Balance, Carrier, Count, Item, Location, Lot, PurchaseProposal, Supplier
from modules.stock.inputs import LineInput, NewExpected, NewShipment, ShipmentLineInput

SUPPLIERS = [("Hydrauliq SA", 10, "commandes@hydrauliq.example"), ("Colles & Peintures Durand", 5, "adv@durand.example"),
             ("Visserie du Rhône", 3, "contact@visserie-rhone.example")]
CARRIERS = ["Transports Martin", "Geodis Messagerie"]
# sku, name, unit, category, strategy, lot_tracked, shelf life, margin, kg, cost, hazardous, temp, supplier, abc
FEFO = [
    ("COL-EPX-250", "Colle époxy bi-composant 250 ml", "u", "consommable", True, 365, 30, "0.30", "18.50", False, None, 1, "A"),
    ("COL-CYA-20", "Colle cyanoacrylate 20 g", "u", "consommable", True, 365, 30, "0.03", "6.90", False, None, 1, "B"),
    ("COL-FRE-50", "Frein-filet moyen 50 ml", "u", "consommable", True, 540, 30, "0.06", "14.20", False, None, 1, "B"),
    ("COL-PU-310", "Mastic polyuréthane 310 ml", "u", "consommable", True, 365, 30, "0.45", "9.80", False, None, 1, "C"),
    ("PEI-EPX-GR", "Peinture époxy gris RAL 7035 5 kg", "pot", "matiere", True, 730, 60, "5.2", "96.00", True, None, 1, "B"),
    ("PEI-APP-5", "Apprêt anticorrosion 5 L", "pot", "matiere", True, 540, 60, "5.8", "72.00", True, None, 1, "C"),
    ("DIL-SYN-1", "Diluant synthétique 1 L", "u", "consommable", True, 730, 60, "0.9", "11.00", True, None, 1, "C"),
    ("LUB-ISO46", "Huile hydraulique ISO VG 46 20 L", "bidon", "consommable", True, 1095, 90, "18", "88.00", True, None, 0, "A"),
    ("LUB-GR-EP2", "Graisse EP2 cartouche 400 g", "u", "consommable", True, 1095, 90, "0.45", "7.40", False, None, 0, "A"),
    ("LUB-CHA-5", "Huile de coupe soluble 5 L", "bidon", "consommable", True, 730, 60, "5", "39.00", False, None, 0, "B"),
    ("ADH-ANA-T", "Adhésif anaérobie thermosensible 50 ml", "u", "consommable", True, 180, 20, "0.06", "21.00", False, (2, 8), 1, "C"),
    ("RES-SIL-1", "Résine silicone de moulage 1 kg", "kg", "matiere", True, 180, 20, "1", "34.00", False, (2, 8), 1, "C"),
]
COMPONENTS = [
    ("VER-D32-100", "Vérin pneumatique D32 course 100", "composant", "A", "2.1", "64.00", 0),
    ("VER-D50-200", "Vérin pneumatique D50 course 200", "composant", "B", "3.8", "112.00", 0),
    ("JNT-D32", "Kit joints vérin D32", "composant", "A", "0.05", "8.50", 0),
    ("JNT-D50", "Kit joints vérin D50", "composant", "B", "0.07", "11.20", 0),
    ("FLX-HP-12", "Flexible hydraulique HP DN12 1 m", "composant", "B", "0.9", "27.00", 0),
    ("RAC-1/4-M", "Raccord rapide 1/4 mâle", "composant", "A", "0.04", "3.10", 0),
    ("RAC-3/8-F", "Raccord rapide 3/8 femelle", "composant", "B", "0.06", "4.20", 0),
    ("ELV-5/2-24", "Électrovanne 5/2 24 V", "composant", "B", "0.45", "58.00", 0),
    ("CAP-IND-M12", "Capteur inductif M12", "composant", "A", "0.08", "23.00", 0),
    ("CAP-FDC", "Capteur fin de course à galet", "composant", "C", "0.2", "31.00", 0),
    ("ROU-6204", "Roulement 6204-2RS", "composant", "A", "0.11", "6.80", 0),
    ("ROU-6306", "Roulement 6306-2RS", "composant", "B", "0.35", "14.50", 0),
    ("COU-SPZ-1000", "Courroie SPZ 1000", "composant", "C", "0.12", "9.90", 0),
    ("FIL-ASP-C", "Filtre d'aspiration compresseur", "composant", "B", "0.3", "19.00", 0),
    ("MOT-0.75", "Moteur asynchrone 0,75 kW", "composant", "C", "9.5", "210.00", 0),
    ("VAR-0.75", "Variateur 0,75 kW", "composant", "C", "1.4", "185.00", 0),
    ("CAR-ALU-01", "Carter aluminium usiné", "produit_fini", "B", "1.6", "42.00", 0),
    ("SUP-VER-01", "Support de vérin soudé", "produit_fini", "B", "2.4", "35.00", 0),
    ("BAR-S235-40", "Barre acier S235 Ø40 (m)", "matiere", "B", "9.9", "12.00", 2),
    ("BAR-ALU-30", "Barre aluminium 6060 Ø30 (m)", "matiere", "C", "1.9", "9.50", 2),
    ("TOL-S235-2", "Tôle acier 2 mm 1000x2000", "matiere", "C", "31.4", "58.00", 2),
    ("TUB-CU-12", "Tube cuivre Ø12 (m)", "matiere", "C", "0.3", "7.20", 2),
    ("GAI-ELEC", "Gaine électrique ICTA 20 (m)", "matiere", "C", "0.08", "0.60", 2),
    ("CAB-3G1.5", "Câble 3G1,5 (m)", "matiere", "B", "0.12", "1.10", 2),
]
SCREWS = [("VIS-M6-20", "Vis CHC M6x20 (boîte 100)"), ("VIS-M8-25", "Vis CHC M8x25 (boîte 100)"),
          ("VIS-M10-40", "Vis H M10x40 (boîte 50)"), ("ECR-M8", "Écrou M8 (boîte 100)"),
          ("ECR-M10", "Écrou M10 (boîte 100)"), ("RON-M8", "Rondelle M8 (boîte 200)"),
          ("GOU-M8", "Goupille élastique 8x40 (boîte 50)"), ("RIV-4.8", "Rivet aveugle 4,8 (boîte 250)")]
PACKAGING = [("EMB-CAR-40", "Carton 40x30x30"), ("EMB-CAR-60", "Carton 60x40x40"), ("EMB-FIL-ETI", "Film étirable 500 mm"),
             ("EMB-PAL-EUR", "Palette Europe 800x1200"), ("EMB-CAL-MOU", "Calage mousse"),
             ("EMB-SAC-VCI", "Sac VCI anticorrosion"), ("EMB-ETI-TH", "Étiquettes thermiques 100x150"),
             ("EMB-ADH-50", "Ruban adhésif 50 mm"), ("EPI-GAN-NIT", "Gants nitrile (boîte 100)"),
             ("EPI-LUN", "Lunettes de protection"), ("EPI-BOU-ORE", "Bouchons d'oreilles (boîte 200)"),
             ("CHI-ABS", "Chiffons absorbants (carton 10 kg)"), ("ABS-GRA", "Absorbant granulés 20 L"),
             ("NET-DEG", "Dégraissant industriel 5 L"), ("MAR-FEU", "Marqueur peinture blanc"),
             ("LAM-SCIE", "Lame de scie à ruban")]


def load(db: Session, now: datetime) -> None:
    _store(db, now)
    _operations(db, now)


def _store(db: Session, now: datetime) -> None:
    if db.scalar(select(Item.id).limit(1)) is not None:
        return  # loaded already
    lucas = db.scalar(select(User).where(User.username == "lucas"))
    if lucas is None:
        return
    suppliers = [Supplier(name=n, lead_time_days=d, contact=c) for n, d, c in SUPPLIERS]
    db.add_all(suppliers + [Carrier(name=n) for n in CARRIERS])
    db.add_all(_locations())
    db.add_all(_items(suppliers))
    db.flush()
    _initial_stock(db, lucas, now)
    _receptions(db, lucas, suppliers, now)
    _programme_and_picks(db, lucas, now)


def _locations() -> list[Location]:
    rows = []

    def add(code, kind, **extra):
        rows.append(Location(code=code, kind=kind, **parse_address(code), **extra))
    for zone, aisles, racks, levels, extra in (
            ("A", 3, 4, 3, {"categories": "composant,produit_fini"}), ("B", 2, 4, 3, {"categories": "matiere"}),
            ("C", 3, 4, 3, {"categories": "consommable,emballage"}), ("D", 2, 4, 3, {}),
            ("H", 1, 3, 3, {"hazardous_ok": True}), ("F", 1, 3, 2, {"temp_min": Decimal(2), "temp_max": Decimal(8)})):
        for aisle in range(1, aisles + 1):
            for rack in range(1, racks + 1):
                for level in range(1, levels + 1):
                    add(f"{zone}-{aisle:02d}-{rack:02d}-{level}", "storage", near_dock=zone == "A" and aisle == 1,
                        max_weight_kg=Decimal(800 if level == 1 else 300), **extra)
    for code, kind in (("QUAI-01", "reception"), ("QUAI-02", "reception"), ("QUAR-01", "quarantine"),
                       ("QUAR-02", "quarantine"), ("L1", "line"), ("L2", "line"), ("L3", "line"),
                       ("L4", "line"), ("EXP-01", "shipping"), ("EXP-02", "shipping"), ("QUAI-03", "reception"),
                       ("REBUT-01", "scrap"), ("DECHETS-01", "waste"), ("DECHETS-02", "waste")):
        add(code, kind)
    return rows


def _items(suppliers) -> list[Item]:
    items = []
    for sku, name, unit, cat, tracked, life, margin, kg, cost, hazard, temp, sup, abc in FEFO:
        items.append(Item(sku=sku, name=name, unit=unit, category=cat, strategy="fefo", lot_tracked=tracked,
                          shelf_life_days=life, removal_margin_days=margin, unit_weight_kg=Decimal(kg),
                          unit_cost=Decimal(cost), hazardous=hazard, temp_min=Decimal(temp[0]) if temp else None,
                          temp_max=Decimal(temp[1]) if temp else None, supplier=suppliers[sup], abc_class=abc,
                          reorder_point=Decimal(10), reorder_qty=Decimal(30)))
    for sku, name, cat, abc, kg, cost, sup in COMPONENTS:
        items.append(Item(sku=sku, name=name, category=cat, strategy="fifo", lot_tracked=cat == "composant" and abc == "A",
                          unit="m" if "(m)" in name else "u", unit_weight_kg=Decimal(kg), unit_cost=Decimal(cost),
                          supplier=suppliers[sup], abc_class=abc, reorder_point=Decimal(5), reorder_qty=Decimal(20)))
    for sku, name in SCREWS:
        items.append(Item(sku=sku, name=name, category="composant", strategy="fifo", unit="boîte",
                          unit_weight_kg=Decimal("0.8"), unit_cost=Decimal("7.50"), supplier=suppliers[2],
                          abc_class="A", reorder_point=Decimal(8), reorder_qty=Decimal(40)))
    for sku, name in PACKAGING:
        items.append(Item(sku=sku, name=name, category="emballage" if sku.startswith("EMB") else "consommable",
                          strategy="lifo" if sku.startswith("EMB") else "fifo", unit="u",
                          unit_weight_kg=Decimal("0.5"), unit_cost=Decimal("4.00"), abc_class="C",
                          reorder_point=Decimal(5), reorder_qty=Decimal(25)))
    return items


def _initial_stock(db: Session, lucas: User, now: datetime) -> None:
    """Stock received over the past weeks: two or three lots per item, put away by the rules."""
    items = list(db.scalars(select(Item).order_by(Item.id)))
    storage = list(db.scalars(select(Location).where(Location.kind == "storage").order_by(Location.code)))
    loads: dict[int, Decimal] = {}
    for index, item in enumerate(items):
        for n in range(2 if index % 3 else 3):
            received = now - timedelta(days=45 - 12 * n - index % 7)
            expiry = None
            if item.shelf_life_days:
                # some lots close to the end of their life so FEFO has work to do; one expired glue lot
                expiry = received.date() + timedelta(days=item.shelf_life_days - (200 if n == 0 else 0))
                if item.sku == "COL-CYA-20" and n == 0:
                    expiry = now.date() - timedelta(days=3)
            lot = Lot(item_id=item.id, number=f"{item.sku[:3]}{received:%y%m%d}-{n + 1}", expiry=expiry,
                      received_at=received, supplier_id=item.supplier_id)
            db.add(lot)
            db.flush()
            qty = Decimal(20 + (index * 7 + n * 5) % 40)
            target = _place(item, qty, storage, loads, index + n)
            if target is None:
                continue
            ledger.move(db, item=item, lot=lot, qty=qty, source=None, target=target, reason="adjustment",
                        user=lucas, at=received, note="Stock initial du magasin école")


def _place(item: Item, qty: Decimal, storage: list[Location], loads: dict, spread: int) -> Location | None:
    """The put-away rules without a query per lot (the demo places ~150 lots at once)."""
    weight = (item.unit_weight_kg or Decimal(0)) * qty
    fitting = [loc for loc in storage if receiving.rule_problem(item, loc) is None
               and loads.get(loc.id, Decimal(0)) + weight <= (loc.max_weight_kg or weight)]
    fitting.sort(key=lambda loc: (loc.near_dock != (item.abc_class == "A"), loc.code))
    if not fitting:
        return None
    target = fitting[spread % min(len(fitting), 6)]
    loads[target.id] = loads.get(target.id, Decimal(0)) + weight
    return target


def _receptions(db: Session, lucas: User, suppliers, now: datetime) -> None:
    durand, hydrauliq = suppliers[1], suppliers[0]
    martin = db.scalar(select(Carrier).where(Carrier.name == "Transports Martin"))
    expected = receiving.create_expected(db, supplier=hydrauliq, spec=NewExpected(
        reference="CDE-2026-0412", kind="order", expected_on=(now - timedelta(days=6)).date(),
        lines=[("VER-D32-100", Decimal(10)), ("JNT-D32", Decimal(40)), ("FLX-HP-12", Decimal(12))]))
    when = now - timedelta(days=6, hours=2)
    rec = receiving.receive(db, lucas, supplier=hydrauliq, delivery_note="BL-HQ-88213", now=when, carrier=martin,
                            expected=expected, truck_arrived_at=when - timedelta(minutes=25),
                            truck_departed_at=when,
                            lines=[LineInput("VER-D32-100", Decimal(10), lot="V32-2611-A", location="QUAI-01"),
                                   LineInput("JNT-D32", Decimal(40), lot="J32-2611", location="QUAI-01"),
                                   LineInput("FLX-HP-12", Decimal(8), note_qty=Decimal(12), location="QUAI-01"),
                                   LineInput("FLX-HP-12", Decimal(4), packaging_ok=False, conforming=False,
                                             reason="Palette percée par le chariot, 4 flexibles écrasés")])
    for line in rec.lines:
        if line.conforming and (target := receiving.suggest_location(db, line.item, line.qty)):
            receiving.put_away(db, lucas, line, target.code, when + timedelta(minutes=40))
    when = now - timedelta(days=2, hours=3)
    glue = receiving.receive(db, lucas, supplier=durand, delivery_note="BL-DUR-5531", now=when, carrier=martin,
                             truck_arrived_at=when - timedelta(minutes=15), truck_departed_at=when,
                             lines=[LineInput("COL-EPX-250", Decimal(24), lot="EPX-26-311",
                                              expiry=(now + timedelta(days=330)).date(), location="QUAI-02"),
                                    LineInput("LUB-GR-EP2", Decimal(36), lot="GR-26-118",
                                              expiry=(now + timedelta(days=900)).date(), location="QUAI-02")])
    for line in glue.lines:
        if target := receiving.suggest_location(db, line.item, line.qty):
            receiving.put_away(db, lucas, line, target.code, when + timedelta(minutes=30))


def _programme_and_picks(db: Session, lucas: User, now: datetime) -> None:
    today = clock.paris_day(now)   # this week in Paris (at 23:30 UTC on a Sunday it is Monday there)
    monday = today - timedelta(days=today.weekday())
    needs = [("L1", "Assemblage vérins", "VER-D32-100", 4, 0), ("L1", "Assemblage vérins", "JNT-D32", 8, 0),
             ("L1", "Assemblage vérins", "COL-FRE-50", 2, 1), ("L2", "Peinture", "PEI-EPX-GR", 2, 1),
             ("L2", "Peinture", "DIL-SYN-1", 3, 1), ("L2", "Collage", "COL-EPX-250", 6, 2),
             ("L3", "Maintenance presses", "LUB-GR-EP2", 10, 2), ("L3", "Maintenance presses", "ROU-6204", 4, 3),
             ("L1", "Assemblage vérins", "VIS-M8-25", 2, 3), ("L2", "Collage", "COL-CYA-20", 4, 4)]
    rows = [picking.add_programme_line(db, lucas, line_code=line, sku=sku, qty=Decimal(qty), workshop=workshop,
                                       needed_at=datetime.combine(monday + timedelta(days=day), time(6), clock.PARIS))
            for line, workshop, sku, qty, day in needs]
    first = picking.pick_programme(db, lucas, [rows[0].id, rows[1].id], now - timedelta(days=1, hours=3))
    picking.confirm_all(db, lucas, first, now - timedelta(days=1, hours=2))
    picking.pick_programme(db, lucas, [rows[5].id], now - timedelta(hours=2))
    picking.raise_call(db, lucas, line_code="L2", sku="EMB-CAR-40", qty=Decimal(10), now=now - timedelta(minutes=35))
    picking.raise_call(db, lucas, line_code="L3", sku="CHI-ABS", qty=Decimal(1), now=now - timedelta(minutes=12))


# -- The stores' operations ------------------------------------------------------------------

def _operations(db: Session, now: datetime) -> None:
    lucas = db.scalar(select(User).where(User.username == "lucas"))
    tutor = db.scalar(select(User).where(User.username == "tuteur"))
    if lucas is None or tutor is None or db.scalar(select(Item.id).limit(1)) is None:
        return
    if db.scalar(select(Count.id).limit(1)) is not None:
        return  # already loaded
    racks = _stocked_racks(db)
    if racks:
        _validated_count(db, lucas, tutor, racks[0], now - timedelta(days=6))
    if len(racks) > 1:
        _pending_count(db, lucas, racks[1], now - timedelta(hours=3))
    _replenishment(db, lucas, now)
    _shipment(db, lucas, now - timedelta(days=2))
    _round(db, lucas, now - timedelta(days=1))
    layout.create_study(db, lucas, basis="frequency", window_days=90, now=now - timedelta(days=4))
    db.flush()


def _stocked_racks(db: Session) -> list[str]:
    codes = db.scalars(select(Location.code).join(Balance, Balance.location_id == Location.id)
                       .where(Location.kind == "storage", Balance.qty > 0).distinct().order_by(Location.code))
    racks = []
    for code in codes:
        rack = "-".join(code.split("-")[:3])
        if len(code.split("-")) >= 3 and rack not in racks:
            racks.append(rack)
    return racks


def _count_all(db: Session, lucas: User, count: Count, when: datetime, short_first: bool, limit: int | None = None):
    for index, line in enumerate(counts.sorted_lines(count)[:limit]):
        qty = line.expected_qty
        if short_first and index == 0 and qty >= 1:
            qty -= 1  # one missing unit: counted, recounted, confirmed
            counts.record_line(db, lucas, count, location_code=line.location.code, sku=line.item.sku,
                               lot_number=line.lot.number, counted_qty=qty, now=when)
        counts.record_line(db, lucas, count, location_code=line.location.code, sku=line.item.sku,
                           lot_number=line.lot.number, counted_qty=qty, now=when)


def _validated_count(db: Session, lucas: User, tutor: User, rack: str, when: datetime) -> None:
    count = counts.create_count(db, lucas, scope="rack", value=rack, now=when, title=f"Inventaire tournant rack {rack}")
    count.description = "Comptage à l'aveugle du rack au scanner, recomptage de l'écart, validation par la tutrice."
    _count_all(db, lucas, count, when + timedelta(minutes=40), short_first=True)
    counts.validate_count(db, tutor, count, when + timedelta(hours=3))


def _pending_count(db: Session, lucas: User, rack: str, when: datetime) -> None:
    count = counts.create_count(db, lucas, scope="rack", value=rack, now=when)
    _count_all(db, lucas, count, when + timedelta(minutes=20), short_first=False, limit=max(len(count.lines) // 2, 1))


def _replenishment(db: Session, lucas: User, now: datetime) -> None:
    if db.scalar(select(func.count(Item.id)).where(Item.reorder_point.is_not(None))) == 0:
        # the store's master data has no reorder points yet: give the three lowest stocks one
        low = db.execute(select(Balance.item_id, func.sum(Balance.qty).label("qty")).group_by(Balance.item_id)
                         .order_by("qty").limit(3)).all()
        for item_id, qty in low:
            db.get(Item, item_id).reorder_point = Decimal(qty) + 10
    replenishment.propose_purchases(db, now - timedelta(hours=6))
    replenishment.flag_lots(db, now - timedelta(hours=6), 30)
    proposal = db.scalars(select(PurchaseProposal).where(PurchaseProposal.status == "open")
                          .order_by(PurchaseProposal.id).limit(1)).first()
    if proposal is not None and (proposal.item.supplier is not None):
        lead = proposal.item.supplier.lead_time_days
        replenishment.create_purchase_request(db, lucas, now=now - timedelta(hours=5), proposal=proposal,
                                              qty=proposal.suggested_qty,
                                              due_date=(now + timedelta(days=lead)).date(),
                                              note="Proposition du calcul de réapprovisionnement, quantité validée "
                                                   "avec l'acheteur.")


def _shipment(db: Session, lucas: User, when: datetime) -> None:
    row = db.execute(select(Item, func.sum(Balance.qty - Balance.reserved).label("free"))
                     .join(Balance, Balance.item_id == Item.id).join(Location, Location.id == Balance.location_id)
                     .where(Item.category == "produit_fini", Location.kind == "storage")
                     .group_by(Item.id).order_by(Item.sku).limit(1)).first()
    carrier = db.scalar(select(Carrier).order_by(Carrier.name).limit(1))
    shipping_location = db.scalar(select(Location.id).where(Location.kind == "shipping").limit(1))
    if row is None or row.free < 1 or shipping_location is None:
        return
    qty = min(Decimal(2), Decimal(row.free))
    order = shipping.create_shipment(db, lucas, NewShipment("CDE-2026-0412", [
        ShipmentLineInput(sku=row.Item.sku, qty=qty, customer="Hydrauliq SA")]), when)
    shipping.prepare(db, lucas, order, when + timedelta(minutes=30))
    shipping.check_line(db, lucas, order, sku=row.Item.sku, qty=qty, now=when + timedelta(minutes=45))
    shipping.load(db, lucas, order, when + timedelta(hours=1))
    if carrier is not None:
        shipping.depart(db, lucas, order, carrier=carrier.name, truck="GH-482-KL", departed_at=when + timedelta(hours=1, minutes=10),
                        now=when + timedelta(hours=1, minutes=15))


def _round(db: Session, lucas: User, when: datetime) -> None:
    tour = rounds.create_round(db, lucas, when, "Tournée de collecte fin de poste")
    at_line = db.scalars(select(Balance).join(Location, Location.id == Balance.location_id)
                         .where(Location.kind == "line", Balance.qty >= 1).order_by(Balance.id).limit(1)).first()
    if at_line is None:
        return
    kind = {"produit_fini": "finished", "emballage": "packaging"}.get(at_line.item.category, "waste")
    target_kind = "storage" if kind != "waste" else "waste"
    target = db.scalar(select(Location).where(Location.kind == target_kind, Location.active.is_(True))
                       .order_by(Location.code).limit(1))
    if target is None:
        return
    rounds.collect(db, lucas, tour, kind=kind, from_code=at_line.location.code, to_code=target.code,
                   sku=at_line.item.sku, lot_number=at_line.lot.number, qty=Decimal(1), now=when + timedelta(minutes=15))
    rounds.close_round(db, lucas, tour, when + timedelta(minutes=40))
