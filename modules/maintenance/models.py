"""Models of the maintenance module."""
