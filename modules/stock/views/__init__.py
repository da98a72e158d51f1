"""The stock pages: one blueprint (`stock`, under /stock), one file per concept."""
from __future__ import annotations

from flask import url_for

from shopfloor.registry import ActivityType
from modules.stock import picking as picking_service
from modules.stock.models import (ANOMALY_KINDS, CATEGORIES, COUNT_SCOPES, COUNT_STATUSES, DECISIONS, LINE_STATUSES,
                                  LOCATION_KINDS, MOVE_REASONS, PICK_STATES, ROUND_KINDS, SHIPMENT_STATUSES,
                                  STRATEGIES)
from modules.stock.views import (counts, labels, layout, masterdata, picking, receptions, replenishment, rounds,
                                 shipping)
from modules.stock.views.common import EVERYONE, bp

__all__ = ["ACTIVITY_TYPES", "NAV", "TEMPLATE_GLOBALS", "bp", "counts", "labels", "layout", "masterdata", "picking", "receptions",
           "replenishment", "rounds", "shipping"]

ACTIVITY_TYPES = [
    ActivityType("stock_reception", "Réception", ("LOG-1", "LOG-2"),
                 url=lambda a: url_for("stock.reception", reception_id=a.id)),
    ActivityType("stock_pick", "Prélèvement bord de ligne", ("LOG-4", "LOG-5"),
                 url=lambda a: url_for("stock.pick", pick_id=a.id)),
    ActivityType("stock_count", "Inventaire", ("LOG-2",), url=lambda a: url_for("stock.count", count_id=a.id)),
    ActivityType("stock_purchase_request", "Demande d'achat", ("LOG-4",),
                 url=lambda a: url_for("stock.purchase_request", request_id=a.id)),
    ActivityType("stock_slotting", "Étude d'implantation (ABC)", ("LOG-3",),
                 url=lambda a: url_for("stock.study", study_id=a.id)),
    ActivityType("stock_shipment", "Expédition", ("LOG-5",),
                 url=lambda a: url_for("stock.shipment", shipment_id=a.id)),
    ActivityType("stock_round", "Tournée de collecte", ("LOG-5",), url=lambda a: url_for("stock.round", round_id=a.id)),
]
NAV = [("Magasin", "stock.index", EVERYONE)]  # one entry per module; the module's own bar leads on


# what the stock templates read, as {{ stock.<name> }} (Module.template_globals)
TEMPLATE_GLOBALS = {
    "labels": {"kinds": LOCATION_KINDS, "categories": CATEGORIES, "strategies": STRATEGIES, "reasons": MOVE_REASONS,
               "anomalies": ANOMALY_KINDS, "decisions": DECISIONS, "pick_states": PICK_STATES},
    "qty": picking_service.fmt,
    "elapsed": picking.elapsed,
    "count_scopes": COUNT_SCOPES, "count_statuses": COUNT_STATUSES, "line_statuses": LINE_STATUSES,
    "shipment_statuses": SHIPMENT_STATUSES, "round_kinds": ROUND_KINDS,
}
