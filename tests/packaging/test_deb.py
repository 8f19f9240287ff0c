"""The .deb from packaging/build_deb.py: its metadata, an install into a scratch
dpkg root (unpack, run, remove), and in CI a real `dpkg -i` on the machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_support import REPO, daemon_process, require_tool

from modeld import __version__

pytestmark = pytest.mark.e2e

SYSTEM_PYTHON = "/usr/bin/python3"


def dpkg_deb(*args: str) -> str:
    return subprocess.run(
        ["dpkg-deb", *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def require_matching_system_python() -> None:
    """The package depends on python3 of the build interpreter's X.Y (its .so/.pyc files)."""
    wanted = f"{sys.version_info.major}.{sys.version_info.minor}"
    found = None
    if os.path.exists(SYSTEM_PYTHON):
        found = subprocess.run(
            [SYSTEM_PYTHON, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
            capture_output=True,
            text=True,
        ).stdout.strip()
    if found != wanted:
        message = f"{SYSTEM_PYTHON} is {found}, the package was built for python3 {wanted}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def test_package_metadata_and_layout(deb):
    fields = dict(
        line.split(": ", 1)
        for line in dpkg_deb("--field", str(deb), "Package", "Version", "Architecture", "Depends")
        .strip()
        .splitlines()
    )
    x, y = sys.version_info[:2]
    assert fields["Package"] == "modeld"
    assert fields["Version"] == f"{__version__}-1"
    # compiled dependencies (blake3, pillow) make it architecture-specific
    machine = subprocess.run(
        ["dpkg", "--print-architecture"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert fields["Architecture"] == machine
    assert fields["Depends"] == f"python3 (>= {x}.{y}), python3 (<< {x}.{y + 1})"

    listing = {}
    for line in dpkg_deb("--contents", str(deb)).splitlines():
        parts = line.split()
        listing[parts[-1]] = (parts[0], parts[1])
    assert listing["./usr/bin/modeld"] == ("-rwxr-xr-x", "root/root")
    assert listing["./usr/lib/systemd/user/modeld.service"] == ("-rw-r--r--", "root/root")
    assert "./usr/lib/systemd/user/modeld-tray.service" in listing
    assert "./usr/lib/modeld/modeld/cli/service.py" in listing
    assert "./usr/share/doc/modeld/copyright" in listing
    # byte-compiled at build time: a user's modeld cannot write into /usr
    tag = sys.implementation.cache_tag
    assert f"./usr/lib/modeld/modeld/cli/__pycache__/service.{tag}.pyc" in listing
    # pip's console scripts point at the build machine's interpreter: not shipped
    assert not any(path.startswith("./usr/lib/modeld/bin/") for path in listing)


def test_install_run_and_remove_in_a_scratch_root(deb, tmp_path, verify_units):
    require_tool("dpkg")
    require_matching_system_python()
    root = tmp_path / "root"
    for folder in ("info", "updates", "triggers"):
        (root / "var/lib/dpkg" / folder).mkdir(parents=True)
    for name in ("status", "available"):
        (root / "var/lib/dpkg" / name).touch()
    dpkg = ["dpkg", f"--root={root}", "--force-not-root", "--force-script-chrootless"]
    # the scratch root has no python3 package; the machine's own python3 runs the launcher
    subprocess.run([*dpkg, "--force-depends", "-i", str(deb)], check=True, capture_output=True)

    units = root / "usr/lib/systemd/user"
    for name in ("modeld.service", "modeld-tray.service"):
        assert (units / name).read_bytes() == (REPO / "systemd" / name).read_bytes()

    launcher = root / "usr/bin/modeld"
    done = subprocess.run(
        [str(launcher), "--version"],
        env={"PATH": os.defpath, "HOME": str(tmp_path)},
        cwd="/",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"modeld {__version__}"

    # the shipped unit, pointed at the scratch root's launcher, passes systemd's checks
    checked = tmp_path / "check" / "modeld.service"
    checked.parent.mkdir()
    checked.write_text(
        (units / "modeld.service").read_text().replace("/usr/bin/modeld", str(launcher))
    )
    assert verify_units(checked) == (0, "")

    daemon_process.smoke_run([str(launcher)], tmp_path / "smoke")

    subprocess.run([*dpkg, "-r", "modeld"], check=True, capture_output=True)
    left = [p for p in (root / "usr").rglob("*") if not p.is_dir()]
    assert left == [], f"left behind after removal: {left[:10]}"
    assert not (root / "usr/lib/modeld").exists()


def _package_installed(name: str) -> bool:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True
    )
    return done.returncode == 0 and "installed" in done.stdout.split()


@pytest.mark.skipif(
    os.environ.get("CI") != "true" or os.geteuid() != 0,
    reason="installs a system package: runs in CI (CI=true, as root) only",
)
def test_dpkg_install_on_this_machine(deb, tmp_path, verify_units):
    require_matching_system_python()
    if _package_installed("modeld"):
        pytest.skip("a modeld package is already installed here; not touching it")
    subprocess.run(["dpkg", "-i", str(deb)], check=True, capture_output=True, text=True)
    try:
        done = subprocess.run(
            ["/usr/bin/modeld", "--version"], capture_output=True, text=True, timeout=60
        )
        assert done.stdout.strip() == f"modeld {__version__}", done.stderr
        assert verify_units(
            Path("/usr/lib/systemd/user/modeld.service"),
            Path("/usr/lib/systemd/user/modeld-tray.service"),
        ) == (0, "")

        # `modeld service install` from the package writes a unit that runs /usr/bin/modeld
        home = tmp_path / "home"
        home.mkdir()
        done = subprocess.run(
            ["/usr/bin/modeld", "service", "install", "--dry-run", "--json", "--no-tray"],
            env={"PATH": os.defpath, "HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        document = json.loads(done.stdout)
        unit = next(a for a in document["actions"] if a["action"] == "write")
        assert "ExecStart=/usr/bin/modeld run\n" in unit["content"]
        assert not any("cannot start modeld" in note for note in document["notes"])

        daemon_process.smoke_run(["/usr/bin/modeld"], tmp_path / "smoke")
    finally:
        subprocess.run(["dpkg", "--purge", "modeld"], check=True, capture_output=True)
    assert not Path("/usr/lib/modeld").exists()
    assert not Path("/usr/bin/modeld").exists()
