"""Picks the service manager for a platform and checks that a service could start."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from modeld.service.base import ServiceManager
from modeld.service.errors import UnsupportedPlatform
from modeld.service.launchd import Launchd
from modeld.service.plan import Host, Runner, ServiceSpec, run_command
from modeld.service.systemd import Systemd


def manager_for(host: Host, runner: Runner = run_command) -> ServiceManager:
    if host.platform == "darwin":
        return Launchd(host, runner)
    if host.platform.startswith("linux"):
        return Systemd(host, runner)
    raise UnsupportedPlatform(
        f"modeld cannot install a service on {host.platform}: start `modeld run` at login "
        "with your system's own tools"
    )


def current_launcher() -> tuple[str, ...]:
    """How a service should start the modeld that is running now.

    Normally `<interpreter> -m modeld`. The Debian package's /usr/bin/modeld
    puts a private library folder on sys.path, which `python3 -m modeld` would
    not see, so when that launcher is running, the service runs it instead.
    """
    main = sys.modules.get("__main__")
    script = getattr(main, "__file__", None)
    if script and getattr(main, "MODELD_PACKAGED_LAUNCHER", False):
        return (os.path.realpath(script),)
    return (sys.executable, "-m", "modeld")


def launcher_problem(spec: ServiceSpec, home: Path) -> str | None:
    """Why the service's command could not start modeld, or None if it can.

    The service starts in / with a bare environment, not in this shell: a
    modeld that is importable here only thanks to the current folder or
    $PYTHONPATH would crash-loop there. So run `modeld --version` that way.
    """
    python = spec.launcher[0]
    try:
        done = subprocess.run(
            [*spec.launcher, "--version"],
            cwd="/",
            env={"HOME": str(home), "PATH": os.defpath},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot run the interpreter {python}: {exc}"
    if done.returncode == 0:
        return None
    last_line = (done.stderr.strip().splitlines() or ["?"])[-1]
    return (
        f"the service would run {python}, which cannot start modeld outside this shell "
        f"({last_line}). Install modeld into an environment of its own, e.g. "
        "`pipx install modeld`, and run `modeld service install` from there."
    )


def transient_launcher_note(spec: ServiceSpec, home: Path) -> str | None:
    """A warning when the interpreter lives somewhere that gets cleaned up (uvx, pipx run)."""
    python = Path(spec.launcher[0])
    transient_roots = [Path(tempfile.gettempdir()), home / ".cache", home / "Library" / "Caches"]
    if any(python.is_relative_to(root) for root in transient_roots):
        return (
            f"{python} is in a temporary or cache folder: the service stops working when it "
            "is cleaned up. `pipx install modeld` gives modeld a permanent environment."
        )
    return None
