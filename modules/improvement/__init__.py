"""Improvement: action plans shared by every module, problem solving, decision tools, standards."""
from shopfloor.registry import Module

registration = Module(name="improvement", label="Amélioration continue")
