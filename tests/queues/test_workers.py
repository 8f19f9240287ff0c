"""Per-device worker pools, with real threads.

Devices are assigned by a fake `device_of` (the first path component names
the device), because this machine has one disk; everything else is the real
code. Ordering is asserted from recorded start/end events, never from timing;
timeouts below only keep a broken build from hanging.
"""

from __future__ import annotations

import gc
import threading
import tracemalloc
from pathlib import Path

import pytest

from modeld.config import QueueConfig
from modeld.queues import PRIORITY_BACKGROUND, PRIORITY_USER, DeviceQueues, Job, JobCancelled
from modeld.queues.devices import Device

WAIT = 20.0

KINDS = {"hdd1": "hdd", "hdd2": "hdd", "ssd1": "ssd", "nas": "network"}


def device_of(path: Path) -> Device:
    name = path.parts[1]
    return Device(name, KINDS.get(name, "unknown"))


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.events: list[tuple[str, str]] = []
        self.running: dict[str, int] = {}
        self.max_running: dict[str, int] = {}

    def start(self, job: Job) -> None:
        with self.lock:
            self.events.append(("start", str(job.path)))
            n = self.running.get(job.device.name, 0) + 1
            self.running[job.device.name] = n
            self.max_running[job.device.name] = max(n, self.max_running.get(job.device.name, 0))

    def end(self, job: Job) -> None:
        with self.lock:
            self.events.append(("end", str(job.path)))
            self.running[job.device.name] -= 1


def make(run, **config) -> DeviceQueues:
    return DeviceQueues(QueueConfig(**config), run, device_of=device_of)


def test_two_devices_run_in_parallel():
    both_running = threading.Barrier(2, timeout=WAIT)
    met = []

    def run(job: Job) -> None:
        both_running.wait()  # breaks (and raises) unless the other device's job runs too
        met.append(job.path)

    queues = make(run)
    queues.start()
    jobs = [queues.submit(Path("/hdd1/a")), queues.submit(Path("/hdd2/b"))]
    assert all(job.wait(WAIT) for job in jobs)
    assert [job.error for job in jobs] == [None, None]
    assert sorted(met) == [Path("/hdd1/a"), Path("/hdd2/b")]
    queues.stop()


def test_ten_drops_on_one_hdd_run_strictly_one_after_another():
    rec = Recorder()
    gate = threading.Event()

    def run(job: Job) -> None:
        rec.start(job)
        gate.wait(0.005)  # give a second reader every chance to overlap, if there were one
        rec.end(job)

    queues = make(run)
    queues.start()
    jobs = [queues.submit(Path(f"/hdd1/{i}")) for i in range(10)]
    assert all(job.wait(WAIT) for job in jobs)
    expected = []
    for i in range(10):
        expected += [("start", f"/hdd1/{i}"), ("end", f"/hdd1/{i}")]
    assert rec.events == expected
    assert rec.max_running["hdd1"] == 1
    queues.stop()


def test_ssd_runs_two_readers_never_three():
    rec = Recorder()
    pair = threading.Barrier(2, timeout=WAIT)

    def run(job: Job) -> None:
        rec.start(job)
        pair.wait()  # only passes when two run at once
        rec.end(job)

    queues = make(run)
    queues.start()
    jobs = [queues.submit(Path(f"/ssd1/{i}")) for i in range(6)]
    assert all(job.wait(WAIT) for job in jobs)
    assert all(job.error is None for job in jobs)
    assert rec.max_running["ssd1"] == 2
    queues.stop()


def test_readers_come_from_config():
    rec = Recorder()
    trio = threading.Barrier(3, timeout=WAIT)

    def run(job: Job) -> None:
        rec.start(job)
        trio.wait()
        rec.end(job)

    queues = make(run, readers={"ssd": 2, "hdd": 3, "network": 1, "unknown": 1})
    queues.start()
    jobs = [queues.submit(Path(f"/hdd1/{i}")) for i in range(3)]
    assert all(job.wait(WAIT) for job in jobs)
    assert all(job.error is None for job in jobs)
    assert rec.max_running["hdd1"] == 3
    queues.stop()


def test_user_imports_go_ahead_of_background_work():
    order = []
    queues = make(lambda job: order.append(job.payload))
    for i in range(5):
        queues.submit(Path(f"/hdd1/bg{i}"), priority=PRIORITY_BACKGROUND, payload=f"bg{i}")
    queues.submit(Path("/hdd1/u0"), priority=PRIORITY_USER, payload="u0")
    queues.submit(Path("/hdd1/u1"), priority=PRIORITY_USER, payload="u1")
    queues.start()
    assert queues.wait_idle(WAIT)
    assert order == ["u0", "u1", "bg0", "bg1", "bg2", "bg3", "bg4"]
    queues.stop()


def test_pause_holds_the_queue_and_lets_the_running_job_finish():
    release = threading.Event()
    started = threading.Event()
    ran = []

    def run(job: Job) -> None:
        ran.append(job.payload)
        if job.payload == "a":
            started.set()
            assert release.wait(WAIT)

    queues = make(run)
    queues.start()
    a = queues.submit(Path("/hdd1/a"), payload="a")
    assert started.wait(WAIT)
    queues.pause()
    assert queues.paused
    b = queues.submit(Path("/hdd1/b"), payload="b")
    c = queues.submit(Path("/ssd1/c"), payload="c")  # a new device while paused waits too
    release.set()
    assert a.wait(WAIT)  # the running job finished despite the pause
    status = {q["device"]: q for q in queues.snapshot()}
    assert status["hdd1"]["pending"] == 1 and status["hdd1"]["active"] == []
    assert status["ssd1"]["pending"] == 1
    assert not b.finished.is_set() and not c.finished.is_set()
    assert ran == ["a"]
    queues.resume()
    assert b.wait(WAIT) and c.wait(WAIT)
    assert sorted(ran) == ["a", "b", "c"]
    queues.stop()


def test_progress_is_visible_in_the_snapshot_while_a_job_runs():
    reported = threading.Event()
    release = threading.Event()

    def run(job: Job) -> None:
        job.progress(0, 4096)
        job.progress(1024)
        reported.set()
        assert release.wait(WAIT)

    queues = make(run)
    queues.start()
    job = queues.submit(Path("/nas/model.gguf"))
    queues.submit(Path("/nas/other.gguf"))
    assert reported.wait(WAIT)
    [nas] = queues.snapshot()
    assert nas == {
        "device": "nas",
        "kind": "network",
        "readers": 1,
        "pending": 1,
        "active": [{"path": "/nas/model.gguf", "done": 1024, "total": 4096}],
    }
    release.set()
    assert job.wait(WAIT)
    assert queues.wait_idle(WAIT)
    queues.stop()


def test_a_full_level_refuses_or_blocks_but_never_holds_back_users():
    queues = make(lambda job: None, max_pending=3)  # not started: everything waits
    for i in range(3):
        assert queues.submit(Path(f"/hdd1/{i}")) is not None
    assert queues.submit(Path("/hdd1/refused")) is None
    assert queues.submit(Path("/hdd1/late"), block=True, timeout=0.05) is None
    assert queues.submit(Path("/hdd1/user"), priority=PRIORITY_USER) is not None
    assert queues.pending() == 4
    queues.start()
    assert queues.wait_idle(WAIT)
    queues.stop()


def test_a_burst_of_5000_is_bounded_and_loses_nothing():
    max_pending = 50
    seen: list[Path] = []
    highest_waiting = [0]
    queues: DeviceQueues

    def run(job: Job) -> None:
        highest_waiting[0] = max(highest_waiting[0], queues.pending())
        seen.append(job.path)

    queues = make(run, max_pending=max_pending)
    queues.start()
    paths = [Path(f"/{('hdd1', 'ssd1', 'nas')[i % 3]}/f{i}") for i in range(5000)]
    for path in paths:  # the producer is throttled by the bound instead of piling up jobs
        assert queues.submit(path, block=True, timeout=WAIT) is not None
        assert queues.pending() <= max_pending
    assert queues.wait_idle(WAIT)
    assert len(seen) == 5000 and set(seen) == set(paths)  # every file once, none lost
    assert highest_waiting[0] <= max_pending
    queues.stop()


def test_burst_memory_is_bounded_by_max_pending_not_by_the_burst():
    # each job carries 64 KiB: 5,000 jobs held at once would be 320 MiB
    payload_size, max_pending, burst = 64 * 1024, 50, 5000
    queues = make(lambda job: None, max_pending=max_pending)
    queues.start()
    gc.collect()
    tracemalloc.start()
    for i in range(burst):
        job = queues.submit(
            Path(f"/hdd1/f{i}"), block=True, timeout=WAIT, payload=bytearray(payload_size)
        )
        assert job is not None
    del job
    assert queues.wait_idle(WAIT)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    queues.stop()
    held_at_most = (max_pending + 2) * payload_size  # waiting + running + the one in hand
    assert peak < held_at_most + 2 * 1024 * 1024  # + path-name interning and bookkeeping
    assert peak < burst * payload_size / 50


def test_stop_cancels_waiting_jobs_and_flags_the_running_one():
    running = threading.Event()

    def run(job: Job) -> None:
        running.set()
        assert job.cancelled.wait(WAIT)  # a cooperative job sees the stop and ends early

    queues = make(run)
    queues.start()
    active = queues.submit(Path("/hdd1/a"))
    waiting = queues.submit(Path("/hdd1/b"))
    assert running.wait(WAIT)
    assert queues.stop(timeout=WAIT)
    assert active.finished.is_set() and active.error is None
    assert waiting.finished.is_set() and isinstance(waiting.error, JobCancelled)
    assert queues.submit(Path("/hdd1/c")) is None


def test_a_failing_job_costs_one_job_not_the_worker():
    def run(job: Job) -> None:
        if job.payload == "bad":
            raise ValueError("boom")

    queues = make(run)
    queues.start()
    bad = queues.submit(Path("/hdd1/a"), payload="bad")
    good = queues.submit(Path("/hdd1/b"), payload="good")
    assert good.wait(WAIT) and bad.wait(WAIT)
    assert isinstance(bad.error, ValueError) and good.error is None
    assert queues.health()
    queues.stop()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_health_is_false_when_a_worker_dies():
    def run(job: Job) -> None:
        raise KeyboardInterrupt  # escapes the job guard: the thread dies

    queues = make(run)
    queues.start()
    job = queues.submit(Path("/hdd1/a"))
    assert job.wait(WAIT)
    for thread in threading.enumerate():
        if thread.name.startswith("modeld-queue-hdd1"):
            thread.join(WAIT)
    assert not queues.health()
    queues.stop()


def test_idle_pools_retire_their_threads_and_leave_the_status():
    queues = DeviceQueues(QueueConfig(), lambda job: None, device_of=device_of, idle_seconds=0.05)
    queues.start()
    assert queues.submit(Path("/hdd1/a")).wait(WAIT)
    names = lambda: [t for t in threading.enumerate() if t.name.startswith("modeld-queue-hdd1")]  # noqa: E731
    for thread in names():
        thread.join(WAIT)
    assert names() == []
    assert queues.snapshot() == []
    assert queues.health()
    assert queues.submit(Path("/hdd1/b")).wait(WAIT)  # a new job brings a worker back
    queues.stop()


@pytest.mark.parametrize("kind", ["hdd", "network", "unknown"])
def test_single_reader_kinds(kind):
    rec = Recorder()
    queues = DeviceQueues(
        QueueConfig(),
        lambda job: (rec.start(job), rec.end(job)),
        device_of=lambda path: Device(path.parts[1], kind),
    )
    queues.start()
    jobs = [queues.submit(Path(f"/dev-{kind}/{i}")) for i in range(4)]
    assert all(job.wait(WAIT) for job in jobs)
    assert rec.max_running[f"dev-{kind}"] == 1
    queues.stop()
