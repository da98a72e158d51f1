"""Storage layout (LOG-3): ABC analysis of picks, suggested re-slotting, the store map by aisle.

ABC rule: items sorted by the measure (descending, then by id); an item is A while the
cumulative share *before* it is under 80 %, B under 95 %, C after (so the item that crosses
80 % is still A, and a single item making 90 % of the picks is A). Items never picked are C.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.auth.services import can_see_apprentice
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from modules.stock.models import Balance, Item, Location, SlottingLine, SlottingStudy, activity_title
from modules.stock.replenishment import demand_moves

A_LIMIT, B_LIMIT = 80.0, 95.0
BASES = {"frequency": "Fréquence des prélèvements", "value": "Valeur prélevée"}


def abc_classes(measure: pd.Series) -> pd.DataFrame:
    """ABC classes of a measure indexed by item id: columns measure, cumulative_pct, abc_class, rank."""
    frame = pd.DataFrame({"measure": measure.astype(float).to_numpy(), "item_id": list(measure.index)})
    frame = frame.sort_values(["measure", "item_id"], ascending=[False, True], kind="mergesort")
    total = frame["measure"].sum()
    if total <= 0:
        frame["cumulative_pct"] = 0.0
        frame["abc_class"] = "C"
    else:
        share = frame["measure"] / total * 100
        cumulative = share.cumsum()
        before = cumulative - share
        frame["cumulative_pct"] = cumulative.round(2)
        frame["abc_class"] = np.where(frame["measure"] <= 0, "C",
                                      np.where(before < A_LIMIT, "A", np.where(before < B_LIMIT, "B", "C")))
    frame["rank"] = range(1, len(frame) + 1)
    return frame.set_index("item_id")


def pick_statistics(db: Session, item_ids: list[int], start: datetime, end: datetime) -> pd.DataFrame:
    """Per item: number of picks (demand moves out of storage) and picked value, zeros included."""
    moves = demand_moves(db, None, start, end)
    stats = pd.DataFrame(index=pd.Index(item_ids, name="item_id"))
    grouped = moves.groupby("item_id").agg(picks=("qty", "size"), value=("value", "sum"))
    stats = stats.join(grouped).fillna(0.0)
    return stats


def create_study(db: Session, actor: User, *, basis: str, window_days: int, now: datetime,
                 title: str | None = None) -> SlottingStudy:
    if actor.role != "apprentice":
        raise Forbidden("Une étude d'implantation est une activité d'apprenti.", "basis")
    if basis not in BASES:
        raise ValidationError("La base de l'analyse vaut « frequency » ou « value ».", "basis")
    if not (7 <= window_days <= 730):
        raise ValidationError("La période d'analyse est de 7 à 730 jours.", "window_days")
    items = {item.id: item for item in db.scalars(select(Item).where(Item.active.is_(True)))}
    if not items:
        raise ValidationError("Aucun article actif à analyser.", "basis")
    stats = pick_statistics(db, list(items), now - timedelta(days=window_days), now)
    classes = abc_classes(stats["picks"] if basis == "frequency" else stats["value"])
    study = new_activity(SlottingStudy, actor, now,
                         title=activity_title(title or f"Analyse ABC ({BASES[basis].lower()}, {window_days} jours)"),
                         basis=basis, window_days=window_days, period_end=now)
    db.add(study)
    home = main_locations(db)
    suggestions = reslotting(db, [items[i] for i, row in classes.iterrows() if row["abc_class"] == "A"], home)
    for item_id, row in classes.iterrows():
        item = items[item_id]
        current = home.get(item_id)
        study.lines.append(SlottingLine(
            rank=int(row["rank"]), item_id=item_id, picks=int(stats.at[item_id, "picks"]),
            picked_value=Decimal(str(round(stats.at[item_id, "value"], 4))),
            cumulative_pct=Decimal(str(row["cumulative_pct"])), current_class=item.abc_class,
            proposed_class=row["abc_class"], current_location_id=current.id if current else None,
            suggested_location_id=suggestions[item_id].id if item_id in suggestions else None))
    db.flush()
    return study


def main_locations(db: Session) -> dict[int, Location]:
    """Each item's main storage location: where most of it is."""
    rows = db.execute(select(Balance.item_id, Location).join(Location, Location.id == Balance.location_id)
                      .where(Location.kind == "storage", Balance.qty > 0).order_by(Balance.item_id, Balance.qty.desc()))
    home: dict[int, Location] = {}
    for item_id, location in rows:
        home.setdefault(item_id, location)
    return home


def _accepts(location: Location, item: Item) -> bool:
    if item.hazardous and not location.hazardous_ok:
        return False
    categories = [c.strip() for c in (location.categories or "").split(",") if c.strip()]
    return not categories or item.category in categories


def reslotting(db: Session, a_items: list[Item], home: dict[int, Location]) -> dict[int, Location]:
    """A items whose main location is not near the dock → a free near-dock storage location that accepts them."""
    occupied = select(Balance.location_id).where(Balance.qty > 0)
    free = list(db.scalars(select(Location).where(Location.kind == "storage", Location.near_dock.is_(True),
                                                  Location.active.is_(True), Location.id.not_in(occupied))
                           .order_by(Location.code)))
    suggestions: dict[int, Location] = {}
    for item in a_items:
        current = home.get(item.id)
        if current is None or current.near_dock:
            continue
        spot = next((loc for loc in free if _accepts(loc, item)), None)
        if spot is not None:
            suggestions[item.id] = spot
            free.remove(spot)
    return suggestions


def visible_study(db: Session, actor: User, study_id: int) -> SlottingStudy:
    return access.visible(db, SlottingStudy, actor, study_id, field="study_id", label="Étude",
                          options=[selectinload(SlottingStudy.lines).selectinload(SlottingLine.item)])


def apply_study(db: Session, actor: User, study: SlottingStudy, now: datetime) -> int:
    """Write the proposed classes into the items (the author, their tutor or an admin)."""
    if not can_see_apprentice(actor, study.author):
        raise Forbidden("Vous ne pouvez pas appliquer cette étude.", "study_id")
    ensure_editable(study)
    if study.applied_at is not None:
        raise Conflict("Les classes de cette étude sont déjà appliquées.", "study_id")
    changed = 0
    for line in study.lines:
        if line.item.abc_class != line.proposed_class:
            line.item.abc_class = line.proposed_class
            changed += 1
    study.applied_at = now
    db.flush()
    return changed


# -- The store map ----------------------------------------------------------------

@dataclass
class Rack:
    code: str
    locations: int = 0
    used: int = 0

    @property
    def used_pct(self) -> float:
        return 100.0 * self.used / self.locations if self.locations else 0.0


@dataclass
class Aisle:
    code: str
    locations: int = 0
    used: int = 0
    weight_kg: float = 0.0
    capacity_kg: float = 0.0
    racks: dict[str, Rack] = field(default_factory=dict)

    @property
    def used_pct(self) -> float:
        return 100.0 * self.used / self.locations if self.locations else 0.0

    @property
    def weight_pct(self) -> float | None:
        return 100.0 * self.weight_kg / self.capacity_kg if self.capacity_kg else None


def occupancy_level(pct: float | None) -> str:
    """A colour class that always goes with the figure written in clear."""
    if pct is None:
        return "none"
    return "high" if pct >= 85 else "mid" if pct >= 50 else "low"


def store_map(db: Session) -> list[Aisle]:
    """Storage locations grouped by aisle (zone-aisle) and rack, with how many hold stock and their weight."""
    stock = (select(Balance.location_id, func.sum(Balance.qty).label("qty"),
                    func.sum(Balance.qty * func.coalesce(Item.unit_weight_kg, 0)).label("weight"))
             .join(Item, Item.id == Balance.item_id).where(Balance.qty > 0).group_by(Balance.location_id).subquery())
    rows = db.execute(select(Location.code, Location.max_weight_kg, stock.c.qty, stock.c.weight)
                      .outerjoin(stock, stock.c.location_id == Location.id)
                      .where(Location.kind == "storage", Location.active.is_(True)).order_by(Location.code))
    aisles: dict[str, Aisle] = {}
    for code, capacity, qty, weight in rows:
        parts = code.split("-")
        aisle_code = "-".join(parts[:2])
        rack_code = "-".join(parts[:3])
        aisle = aisles.setdefault(aisle_code, Aisle(aisle_code))
        rack = aisle.racks.setdefault(rack_code, Rack(rack_code))
        used = bool(qty)
        aisle.locations += 1
        rack.locations += 1
        aisle.used += used
        rack.used += used
        aisle.weight_kg += float(weight or 0)
        aisle.capacity_kg += float(capacity or 0)
    return list(aisles.values())


def studies(db: Session, actor: User, limit: int = 50) -> list[SlottingStudy]:
    query = select(SlottingStudy).order_by(SlottingStudy.performed_at.desc()).limit(limit)
    return list(db.scalars(query.where(access.visible_filter(SlottingStudy, actor))))

