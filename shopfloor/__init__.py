"""Shopfloor: a shop-floor suite for industrial apprenticeships (CQPM)."""
from shopfloor.app import create_app

__all__ = ["create_app"]
