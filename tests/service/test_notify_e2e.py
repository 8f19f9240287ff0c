"""sd_notify end to end: a real `modeld run` reports to a real NOTIFY_SOCKET.

READY=1 must come only once the daemon can answer (control socket up), then
WATCHDOG=1 pings at the pace WATCHDOG_USEC asks for, then STOPPING=1 on
SIGTERM, and a clean exit 0, as systemd's Type=notify + WatchdogSec expect.
"""

from __future__ import annotations

import signal
import sys
import time

import pytest
from daemon_process import daemon_setup, run_until_ready, stop

from modeld.control.client import call

pytestmark = pytest.mark.e2e


def test_ready_watchdog_stopping_from_a_real_daemon(tmp_path):
    with daemon_setup(tmp_path) as (config, state, listener):
        process = run_until_ready(
            [sys.executable, "-m", "modeld"],
            config,
            tmp_path,
            listener,
            watchdog_usec=2_000_000,  # WatchdogSec=2: pings every second or faster
        )
        try:
            # ready means ready: the control socket already answers
            status = call(state / "modeld.sock", "status", timeout=10)
            assert status["state"] == "running"
            assert status["pid"] == process.pid
            listener.wait_for("WATCHDOG=1", 30)
            listener.wait_for("WATCHDOG=1", 30)
        finally:
            code, stderr = stop(process, listener)
        assert code == 0, stderr

        fields = [field for message in listener.messages for field in message]
        ready = fields.index("READY=1")
        first_ping = fields.index("WATCHDOG=1")
        stopping = fields.index("STOPPING=1")
        assert ready < first_ping < stopping
        assert fields.count("READY=1") == 1
        assert "WATCHDOG=1" not in fields[stopping:]
        assert any(f.startswith("STATUS=") for f in fields[:stopping])


def test_no_watchdog_pings_unless_asked(tmp_path):
    with daemon_setup(tmp_path) as (config, state, listener):
        process = run_until_ready([sys.executable, "-m", "modeld"], config, tmp_path, listener)
        call(state / "modeld.sock", "status", timeout=10)
        code, stderr = stop(process, listener)
        assert code == 0, stderr
        fields = [field for message in listener.messages for field in message]
        assert "WATCHDOG=1" not in fields
        assert fields.count("STOPPING=1") == 1


def test_sigusr1_writes_every_threads_stack_and_the_daemon_goes_on(tmp_path):
    with daemon_setup(tmp_path) as (config, state, listener):
        process = run_until_ready([sys.executable, "-m", "modeld"], config, tmp_path, listener)
        process.send_signal(signal.SIGUSR1)
        log = tmp_path / "daemon-output.log"
        deadline = time.monotonic() + 30
        while "Current thread" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        dump = log.read_text()
        assert "Current thread" in dump and "_main_loop" in dump
        assert call(state / "modeld.sock", "status", timeout=10)["state"] == "running"
        code, output = stop(process, listener)
        assert code == 0, output
