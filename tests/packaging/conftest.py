from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from packaging_support import REPO, require_tool, service_tools


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> Path:
    """The wheel and sdist, built once with the standard front end (`python -m build`)."""
    outdir = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return outdir


@pytest.fixture(scope="session")
def wheel(dist) -> Path:
    (found,) = dist.glob("modeld-*-py3-none-any.whl")
    return found


@pytest.fixture(scope="session")
def deb(wheel, tmp_path_factory) -> Path:
    """The .deb, built by packaging/build_deb.py from that wheel (gzip: faster than xz)."""
    require_tool("dpkg-deb")
    outdir = tmp_path_factory.mktemp("deb")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "packaging" / "build_deb.py"),
            "--wheel",
            str(wheel),
            "--outdir",
            str(outdir),
            "--python",
            sys.executable,
            "--compression",
            "gzip",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return Path(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def verify_units(tmp_path):
    """`systemd-analyze --user verify` (needs an XDG_RUNTIME_DIR); returns (returncode, stderr)."""
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    return service_tools.unit_verifier(runtime)
