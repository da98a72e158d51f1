"""The stock API: one blueprint (`stock_api`, under /api/v1/stock), one file per concept."""
from modules.stock.api import counts, masterdata, picking, receptions
from modules.stock.api.common import bp

__all__ = ["bp", "counts", "masterdata", "picking", "receptions"]
