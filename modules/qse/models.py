"""Models of the QSE module."""
