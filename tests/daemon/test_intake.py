"""Intake with fakes for the watch, the queues and the importer: no threads, no watchdog.

The files are real (planning reads them) and so is the ledger (a real index
in a temp dir); a test runs the queued jobs itself, in this thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

import pytest

from modeld.config import WatchConfig
from modeld.control import events
from modeld.daemon.intake import Intake, OnFailed, OnReady, RunJob, prune_empty_folders
from modeld.ingest import ledger
from modeld.ingest.outcomes import Duplicate, Failed, Imported, Outcome, Waiting
from modeld.ingest.units import ImportUnit
from modeld.queues import PRIORITY_BACKGROUND, PRIORITY_USER, Device, Job
from tests.modelfiles import write_safetensors

TENSORS = {"w": ("F16", (4, 4))}


class FakeQueues:
    """Keeps submitted jobs until `run_all`; `capacity` jobs at most; `immediate` runs
    each job inside submit, the way a free worker may finish before submit returns."""

    def __init__(self, run: RunJob, *, capacity: int = 100, immediate: bool = False):
        self.run = run
        self.capacity = capacity
        self.immediate = immediate
        self.jobs: list[Job] = []

    def submit(self, path: Path, *, priority: int, payload=None, block: bool = False):
        if len(self.jobs) >= self.capacity:
            return None
        job = Job(path, priority, payload, Device("fake", "ssd"))
        self.jobs.append(job)
        if self.immediate:
            self._run(job)
        return job

    def run_all(self) -> None:
        for job in list(self.jobs):
            if not job.finished.is_set():
                self._run(job)

    def _run(self, job: Job) -> None:
        self.run(job)
        job.finished.set()


class FakeWatch:
    """Records what intake tells the watch."""

    def __init__(self, on_ready: OnReady, on_failed: OnFailed):
        self.on_ready = on_ready
        self.on_failed = on_failed
        self.finished: list[Path] = []  # each call of done(), in order
        self.parked: list[tuple[Path, str]] = []

    def done(self, path: Path) -> None:
        self.finished.append(path)

    def retry_later(self, path: Path, reason: str) -> bool:
        self.parked.append((path, reason))
        return True


class FakeImporter:
    """Answers each unit with `decide(unit)`, after one progress report."""

    def __init__(self, decide: Callable[[ImportUnit], Outcome]):
        self.decide = decide
        self.units: list[ImportUnit] = []

    def submit_unit(self, unit: ImportUnit, *, copy: bool, progress=None) -> Future[Outcome]:
        self.units.append(unit)
        if progress is not None:
            progress(1, 1)
        done: Future[Outcome] = Future()
        try:
            done.set_result(self.decide(unit))
        except Exception as exc:  # the importer's bug, as the real future would carry it
            done.set_exception(exc)
        return done


@pytest.fixture
def published() -> list[events.Event]:
    return []


def make_intake(
    published: list[events.Event], decide: Callable[[ImportUnit], Outcome], **queue_options
):
    importer = FakeImporter(decide)
    intake = Intake(
        importer,
        published.append,
        make_queues=lambda run: FakeQueues(run, **queue_options),
        make_watch=FakeWatch,
    )
    return intake, importer


def imported(unit: ImportUnit) -> Outcome:
    return Imported(str(unit.source), {"id": "m1"})


@pytest.fixture
def watch(drop: Path) -> WatchConfig:
    return WatchConfig(drop, mode="copy")


def test_a_settled_file_is_queued_once_and_its_outcome_remembered(index, drop, watch, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)
    intake, importer = make_intake(published, lambda u: Duplicate(str(u.source), "m1"))
    assert intake.on_ready(path, watch) is True
    [job] = intake.queues.jobs
    assert job.priority == PRIORITY_BACKGROUND and job.path == path
    assert intake.watch.finished == []  # not finished before its import is
    intake.queues.run_all()
    assert [u.source for u in importer.units] == [path]
    assert intake.watch.finished == [path]
    assert ledger.handled(path)  # a copy-mode source stays: the ledger remembers it
    assert events.Progress(str(path), 1, 1) in published

    # the same unchanged file offered again (a rescan after a restart): nothing to do
    assert intake.on_ready(path, watch) is True
    assert len(intake.queues.jobs) == 1
    assert intake.watch.finished == [path, path]


def test_a_full_queue_says_no_and_the_file_is_offered_again(index, drop, watch, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)
    intake, _ = make_intake(published, imported, capacity=0)
    assert intake.on_ready(path, watch) is False
    assert intake.watch.finished == []
    intake.queues.capacity = 1  # room again: the next offer queues it, not "already queued"
    assert intake.on_ready(path, watch) is True
    assert len(intake.queues.jobs) == 1


def test_the_shards_of_one_set_make_one_job_and_all_finish_with_it(index, drop, watch, published):
    first = write_safetensors(drop / "s" / "model-00001-of-00002.safetensors", TENSORS)
    second = write_safetensors(drop / "s" / "model-00002-of-00002.safetensors", TENSORS)
    intake, importer = make_intake(published, lambda u: Failed(str(u.source), "bad header"))
    assert intake.on_ready(first, watch) is True
    assert intake.on_ready(second, watch) is True
    assert len(intake.queues.jobs) == 1
    assert intake.watch.finished == [second]  # the queued unit finishes it too
    intake.queues.run_all()
    assert len(importer.units) == 1
    assert sorted(intake.watch.finished) == sorted([second, first, second])
    assert ledger.handled(first) and ledger.handled(second)


def test_an_incomplete_set_is_parked_and_announced_not_queued(index, drop, watch, published):
    shard = write_safetensors(drop / "s" / "model-00001-of-00002.safetensors", TENSORS)
    intake, _ = make_intake(published, imported)
    assert intake.on_ready(shard, watch) is True
    assert intake.queues.jobs == []
    [(parked, reason)] = intake.watch.parked
    assert parked == shard and "incomplete shard set" in reason
    assert published == [events.Waiting(str(shard), reason)]
    assert intake.watch.finished == []  # parked, not finished
    assert not ledger.handled(shard)


def test_a_refused_file_is_said_once_and_remembered(index, drop, watch, published):
    escape = drop / "escape.safetensors"
    os.symlink("/etc/hostname", escape)
    intake, _ = make_intake(published, imported)
    assert intake.on_ready(escape, watch) is True
    [event] = published
    assert isinstance(event, events.Failed) and event.path == str(escape)
    assert "outside" in event.reason
    assert intake.watch.finished == [escape]
    assert ledger.handled(escape)
    assert intake.on_ready(escape, watch) is True
    assert len(published) == 1  # a rescan does not say it again


def test_a_file_refused_before_a_restart_is_said_once_after_it(index, drop, watch, published):
    escape = drop / "escape.safetensors"
    os.symlink("/etc/hostname", escape)
    first, _ = make_intake(published, imported)
    first.on_ready(escape, watch)
    [refused] = published
    published.clear()
    restarted, importer = make_intake(published, imported)  # the ledger stays
    assert restarted.on_ready(escape, watch) is True
    assert published == [events.Failed(str(escape), refused.reason)]
    assert restarted.watch.finished == [escape] and importer.units == []
    restarted.on_ready(escape, watch)  # a rescan
    assert len(published) == 1


def test_a_file_imported_before_a_restart_stays_quiet(index, drop, watch, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)
    first, _ = make_intake(published, imported)
    first.on_ready(path, watch)
    first.queues.run_all()
    published.clear()
    restarted, importer = make_intake(published, imported)
    assert restarted.on_ready(path, watch) is True
    assert published == [] and importer.units == []


def test_a_late_companion_of_a_model_imported_from_here_joins_it(index, drop, watch, published):
    model = write_safetensors(drop / "m" / "model.safetensors", TENSORS)
    preview = drop / "m" / "model.preview.png"
    preview.write_bytes(b"\x89PNG\r\n\x1a\n")
    ledger.record(model, "imported")  # copy mode: the model's source stayed
    intake, _ = make_intake(published, imported)
    assert intake.on_ready(preview, watch) is True
    [job] = intake.queues.jobs
    assert job.payload.unit.kind == "companion" and job.payload.unit.source == preview


def test_a_waiting_outcome_parks_the_file_instead_of_finishing_it(index, drop, watch, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)
    intake, _ = make_intake(published, lambda u: Waiting(str(u.source), "file changed"))
    intake.on_ready(path, watch)
    intake.queues.run_all()
    assert intake.watch.parked == [(path, "file changed")]
    assert intake.watch.finished == []
    assert not ledger.handled(path)


def test_a_move_import_removes_the_folders_it_emptied(index, drop, published):
    path = write_safetensors(drop / "org" / "repo" / "a.safetensors", TENSORS)
    watch = WatchConfig(drop, mode="move")

    def moved(unit: ImportUnit) -> Outcome:
        path.unlink()  # the importer moved it into the library
        return imported(unit)

    intake, _ = make_intake(published, moved)
    intake.on_ready(path, watch)
    intake.queues.run_all()
    assert not (drop / "org").exists()
    assert drop.exists()
    assert intake.watch.finished == [path]


def test_a_crashing_import_costs_one_file_and_is_reported(index, drop, watch, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)

    def crash(unit: ImportUnit) -> Outcome:
        raise RuntimeError("boom")

    intake, _ = make_intake(published, crash)
    intake.on_ready(path, watch)
    intake.queues.run_all()
    assert published[-1] == events.Failed(str(path), "internal error: boom")
    assert intake.watch.finished == [path]
    assert ledger.handled(path)
    # the unit is no longer in flight: the file, once changed, is queued again
    path.write_bytes(path.read_bytes() + b" ")
    intake.on_ready(path, watch)
    assert len(intake.queues.jobs) == 2


def test_an_import_request_goes_first_and_answers_with_the_report(index, drop, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)
    intake, _ = make_intake(published, imported, immediate=True)
    report = intake.import_request({"paths": [str(path)], "copy": True})
    assert report["imported"] == [{"id": "m1"}]
    [job] = intake.queues.jobs
    assert job.priority == PRIORITY_USER
    assert intake.watch.finished == []  # not a watched file
    with pytest.raises(ValueError, match="a list of strings"):
        intake.import_request({"paths": str(path)})


def test_an_import_request_cut_short_by_shutdown_says_so(index, drop, published):
    path = write_safetensors(drop / "a.safetensors", TENSORS)
    intake, _ = make_intake(published, imported, capacity=0)
    report = intake.import_request({"paths": [str(path)]})
    assert report["failed"] == [
        {"path": str(path), "reason": "modeld is stopping; import it again later"}
    ]


def test_prune_removes_only_empty_folders_below_the_root(tmp_path):
    root = tmp_path / "drop"
    deep = root / "org" / "repo" / "snapshot"
    deep.mkdir(parents=True)
    (root / "org" / "keep.txt").write_text("a user's note")
    prune_empty_folders(deep, root)
    assert not (root / "org" / "repo").exists()
    assert (root / "org" / "keep.txt").exists()
    assert root.exists()


def test_prune_never_leaves_the_root(tmp_path):
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    prune_empty_folders(outside, tmp_path / "drop")
    assert outside.exists()
