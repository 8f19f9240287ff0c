"""Periodic jobs (APScheduler 3.x) whose last runs survive restarts and sleep.

APScheduler's defaults silently drop runs missed by more than a second
(laptop sleep, load), so misfire_grace_time=None with coalesce: a missed run
happens once, late. The last run of each job is kept in the index, so a job
that was due while modeld was stopped runs soon after start-up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler

from modeld.library.db import get_state, set_state

log = logging.getLogger(__name__)

STARTUP_DELAY = 5.0  # let the start-up catch-up scan go first


def last_run_key(name: str) -> str:
    return f"job.{name}.last_run"


def first_run(last_run: float | None, interval: float, now: float) -> float:
    """When a job should next run, given when it last ran (pure).

    Never run before: one interval from now (start-up does its own catch-up).
    Overdue (modeld was stopped, or the machine slept): soon after start-up.
    """
    if last_run is None:
        return now + interval
    return max(now + STARTUP_DELAY, last_run + interval)


def _recorded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        job()
        set_state(last_run_key(name), str(time.time()))

    return run


def build_scheduler(
    jobs: Mapping[str, tuple[float, Callable[[], object]]],
    on_error: Callable[[str], None],
    *,
    done_at_start: Collection[str] = (),
) -> BackgroundScheduler:
    """A scheduler with one interval job per entry: name -> (seconds, callable).

    Jobs named in `done_at_start` have their work done by start-up itself (the
    catch-up scan is a full rescan): they run one interval from now, however
    overdue, rather than repeat that work a few seconds later.
    """
    scheduler = BackgroundScheduler(
        timezone=UTC,
        job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        executors={"default": ThreadPoolExecutor(2)},
    )
    now = time.time()
    for name, (interval, job) in jobs.items():
        stored = None if name in done_at_start else get_state(last_run_key(name))
        start = first_run(float(stored) if stored else None, interval, now)
        scheduler.add_job(
            _recorded(name, job),
            "interval",
            seconds=interval,
            id=name,
            name=name,
            next_run_time=datetime.fromtimestamp(start, UTC),
            start_date=datetime.fromtimestamp(start, UTC) - timedelta(seconds=interval),
            replace_existing=True,
        )

    def listener(event: JobEvent) -> None:  # JobExecutionEvent has the exception
        if event.code == EVENT_JOB_ERROR:
            log.error("scheduled job %s failed: %s", event.job_id, event.exception)
            on_error(f"job {event.job_id} failed: {event.exception}")
        else:
            log.warning("scheduled job %s skipped (still running or missed)", event.job_id)

    scheduler.add_listener(listener, EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    return scheduler
