"""TODO(kit): the stock models are one module now (modules.stock.models). Kept only for
tests/maintenance/test_parts.py until its import is switched at integration; delete it then."""
from modules.stock.models import PurchaseProposal  # TODO(kit)

__all__ = ["PurchaseProposal"]
