"""Helpers for the packaging tests (a uniquely named module: test files import it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _load_service_helper(name: str):
    # helpers shared with the service tests (running `modeld run` under a fake
    # systemd, finding host tools) live with them
    spec = importlib.util.spec_from_file_location(name, REPO / "tests" / "service" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


daemon_process = _load_service_helper("daemon_process")
service_tools = _load_service_helper("service_tools")
require_tool = service_tools.require_tool
