"""The daemon's scheduled jobs: when they first run, and what they do."""

from modeld.scheduler import STARTUP_DELAY, first_run


def test_first_run_catches_up_missed_runs_but_not_too_early():
    assert first_run(None, 3600, now=1000.0) == 4600.0
    assert first_run(0.0, 3600, now=100_000.0) == 100_000.0 + STARTUP_DELAY  # overdue
    assert first_run(99_000.0, 3600, now=100_000.0) == 102_600.0  # not yet due


def test_a_job_start_up_already_did_waits_one_interval_however_overdue(tmp_path):
    import time

    from modeld.library import db as index_db
    from modeld.scheduler import build_scheduler, last_run_key

    database = index_db.open_index(tmp_path / "index.db")
    try:
        for name in ("rescan", "verify"):
            index_db.set_state(last_run_key(name), "0")  # both long overdue
        before = time.time()
        jobs = {"rescan": (900.0, lambda: None), "verify": (3600.0, lambda: None)}
        scheduler = build_scheduler(jobs, on_error=print, done_at_start={"rescan"})
        rescan = scheduler.get_job("rescan").next_run_time.timestamp()
        verify = scheduler.get_job("verify").next_run_time.timestamp()
    finally:
        database.close()
    assert rescan >= before + 900.0  # the catch-up scan was the rescan
    assert verify <= time.time() + STARTUP_DELAY  # the others still catch up soon


def _jobs(config, index, published, errors, links):
    import threading

    from modeld.daemon.jobs import Jobs

    return Jobs(
        config,
        index,
        links,
        publish=published.append,
        note_error=lambda reason, path=None: errors.append((path, reason)),
        stopping=threading.Event(),
    )


def test_links_repair_reports_its_counts_and_leaves_an_offline_library_alone(config, index):
    import shutil

    from modeld.control import events
    from modeld.links import LinkManager

    published: list = []
    jobs = _jobs(config, index, published, [], LinkManager(config))
    jobs.repair_links()
    assert published == [events.LinksRepaired(0, 0)]
    shutil.rmtree(config.library_root)  # the drive is gone
    jobs.repair_links()
    assert len(published) == 1


def test_the_hub_retry_job_exists_only_with_the_hub(config, index):
    from modeld.links import LinkManager

    class Hub:
        def retry_pending(self) -> int:
            return 0

    jobs = _jobs(config, index, [], [], LinkManager(config))
    without = jobs.scheduler(lambda: None, None)
    with_hub = jobs.scheduler(lambda: None, Hub())
    always = {"rescan", "wal-checkpoint", "verify", "links-repair"}
    assert {j.id for j in without.get_jobs()} == always
    assert {j.id for j in with_hub.get_jobs()} == always | {"hub-retry"}
