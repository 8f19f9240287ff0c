"""Host tools the service and packaging tests run (the packaging tests load this file by path)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require_tool(name: str) -> str:
    """The tool's path; skipped where it is missing, but CI (CI=true) installs it, so fail there."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (.ci/run installs it via APT_PACKAGES)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def unit_verifier(runtime_dir: Path):
    """`systemd-analyze --user verify` on unit files, returning (returncode, stderr).

    It refuses to work without an XDG_RUNTIME_DIR, hence `runtime_dir` (mode 0700).
    """
    tool = require_tool("systemd-analyze")

    def verify(*units: Path) -> tuple[int, str]:
        done = subprocess.run(
            [tool, "--user", "verify", *map(str, units)],
            env={**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, done.stderr

    return verify
