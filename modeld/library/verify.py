"""Integrity verification: re-hash library files and compare with the record."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from modeld.library.db import ModelRecord
from modeld.vocab.hashing import hash_file

FileProgress = Callable[[str, int, int], None]
"""Called with (file name, bytes done, bytes total)."""


def verify_models(
    root: Path, records: Iterable[ModelRecord], progress: FileProgress | None = None
) -> dict[str, Any]:
    report: dict[str, Any] = {"checked": 0, "ok": 0, "mismatched": [], "missing": []}
    for record in records:
        for file in record.files:
            path = root / record.rel_path / file.rel_path
            report["checked"] += 1
            item = {"id": record.model_id, "path": str(path)}
            done = 0

            def on_chunk(count: int, name: str = path.name, total: int = file.size) -> None:
                nonlocal done
                done += count
                if progress is not None:
                    progress(name, done, total)

            try:
                digests = hash_file(path, on_chunk)
            except FileNotFoundError:
                report["missing"].append(item)
                continue
            if digests.blake3 == file.blake3 and digests.sha256 == file.sha256:
                report["ok"] += 1
            else:
                report["mismatched"].append(
                    {**item, "expected_sha256": file.sha256, "actual_sha256": digests.sha256}
                )
    return report
