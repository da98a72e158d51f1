"""Maintenance: equipment, preventive plans, work orders with lockout and diagnosis, KPIs."""
from shopfloor.registry import Module

registration = Module(name="maintenance", label="Maintenance")
