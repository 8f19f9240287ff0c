#!/usr/bin/env python3
"""Regenerate the service files kept in the repository from modeld.service.

    python packaging/render_units.py          # rewrite systemd/ and launchd/
    python packaging/render_units.py --check  # exit 1 if any file is stale

The code is the one source of the unit text: `modeld service install` renders
the same templates with the user's real paths. What lands here:
  systemd/*.service   exactly what the .deb ships in /usr/lib/systemd/user/
                      (ExecStart=/usr/bin/modeld ...);
  launchd/*.plist     what `modeld service install` writes on a Mac for a user
                      "you" who installed modeld with pipx (a reference: the
                      command fills in the real home folder and interpreter).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from modeld.service import launchd, systemd  # noqa: E402
from modeld.service.plan import ServiceSpec  # noqa: E402

EXAMPLE_HOME = Path("/Users/you")
EXAMPLE_PYTHON = EXAMPLE_HOME / ".local/pipx/venvs/modeld/bin/python"


def rendered() -> dict[Path, bytes]:
    packaged = systemd.PACKAGED_SPEC
    mac = ServiceSpec.for_interpreter(str(EXAMPLE_PYTHON), config_file=None, tray=True)
    logs = EXAMPLE_HOME / "Library/Logs/modeld"
    return {
        REPO / "systemd" / systemd.DAEMON_UNIT: systemd.render_daemon_unit(packaged).encode(),
        REPO / "systemd" / systemd.TRAY_UNIT: systemd.render_tray_unit(packaged).encode(),
        REPO / "launchd" / f"{launchd.DAEMON_LABEL}.plist": launchd.dumps(
            launchd.daemon_agent(mac, logs)
        ),
        REPO / "launchd" / f"{launchd.TRAY_LABEL}.plist": launchd.dumps(
            launchd.tray_agent(mac, logs)
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report stale files")
    args = parser.parse_args()
    stale = []
    for path, content in rendered().items():
        current = path.read_bytes() if path.exists() else None
        if current == content:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
    for path in stale:
        verb = "stale" if args.check else "wrote"
        print(f"{verb}: {path.relative_to(REPO)}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main())
