"""AIC boards (SQCDPM) fed by every module, short-interval meetings and workshop screens."""
from shopfloor.registry import Module

registration = Module(name="dashboards", label="Tableaux AIC")
