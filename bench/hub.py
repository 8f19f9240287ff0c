"""Does an unreachable Hub slow imports down, and how often does modeld knock?

    python bench/hub.py [--files 100] [--watch-seconds 20] [--runs 3]

Imports the same number of small real safetensors files, each time into a
fresh library, in three set-ups: the hub disabled (the reference), the Hub
down (a local port that resets every connection, counting them), and the Hub
hanging (connections accepted, never answered). Runs are interleaved and the
best of N is kept for each, so a busy machine's noise hits all alike. Prints
each import wall time and its ratio to the reference, then watches the down
Hub and prints how many connection attempts a fresh enricher made, with the
default policy (10 s timeout, breaker after 3 failures, 60 s cool-down).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeld.after_import import AfterImport, after_import_steps
from modeld.config import parse_config
from modeld.hub import HubEnricher
from modeld.ingest.pipeline import Importer
from modeld.library.db import open_index
from modeld.library.layout import ensure_library
from tests.hub.fakehub import FakeHub
from tests.modelfiles import write_safetensors


def make_files(folder: Path, count: int) -> list[Path]:
    return [
        write_safetensors(
            folder / f"Bench-Model-{i}.safetensors",
            {"w": ("F16", (64, 64))},
            metadata={"bench": str(i)},
        )
        for i in range(count)
    ]


def run(mode: str, files: int, hub: FakeHub | None, watch: float) -> tuple[float, int, int]:
    """(import seconds, connections during the imports, connections after `watch` s)."""
    home = Path(tempfile.mkdtemp(prefix=f"bench-hub-{mode}-", dir="/tmp"))
    try:
        config = parse_config(
            {
                "library": {"root": str(home / "library")},
                "daemon": {"state_dir": str(home / "state")},
                "hub": {"enabled": mode != "disabled"},
            },
            source=None,
        )
        paths = make_files(home / "drop", files)
        ensure_library(config.library_root)
        db = open_index(config.index_path)
        enricher = None
        hooks: list[AfterImport] = []
        if mode != "disabled":
            enricher = HubEnricher(config)
            enricher.start()
            hooks = after_import_steps(None, enricher)
        importer = Importer(config, after_import=hooks)
        seen_before = len(hub.requests) if hub else 0
        started = time.perf_counter()
        for path in paths:
            report = importer.import_paths([path], copy=False)
            if len(report.imported) != 1:
                raise SystemExit(f"import failed: {report}")
        elapsed = time.perf_counter() - started
        during = (len(hub.requests) - seen_before) if hub else 0
        if watch and enricher is not None:
            time.sleep(watch)
        after = (len(hub.requests) - seen_before) if hub else 0
        if enricher is not None:
            if hub is not None:
                hub.release()  # let the in-flight request end, so stop() is quick
            enricher.stop()
            if hub is not None and mode == "hanging":
                hub.hang()
        db.close()
        return elapsed, during, after
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--watch-seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3, help="best of N for each import timing")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    os.environ.pop("HF_HUB_OFFLINE", None)

    down = FakeHub().start()
    down.down("reset")
    hanging = FakeHub().start()
    hanging.hang()
    # interleaved, best of N each: a busy machine's noise hits every mode alike
    best = {"disabled": float("inf"), "down": float("inf"), "hanging": float("inf")}
    left_hanging = 0
    for _ in range(args.runs):
        best["disabled"] = min(best["disabled"], run("disabled", args.files, None, 0)[0])
        os.environ["HF_ENDPOINT"] = down.url
        best["down"] = min(best["down"], run("down", args.files, down, 0)[0])
        os.environ["HF_ENDPOINT"] = hanging.url
        elapsed, left_hanging, _ = run("hanging", args.files, hanging, 0)
        best["hanging"] = min(best["hanging"], elapsed)
    reference = best["disabled"]
    print(f"{args.files} imports each, best of {args.runs}, interleaved:")
    print(f"  hub disabled: {reference:.2f} s (reference)")
    print(f"  hub down:     {best['down']:.2f} s, ratio {best['down'] / reference:.2f}")
    print(
        f"  hub hanging:  {best['hanging']:.2f} s, ratio {best['hanging'] / reference:.2f} "
        f"({left_hanging} request still hanging when the imports ended)"
    )

    os.environ["HF_ENDPOINT"] = down.url
    _, during, after = run("down", args.files, down, args.watch_seconds)
    print(
        f"hub down, fresh daemon: {during} connection attempt(s) during the imports, "
        f"{after} in total {args.watch_seconds:.0f} s later"
    )
    down.stop()
    hanging.stop()


if __name__ == "__main__":
    main()
