"""Hashing and import speed against `openssl dgst -sha256` on the same file.

    python bench/hash.py [--size-mib 1024] [--dir /tmp]

Times, on a page-cached file: modeld's dual hash (BLAKE3 + SHA-256 from one
read), a same-device import (rename, then hash in place) and an import with
--copy (copy + hash + fsync), each as the best of N runs, and prints the
ratio to openssl's SHA-256 alone. OpenSSL uses the CPU's SHA instructions as
hashlib does; coreutils' sha256sum here does not, so it is no yardstick.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeld.config import parse_config
from modeld.ingest.pipeline import Importer
from modeld.library.db import open_index
from modeld.library.layout import ensure_library
from modeld.vocab.hashing import hash_file

TARGETS = {"dual hash": None, "import (same device)": 1.10, "import --copy": 1.25}


def best_of(runs: int, action) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def write_model_file(path: Path, size: int) -> None:
    """A valid safetensors file of `size` bytes with random data (so nothing compresses)."""
    import json
    import struct

    header = json.dumps({"w": {"dtype": "U8", "shape": [0], "data_offsets": [0, 0]}}).encode()
    payload = size - 8 - len(header) - 64
    header = json.dumps(
        {"w": {"dtype": "U8", "shape": [payload], "data_offsets": [0, payload]}}
    ).encode()
    header += b" " * (size - 8 - len(header) - payload)
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(header)) + header)
        block = os.urandom(16 * 1024 * 1024)
        left = payload
        while left:
            handle.write(block[: min(left, len(block))])
            left -= min(left, len(block))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", default="/tmp")
    args = parser.parse_args()
    if not shutil.which("openssl"):
        sys.exit("openssl is needed as the yardstick")

    work = Path(tempfile.mkdtemp(prefix="modeld-bench-", dir=args.dir))
    try:
        source = work / "bench.safetensors"
        size = args.size_mib * 1024 * 1024
        write_model_file(source, size)
        subprocess.run(["cat", str(source)], stdout=subprocess.DEVNULL, check=True)  # warm

        openssl = best_of(
            args.runs,
            lambda: subprocess.run(
                ["openssl", "dgst", "-sha256", str(source)], stdout=subprocess.DEVNULL, check=True
            ),
        )
        dual = best_of(args.runs, lambda: hash_file(source))

        config = parse_config(
            {"library": {"root": str(work / "lib")}, "daemon": {"state_dir": str(work / "st")}},
            source=None,
        )
        ensure_library(config.library_root)
        db = open_index(config.index_path)
        importer = Importer(config)

        def reset_library() -> None:
            db.execute_sql("DELETE FROM model_search")
            db.execute_sql("DELETE FROM files")
            db.execute_sql("DELETE FROM models")
            for child in config.library_root.iterdir():
                if child.name != ".modeld":
                    shutil.rmtree(child)

        def timed_import(copy: bool) -> float:
            times = []
            for _ in range(args.runs):
                reset_library()
                drop = work / "drop"
                drop.mkdir(exist_ok=True)
                target = drop / "model.safetensors"
                if not copy:
                    # a fresh, page-cached source on the library's device
                    shutil.copyfile(source, target)
                    os.sync()  # no writeback of the fresh copy during the timed run
                    subprocess.run(["cat", str(target)], stdout=subprocess.DEVNULL, check=True)
                started = time.perf_counter()
                report = importer.import_paths([source if copy else target], copy=copy)
                times.append(time.perf_counter() - started)
                assert len(report.imported) == 1, report.to_json()
            return min(times)

        same_device = timed_import(copy=False)
        copy = timed_import(copy=True)
        db.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    gib = size / 2**30
    print(f"file: {args.size_mib} MiB in the page cache; best of {args.runs} runs")
    print(f"{'openssl dgst -sha256':<24} {openssl:7.3f} s  {gib / openssl:6.2f} GiB/s  1.00x")
    for name, seconds in (
        ("dual hash", dual),
        ("import (same device)", same_device),
        ("import --copy", copy),
    ):
        ratio = seconds / openssl
        target = TARGETS[name]
        verdict = "" if target is None else ("  ok" if ratio <= target else f"  over {target}x")
        print(f"{name:<24} {seconds:7.3f} s  {gib / seconds:6.2f} GiB/s  {ratio:.2f}x{verdict}")


if __name__ == "__main__":
    main()
