"""Scheduled work of the QSE module."""
from modules.qse.regulatory import remind_due_reviews
from shopfloor.registry import Job

JOBS = [Job("qse.regulatory_reviews", remind_due_reviews, minutes=60)]
