"""QSE: non-conformities, internal audits, risks, regulatory watch, objectives, safety events."""
from shopfloor.registry import Module

registration = Module(name="qse", label="QSE")
