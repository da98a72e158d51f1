"""QSE fixtures: the stock tests' small store (locations of every kind, a FEFO glue with lots)."""
import pytest
from sqlalchemy import select

from modules.stock.models import Balance, Location, Lot
from tests.stock.conftest import Store


@pytest.fixture
def store(db, people, now) -> Store:
    return Store(db, people, now)


def stock_of(db, lot_number: str) -> dict[str, tuple]:
    """Location code → (qty, reserved) of a lot, non-zero rows only."""
    rows = db.execute(select(Location.code, Balance.qty, Balance.reserved)
                      .join(Location, Location.id == Balance.location_id).join(Lot, Lot.id == Balance.lot_id)
                      .where(Lot.number == lot_number, Balance.qty > 0)).all()
    return {code: (float(qty), float(reserved)) for code, qty, reserved in rows}
