"""The watch + queue half of the daemon, without the import: how fast and how idle.

    python bench/watch.py [--files 1000] [--runs 10] [--idle-seconds 20]

Measures, with a real inotify observer on a temporary folder and the default
settle_seconds (2 s):
- close → offer latency of a 10 MB file (median and worst of N runs); the
  reference is the configured signal grace, the floor of this design;
- burst throughput: N small files written at once, each offered, queued in a
  DeviceQueues pool, "imported" (unlinked) and done; the reference is how
  fast this machine wrote the same files;
- idle CPU of a WatchService with nothing to do (target < 1% for the daemon).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from modeld.config import QueueConfig, WatchConfig
from modeld.queues import DeviceQueues, Job
from modeld.watch import WatchService


def close_to_offer(folder: Path, runs: int) -> list[float]:
    offered: dict[Path, float] = {}
    arrived = threading.Condition()

    def on_ready(path: Path, watch: WatchConfig) -> bool:
        with arrived:
            offered[path] = time.monotonic()
            arrived.notify_all()
        return True

    service = WatchService([WatchConfig(folder)], on_ready, settle_seconds=2.0)
    service.start()
    service.wait_for_scans(1, 10)
    latencies = []
    data = b"\x5a" * (10 * 1024 * 1024)
    try:
        for i in range(runs):
            path = folder / f"model-{i}.safetensors"
            with open(path, "wb") as f:
                f.write(data)
            closed = time.monotonic()
            with arrived:
                arrived.wait_for(lambda p=path: p in offered, timeout=30)
            latencies.append(offered[path] - closed)
            service.done(path)
    finally:
        service.stop()
    return latencies


def burst(folder: Path, files: int) -> tuple[float, float]:
    """(files/s written, files/s offered+queued+done), same files."""
    finished = threading.Event()
    count = [0]
    lock = threading.Lock()
    service: WatchService

    def run(job: Job) -> None:
        job.path.unlink()
        service.done(job.path)
        with lock:
            count[0] += 1
            if count[0] == files:
                finished.set()

    queues = DeviceQueues(QueueConfig(), run)
    queues.start()
    service = WatchService(
        [WatchConfig(folder)],
        lambda path, watch: queues.submit(path) is not None,
        settle_seconds=2.0,
    )
    service.start()
    service.wait_for_scans(1, 10)
    start = time.monotonic()
    for i in range(files):
        with open(folder / f"f{i:05d}.safetensors", "wb") as f:
            f.write(b"s" * 4096)
    written = time.monotonic()
    finished.wait(120)
    done = time.monotonic()
    service.stop()
    queues.stop()
    if count[0] != files:
        raise SystemExit(f"only {count[0]} of {files} files came through")
    return files / (written - start), files / (done - start)


def idle_cpu(folder: Path, seconds: float) -> float:
    service = WatchService([WatchConfig(folder)], lambda path, watch: True)
    service.start()
    service.wait_for_scans(1, 10)
    cpu, wall = time.process_time(), time.monotonic()
    time.sleep(seconds)
    used = (time.process_time() - cpu) / (time.monotonic() - wall)
    service.stop()
    return used


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        base = Path(tmp)
        for name in ("latency", "burst", "idle"):
            (base / name).mkdir()
        latencies = close_to_offer(base / "latency", args.runs)
        write_rate, flow_rate = burst(base / "burst", args.files)
        cpu = idle_cpu(base / "idle", args.idle_seconds)
    grace = 0.25
    median = statistics.median(latencies)
    print(f"close -> offer, 10 MB file, settle_seconds=2 ({args.runs} runs):")
    print(
        f"  median {median * 1000:.0f} ms, worst {max(latencies) * 1000:.0f} ms "
        f"({median / grace:.2f}x the {grace * 1000:.0f} ms signal grace; "
        f"{median / 2.0:.2f}x a full quiet period)"
    )
    print(f"burst of {args.files} small files through watch + queue:")
    print(
        f"  {flow_rate:.0f} files/s end to end; written at {write_rate:.0f} files/s "
        f"(ratio {flow_rate / write_rate:.2f})"
    )
    print(f"idle CPU of the watch service over {args.idle_seconds:.0f} s: {cpu * 100:.3f}%")


if __name__ == "__main__":
    main()
