"""Group commit on real files: batches from several threads, twins in one batch,
family folders listed once, and device queues whose jobs finish after the commit."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future
from pathlib import Path

from modeld.config import QueueConfig
from modeld.ingest.outcomes import Imported
from modeld.ingest.pipeline import Importer
from modeld.ingest.planner import plan_units
from modeld.library.db import FileRecord, ModelRecord
from modeld.library.layout import FolderNames
from modeld.queues import DeviceQueues, Job
from modeld.queues.devices import Device
from tests import modelfiles

WAIT = 20.0


def tiny(folder: Path, name: str) -> Path:
    """A tiny safetensors file, unique by its metadata."""
    return modelfiles.write_safetensors(
        folder / f"{name}.safetensors", {"w": ("F32", [16])}, {"n": name}
    )


def test_units_staged_by_several_threads_share_commits(config, index, drop):
    importer = Importer(config)
    sizes: list[int] = []
    commit = importer.committer.commit

    def counted(batch):
        sizes.append(len(batch))
        return commit(batch)

    importer.committer.commit = counted  # type: ignore[method-assign]
    units = [plan_units([tiny(drop, f"m-{n:03}")])[0][0] for n in range(48)]
    outcomes: list = []

    def worker(mine):
        for unit in mine:
            outcomes.append(importer.import_unit(unit, copy=False))

    threads = [threading.Thread(target=worker, args=(units[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)

    assert len(outcomes) == 48 and all(isinstance(o, Imported) for o in outcomes)
    assert ModelRecord.select().count() == 48
    assert sum(sizes) == 48
    assert len(sizes) < 48, "every unit was committed alone"
    assert list(drop.iterdir()) == []
    assert list((config.library_root / ".modeld" / "staging").iterdir()) == []
    assert list(config.journal_path.iterdir()) == []


def test_twins_in_one_batch_are_stored_once(config, index, drop):
    first = tiny(drop, "original")
    twin = drop / "renamed-copy.safetensors"
    twin.write_bytes(first.read_bytes())
    report = Importer(config).import_paths([drop], copy=False)

    assert len(report.imported) == 1 and len(report.duplicates) == 1
    assert ModelRecord.select().count() == 1 and FileRecord.select().count() == 1
    # the twin's bytes are in the library, compared byte for byte: its source goes too
    assert not first.exists() and not twin.exists()


def test_a_batch_of_copies_leaves_every_source(config, index, drop):
    sources = [tiny(drop, f"c-{n}") for n in range(5)]
    report = Importer(config).import_paths([drop], copy=True)

    assert len(report.imported) == 5
    assert all(source.exists() for source in sources)
    for model in report.imported:
        assert Path(model["path"], "metadata.json").is_file()


def test_family_folders_are_listed_once_and_followed(tmp_path, monkeypatch):
    names = FolderNames(tmp_path)
    first = names.choose("lora", "sdxl", "style", "aaaa1111")
    first.mkdir(parents=True)
    listings = []
    real = os.listdir
    monkeypatch.setattr(os, "listdir", lambda path: listings.append(path) or real(path))
    second = names.choose("lora", "sdxl", "style", "bbbb2222")
    assert second != first and second.name == "style-bbbb"
    assert listings == [], "the family folder was listed again"
    # a folder another process made since the listing is seen, and not taken twice
    (first.parent / "other").mkdir()
    third = names.choose("lora", "sdxl", "other", "cccc3333")
    assert third.name != "other" and not third.exists()


def test_a_job_whose_run_returns_a_future_finishes_with_it():
    started = threading.Event()
    later: Future[None] = Future()
    ran: list[str] = []

    def run(job: Job) -> Future[None] | None:
        ran.append(job.payload)
        if job.payload == "first":
            started.set()
            return later  # committed later: the worker goes on
        return None

    queues = DeviceQueues(QueueConfig(), run, device_of=lambda path: Device("d", "hdd"))
    queues.start()
    first = queues.submit(Path("/d/a"), payload="first")
    second = queues.submit(Path("/d/b"), payload="second")
    assert second.wait(WAIT), "the one worker was held by the first job's commit"
    assert not first.finished.is_set()
    assert [job["path"] for job in queues.snapshot()[0]["active"]] == ["/d/a"]
    later.set_result(None)
    assert first.wait(WAIT)
    assert queues.wait_idle(WAIT) and ran == ["first", "second"]
    queues.stop()
