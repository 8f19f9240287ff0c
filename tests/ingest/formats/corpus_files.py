"""The shared corpus of real third-party model files (/work/shared/corpus).

It lives beside the repository, never inside it: `MODELD_CORPUS` overrides
the place. Where it is missing, tests that need it skip, except under CI
(the `CI` variable set), where a missing corpus is a failure, so a broken
checkout can never pass by skipping them.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

DEFAULT_ROOT = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"


@dataclass(frozen=True)
class CorpusFile:
    path: Path
    rel: str  # as MANIFEST.tsv names it, e.g. gguf/llama-cpp-python/ggml-vocab-phi-3.gguf
    size: int
    expect: str  # import | quarantine | refuse


def corpus_root() -> Path:
    root = Path(os.environ.get("MODELD_CORPUS") or DEFAULT_ROOT)
    if not (root / "MANIFEST.tsv").is_file():
        message = f"the model corpus is missing at {root} (set MODELD_CORPUS)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return root


def corpus_files(prefix: str) -> list[CorpusFile]:
    """Every manifest row whose path starts with `prefix`, once each."""
    root = corpus_root()
    seen: dict[str, CorpusFile] = {}
    with open(root / "MANIFEST.tsv", newline="") as manifest:
        for row in csv.DictReader(manifest, delimiter="\t"):
            if row["path"].startswith(prefix):
                path = root / "files" / row["path"]
                seen[row["path"]] = CorpusFile(path, row["path"], int(row["size"]), row["expect"])
    if not seen:
        pytest.fail(f"the corpus manifest lists no files under {prefix}")
    return list(seen.values())
