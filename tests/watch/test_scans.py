"""Scan requests: a real scanner thread runs what was asked for, lowest watch first."""

from __future__ import annotations

import threading

from modeld.watch.scans import ScanRequests


def test_requests_are_merged_run_lowest_first_and_counted():
    stopping = threading.Event()
    ran: list[int] = []

    def scan(index: int) -> None:
        ran.append(index)
        requests.finished()

    requests = ScanRequests(scan, watches=3, stopping=stopping)
    requests.request(2)
    requests.request()  # all three, 2 among them: it is not scanned twice
    requests.request(2)
    thread = threading.Thread(target=requests.run, daemon=True)
    thread.start()
    assert requests.wait_for(3, 5)
    assert not requests.wait_for(4, 0.2)
    assert ran == [0, 1, 2]
    requests.request(1)  # a later request wakes the sleeping thread
    assert requests.wait_for(4, 5)
    assert ran == [0, 1, 2, 1]
    stopping.set()
    requests.wake()
    thread.join(5)
    assert not thread.is_alive()


def test_a_scan_run_elsewhere_counts_too():
    requests = ScanRequests(lambda index: None, watches=1, stopping=threading.Event())
    assert not requests.wait_for(1, 0)
    requests.finished()
    assert requests.wait_for(1, 0)
