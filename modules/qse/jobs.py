"""Scheduled work of the QSE module."""
from modules.qse.objectives import alert_off_target
from modules.qse.regulatory import remind_due_reviews
from shopfloor.registry import Job

JOBS = [Job("qse.regulatory_reviews", remind_due_reviews, minutes=60),
        Job("qse.indicator_alerts", alert_off_target, minutes=60)]
