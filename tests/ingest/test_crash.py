"""Kill a real import process with SIGKILL at chosen points, then recover.

The child process is a real `python` running the real pipeline; the only
change is one function wrapped to SIGKILL the process at that moment, which
is how a power cut or `kill -9` would find it. After recovery every file must
be at its source or whole in the library, never neither, never indexed twice.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from modeld.config import load_config
from modeld.ingest.pipeline import Importer, recover
from modeld.library.db import FileRecord, ModelRecord, open_index
from tests import modelfiles

CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from modeld.config import load_config
    from modeld.library.db import open_index
    from modeld.library.layout import ensure_library
    from modeld.ingest import commit, pipeline, stage

    config_path, point, mode, source = sys.argv[1:5]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    def die_on_call(number, function):
        calls = []
        def wrapper(*args, **kwargs):
            calls.append(1)
            if len(calls) == number:
                die()
            return function(*args, **kwargs)
        return wrapper

    def die_after_call(number, function):
        calls = []
        def wrapper(*args, **kwargs):
            result = function(*args, **kwargs)
            calls.append(1)
            if len(calls) == number:
                die()
            return result
        return wrapper

    if point == "after-link":
        stage.os.link = die_after_call(1, os.link)
    elif point == "between-link-and-unlink":
        os.unlink = die  # the first unlink is the source's, once its copy is in place
    elif point == "mid-copy":
        original = stage.copy_and_hash
        def copy_and_die(src, staged, progress, **options):
            def on_chunk(count):
                die()
            return original(src, staged, on_chunk, **options)
        stage.copy_and_hash = copy_and_die
    elif point == "before-place":
        commit.encode_json = die  # the metadata.json written into staging
    elif point == "after-place":
        commit.index.upsert_models = die
    elif point == "before-source-removal":
        commit.journal_ops.remove_moved_sources = die
    # inside a batch of several units (the source is a folder of them)
    elif point == "batch-mid-staging":
        stage.stage_files = die_on_call(3, stage.stage_files)  # two staged, the third starts
    elif point == "batch-before-flush":
        commit.flush = die  # every unit staged, metadata written, the batch entry not flushed
    elif point == "batch-some-placed":
        commit.os.rename = die_after_call(2, os.rename)
    elif point == "batch-after-index":
        commit.index.upsert_models = die_after_call(1, commit.index.upsert_models)
    elif point == "batch-mid-source-removal":
        commit.journal_ops.remove_moved_sources = die_after_call(
            2, commit.journal_ops.remove_moved_sources
        )

    config = load_config(config_path)
    ensure_library(config.library_root)
    open_index(config.index_path)
    pipeline.Importer(config).import_paths([Path(source)], copy=(mode == "copy"))
    sys.exit(3)  # the chosen point was never reached
    """
)

POINTS = [
    "after-link",
    "between-link-and-unlink",
    "mid-copy",
    "before-place",
    "after-place",
    "before-source-removal",
]
BATCH_POINTS = [
    "batch-mid-staging",
    "batch-before-flush",
    "batch-some-placed",
    "batch-after-index",
    "batch-mid-source-removal",
]


def make_source(folder: Path) -> tuple[Path, bytes]:
    source = folder / "victim.safetensors"
    modelfiles.write_safetensors(source, {"w": ("F32", [3_000_000])})  # 12 MB: several chunks
    with open(source, "r+b") as handle:
        handle.seek(100)
        handle.write(os.urandom(1_000_000))
    return source, source.read_bytes()


def applicable(point: str, cross_device: bool, mode: str) -> bool:
    renames = mode == "move" and not cross_device
    if point in ("after-link", "between-link-and-unlink"):
        return renames
    if point == "batch-mid-source-removal":
        return mode == "move"
    if point == "mid-copy":
        return not renames
    if point == "before-source-removal":
        return mode == "move"  # linked sources, too, go only after their commit
    return True


def cases(points: list[str]) -> list:
    return [
        pytest.param(point, cross, mode, id=f"{point}-{'cross' if cross else 'same'}-device-{mode}")
        for point in points
        for cross in (False, True)
        for mode in ("move", "copy")
        if applicable(point, cross, mode)
    ]


CASES = cases(POINTS)
BATCH_CASES = cases(BATCH_POINTS)


@pytest.mark.parametrize(("point", "cross_device", "mode"), CASES)
def test_sigkill_at_any_point_loses_nothing(home, config_path, point, cross_device, mode):
    if cross_device and os.stat("/dev/shm").st_dev == os.stat(home).st_dev:
        pytest.skip("no second device here")
    drop = Path(tempfile.mkdtemp(dir="/dev/shm" if cross_device else home))
    try:
        source, data = make_source(drop)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(config_path), point, mode, str(source)],
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr

        config = load_config(config_path)
        db = open_index(config.index_path)
        try:
            recover(config)
            assert_nothing_lost(config, source, data)
            # and the next import finishes the job exactly once
            if source.exists():
                Importer(config).import_paths([source], copy=(mode == "copy"))
            assert ModelRecord.select().count() == 1
            assert FileRecord.select().count() == 1
            stored = config.library_root / ModelRecord.get().rel_path / "victim.safetensors"
            assert stored.read_bytes() == data
            assert source.exists() == (mode == "copy")
            assert list((config.library_root / ".modeld" / "staging").iterdir()) == []
            assert list(config.journal_path.iterdir()) == []
        finally:
            db.close()
    finally:
        shutil.rmtree(drop, ignore_errors=True)


def assert_nothing_lost(config, source: Path, data: bytes) -> None:
    at_source = source.exists() and source.read_bytes() == data
    in_library = [
        config.library_root / record.rel_path / "victim.safetensors"
        for record in ModelRecord.select()
    ]
    whole_in_library = any(p.exists() and p.read_bytes() == data for p in in_library)
    assert at_source or whole_in_library, "the file is neither at its source nor in the library"
    assert ModelRecord.select().count() <= 1, "indexed twice"
    if source.exists():
        assert source.read_bytes() == data, "the source was damaged"


def make_batch(folder: Path) -> dict[Path, bytes]:
    """Five small models in one folder, the last a twin of the second (same bytes)."""
    sources = {}
    for n in range(4):
        source = folder / f"model-{n}.safetensors"
        modelfiles.write_safetensors(source, {"w": ("F32", [16_000])})
        with open(source, "r+b") as handle:
            handle.seek(100)
            handle.write(os.urandom(60_000))
        sources[source] = source.read_bytes()
    twin = folder / "model-4.safetensors"
    twin.write_bytes(sources[folder / "model-1.safetensors"])
    sources[twin] = twin.read_bytes()
    return sources


@pytest.mark.parametrize(("point", "cross_device", "mode"), BATCH_CASES)
def test_sigkill_inside_a_batch_loses_nothing(home, config_path, point, cross_device, mode):
    if cross_device and os.stat("/dev/shm").st_dev == os.stat(home).st_dev:
        pytest.skip("no second device here")
    drop = Path(tempfile.mkdtemp(dir="/dev/shm" if cross_device else home))
    try:
        folder = drop / "batch"
        folder.mkdir()
        sources = make_batch(folder)
        child = subprocess.run(
            [sys.executable, "-c", CHILD, str(config_path), point, mode, str(folder)],
            cwd=Path(__file__).parents[2],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert child.returncode == -signal.SIGKILL, child.stderr

        config = load_config(config_path)
        db = open_index(config.index_path)
        try:
            recover(config)
            assert_batch_intact(config, sources)
            # and the next import finishes the job, each content stored once
            left = [source for source in sources if source.exists()]
            if left:
                Importer(config).import_paths(left, copy=(mode == "copy"))
            contents = set(sources.values())
            assert ModelRecord.select().count() == len(contents) == 4
            assert stored_contents(config) == contents
            for source in sources:
                assert source.exists() == (mode == "copy")
            assert list((config.library_root / ".modeld" / "staging").iterdir()) == []
            assert list(config.journal_path.iterdir()) == []
        finally:
            db.close()
    finally:
        shutil.rmtree(drop, ignore_errors=True)


def stored_contents(config) -> set[bytes]:
    return {
        (config.library_root / record.rel_path / file.rel_path).read_bytes()
        for record in ModelRecord.select()
        for file in FileRecord.select().where(FileRecord.model == record)
    }


def assert_batch_intact(config, sources: dict[Path, bytes]) -> None:
    stored = stored_contents(config)
    for source, data in sources.items():
        at_source = source.exists() and source.read_bytes() == data
        assert at_source or data in stored, f"{source.name} is neither at its source nor stored"
        if source.exists():
            assert source.read_bytes() == data, "a source was damaged"
    blake3s = [record.blake3 for record in ModelRecord.select()]
    assert len(blake3s) == len(set(blake3s)), "a model indexed twice"
    folders = list(config.library_root.glob("*/*/*/metadata.json"))
    assert len(folders) == len(blake3s), "a model folder in the library but not indexed"
