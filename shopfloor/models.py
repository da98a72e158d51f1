"""Every mapped model of the core and of the installed modules, for Alembic and test fixtures."""
import importlib

from shopfloor import config
from shopfloor.auth import models as _auth  # noqa: F401
from shopfloor.db import Base
from shopfloor.evidence import models as _evidence  # noqa: F401
from shopfloor.notifications import models as _notifications  # noqa: F401
from shopfloor.referential import models as _referential  # noqa: F401

for _name in config.DEFAULT_MODULES:
    importlib.import_module(f"{_name}.models")

metadata = Base.metadata
