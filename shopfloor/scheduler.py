"""Scheduled jobs: each registered job runs in its own transaction and is safe to run twice."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from flask import Flask

from shopfloor import clock
from shopfloor.registry import Job

log = logging.getLogger(__name__)


@dataclass
class JobResult:
    name: str
    ok: bool
    detail: str


def run_job(app: Flask, job: Job, now: datetime) -> JobResult:
    """Inside an app context, so a job reads its settings from `current_app.config` and builds
    links with shopfloor.urls.link."""
    with app.app_context():
        db = app.extensions["shopfloor_sessions"].open(write=True)
        try:
            detail = job.run(db, now)
            db.commit()
            return JobResult(job.name, True, str(detail if detail is not None else "ok"))
        except Exception as exc:  # one failing job must not stop the others
            db.rollback()
            log.exception("job %s failed", job.name)
            return JobResult(job.name, False, f"{type(exc).__name__}: {exc}")
        finally:
            db.close()


def run_all(app: Flask, now: datetime) -> list[JobResult]:
    return [run_job(app, job, now) for job in app.extensions["shopfloor_registry"].jobs]


def start(app: Flask, blocking: bool = False):
    """APScheduler running every registered job at its interval (in `serve`, or `shopfloor scheduler`)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone="UTC")
    for job in app.extensions["shopfloor_registry"].jobs:
        scheduler.add_job(lambda job=job: run_job(app, job, clock.now()), "interval", minutes=job.minutes,
                          id=job.name, next_run_time=clock.now(), max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
