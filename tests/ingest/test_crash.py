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
    from modeld.ingest import pipeline

    config_path, point, mode, source = sys.argv[1:5]

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    if point == "after-rename":
        def rename_then_die(src, staged, progress):
            os.rename(src, staged)
            die()
        pipeline.rename_and_hash = rename_then_die
    elif point == "between-link-and-unlink":
        os.unlink = die  # the first unlink is the source's, right after the hard link
    elif point == "mid-copy":
        original = pipeline.copy_and_hash
        def copy_and_die(src, staged, progress):
            def on_chunk(count):
                die()
            return original(src, staged, on_chunk)
        pipeline.copy_and_hash = copy_and_die
    elif point == "before-place":
        pipeline.write_metadata = die
    elif point == "after-place":
        pipeline.index.upsert_model = die
    elif point == "before-source-removal":
        pipeline.journal_ops.remove_moved_sources = die

    config = load_config(config_path)
    ensure_library(config.library_root)
    open_index(config.index_path)
    pipeline.Importer(config).import_paths([Path(source)], copy=(mode == "copy"))
    sys.exit(3)  # the chosen point was never reached
    """
)

POINTS = [
    "after-rename",
    "between-link-and-unlink",
    "mid-copy",
    "before-place",
    "after-place",
    "before-source-removal",
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
    if point in ("after-rename", "between-link-and-unlink"):
        return renames
    if point == "mid-copy":
        return not renames
    if point == "before-source-removal":
        return mode == "move" and cross_device
    return True


CASES = [
    pytest.param(point, cross, mode, id=f"{point}-{'cross' if cross else 'same'}-device-{mode}")
    for point in POINTS
    for cross in (False, True)
    for mode in ("move", "copy")
    if applicable(point, cross, mode)
]


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
