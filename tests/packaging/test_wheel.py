"""The wheel and sdist from `python -m build`, installed into a fresh venv and run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging_support import REPO, daemon_process

from modeld import __version__

pytestmark = pytest.mark.e2e


def normalized(requirement: str) -> tuple[str, frozenset[str], str]:
    parsed = Requirement(requirement)
    return canonicalize_name(parsed.name), frozenset(map(str, parsed.specifier)), str(parsed.marker)


def test_wheel_and_sdist_carry_the_whole_project(dist, wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    source = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "modeld").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert source <= names, f"missing from the wheel: {sorted(source - names)}"

    metadata = zipfile.ZipFile(wheel).read(f"modeld-{__version__}.dist-info/METADATA").decode()
    required = {
        normalized(line.split(":", 1)[1])
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    }
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert required == {normalized(d) for d in declared}
    entry_points = (
        zipfile.ZipFile(wheel).read(f"modeld-{__version__}.dist-info/entry_points.txt").decode()
    )
    assert "modeld = modeld.cli:main" in entry_points

    (sdist,) = dist.glob("modeld-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for needed in (
        "pyproject.toml",
        "systemd/modeld.service",
        "systemd/modeld-tray.service",
        "launchd/org.modeld.daemon.plist",
        "packaging/build_deb.py",
        "modeld/cli/service.py",
    ):
        assert needed in members, needed


def test_the_wheel_installs_into_a_fresh_venv_and_runs(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    # the wheel itself, without touching an index
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            str(wheel),
        ],
        check=True,
        timeout=120,
    )
    # its dependencies from this environment (already installed here, so no download):
    # a plain path line, so this environment's own .pth files (an editable modeld) stay off
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    here = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_test_dependencies.pth").write_text("\n".join(sorted(here)) + "\n")

    env = {"PATH": os.defpath, "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    done = subprocess.run(
        [str(venv / "bin" / "modeld"), "--version"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"modeld {__version__}"
    where = subprocess.run(
        [str(python), "-c", "import modeld; print(modeld.__file__)"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).is_relative_to(venv), f"modeld was imported from {where}, not the venv"

    # the service it would install runs this venv's interpreter
    done = subprocess.run(
        [str(venv / "bin" / "modeld"), "service", "install", "--dry-run", "--json", "--no-tray"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    writes = [a for a in json.loads(done.stdout)["actions"] if a["action"] == "write"]
    assert f"ExecStart={python} -m modeld run\n" in writes[0]["content"]
    assert not any("cannot start modeld" in note for note in json.loads(done.stdout)["notes"])

    # and a short `modeld run`: ready, then a clean stop on SIGTERM
    daemon_process.smoke_run([str(venv / "bin" / "modeld")], tmp_path / "smoke", tmp_path)
