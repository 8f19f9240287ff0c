"""Stop signals reach a real process's main loop, whenever they land."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

CHILD = """
import sys, time
from modeld.signals import StopSignals
stops = StopSignals()
stops.install()
print("ready", flush=True)
loops = 0
while not stops.wait(float(sys.argv[1])):
    loops += 1  # a main loop's periodic work
print("stopped by", stops.received, "after", loops, "loops", flush=True)
"""


def run_child(tick: float) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tick)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline() == "ready\n"
    return child


def test_a_signal_at_any_moment_of_a_busy_loop_stops_it():
    # a tiny tick keeps the main thread moving in and out of its wait, so the
    # signals land everywhere in it; 60 s bounds a hang, the real stop is instant
    for _ in range(20):
        child = run_child(0.0005)
        time.sleep(random.uniform(0, 0.02))
        child.send_signal(random.choice([signal.SIGTERM, signal.SIGINT]))
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0 and out.startswith("stopped by "), out


def test_a_signal_wakes_a_long_wait_at_once():
    child = run_child(3600.0)  # an hour-long tick: only the wakeup pipe can end it early
    child.send_signal(signal.SIGTERM)
    out, _ = child.communicate(timeout=60)
    assert out == f"stopped by {int(signal.SIGTERM)} after 0 loops\n"


def test_without_a_signal_the_wait_times_out():
    from modeld.signals import StopSignals

    stops = StopSignals()  # not installed: nothing can arrive
    assert stops.wait(0.01) is False and stops.received is None
