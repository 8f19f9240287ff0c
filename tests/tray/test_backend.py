"""Finding a display and a pystray backend, and saying in one line why there is none."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from modeld.tray.backend import (
    TrayUnavailable,
    check_display,
    import_pystray,
    one_line,
)


def test_no_display_variables_means_no_tray(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    with pytest.raises(TrayUnavailable, match="DISPLAY and WAYLAND_DISPLAY are unset"):
        check_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    check_display()  # a Wayland session is enough to try


def test_the_dummy_backend_is_refused_even_with_a_display(monkeypatch):
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    with pytest.raises(TrayUnavailable, match="PYSTRAY_BACKEND=dummy"):
        check_display()


@pytest.mark.x11
def test_the_backend_is_named_after_pystrays_module(bare_display: str):
    # in a process of its own: pystray keeps the backend it was first imported with
    code = (
        "from modeld.tray.backend import backend_name, import_pystray\n"
        "print(backend_name(import_pystray()))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DISPLAY": bare_display, "PYSTRAY_BACKEND": "xorg"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout) == (0, "xorg\n"), result.stderr


def test_pystray_tracebacks_become_one_line(monkeypatch, caplog):
    monkeypatch.setenv("PYSTRAY_BACKEND", "dummy")
    import_pystray()  # installs the filter
    try:
        raise OSError("no tray\n  to dock in")
    except OSError:
        with caplog.at_level(logging.ERROR, logger="pystray._base"):
            logging.getLogger("pystray._base").exception("Failed to dock icon")
    (record,) = caplog.records
    assert record.exc_info is None
    assert record.getMessage() == "Failed to dock icon: OSError: no tray to dock in"


def test_one_line_names_the_error_once():
    assert one_line(OSError("a\nb")) == "OSError: a b"
    assert one_line(ValueError()) == "ValueError"
    assert one_line(RuntimeError("RuntimeError: twice")) == "RuntimeError: twice"
