"""Models of the improvement module."""
