"""scan_tree and probe on real folders."""

from __future__ import annotations

import os
from pathlib import Path

from modeld.watch.scan import ScanStats, probe, scan_tree


def write(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_scan_lists_candidates_with_their_stat_and_skips_the_rest(tmp_path):
    keep = [
        write(tmp_path / "a.safetensors", b"a" * 10),
        write(tmp_path / "sub" / "deeper" / "b.gguf", b"b" * 20),
        write(tmp_path / "c.gguf", b"c"),
    ]
    write(tmp_path / "c.gguf.aria2")
    write(tmp_path / "d.safetensors.part")
    write(tmp_path / ".e.safetensors.AbC123")  # rsync temp
    write(tmp_path / ".cache" / "huggingface" / "f.incomplete")
    write(tmp_path / "g.safetensors.download" / "g.safetensors")  # Safari bundle
    write(tmp_path / "$RECYCLE.BIN" / "h.gguf")
    write(tmp_path / "library" / "placed.gguf")
    (tmp_path / "link.gguf").symlink_to(keep[0])
    (tmp_path / "linkdir").symlink_to(tmp_path / "sub")
    os.mkfifo(tmp_path / "fifo")
    stats = ScanStats(folders=[])
    found = dict(scan_tree(tmp_path, skip=lambda p: p.name == "library", stats=stats))
    assert sorted(found) == sorted(keep)
    assert found[keep[0]].size == 10
    assert found[keep[0]].ino == keep[0].stat().st_ino
    assert found[keep[0]].mtime_ns == keep[0].stat().st_mtime_ns
    assert found[keep[2]].sidecar and not found[keep[0]].sidecar
    assert stats.files == 3
    assert sorted(stats.folders) == sorted(
        str(p) for p in (tmp_path, tmp_path / "sub", tmp_path / "sub" / "deeper")
    )


def test_non_recursive_scan_stays_at_the_top(tmp_path):
    top = write(tmp_path / "top.gguf")
    write(tmp_path / "sub" / "below.gguf")
    assert [p for p, _ in scan_tree(tmp_path, recursive=False)] == [top]


def test_scan_of_a_missing_root_finds_nothing(tmp_path):
    assert list(scan_tree(tmp_path / "absent")) == []


def test_probe(tmp_path):
    path = write(tmp_path / "m.gguf", b"12345")
    stat = probe(path)
    assert (stat.size, stat.ino, stat.sidecar) == (5, path.stat().st_ino, False)
    write(tmp_path / "m.gguf.aria2")
    assert probe(path).sidecar
    (tmp_path / "link").symlink_to(path)
    assert probe(tmp_path / "link") is None  # never followed
    assert probe(tmp_path) is None
    assert probe(tmp_path / "absent") is None
