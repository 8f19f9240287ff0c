"""Helpers for the packaging tests (a uniquely named module: test files import it)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_daemon_process():
    # the helper that runs `modeld run` under a fake systemd lives with the service tests
    spec = importlib.util.spec_from_file_location(
        "daemon_process", REPO / "tests" / "service" / "daemon_process.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


daemon_process = _load_daemon_process()


def require_tool(name: str) -> str:
    """The tool's path; skipped where it is missing, but CI (CI=true) installs it, so fail there."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it via APT_PACKAGES)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
