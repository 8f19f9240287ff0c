"""The daemon under load: latency, burst throughput, idle cost, memory.

    python bench/daemon.py [--idle-seconds 60] [--big-gib 4]

Starts a real `modeld run` on temp folders (default settings: settle period
2 s) and measures:
- drop-to-searchable latency of a 10 MB file, from the writer's close() to
  the row being visible in the index (polled every 5 ms);
- throughput of a burst of 1,000 small files (first write to last indexed);
- idle CPU over N seconds and idle RSS, from /proc;
- RSS while importing a big file (sampled every 0.1 s), to show it is flat.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import modelfiles

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


_readers: dict[Path, sqlite3.Connection] = {}


def count_models(index: Path) -> int:
    """One long-lived read-only connection: reopening every 5 ms would skew the timing."""
    try:
        if index not in _readers:
            _readers[index] = sqlite3.connect(f"file:{index}?mode=ro", uri=True, timeout=1)
        return _readers[index].execute("SELECT count(*) FROM models").fetchone()[0]
    except sqlite3.Error:
        _readers.pop(index, None)
        return -1


def wait_for_count(index: Path, count: int, bound: float = 600) -> float:
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if count_models(index) >= count:
            return time.monotonic()
        time.sleep(0.005)
    raise SystemExit(f"gave up waiting for {count} models")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=60)
    parser.add_argument("--big-gib", type=float, default=4)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="mdb-", dir="/tmp"))
    drop = home / "drop"
    drop.mkdir()
    config = home / "config.toml"
    config.write_text(
        f'[library]\nroot = "{home / "library"}"\n[daemon]\nstate_dir = "{home / "state"}"\n'
        f'[[watch]]\npath = "{drop}"\nmode = "move"\n[hub]\nenabled = false\n'
    )
    index = home / "library" / ".modeld" / "index.db"
    daemon = subprocess.Popen(
        [sys.executable, "-m", "modeld", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not (home / "state" / "modeld.sock").exists():
            time.sleep(0.05)
        time.sleep(1.0)

        # 1. latency of one 10 MB file
        latencies = []
        for n in range(5):
            staging = home / f"lat-{n}.safetensors"
            modelfiles.write_safetensors(staging, {"w": ("U8", [10_000_000 - 200])})
            with open(staging, "r+b") as handle:
                handle.seek(100)
                handle.write(os.urandom(1 << 20))
            data = staging.read_bytes()
            before = count_models(index)
            with open(drop / f"latency-{n}.safetensors", "wb") as writer:
                writer.write(data)
            closed = time.monotonic()
            latencies.append(wait_for_count(index, before + 1) - closed)
        print(
            f"drop-to-searchable, 10 MB file: median {sorted(latencies)[2] * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms after close()  (target <= 1000 ms)"
        )

        # 2. burst throughput
        before = count_models(index)
        started = time.monotonic()
        for n in range(args.burst):
            modelfiles.write_safetensors(
                drop / f"burst-{n:04}.safetensors", {"e": ("F32", [n + 1])}
            )
        written = time.monotonic()
        done = wait_for_count(index, before + args.burst)
        print(
            f"burst of {args.burst} small files: {args.burst / (done - started):.0f} files/s "
            f"(writing took {written - started:.1f} s, all indexed {done - started:.1f} s after "
            f"the first)  (target >= 100 files/s)"
        )

        # 3. idle cost
        time.sleep(5)
        cpu_before, wall_before = cpu_seconds(daemon.pid), time.monotonic()
        time.sleep(args.idle_seconds)
        cpu = cpu_seconds(daemon.pid) - cpu_before
        wall = time.monotonic() - wall_before
        print(
            f"idle over {wall:.0f} s: CPU {100 * cpu / wall:.2f}%  (target < 1%), "
            f"RSS {rss_mib(daemon.pid):.1f} MiB  (target < 80 MiB)"
        )

        # 4. RSS while importing a big (sparse) file
        big = home / "big.safetensors"
        modelfiles.write_safetensors(big, {"w": ("U8", [int(args.big_gib * (1 << 30))])})
        before = count_models(index)
        samples = []
        rss_start = rss_mib(daemon.pid)
        os.rename(big, drop / "big.safetensors")
        while count_models(index) < before + 1:
            samples.append(rss_mib(daemon.pid))
            time.sleep(0.1)
        print(
            f"RSS importing a {args.big_gib:g} GiB file: {rss_start:.1f} MiB before, "
            f"max {max(samples, default=rss_start):.1f} MiB during ({len(samples)} samples)"
        )
    finally:
        daemon.terminate()
        daemon.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
