"""AIC boards: SQCDPM indicators registered by the modules, kiosk screens, plotly figures."""
