"""Models of the AIC boards."""
