"""WatchService with real watchdog observers on real temporary folders.

Waits are on conditions with timeouts (the timeouts only stop a broken build
from hanging). Where a test needs the kernel to refuse something it cannot be
made to refuse safely here (the inotify limits), the seam is injected and the
test says so.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from pathlib import Path

import pytest

from modeld.config import QueueConfig, WatchConfig
from modeld.queues import DeviceQueues, Job
from modeld.queues.devices import Device
from modeld.watch import WatchService
from modeld.watch.observer import default_observer_factory

WAIT = 60.0  # only catches a hang: a loaded 2-core CI machine can be slow


# Far longer than WAIT: a file offered within WAIT was offered on a completion
# signal, not at the end of the quiet period (no timed assertion needed).
LONG_SETTLE = 3600.0


def tracked(service: WatchService) -> int:
    """Files the watches track now (settling, handed out, parked), as the status counts them."""
    return sum(w["settling"] + w["importing"] + w["retrying"] for w in service.watching())


def wait_until(predicate, timeout: float = WAIT, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


class Collector:
    """on_ready: records every offer (path, watch) in order."""

    def __init__(self, accept=lambda path: True):
        self.offers: list[Path] = []
        self.watches: list[WatchConfig] = []
        self.accept = accept
        self.lock = threading.Lock()

    def __call__(self, path: Path, watch: WatchConfig) -> bool:
        with self.lock:
            self.offers.append(path)
            self.watches.append(watch)
        return self.accept(path)

    def count(self, path: Path) -> int:
        with self.lock:
            return self.offers.count(path)


@pytest.fixture
def services():
    made: list[WatchService] = []
    yield made
    for service in made:
        service.stop()


def make(services, watches, on_ready, **options) -> WatchService:
    options.setdefault("settle_seconds", 0.3)
    options.setdefault("check_seconds", 0.1)
    options.setdefault("poll_seconds", 0.1)
    service = WatchService(watches, on_ready, **options)
    services.append(service)
    service.start()
    return service


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def test_a_closed_file_is_offered_once_with_its_watch(tmp_path, services):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watch = WatchConfig(inbox, mode="move")
    got = Collector()
    service = make(services, [watch], got, settle_seconds=LONG_SETTLE)
    assert service.wait_for_scans(1, WAIT)
    [status] = service.watching()
    assert (status["state"], status["backend"]) == ("watching", "inotify")
    path = write(inbox / "a.safetensors", b"x" * 1000)
    # the quiet period is an hour, but a close-after-write needs only the short grace
    assert wait_until(lambda: got.count(path) == 1)
    assert got.watches == [watch]
    assert service.watching()[0]["importing"] == 1


def test_part_then_rename_is_offered_under_the_final_name_only(tmp_path, services):
    got = Collector()
    make(services, [WatchConfig(tmp_path)], got, settle_seconds=LONG_SETTLE)
    part = write(tmp_path / "m.gguf.part", b"GGUF" + b"\0" * 5000)
    final = tmp_path / "m.gguf"
    os.rename(part, final)
    assert wait_until(lambda: got.count(final) == 1)  # the rename is the arrival
    assert part not in got.offers


def test_a_file_moved_in_from_outside_arrives_without_the_quiet_period(tmp_path, services):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    got = Collector()
    make(services, [WatchConfig(inbox)], got, settle_seconds=LONG_SETTLE)
    outside = write(tmp_path / "elsewhere" / "done.safetensors", b"m" * 100)
    final = inbox / "done.safetensors"
    os.rename(outside, final)
    assert wait_until(lambda: got.count(final) == 1)


def test_a_symlinked_watch_root_reports_paths_under_the_configured_path(tmp_path, services):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    got = Collector()
    make(services, [WatchConfig(link)], got)
    write(real / "via-real.gguf", b"r" * 10)
    assert wait_until(lambda: got.count(link / "via-real.gguf") == 1)
    assert got.offers == [link / "via-real.gguf"]


def test_slow_writer_holding_the_file_open_is_not_offered_early(tmp_path, services):
    got = Collector()
    settle = 0.3
    make(services, [WatchConfig(tmp_path)], got, settle_seconds=settle)
    path = tmp_path / "slow.safetensors"
    with open(path, "wb") as f:
        f.write(b"a" * 4096)
        f.flush()
        # the writer pauses for many quiet periods with the file still open;
        # nothing may be offered meanwhile (this wait is the point of the test)
        time.sleep(settle * 6)
        assert got.offers == []
        f.write(b"b" * 4096)
    assert wait_until(lambda: got.count(path) == 1)
    assert path.stat().st_size == 8192


def test_catch_up_scan_offers_what_arrived_while_stopped_and_skips_temporary_names(
    tmp_path, services
):
    ready = write(tmp_path / "old" / "model.safetensors", b"z" * 100)
    write(tmp_path / "old" / "dl.safetensors.crdownload", b"z" * 100)
    write(tmp_path / ".hidden" / "x.safetensors", b"z" * 100)
    write(tmp_path / "aria.gguf", b"z" * 100)
    write(tmp_path / "aria.gguf.aria2", b"ctl")
    write(tmp_path / "empty.safetensors", b"")
    got = Collector()
    service = make(services, [WatchConfig(tmp_path)], got)
    assert service.wait_for_scans(1, WAIT)
    assert wait_until(lambda: got.count(ready) == 1)
    service.rescan()  # a full rescan in the caller's thread, like the scheduler's
    assert wait_until(lambda: service.watching()[0]["settling"] == 1)  # aria.gguf waits
    assert got.offers == [ready]
    (tmp_path / "aria.gguf.aria2").unlink()  # aria2 finished
    assert wait_until(lambda: got.count(tmp_path / "aria.gguf") == 1)


def test_a_watch_folder_that_appears_late_is_picked_up(tmp_path, services):
    late = tmp_path / "drive" / "models"
    got = Collector()
    service = make(services, [WatchConfig(late, mode="copy")], got)
    [status] = service.watching()
    assert status["state"] == "waiting"
    assert service.health()
    late.mkdir(parents=True)
    path = write(late / "lora.safetensors", b"q" * 300)
    assert wait_until(lambda: got.count(path) == 1)
    assert service.watching()[0]["state"] == "watching"


def test_a_vanished_root_is_waited_for_again_and_restarted(tmp_path, services):
    root = tmp_path / "usb"
    root.mkdir()
    got = Collector()
    service = make(services, [WatchConfig(root)], got)
    assert wait_until(lambda: service.watching()[0]["state"] == "watching")
    os.rmdir(root)  # the drive went away
    assert wait_until(lambda: service.watching()[0]["state"] == "waiting")
    root.mkdir()
    path = write(root / "back.gguf", b"g" * 64)
    assert wait_until(lambda: got.count(path) == 1)


@pytest.mark.parametrize(
    ("code", "sysctl"),
    [
        (errno.ENOSPC, "fs.inotify.max_user_watches"),
        (errno.EMFILE, "fs.inotify.max_user_instances"),
    ],
)
def test_inotify_limit_falls_back_to_polling_and_names_the_sysctl(
    tmp_path, services, caplog, code, sysctl
):
    # The kernel's limits cannot be exhausted safely in a test, so the observer
    # factory is injected and refuses inotify the way watchdog reports it.
    def factory(backend: str, poll_seconds: float):
        if backend == "inotify":
            raise OSError(code, "inotify watch limit reached")
        return default_observer_factory(backend, poll_seconds)

    got = Collector()
    caplog.set_level(logging.WARNING, logger="modeld.watch.observer")
    service = make(services, [WatchConfig(tmp_path)], got, observer_factory=factory)
    [status] = service.watching()
    assert (status["state"], status["backend"]) == ("watching", "polling")
    assert sysctl in status["reason"]
    assert any(sysctl in record.getMessage() for record in caplog.records)
    path = write(tmp_path / "polled.safetensors", b"p" * 500)
    assert wait_until(lambda: got.count(path) == 1)
    assert service.health()


def test_a_subfolder_inotify_could_not_watch_switches_the_watch_to_polling(
    tmp_path, services, monkeypatch
):
    # watchdog 7 skips a subfolder whose watch the kernel refuses, silently; the
    # refusal is simulated at watchdog's own seam (InotifyFD.add_callback).
    from watchdog.observers.inotify_c import InotifyFD

    (tmp_path / "deep" / "er").mkdir(parents=True)
    original = InotifyFD.add_callback

    def refuse_deep(self, path, *args, **kwargs):
        if b"deep" in path:
            raise OSError(errno.ENOSPC, "inotify watch limit reached")
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(InotifyFD, "add_callback", refuse_deep)
    got = Collector()
    service = make(services, [WatchConfig(tmp_path)], got)
    assert wait_until(lambda: service.watching()[0]["backend"] == "polling")
    assert "max_user_watches" in service.watching()[0]["reason"]
    path = write(tmp_path / "deep" / "er" / "x.safetensors", b"d" * 100)
    assert wait_until(lambda: got.count(path) == 1)


def test_network_file_systems_are_polled(tmp_path, services):
    mountinfo = f"40 1 0:45 / {tmp_path} rw - nfs4 nas:/export rw\n"
    got = Collector()
    service = make(services, [WatchConfig(tmp_path)], got, mountinfo=lambda: mountinfo)
    [status] = service.watching()
    assert status["backend"] == "polling"
    assert "nfs4" in status["reason"]
    path = write(tmp_path / "share.gguf", b"n" * 100)
    assert wait_until(lambda: got.count(path) == 1)


def test_copy_mode_file_done_is_not_offered_again_until_it_changes(tmp_path, services):
    got = Collector()
    service = make(services, [WatchConfig(tmp_path, mode="copy")], got)
    path = write(tmp_path / "keep.safetensors", b"k" * 100)
    assert wait_until(lambda: got.count(path) == 1)
    service.rescan()  # while handed out: not offered twice
    service.done(path)
    service.rescan()
    service.rescan()
    assert wait_until(lambda: service.watching()[0]["settling"] == 0)
    assert got.count(path) == 1
    write(path, b"changed" * 50)
    assert wait_until(lambda: got.count(path) == 2)


def test_a_refused_offer_is_made_again_later(tmp_path, services):
    refusals = [True, True]

    def accept(path: Path) -> bool:
        return not (refusals and refusals.pop())

    got = Collector(accept)
    make(services, [WatchConfig(tmp_path)], got, retry_offer_seconds=0.05)
    path = write(tmp_path / "busy.gguf", b"b" * 10)
    assert wait_until(lambda: got.count(path) == 3)
    assert refusals == []


def test_truncated_file_is_reported_failed_after_the_grace(tmp_path, services):
    failed = []
    got = Collector()
    service = make(
        services,
        [WatchConfig(tmp_path)],
        got,
        truncated_grace=0.5,
        on_failed=lambda path, watch, reason: failed.append((path, reason)),
    )
    path = write(tmp_path / "cut.safetensors", b"c" * 10)
    assert wait_until(lambda: got.count(path) == 1)
    service.retry_later(path, "truncated: 10 of 4096 bytes")
    assert wait_until(lambda: failed == [(path, "truncated: 10 of 4096 bytes")])
    service.rescan()
    assert wait_until(lambda: service.watching()[0]["retrying"] == 0)
    assert got.count(path) == 1  # not retried until it changes


def test_truncated_file_that_grows_is_offered_again(tmp_path, services):
    got = Collector()
    service = make(services, [WatchConfig(tmp_path)], got, truncated_grace=60)
    path = write(tmp_path / "grow.gguf", b"g" * 10)
    assert wait_until(lambda: got.count(path) == 1)
    service.retry_later(path, "truncated")
    with open(path, "ab") as f:
        f.write(b"rest" * 100)
    assert wait_until(lambda: got.count(path) == 2)


def test_excluded_folders_inside_a_watch_are_never_offered(tmp_path, services):
    library = tmp_path / "library"
    write(library / "existing" / "model.safetensors", b"l" * 100)
    got = Collector()
    service = make(services, [WatchConfig(tmp_path)], got, exclude=[library])
    assert service.wait_for_scans(1, WAIT)
    write(library / "new" / "placed.safetensors", b"l" * 100)
    marker = write(tmp_path / "outside.gguf", b"o" * 10)
    assert wait_until(lambda: got.count(marker) == 1)
    service.rescan()
    assert wait_until(lambda: service.watching()[0]["settling"] == 0)
    assert got.offers == [marker]


def test_an_inotify_overflow_triggers_a_rescan(tmp_path, services):
    got = Collector()
    service = make(services, [WatchConfig(tmp_path)], got)
    assert service.wait_for_scans(1, WAIT)
    # the message watchdog logs on IN_Q_OVERFLOW is our only signal (watchdog#654)
    logging.getLogger("watchdog.observers.inotify_c").warning(
        "Inotify queue overflowed; filesystem events were lost"
    )
    assert service.wait_for_scans(2, WAIT)


def test_health_follows_the_threads(tmp_path):
    service = WatchService([WatchConfig(tmp_path)], Collector(), check_seconds=0.1)
    assert not service.health()
    service.start()
    assert service.health()
    service.stop()
    assert not service.health()


def test_a_burst_through_bounded_queues_is_imported_exactly_once(tmp_path, services):
    """5,000 files dropped at once: settle tracks at most 1,000, the queue holds at most 20.

    Whatever does not fit stays on disk and is found again by the rescan that
    the service starts when room frees up: bounded memory, no file lost.
    """
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    imported: list[Path] = []
    lock = threading.Lock()
    service: WatchService

    all_written = threading.Event()

    def run(job: Job) -> None:
        assert all_written.wait(WAIT)  # hold the importer until the whole burst has landed
        job.path.unlink()  # move mode: the file leaves the inbox
        with lock:
            imported.append(job.path)
        service.done(job.path)

    queues = DeviceQueues(
        QueueConfig(max_pending=20), run, device_of=lambda path: Device("disk", "ssd")
    )
    queues.start()

    def on_ready(path: Path, watch: WatchConfig) -> bool:
        return queues.submit(path) is not None

    most_tracked = [0]

    def watch_tracking():
        while not stop_watching.is_set():
            most_tracked[0] = max(most_tracked[0], tracked(service))
            stop_watching.wait(0.01)

    service = make(services, [WatchConfig(inbox)], on_ready, settle_seconds=0.2, capacity=1000)
    stop_watching = threading.Event()
    threading.Thread(target=watch_tracking, daemon=True).start()
    names = [inbox / f"f{i:04d}.safetensors" for i in range(5000)]
    for path in names:
        write(path, b"s" * 64)
    assert wait_until(lambda: tracked(service) == 1000)  # full: the rest waits on disk
    all_written.set()
    assert wait_until(lambda: len(imported) >= 5000, timeout=3 * WAIT)
    stop_watching.set()
    assert queues.wait_idle(WAIT)
    assert sorted(imported) == sorted(names)  # every file, each exactly once
    assert list(inbox.iterdir()) == []
    assert most_tracked[0] <= 1000
    assert service.wait_for_scans(2, WAIT)  # room freed up: the rescan found the rest
    queues.stop()
